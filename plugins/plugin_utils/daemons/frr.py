# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""FRR on nodes, ToRs and spines: the view its template lays out, its defaults and the changes that reset a session."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Optional, Union

from ansible_collections.anycast.fabric.plugins.module_utils._contract import FAMILY_TAG, GSHUT, GSHUT_LIST, peer_group
from ansible_collections.anycast.fabric.plugins.module_utils._daemon_identity import FRR
from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons.base import Driver
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import Bgp, Intent, ListenRange, Peer, as_intent

# A prefix-list, route-map, peer-group or neighbor as the template reads it.
Item = dict[str, Any]

# What FRR 8.x (traditional profile, Debian build) does without being told.
# `show running-config` hides these values, so a rendered line equal to one of
# them would be replayed by frr-reload on every run (and some, like timers,
# reset sessions): such lines are never rendered.
FRR_DEFAULTS = {
    "keepalive_time": 60,
    "hold_time": 180,
    "bfd_interval_ms": 300,
    "bfd_multiplier": 3,
    "ecmp_paths": 256,
    "listen_limit": 100,
}
BFD_PROFILE = "fabric"
# FRR shows the well-known community by name in running-config.
FRR_COMMUNITY_NAMES = {GSHUT: "graceful-shutdown"}
# Lines whose change makes FRR re-establish a session (neighbor or group
# options, the BGP timers): a reset, not just a policy update.
FRR_RESET = re.compile(r"^\s*(?:no )?(?:neighbor (\S+) (?:password|timers|remote-as|update-source|ttl-security|local-as|capability)|(timers bgp))\b")


def _non_default(bgp: Bgp, key: str) -> Optional[int]:
    value: int = getattr(bgp, key)  # one of FRR_DEFAULTS' keys: all integers
    return value if value != FRR_DEFAULTS[key] else None


def _prefix_list(name: str, family: str, prefixes: Iterable[str]) -> Item:
    return {"name": name, "keyword": "ip" if family == "ipv4" else "ipv6", "prefixes": prefixes}


def _route_map_entry(seq: int, family: str, prefix_list: str, communities: Iterable[str] = (), large_communities: Iterable[str] = ()) -> Item:
    return {
        "seq": seq,
        "match": "ip" if family == "ipv4" else "ipv6",
        "prefix_list": prefix_list,
        "communities": [FRR_COMMUNITY_NAMES.get(c, c) for c in communities],
        "large_communities": list(large_communities),
    }


