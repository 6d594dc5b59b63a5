"""Linux networking for the agents, with nothing about OVS: interface and MAC address rules
(:mod:`.names`), the ``ip`` and ifupdown commands (:mod:`.link`), the frames that tell the
network where a MAC address now lives (:mod:`.announce`), route lookups (:mod:`.route`),
the kernel's TCP tables (:mod:`.tcp`), routing table numbers and names (:mod:`.tables`), an
interface's source-based routing (:mod:`.policy`) and its own kernel settings (:mod:`.sysctl`).

:mod:`.route` and :mod:`.tcp` are on a monitor's path, so they import no more of the standard
library than ``os`` and the C module ``_socket``, and this file imports no module at all."""
