# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cross-host rules: what must hold between the hosts of a fabric.

Each host's own variables are checked while it is read (hosts.py, edge.py,
settings.py); the rules here compare hosts with each other and with the
fabric-wide settings: unique addresses and router ids, shared segments, ASNs,
VIPs against the anycast pools, overlaps of pools, pods, aggregates and
upstream links, and what each host's routing daemon can do. model.build()
groups the hosts into a Layout and calls check() once; check() runs every
rule of RULES in order, so the report lists problems in a stable order.

Every rule is a function rule(layout, problems) whose docstring states the
rule. Every rule is linear in the size of the fabric (times the log of it
where it sorts): dictionaries, sorted indexes and sweeps (overlaps.py),
never a comparison of every host with every other. The only products are
with a rack's own ToRs or a site's own spines (a few each), and with the
anycast pools (a handful, fabric-wide).
"""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property

from ansible_collections.anycast.fabric.plugins.module_utils._contract import FAMILIES
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.hosts import daemon_problems
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.problems import FABRIC
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.overlaps import Index, covered, overlapping
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import uplinks, weights


class Layout:
    """The hosts of a fabric, grouped the way the rules (and the intents) need them.

    hosts: {name: Host}, in name order; racks: {(site, rack): {"nodes": [...],
    "tors": [...]}}; spines: {site: [spine, ...]}; fabric: the fabric-wide
    settings (pools, bgp, asn_scheme, asn_base). Lists derived from the hosts
    that several rules read are computed once, on first use.
    """

    def __init__(self, hosts, racks, spines, fabric):
        self.hosts = hosts
        self.racks = racks
        self.spines = spines
        self.fabric = fabric

    @cached_property
    def peering(self):
        """(address, (host name, variable path)) of every address a host peers from, in host order."""
        return [(address, (host.name, var)) for host in self.hosts.values() for address, var in peering_addresses(host)]

    @cached_property
    def owners(self):
        """{address: (host name, variable path)}: the first host peering from each address."""
        owners = {}
        for address, owner in self.peering:
            owners.setdefault(address, owner)
        return owners

    @cached_property
    def pools(self):
        """The anycast pools as an Index (empty when the pools are unusable)."""
        return Index(self.fabric.pools or [])

    @cached_property
    def units(self):
        """Weighted ECMP: {(site, rack): the rack's bandwidth unit} (model/weights.py); {} when weighting is off."""
        return weights.units(self.racks) if self.fabric.bgp.get("weighted_ecmp") else {}

    @cached_property
    def pods(self):
        """(network, (host name, variable path)) of every pod CIDR, in host order."""
        return [(net, (host.name, path)) for host in self.hosts.values() for net, path in host.pod_cidrs]


def peering_addresses(host):
    """(address, variable path) of every address HOST peers from."""
    for var in ("fabric_ipv4", "fabric_ipv6", "fabric_uplink_ipv4", "fabric_uplink_ipv6"):
        address = getattr(host, var[len("fabric_") :])
        if address is not None:
            yield address, var
    for upstream in host.edge.upstreams:
        yield upstream.local, upstream.path + ".local_address"


# Addresses and router ids ------------------------------------------------------


def peering_addresses_unique(layout, problems):
    """Every peering address belongs to one host (the first one in name order keeps it)."""
    seen = set()
    for address, (name, var) in layout.peering:
        if address in seen:
            problems.add(name, var, str(address), "is already used by %s (%s); peering addresses must be unique" % layout.owners[address])
        seen.add(address)


def upstreams_outside_fabric(layout, problems):
    """An upstream router (outside the fabric, possibly shared by spines) holds no peering address of the fabric."""
    for host in layout.hosts.values():
        for upstream in host.edge.upstreams:
            if upstream.address in layout.owners:
                why = "is the address of %s (%s): an upstream router is outside the fabric" % layout.owners[upstream.address]
                problems.add(host.name, upstream.path + ".address", str(upstream.address), why)


def router_ids_unique(layout, problems):
    """Router ids are unique; a duplicate is blamed on a host that set fabric_router_id."""
    # Not on one that merely defaults to its address: two defaults colliding
    # are already reported as a duplicate fabric_ipv4.
    router_ids = {}
    for host in sorted(layout.hosts.values(), key=lambda h: h.router_id_explicit):
        if host.router_id is None:
            continue
        other = router_ids.get(host.router_id)
        if other is None:
            router_ids[host.router_id] = host.name
        elif host.router_id_explicit:
            why = "is also the router id of %s; router ids must be unique" % other
            problems.add(host.name, "fabric_router_id", str(host.router_id), why)


# Topology ------------------------------------------------------------------------


def racks_have_nodes_and_tors(layout, problems):
    """Every rack holds at least one node and at least one ToR."""
    for (site, rack), members in layout.racks.items():
        if not members["tors"]:
            for node in members["nodes"]:
                problems.add(node.name, "fabric_rack", rack, "no ToR (fabric_tors) serves rack '%s' of site '%s'" % (rack, site))
        if not members["nodes"]:
            for tor in members["tors"]:
                problems.add(tor.name, "fabric_rack", rack, "no node (fabric_nodes) is in rack '%s' of site '%s'" % (rack, site))


def spine_sites_have_tors(layout, problems):
    """Every site with spines has ToRs for them to peer with."""
    tor_sites = {h.site for h in layout.hosts.values() if h.role == "tor"}
    for site, members in layout.spines.items():
        if site not in tor_sites:
            for spine in members:
                problems.add(spine.name, "fabric_site", site, "no ToR (fabric_tors) is in this site, so the spine has nobody to peer with")


def tor_uplinks_ipv4_present(layout, problems):
    """A ToR of a site with spines has fabric_uplink_ipv4 to peer with them from."""
    for (site, _rack), members in layout.racks.items():
        for tor in members["tors"]:
            if layout.spines.get(site) and tor.uplink_ipv4 is None and tor.ipv4 is not None and not tor.uplinks:
                why = "is required: site '%s' has spines (%s) and a ToR peers with them from this address"
                problems.add(tor.name, "fabric_uplink_ipv4", None, why % (site, ", ".join(s.name for s in layout.spines[site])))


def unnumbered_links_consistent(layout, problems):
    """A ToR's declared links name spines of its site, each spine interface once, every spine linked, no uplink addresses beside them."""
    uplinks.link_problems(layout, problems)


# Segments and address families ----------------------------------------------------


def _same_segment(problems, host, var, address, network, peer, peer_address, peer_network):
    # The peer's segment first: a ToR's (or spine's) prefix length is the
    # authority on its segment, and the one to name in the message.
    for net in (peer_network, network):
        if net is not None and address is not None and peer_address is not None and (address not in net or peer_address not in net):
            problems.add(host.name, var, str(address), "is not on the same segment as %s (%s, segment %s)" % (peer.name, peer_address, net))
            return
    # Written without a prefix length, the address may still be the peer
    # segment's network or broadcast address.
    if (
        peer_network is not None
        and network is None
        and peer_network.num_addresses > 2
        and address in (peer_network.network_address, peer_network.broadcast_address)
    ):
        problems.add(host.name, var, str(address), "is the network or broadcast address of %s's segment %s" % (peer.name, peer_network))


def node_segments(layout, problems):
    """A node's address is on the segment of every ToR of its rack, per IP version."""
    for members in layout.racks.values():
        for node in members["nodes"]:
            for tor in members["tors"]:
                _same_segment(problems, node, "fabric_ipv4", node.ipv4, node.ipv4_net, tor, tor.ipv4, tor.ipv4_net)
                _same_segment(problems, node, "fabric_ipv6", node.ipv6, node.ipv6_net, tor, tor.ipv6, tor.ipv6_net)


def tors_ipv6_for_ipv6_nodes(layout, problems):
    """A ToR has fabric_ipv6 when a node of its rack peers over IPv6."""
    for members in layout.racks.values():
        for node in members["nodes"]:
            for tor in members["tors"]:
                if node.ipv6 is not None and tor.ipv6 is None:
                    problems.add(tor.name, "fabric_ipv6", None, "is required: node %s of its rack peers over IPv6 (fabric_ipv6 = %s)" % (node.name, node.ipv6))


def ipv6_prefixes_have_sessions(layout, problems):
    """A node with an IPv6 VIP or pod CIDR has an IPv6 session (fabric_ipv6) to announce it on."""
    for members in layout.racks.values():
        for node in members["nodes"]:
            if node.ipv6 is not None:
                continue
            for vip in node.vips:
                if vip.prefix.version == 6:
                    why = "is an IPv6 VIP but the node has no IPv6 session (set fabric_ipv6)"
                    problems.add(node.name, vip.address_path, str(vip.prefix.network_address), why)
            for net, path in node.pod_cidrs:
                if net.version == 6:
                    problems.add(node.name, path, str(net), "is an IPv6 pod CIDR but the node has no IPv6 session (set fabric_ipv6)")


def uplink_segments(layout, problems):
    """A ToR's uplink address is on the segment of every spine of its site, per IP version."""
    for (site, _rack), members in layout.racks.items():
        for tor in members["tors"]:
            for spine in layout.spines.get(site, []):
                _same_segment(problems, tor, "fabric_uplink_ipv4", tor.uplink_ipv4, tor.uplink_ipv4_net, spine, spine.ipv4, spine.ipv4_net)
                _same_segment(problems, tor, "fabric_uplink_ipv6", tor.uplink_ipv6, tor.uplink_ipv6_net, spine, spine.ipv6, spine.ipv6_net)


def _racks_with_ipv6(layout):
    return [(site, members) for (site, _rack), members in layout.racks.items() if any(n.prefixes(6) for n in members["nodes"])]


def spines_ipv6_for_ipv6_racks(layout, problems):
    """A spine has fabric_ipv6 when a rack of its site announces IPv6 prefixes through a numbered ToR."""
    for site, members in _racks_with_ipv6(layout):
        for tor in members["tors"]:
            if tor.uplinks:
                continue  # unnumbered links carry IPv6 over link-local addresses
            for spine in layout.spines.get(site, []):
                if spine.ipv6 is None:
                    problems.add(spine.name, "fabric_ipv6", None, "is required: rack '%s' announces IPv6 prefixes that reach the spines over IPv6" % tor.rack)


def tor_uplinks_ipv6_for_ipv6_racks(layout, problems):
    """A ToR has fabric_uplink_ipv6 when its rack announces IPv6 prefixes and its site has spines."""
    for site, members in _racks_with_ipv6(layout):
        for tor in members["tors"]:
            if layout.spines.get(site) and tor.uplink_ipv6 is None and not tor.uplinks:
                problems.add(tor.name, "fabric_uplink_ipv6", None, "is required: rack '%s' announces IPv6 prefixes and site '%s' has spines" % (tor.rack, site))


# ASNs ----------------------------------------------------------------------------


def derived_asns_distinct(layout, problems):
    """Node ASNs derived by fabric_node_asn_scheme do not collide (per_node: between nodes; per_rack: between racks)."""
    fabric = layout.fabric
    if fabric.asn_scheme is None or fabric.asn_base is None:
        return
    derived = {}
    for host in layout.hosts.values():
        # The nodes model.build() derived an ASN for.
        if host.role != "node" or host.asn_explicit or host.ipv4 is None or host.rack is None:
            continue
        key = host.name if fabric.asn_scheme == "per_node" else (host.site, host.rack)
        other = derived.get(host.asn)
        if other is not None and other[0] != key:
            problems.add(
                host.name,
                "fabric_asn",
                host.asn,
                "the %s ASN derived for this node is also derived for %s; set fabric_asn explicitly for one of them" % (fabric.asn_scheme, other[1]),
            )
        derived.setdefault(host.asn, (key, host.name))


def node_asns_not_infrastructure(layout, problems):
    """A node's ASN is not the ASN of a ToR or spine of its site (nodes peer over eBGP)."""
    infra = defaultdict(dict)  # site -> {asn: host name} for ToRs and spines
    for host in layout.hosts.values():
        if host.role != "node" and host.asn is not None:
            infra[host.site].setdefault(host.asn, host.name)
    for (site, _rack), members in layout.racks.items():
        for node in members["nodes"]:
            if node.asn is not None and node.asn in infra[site]:
                problems.add(node.name, "fabric_asn", node.asn, "is the ASN of %s; nodes need their own ASN for eBGP with their ToRs" % infra[site][node.asn])


def tor_asns_differ_from_spines(layout, problems):
    """A ToR's ASN is not the ASN of a spine of its site (they peer over eBGP)."""
    for (site, _rack), members in layout.racks.items():
        for tor in members["tors"]:
            for spine in layout.spines.get(site, []):
                if tor.asn is not None and tor.asn == spine.asn:
                    problems.add(tor.name, "fabric_asn", tor.asn, "is also the ASN of spine %s; ToRs and spines peer over eBGP" % spine.name)


# VIPs ----------------------------------------------------------------------------


def prefix_counts_within_cap(layout, problems):
    """A host announces at most fabric_bgp.max_prefixes prefixes per IP version (its ToRs' cap)."""
    cap = layout.fabric.bgp["max_prefixes"]
    if cap is None:
        return
    for host in layout.hosts.values():
        for version, family in FAMILIES:
            count = len(host.prefixes(version))
            if count > cap:
                why = "announces %d %s prefixes (VIPs and pod CIDRs), more than fabric_bgp.max_prefixes (%d): its ToRs would drop the session"
                problems.add(host.name, "fabric_vips", count, why % (count, family, cap))


def vips_in_pools(layout, problems):
    """Every VIP lies in an anycast pool of its IP version."""
    pools = layout.fabric.pools
    if pools is None:
        return
    for host in layout.hosts.values():
        for vip in host.vips:
            if not any(pool.version == vip.prefix.version and vip.prefix.subnet_of(pool) for pool in pools):
                listed = ", ".join(str(p) for p in pools if p.version == vip.prefix.version) or "none of IPv%d" % vip.prefix.version
                problems.add(host.name, vip.address_path, str(vip.prefix.network_address), "is outside every anycast pool (fabric_anycast_pools: %s)" % listed)


def shared_vips_alike(layout, problems):
    """Every node announcing the same VIP describes it the same way (name, communities, sites, prepends, MEDs)."""
    first = {}
    for host in layout.hosts.values():
        for vip in host.vips:
            if vip.prefix not in first:
                first[vip.prefix] = (host.name, vip)
                continue
            owner, other = first[vip.prefix]
            if other.attributes() != vip.attributes():
                why = "is also a VIP of %s (%s) with different name or communities; every node announcing a VIP must describe it the same way"
                problems.add(host.name, vip.path, str(vip.prefix.network_address), why % (owner, other.path))


# Overlaps ------------------------------------------------------------------------


def _infrastructure(layout):
    """(address, (host name, variable path)) of every infrastructure address: peering addresses, then upstream routers, per host."""
    infra = []
    for host in layout.hosts.values():
        infra.extend((address, (host.name, var)) for address, var in peering_addresses(host))
        infra.extend((upstream.address, (host.name, upstream.path + ".address")) for upstream in host.edge.upstreams)
    return infra


def infrastructure_outside_pools(layout, problems):
    """No infrastructure address (peering address or upstream router) lies in an anycast pool."""
    for address, (name, var) in _infrastructure(layout):
        pool = layout.pools.overlap(address)
        if pool is not None:
            problems.add(name, var, str(address), "lies in anycast pool %s; infrastructure addresses must stay out of the anycast pools" % pool)


def vips_not_infrastructure(layout, problems):
    """No VIP is an infrastructure address (peering address or upstream router)."""
    owners = {}
    for address, owner in _infrastructure(layout):
        owners.setdefault(address, owner)
    for host in layout.hosts.values():
        for vip in host.vips:
            address = vip.prefix.network_address
            if address in owners:
                why = "is the address of %s (%s); a VIP cannot be an infrastructure address"
                problems.add(host.name, vip.address_path, str(address), why % owners[address])


def pods_outside_pools(layout, problems):
    """No pod CIDR overlaps an anycast pool (pod CIDRs and VIPs share no address)."""
    for net, (name, path) in layout.pods:
        pool = layout.pools.overlap(net)
        if pool is not None:
            problems.add(name, path, str(net), "overlaps anycast pool %s; pod CIDRs and VIPs must not share addresses" % pool)


def pods_cover_no_infrastructure(layout, problems):
    """No pod CIDR covers an infrastructure address (peering address or upstream router)."""
    for (net, (name, path)), (address, owner) in covered(layout.pods, _infrastructure(layout)):
        problems.add(name, path, str(net), "covers %s, the address of %s (%s); pod CIDRs must not cover infrastructure addresses" % ((address,) + owner))


def edges_cover_no_fabric_address(layout, problems):
    """A spine's pod aggregates and upstream links cover none of the fabric's own addresses (an upstream link may share a spine segment)."""
    # The aggregate is announced upstream; a link that overlaps a rack
    # segment makes that segment unreachable. The spines' own side of the
    # upstream links is not a fabric address here.
    hosts = layout.hosts.values()
    fabric_addresses = [(address, owner) for address, owner in layout.peering if not owner[1].startswith("fabric_upstreams")]
    edges = [(net, (h.name, path, str(net))) for h in hosts for net, path in h.edge.pod_aggregates]
    edges += [
        (u.local_net, (h.name, u.path + ".local_address", "%s/%d" % (u.local, u.local_net.prefixlen)))
        for h in hosts
        for u in h.edge.upstreams
        if u.local_net is not None
    ]
    # An upstream link may share the spine's own segment (the spines, ToR
    # uplinks and a transit router on one LAN), never a rack segment.
    rack_addresses = {owner for _address, owner in fabric_addresses if owner[1] in ("fabric_ipv4", "fabric_ipv6") and layout.hosts[owner[0]].role != "spine"}

    def _allowed(edge, address_owner):
        return edge[0] == address_owner[0] or (".local_address" in edge[1] and address_owner not in rack_addresses)

    for (_net, (name, path, shown)), (address, owner) in covered(edges, fabric_addresses, skip=_allowed):
        what = "aggregates" if "aggregates" in path else "upstream links"
        problems.add(name, path, shown, "covers %s, the address of %s (%s); %s must not cover the fabric's own addresses" % ((address,) + owner + (what,)))


def pods_disjoint(layout, problems):
    """Every node owns its pod CIDRs alone: no pod CIDR overlaps another node's."""
    for (net, (name, path)), (other, (owner, _path)) in overlapping(layout.pods):
        if owner != name:  # overlaps within one node are reported while reading it
            problems.add(name, path, str(net), "overlaps a pod CIDR of %s (%s); every node owns its pod CIDRs alone" % (owner, other))


# The edge of each site -----------------------------------------------------------


def vip_scopes_name_sites(layout, problems):
    """A VIP's sites, prepends and MEDs name sites that have nodes."""
    sites = sorted({h.site for h in layout.hosts.values() if h.role == "node" and h.site is not None})
    for host in layout.hosts.values():
        for vip in host.vips:
            named = list(vip.sites or ()) + [site for site, _n in vip.prepend + vip.med]
            for site in sorted(set(named) - set(sites)):
                why = "names site '%s', which has no nodes (sites: %s)" % (site, ", ".join(sites))
                problems.add(host.name, vip.path, str(vip.prefix.network_address), why)


def site_communities_agree(layout, problems):
    """The spines of a site set the same fabric_site_community."""
    for site, members in layout.spines.items():
        if len({s.edge.site_community for s in members}) > 1:
            for spine in members:
                problems.add(spine.name, "fabric_site_community", spine.edge.site_community, "differs between the spines of site '%s'" % site)


def upstreams_external(layout, problems):
    """An upstream's ASN is not its spine's own (upstreams peer over eBGP)."""
    for members in layout.spines.values():
        for spine in members:
            for upstream in spine.edge.upstreams:
                if upstream.asn == spine.asn:
                    problems.add(spine.name, upstream.path + ".asn", upstream.asn, "is the spine's own ASN; upstreams peer over eBGP")


def aggregates_outside_pools(layout, problems):
    """No pod aggregate of a spine overlaps an anycast pool."""
    pools = layout.fabric.pools or []
    for members in layout.spines.values():
        for spine in members:
            for net, path in spine.edge.pod_aggregates:
                pool = next((p for p in pools if p.version == net.version and p.overlaps(net)), None)
                if pool is not None:
                    problems.add(spine.name, path, str(net), "overlaps anycast pool %s" % pool)


# Dynamic node peering ----------------------------------------------------------------


def dynamic_tors_have_segments(layout, problems):
    """With dynamic node peering, every ToR's fabric_ipv4/fabric_ipv6 carries its segment's length: the listen range."""
    if not layout.fabric.dynamic:
        return
    for members in layout.racks.values():
        for tor in members["tors"]:
            for var, address, net in (("fabric_ipv4", tor.ipv4, tor.ipv4_net), ("fabric_ipv6", tor.ipv6, tor.ipv6_net)):
                if address is None:
                    continue
                if net is None or net.prefixlen >= net.max_prefixlen - 1:
                    why = (
                        "needs the rack segment's prefix length (e.g. %s/24 or /64): with fabric_bgp.node_peering dynamic the ToR "
                        "accepts its nodes from that segment (its listen range), and a /%d has no room for nodes"
                    )
                    problems.add(tor.name, var, str(address), why % (address, address.max_prefixlen if net is None else net.prefixlen))


def pods_in_pod_pools(layout, problems):
    """Every pod CIDR lies in a fabric_pod_pools entry of its IP version at that pool's node prefix length."""
    # Checked when pod pools are given, and always with dynamic node peering:
    # ToRs and spines then accept pod prefixes only by the pools, so a pod CIDR
    # outside them would be accepted by the model and dropped by the fabric.
    pools = layout.fabric.pod_pools
    if not pools and not layout.fabric.dynamic:
        return
    for net, (name, path) in layout.pods:
        pool = next(((p, length) for p, length, _path in pools if p.version == net.version and net.subnet_of(p)), None)
        if pool is None:
            listed = ", ".join(str(p) for p, _l, _p in pools if p.version == net.version) or "none of IPv%d" % net.version
            why = "is outside every pod pool (fabric_pod_pools: %s)" % listed
            if layout.fabric.dynamic:
                why += "; with fabric_bgp.node_peering dynamic the ToRs accept pod CIDRs only inside the pod pools"
            problems.add(name, path, str(net), why)
        elif net.prefixlen != pool[1]:
            problems.add(name, path, str(net), "is a /%d, but pod pool %s hands nodes /%d CIDRs (its node_prefix_length)" % (net.prefixlen, pool[0], pool[1]))


def pod_pools_hold_no_infrastructure(layout, problems):
    """No pod pool covers an infrastructure address (peering address or upstream router)."""
    pools = [(net, (FABRIC, path)) for net, _length, path in layout.fabric.pod_pools]
    for (net, (_name, path)), (address, owner) in covered(pools, _infrastructure(layout)):
        problems.add(FABRIC, path, str(net), "covers %s, the address of %s (%s); pod pools must not cover infrastructure addresses" % ((address,) + owner))


# Weighted anycast -----------------------------------------------------------------


def weights_need_weighted_ecmp(layout, problems):
    """A node or VIP weight other than 1 needs fabric_bgp.weighted_ecmp: without it every path gets an equal share."""
    if layout.fabric.bgp.get("weighted_ecmp"):
        return
    why = "has no effect: fabric_bgp.weighted_ecmp is false, so every node gets an equal share; set it to true or remove the weight"
    for host in layout.hosts.values():
        if host.role != "node":
            continue
        if host.vip_weight != 1:
            problems.add(host.name, "fabric_vip_weight", host.vip_weight, why)
        for vip in host.vips:
            if vip.carried.get("weight", 1) not in (1, host.vip_weight):
                problems.add(host.name, vip.path + ".weight", vip.carried["weight"], why)


def link_bandwidths_fit(layout, problems):
    """With weighted ECMP, what a node announces (weight x its rack's unit) and what a ToR sums fit FRR's link bandwidth."""
    if not layout.fabric.bgp.get("weighted_ecmp"):
        return
    for key, members in layout.racks.items():
        unit = layout.units.get(key)
        if unit is None:
            continue  # a rack without ToRs: racks_have_nodes_and_tors
        total = 0
        for node in members["nodes"]:
            heaviest = max([node.vip_weight] + [v.carried.get("weight", 1) for v in node.vips])
            path = next((v.path + ".weight" for v in node.vips if v.carried.get("weight", 1) == heaviest != node.vip_weight), "fabric_vip_weight")
            total += heaviest * unit
            if heaviest * unit > weights.MAX_LINK_BANDWIDTH:
                problems.add(
                    node.name,
                    path,
                    heaviest,
                    "weight %d announces %d Mbps of link bandwidth (weight x %d, the unit of a rack of %d ToRs in this fabric), "
                    "more than FRR's %d" % (heaviest, heaviest * unit, unit, len(members["tors"]), weights.MAX_LINK_BANDWIDTH),
                )
        if total > weights.MAX_CUMULATIVE_BANDWIDTH:
            tor = members["tors"][0]
            problems.add(
                tor.name,
                "fabric_rack",
                tor.rack,
                "the nodes of this rack announce up to %d Mbps of link bandwidth together (their weights x %d), more than "
                "the %d a ToR can sum (FRR carries it in 32 bits of bytes per second): lower the weights"
                % (total, unit, weights.MAX_CUMULATIVE_BANDWIDTH),
            )


# Daemons ---------------------------------------------------------------------------


def daemons_capable(layout, problems):
    """Every host's routing daemon can do what the fabric asks of it (BFD, GTSM, a key, communities...)."""
    # Each driver states its own gaps (plugin_utils/daemons); hosts.py asks them.
    daemon_problems(layout.hosts, layout.fabric, problems)


RULES = (
    peering_addresses_unique,
    upstreams_outside_fabric,
    router_ids_unique,
    racks_have_nodes_and_tors,
    spine_sites_have_tors,
    tor_uplinks_ipv4_present,
    unnumbered_links_consistent,
    node_segments,
    tors_ipv6_for_ipv6_nodes,
    ipv6_prefixes_have_sessions,
    uplink_segments,
    spines_ipv6_for_ipv6_racks,
    tor_uplinks_ipv6_for_ipv6_racks,
    derived_asns_distinct,
    node_asns_not_infrastructure,
    tor_asns_differ_from_spines,
    prefix_counts_within_cap,
    vips_in_pools,
    shared_vips_alike,
    infrastructure_outside_pools,
    vips_not_infrastructure,
    pods_outside_pools,
    pods_cover_no_infrastructure,
    edges_cover_no_fabric_address,
    pods_disjoint,
    dynamic_tors_have_segments,
    pods_in_pod_pools,
    pod_pools_hold_no_infrastructure,
    weights_need_weighted_ecmp,
    link_bandwidths_fit,
    vip_scopes_name_sites,
    site_communities_agree,
    upstreams_external,
    aggregates_outside_pools,
    daemons_capable,
)


def check(layout, problems):
    """Run every rule of RULES on LAYOUT, in order, adding what they find to PROBLEMS."""
    for rule in RULES:
        rule(layout, problems)
