# -*- coding: utf-8 -*-
"""Parsing real BIRD 2.0.12 / FRR 8.4.4 output (captured in the lab containers) and comparing snapshots."""

from __future__ import annotations

import copy
from pathlib import Path

from ansible_collections.anycast.fabric.plugins.module_utils import _bgp_state as bgp_state
from ansible_collections.anycast.fabric.plugins.module_utils._daemons import mask_secrets

FIXTURES = Path(__file__).resolve().parents[3] / "unit" / "fixtures"


def fixture(name):
    return (FIXTURES / name).read_text()


def test_bird_protocols_all_gives_sessions_and_protocol_states():
    sessions, protocols = bgp_state.parse_bird_protocols(fixture("bird_show_protocols_all.txt"))
    assert protocols == {"device1": "up", "vips": "up", "pods_ipv4": "up", "fabric_bfd": "up", "cap_tor_v4": "up", "cap_tor_v6": "up"}
    v4 = sessions[0]
    assert (v4["name"], v4["peer"], v4["peer_as"], v4["local_as"], v4["family"]) == ("cap_tor_v4", "10.77.1.2", 65101, 4244547508, "ipv4")
    assert v4["established"] and v4["state"] == "Established"
    assert (v4["prefixes_received"], v4["prefixes_sent"]) == (0, 3)
    assert v4["generation"] == v4["since"] and v4["since"].count(":") == 2
    assert [s["family"] for s in sessions] == ["ipv4", "ipv6"]


def test_bird_session_that_is_down_carries_its_last_error():
    sessions, protocols = bgp_state.parse_bird_protocols(fixture("bird_show_protocols_down.txt"))
    assert protocols == {"tor_v4": "start"}
    assert sessions[0]["state"] == "Active" and not sessions[0]["established"]
    assert sessions[0]["last_error"] == "Socket: Connection reset by peer"
    assert bgp_state.describe(sessions[0]) == "tor_v4 (10.78.1.12, AS 65101) is Active: Socket: Connection reset by peer"


def test_bird_bfd_sessions():
    assert bgp_state.parse_bird_bfd(fixture("bird_show_bfd_sessions.txt")) == {"10.77.1.2": "up", "fd00:77:1::2": "up"}


def test_bird_route_export():
    assert bgp_state.parse_bird_route_export(fixture("bird_show_route_export.txt")) == [
        "10.244.1.0/24",
        "198.51.100.10/32",
        "198.51.100.11/32",
        "2001:db8:ac::10/128",
    ]


def test_frr_summary_gives_one_session_per_peer_and_family():
    sessions = bgp_state.parse_frr_summary(fixture("frr_show_bgp_summary.json"))
    assert [(s["peer"], s["family"]) for s in sessions] == [
        ("10.77.1.11", "ipv4"),
        ("10.77.1.12", "ipv4"),
        ("fd00:77:1::11", "ipv6"),
        ("fd00:77:1::12", "ipv6"),
    ]
    first = sessions[0]
    assert (first["name"], first["peer_as"], first["local_as"], first["established"]) == ("cap-n1", 4244547508, 65101, True)
    assert first["prefixes_received"] == 3 and first["generation"] == "5"


def test_frr_summary_with_a_peer_that_never_came_up():
    [session] = bgp_state.parse_frr_summary(fixture("frr_show_bgp_summary_down.json"))
    assert session["state"] == "Active" and not session["established"] and session["since"] is None


def test_frr_bfd_and_fib_next_hops():
    assert bgp_state.parse_frr_bfd(fixture("frr_show_bfd_peers.json"))["10.77.1.11"] == "up"
    assert bgp_state.parse_frr_route(fixture("frr_show_ip_route_vip.json"), "198.51.100.10/32") == ["10.77.1.11", "10.77.1.12"]
    assert bgp_state.parse_frr_route(fixture("frr_show_ip_route_vip.json"), "198.51.100.99/32") == []
    assert bgp_state.parse_frr_route("{}", "198.51.100.10/32") == []


def test_frr_advertised_routes():
    assert bgp_state.parse_frr_advertised(fixture("frr_advertised_routes.json")) == ["10.244.2.0/24", "198.51.100.10/32"]


def snapshot():
    return bgp_state.parse_frr_summary(fixture("frr_show_bgp_summary.json"))


def test_a_session_that_went_down_is_broken_and_a_removed_one_is_not():
    before, after = snapshot(), copy.deepcopy(snapshot())
    after[0].update(state="Active", established=False)
    del after[1]  # peer removed by the new config: expected, not broken
    assert [s["peer"] for s in bgp_state.broken_sessions(before, after)] == ["10.77.1.11"]


def test_a_session_that_re_established_is_reported_as_reset():
    before, after = snapshot(), copy.deepcopy(snapshot())
    assert bgp_state.reset_sessions(before, after) == []
    after[2]["generation"] = "6"
    assert [s["peer"] for s in bgp_state.reset_sessions(before, after)] == ["fd00:77:1::11"]


def test_protocols_gone_down_ignores_bgp_sessions_reported_elsewhere():
    sessions, before = bgp_state.parse_bird_protocols(fixture("bird_show_protocols_all.txt"))
    after = dict(before, fabric_bfd="down", cap_tor_v4="start")
    assert bgp_state.protocols_gone_down(before, after, sessions) == ["fabric_bfd"]


def test_passwords_are_masked_in_both_dialects():
    text = 'password "s3cret";\n neighbor NODES-V4 password s3cret\n neighbor 10.0.0.1 description password-less\n'
    masked = mask_secrets(text)
    assert "s3cret" not in masked
    assert 'password "********";' in masked and " neighbor NODES-V4 password ********" in masked
    assert "description password-less" in masked


def test_bird_stamps_that_jitter_name_the_same_establishment():
    """BIRD converts monotonic to wall-clock time lazily: an unchanged state change was seen 26 ms apart under load."""
    assert bgp_state.same_generation("22:44:45.858", "22:44:45.885")
    assert bgp_state.same_generation("2026-12-04 23:59:59.900", "2026-12-05 00:00:00.100")
    assert bgp_state.same_generation("5", "5")
    # A re-establishment is at least BIRD's error wait time (1 s) later.
    assert not bgp_state.same_generation("22:44:45.858", "22:44:47.100")
    # Counters (FRR, GoBGP) compare exactly.
    assert not bgp_state.same_generation("5", "6")
    assert not bgp_state.same_generation("1795635842/1", "1795635842/2")
    before = [{"name": "n1", "peer": "10.0.0.1", "family": "ipv4", "established": True, "generation": "22:44:45.858"}]
    jittered = [dict(before[0], generation="22:44:45.885")]
    reset = [dict(before[0], generation="22:44:49.000")]
    assert bgp_state.reset_sessions(before, jittered) == []
    assert bgp_state.reset_sessions(before, reset) == reset
