# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fabric model: validates a whole inventory at once and computes each host's intent.

`build()` is pure: plain dictionaries in, typed intents out (intent.Intent,
frozen records; `to_dict()` gives the dictionary form). The intent of a host is everything its configuration depends on (ASN, router id, peers, what
it accepts and exports, BFD and policy), normalised and sorted, so rendering it
is a pure function and the same inventory always gives the same configs.

Here: reading the inventory (roles, fabric-wide variables, each host through
hosts.py), grouping hosts into racks and sites, deriving node ASNs, and the
intents. What must hold between hosts is in rules.py, run from _build().
"""

from __future__ import annotations

import gc
import hashlib
import ipaddress
import json
import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Mapping

from ansible_collections.anycast.fabric.plugins.module_utils._contract import FAMILIES
from ansible_collections.anycast.fabric.plugins.module_utils._schema import default_value
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import intent as intent_types
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import rules
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.edge import DEFAULT_ROUTES
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.hosts import HOST_VARIABLES, ROLE_GROUPS, read_host
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.inputs import HIDDEN, Reader
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.overlaps import overlapping
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.problems import FABRIC, Problems, show
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.settings import FABRIC_DEFAULTS as SETTINGS_FABRIC_DEFAULTS
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.settings import (
    DYNAMIC,
    MAX_ASN,
    POD_NODE_PREFIX_LENGTHS,
    RESERVED_ASNS,
    read_asn_scheme,
    read_bgp,
)

FABRIC_VARIABLES = ("fabric_anycast_pools", "fabric_bgp", "fabric_node_asn_scheme", "fabric_node_asn_base", "fabric_pod_pools")
# The fabric-wide variables' defaults, from their declarations (settings.FABRIC_FIELDS).
FABRIC_DEFAULTS = SETTINGS_FABRIC_DEFAULTS
VARIABLES = HOST_VARIABLES + FABRIC_VARIABLES
MAX_PREFIX_LIMIT = 4294967295


class Fabric:
    """Fabric-wide settings, read once."""

    def __init__(self, pools, bgp, asn_scheme, asn_base, pod_pools=()):
        self.pools = pools
        self.bgp = bgp
        self.asn_scheme = asn_scheme
        self.asn_base = asn_base
        # [(network, node prefix length, variable path)]
        self.pod_pools = list(pod_pools)

    @property
    def dynamic(self):
        """Whether ToRs accept their nodes through listen ranges (fabric_bgp.node_peering: dynamic)."""
        return self.bgp.get("node_peering") == DYNAMIC


def build(hostvars, groups, problems=None):
    """Validate the fabric and compute every host's intent.

    hostvars: {hostname: {variable: value}} with (at least) the VARIABLES of
    every host in the fabric groups. groups: {group name: [hostnames]}.
    problems: a Problems collector that may already hold problems found
    while reading the inventory. Returns (intents, problems); intents is
    empty when there are problems.
    """
    # The model allocates many small objects and frees none of them until it
    # returns: the cyclic garbage collector would walk the growing heap again
    # and again (a cost that grows faster than the fabric). Reference
    # counting still frees what it can.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(hostvars, groups, Problems() if problems is None else problems)
    finally:
        if enabled:
            gc.enable()


def read(hostvars, groups, problems):
    """Read and group the fabric, without the rules across hosts.

    Reports what is wrong in group membership, fabric-wide variables and each
    host's own variables to PROBLEMS. Returns a rules.Layout (hosts by name,
    racks, spines, fabric-wide settings; node ASNs derived), or None when no
    host is in a fabric group.
    """
    roles = _roles(groups, problems)
    fabric = _read_fabric(hostvars, sorted(roles), problems)
    hosts = {name: read_host(problems, name, roles[name], hostvars.get(name, {})) for name in sorted(roles)}
    if fabric is None:
        return None
    racks, spines = _topology(hosts)
    _assign_node_asns(hosts, fabric)
    return rules.Layout(hosts, racks, spines, fabric)


def _build(hostvars, groups, problems):
    layout = read(hostvars, groups, problems)
    if layout is None:
        return {}, problems
    # Every rule across hosts, in one place (rules.py).
    rules.check(layout, problems)
    _apply_scopes(layout.hosts)
    if problems:
        return {}, problems
    # Weighted ECMP: each rack's bandwidth unit, computed once for the rules and the intents.
    return {name: _intent(host, layout.racks, layout.spines, layout.fabric, layout.units) for name, host in layout.hosts.items()}, problems


# Reading ---------------------------------------------------------------------


def _roles(groups, problems):
    roles = {}
    for group, role in ROLE_GROUPS:
        for name in groups.get(group, []) or []:
            if not isinstance(name, str):
                problems.add(FABRIC, group, name, "is not a host name (inventory host names are strings)")
                continue
            if name in roles:
                both = [g for g, r in ROLE_GROUPS if r in (roles[name], role)]
                problems.add(name, "groups", both, "a host has exactly one fabric role; it is in more than one of fabric_nodes, fabric_tors, fabric_spines")
                continue
            roles[name] = role
    if not roles:
        problems.add(FABRIC, "groups", sorted(map(str, groups)), "no host is in fabric_nodes, fabric_tors or fabric_spines")
    return roles


def _read_fabric(hostvars, names, problems):
    if not names:
        return None
    values = {}
    # Fabric-wide variables only make sense if every host sees the same value;
    # a copy in a subgroup's group_vars silently splitting the fabric is a bug.
    # The value most hosts have is taken as meant; the others are reported.
    for var in FABRIC_VARIABLES:
        seen = [(name, hostvars.get(name, {}).get(var, FABRIC_DEFAULTS.get(var))) for name in names]
        counts = Counter(_canonical(value) for _name, value in seen)
        top = max(counts.values())
        reference, values[var] = next((name, value) for name, value in seen if counts[_canonical(value)] == top)
        why = "differs from its value on %s; fabric-wide variables must be the same for every host (define them once, e.g. in group_vars/all)"
        for name, value in seen:
            if _canonical(value) != _canonical(values[var]):
                problems.add(name, var, HIDDEN if var == "fabric_bgp" else value, why % reference)
    reader = Reader(problems, FABRIC, values)
    pools = _read_pools(reader, values["fabric_anycast_pools"])
    bgp = read_bgp(reader, values["fabric_bgp"])
    scheme, base = read_asn_scheme(reader, values["fabric_node_asn_scheme"], values["fabric_node_asn_base"])
    pod_pools = _read_pod_pools(reader, values["fabric_pod_pools"], pools or [])
    return Fabric(pools, bgp, scheme, base, pod_pools)


def _canonical(value):
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        # Keys of mixed types, or integers too long to print: compare what
        # the report would show.
        return show(value)


def _read_pools(reader, raw):
    """The pools, or None when they are unusable (then VIPs cannot be checked against them)."""
    if raw is None:
        reader.fail("fabric_anycast_pools", None, "is required: the prefixes every VIP must lie in")
        return None
    if not isinstance(raw, (list, tuple)):
        reader.fail("fabric_anycast_pools", raw, "must be a list")
        return None
    pools = []
    for index, item in enumerate(reader.list_of("fabric_anycast_pools", raw)):
        path = "fabric_anycast_pools[%d]" % index
        net = reader.prefix(path, item, "an anycast pool", not_default="an anycast pool holds the VIPs, not every address")
        if net is not None:
            pools.append((net, path))
    # O(n log n): pools sorted by start, not compared pairwise.
    clashes = {}
    for (net, path), (other, other_path) in overlapping(pools):
        clashes.setdefault(path, (net, other, other_path))
    for path, (net, other, other_path) in clashes.items():
        reader.fail(path, str(net), "overlaps %s (%s); anycast pools must be disjoint" % (other_path, other))
    return [n for n, path in pools if path not in clashes]


def _read_pod_pools(reader, raw, anycast_pools):
    """[(network, node prefix length, path)] of fabric_pod_pools: disjoint, outside the anycast pools."""
    if raw is None:
        return []
    if not isinstance(raw, (list, tuple)):
        reader.fail("fabric_pod_pools", raw, "must be a list of prefixes or mappings {prefix, node_prefix_length}")
        return []
    pools = []
    for index, item in enumerate(reader.list_of("fabric_pod_pools", raw)):
        path = "fabric_pod_pools[%d]" % index
        length = None
        if isinstance(item, Mapping):
            unknown = sorted(str(k) for k in item if k not in ("prefix", "node_prefix_length"))
            if unknown:
                reader.fail(path, item, "has unknown keys %s (known: prefix, node_prefix_length)" % ", ".join(unknown))
                continue
            if "node_prefix_length" in item:
                length = item["node_prefix_length"]
                if isinstance(length, bool) or not isinstance(length, int):
                    reader.fail(path + ".node_prefix_length", length, "must be an integer (a prefix length)")
                    continue
            path_prefix, item = path + ".prefix", item.get("prefix")
        else:
            path_prefix = path
        net = reader.prefix(path_prefix, item, "a pod pool", not_default="a pod pool is the cluster's pod CIDR, not every address")
        if net is None:
            continue
        if length is None:
            length, length_path, shown = POD_NODE_PREFIX_LENGTHS[net.version], path_prefix, str(net)
        else:
            length_path, shown = path + ".node_prefix_length", length
        if not net.prefixlen <= length <= net.max_prefixlen:
            why = "the node prefix length %d must lie between the pool's length (%d) and %d" % (length, net.prefixlen, net.max_prefixlen)
            reader.fail(length_path, shown, why)
            continue
        clash = next((p for p in anycast_pools if p.version == net.version and p.overlaps(net)), None)
        if clash is not None:
            reader.fail(path_prefix, str(net), "overlaps anycast pool %s: pod pools and anycast pools must be disjoint" % clash)
            continue
        pools.append((net, length, path_prefix))
    clashes = {}
    for (net, path), (other, other_path) in overlapping([(n, p) for n, _l, p in pools]):
        clashes.setdefault(path, (net, other, other_path))
    for path, (net, other, other_path) in clashes.items():
        reader.fail(path, str(net), "overlaps %s (%s); pod pools must be disjoint" % (other_path, other))
    return [(n, length, p) for n, length, p in pools if p not in clashes]


# Grouping ------------------------------------------------------------------------


def _topology(hosts):
    """Group hosts into racks {(site, rack): {"nodes": [...], "tors": [...]}} and spines {site: [...]}."""
    racks = defaultdict(lambda: {"nodes": [], "tors": []})
    spines = defaultdict(list)
    for host in hosts.values():
        if host.role == "spine" and host.site is not None:
            spines[host.site].append(host)
        elif host.rack is not None and host.site is not None:
            racks[(host.site, host.rack)]["nodes" if host.role == "node" else "tors"].append(host)
    return racks, spines


def _derived_asn(node, fabric):
    """A node ASN that never changes when other nodes or racks come and go.

    per_node: the base plus the node's IPv4 address folded into the span;
    per_rack: the base plus a checksum of "site/rack". Collisions are detected
    (and reported) rather than resolved by renumbering, which would move
    other hosts' ASNs.
    """
    top = 65534 if fabric.asn_base <= 65534 else MAX_ASN - 1
    span = top - fabric.asn_base + 1
    if fabric.asn_scheme == "per_node":
        offset = int(node.ipv4) % span
    else:
        offset = zlib.crc32(("%s/%s" % (node.site, node.rack)).encode()) % span
    asn = fabric.asn_base + offset
    if asn in RESERVED_ASNS:
        asn += 1
    return asn


def _assign_node_asns(hosts, fabric):
    """Give every node without fabric_asn the ASN of the fabric's scheme (collisions are a rule: rules.derived_asns_distinct)."""
    if fabric.asn_scheme is None or fabric.asn_base is None:
        return
    for host in hosts.values():
        if host.role != "node" or host.asn_explicit or host.ipv4 is None or host.rack is None:
            continue
        host.asn = _derived_asn(host, fabric)


