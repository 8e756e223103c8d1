# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A service's identity as a string (results, the record) and the order of services and real servers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.addresses import check_int, family_of, hostport, split_hostport
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.common import PROTOCOL_OPTION, PROTOCOLS, IpvsError


def service_key(svc):
    """Identity of a virtual service, as shown in results and in the record.

    'tcp 198.51.100.10:80', 'udp [2001:db8::10]:53', 'fwmark 7', 'fwmark 7 ipv6'.
    """
    if svc["protocol"] == "fwmark":
        return "fwmark %d%s" % (svc["fwmark"], " ipv6" if svc["family"] == "ipv6" else "")
    return "%s %s" % (svc["protocol"], hostport(svc["address"], svc["port"]))


def real_server_key(rs):
    return hostport(rs["address"], rs["port"])


def parse_key(key):
    """Inverse of service_key: the identity fields of a service."""
    parts = str(key).split()
    if len(parts) in (2, 3) and parts[0] == "fwmark":
        if len(parts) == 3 and parts[2] != "ipv6":
            raise IpvsError("not a service key: %r" % key)
        mark = check_int(parts[1], "fwmark", 1, 0xFFFFFFFF)
        return {"protocol": "fwmark", "address": None, "port": None, "fwmark": mark, "family": "ipv6" if len(parts) == 3 else "ipv4"}
    if len(parts) == 2 and parts[0] in PROTOCOL_OPTION:
        address, port = split_hostport(parts[1])
        return {"protocol": parts[0], "address": address, "port": port, "fwmark": None, "family": family_of(address)}
    raise IpvsError("not a service key: %r" % key)


def key_order(key):
    ident = parse_key(key)
    if ident["protocol"] == "fwmark":
        return (len(PROTOCOLS), 4 if ident["family"] == "ipv4" else 6, ident["fwmark"], 0)
    ip = ipaddress.ip_address(ident["address"])
    return (PROTOCOLS.index(ident["protocol"]), ip.version, int(ip), ident["port"])


def real_server_order(rs):
    ip = ipaddress.ip_address(rs["address"])
    return (ip.version, int(ip), rs["port"])


def sorted_keys(keys):
    return sorted(keys, key=key_order)
