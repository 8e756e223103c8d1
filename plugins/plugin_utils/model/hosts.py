# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads one fabric host's own variables into a checked `Host` record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ansible_collections.anycast.fabric.plugins.module_utils._schema import default_value
from ansible_collections.anycast.fabric.plugins.plugin_utils import daemons
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.edge import Edge, read_edge, read_scope
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.health import read_health
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import MAX_COMMUNITIES, carried_fields, shared_keys
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import Vip as IntentVip
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.inputs import Reader, community, hostname_problem, parse_ip, unusable_address
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.schema import DEFAULT_SITE, DEFAULT_VIP_INTERFACE, HOST_TABLE, VIP_TABLE
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.settings import asn_problem
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.uplinks import read_uplinks

# Inventory group -> role in the fabric.
ROLE_GROUPS = (("fabric_nodes", "node"), ("fabric_tors", "tor"), ("fabric_spines", "spine"))

# The variables the model reads (fabric_state_dir is only checked: the roles
# and modules read it, it never reaches an intent).
HOST_VARIABLES = HOST_TABLE.names()
VIP_KEYS = VIP_TABLE.names()
# The VIP keys the intent carries (intent.Vip), in declaration order.
CARRIED = carried_fields(IntentVip)
SHARED = shared_keys(IntentVip)
ROLE_LABELS = {"node": "nodes", "tor": "ToRs", "spine": "spines"}


@dataclass
class Vip:
    prefix: object  # ipaddress network, always a host route
    path: str
    address_path: str  # path of the address itself: fabric_vips[N] or fabric_vips[N].address
    # {key: value} of the keys the intent carries (intent.carried_fields(intent.Vip)), read by _read_vip.
    carried: dict = field(default_factory=dict)
    sites: Optional[tuple] = None  # announced only from these sites; None: from every site (global)
    prepend: tuple = ()  # ((site, times), ...): AS-path prepends at that site's edge
    med: tuple = ()  # ((site, med), ...): MED at that site's edge

    @property
    def communities(self):
        return self.carried.get("communities", ())

    @property
    def large_communities(self):
        return self.carried.get("large_communities", ())

    @property
    def health(self):
        return self.carried.get("health")  # normalised by health.read_health; None: always announced

    def attributes(self):
        """What every node announcing this VIP must describe alike (per-node keys such as health left out)."""
        return tuple(self.carried.get(k) for k in SHARED) + (self.sites, self.prepend, self.med)


@dataclass
class Host:
    name: str
    role: str
    site: Optional[str] = None
    rack: Optional[str] = None
    daemon: Optional[str] = None
    ipv4: object = None
    ipv4_net: object = None
    ipv6: object = None
    ipv6_net: object = None
    uplink_ipv4: object = None
    uplink_ipv4_net: object = None
    uplink_ipv6: object = None
    uplink_ipv6_net: object = None
    uplinks: tuple = ()  # uplinks.Uplink: a ToR's unnumbered links to its spines (fabric_uplinks)
    asn: Optional[int] = None
    asn_explicit: bool = False
    router_id: object = None
    router_id_explicit: bool = False
    vip_interface: str = DEFAULT_VIP_INTERFACE
    vip_weight: int = 1  # fabric_vip_weight: the default weight of the node's VIPs
    vips: list = field(default_factory=list)
    pod_cidrs: list = field(default_factory=list)  # (network, path)
    edge: Edge = field(default_factory=Edge)  # spines: upstreams and what crosses the site's edge

    def prefixes(self, version):
        """Everything this host originates, for one IP version, sorted (computed once after freeze())."""
        frozen = getattr(self, "_frozen", None)
        if frozen is not None:
            return list(frozen[version])
        nets = [v.prefix for v in self.vips if v.prefix.version == version]
        nets += [n for n, _path in self.pod_cidrs if n.version == version]
        return sorted(nets)

    def freeze(self):
        """The VIPs and pod CIDRs are final: remember what prefixes() returns."""
        self._frozen = None
        self._frozen = {4: self.prefixes(4), 6: self.prefixes(6)}


