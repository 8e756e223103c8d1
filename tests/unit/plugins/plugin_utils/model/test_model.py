# -*- coding: utf-8 -*-
"""What the model computes for a valid fabric: peers, policies, ASNs, secrets."""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from fabric_factory import set_fabric, small_fabric


def build_ok(hosts, groups):
    intents, problems = model.build(hosts, groups)
    assert not problems, problems.messages()
    return intents


def peers_by_name(intent):
    return {(p.name, p.family): p for p in intent.peers}


def test_node_peers_with_every_tor_of_its_rack_per_family():
    intents = build_ok(*small_fabric())
    assert sorted(peers_by_name(intents["n1"])) == [("tor1", "ipv4")]
    # n3 is dual stack in a dual-stack rack: one session per family.
    assert sorted(peers_by_name(intents["n3"])) == [("tor2", "ipv4"), ("tor2", "ipv6")]
    peer = peers_by_name(intents["n3"])[("tor2", "ipv6")]
    assert (peer.address, peer.local_address, peer.asn) == ("2001:db8:2::1", "2001:db8:2::11", 65102)


def test_node_imports_nothing_and_exports_only_its_own_prefixes():
    intents = build_ok(*small_fabric())
    peer = peers_by_name(intents["n1"])[("tor1", "ipv4")]
    assert peer.accept == ()
    assert peer.export == ("10.244.1.0/24", "198.51.100.10/32")


def test_tor_accepts_exactly_each_nodes_prefixes_and_caps_them():
    intents = build_ok(*small_fabric(fabric_bgp={"max_prefixes": 7}))
    peers = peers_by_name(intents["tor1"])
    assert peers[("n1", "ipv4")].accept == ("10.244.1.0/24", "198.51.100.10/32")
    assert peers[("n2", "ipv4")].accept == ("198.51.100.10/32", "198.51.100.11/32")
    assert peers[("n1", "ipv4")].max_prefixes == 7
    # ToRs send nodes nothing, and send spines only what their rack announces.
    assert peers[("n1", "ipv4")].export == ()
    assert peers[("spine1", "ipv4")].export == ("10.244.1.0/24", "198.51.100.10/32", "198.51.100.11/32")
    assert peers[("spine1", "ipv4")].local_address == "10.0.0.11"


def test_spine_accepts_what_each_rack_may_announce():
    intents = build_ok(*small_fabric(fabric_bgp={"max_prefixes": 7}))
    peers = peers_by_name(intents["spine1"])
    assert sorted(peers) == [("tor1", "ipv4"), ("tor2", "ipv4"), ("tor2", "ipv6")]
    assert peers[("tor2", "ipv6")].accept == ("2001:db8:ac::10/128", "fd00:244:3::/64")
    assert peers[("tor1", "ipv4")].address == "10.0.0.11"
    # Two nodes in the rack, each capped at 7.
    assert peers[("tor1", "ipv4")].max_prefixes == 14


def test_export_policy_groups_vips_by_communities():
    intents = build_ok(*small_fabric())
    assert [e.to_dict() for e in intents["n2"].export_policy["ipv4"]] == [
        {"prefixes": ["198.51.100.10/32"], "communities": [], "large_communities": [], "weight": 1, "bandwidth": 1},
        {"prefixes": ["198.51.100.11/32"], "communities": ["65000:80"], "large_communities": [], "weight": 1, "bandwidth": 1},
    ]


def test_defaults_are_safe():
    bgp = build_ok(*small_fabric(fabric_bgp={}))["n1"].bgp
    assert bgp.bfd is True and bgp.bfd_interval_ms == 100 and bgp.bfd_multiplier == 3
    assert (bgp.keepalive_time, bgp.hold_time) == (3, 9)
    assert bgp.graceful_restart is False and bgp.ttl_security is False
    assert bgp.password is False


def test_password_never_reaches_intents():
    intents = build_ok(*small_fabric())
    assert "s3cret-md5" not in json.dumps({name: i.to_dict() for name, i in intents.items()})
    assert "s3cret-md5" not in repr(intents)
    assert intents["n1"].bgp.password is True


