# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The desired state: the module's ``services`` argument, validated and normalised into services."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.addresses import check_int, family_of, normalize_ip, normalize_netmask
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.common import FLAG_BITS, FORWARDING_OPTION, NAMED_FLAG_BITS, PROTOCOLS, IpvsError
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.keys import real_server_key, service_key

TUNNEL_TYPES = ("ipip", "gue", "gre")
TUNNEL_CHECKSUMS = ("nocsum", "csum", "remcsum")
MAX_WEIGHT = 65535
SCHEDULER_RE = re.compile(r"^[a-z][a-z0-9_]{0,15}$")


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


def normalize_service(spec):
    """A service as the module's user wrote it (module argument dict) -> normalised service."""
    if not isinstance(spec, dict):
        raise IpvsError("a service must be a dictionary, not %r" % (spec,))
    protocol = str(spec.get("protocol") or "tcp").lower()
    if protocol not in PROTOCOLS:
        raise IpvsError("protocol %r is not one of %s" % (protocol, ", ".join(PROTOCOLS)))
    persistence = check_int(spec.get("persistence_timeout") or 0, "persistence_timeout", 0, 0x7FFFFFFF)
    if protocol == "fwmark":
        if spec.get("fwmark") is None:
            raise IpvsError("a fwmark service needs fwmark")
        if spec.get("address") or spec.get("port") is not None:
            raise IpvsError("fwmark %s: a fwmark service has no address or port (the mark selects the packets)" % spec.get("fwmark"))
        fwmark = check_int(spec["fwmark"], "fwmark", 1, 0xFFFFFFFF)
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
        port = check_int(spec["port"], "port", 0, 65535)
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
        port = check_int(port, "%s: real server %s port" % (key, address), 0, 65535)
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
    weight = check_int(1 if spec.get("weight") is None else spec["weight"], "%s: real server %s weight" % (key, address), 0, MAX_WEIGHT)
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
        rs["tunnel_port"] = check_int(tunnel_port, "tunnel_port", 1, 65535)
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