def _apply_scopes(hosts):
    """A regional VIP stays only on the nodes of its sites (VIP lists are often shared fabric-wide)."""
    for host in hosts.values():
        if host.role == "node":
            host.vips = [v for v in host.vips if v.sites is None or host.site in v.sites]
        host.freeze()


# Intent ----------------------------------------------------------------------

IDENT_RE = re.compile(r"[^A-Za-z0-9_]")


# BIRD refuses symbols longer than 64 characters (measured: bird -p, 2.0.12).
# Identifiers are cut to this length, leaving room for "_v4" and a "_NN"
# de-duplication suffix; a cut identifier ends in a hash of the whole name,
# so long FQDNs that share a prefix stay distinct and stable.
IDENT_MAX = 48
IDENT_HASH = 8


def _ident(name):
    """A short identifier both BIRD (symbol) and FRR (WORD) accept, derived from a host or peer name."""
    ident = IDENT_RE.sub("_", name)
    ident = ident if ident[:1].isalpha() else "h_" + ident
    if len(ident) > IDENT_MAX:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:IDENT_HASH]
        ident = "%s_%s" % (ident[: IDENT_MAX - IDENT_HASH - 1].rstrip("_"), digest)
    return ident


def _peer(peer, version, local, remote, accept=(), export=(), max_prefixes=None, dynamic=False):
    """A peer's attributes; its id is set by _unique_ids once all peers of the host are known."""
    extra = {"dynamic": True} if dynamic else {}
    return {
        **extra,
        "name": peer.name,
        "role": peer.role,
        "family": "ipv%d" % version,
        "address": str(remote),
        "local_address": str(local),
        "asn": peer.asn,
        "accept": tuple(str(p) for p in accept),
        "export": tuple(str(p) for p in export),
        "max_prefixes": max_prefixes,
    }


