# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPVS virtual services as data: validation, ``ipvsadm -S -n`` parsing, planning,
the ``ipvsadm -R`` batch, and the ownership record.

Pure logic (no kernel, no subprocess), so every rule is unit-tested on any
machine. The module (plugins/modules/ipvs.py) only runs ipvsadm around it.

Data model (plain dicts, JSON-serialisable, compared with ``==``):

service
    protocol (tcp, udp, sctp, fwmark), address (compressed IP or None),
    port (int or None), fwmark (int or None), family (ipv4, ipv6),
    scheduler, flags (bit mask of ``-b``), persistence (seconds, 0 = off),
    netmask (None = the default host mask), pe (persistence engine or None),
    ops (one-packet scheduling), real_servers (dict: real server key -> real
    server), extra (tokens of ``-S`` output this code does not model; never
    compared).
real server
    address, port, forwarding (direct, tunnel, masquerade), weight,
    tunnel_type (ipip, gue, gre; tunnel only), tunnel_port (gue only),
    tunnel_checksum (nocsum, csum, remcsum; gue and gre only).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re

from ansible_collections.anycast.fabric.plugins.module_utils import _records as records

RECORD_SCHEMA = 1
RECORD_SUBDIR = "ipvs"

PROTOCOLS = ("tcp", "udp", "sctp", "fwmark")
PROTOCOL_OPTION = {"tcp": "-t", "udp": "-u", "sctp": "--sctp-service"}
OPTION_PROTOCOL = {
    "-t": "tcp",
    "--tcp-service": "tcp",
    "-u": "udp",
    "--udp-service": "udp",
    "--sctp-service": "sctp",
    "-f": "fwmark",
    "--fwmark-service": "fwmark",
}
FORWARDING_OPTION = {"direct": "-g", "tunnel": "-i", "masquerade": "-m"}
OPTION_FORWARDING = {
    "-g": "direct",
    "--gatewaying": "direct",
    "-i": "tunnel",
    "--ipip": "tunnel",
    "-m": "masquerade",
    "--masquerading": "masquerade",
}
TUNNEL_TYPES = ("ipip", "gue", "gre")
TUNNEL_CHECKSUMS = ("nocsum", "csum", "remcsum")
# Scheduler flags (-b): generic names by bit, and the names sh and mh give
# bits 1 and 2 (ipvsadm prints those for sh and mh services).
FLAG_BITS = {"flag-1": 1, "flag-2": 2, "flag-3": 4}
SCHEDULER_FLAG_NAMES = {
    "sh": {1: "sh-fallback", 2: "sh-port"},
    "mh": {1: "mh-fallback", 2: "mh-port"},
}
NAMED_FLAG_BITS = {name: bit for names in SCHEDULER_FLAG_NAMES.values() for bit, name in names.items()}
# ipvsadm's default persistence timeout when -p has no value.
DEFAULT_PERSISTENCE = 360
MAX_WEIGHT = 65535
SCHEDULER_RE = re.compile(r"^[a-z][a-z0-9_]{0,15}$")
OWNER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Service attributes (identity aside) whose change needs an edit (-E); real
# servers are compared as whole dicts.
SERVICE_ATTRS = ("scheduler", "flags", "persistence", "netmask", "pe", "ops")


class IpvsError(ValueError):
    pass


# ---------------------------------------------------------------- addresses


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


def _int(value, what, low, high):
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
        length = _int(text.lstrip("/"), "persistence_netmask (an IPv6 prefix length)", 1, 128)
        return None if length == 128 else str(length)
    if "." in text:
        try:
            network = ipaddress.IPv4Network("0.0.0.0/%s" % text)
        except ValueError:
            raise IpvsError("persistence_netmask %r is not an IPv4 netmask" % text) from None
    else:
        network = ipaddress.IPv4Network("0.0.0.0/%d" % _int(text.lstrip("/"), "persistence_netmask", 0, 32))
    mask = str(network.netmask)
    return None if mask == "255.255.255.255" else mask