def frr_view(intent: Intent) -> dict[str, Any]:
    """Prefix-lists, route-maps, peer-groups and neighbors of an FRR host.

    Peers are grouped by role and address family (NODES-V4, TORS-V6, ...):
    session settings (BFD, password, GTSM) and the outbound policy live on the
    group; what is accepted from each peer is its own prefix-list.
    """
    bgp = intent.bgp
    prefix_lists: list[Item] = []
    route_maps: list[Item] = []
    groups: dict[str, Item] = {}
    neighbors: list[Item] = []
    needs_deny_all = needs_gshut_list = False

    pool_ranges = _pool_prefix_lists(intent, prefix_lists)
    if intent.listen:
        needs_deny_all = needs_gshut_list = True
        for listen in intent.listen:
            groups.update(_listen_group(intent, listen, pool_ranges, route_maps))
    for peer in intent.peers:
        fam = peer.family
        # Unnumbered links: one session, and one peer-group, for both families.
        group_name = peer_group(peer.role, None if peer.interface else fam)  # type: ignore[no-untyped-call]  # _contract: not annotated yet
        if peer.dynamic:
            # Accepted through the group's listen range: no line names the node.
            continue
        group = groups.get(group_name)
        if group is None:
            # Upstreams are outside the fabric: none of its session settings
            # (key, BFD, GTSM) apply to them.
            group = groups[group_name] = {
                "name": group_name,
                "family": None if peer.interface else fam,
                "afs": {},  # {family: the group's route-map out in it}
                "route_map_in": None,
                "fabric": peer.role != "upstream",
                "aggregates": peer.aggregates,
                "remote_as": None,
                "listen": None,
                "max_prefixes": None,
            }
        if fam not in group["afs"]:
            if peer.role == "spine" and intent.pool_ranges:
                # Dynamic node peering: what the ToR announces up follows the pools, not its nodes.
                group["afs"][fam] = _export_route_map(intent, peer, prefix_lists, route_maps) if fam in pool_ranges else "DENY-ALL"
                needs_deny_all = needs_deny_all or fam not in pool_ranges
            elif peer.export:
                group["afs"][fam] = _export_route_map(intent, peer, prefix_lists, route_maps)
            else:
                group["afs"][fam] = "DENY-ALL"
                needs_deny_all = True
        neighbor: Item = {
            "address": peer.address,
            "asn": peer.asn,
            "group": group_name,
            "family": fam,
            "description": peer.name,
            # An unnumbered session has no source address: it runs over the interface (extended next hop is implied).
            "interface": bool(peer.interface),
            "update_source": None if peer.interface else peer.local_address,
            "route_map_in": "DENY-ALL",
            "max_prefixes": peer.max_prefixes,
        }
        if peer.role == "tor" and fam in pool_ranges:
            # Dynamic node peering: a spine accepts what the pools allow, the same from every ToR.
            name = "FROM-%s" % peer_group(peer.role, fam)  # type: ignore[no-untyped-call]
            route_maps.append(_accept_route_map(name, fam, pool_ranges[fam]))
            needs_gshut_list = True
            neighbor["route_map_in"] = name
        elif peer.accept:
            # Peer ids are unique per host; upper-casing them could merge n1 and N1.
            name = "FROM-%s" % peer.id
            prefix_lists.append(_prefix_list(name, fam, peer.accept))
            route_maps.append(_accept_route_map(name, fam, name))
            needs_gshut_list = True
            neighbor["route_map_in"] = name
        else:
            needs_deny_all = True
        neighbors.append(neighbor)

    redistribute: dict[str, str] = {}
    networks: dict[str, list[str]] = {}
    if intent.role == "node":
        for fam, tag in FAMILY_TAG.items():
            vips = [v.prefix for v in intent.vips if v.family == fam]
            if vips:
                # VIPs are announced while their address sits on the VIP
                # interface (a connected route), so withdrawing the address
                # withdraws the route.
                name = "VIPS-%s" % tag
                prefix_lists.append(_prefix_list(name, fam, vips))
                entry = _route_map_entry(10, fam, name)
                # Only from the VIP interface: the same address elsewhere
                # (say a LoadBalancer IP on kube-ipvs0) is not a healthy VIP.
                entry["interface"] = intent.vip_interface
                route_maps.append({"name": name, "action": "permit", "entries": [entry]})
                redistribute[fam] = name
            pods = [p.prefix for p in intent.pod_cidrs if p.family == fam]
            if pods:
                networks[fam] = pods
    timers = (bgp.keepalive_time, bgp.hold_time)
    if needs_deny_all:
        route_maps.append({"name": "DENY-ALL", "action": "deny", "entries": [{"seq": 10}]})

    return {
        "prefix_lists": _dedupe_by_name(prefix_lists),
        "community_lists": [{"name": GSHUT_LIST, "community": FRR_COMMUNITY_NAMES[GSHUT]}] if needs_gshut_list else [],
        "route_maps": _dedupe_by_name(route_maps),
        "groups": sorted(groups.values(), key=lambda g: g["name"]),
        "aggregates": dict((fam, sorted(set(a for g in groups.values() if g["family"] == fam for a in g["aggregates"]))) for fam in FAMILY_TAG),
        "neighbors": neighbors,
        # Unnumbered neighbors are declared once, though they have a session record per family.
        "sessions": _dedupe_neighbors(neighbors),
        "families": [fam for fam in FAMILY_TAG if any(fam in g["afs"] for g in groups.values())],
        "redistribute": redistribute,
        "networks": networks,
        # Pod CIDRs are announced unconditionally (BIRD does the same with
        # static routes); import-check would hold them back until some other
        # daemon installs them in the RIB.
        "no_import_check": bool(networks),
        "timers": None if timers == (FRR_DEFAULTS["keepalive_time"], FRR_DEFAULTS["hold_time"]) else timers,
        "bfd": {"interval": _non_default(bgp, "bfd_interval_ms"), "multiplier": _non_default(bgp, "bfd_multiplier")} if bgp.bfd else None,
        "bfd_profile": BFD_PROFILE,
        "ecmp_paths": _non_default(bgp, "ecmp_paths") if intent.role != "node" else None,
        "multipath_relax": intent.role != "node",
        # Weighted ECMP off: a router splits equally even over paths that carry link bandwidth.
        "ignore_bandwidth": intent.role != "node" and not bgp.weighted_ecmp,
        "listen_limit": intent.bgp.listen_limit if intent.listen and intent.bgp.listen_limit != FRR_DEFAULTS["listen_limit"] else None,
    }