def _unique_ids(peers):
    """The Peer records, each with an identifier unique on its host."""
    # Host names that differ only in punctuation would collide as identifiers.
    used = set()
    out = []
    for peer in peers:
        base = ident = _ident(peer["name"]) + "_" + ("v4" if peer["family"] == "ipv4" else "v6")
        count = 1
        while ident in used:
            count += 1
            ident = "%s_%d" % (base, count)
        used.add(ident)
        out.append(intent_types.Peer(id=ident, **peer))
    return tuple(out)


def _node_peers(host, racks):
    peers = []
    for tor in sorted(racks[(host.site, host.rack)]["tors"], key=lambda h: h.name):
        for version, family in FAMILIES:
            local, remote = getattr(host, family), getattr(tor, family)
            if local is None or remote is None:
                continue
            peers.append(_peer(tor, version, local, remote, export=host.prefixes(version)))
    return peers


def _rack_prefixes(members, version):
    """Everything a rack's nodes announce, sorted; computed once per rack and version."""
    key = "prefixes_v%d" % version
    if key not in members:
        members[key] = sorted({p for node in members["nodes"] for p in node.prefixes(version)})
    return members[key]


def _tor_peers(host, racks, spines, fabric):
    members = racks[(host.site, host.rack)]
    peers = []
    for node in sorted(members["nodes"], key=lambda h: h.name):
        for version, family in FAMILIES:
            local, remote = getattr(host, family), getattr(node, family)
            if local is None or remote is None:
                continue
            peers.append(_peer(node, version, local, remote, accept=node.prefixes(version), max_prefixes=fabric.bgp["max_prefixes"], dynamic=fabric.dynamic))
    if host.uplinks:
        by_name = {spine.name: spine for spine in spines.get(host.site, [])}
        for link in host.uplinks:
            for version in LINK_VERSIONS:
                peer = _peer(by_name[link.spine], version, link.interface, link.interface, export=_rack_prefixes(members, version))
                peers.append(dict(peer, interface=link.interface, remote_interface=link.spine_interface))
        return peers
    for spine in sorted(spines.get(host.site, []), key=lambda h: h.name):
        for version, family in FAMILIES:
            local, remote = getattr(host, "uplink_" + family), getattr(spine, family)
            if local is None or remote is None:
                continue
            peers.append(_peer(spine, version, local, remote, export=_rack_prefixes(members, version)))
    return peers


