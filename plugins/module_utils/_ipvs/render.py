# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Services as ipvsadm lines: the ``ipvsadm -R`` batch's commands and the ``-S -n`` form of the diff."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.addresses import hostport
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.common import FORWARDING_OPTION, PROTOCOL_OPTION, flag_names
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.keys import real_server_key, real_server_order, sorted_keys


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