# ---------------------------------------------------------------- keys


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
        mark = _int(parts[1], "fwmark", 1, 0xFFFFFFFF)
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


# ---------------------------------------------------------------- desired state


def _flags(names, scheduler):
    bits = 0
    for name in names or []:
        name = str(name).strip().lower()
        if name in FLAG_BITS:
            bits |= FLAG_BITS[name]
        elif name in NAMED_FLAG_BITS:
            owner = name.split("-")[0]
            if owner != scheduler:
                raise IpvsError("scheduler flag %s is for the %s scheduler, not %s" % (name, owner, scheduler))
            bits |= NAMED_FLAG_BITS[name]
        else:
            raise IpvsError("unknown scheduler flag %r (known: %s)" % (name, ", ".join(sorted(list(FLAG_BITS) + list(NAMED_FLAG_BITS)))))
    return bits


def flag_names(bits, scheduler):
    named = SCHEDULER_FLAG_NAMES.get(scheduler, {})
    names = []
    for name, bit in sorted(FLAG_BITS.items(), key=lambda item: item[1]):
        if bits & bit:
            names.append(named.get(bit, name))
    return names


def normalize_service(spec):
    """A service as the module's user wrote it (module argument dict) -> normalised service."""
    if not isinstance(spec, dict):
        raise IpvsError("a service must be a dictionary, not %r" % (spec,))
    protocol = str(spec.get("protocol") or "tcp").lower()
    if protocol not in PROTOCOLS:
        raise IpvsError("protocol %r is not one of %s" % (protocol, ", ".join(PROTOCOLS)))
    persistence = _int(spec.get("persistence_timeout") or 0, "persistence_timeout", 0, 0x7FFFFFFF)
    if protocol == "fwmark":
        if spec.get("fwmark") is None:
            raise IpvsError("a fwmark service needs fwmark")
        if spec.get("address") or spec.get("port") is not None:
            raise IpvsError("fwmark %s: a fwmark service has no address or port (the mark selects the packets)" % spec.get("fwmark"))
        fwmark = _int(spec["fwmark"], "fwmark", 1, 0xFFFFFFFF)
        family = str(spec.get("family") or "ipv4").lower()
        if family not in ("ipv4", "ipv6"):
            raise IpvsError("family must be ipv4 or ipv6, not %r" % family)
        address = port = None
    else:
        if spec.get("fwmark") is not None:
            raise IpvsError("fwmark is only for protocol fwmark (not %s)" % protocol)
        if not spec.get("address"):
            raise IpvsError("a %s service needs address" % protocol)
        address = normalize_ip(spec["address"], "service address")
        family = family_of(address)
        if spec.get("family") and str(spec["family"]).lower() != family:
            raise IpvsError("service %s is %s, not %s" % (address, family, spec["family"]))
        if spec.get("port") is None:
            raise IpvsError("a %s service needs port" % protocol)
        port = _int(spec["port"], "port", 0, 65535)
        if port == 0 and not persistence:
            raise IpvsError("%s %s: port 0 (all ports) is only possible for a persistent service (persistence_timeout)" % (protocol, address))
        fwmark = None
    scheduler = str(spec.get("scheduler") or "wlc").strip().lower()
    if not SCHEDULER_RE.match(scheduler):
        raise IpvsError("scheduler %r is not a scheduler name" % scheduler)
    svc = {
        "protocol": protocol,
        "address": address,
        "port": port,
        "fwmark": fwmark,
        "family": family,
        "scheduler": scheduler,
        "flags": _flags(spec.get("scheduler_flags"), scheduler),
        "persistence": persistence,
        "netmask": None,
        "pe": None,
        "ops": bool(spec.get("one_packet")),
        "real_servers": {},
        "extra": [],
    }
    key = service_key(svc)
    if spec.get("persistence_netmask") not in (None, ""):
        if not persistence:
            raise IpvsError("%s: persistence_netmask needs persistence_timeout" % key)
        svc["netmask"] = normalize_netmask(spec["persistence_netmask"], family)
    if spec.get("persistence_engine"):
        svc["pe"] = str(spec["persistence_engine"]).strip().lower()
        if not SCHEDULER_RE.match(svc["pe"]):
            raise IpvsError("%s: persistence_engine %r is not an engine name" % (key, svc["pe"]))
    if svc["ops"] and protocol != "udp":
        raise IpvsError("%s: one_packet scheduling is only for UDP services" % key)
    default_forwarding = str(spec.get("forwarding") or "masquerade").lower()
    for item in spec.get("real_servers") or []:
        rs = normalize_real_server(item, svc, default_forwarding)
        rs_key = real_server_key(rs)
        if rs_key in svc["real_servers"]:
            raise IpvsError("%s: real server %s is listed twice" % (key, rs_key))
        svc["real_servers"][rs_key] = rs
    return svc


