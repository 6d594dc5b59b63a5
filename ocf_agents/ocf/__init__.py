"""The common OCF library: everything an OCF resource agent needs, and nothing about OVS.

An agent declares its parameters and actions (:mod:`.metadata`), writes one function per
action taking a :class:`~.agent.Context` (or the configuration its ``configure`` builds from
one), and hands both to :func:`~.agent.Agent.main`.
Failures are raised as :class:`~.codes.OCFError` subclasses carrying their exit code and
exit reason; the dispatcher turns them into what Pacemaker expects.
"""
