# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Addresses, ports, integers and persistence netmasks, as the user or ipvsadm writes them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.common import IpvsError


def normalize_ip(value, what="address"):
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        raise IpvsError("%s %r is not an IP address" % (what, str(value))) from None
    if ip.is_unspecified or ip.is_multicast:
        raise IpvsError("%s %r cannot be used (unspecified or multicast)" % (what, str(value)))
    return ip.compressed


def family_of(address):
    return "ipv6" if ":" in address else "ipv4"


def hostport(address, port):
    return ("[%s]:%d" if ":" in address else "%s:%d") % (address, port)


def split_hostport(text):
    """'10.0.0.1:80' / '[2001:db8::1]:80' -> (address, port)."""
    if text.startswith("["):
        address, sep, port = text[1:].partition("]:")
    else:
        address, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise IpvsError("cannot read address:port %r" % text)
    return normalize_ip(address), int(port)


def check_int(value, what, low, high):
    if isinstance(value, bool):
        raise IpvsError("%s must be an integer, not %r" % (what, value))
    try:
        number = int(str(value).strip())
    except ValueError:
        raise IpvsError("%s must be an integer, not %r" % (what, value)) from None
    if not low <= number <= high:
        raise IpvsError("%s must be between %d and %d, not %d" % (what, low, high, number))
    return number


def normalize_netmask(value, family):
    """Persistence netmask: IPv4 dotted mask or prefix length -> dotted; IPv6 prefix length.

    The host mask (what the kernel uses without -M) is None.
    """
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    if family == "ipv6":
        length = check_int(text.lstrip("/"), "persistence_netmask (an IPv6 prefix length)", 1, 128)
        return None if length == 128 else str(length)
    if "." in text:
        try:
            network = ipaddress.IPv4Network("0.0.0.0/%s" % text)
        except ValueError:
            raise IpvsError("persistence_netmask %r is not an IPv4 netmask" % text) from None
    else:
        network = ipaddress.IPv4Network("0.0.0.0/%d" % check_int(text.lstrip("/"), "persistence_netmask", 0, 32))
    mask = str(network.netmask)
    return None if mask == "255.255.255.255" else mask