def normalize_real_server(spec, svc, default_forwarding="masquerade"):
    key = service_key(svc)
    if not isinstance(spec, dict):
        raise IpvsError("%s: a real server must be a dictionary, not %r" % (key, spec))
    if not spec.get("address"):
        raise IpvsError("%s: a real server needs address" % key)
    address = normalize_ip(spec["address"], "real server address")
    forwarding = str(spec.get("forwarding") or default_forwarding).lower()
    if forwarding not in FORWARDING_OPTION:
        raise IpvsError("%s: forwarding must be one of %s, not %r" % (key, ", ".join(FORWARDING_OPTION), forwarding))
    if family_of(address) != svc["family"] and forwarding != "tunnel":
        raise IpvsError("%s: real server %s is %s; a %s service takes other families only through a tunnel" % (key, address, family_of(address), svc["family"]))
    port = spec.get("port")
    if port is not None:
        port = _int(port, "%s: real server %s port" % (key, address), 0, 65535)
    if svc["protocol"] == "fwmark":
        port = port or 0
    elif forwarding in ("direct", "tunnel"):
        # The kernel gives direct-routing and tunnelled real servers the
        # service's port, whatever was asked: refuse what cannot be.
        if port is not None and port != svc["port"]:
            raise IpvsError(
                "%s: real server %s port %d: with %s forwarding the packet keeps the service's port %d (only masquerade can change it)"
                % (key, address, port, forwarding, svc["port"])
            )
        port = svc["port"]
    elif port is None:
        port = svc["port"]
    weight = _int(1 if spec.get("weight") is None else spec["weight"], "%s: real server %s weight" % (key, address), 0, MAX_WEIGHT)
    rs = {"address": address, "port": port, "forwarding": forwarding, "weight": weight, "tunnel_type": None, "tunnel_port": None, "tunnel_checksum": None}
    tunnel_type, tunnel_port, checksum = spec.get("tunnel_type"), spec.get("tunnel_port"), spec.get("tunnel_checksum")
    if forwarding != "tunnel":
        if tunnel_type or tunnel_port or checksum:
            raise IpvsError("%s: real server %s: tunnel_* options need forwarding: tunnel" % (key, address))
        return rs
    rs["tunnel_type"] = str(tunnel_type or "ipip").lower()
    if rs["tunnel_type"] not in TUNNEL_TYPES:
        raise IpvsError("%s: tunnel_type must be one of %s" % (key, ", ".join(TUNNEL_TYPES)))
    if rs["tunnel_type"] == "gue":
        if tunnel_port is None:
            raise IpvsError("%s: real server %s: a gue tunnel needs tunnel_port" % (key, address))
        rs["tunnel_port"] = _int(tunnel_port, "tunnel_port", 1, 65535)
    elif tunnel_port is not None:
        raise IpvsError("%s: real server %s: tunnel_port is only for gue tunnels" % (key, address))
    if rs["tunnel_type"] == "ipip":
        if checksum not in (None, "none", "nocsum"):
            raise IpvsError("%s: real server %s: tunnel_checksum is only for gue and gre tunnels" % (key, address))
    else:
        checksum = {None: "nocsum", "none": "nocsum"}.get(checksum, checksum)
        if checksum not in TUNNEL_CHECKSUMS:
            raise IpvsError("%s: tunnel_checksum must be none, csum or remcsum" % key)
        rs["tunnel_checksum"] = checksum
    return rs


