# -*- coding: utf-8 -*-
"""Dynamic node peering (fabric_bgp.node_peering: dynamic): ToRs accept their rack's nodes through listen ranges.

What must hold: a ToR's and a spine's configuration name no node, so adding or
removing a node renders them byte-identical; they still carry every policy a
static node session has (BFD, TCP-MD5, max-prefix, graceful shutdown, an
import filter, by the pools); FRR's own parser takes them; the plan counts a
node's new session as the node's change, not the ToR's.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops import plan
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render
from conftest import REPO
from fabric_factory import set_fabric, small_fabric
from render_cli import cli, same_tree

PASSWORD = "s3cret-md5"
DYNAMIC = REPO / "inventories" / "dynamic"
GOLDEN = REPO / "tests" / "golden" / "dynamic"
POD_POOLS = ("10.244.0.0/16", {"prefix": "fd00:244::/32", "node_prefix_length": 64})


def fabric(bgp=None, pod_pools=POD_POOLS, mutate=None):
    hostvars, groups = small_fabric(fabric_bgp=dict({"password": PASSWORD, "node_peering": "dynamic"}, **(bgp or {})))
    set_fabric(hostvars, "fabric_pod_pools", copy.deepcopy(list(pod_pools) if isinstance(pod_pools, tuple) else pod_pools))
    if mutate:
        mutate(hostvars, groups)
    return hostvars, groups


def build(hostvars, groups):
    intents, problems = model.build(hostvars, groups)
    assert not problems, problems.messages()
    return intents


def rendered(intents):
    return {name: render.render(intent, password=PASSWORD) for name, intent in intents.items()}


def add_node(hostvars, groups):
    """n5 joins rack r2 with a VIP and a pod CIDR nobody had before."""
    hostvars["n5"] = dict(
        copy.deepcopy(hostvars["n4"]),
        fabric_ipv4="10.1.2.13/24",
        fabric_ipv6="2001:db8:2::13/64",
        fabric_daemon="bird",
        fabric_vips=["198.51.100.10", "198.51.100.99", "2001:db8:ac::10"],
        fabric_pod_cidrs=["10.244.5.0/24", "fd00:244:5::/64"],
    )
    groups["fabric_nodes"] = groups["fabric_nodes"] + ["n5"]


def remove_node(hostvars, groups):
    del hostvars["n2"]
    groups["fabric_nodes"] = [n for n in groups["fabric_nodes"] if n != "n2"]


@pytest.fixture(scope="module")
def base():
    return build(*fabric())


@pytest.mark.parametrize("change", [add_node, remove_node], ids=["node-added", "node-removed"])
def test_a_node_joining_or_leaving_changes_no_tor_or_spine_file(base, change):
    before = rendered(base)
    after = rendered(build(*fabric(mutate=change)))
    for name, text in before.items():
        if base[name].role != "node":
            assert after[name] == text, name
        elif name in after:
            # The other nodes are untouched too.
            assert after[name] == text, name


def test_in_a_static_fabric_the_same_change_is_a_tor_and_spine_change():
    static = small_fabric()
    before = rendered(build(*static))
    hostvars, groups = small_fabric()
    add_node(hostvars, groups)
    after = rendered(build(hostvars, groups))
    assert before["tor2"] != after["tor2"] and before["spine1"] != after["spine1"]


def test_tor_intent_knows_its_nodes_but_its_config_names_none(base):
    tor = base["tor2"]
    assert [(r.prefix, r.family) for r in tor.listen] == [("10.1.2.0/24", "ipv4"), ("2001:db8:2::/64", "ipv6")]
    nodes = tor.peers_of("node")
    assert nodes and all(p.dynamic for p in nodes)
    text = render.render(tor, password=PASSWORD)
    for peer in nodes:
        assert peer.address not in text and peer.name not in text
    for line in (
        " bgp listen range 10.1.2.0/24 peer-group NODES-V4",
        " bgp listen range 2001:db8:2::/64 peer-group NODES-V6",
        " neighbor NODES-V4 remote-as external",
        " neighbor NODES-V4 password %s" % PASSWORD,
        " neighbor NODES-V4 bfd",
        "  neighbor NODES-V4 route-map FROM-NODES-V4 in",
        "  neighbor NODES-V4 maximum-prefix 100",
        "  neighbor NODES-V6 route-map FROM-NODES-V6 in",
        "  neighbor NODES-V4 route-map DENY-ALL out",
        "  neighbor SPINES-V4 route-map TO-SPINES-V4 out",
        "ip prefix-list POOLS-V4 seq 10 permit 10.244.0.0/16 ge 24 le 24",
        "ip prefix-list POOLS-V4 seq 20 permit 198.51.100.0/24 ge 32 le 32",
        "ipv6 prefix-list POOLS-V6 seq 10 permit 2001:db8:ac::/48 ge 128 le 128",
        "ipv6 prefix-list POOLS-V6 seq 20 permit fd00:244::/32 ge 64 le 64",
    ):
        assert line in text.splitlines(), line
    # A draining node's paths (graceful shutdown) leave ECMP, as with static peers.
    assert "route-map FROM-NODES-V4 permit 5\n match ip address prefix-list POOLS-V4\n match community GSHUT\n set local-preference 0" in text
    # FRR's default listen limit renders no line (running-config would not show it).
    assert "bgp listen limit" not in text


def test_the_listen_limit_bounds_the_spine_prefix_cap():
    intents = build(*fabric(bgp={"listen_limit": 7, "max_prefixes": 3}))
    assert " bgp listen limit 7" in render.render(intents["tor1"], password=PASSWORD).splitlines()
    spine = render.render(intents["spine1"], password=PASSWORD).splitlines()
    assert "  neighbor 10.0.0.11 maximum-prefix 21" in spine and "  neighbor 10.0.0.11 route-map FROM-TORS-V4 in" in spine


def test_a_tor_without_ipv6_pools_announces_no_ipv6():
    intents = build(
        *fabric(
            pod_pools=["10.244.0.0/16"], mutate=lambda hv, _g: [hv[n].update(fabric_pod_cidrs=["10.244.%d.0/24" % i]) for i, n in enumerate(("n1", "n3"), 1)]
        )
    )
    text = render.render(intents["tor2"], password=PASSWORD)
    assert "ipv6 prefix-list POOLS-V6 seq 10 permit 2001:db8:ac::/48 ge 128 le 128" in text
    assert "fd00:244" not in text


def test_nodes_render_as_in_a_static_fabric(base):
    static = build(*small_fabric())
    for name in ("n1", "n2", "n3", "n4"):
        assert render.render(base[name], password=PASSWORD) == render.render(static[name], password=PASSWORD)


def test_the_intent_round_trips(base):
    from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import Intent

    for intent in base.values():
        assert Intent.from_dict(intent.to_dict()) == intent


@pytest.mark.skipif(shutil.which("vtysh") is None, reason="FRR's vtysh is not installed")
def test_frr_parses_every_dynamic_config(tmp_path, base):
    for name, intent in base.items():
        if intent.daemon != "frr":
            continue
        path = tmp_path / ("%s.conf" % name)
        path.write_text(render.render(intent, password=PASSWORD))
        proc = subprocess.run(["vtysh", "-C", "-f", str(path)], capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, (name, proc.stdout, proc.stderr)


def test_the_golden_dynamic_fabric_renders_byte_identical(tmp_path):
    proc = cli("-i", str(DYNAMIC), "-o", "rendered", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert same_tree(tmp_path / "rendered", GOLDEN)


def test_the_golden_dynamic_fabric_keeps_its_routers_when_a_node_joins(tmp_path):
    inventory = tmp_path / "inventory"
    shutil.copytree(DYNAMIC, inventory)
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text())
    nodes = hosts["all"]["children"]["fabric_nodes"]["hosts"]
    nodes["r1-n3"] = {"fabric_rack": "r1", "fabric_ipv4": "10.20.1.13/24", "fabric_pod_cidrs": ["10.244.9.0/24"]}
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts))
    proc = cli("-i", str(inventory), "-o", "rendered", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for router in ("r1-tor1", "r1-tor2", "r2-tor1", "spine1"):
        assert (tmp_path / "rendered" / router / "frr.conf").read_bytes() == (GOLDEN / router / "frr.conf").read_bytes(), router
    assert (tmp_path / "rendered" / "r1-n3").is_dir()


# The plan ------------------------------------------------------------------------


def observed(intents, without=()):
    """What a running fabric of INTENTS shows: FRR on ToRs lists node sessions as dynamic; nodes in WITHOUT not yet running."""
    out = {}
    for name, intent in intents.items():
        if name in without:
            out[name] = {"config": {"changed": True, "commands": [], "diff": None}, "bgp": {"sessions": [], "exports": []}, "error": None}
            continue
        sessions = [
            {"peer": p.address, "family": p.family, "established": True, "state": "Established", "dynamic": p.dynamic}
            for p in intent.peers
            if p.name not in without
        ]
        exports = [v.prefix for v in intent.vips] + [p.prefix for p in intent.pod_cidrs]
        out[name] = {
            "config": {"changed": False, "commands": [], "diff": None},
            "bgp": {"sessions": sessions, "exports": exports},
            "drain": "in_service",
            "error": None,
        }
    return out


def test_plan_of_a_new_node_changes_only_the_node():
    intents = build(*fabric(mutate=add_node))
    report = plan.build(intents, observed(intents, without=("n5",)))
    assert report["hosts_changed"] == ["n5"]
    assert report["hosts"]["tor2"]["sessions_added"] == [] and report["hosts"]["n5"]["sessions_added"] == ["10.1.2.1", "2001:db8:2::1"]


def test_plan_of_a_removed_node_changes_no_router(base):
    live = observed(base)
    hostvars, groups = fabric(mutate=remove_node)
    report = plan.build(build(hostvars, groups), {n: v for n, v in live.items() if n != "n2"})
    assert report["hosts_changed"] == [] and report["hosts"]["tor1"]["sessions_removed"] == []


# Refusals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bgp, pod_pools, expected",
    [
        ({"node_peering": "Dynamic"}, POD_POOLS, "fabric_bgp.node_peering = 'Dynamic': must be one of: static, dynamic"),
        ({"listen_limit": 0}, POD_POOLS, "fabric_bgp.listen_limit = 0: must be an integer from 1 to 65535"),
        ({"listen_limit": 65536}, POD_POOLS, "fabric_bgp.listen_limit = 65536: must be an integer from 1 to 65535"),
        ({"listen_limit": True}, POD_POOLS, "fabric_bgp.listen_limit = true: must be an integer from 1 to 65535"),
        ({}, ["10.244.0.0/16", "not-a-prefix"], "fabric_pod_pools[1] = 'not-a-prefix'"),
        ({}, "10.244.0.0/16", "fabric_pod_pools = '10.244.0.0/16': must be a list"),
        ({}, [{"prefix": "10.244.0.0/16", "evil": "x\ny"}], "fabric_pod_pools[0] = "),
        ({}, [{"prefix": "10.244.0.0/16", "node_prefix_length": "24"}], "fabric_pod_pools[0].node_prefix_length = '24': must be an integer"),
        ({}, [{"prefix": "10.244.0.0/16", "node_prefix_length": 12}], "fabric_pod_pools[0].node_prefix_length = 12: the node prefix length 12"),
        ({}, ["0.0.0.0/0"], "fabric_pod_pools[0] = '0.0.0.0/0': is a default route"),
        ({}, ["10.244.0.0/16", "10.244.128.0/17"], "pod pools must be disjoint"),
        ({}, ["198.51.0.0/16"], "overlaps anycast pool 198.51.100.0/24"),
    ],
)
def test_hostile_dynamic_settings_are_refused_by_path(bgp, pod_pools, expected):
    problems = model.build(*fabric(bgp=bgp, pod_pools=pod_pools))[1]
    messages = problems.messages()
    assert any(expected in m for m in messages), messages
    assert not any(PASSWORD in m for m in messages)


def test_the_example_inventory_is_valid_yaml_with_dynamic_peering():
    settings = yaml.safe_load((DYNAMIC / "group_vars" / "all.yml").read_text())
    assert settings["fabric_bgp"]["node_peering"] == "dynamic"
    assert Path(GOLDEN).is_dir()


def test_verify_reads_a_missing_dynamic_session_as_a_node_not_connected(base):
    from ansible_collections.anycast.fabric.plugins.plugin_utils.ops import verify

    live = observed(base)
    live["tor1"]["bgp"]["sessions"] = [s for s in live["tor1"]["bgp"]["sessions"] if s["peer"] != "10.1.1.12"]
    cases = [c for c in verify.session_cases(base, live) if c.host == "tor1"]
    failed = [c for c in cases if not c.ok]
    assert len(failed) == 1 and "n2" in failed[0].subject and "dynamic peering: not connected" in failed[0].found
    assert all(c.ok for c in cases if c is not failed[0])


def test_plan_of_switching_a_tor_to_dynamic_peering_reports_its_node_sessions_reset():
    static = build(*small_fabric())
    dynamic = build(*fabric())
    live = observed(static)
    before = render.render(static["tor1"], password=PASSWORD)
    after = render.render(dynamic["tor1"], password=PASSWORD)
    # What frr-reload would run: the named neighbors go.
    commands = ["no neighbor %s remote-as %d" % (p.address, p.asn) for p in static["tor1"].peers_of("node")]
    live["tor1"]["config"] = {"changed": True, "commands": commands, "diff": {"before": before, "after": after}}
    report = plan.build(dynamic, live, planned_hosts=["tor1"])
    assert report["hosts"]["tor1"]["sessions_reset"] == sorted(p.address for p in dynamic["tor1"].peers_of("node"))
    assert any("re-establishes" in w for w in report["warnings"])