def _accept_route_map(name: str, family: str, prefix_list: str) -> Item:
    """What a router accepts from a peer below it: PREFIX_LIST, a draining peer's paths (graceful shutdown) as a backup out of ECMP."""
    gshut = _route_map_entry(5, family, prefix_list)
    gshut.update(community_list=GSHUT_LIST, local_preference=0)
    return {"name": name, "action": "permit", "entries": [gshut, _route_map_entry(10, family, prefix_list)]}


def _pool_prefix_lists(intent: Intent, prefix_lists: list[Item]) -> dict[str, str]:
    """Dynamic node peering: {family: name of the prefix-list of the pools' ranges} (none in a static fabric)."""
    names: dict[str, str] = {}
    for fam, tag in FAMILY_TAG.items():
        ranges = ["%s ge %d le %d" % (r.prefix, r.low, r.high) for r in intent.pool_ranges if r.family == fam]
        if ranges:
            names[fam] = "POOLS-%s" % tag
            prefix_lists.append(_prefix_list(names[fam], fam, ranges))
    return names


def _listen_group(intent: Intent, listen: ListenRange, pool_ranges: Mapping[str, str], route_maps: list[Item]) -> dict[str, Item]:
    """The node peer-group of one family of a dynamically peered ToR: its listen range and every policy a static node session has."""
    fam = listen.family
    name = peer_group("node", fam)  # type: ignore[no-untyped-call]
    group: Item = {
        "name": name,
        "family": fam,
        "afs": {fam: "DENY-ALL"},
        "fabric": True,
        "aggregates": (),
        # Node ASNs are derived per node or per rack: any ASN but the ToR's own.
        "remote_as": "external",
        "listen": listen.prefix,
        "route_map_in": "DENY-ALL",
        "max_prefixes": intent.bgp.max_prefixes,
    }
    if fam in pool_ranges:
        group["route_map_in"] = "FROM-%s" % name
        route_maps.append(_accept_route_map(group["route_map_in"], fam, pool_ranges[fam]))
    return {name: group}


