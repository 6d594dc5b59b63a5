"""ocf-agents: Pacemaker OCF resource agents for Open vSwitch and OVN high availability."""

__version__ = "0.2.0"
