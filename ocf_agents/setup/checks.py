"""Checks of the operator's input, made before anything is rendered or run.

Each check raises :class:`SetupError` with a sentence naming the option and the value, so
that ``ocf-agents setup`` stops with exit status 2 before pcs or crmsh sees a bad value.
"""

from __future__ import annotations

import ipaddress
import re

from ocf_agents.net.names import check_ifname

# What pcs accepts as an id (its validate_id, restricted to ASCII): a letter or '_' first,
# then letters, digits, '_', '.', '-'. The same ids are valid XML ids for crmsh.
ID_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
# Provider directory names under $OCF_ROOT/resource.d/.
PROVIDER_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
INTERVAL_PATTERN = re.compile(r"([0-9]+)s?")
PREFIX_LIMIT = {4: 32, 6: 128}


class SetupError(ValueError):
    """Input that cannot make a working configuration; the message says which and why."""


def check_id(option: str, value: str) -> str:
    if not ID_PATTERN.fullmatch(value):
        raise SetupError(
            f"{option} {value!r} is not a valid id: it must start with a letter or '_' and "
            "contain only letters, digits, '_', '.' and '-'"
        )
    return value


def check_provider(value: str) -> str:
    if not PROVIDER_PATTERN.fullmatch(value):
        raise SetupError(f"--provider {value!r} is not a provider name (letters, digits, '_', '.', '-')")
    return value


def check_ifname_option(option: str, value: str) -> str:
    try:
        check_ifname(value)
    except ValueError as err:
        raise SetupError(f"{option} {value!r} is not an interface name: {err}") from None
    return value


def check_address(option: str, value: str, family: int | None = None) -> str:
    """An IPv4 or IPv6 unicast address (of ``family`` when given), in its canonical text."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise SetupError(f"{option} {value!r} is not an IP address") from None
    if family is not None and address.version != family:
        raise SetupError(f"{option} {value!r} is not an IPv{family} address")
    if address.is_unspecified or address.is_multicast:
        raise SetupError(f"{option} {value!r} cannot be a node's address (unspecified or multicast)")
    if address.version == 4 and address == ipaddress.IPv4Address("255.255.255.255"):
        raise SetupError(f"{option} {value!r} is the broadcast address")
    return str(address)


def check_prefix(option: str, value: str | int, version: int) -> str:
    """A CIDR prefix length for an address of IP ``version`` (1-32 or 1-128)."""
    limit = PREFIX_LIMIT[version]
    text = str(value)
    if not text.isdigit() or not 1 <= int(text) <= limit:
        raise SetupError(f"{option} {text!r} is out of range: an IPv{version} prefix length is 1 to {limit}")
    return str(int(text))


def parse_interval(option: str, value: str | int) -> int:
    """Seconds, written ``10`` or ``10s``; at least one."""
    match = INTERVAL_PATTERN.fullmatch(str(value))
    if match is None or int(match.group(1)) < 1:
        raise SetupError(f"{option} {value!r} is not an interval in seconds (e.g. 10 or 10s)")
    return int(match.group(1))


def check_milliseconds(option: str, value: str | int) -> str:
    text = str(value)
    if not text.isdigit():
        raise SetupError(f"{option} {text!r} is not a number of milliseconds")
    return str(int(text))


def check_absolute_path(option: str, value: str) -> str:
    if not value.startswith("/") or any(c.isspace() or ord(c) < 32 for c in value):
        raise SetupError(f"{option} {value!r} must be an absolute path without blanks")
    return value


def parse_param(text: str) -> tuple[str, str]:
    """``--param key=value`` split at the first '='; the key must be non-empty."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise SetupError(f"--param {text!r} is not of the form key=value")
    return key, value


def check_unique_ids(ids: list[str]) -> None:
    seen: set[str] = set()
    for resource_id in ids:
        if resource_id in seen:
            raise SetupError(f"the id {resource_id!r} is used twice: give the resources different names")
        seen.add(resource_id)