def normalize_services(specs):
    """List of service specs -> dict key -> service; refuses duplicates."""
    services = {}
    for spec in specs or []:
        svc = normalize_service(spec)
        key = service_key(svc)
        if key in services:
            raise IpvsError("service %s is listed twice" % key)
        services[key] = svc
    return services


# ---------------------------------------------------------------- ipvsadm -S -n


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
                ident["fwmark"] = _int(tokens[i + 1], "fwmark", 1, 0xFFFFFFFF)
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


# ---------------------------------------------------------------- rendering


def _identity_args(svc):
    if svc["protocol"] == "fwmark":
        return ["-f", str(svc["fwmark"])] + (["-6"] if svc["family"] == "ipv6" else [])
    return [PROTOCOL_OPTION[svc["protocol"]], hostport(svc["address"], svc["port"])]


def service_line(svc, verb="-A"):
    """The ipvsadm arguments for a service, in the order ``ipvsadm -S`` prints them."""
    args = [verb] + _identity_args(svc) + ["-s", svc["scheduler"]]
    if svc["persistence"]:
        args += ["-p", str(svc["persistence"])]
        if svc["netmask"]:
            args += ["-M", svc["netmask"]]
    if svc["pe"]:
        args += ["--pe", svc["pe"]]
    if svc["ops"]:
        args += ["-o"]
    if svc["flags"]:
        args += ["-b", ",".join(flag_names(svc["flags"], svc["scheduler"]))]
    return " ".join(args)


def real_server_line(svc, rs, verb="-a"):
    args = [verb] + _identity_args(svc) + ["-r", real_server_key(rs), FORWARDING_OPTION[rs["forwarding"]], "-w", str(rs["weight"])]
    if rs["forwarding"] == "tunnel":
        args += ["--tun-type", rs["tunnel_type"]]
        if rs["tunnel_port"]:
            args += ["--tun-port", str(rs["tunnel_port"])]
        if rs["tunnel_checksum"]:
            args += ["--tun-" + rs["tunnel_checksum"]]
    if verb == "-d":
        args = [verb] + _identity_args(svc) + ["-r", real_server_key(rs)]
    return " ".join(args)


def delete_line(svc):
    return " ".join(["-D"] + _identity_args(svc))


def sorted_real_servers(svc):
    return sorted(svc["real_servers"].values(), key=real_server_order)


def dump(services, keys=None):
    """Services as ``ipvsadm -S -n`` text, sorted (only ``keys`` when given): the diff's form."""
    keys = services.keys() if keys is None else [k for k in keys if k in services]
    lines = []
    for key in sorted_keys(keys):
        svc = services[key]
        lines.append(service_line(svc))
        lines.extend(real_server_line(svc, rs) for rs in sorted_real_servers(svc))
    return "".join(line + "\n" for line in lines)


# ---------------------------------------------------------------- planning


def service_attrs(svc):
    return tuple(svc[name] for name in SERVICE_ATTRS)


def same_service(a, b):
    """Equal as far as this module manages them (unmodelled ``extra`` tokens aside)."""
    return service_attrs(a) == service_attrs(b) and a["real_servers"] == b["real_servers"]


class Plan(object):
    """What one run does: services created, modified, removed, the batch, the new record."""

    def __init__(self):
        self.created = []
        self.modified = []
        self.removed = []
        self.conflicts = []  # listed, existing, not ours (and adopt is off)
        self.not_owned = []  # state=absent: listed, existing, not ours (left alone)
        self.commands = []
        self.owned = []  # the record after the run
        self.expected = {}  # key -> service after the run, or None when it must be gone

    @property
    def changed(self):
        return bool(self.commands)

    def batch(self):
        return "".join(line + "\n" for line in self.commands)