def _export_route_map(intent: Intent, peer: Peer, prefix_lists: list[Item], route_maps: list[Item]) -> str:
    fam = peer.family
    tag = FAMILY_TAG[fam]
    if peer.role == "upstream":
        return _upstream_route_map(intent, peer, prefix_lists, route_maps)
    if intent.role == "node":
        # Nodes tag each VIP with its communities: one entry per set of them.
        name = "EXPORT-%s" % tag
        entries: list[Item] = []
        for index, entry in enumerate(intent.export_policy.get(fam, ()), start=1):
            list_name = "%s-%d" % (name, index)
            prefix_lists.append(_prefix_list(list_name, fam, entry.prefixes))
            route_map_entry = _route_map_entry(10 * index, fam, list_name, entry.communities, entry.large_communities)
            # Redistributed connected routes get origin "incomplete", network
            # statements and BIRD's routes "IGP": left alone, a ToR would
            # prefer BIRD nodes on origin and never ECMP over FRR nodes.
            route_map_entry["origin_igp"] = True
            if entry.bandwidth:
                # Weighted ECMP: the node's weight, as link bandwidth (model/weights.py).
                route_map_entry["extcommunity"] = "bandwidth %d" % entry.bandwidth
            entries.append(route_map_entry)
        if not entries:
            # A drained node without pod CIDRs announces nothing: an explicit
            # deny, rather than a route-map the neighbor line names but that
            # has no entries.
            entries.append({"seq": 10, "action": "deny"})
    elif intent.pool_ranges:
        # Dynamic node peering: a ToR announces up whatever its nodes may announce, by the pools.
        name = "TO-%s" % peer_group(peer.role, fam)  # type: ignore[no-untyped-call]
        entries = [_route_map_entry(10, fam, "POOLS-%s" % tag)]
    else:
        name = "TO-%s" % peer_group(peer.role, fam)  # type: ignore[no-untyped-call]
        prefix_lists.append(_prefix_list(name, fam, peer.export))
        entries = [_route_map_entry(10, fam, name)]
    if intent.role == "tor" and intent.bgp.weighted_ecmp:
        # Weighted ECMP: each VIP goes up with the sum of its ECMP set's link bandwidths (a
        # single path keeps its node's own), which the spines weight this ToR by.
        for up in entries:
            up["extcommunity"] = "bandwidth cumulative"
    route_maps.append({"name": name, "action": "permit", "entries": entries})
    return name


def _upstream_route_map(intent: Intent, peer: Peer, prefix_lists: list[Item], route_maps: list[Item]) -> str:
    """What a site announces upstream: its VIPs (weighted per VIP where asked) and pod prefixes, tagged with the site's community."""
    fam = peer.family
    name = "TO-UPSTREAMS-%s" % FAMILY_TAG[fam]
    communities = [intent.site_community] if intent.site_community else []
    entries: list[Item] = []
    for index, policy in enumerate(peer.export_policy, start=1):
        list_name = "%s-%d" % (name, index)
        prefix_lists.append(_prefix_list(list_name, fam, policy.prefixes))
        entry = _route_map_entry(10 * index, fam, list_name, communities)
        if policy.prepend:
            entry["prepend"] = " ".join([str(intent.asn)] * policy.prepend)
        if policy.med is not None:
            entry["med"] = policy.med
        if intent.bgp.weighted_ecmp:
            # The fabric's weights (link bandwidth) are its own: they do not leave the site.
            entry["extcommunity"] = "none"
        entries.append(entry)
    if not entries:
        entries.append({"seq": 10, "action": "deny"})
    route_maps.append({"name": name, "action": "permit", "entries": entries})
    return name


def _dedupe_neighbors(neighbors: Iterable[Item]) -> list[Item]:
    """NEIGHBORS once each by address, in order (an unnumbered link's families share one declaration)."""
    seen: dict[str, Item] = {}
    for neighbor in neighbors:
        seen.setdefault(neighbor["address"], neighbor)
    return list(seen.values())


def _dedupe_by_name(items: Iterable[Item]) -> list[Item]:
    seen: dict[str, Item] = {}
    for item in items:
        seen.setdefault(item["name"], item)
    return sorted(seen.values(), key=lambda item: item["name"])


class Frr(Driver):
    identity = FRR
    roles = frozenset(["node", "tor", "spine"])
    default_for = frozenset(["tor", "spine"])
    template = "frr.conf.j2"
    commands_title = "`frr-reload.py` would run:"

    def view(self, intent: Intent) -> dict[str, Any]:
        return frr_view(intent)

    def resets(self, intent: Union[Intent, Mapping[str, Any]], observed: Mapping[str, Any]) -> set[str]:
        config = observed.get("config") or {}
        sessions = (observed.get("bgp") or {}).get("sessions") or []
        groups = dict((p.address, peer_group(p.role, None if p.interface else p.family)) for p in as_intent(intent).peers)  # type: ignore[no-untyped-call]
        peers: set[str] = set()
        for command in config.get("commands") or []:
            match = FRR_RESET.match(command)
            if not match:
                continue
            if match.group(2):
                return set(s["peer"] for s in sessions)
            target = match.group(1)
            for session in sessions:
                if target in (session["peer"], groups.get(session["peer"])):
                    peers.add(session["peer"])
        return peers