@pytest.mark.parametrize("scheme", ["per_rack", "per_node"])
def test_derived_asns_are_stable_when_the_fabric_grows(scheme):
    hosts, groups = small_fabric()
    set_fabric(hosts, "fabric_node_asn_scheme", scheme)
    before = {name: i.asn for name, i in build_ok(hosts, groups).items()}

    # A new node in rack r1 and a whole new rack must not move anybody's ASN.
    grown = copy.deepcopy(hosts)
    grown["n5"] = dict(copy.deepcopy(hosts["n1"]), fabric_ipv4="10.1.1.13/24", fabric_pod_cidrs=[])
    grown["tor3"] = dict(copy.deepcopy(hosts["tor1"]), fabric_rack="r0", fabric_asn=65100, fabric_ipv4="10.1.0.1/24", fabric_uplink_ipv4="10.0.0.10/24")
    grown["n6"] = dict(copy.deepcopy(hosts["n1"]), fabric_rack="r0", fabric_ipv4="10.1.0.11/24", fabric_pod_cidrs=[])
    grown_groups = {k: list(v) for k, v in groups.items()}
    grown_groups["fabric_nodes"] += ["n5", "n6"]
    grown_groups["fabric_tors"] += ["tor3"]
    after = {name: i.asn for name, i in build_ok(grown, grown_groups).items()}
    assert {name: after[name] for name in before} == before


def test_asn_schemes_differ_as_documented():
    hosts, groups = small_fabric()
    per_rack = build_ok(hosts, groups)
    assert per_rack["n1"].asn == per_rack["n2"].asn != per_rack["n3"].asn
    set_fabric(hosts, "fabric_node_asn_scheme", "per_node")
    per_node = build_ok(hosts, groups)
    assert len({per_node[n].asn for n in ("n1", "n2", "n3", "n4")}) == 4
    assert all(4200000000 <= per_node[n].asn <= 4294967294 for n in ("n1", "n2", "n3", "n4"))


def test_explicit_node_asn_wins():
    hosts, groups = small_fabric()
    hosts["n1"]["fabric_asn"] = 64999
    assert build_ok(hosts, groups)["n1"].asn == 64999


def test_two_byte_asn_base_stays_in_the_two_byte_private_range():
    hosts, groups = small_fabric()
    set_fabric(hosts, "fabric_node_asn_base", 64512)
    intents = build_ok(hosts, groups)
    assert all(64512 <= intents[n].asn <= 65534 for n in ("n1", "n3"))


def test_router_id_defaults_to_fabric_ipv4_and_can_be_set():
    hosts, groups = small_fabric()
    hosts["n1"]["fabric_router_id"] = "192.0.2.1"
    intents = build_ok(hosts, groups)
    assert intents["n2"].router_id == "10.1.1.12"
    assert intents["n1"].router_id == "192.0.2.1"


def test_rack_names_may_be_integers():
    hosts, groups = small_fabric()
    for name in ("tor1", "n1", "n2"):
        hosts[name]["fabric_rack"] = 12
    assert build_ok(hosts, groups)["n1"].rack == "12"


def test_peer_ids_are_unique_identifiers_even_when_names_collide():
    hosts, groups = small_fabric()
    hosts["tor-a"] = dict(copy.deepcopy(hosts["tor1"]), fabric_ipv4="10.1.1.2/24", fabric_uplink_ipv4="10.0.0.13/24")
    hosts["tor_a"] = dict(copy.deepcopy(hosts["tor1"]), fabric_ipv4="10.1.1.3/24", fabric_uplink_ipv4="10.0.0.14/24")
    groups["fabric_tors"] += ["tor-a", "tor_a"]
    ids = [p.id for p in build_ok(hosts, groups)["n1"].peers]
    assert len(ids) == len(set(ids)) == 3
    assert all(i.replace("_", "").isalnum() and i[0].isalpha() for i in ids)


def test_build_is_deterministic_and_input_order_independent():
    hosts, groups = small_fabric()
    first = build_ok(hosts, groups)
    reversed_hosts = dict(reversed(list(hosts.items())))
    reversed_groups = {k: list(reversed(v)) for k, v in groups.items()}
    second = build_ok(reversed_hosts, reversed_groups)
    assert second == first
    assert json.dumps({n: i.to_dict() for n, i in second.items()}, sort_keys=True) == json.dumps({n: i.to_dict() for n, i in first.items()}, sort_keys=True)
