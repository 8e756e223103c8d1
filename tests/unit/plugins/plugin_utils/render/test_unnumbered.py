# -*- coding: utf-8 -*-
"""Unnumbered ToR-spine links (fabric_uplinks): sessions over IPv6 link-local addresses, no uplink addresses.

What must hold: a ToR that declares its links peers with its spines over
them (one FRR interface neighbor per link, both families in one peer-group,
no update-source), the spine's side is derived from its ToRs' declarations,
FRR's parser takes both; a fabric may mix numbered and unnumbered ToRs; the
code that reads peers (drain waits, undrain's uplinks, bgp_info's routes and
BFD, the docs' session table, the hand-off) knows such a session by its
interface; hostile declarations are refused with host, path and value.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess

import pytest

from ansible_collections.anycast.fabric.plugins.module_utils._bgp_state import (
    name_link_local_hops,
    parse_frr_bfd,
    parse_frr_bgp_peers,
    parse_frr_route,
    parse_frr_summary,
)
from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons import external
from ansible_collections.anycast.fabric.plugins.plugin_utils.document import tables
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import Intent
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops import drain, verify
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render
from ansible_collections.anycast.fabric.plugins.plugin_utils.run import fabric_run
from fabric_factory import small_fabric

PASSWORD = "s3cret-md5"
LINK1 = {"interface": "swp51", "spine": "spine1", "spine_interface": "swp1"}
LINK2 = {"interface": "swp51", "spine": "spine1", "spine_interface": "swp2"}


def fabric(tor1=(LINK1,), tor2=(LINK2,), mutate=None):
    """small_fabric with tor1 (IPv4 rack) and tor2 (dual-stack rack) unnumbered where links are given."""
    hostvars, groups = small_fabric()
    for tor, links in (("tor1", tor1), ("tor2", tor2)):
        if links is None:
            continue
        for var in ("fabric_uplink_ipv4", "fabric_uplink_ipv6"):
            hostvars[tor].pop(var, None)
        hostvars[tor]["fabric_uplinks"] = copy.deepcopy(list(links))
    if mutate:
        mutate(hostvars, groups)
    return hostvars, groups


def build(hostvars, groups):
    intents, problems = model.build(hostvars, groups)
    assert not problems, problems.messages()
    return intents


@pytest.fixture(scope="module")
def intents():
    return build(*fabric())


@pytest.fixture(scope="module")
def texts(intents):
    return {name: render.render(intent, password=PASSWORD) for name, intent in intents.items()}


def test_a_tor_peers_with_its_spine_over_its_interface(intents, texts):
    peers = [p for p in intents["tor1"].peers if p.role == "spine"]
    # One session, both families, keyed (and routed) by the ToR's own interface.
    assert [(p.family, p.address, p.local_address, p.interface, p.remote_interface) for p in peers] == [
        ("ipv4", "swp51", "swp51", "swp51", "swp1"),
        ("ipv6", "swp51", "swp51", "swp51", "swp1"),
    ]
    text = texts["tor1"]
    assert " neighbor swp51 interface peer-group SPINES-LINKS\n neighbor swp51 remote-as 65000\n" in text
    assert "update-source" not in text.split("neighbor swp51 description")[1].split("address-family")[0]
    assert text.count("neighbor SPINES-LINKS activate") == 2
    assert "neighbor SPINES-LINKS password %s" % PASSWORD in text
    assert "10.0.0.11" not in text and "peer-group SPINES-V4" not in text


def test_the_spine_side_comes_from_the_tors_declarations(intents, texts):
    peers = [(p.name, p.family, p.address, p.remote_interface, p.accept) for p in intents["spine1"].peers if p.role == "tor"]
    assert peers == [
        ("tor1", "ipv4", "swp1", "swp51", ("10.244.1.0/24", "198.51.100.10/32", "198.51.100.11/32")),
        ("tor1", "ipv6", "swp1", "swp51", ()),
        ("tor2", "ipv4", "swp2", "swp51", ("10.244.3.0/24", "198.51.100.10/32")),
        ("tor2", "ipv6", "swp2", "swp51", ("2001:db8:ac::10/128", "fd00:244:3::/64")),
    ]
    text = texts["spine1"]
    for iface, asn in (("swp1", 65101), ("swp2", 65102)):
        assert " neighbor %s interface peer-group TORS-LINKS\n neighbor %s remote-as %d\n" % (iface, iface, asn) in text
    # Each family keeps its own import filter per ToR.
    assert "neighbor swp2 route-map FROM-tor2_v4 in" in text and "neighbor swp2 route-map FROM-tor2_v6 in" in text


def test_numbered_and_unnumbered_tors_mix_at_one_spine():
    intents = build(*fabric(tor2=None))
    text = render.render(intents["spine1"], password=PASSWORD)
    assert "neighbor swp1 interface peer-group TORS-LINKS" in text
    assert "neighbor 10.0.0.12 peer-group TORS-V4" in text and "neighbor 2001:db8::12 peer-group TORS-V6" in text


def test_a_spine_needs_no_ipv6_address_for_unnumbered_ipv6_racks():
    def no_spine_ipv6(hostvars, _groups):
        del hostvars["spine1"]["fabric_ipv6"]

    intents = build(*fabric(mutate=no_spine_ipv6))
    assert [p.family for p in intents["tor2"].peers if p.role == "spine"] == ["ipv4", "ipv6"]


def test_the_intent_round_trips(intents):
    for intent in intents.values():
        assert Intent.from_dict(json.loads(json.dumps(intent.to_dict()))) == intent


@pytest.mark.skipif(shutil.which("vtysh") is None, reason="FRR's vtysh is not installed")
@pytest.mark.parametrize("tor2", [(LINK2,), None], ids=["all-unnumbered", "mixed"])
def test_frr_parses_every_unnumbered_config(tmp_path, tor2):
    intents = build(*fabric(tor2=tor2))
    for name, intent in intents.items():
        if intent.daemon != "frr":
            continue
        path = tmp_path / ("%s.conf" % name)
        path.write_text(render.render(intent, password=PASSWORD))
        result = subprocess.run(["vtysh", "-C", "-f", str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, (name, result.stdout + result.stderr)


def test_drain_waits_at_the_spine_name_the_link(intents):
    # tor1's rack has n1 and n2; drain both: the spine must route 198.51.100.10 around tor1's link.
    states = {n: {"state": "in_service", "exports": None} for n in ("n1", "n2", "n3", "n4")}
    waits = drain.drain_waits(intents, states, ["n1", "n2"])
    assert {"router": "spine1", "prefixes": ["198.51.100.10/32"], "without": ["swp1"]} in waits


def test_undrain_waits_and_the_run_folder_know_the_link(intents):
    assert fabric_run.uplinks(intents)["tor2"] == {"ipv4": [["spine1", "swp2"]], "ipv6": [["spine1", "swp2"]]}
    waits = drain.undrain_waits(intents, "n3", ["198.51.100.10/32", "2001:db8:ac::10/128"])
    # One link carries both families: the spine routes both VIPs through it.
    assert {"router": "spine1", "prefixes": ["198.51.100.10/32", "2001:db8:ac::10/128"], "with": ["swp2"]} in waits


# FRR 8.4.4's JSON for an unnumbered session and a route through it (measured on the lab image).
SUMMARY = {
    "ipv4Unicast": {
        "as": 65000,
        "peers": {"swp1": {"remoteAs": 65101, "state": "Established", "pfxRcd": 3, "idType": "interface", "connectionsEstablished": 1}},
    },
    "ipv6Unicast": {
        "as": 65000,
        "peers": {"swp1": {"remoteAs": 65101, "state": "Established", "pfxRcd": 0, "idType": "interface", "connectionsEstablished": 1}},
    },
}
ROUTE = {
    "198.51.100.10/32": [
        {
            "selected": True,
            "installed": True,
            "nexthops": [
                {"fib": True, "ip": "fe80::42:aff:fec7:103", "afi": "ipv6", "interfaceName": "swp1", "active": True},
                {"fib": True, "ip": "FE80::42:aff:fec7:203", "afi": "ipv6", "interfaceName": "swp2", "active": True},
                {"fib": True, "ip": "10.0.0.13", "afi": "ipv4", "interfaceName": "eth0", "active": True},
            ],
        }
    ]
}


# `show bgp ipv4 unicast 198.51.100.10/32 json`: the paths that installed those next hops (FRR 8.4.4's shape).
BGP_PATHS = {
    "prefix": "198.51.100.10/32",
    "paths": [
        {
            "multipath": True,
            "nexthops": [
                {"ip": "fe80::42:aff:fec7:103", "afi": "ipv6", "scope": "global"},
                {"ip": "fe80::42:aff:fec7:103", "afi": "ipv6", "scope": "link-local", "used": True},
            ],
            "peer": {"peerId": "fe80::42:aff:fec7:103", "interface": "swp1", "type": "external"},
        },
        {
            "nexthops": [{"ip": "2001:db8:2::12", "afi": "ipv6", "scope": "global"}, {"ip": "fe80::42:aff:fec7:203", "scope": "link-local"}],
            "peer": {"peerId": "2001:db8:2::12", "type": "external"},
        },
    ],
}


def test_bgp_info_reads_link_local_next_hops_and_bfd_by_interface():
    hops = parse_frr_route(ROUTE, "198.51.100.10/32")
    # Scoped, so two peers' link-locals on one segment stay two paths.
    assert hops == ["10.0.0.13", "FE80::42:aff:fec7:203%swp2", "fe80::42:aff:fec7:103%swp1"]
    # Named by the BGP path that installed each: an unnumbered link by its interface, a segment peer by its address.
    assert name_link_local_hops(hops, parse_frr_bgp_peers(BGP_PATHS)) == ["10.0.0.13", "2001:db8:2::12", "swp1"]
    assert name_link_local_hops(hops, {}) == hops
    bfd = [{"peer": "fe80::42:aff:fec7:103", "interface": "swp1", "status": "up"}, {"peer": "10.0.0.13", "status": "down"}]
    assert parse_frr_bfd(bfd) == {"swp1": "up", "10.0.0.13": "down"}
    sessions = parse_frr_summary(SUMMARY)
    assert sorted((s["peer"], s["family"], s["established"]) for s in sessions) == [("swp1", "ipv4", True), ("swp1", "ipv6", True)]


def test_verify_matches_an_unnumbered_session_by_its_interface(intents):
    observed = {"spine1": {"bgp": {"sessions": parse_frr_summary(SUMMARY)}, "error": None}}
    cases = [c for c in verify.session_cases({"spine1": intents["spine1"]}, observed) if "tor1" in c.subject]
    assert cases and all(c.ok for c in cases), cases


def test_the_docs_pair_both_ends_of_a_link(intents):
    found = [s for s in tables.sessions(intents) if {s.a.host, s.b.host} == {"spine1", "tor1"}]
    assert [(s.family, s.a.address, s.b.address, s.b.announces is not None) for s in found] == [
        ("ipv4", "swp1", "swp51", True),
        ("ipv6", "swp1", "swp51", True),
    ]


def test_an_external_tor_gets_the_link_in_its_hand_off():
    def tor1_external(hostvars, _groups):
        hostvars["tor1"]["fabric_daemon"] = "external"

    intents = build(*fabric(mutate=tor1_external))
    notes = external.handoff_notes(intents["tor1"])
    assert "link-local on its `swp1`" in notes and "interface `swp51` (unnumbered)" in notes and "RFC 8950" in notes


def _problems(hostvars, groups):
    _intents, problems = model.build(hostvars, groups)
    return problems.messages()


def _set(host, value):
    def mutate(hostvars, _groups):
        hostvars[host]["fabric_uplinks"] = value

    return mutate


HOSTILE = [
    ("bad interface", _set("tor1", [dict(LINK1, interface="swp51; reboot")]), "tor1: fabric_uplinks[0].interface"),
    ("long interface", _set("tor1", [dict(LINK1, interface="x" * 16)]), "tor1: fabric_uplinks[0].interface"),
    ("bad spine interface", _set("tor1", [dict(LINK1, spine_interface="sw p1")]), "tor1: fabric_uplinks[0].spine_interface"),
    ("unknown spine", _set("tor1", [dict(LINK1, spine="spine9")]), "tor1: fabric_uplinks[0].spine = 'spine9': names no spine of site 'default'"),
    ("not a list", _set("tor1", "swp51"), "tor1: fabric_uplinks"),
    ("not a mapping", _set("tor1", ["swp51"]), "tor1: fabric_uplinks[0]"),
    ("unknown key", _set("tor1", [dict(LINK1, password="x")]), "tor1: fabric_uplinks[0].password"),
    ("missing key", _set("tor1", [{"interface": "swp51", "spine": "spine1"}]), "tor1: fabric_uplinks[0].spine_interface = null: is required"),
    (
        "interface twice",
        _set("tor1", [LINK1, dict(LINK1, spine_interface="swp9")]),
        "tor1: fabric_uplinks[1].interface = 'swp51': is also the interface of fabric_uplinks[0]",
    ),
    (
        "link declared twice",
        _set("tor2", [dict(LINK2, spine_interface="swp1")]),
        "tor2: fabric_uplinks[0].spine_interface = 'swp1': is already the link of tor1 fabric_uplinks[0]",
    ),
    ("on a node", _set("n1", [LINK1]), "n1: fabric_uplinks"),
    ("on a spine", _set("spine1", [LINK1]), "spine1: fabric_uplinks"),
]


@pytest.mark.parametrize("mutate, expected", [(m, e) for _n, m, e in HOSTILE], ids=[n for n, _m, _e in HOSTILE])
def test_hostile_links_are_refused_by_host_and_path(mutate, expected):
    messages = _problems(*fabric(mutate=mutate))
    assert any(expected in m for m in messages), messages


def test_links_and_uplink_addresses_together_are_refused():
    def both(hostvars, _groups):
        hostvars["tor1"]["fabric_uplink_ipv4"] = "10.0.0.11/24"

    messages = _problems(*fabric(mutate=both))
    assert any("tor1: fabric_uplink_ipv4 = '10.0.0.11': cannot be combined with fabric_uplinks" in m for m in messages), messages


def test_a_tor_must_link_every_spine_of_its_site():
    def second_spine(hostvars, groups):
        hostvars["spine2"] = dict(copy.deepcopy(hostvars["spine1"]), fabric_ipv4="10.0.0.2/24", fabric_ipv6="2001:db8::2/64")
        groups["fabric_spines"] = ["spine1", "spine2"]

    messages = _problems(*fabric(mutate=second_spine))
    assert any("tor1: fabric_uplinks" in m and "links no interface to spine2" in m for m in messages), messages


def test_bgp_info_waits_match_a_link_by_its_interface():
    from ansible_collections.anycast.fabric.plugins.modules import bgp_info

    params = {
        "wait_for_established": False,
        "expected_paths": {},
        "min_paths": None,
        "max_paths": None,
        "prefixes": ["198.51.100.10/32"],
        "with_next_hops": ["swp2"],
        "without_next_hops": ["swp1"],
    }
    # swp1's hop named by its peer, swp2's still scoped (its BGP path was not found): both match by interface.
    routes = {"198.51.100.10/32": {"next_hops": ["fe80::42:aff:fec7:203%swp2", "swp1"], "paths": 2}}
    assert bgp_info.unmet(params, [], routes) == ["198.51.100.10/32 is still routed via swp1"]
    routes = {"198.51.100.10/32": {"next_hops": ["fe80::42:aff:fec7:203%swp2"], "paths": 1}}
    assert bgp_info.unmet(params, [], routes) == []
