"""``ocf-agents status``: the cluster as the ovndb-servers agent sees it, on any node.

What ``patronictl list`` is to Patroni: per node its role, promotion score, published data
position and barrier, the address its databases listen on for replication, how far behind
the promoted node it is and whether it may be promoted; on the node it runs on, each
database's state and replication source.

    read     every outside call (crm_mon, cibadmin, attrd_updater, crm_attribute, crm_node,
             the servers' control sockets): the only module that talks to anything
    model    the inputs parsed into one value, and what the agent would conclude from it
    render   that value as a table or as JSON
    command  the command line: options, errors as a message and an exit status
"""
