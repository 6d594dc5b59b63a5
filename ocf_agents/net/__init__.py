"""Linux networking for the agents, with nothing about OVS: interface and MAC address rules
(:mod:`.names`), the ``ip`` and ifupdown commands (:mod:`.link`) and the frames that tell the
network where a MAC address now lives (:mod:`.announce`)."""
