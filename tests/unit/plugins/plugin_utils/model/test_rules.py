# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cross-host rules, one at a time: each accepts a valid fabric and refuses a broken one with its exact message.

Every case reads a small fabric (tests/unit/fabric_factory.py) with model.read(), so the
hosts carry no problem of their own, then runs ONE rule and compares the full problem
lines "<host>: <variable path> = <value>: <reason>".
"""

from __future__ import annotations

import copy
import inspect

import pytest

from ansible_collections.anycast.fabric.plugins.plugin_utils import daemons
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model, rules
from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons.base import Driver
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.problems import Problems
from fabric_factory import set_fabric, small_fabric, two_sites


def layout_of(hostvars, groups):
    problems = Problems()
    layout = model.read(hostvars, groups, problems)
    assert not problems, problems.messages()
    return layout


def run(rule, fabric):
    problems = Problems()
    rule(layout_of(*fabric), problems)
    return problems.messages()


def edited(make, *edits):
    """FABRIC() with EDITS applied: each edit is (host, variable, value); a value of DELETE removes the variable."""
    hostvars, groups = make()
    for host, var, value in edits:
        if value is DELETE:
            del hostvars[host][var]
        else:
            hostvars[host][var] = copy.deepcopy(value)
    return hostvars, groups


DELETE = object()


def with_spine(hostvars, groups, name, **variables):
    hostvars[name] = dict(copy.deepcopy(hostvars[groups["fabric_spines"][0]]), **variables)
    groups["fabric_spines"].append(name)
    return hostvars, groups


# Every rule accepts the valid fabrics --------------------------------------------


@pytest.mark.parametrize("make", [small_fabric, two_sites], ids=["small", "two-sites"])
@pytest.mark.parametrize("rule", rules.RULES, ids=lambda r: r.__name__)
def test_every_rule_accepts_a_valid_fabric(rule, make):
    assert run(rule, make()) == []


# Each rule refuses its mistake -----------------------------------------------------

UNIQUE = "peering addresses must be unique"
V6_VIP = "is an IPv6 VIP but the node has no IPv6 session (set fabric_ipv6)"
V6_POD = "is an IPv6 pod CIDR but the node has no IPv6 session (set fabric_ipv6)"

REFUSED = [
    pytest.param(
        rules.unnumbered_links_consistent,
        lambda: edited(
            small_fabric,
            ("tor1", "fabric_uplink_ipv4", None),
            ("tor1", "fabric_uplinks", [{"interface": "swp51", "spine": "spine9", "spine_interface": "swp1"}]),
        ),
        ["tor1: fabric_uplinks[0].spine = 'spine9': names no spine of site 'default' (its spines: spine1)"],
        id="uplink-to-unknown-spine",
    ),
    pytest.param(
        rules.peering_addresses_unique,
        lambda: edited(small_fabric, ("n2", "fabric_ipv4", "10.1.1.11/24")),
        ["n2: fabric_ipv4 = '10.1.1.11': is already used by n1 (fabric_ipv4); " + UNIQUE],
        id="peering-address-twice",
    ),
    pytest.param(
        rules.peering_addresses_unique,
        lambda: edited(small_fabric, ("tor1", "fabric_uplink_ipv4", "10.1.1.1/24")),
        ["tor1: fabric_uplink_ipv4 = '10.1.1.1': is already used by tor1 (fabric_ipv4); " + UNIQUE],
        id="peering-address-twice-on-one-host",
    ),
    pytest.param(
        rules.upstreams_outside_fabric,
        lambda: edited(two_sites, ("spine-a", "fabric_upstreams", [{"name": "t", "address": "10.91.0.11", "asn": 64601, "local_address": "10.91.0.3/24"}])),
        ["spine-a: fabric_upstreams[0].address = '10.91.0.11': is the address of tor-a (fabric_uplink_ipv4): an upstream router is outside the fabric"],
        id="upstream-is-a-tor",
    ),
    pytest.param(
        rules.router_ids_unique,
        lambda: edited(small_fabric, ("tor2", "fabric_router_id", "10.1.1.1")),
        ["tor2: fabric_router_id = '10.1.1.1': is also the router id of tor1; router ids must be unique"],
        id="router-id-of-another",
    ),
    pytest.param(
        rules.racks_have_nodes_and_tors,
        lambda: edited(small_fabric, ("n1", "fabric_rack", "r3"), ("n2", "fabric_rack", "r3")),
        [
            "n1: fabric_rack = 'r3': no ToR (fabric_tors) serves rack 'r3' of site 'default'",
            "n2: fabric_rack = 'r3': no ToR (fabric_tors) serves rack 'r3' of site 'default'",
            "tor1: fabric_rack = 'r1': no node (fabric_nodes) is in rack 'r1' of site 'default'",
        ],
        id="rack-without-nodes-and-rack-without-tor",
    ),
    pytest.param(
        rules.spine_sites_have_tors,
        lambda: edited(small_fabric, ("spine1", "fabric_site", "lonely")),
        ["spine1: fabric_site = 'lonely': no ToR (fabric_tors) is in this site, so the spine has nobody to peer with"],
        id="spine-alone-in-its-site",
    ),
    pytest.param(
        rules.tor_uplinks_ipv4_present,
        lambda: edited(small_fabric, ("tor1", "fabric_uplink_ipv4", DELETE)),
        ["tor1: fabric_uplink_ipv4 = null: is required: site 'default' has spines (spine1) and a ToR peers with them from this address"],
        id="tor-without-uplink",
    ),
    pytest.param(
        rules.node_segments,
        lambda: edited(small_fabric, ("n1", "fabric_ipv4", "10.1.9.11/24")),
        ["n1: fabric_ipv4 = '10.1.9.11': is not on the same segment as tor1 (10.1.1.1, segment 10.1.1.0/24)"],
        id="node-off-its-tor-segment",
    ),
    pytest.param(
        rules.node_segments,
        lambda: edited(small_fabric, ("n1", "fabric_ipv4", "10.1.1.255")),
        ["n1: fabric_ipv4 = '10.1.1.255': is the network or broadcast address of tor1's segment 10.1.1.0/24"],
        id="node-on-broadcast-address",
    ),
    pytest.param(
        rules.tors_ipv6_for_ipv6_nodes,
        lambda: edited(small_fabric, ("n1", "fabric_ipv6", "2001:db8:1::11/64")),
        ["tor1: fabric_ipv6 = null: is required: node n1 of its rack peers over IPv6 (fabric_ipv6 = 2001:db8:1::11)"],
        id="ipv6-node-under-ipv4-tor",
    ),
    pytest.param(
        rules.ipv6_prefixes_have_sessions,
        lambda: edited(small_fabric, ("n1", "fabric_vips", ["198.51.100.10", "2001:db8:ac::10"]), ("n1", "fabric_pod_cidrs", ["fd00:244:1::/64"])),
        ["n1: fabric_vips[1] = '2001:db8:ac::10': " + V6_VIP, "n1: fabric_pod_cidrs[0] = 'fd00:244:1::/64': " + V6_POD],
        id="ipv6-prefixes-on-an-ipv4-node",
    ),
    pytest.param(
        rules.uplink_segments,
        lambda: edited(small_fabric, ("tor1", "fabric_uplink_ipv4", "10.0.9.11/24")),
        ["tor1: fabric_uplink_ipv4 = '10.0.9.11': is not on the same segment as spine1 (10.0.0.1, segment 10.0.0.0/24)"],
        id="uplink-off-the-spine-segment",
    ),
    pytest.param(
        rules.spines_ipv6_for_ipv6_racks,
        lambda: edited(small_fabric, ("spine1", "fabric_ipv6", DELETE)),
        ["spine1: fabric_ipv6 = null: is required: rack 'r2' announces IPv6 prefixes that reach the spines over IPv6"],
        id="ipv4-spine-above-an-ipv6-rack",
    ),
    pytest.param(
        rules.tor_uplinks_ipv6_for_ipv6_racks,
        lambda: edited(small_fabric, ("tor2", "fabric_uplink_ipv6", DELETE)),
        ["tor2: fabric_uplink_ipv6 = null: is required: rack 'r2' announces IPv6 prefixes and site 'default' has spines"],
        id="ipv6-rack-without-ipv6-uplink",
    ),
    pytest.param(
        rules.node_asns_not_infrastructure,
        lambda: edited(small_fabric, ("n1", "fabric_asn", 65101)),
        ["n1: fabric_asn = 65101: is the ASN of tor1; nodes need their own ASN for eBGP with their ToRs"],
        id="node-with-its-tor-asn",
    ),
    pytest.param(
        rules.tor_asns_differ_from_spines,
        lambda: edited(small_fabric, ("tor1", "fabric_asn", 65000)),
        ["tor1: fabric_asn = 65000: is also the ASN of spine spine1; ToRs and spines peer over eBGP"],
        id="tor-with-the-spine-asn",
    ),
    pytest.param(
        rules.vips_in_pools,
        lambda: edited(small_fabric, ("n1", "fabric_vips", ["198.51.100.10", "203.0.113.9"])),
        ["n1: fabric_vips[1] = '203.0.113.9': is outside every anycast pool (fabric_anycast_pools: 198.51.100.0/24)"],
        id="vip-outside-the-pools",
    ),
    pytest.param(
        rules.shared_vips_alike,
        lambda: edited(small_fabric, ("n3", "fabric_vips", [{"address": "198.51.100.10", "name": "dns"}, "2001:db8:ac::10"])),
        [
            "n3: fabric_vips[0] = '198.51.100.10': is also a VIP of n1 (fabric_vips[0]) with different name or communities; "
            "every node announcing a VIP must describe it the same way"
        ],
        id="shared-vip-described-differently",
    ),
    pytest.param(
        rules.infrastructure_outside_pools,
        lambda: edited(small_fabric, ("spine1", "fabric_ipv6", "2001:db8:ac::1/64"), ("tor2", "fabric_uplink_ipv6", "2001:db8:ac::12/64")),
        [
            "spine1: fabric_ipv6 = '2001:db8:ac::1': lies in anycast pool 2001:db8:ac::/48; infrastructure addresses must stay out of the anycast pools",
            "tor2: fabric_uplink_ipv6 = '2001:db8:ac::12': lies in anycast pool 2001:db8:ac::/48; infrastructure addresses must stay out of the anycast pools",
        ],
        id="infrastructure-in-a-pool",
    ),
    pytest.param(
        rules.pods_outside_pools,
        lambda: edited(small_fabric, ("n1", "fabric_pod_cidrs", ["198.51.100.128/25"])),
        ["n1: fabric_pod_cidrs[0] = '198.51.100.128/25': overlaps anycast pool 198.51.100.0/24; pod CIDRs and VIPs must not share addresses"],
        id="pod-in-a-pool",
    ),
    pytest.param(
        rules.pods_cover_no_infrastructure,
        lambda: edited(small_fabric, ("n1", "fabric_pod_cidrs", ["10.1.2.0/24"])),
        ["n1: fabric_pod_cidrs[0] = '10.1.2.0/24': covers 10.1.2.1, the address of tor2 (fabric_ipv4); pod CIDRs must not cover infrastructure addresses"],
        id="pod-over-a-tor",
    ),
    pytest.param(
        rules.pods_cover_no_infrastructure,
        lambda: edited(two_sites, ("a1", "fabric_pod_cidrs", ["10.93.2.0/24"])),
        [
            "a1: fabric_pod_cidrs[0] = '10.93.2.0/24': covers 10.93.2.2, the address of spine-b (fabric_upstreams[0].local_address); "
            "pod CIDRs must not cover infrastructure addresses"
        ],
        id="pod-over-an-upstream-link",
    ),
    pytest.param(
        rules.edges_cover_no_fabric_address,
        lambda: edited(two_sites, ("spine-a", "fabric_pod_aggregates", ["10.91.1.0/24"])),
        [
            "spine-a: fabric_pod_aggregates[0] = '10.91.1.0/24': covers 10.91.1.2, the address of tor-a (fabric_ipv4); "
            "aggregates must not cover the fabric's own addresses"
        ],
        id="aggregate-over-a-rack",
    ),
    pytest.param(
        rules.edges_cover_no_fabric_address,
        lambda: edited(two_sites, ("spine-a", "fabric_upstreams", [{"name": "t", "address": "10.91.1.254", "asn": 64601, "local_address": "10.91.1.200/24"}])),
        [
            "spine-a: fabric_upstreams[0].local_address = '10.91.1.200/24': covers 10.91.1.2, the address of tor-a (fabric_ipv4); "
            "upstream links must not cover the fabric's own addresses"
        ],
        id="upstream-link-on-a-rack-segment",
    ),
    pytest.param(
        rules.pods_disjoint,
        lambda: edited(small_fabric, ("n3", "fabric_pod_cidrs", ["10.244.3.0/24", "10.244.1.0/25"])),
        ["n3: fabric_pod_cidrs[1] = '10.244.1.0/25': overlaps a pod CIDR of n1 (10.244.1.0/24); every node owns its pod CIDRs alone"],
        id="pods-of-two-nodes-overlap",
    ),
    pytest.param(
        rules.vip_scopes_name_sites,
        lambda: edited(two_sites, ("a1", "fabric_vips", [{"address": "198.51.100.80", "name": "web", "prepend": {"c": 2}}])),
        ["a1: fabric_vips[0] = '198.51.100.80': names site 'c', which has no nodes (sites: a, b)"],
        id="vip-scoped-to-an-empty-site",
    ),
    pytest.param(
        rules.site_communities_agree,
        lambda: with_spine(*two_sites(), "spine-a2", fabric_ipv4="10.91.0.3/24", fabric_upstreams=[], fabric_site_community="65000:9"),
        [
            "spine-a: fabric_site_community = '65000:1': differs between the spines of site 'a'",
            "spine-a2: fabric_site_community = '65000:9': differs between the spines of site 'a'",
        ],
        id="spines-of-a-site-disagree",
    ),
    pytest.param(
        rules.upstreams_external,
        lambda: edited(two_sites, ("spine-a", "fabric_upstreams", [{"name": "t", "address": "10.93.1.3", "asn": 65010, "local_address": "10.93.1.2/24"}])),
        ["spine-a: fabric_upstreams[0].asn = 65010: is the spine's own ASN; upstreams peer over eBGP"],
        id="upstream-with-the-spine-asn",
    ),
    pytest.param(
        rules.aggregates_outside_pools,
        lambda: edited(two_sites, ("spine-b", "fabric_pod_aggregates", ["10.244.24.0/21", "198.51.100.0/23"])),
        ["spine-b: fabric_pod_aggregates[1] = '198.51.100.0/23': overlaps anycast pool 198.51.100.0/24"],
        id="aggregate-over-a-pool",
    ),
]


@pytest.mark.parametrize("rule, fabric, expected", REFUSED)
def test_rule_refuses(rule, fabric, expected):
    assert run(rule, fabric()) == expected


# Rules whose refused case needs a fabric-wide setting or a driver: tested below.
DYNAMIC_BGP = {"password": "s3cret-md5", "node_peering": "dynamic"}


def dynamic_fabric(pod_pools=("10.244.0.0/16", {"prefix": "fd00:244::/32", "node_prefix_length": 64})):
    hostvars, groups = small_fabric(fabric_bgp=dict(DYNAMIC_BGP))
    set_fabric(hostvars, "fabric_pod_pools", list(pod_pools))
    return hostvars, groups


REFUSED += [
    pytest.param(
        rules.dynamic_tors_have_segments,
        lambda: edited(dynamic_fabric, ("tor1", "fabric_ipv4", "10.1.1.1")),
        [
            "tor1: fabric_ipv4 = '10.1.1.1': needs the rack segment's prefix length (e.g. 10.1.1.1/24 or /64): with fabric_bgp.node_peering "
            "dynamic the ToR accepts its nodes from that segment (its listen range), and a /32 has no room for nodes"
        ],
        id="dynamic-tor-without-segment",
    ),
    pytest.param(
        rules.pods_in_pod_pools,
        lambda: dynamic_fabric(pod_pools=["10.244.0.0/16"]),
        [
            "n3: fabric_pod_cidrs[1] = 'fd00:244:3::/64': is outside every pod pool (fabric_pod_pools: none of IPv6); "
            "with fabric_bgp.node_peering dynamic the ToRs accept pod CIDRs only inside the pod pools"
        ],
        id="dynamic-pod-outside-pools",
    ),
    pytest.param(
        rules.pods_in_pod_pools,
        lambda: dynamic_fabric(pod_pools=[{"prefix": "10.244.0.0/16", "node_prefix_length": 26}, "fd00:244::/32"]),
        [
            "n1: fabric_pod_cidrs[0] = '10.244.1.0/24': is a /24, but pod pool 10.244.0.0/16 hands nodes /26 CIDRs (its node_prefix_length)",
            "n3: fabric_pod_cidrs[0] = '10.244.3.0/24': is a /24, but pod pool 10.244.0.0/16 hands nodes /26 CIDRs (its node_prefix_length)",
        ],
        id="pod-at-another-length",
    ),
    pytest.param(
        rules.pod_pools_hold_no_infrastructure,
        lambda: dynamic_fabric(pod_pools=["10.0.0.0/8", "fd00:244::/32"]),
        ["fabric: fabric_pod_pools[0] = '10.0.0.0/8': covers 10.0.0.1, the address of spine1 (fabric_ipv4); pod pools must not cover infrastructure addresses"],
        id="pod-pool-covers-infrastructure",
    ),
]


REFUSED += [
    pytest.param(
        rules.weights_need_weighted_ecmp,
        lambda: edited(lambda: small_fabric(fabric_bgp={"weighted_ecmp": False}), ("n1", "fabric_vip_weight", 2)),
        ["n1: fabric_vip_weight = 2: has no effect: fabric_bgp.weighted_ecmp is false, so every node gets an equal share; set it to true or remove the weight"],
        id="weight-without-weighted-ecmp",
    ),
    pytest.param(
        rules.link_bandwidths_fit,
        lambda: edited(small_fabric, ("n1", "fabric_vip_weight", 100), ("n2", "fabric_vip_weight", 100)),
        [],
        id="weights-within-frr-limits",
    ),
]


def test_a_static_fabric_without_pod_pools_takes_any_pod_cidr():
    assert run(rules.pods_in_pod_pools, small_fabric()) == []


def test_the_dynamic_example_passes_every_rule():
    problems = Problems()
    rules.check(layout_of(*dynamic_fabric()), problems)
    assert problems.messages() == []


# link_bandwidths_fit: refused cases in render/test_weighted.py (they need FRR's limits lowered).
TESTED_BELOW = {
    rules.derived_asns_distinct,
    rules.prefix_counts_within_cap,
    rules.vips_not_infrastructure,
    rules.daemons_capable,
    rules.link_bandwidths_fit,
}


def test_every_rule_has_a_refused_case():
    assert {p.values[0] for p in REFUSED} | TESTED_BELOW == set(rules.RULES)


# Rules that need a fabric-wide setting ---------------------------------------------


def asn_scheme(scheme, base):
    hostvars, groups = small_fabric()
    set_fabric(hostvars, "fabric_node_asn_scheme", scheme)
    set_fabric(hostvars, "fabric_node_asn_base", base)
    return hostvars, groups


def test_derived_asns_distinct_refuses_two_nodes_with_one_derived_asn():
    # Base 65533 leaves two ASNs (65533, 65534) to derive from: n1 (10.1.1.11) and
    # n3 (10.1.2.11) are both odd, so per_node gives them the same one.
    assert run(rules.derived_asns_distinct, asn_scheme("per_node", 65533)) == [
        "n3: fabric_asn = 65534: the per_node ASN derived for this node is also derived for n1; set fabric_asn explicitly for one of them",
        "n4: fabric_asn = 65533: the per_node ASN derived for this node is also derived for n2; set fabric_asn explicitly for one of them",
    ]


def test_derived_asns_distinct_accepts_one_asn_per_rack():
    layout = layout_of(*asn_scheme("per_rack", 4200000000))
    assert layout.hosts["n1"].asn == layout.hosts["n2"].asn != layout.hosts["n3"].asn == layout.hosts["n4"].asn
    assert all(layout.hosts[n].asn >= 4200000000 for n in ("n1", "n2", "n3", "n4"))
    problems = Problems()
    rules.derived_asns_distinct(layout, problems)
    assert problems.messages() == []


def test_derived_asns_distinct_spares_explicit_asns():
    hostvars, groups = asn_scheme("per_node", 65533)
    hostvars["n3"]["fabric_asn"] = 64512
    hostvars["n4"]["fabric_asn"] = 64513
    assert run(rules.derived_asns_distinct, (hostvars, groups)) == []


def test_prefix_counts_within_cap():
    hostvars, groups = small_fabric()
    set_fabric(hostvars, "fabric_bgp", {"max_prefixes": 2})
    assert run(rules.prefix_counts_within_cap, (hostvars, groups)) == []
    hostvars["n1"]["fabric_vips"].append("198.51.100.12")
    assert run(rules.prefix_counts_within_cap, (hostvars, groups)) == [
        "n1: fabric_vips = 3: announces 3 ipv4 prefixes (VIPs and pod CIDRs), more than fabric_bgp.max_prefixes (2): its ToRs would drop the session"
    ]


def test_vips_not_infrastructure():
    hostvars, groups = two_sites()
    set_fabric(hostvars, "fabric_anycast_pools", ["198.51.100.0/24", "10.93.1.0/24"])
    assert run(rules.vips_not_infrastructure, (hostvars, groups)) == []
    hostvars["a2"]["fabric_vips"] = ["10.93.1.3", "10.93.1.2"]
    assert run(rules.vips_not_infrastructure, (hostvars, groups)) == [
        "a2: fabric_vips[0] = '10.93.1.3': is the address of spine-a (fabric_upstreams[0].address); a VIP cannot be an infrastructure address",
        "a2: fabric_vips[1] = '10.93.1.2': is the address of spine-a (fabric_upstreams[0].local_address); a VIP cannot be an infrastructure address",
    ]


class NoBfd(Driver):
    name = "nobfd"
    roles = frozenset(["node"])
    capabilities = frozenset(["communities", "drain", "password"])


def test_daemons_capable_asks_each_hosts_driver(monkeypatch):
    monkeypatch.setitem(daemons.DRIVERS, "nobfd", NoBfd())
    layout = layout_of(*small_fabric(fabric_bgp={"password": "s3cret-md5", "bfd": False}))
    layout.hosts["n2"].daemon = "nobfd"
    problems = Problems()
    rules.daemons_capable(layout, problems)
    assert problems.messages() == []
    layout = layout_of(*small_fabric())
    layout.hosts["n2"].daemon = "nobfd"
    rules.daemons_capable(layout, problems)
    assert problems.messages() == ["n2: fabric_bgp.bfd = true: fabric_daemon nobfd cannot do BFD: change this setting, or run another daemon on this host"]


# Accepted near the edge of a rule --------------------------------------------------


def test_an_upstream_link_may_share_the_spine_segment():
    # The spines, the ToR uplinks and a transit router on one LAN.
    upstream = {"name": "t", "address": "10.91.0.254", "asn": 64601, "local_address": "10.91.0.3/24"}
    assert run(rules.edges_cover_no_fabric_address, edited(two_sites, ("spine-a", "fabric_upstreams", [upstream]))) == []


def test_a_router_id_collision_with_a_default_is_blamed_on_the_explicit_one():
    # n1 defaults its router id to its address; tor1 sets the same one explicitly.
    assert run(rules.router_ids_unique, edited(small_fabric, ("tor1", "fabric_router_id", "10.1.1.11"))) == [
        "tor1: fabric_router_id = '10.1.1.11': is also the router id of n1; router ids must be unique"
    ]


def test_pods_of_one_node_are_left_to_the_node_reader():
    # Two overlapping pod CIDRs of one node are refused while reading it, not here.
    hostvars, groups = small_fabric()
    hostvars["n3"]["fabric_pod_cidrs"] = ["10.244.3.0/24", "10.244.3.0/25"]
    problems = Problems()
    layout = model.read(hostvars, groups, problems)
    assert problems
    before = len(problems)
    rules.pods_disjoint(layout, problems)
    assert len(problems) == before


# The module's contract ---------------------------------------------------------------


def test_every_rule_states_itself_in_a_one_line_docstring():
    for rule in rules.RULES:
        doc = inspect.getdoc(rule)
        assert doc and "\n" not in doc and doc.endswith("."), rule.__name__
        assert list(inspect.signature(rule).parameters) == ["layout", "problems"], rule.__name__


def test_every_public_function_of_the_module_is_a_rule_or_a_helper():
    public = {name for name, f in inspect.getmembers(rules, inspect.isfunction) if f.__module__ == rules.__name__ and not name.startswith("_")}
    assert public - {r.__name__ for r in rules.RULES} == {"check", "peering_addresses"}
    assert len(set(rules.RULES)) == len(rules.RULES)


def test_check_runs_every_rule_once_in_order(monkeypatch):
    names = [r.__name__ for r in rules.RULES]
    called = []

    def recorder(name):
        return lambda layout, problems: called.append(name)

    monkeypatch.setattr(rules, "RULES", tuple(recorder(name) for name in names))
    rules.check(layout_of(*small_fabric()), Problems())
    assert called == names


def test_build_reports_the_rules_problems_after_the_hosts_own():
    hostvars, groups = edited(small_fabric, ("n2", "fabric_ipv4", "10.1.1.11/24"), ("n4", "fabric_vips", ["bad"]))
    intents, problems = model.build(hostvars, groups)
    assert intents == {}
    assert [(p.host, p.path) for p in problems] == [("n4", "fabric_vips[0]"), ("n2", "fabric_ipv4")]
