"""ocf-agents: Pacemaker OCF resource agents for Open vSwitch and OVN high availability."""

__version__ = "0.1.0"