# An unnumbered ToR-spine link is one session over IPv6 link-local addresses
# that carries both families (IPv4 with extended next hop), whatever the rack announces.
LINK_VERSIONS = (4, 6)


def _spine_peers(host, racks, fabric):
    peers = []
    for (site, _rack), members in sorted(racks.items()):
        if site != host.site:
            continue
        # FRR's maximum-prefix takes at most 2^32 - 1. With dynamic node
        # peering the cap must not change with the rack's nodes: the most
        # nodes a ToR accepts (its listen limit).
        nodes = fabric.bgp["listen_limit"] if fabric.dynamic else len(members["nodes"])
        cap = min(fabric.bgp["max_prefixes"] * nodes, MAX_PREFIX_LIMIT)
        for tor in sorted(members["tors"], key=lambda h: h.name):
            for link in tor.uplinks:
                if link.spine != host.name:
                    continue
                for version in LINK_VERSIONS:
                    peer = _peer(tor, version, link.spine_interface, link.spine_interface, accept=_rack_prefixes(members, version), max_prefixes=cap)
                    peers.append(dict(peer, interface=link.spine_interface, remote_interface=link.interface))
            if tor.uplinks:
                continue
            for version, family in FAMILIES:
                local, remote = getattr(host, family), getattr(tor, "uplink_" + family)
                if local is None or remote is None:
                    continue
                peers.append(_peer(tor, version, local, remote, accept=_rack_prefixes(members, version), max_prefixes=cap))
    return peers