def read_host(problems, name, role, variables):
    reader = Reader(problems, name, variables)
    host = Host(name=name, role=role)
    reason = hostname_problem(name)
    if reason:
        reader.fail("inventory_hostname", name, reason)

    host.site = reader.name("fabric_site", reader.get("fabric_site", DEFAULT_SITE), "a site name")
    rack = reader.get("fabric_rack")
    if role in ("node", "tor") and rack is None:
        reader.fail("fabric_rack", None, "is required for %s" % ROLE_LABELS[role])
    elif rack is not None:
        # Racks are often numbered; 12 and "12" name the same rack.
        numbered = isinstance(rack, int) and not isinstance(rack, bool) and 0 <= rack < 10**18
        host.rack = reader.name("fabric_rack", str(rack) if numbered else rack, "a rack name")

    host.daemon = reader.choice("fabric_daemon", reader.get("fabric_daemon", daemons.default_for(role)), daemons.names_for(role))

    ipv4 = reader.get("fabric_ipv4")
    if ipv4 is None:
        reader.fail("fabric_ipv4", None, "is required: the IPv4 address this host peers from")
    else:
        host.ipv4, host.ipv4_net = reader.interface("fabric_ipv4", ipv4, 4)
    if reader.get("fabric_ipv6") is not None:
        host.ipv6, host.ipv6_net = reader.interface("fabric_ipv6", reader.get("fabric_ipv6"), 6)
    if role == "tor":
        if reader.get("fabric_uplink_ipv4") is not None:
            host.uplink_ipv4, host.uplink_ipv4_net = reader.interface("fabric_uplink_ipv4", reader.get("fabric_uplink_ipv4"), 4)
        if reader.get("fabric_uplink_ipv6") is not None:
            host.uplink_ipv6, host.uplink_ipv6_net = reader.interface("fabric_uplink_ipv6", reader.get("fabric_uplink_ipv6"), 6)
    else:
        for var in ("fabric_uplink_ipv4", "fabric_uplink_ipv6"):
            if reader.get(var) is not None:
                reader.fail(var, reader.get(var), "only applies to ToRs (fabric_tors); %s peer from fabric_ipv4/fabric_ipv6" % ROLE_LABELS[role])

    host.uplinks = read_uplinks(reader, role)

    _read_asn(reader, host)
    _read_router_id(reader, host)
    host.edge = read_edge(reader, role)

    if role == "node":
        host.vip_interface = _interface_name(reader, "fabric_vip_interface", reader.get("fabric_vip_interface", DEFAULT_VIP_INTERFACE))
        weight = reader.get("fabric_vip_weight")
        if weight is not None:
            weight = reader.field("fabric_vip_weight", HOST_TABLE.field("fabric_vip_weight"), weight)
        # A refused node weight was reported: its VIPs are read with the default, not refused again.
        host.vip_weight = weight if weight is not None else 1
        host.vips = _read_vips(reader, {"weight": host.vip_weight})
        host.pod_cidrs = _read_pod_cidrs(reader)
        if reader.get("fabric_state_dir") is not None:
            reader.field("fabric_state_dir", HOST_TABLE.field("fabric_state_dir"), reader.get("fabric_state_dir"))
    else:
        for var in ("fabric_vips", "fabric_pod_cidrs", "fabric_vip_interface", "fabric_vip_weight"):
            if reader.get(var):
                reader.fail(var, reader.get(var), "only applies to nodes (fabric_nodes); %s announce no service addresses" % ROLE_LABELS[role])
    return host


def daemon_problems(hosts, fabric, problems):
    """Report what each host's daemon cannot do of what the fabric asks of it (BFD, GTSM, communities...).

    HOSTS: {name: Host}; FABRIC: the fabric-wide settings (model.Fabric).
    """
    for name in sorted(hosts):
        host = hosts[name]
        if host.daemon is None:
            continue
        for path, value, reason in daemons.driver(host.daemon).problems(host, fabric):
            problems.add(name, path, value, reason)


def _interface_name(reader, path, value):
    """A Linux interface name: at most 15 characters, and one word for BIRD and FRR."""
    return reader.field(path, HOST_TABLE.field("fabric_vip_interface"), value)


def _read_asn(reader, host):
    raw = reader.get("fabric_asn")
    if raw is None:
        if host.role != "node":
            reader.fail("fabric_asn", None, "is required for %s" % ROLE_LABELS[host.role])
        return
    asn = reader.field("fabric_asn", HOST_TABLE.field("fabric_asn"), raw)
    if asn is None:
        return
    reason = asn_problem(asn)
    if reason:
        reader.fail("fabric_asn", asn, reason)
        return
    host.asn, host.asn_explicit = asn, True


def _read_router_id(reader, host):
    raw = reader.get("fabric_router_id")
    if raw is None:
        host.router_id = host.ipv4
        return
    router_id, _reason = parse_ip(raw, "address")
    if router_id is None or router_id.version != 4 or router_id.is_unspecified:
        reader.fail("fabric_router_id", raw, "must be a non-zero IPv4 address (a 32-bit BGP identifier)")
        return
    host.router_id, host.router_id_explicit = router_id, True


