# -*- coding: utf-8 -*-
"""Weighted anycast (fabric_bgp.weighted_ecmp, fabric_vip_weight, a VIP's weight).

What must hold: every node daemon announces its weight as link bandwidth in
the form its own parser takes (and FRR reads: checked once against real
sessions, see docs/data-model.md); a ToR sums its ECMP set up to the spines,
a spine keeps the weights inside the site; a rack with a ToR pair is not
counted twice; a weight change touches only its node; switched off, nothing
is attached and routers ignore what arrives; bad weights are refused with
host, path and value.
"""

from __future__ import annotations

import copy
import re
import shutil
import struct
import subprocess

import pytest

from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model, weights
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render
from fabric_factory import small_fabric, two_sites

PASSWORD = "s3cret-md5"


def build(hostvars, groups):
    intents, problems = model.build(hostvars, groups)
    assert not problems, problems.messages()
    return intents


def problems_of(hostvars, groups):
    _intents, problems = model.build(hostvars, groups)
    return problems.messages()


def fabric(bgp=None, gobgp=False, **node_vars):
    """small_fabric (racks r1: n1 BIRD, n2 FRR; r2: n3 BIRD, n4 FRR or GoBGP), node variables per node."""
    hostvars, groups = small_fabric(fabric_bgp=dict({"password": PASSWORD}, **(bgp or {})))
    if gobgp:
        hostvars["n4"]["fabric_daemon"] = "gobgp"
        for variables in hostvars.values():
            variables["fabric_bgp"]["bfd"] = False
    for node, variables in node_vars.items():
        hostvars[node].update(copy.deepcopy(variables))
    return hostvars, groups


def rendered(intents):
    return {name: render.render(intent, password=PASSWORD) for name, intent in intents.items()}


def bits(mbps):
    return struct.unpack(">I", struct.pack(">f", mbps * 125000.0))[0]


def test_every_node_daemon_announces_its_weight_and_tors_sum_it_up():
    text = rendered(build(*fabric(gobgp=True, n3={"fabric_vip_weight": 3})))
    # BIRD: a transitive link-bandwidth community; a 4-octet node ASN is written as AS_TRANS.
    assert "bgp_ext_community.add((unknown 0x4, 23456, %d));" % bits(1) in text["n1"]
    assert "bgp_ext_community.add((unknown 0x4, 23456, %d));" % bits(3) in text["n3"]
    assert " set extcommunity bandwidth 1\n" in text["n2"]
    assert '"lb:23456:125000"' in text["n4"]
    for tor in ("tor1", "tor2"):
        entries = re.findall(r"^route-map TO-SPINES-V\d permit \d+\n(.*?)^exit", text[tor], re.M | re.S)
        assert entries and all(" set extcommunity bandwidth cumulative\n" in entry for entry in entries)
        assert "bgp bestpath bandwidth" not in text[tor]
    assert "extcommunity" not in text["spine1"] and "bgp bestpath bandwidth" not in text["spine1"]


def test_a_vip_weight_overrides_the_node_weight_and_splits_the_export():
    vips = ["198.51.100.10", {"address": "198.51.100.21", "weight": 5}, {"address": "198.51.100.22", "weight": 2}]
    intents = build(*fabric(n1={"fabric_vip_weight": 2, "fabric_vips": vips}))
    entries = intents["n1"].export_policy["ipv4"]
    # Pod CIDRs (one path each) keep the plain weight.
    assert sorted((e.weight, e.bandwidth, e.prefixes) for e in entries) == [
        (1, 1, ("10.244.1.0/24",)),
        (2, 2, ("198.51.100.10/32", "198.51.100.22/32")),
        (5, 5, ("198.51.100.21/32",)),
    ]
    text = render.render(intents["n1"], password=PASSWORD)
    assert "(unknown 0x4, 23456, %d)" % bits(5) in text and "(unknown 0x4, 23456, %d)" % bits(2) in text
    assert {v.prefix: v.weight for v in intents["n1"].vips} == {"198.51.100.10/32": 2, "198.51.100.21/32": 5, "198.51.100.22/32": 2}


def test_a_rack_with_a_tor_pair_is_not_counted_twice():
    hostvars, groups = fabric()
    hostvars["tor1b"] = dict(copy.deepcopy(hostvars["tor1"]), fabric_ipv4="10.1.1.2/24", fabric_uplink_ipv4="10.0.0.13/24", fabric_asn=65103)
    groups["fabric_tors"] = groups["fabric_tors"] + ["tor1b"]
    intents = build(hostvars, groups)
    # r1 has two ToRs, r2 one: the common multiple is 2, so r1's nodes announce 1 per weight and r2's 2.
    assert {e.bandwidth for e in intents["n1"].export_policy["ipv4"]} == {1}
    assert {e.bandwidth for e in intents["n3"].export_policy["ipv4"]} == {2}
    assert weights.units({("s", "a"): {"tors": [1]}, ("s", "b"): {"tors": [1, 2]}, ("s", "c"): {"tors": [1, 2, 3]}}) == {
        ("s", "a"): 6,
        ("s", "b"): 3,
        ("s", "c"): 2,
    }


