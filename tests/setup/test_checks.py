"""Bad input stops ``ocf-agents setup`` with exit status 2 and a clear message, before any
program runs: pytest-subprocess's ``fp`` is active, so a started process fails the test."""

from __future__ import annotations

import pytest

from .helpers import setup_cli

OVNDB = ("ovndb", "--pcs-version", "0.11", "--apply", "--cib", "/nonexistent/cib.xml")
PORT = ("port", "--bridge", "br-ex", "--interface", "vip0", "--pcs-version", "0.11",
        "--apply", "--cib", "/nonexistent/cib.xml")

BAD = {
    "not an address": (OVNDB + ("--master-ip", "192.0.2.300"), "--master-ip '192.0.2.300' is not an IP address"),
    "host name": (OVNDB + ("--master-ip", "db.example.org"), "is not an IP address"),
    "multicast": (OVNDB + ("--master-ip", "224.0.0.1"), "multicast"),
    "netmask too big": (OVNDB + ("--master-ip", "192.0.2.10", "--vip-netmask", "33"),
                        "--vip-netmask '33' is out of range: an IPv4 prefix length is 1 to 32"),
    "netmask zero": (OVNDB + ("--master-ip", "192.0.2.10", "--vip-netmask", "0"), "out of range"),
    "dotted netmask": (OVNDB + ("--master-ip", "192.0.2.10", "--vip-netmask", "255.255.255.0"), "out of range"),
    "ipv6 netmask": (OVNDB + ("--master-ip", "2001:db8::1", "--vip-netmask", "129"), "IPv6 prefix length is 1 to 128"),
    "id with a space": (OVNDB + ("--master-ip", "192.0.2.10", "--name", "ovn db"), "--name 'ovn db' is not a valid id"),
    "id with a digit first": (OVNDB + ("--master-ip", "192.0.2.10", "--vip-name", "1vip"), "is not a valid id"),
    "same id twice": (OVNDB + ("--master-ip", "192.0.2.10", "--vip-name", "ovndb_servers"), "used twice"),
    "unknown parameter": (OVNDB + ("--master-ip", "192.0.2.10", "--param", "nb_port=6641"),
                          "has no parameter 'nb_port'"),
    "unknown parameter of OVN's agent": (
        OVNDB + ("--master-ip", "192.0.2.10", "--provider", "ovn", "--param", "nowhere_ip=127.0.0.1"),
        "ocf:ovn:ovndb-servers has no parameter 'nowhere_ip'"),
    "value the agent rejects": (OVNDB + ("--master-ip", "192.0.2.10", "--param", "nb_master_port=http"),
                                "nb_master_port"),
    "param without value": (OVNDB + ("--master-ip", "192.0.2.10", "--param", "manage_northd"), "key=value"),
    "param contradicting an option": (OVNDB + ("--master-ip", "192.0.2.10", "--param", "master_ip=192.0.2.11"),
                                      "contradicts master_ip=192.0.2.10"),
    "same monitor intervals": (OVNDB + ("--master-ip", "192.0.2.10", "--promoted-monitor-interval", "10"),
                               "different interval"),
    "bad interval": (OVNDB + ("--master-ip", "192.0.2.10", "--monitor-interval", "ten"), "not an interval"),
    "ssl file without ssl": (OVNDB + ("--master-ip", "192.0.2.10", "--nb-cert", "/etc/c.pem"), "only used when nb_master_protocol=ssl"),
    "sb ssl file with nb ssl only": (
        OVNDB + ("--master-ip", "192.0.2.10", "--param", "nb_master_protocol=ssl", "--sb-cert", "/etc/c.pem"),
        "only used when sb_master_protocol=ssl"),
    "relative ssl file": (OVNDB + ("--master-ip", "192.0.2.10", "--ssl", "--nb-cert", "c.pem"), "absolute path"),
    "vip option in load-balancer mode": (
        OVNDB + ("--master-ip", "192.0.2.10", "--load-balancer", "--vip-netmask", "24"), "--load-balancer"),
    "bad provider": (OVNDB + ("--master-ip", "192.0.2.10", "--provider", "../x"), "not a provider name"),
    "bad pcs version": (OVNDB[:1] + ("--master-ip", "192.0.2.10", "--pcs-version", "latest"), "not a pcs version"),
    "ipv6 given as --ip": (PORT + ("--ip", "2001:db8::1"), "--ip '2001:db8::1' is not an IPv4 address"),
    "ipv4 given as --ip6": (PORT + ("--ip", "192.0.2.20", "--ip6", "192.0.2.21"), "is not an IPv6 address"),
    "long interface name": (PORT[:3] + ("--interface", "a-very-long-name0") + PORT[5:] + ("--ip", "192.0.2.20"),
                            "at most 15"),
    "bridge name with a slash": (PORT[:1] + ("--bridge", "br/ex") + PORT[3:] + ("--ip", "192.0.2.20"),
                                 "not an interface name"),
    "OVSPort parameter value": (PORT + ("--ip", "192.0.2.20", "--mac", "01:00:5e:00:00:01"), "multicast"),
    "OVN has no OVSPort": (PORT + ("--ip", "192.0.2.20", "--provider", "ovn"), "OVN ships no OVSPort"),
    "crm cannot apply": (OVNDB + ("--master-ip", "192.0.2.10", "--format", "crm"), "--apply runs pcs"),
    "notify neither yes nor no": (OVNDB + ("--master-ip", "192.0.2.10", "--notify", "maybe"), "'maybe'"),
    "OVN's agent without notifications": (
        OVNDB + ("--master-ip", "192.0.2.10", "--provider", "ovn", "--notify", "no"), "needs notify=true"),
    "held address without its interface": (
        OVNDB + ("--master-ip", "192.0.2.10", "--held-address", "--vip-netmask", "24"), "needs --vip-nic and --vip-netmask"),
    "held address with a VIP name": (
        OVNDB + ("--master-ip", "192.0.2.10", "--held-address", "--vip-nic", "eth0", "--vip-netmask", "24",
                 "--vip-name", "vip"), "--vip-name has no use with --held-address"),
    "held address for OVN's agent": (
        OVNDB + ("--master-ip", "192.0.2.10", "--provider", "ovn", "--held-address", "--vip-nic", "eth0",
                 "--vip-netmask", "24"), "--held-address is for this project's agent"),
    "missing CIB file": (OVNDB + ("--master-ip", "192.0.2.10"), "is not a file"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_exits_2_before_anything_runs(case: str, fp) -> None:
    args, message = BAD[case]
    result = setup_cli(*args)
    assert result.rc == 2, result
    assert message in result.err
    assert "Traceback" not in result.err
    assert result.out == ""
    assert len(fp.calls) == 0


def test_good_input_is_accepted_by_the_same_checks() -> None:
    """The counterpart of the table: legal edge values pass (so the table tests the values)."""
    result = setup_cli("ovndb", "--master-ip", "2001:db8::1", "--vip-netmask", "128", "--name", "_a.b-c",
                       "--param", "nb_master_port=6643", "--param", "nb_master_protocol=ssl",
                       "--nb-cert", "/etc/ovn/nb-cert.pem", "--pcs-version", "0.11")
    assert result.rc == 0, result.err
    assert "ip=2001:db8::1 cidr_netmask=128" in result.out
    assert "ovn_nb_db_cert=/etc/ovn/nb-cert.pem nb_master_port=6643 nb_master_protocol=ssl" in result.out


@pytest.mark.parametrize("content, message", [
    ("<cib><configuration>", "not valid XML"),
    ("<html/>", "root element is <html>"),
])
def test_a_cib_file_that_is_not_one_exits_2(tmp_path, fp, content: str, message: str) -> None:
    cib = tmp_path / "cib.xml"
    cib.write_text(content)
    result = setup_cli("ovndb", "--master-ip", "192.0.2.10", "--pcs-version", "0.11", "--apply", "--cib", str(cib))
    assert result.rc == 2
    assert message in result.err
    assert len(fp.calls) == 0
    assert cib.read_text() == content


def test_the_held_address_is_the_agents_own_parameters_without_a_vip_or_constraints() -> None:
    result = setup_cli("ovndb", "--master-ip", "192.0.2.10", "--vip-nic", "eth0", "--vip-netmask", "24",
                       "--held-address", "--notify", "no", "--pcs-version", "0.11")
    assert result.rc == 0, result.err
    assert "hold_master_ip=yes master_ip_nic=eth0 master_ip_cidr_netmask=24" in result.out
    assert "notify=false" in result.out
    assert "IPaddr2" not in result.out and "constraint" not in result.out


def test_notifications_are_off_by_default_with_this_projects_agent_and_the_output_says_why() -> None:
    """The fastest configuration that keeps every guarantee (issue 25); the comments above the
    commands name it and the alternatives, and the commands stay pasteable."""
    result = setup_cli("ovndb", "--master-ip", "192.0.2.10", "--pcs-version", "0.11")
    assert result.rc == 0, result.err
    assert "promotable ovndb_servers-clone notify=false" in result.out
    comments = [line for line in result.out.splitlines() if line.startswith("# ")]
    assert "notify=false" in comments[0] and any("--notify yes" in line for line in comments)
    assert result.commands and all(line.startswith("pcs ") for line in result.commands)


def test_ovns_agent_keeps_its_notifications_by_default() -> None:
    result = setup_cli("ovndb", "--master-ip", "192.0.2.10", "--provider", "ovn", "--pcs-version", "0.11")
    assert result.rc == 0, result.err
    assert "notify=true" in result.commands[0]


def test_notify_yes_writes_ovns_documented_configuration() -> None:
    result = setup_cli("ovndb", "--master-ip", "192.0.2.10", "--notify", "yes", "--pcs-version", "0.11")
    assert "notify=true" in result.commands[0] and "OVN's documented configuration" in result.out