def _read_vips(reader, defaults):
    """The node's VIPs; DEFAULTS: {carried key: the node's own default for it} (the node weight)."""
    vips = []
    seen = {}
    for index, item in enumerate(reader.list_of("fabric_vips", reader.get("fabric_vips"))):
        path = "fabric_vips[%d]" % index
        vip = _read_vip(reader, path, item, defaults)
        if vip is None:
            continue
        if vip.prefix in seen:
            reader.fail(vip.address_path, str(vip.prefix.network_address), "is listed twice (also %s)" % seen[vip.prefix])
            continue
        seen[vip.prefix] = path
        vips.append(vip)
    return vips


def _read_vip(reader, path, item, defaults):
    if isinstance(item, dict):
        if reader.dict_of(path, item, VIP_KEYS) is None:
            return None
        if "address" not in item:
            reader.fail(path + ".address", None, "is required")
            return None
        address_path, raw = path + ".address", item["address"]
    else:
        address_path, raw = path, item
        item = {}
    prefix = _host_route(reader, address_path, raw)
    if prefix is None:
        return None
    vip = Vip(prefix=prefix, path=path, address_path=address_path)
    before = len(reader.problems)
    for declaration in CARRIED:
        raw = item.get(declaration.name)
        if raw is None and declaration.name in defaults:
            vip.carried[declaration.name] = defaults[declaration.name]
            continue
        read = _CARRIED_READERS.get(declaration.name, _read_carried)
        vip.carried[declaration.name] = read(reader, "%s.%s" % (path, declaration.name), raw, declaration)
    vip.sites, vip.prepend, vip.med = read_scope(reader, path, item)
    # A VIP with a rejected attribute is left out altogether, so that other
    # nodes' correct copies are not reported as conflicting with a half of it.
    return vip if len(reader.problems) == before else None


def _read_carried(reader, path, raw, declaration):
    """A carried key read by its declaration alone (leaf types): the normalised value, or its default."""
    if raw is None:
        value = default_value(declaration)
    else:
        value = reader.field(path, declaration, raw)
    return tuple(value) if isinstance(value, list) else value


# Carried keys that need more than their declaration to be read.
_CARRIED_READERS = {
    "name": lambda reader, path, raw, _d: None if raw is None else reader.name(path, raw, "a VIP name"),
    "communities": lambda reader, path, raw, _d: _communities(reader, path, raw, 2),
    "large_communities": lambda reader, path, raw, _d: _communities(reader, path, raw, 3),
    "health": lambda reader, path, raw, _d: read_health(reader, path, raw),
}


def _host_route(reader, path, raw):
    if not isinstance(raw, str):
        reader.fail(path, raw, "must be an IPv4 or IPv6 address")
        return None
    iface, reason = parse_ip(raw, "interface")
    if iface is None:
        reader.fail(path, raw, reason)
        return None
    if iface.network.prefixlen != iface.max_prefixlen:
        reader.fail(path, raw, "must be a host route (/%d): an anycast VIP is one address" % iface.max_prefixlen)
        return None
    reason = unusable_address(iface.ip, peering=False)
    if reason:
        reader.fail(path, raw, "cannot be announced: it %s" % reason)
        return None
    return iface.network


def _communities(reader, path, raw, parts):
    values = []
    items = reader.list_of(path, raw)
    if len(items) > MAX_COMMUNITIES:
        reader.fail(
            path,
            "%d communities" % len(items),
            "at most %d may be set on one VIP (FRR reads one command line of at most 4,096 characters and 256 words)" % MAX_COMMUNITIES,
        )
        return ()
    for index, item in enumerate(items):
        value = community(reader, "%s[%d]" % (path, index), item, parts)
        if value is not None and value not in values:
            values.append(value)
    return tuple(sorted(values, key=lambda c: tuple(int(p) for p in c.split(":"))))


def _read_pod_cidrs(reader):
    cidrs = []
    for index, raw in enumerate(reader.list_of("fabric_pod_cidrs", reader.get("fabric_pod_cidrs"))):
        path = "fabric_pod_cidrs[%d]" % index
        net = reader.prefix(path, raw, "a pod CIDR", not_default="a pod CIDR is the node's own pod addresses")
        if net is None:
            continue
        clash = next((p for n, p in cidrs if n.version == net.version and n.overlaps(net)), None)
        if clash:
            reader.fail(path, raw, "overlaps %s of the same node" % clash)
            continue
        cidrs.append((net, path))
    return cidrs
