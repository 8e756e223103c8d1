# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The address and interface-name rules the controller and the node's health agent share.

One rule, two users:

* the controller: plugins/plugin_utils/model/inputs.py reads every address
  with parse_ip() and unusable_address() (hosts.py's VIP host routes, edge.py's
  peers), schema.py declares `fabric_vip_interface` with INTERFACE_RE;
* the health agent (anycast_healthd/config.py): its configuration's VIPs and
  interface are checked with host_route() and interface_problem(), so a value
  the controller refuses never reaches a node through a hand-written file either.

Standard library only, Python 3.9+: scripts/build-node-programs.py vendors
this file into the agent's package (roles/programs/files/anycast_healthd).
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import ipaddress
import re
from typing import Optional, Tuple, Union

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPInterface = Union[ipaddress.IPv4Interface, ipaddress.IPv6Interface]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
Parsed = Union[Tuple[Union[IPAddress, IPInterface, IPNetwork], None], Tuple[None, str]]

# Every pattern is applied with fullmatch(): `$` would let a trailing newline through.
# A Linux interface name (at most 15 characters), one word for BIRD and FRR.
INTERFACE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}")
INTERFACE_RULE = "an interface name: 1-15 letters, digits, '.', '_' or '-', starting with a letter or digit (Linux allows 15)"

# An IP address or prefix as text: digits, hex, '.', ':' and one '/'. No
# IPv6 zone ids ('%'): a zone id is free text that would reach the configs.
ADDRESS_CHARS_RE = re.compile(r"[0-9A-Fa-f.:]{2,45}(/[0-9]{1,3})?")

THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def interface_problem(value: object) -> Optional[str]:
    """None when VALUE is an interface name INTERFACE_RE accepts, else the reason."""
    if isinstance(value, str) and INTERFACE_RE.fullmatch(value):
        return None
    return "must be %s" % INTERFACE_RULE


def parse_ip(value: object, kind: str) -> Parsed:
    """An ipaddress object from VALUE (kind: 'address', 'interface' or 'network'), or a reason.

    Returns (object, None) or (None, reason). Only the characters an address
    can hold are accepted: no zone ids, no whitespace, no trailing newline.
    """
    if not isinstance(value, str) or not ADDRESS_CHARS_RE.fullmatch(value):
        if isinstance(value, str) and "%" in value:
            return None, "has an IPv6 zone id ('%...'): zone ids are not allowed here"
        return None, "is not an IP address"
    try:
        if kind == "address":
            return ipaddress.ip_address(value), None
        if kind == "interface":
            return ipaddress.ip_interface(value), None
        return ipaddress.ip_network(value, strict=True), None
    except ValueError as exc:
        if kind == "network" and "host bits" in str(exc):
            return None, "has host bits set"
        return None, "is not a valid IP %s" % ("prefix" if kind == "network" else "address")


def unusable_address(address: IPAddress, peering: bool = True) -> Optional[str]:
    """Why ADDRESS cannot be used to peer (or, peering=False, be announced), or None."""
    if address.is_unspecified or address.is_loopback or address.is_multicast:
        return "is an unspecified, loopback or multicast address"
    if address.version == 4 and address in THIS_NETWORK:
        return "is in 0.0.0.0/8 ('this network', RFC 1122)"
    if address.version == 6 and address in IPV4_COMPATIBLE:
        return "is an IPv4-compatible IPv6 address (::/96, deprecated by RFC 4291)"
    if address.version == 4 and address.is_reserved:
        return "is in 240.0.0.0/4 (reserved, includes the broadcast address 255.255.255.255)"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return "is an IPv4-mapped IPv6 address: use the IPv4 address itself"
    if address.version == 6 and address.is_link_local:
        return "is an IPv6 link-local address"
    return None


def host_route(value: object) -> Union[Tuple[IPNetwork, None], Tuple[None, str]]:
    """A VIP: (its host route, None) or (None, why VALUE cannot be one).

    VALUE is an address with no length, `/32` (IPv4) or `/128` (IPv6), that
    may be announced: the rule of the model's fabric_vips (hosts.py) and of
    the health agent's configuration, with the same reasons.
    """
    if not isinstance(value, str):
        return None, "must be an IPv4 or IPv6 address"
    iface, reason = parse_ip(value, "interface")
    if not isinstance(iface, (ipaddress.IPv4Interface, ipaddress.IPv6Interface)):
        return None, reason or "is not an IP address"
    if iface.network.prefixlen != iface.max_prefixlen:
        return None, "must be a host route (/%d): an anycast VIP is one address" % iface.max_prefixlen
    reason = unusable_address(iface.ip, peering=False)
    if reason:
        return None, "cannot be announced: it %s" % reason
    return iface.network, None