def test_a_weight_change_touches_only_its_node():
    before = rendered(build(*fabric()))
    after = rendered(build(*fabric(n3={"fabric_vip_weight": 2})))
    assert [name for name in before if before[name] != after[name]] == ["n3"]


def test_switched_off_nothing_is_attached_and_routers_ignore_what_arrives():
    text = rendered(build(*fabric(bgp={"weighted_ecmp": False}, gobgp=True)))
    for name, config in text.items():
        assert "extcommunity" not in config and "ext_community" not in config and "lb:" not in config, name
    for router in ("tor1", "tor2", "spine1"):
        assert " bgp bestpath bandwidth ignore\n" in text[router]


def test_spines_keep_the_weights_inside_the_site():
    intents = build(*two_sites())
    text = render.render(intents["spine-a"], password=PASSWORD)
    entries = re.findall(r"^route-map TO-UPSTREAMS-V\d permit \d+\n(.*?)^exit", text, re.M | re.S)
    assert entries and all(" set extcommunity none\n" in entry for entry in entries)


@pytest.mark.parametrize(
    "where, value",
    [
        ("node", 0),
        ("node", 101),
        ("node", True),
        ("node", 1.5),
        ("vip", 0),
        ("vip", -3),
        ("vip", "heavy"),
        ("vip", 10**30),
    ],
)
def test_bad_weights_are_refused_with_host_path_and_value(where, value):
    if where == "node":
        messages = problems_of(*fabric(n1={"fabric_vip_weight": value}))
        path = "fabric_vip_weight"
    else:
        messages = problems_of(*fabric(n1={"fabric_vips": [{"address": "198.51.100.10", "weight": value}]}))
        path = "fabric_vips[0].weight"
    assert any("n1" in m and path in m for m in messages), messages


def test_a_weight_without_weighted_ecmp_is_refused():
    vips = [{"address": "198.51.100.10", "weight": 3}]
    messages = problems_of(*fabric(bgp={"weighted_ecmp": False}, n1={"fabric_vip_weight": 2}, n3={"fabric_vips": vips}))
    assert any("n1" in m and "fabric_vip_weight" in m and "weighted_ecmp" in m for m in messages), messages
    assert any("n3" in m and "fabric_vips[0].weight" in m for m in messages), messages
    # An explicit weight of 1 says nothing more than the default: accepted.
    assert not problems_of(*fabric(bgp={"weighted_ecmp": False}, n1={"fabric_vips": [{"address": "198.51.100.10", "weight": 1}]}))


def test_weights_a_router_cannot_carry_are_refused(monkeypatch):
    monkeypatch.setattr(weights, "MAX_LINK_BANDWIDTH", 4)
    messages = problems_of(*fabric(n1={"fabric_vip_weight": 5}))
    assert any("n1" in m and "fabric_vip_weight" in m and "Mbps" in m for m in messages), messages
    monkeypatch.setattr(weights, "MAX_CUMULATIVE_BANDWIDTH", 7)
    messages = problems_of(*fabric(n1={"fabric_vip_weight": 4}, n2={"fabric_vip_weight": 4}, n3={"fabric_vip_weight": 4}))
    assert any("tor1" in m and "fabric_rack" in m for m in messages), messages


def test_the_intent_round_trips_with_weights():
    from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import Intent

    for intent in build(*fabric(n1={"fabric_vip_weight": 3})).values():
        assert Intent.from_dict(intent.to_dict()) == intent


@pytest.mark.skipif(shutil.which("bird") is None or shutil.which("vtysh") is None, reason="BIRD or FRR is not installed")
@pytest.mark.parametrize("weighted", [True, False])
def test_the_daemons_own_parsers_take_the_weighted_configs(tmp_path, weighted):
    vips = ["198.51.100.10", {"address": "198.51.100.21", "weight": 7}]
    bgp = {"weighted_ecmp": weighted}
    nodes = {"n1": {"fabric_vips": vips}, "n2": {"fabric_vips": vips}} if weighted else {}
    for name, intent in build(*fabric(bgp=bgp, **nodes)).items():
        path = tmp_path / name
        path.write_text(render.render(intent, password=PASSWORD))
        if intent.daemon == "bird":
            cmd = ["bird", "-p", "-c", str(path)]
        elif intent.daemon == "frr":
            cmd = ["vtysh", "-C", "-f", str(path)]
        else:
            continue
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, (name, proc.stdout, proc.stderr)