def _site_exports(host, racks, version):
    """What a spine announces to its upstreams for one IP version.

    SiteExport entries: the VIPs announced in the site, grouped by how this
    site weighs them, then the pod prefixes (aggregates covering the site's
    pod CIDRs, and the pod CIDRs no aggregate covers). Also the aggregates used.
    """
    vips, pods = {}, set()
    for (site, _rack), members in racks.items():
        if site != host.site:
            continue
        for node in members["nodes"]:
            for vip in node.vips:
                if vip.prefix.version == version:
                    vips[vip.prefix] = vip
            pods.update(n for n, _path in node.pod_cidrs if n.version == version)
    groups = defaultdict(list)
    for prefix, vip in vips.items():
        groups[(dict(vip.prepend).get(host.site, 0), dict(vip.med).get(host.site))].append(prefix)
    entries = [
        intent_types.SiteExport(prefixes=tuple(str(p) for p in sorted(prefixes)), prepend=prepend, med=med)
        for (prepend, med), prefixes in sorted(groups.items(), key=lambda kv: (kv[0][0], -1 if kv[0][1] is None else kv[0][1]))
    ]
    aggregates = [n for n, _path in host.edge.pod_aggregates if n.version == version]
    used = [a for a in aggregates if any(p.subnet_of(a) for p in pods)]
    loose = [p for p in pods if not any(p.subnet_of(a) for a in aggregates)]
    pod_prefixes = sorted(used) + sorted(loose)
    if pod_prefixes:
        entries.append(intent_types.SiteExport(prefixes=tuple(str(p) for p in pod_prefixes), prepend=0, med=None))
    return tuple(entries), tuple(str(a) for a in sorted(used))


def _upstream_peers(host, racks):
    peers = []
    for upstream in host.edge.upstreams:
        version = upstream.address.version
        exports, aggregates = _site_exports(host, racks, version)
        peers.append(
            {
                "name": upstream.name,
                "role": "upstream",
                "family": "ipv%d" % version,
                "address": str(upstream.address),
                "local_address": str(upstream.local),
                "asn": upstream.asn,
                "accept": (str(DEFAULT_ROUTES[version]),) if upstream.imports == "default" else (),
                "export": tuple(p for entry in exports for p in entry.prefixes),
                "export_policy": exports,
                "aggregates": aggregates,
                "max_prefixes": upstream.max_prefixes,
            }
        )
    return peers


# The per-VIP keys that change an announcement: VIPs equal in all of them share an export entry.
ANNOUNCEMENT_KEYS = tuple(f.name for f in intent_types.carried_fields(intent_types.Announcement))


def _export_policy(host, unit):
    """Per IP version, the node's announcements grouped by the announcement keys of their VIPs.

    UNIT: the node's bandwidth unit with weighted ECMP (each entry's link bandwidth is its weight times it), 0 without.
    """
    policy = {}
    plain = tuple(default_value(f) for f in intent_types.carried_fields(intent_types.Announcement))
    plain = tuple(tuple(v) if isinstance(v, list) else v for v in plain)
    for version, family in FAMILIES:
        groups = defaultdict(list)
        for vip in host.vips:
            if vip.prefix.version == version:
                groups[tuple(vip.carried[k] for k in ANNOUNCEMENT_KEYS)].append(str(vip.prefix))
        for net, _path in host.pod_cidrs:
            if net.version == version:
                groups[plain].append(str(net))
        entries = tuple(
            intent_types.ExportEntry(
                prefixes=tuple(sorted(prefixes, key=ipaddress.ip_network)),
                bandwidth=dict(zip(ANNOUNCEMENT_KEYS, key))["weight"] * unit,
                **dict(zip(ANNOUNCEMENT_KEYS, key)),
            )
            for key, prefixes in sorted(groups.items(), key=lambda kv: tuple((v is not None, v) for v in kv[0]))
        )
        if entries:
            policy[family] = entries
    return policy