def _update_service(want, have, commands):
    """Append the commands that turn ``have`` into ``want``; return whether any were needed."""
    before = len(commands)
    if service_attrs(want) != service_attrs(have):
        commands.append(service_line(want, "-E"))
    # Add and edit before deleting: a service whose backends are all replaced
    # never has an empty real-server list in between.
    for rs in sorted_real_servers(want):
        current = have["real_servers"].get(real_server_key(rs))
        if current is None:
            commands.append(real_server_line(want, rs, "-a"))
        elif current != rs:
            commands.append(real_server_line(want, rs, "-e"))
    for rs in sorted_real_servers(have):
        if real_server_key(rs) not in want["real_servers"]:
            commands.append(real_server_line(have, rs, "-d"))
    return len(commands) > before


def plan(desired, current, owned, state="present", purge=False, adopt=False):
    """Compute a Plan.

    desired: key -> service (normalize_services); current: key -> service
    (parse_save); owned: keys this owner's record lists. Only owned services
    (or, with ``adopt``, listed ones) are ever changed or removed.
    """
    result = Plan()
    owned = set(owned)
    removals = []
    if state == "present":
        if not adopt:
            result.conflicts = sorted_keys(k for k in desired if k in current and k not in owned)
            if result.conflicts:
                result.owned = sorted_keys(owned)
                return result
        for key in sorted_keys(desired):
            want, have = desired[key], current.get(key)
            result.expected[key] = want
            if have is None:
                result.created.append(key)
                result.commands.append(service_line(want, "-A"))
                result.commands.extend(real_server_line(want, rs, "-a") for rs in sorted_real_servers(want))
            elif _update_service(want, have, result.commands):
                result.modified.append(key)
        if purge:
            removals = [k for k in owned if k not in desired and k in current]
        new_owned = set(desired) if purge else owned | set(desired)
    else:
        for key in desired:
            if key not in current:
                continue
            if key in owned or adopt:
                removals.append(key)
            else:
                result.not_owned.append(key)
        result.not_owned = sorted_keys(result.not_owned)
        new_owned = owned - set(desired)
    for key in sorted_keys(removals):
        result.removed.append(key)
        result.commands.append(delete_line(current[key]))
        result.expected[key] = None
    result.owned = sorted_keys(new_owned)
    return result


def mismatches(expected, current):
    """Services whose state after the batch is not what the plan wanted: list of messages."""
    problems = []
    for key in sorted_keys(expected):
        want, have = expected[key], current.get(key)
        if want is None:
            if have is not None:
                problems.append("%s still exists" % key)
        elif have is None:
            problems.append("%s is missing" % key)
        elif not same_service(want, have):
            problems.append("%s is %r, wanted %r" % (key, dump({key: have}).strip(), dump({key: want}).strip()))
    return problems


# ---------------------------------------------------------------- ownership record


def check_owner(owner):
    if not OWNER_RE.match(str(owner)):
        raise IpvsError("owner %r must be letters, digits, '.', '_' or '-' (it names the record file)" % owner)
    return str(owner)


def record_path(state_dir, owner):
    return os.path.join(state_dir, RECORD_SUBDIR, "%s.json" % check_owner(owner))


def read_record(path):
    """Service keys recorded as this owner's, or [] when there is no record yet."""
    data = records.load(path, RECORD_SCHEMA, IpvsError, hint="move it away to start afresh (then adopt: true takes the services over)")
    keys = []
    for key in (data or {}).get("services", []):
        parse_key(key)  # refuses anything that is not a key
        keys.append(key)
    return sorted_keys(set(keys))


def write_record(path, owner, keys):
    records.store(path, {"schema": RECORD_SCHEMA, "owner": owner, "services": sorted_keys(set(keys))})
