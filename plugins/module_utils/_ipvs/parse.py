# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ipvsadm -S -n`` output read into services (the form desired.py gives the wanted ones)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.addresses import check_int, family_of, normalize_netmask, split_hostport
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.common import FLAG_BITS, NAMED_FLAG_BITS, IpvsError
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.keys import real_server_key, service_key

OPTION_PROTOCOL = {
    "-t": "tcp",
    "--tcp-service": "tcp",
    "-u": "udp",
    "--udp-service": "udp",
    "--sctp-service": "sctp",
    "-f": "fwmark",
    "--fwmark-service": "fwmark",
}
OPTION_FORWARDING = {
    "-g": "direct",
    "--gatewaying": "direct",
    "-i": "tunnel",
    "--ipip": "tunnel",
    "-m": "masquerade",
    "--masquerading": "masquerade",
}
# ipvsadm's default persistence timeout when -p has no value.
DEFAULT_PERSISTENCE = 360


def _service_identity(tokens, where):
    """Consume the service-selecting options; return (ident dict, remaining tokens)."""
    ident = {"protocol": None, "address": None, "port": None, "fwmark": None, "family": "ipv4"}
    rest = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in OPTION_PROTOCOL:
            if i + 1 >= len(tokens):
                raise IpvsError("%s: %s without a value" % (where, tok))
            ident["protocol"] = OPTION_PROTOCOL[tok]
            if ident["protocol"] == "fwmark":
                ident["fwmark"] = check_int(tokens[i + 1], "fwmark", 1, 0xFFFFFFFF)
            else:
                ident["address"], ident["port"] = split_hostport(tokens[i + 1])
                ident["family"] = family_of(ident["address"])
            i += 2
        elif tok in ("-6", "--ipv6"):
            ident["family"] = "ipv6"
            i += 1
        else:
            rest.append(tok)
            i += 1
    if ident["protocol"] is None:
        raise IpvsError("%s: no service (-t, -u, --sctp-service or -f)" % where)
    return ident, rest


def _value(rest, i, where):
    if i + 1 >= len(rest):
        raise IpvsError("%s: %s without a value" % (where, rest[i]))
    return rest[i + 1]


def _parse_service(tokens, where):
    ident, rest = _service_identity(tokens, where)
    svc = dict(ident, scheduler="wlc", flags=0, persistence=0, netmask=None, pe=None, ops=False, real_servers={}, extra=[])
    flag_words = []
    i = 0
    while i < len(rest):
        tok = rest[i]
        if tok in ("-s", "--scheduler"):
            svc["scheduler"] = _value(rest, i, where)
            i += 2
        elif tok in ("-b", "--sched-flags"):
            flag_words = _value(rest, i, where).split(",")
            i += 2
        elif tok in ("-p", "--persistent"):
            if i + 1 < len(rest) and rest[i + 1].isdigit():
                svc["persistence"] = int(rest[i + 1])
                i += 2
            else:
                svc["persistence"] = DEFAULT_PERSISTENCE
                i += 1
        elif tok in ("-M", "--netmask"):
            svc["netmask"] = _value(rest, i, where)
            i += 2
        elif tok == "--pe":
            svc["pe"] = _value(rest, i, where)
            i += 2
        elif tok in ("-o", "--ops"):
            svc["ops"] = True
            i += 1
        else:
            svc["extra"].append(tok)
            i += 1
    svc["netmask"] = normalize_netmask(svc["netmask"], svc["family"])
    bits = 0
    for word in flag_words:
        word = word.strip()
        if word in FLAG_BITS:
            bits |= FLAG_BITS[word]
        elif word in NAMED_FLAG_BITS:
            bits |= NAMED_FLAG_BITS[word]
        elif word:
            svc["extra"].append("-b:" + word)
    svc["flags"] = bits
    return svc


def _parse_real_server(tokens, where):
    ident, rest = _service_identity(tokens, where)
    rs = {"address": None, "port": None, "forwarding": "direct", "weight": 1, "tunnel_type": None, "tunnel_port": None, "tunnel_checksum": None}
    i = 0
    while i < len(rest):
        tok = rest[i]
        if tok in ("-r", "--real-server"):
            rs["address"], rs["port"] = split_hostport(_value(rest, i, where))
            i += 2
        elif tok in OPTION_FORWARDING:
            rs["forwarding"] = OPTION_FORWARDING[tok]
            i += 1
        elif tok in ("-w", "--weight"):
            rs["weight"] = int(_value(rest, i, where))
            i += 2
        elif tok == "--tun-type":
            rs["tunnel_type"] = _value(rest, i, where)
            i += 2
        elif tok == "--tun-port":
            rs["tunnel_port"] = int(_value(rest, i, where))
            i += 2
        elif tok in ("--tun-nocsum", "--tun-csum", "--tun-remcsum"):
            rs["tunnel_checksum"] = tok[len("--tun-"):]
            i += 1
        else:
            # -x/-y (thresholds) and anything newer: not modelled.
            i += 1
    if rs["address"] is None:
        raise IpvsError("%s: real server line without -r" % where)
    if rs["forwarding"] == "tunnel":
        rs["tunnel_type"] = rs["tunnel_type"] or "ipip"
        if rs["tunnel_type"] == "ipip":
            rs["tunnel_checksum"] = None
        else:
            rs["tunnel_checksum"] = rs["tunnel_checksum"] or "nocsum"
    else:
        rs["tunnel_type"] = rs["tunnel_port"] = rs["tunnel_checksum"] = None
    return ident, rs


def parse_save(text):
    """``ipvsadm -S -n`` output -> dict service key -> service (with its real servers)."""
    services = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        tokens = line.split()
        if not tokens:
            continue
        where = "ipvsadm -S line %d (%s)" % (lineno, line.strip())
        if tokens[0] == "-A":
            svc = _parse_service(tokens[1:], where)
            services[service_key(svc)] = svc
        elif tokens[0] == "-a":
            ident, rs = _parse_real_server(tokens[1:], where)
            key = service_key(ident)
            if key not in services:
                raise IpvsError("%s: real server of service %s, which was not listed before it" % (where, key))
            services[key]["real_servers"][real_server_key(rs)] = rs
        else:
            raise IpvsError("%s: not a service (-A) or real server (-a) line" % where)
    return services