def _bgp(fabric):
    bgp = dict(fabric.bgp)
    bgp["error_wait_time"] = tuple(bgp["error_wait_time"])
    # Intents become host facts, which verbose runs print: the key itself is
    # handed to the renderer separately (see render.render()).
    bgp["password"] = bgp["password"] is not None
    return intent_types.Bgp(**bgp)


def _vip(vip):
    return intent_types.Vip(
        address=str(vip.prefix.network_address),
        prefix=str(vip.prefix),
        family="ipv%d" % vip.prefix.version,
        **vip.carried,
    )


def _intent(host, racks, spines, fabric, units):
    common = {
        "hostname": host.name,
        "role": host.role,
        "daemon": host.daemon,
        "site": host.site,
        "rack": host.rack,
        "asn": host.asn,
        "router_id": str(host.router_id),
        "ipv4": str(host.ipv4),
        "ipv6": str(host.ipv6) if host.ipv6 is not None else None,
        "bgp": _bgp(fabric),
    }
    if host.role == "node":
        pods = sorted((n for n, _path in host.pod_cidrs), key=lambda n: (n.version, n))
        return intent_types.Intent(
            **common,
            vip_interface=host.vip_interface,
            vips=tuple(_vip(v) for v in sorted(host.vips, key=lambda v: (v.prefix.version, v.prefix))),
            pod_cidrs=tuple(intent_types.PodCidr(prefix=str(n), family="ipv%d" % n.version) for n in pods),
            exports={family: tuple(str(p) for p in host.prefixes(version)) for version, family in FAMILIES},
            export_policy=_export_policy(host, units.get((host.site, host.rack), 0)),
            peers=_unique_ids(_node_peers(host, racks)),
        )
    if host.role == "tor":
        return intent_types.Intent(
            **common,
            uplink_ipv4=str(host.uplink_ipv4) if host.uplink_ipv4 is not None else None,
            uplink_ipv6=str(host.uplink_ipv6) if host.uplink_ipv6 is not None else None,
            peers=_unique_ids(_tor_peers(host, racks, spines, fabric)),
            listen=_listen_ranges(host) if fabric.dynamic else (),
            pool_ranges=_pool_ranges(fabric) if fabric.dynamic else (),
        )
    return intent_types.Intent(
        **common,
        peers=_unique_ids(_spine_peers(host, racks, fabric) + _upstream_peers(host, racks)),
        site_community=host.edge.site_community,
        pool_ranges=_pool_ranges(fabric) if fabric.dynamic else (),
    )


def _listen_ranges(tor):
    """A ToR's rack segments, per IP version (rules.dynamic_tors_have_segments: each has a length)."""
    return tuple(
        intent_types.ListenRange(prefix=str(net), family=family)
        for (_version, family), net in zip(FAMILIES, (tor.ipv4_net, tor.ipv6_net))
        if net is not None and getattr(tor, family) is not None
    )


def _pool_ranges(fabric):
    """What a router of a dynamically peered fabric accepts from below: host routes in the anycast pools, node pod CIDRs in the pod pools.

    The same for every ToR and spine and independent of the nodes, so nodes
    come and go without a router's configuration changing.
    """
    ranges = [(net, net.max_prefixlen, net.max_prefixlen) for net in fabric.pools or ()]
    ranges += [(net, length, length) for net, length, _path in fabric.pod_pools]
    return tuple(
        intent_types.PrefixRange(prefix=str(net), family="ipv%d" % net.version, low=low, high=high)
        for net, low, high in sorted(ranges, key=lambda r: (r[0].version, r[0]))
    )
