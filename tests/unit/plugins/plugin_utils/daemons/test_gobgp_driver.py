# -*- coding: utf-8 -*-
"""GoBGP as a node daemon: the rendered TOML (checked by the real `gobgpd -d`), drains, resets, refusals.

`gobgpd -d` is Debian's gobgpd (package gobgpd, /usr/bin/gobgpd); GOBGPD may
name another binary (for example one extracted with `apt-get download gobgpd
&& dpkg -x gobgpd_*.deb DIR`: GOBGPD=DIR/usr/bin/gobgpd).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib

import pytest

from ansible_collections.anycast.fabric.plugins.module_utils._contract import DRAINED, DRAINING, GSHUT
from ansible_collections.anycast.fabric.plugins.module_utils._gobgp import semantic_problems, session_changes
from ansible_collections.anycast.fabric.plugins.module_utils._gobgp_rib import originated
from ansible_collections.anycast.fabric.plugins.plugin_utils import daemons
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import hosts, model
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render
from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons.gobgp import GoBGP
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.problems import Problems

PASSWORD = "s3cret-md5"
POOLS = ["198.51.100.0/24", "2001:db8:ac::/48"]


def gobgpd():
    path = os.environ.get("GOBGPD") or shutil.which("gobgpd") or shutil.which("gobgpd", path="/usr/sbin:/usr/bin")
    if not path or not os.access(path, os.X_OK):
        pytest.skip("gobgpd is not installed: `apt-get install gobgpd` (make setup), or set GOBGPD to a gobgpd binary")
    return path


def dry_run(tmp_path, text):
    path = tmp_path / "gobgpd.conf"
    path.write_text(text)
    proc = subprocess.run([gobgpd(), "-f", str(path), "-d"], capture_output=True, text=True, timeout=60, check=False)
    return proc.returncode == 0, proc.stdout + proc.stderr


def fabric(bgp=None, **node_vars):
    """A rack: one FRR ToR, a GoBGP node (dual stack), a BIRD node."""
    common = {"fabric_anycast_pools": list(POOLS), "fabric_bgp": dict({"password": PASSWORD, "bfd": False}, **(bgp or {}))}
    hostvars = {
        "tor1": {"fabric_rack": "r1", "fabric_asn": 65101, "fabric_ipv4": "10.1.1.1/24", "fabric_ipv6": "2001:db8:1::1/64"},
        "g1": dict(
            {
                "fabric_rack": "r1",
                "fabric_daemon": "gobgp",
                "fabric_ipv4": "10.1.1.21/24",
                "fabric_ipv6": "2001:db8:1::21/64",
                "fabric_vips": [
                    "198.51.100.10",
                    {"address": "198.51.100.11", "communities": ["65000:80", "65000:81"], "large_communities": ["4200000000:1:2"]},
                    "2001:db8:ac::10",
                ],
                "fabric_pod_cidrs": ["10.244.21.0/24", "fd00:244:21::/64"],
            },
            **node_vars,
        ),
        "b1": {"fabric_rack": "r1", "fabric_ipv4": "10.1.1.11/24", "fabric_vips": ["198.51.100.10"]},
    }
    for variables in hostvars.values():
        variables.update(common)
    return hostvars, {"fabric_tors": ["tor1"], "fabric_nodes": ["g1", "b1"]}


def intents_of(**kwargs):
    intents, problems = model.build(*fabric(**kwargs))
    assert not problems, problems.messages()
    return intents


def test_gobgp_is_a_node_daemon_in_the_registry():
    drv = daemons.driver("gobgp")
    assert isinstance(drv, GoBGP)
    assert "gobgp" in daemons.names_for("node") and "gobgp" not in daemons.names_for("tor")
    assert daemons.default_for("node") == "bird"
    assert drv.facts() == {
        "name": "gobgp",
        "roles": ["node"],
        "config_file": "gobgpd.conf",
        "config_path": "/etc/gobgpd.conf",
        "packages": ["gobgpd"],
        "service": "gobgpd",
        "capabilities": ["communities", "drain", "graceful_restart", "large_communities", "password", "ttl_security"],
    }


def test_a_gobgp_node_renders_to_toml_that_gobgpd_accepts(tmp_path):
    intent = intents_of()["g1"]
    assert render.config_filename(intent) == "gobgpd.conf"
    text = render.render(intent, password=PASSWORD)
    ok, output = dry_run(tmp_path, text)
    assert ok, output
    config = tomllib.loads(text)
    assert semantic_problems(config) == []
    assert config["global"]["config"] == {"as": intent.asn, "router-id": "10.1.1.21"}
    # Policies are global (GoBGP applies per-neighbor policies to route-server clients only).
    applied = config["global"]["apply-policy"]["config"]
    assert applied == {
        "import-policy-list": ["ACCEPT-LOCAL"],
        "default-import-policy": "reject-route",
        "export-policy-list": ["EXPORT-V4", "EXPORT-V6"],
        "default-export-policy": "reject-route",
    }
    assert originated(config) == {
        "ipv4": ["10.244.21.0/24", "198.51.100.10/32", "198.51.100.11/32"],
        "ipv6": ["2001:db8:ac::10/128", "fd00:244:21::/64"],
    }
    neighbors = {n["config"]["neighbor-address"]: n for n in config["neighbors"]}
    assert sorted(neighbors) == ["10.1.1.1", "2001:db8:1::1"]
    v4 = neighbors["10.1.1.1"]
    assert v4["config"] == {"neighbor-address": "10.1.1.1", "peer-as": 65101, "description": "tor1", "auth-password": PASSWORD}
    assert v4["timers"]["config"] == {"hold-time": 9, "keepalive-interval": 3, "connect-retry": 2, "idle-hold-time-after-reset": 1}
    assert v4["transport"]["config"] == {"local-address": "10.1.1.21"}
    assert [a["config"]["afi-safi-name"] for a in v4["afi-safis"]] == ["ipv4-unicast"]
    assert [a["config"]["afi-safi-name"] for a in neighbors["2001:db8:1::1"]["afi-safis"]] == ["ipv6-unicast"]


def _statements(config):
    found = {}
    for policy in config["policy-definitions"]:
        for statement in policy["statements"]:
            sets = {s["prefix-set-name"]: [p["ip-prefix"] for p in s["prefix-list"]] for s in config["defined-sets"]["prefix-sets"]}
            prefixes = sets.get(statement.get("conditions", {}).get("match-prefix-set", {}).get("prefix-set"), [])
            actions = statement["actions"].get("bgp-actions", {})
            communities = actions.get("set-community", {}).get("set-community-method", {}).get("communities-list", [])
            large = actions.get("set-large-community", {}).get("set-large-community-method", {}).get("communities-list", [])
            for prefix in prefixes:
                found[prefix] = (communities, large)
    return found


def test_vips_carry_their_communities_and_a_drain_tags_then_withdraws_them(tmp_path):
    intent = intents_of()["g1"]
    texts = {state: render.render(intent, password=PASSWORD, drain=state) for state in ("in_service", DRAINING, DRAINED)}
    for state, text in texts.items():
        ok, output = dry_run(tmp_path, text)
        assert ok, (state, output)
    normal = _statements(tomllib.loads(texts["in_service"]))
    assert normal["198.51.100.11/32"] == (["65000:80", "65000:81"], ["4200000000:1:2"])
    assert normal["198.51.100.10/32"] == ([], []) and normal["10.244.21.0/24"] == ([], [])
    draining = _statements(tomllib.loads(texts[DRAINING]))
    assert draining["198.51.100.11/32"][0] == ["65000:80", "65000:81", GSHUT]
    assert draining["2001:db8:ac::10/128"][0] == [GSHUT]
    assert draining["10.244.21.0/24"] == ([], []), "pod CIDRs are never tagged"
    drained = tomllib.loads(texts[DRAINED])
    # GoBGP does not withdraw what a changed export policy rejects: a drained
    # VIP leaves the originated set (the RIB), which withdraws it.
    assert originated(drained) == {"ipv4": ["10.244.21.0/24"], "ipv6": ["fd00:244:21::/64"]}
    assert set(_statements(drained)) == {"10.244.21.0/24", "fd00:244:21::/64"}


def test_a_drained_node_without_pod_cidrs_exports_nothing(tmp_path):
    intent = intents_of(fabric_pod_cidrs=[])["g1"]
    text = render.render(intent, password=PASSWORD, drain=DRAINED)
    ok, output = dry_run(tmp_path, text)
    assert ok, output
    config = tomllib.loads(text)
    assert config["global"]["apply-policy"]["config"]["export-policy-list"] == []
    assert originated(config) == {"ipv4": [], "ipv6": []}
    assert semantic_problems(config) == []


@pytest.mark.parametrize(
    "bgp, expected",
    [
        ({"ttl_security": True}, {"ttl-security": {"config": {"enabled": True, "ttl-min": 255}}}),
        ({"graceful_restart": True}, {"graceful-restart": {"config": {"enabled": True}}}),
        ({"password": None}, {}),
    ],
)
def test_session_options(tmp_path, bgp, expected):
    text = render.render(intents_of(bgp=bgp)["g1"], password=PASSWORD if bgp.get("password", PASSWORD) else None)
    ok, output = dry_run(tmp_path, text)
    assert ok, output
    neighbor = tomllib.loads(text)["neighbors"][0]
    for key, value in expected.items():
        assert neighbor[key] == value
    assert ("auth-password" in neighbor["config"]) is bool(bgp.get("password", PASSWORD))
    if bgp.get("graceful_restart"):
        assert neighbor["afi-safis"][0]["mp-graceful-restart"] == {"config": {"enabled": True}}


def test_gobgpd_rejects_what_the_host_validation_relies_on(tmp_path):
    good = render.render(intents_of()["g1"], password=PASSWORD)
    ok, output = dry_run(tmp_path, good.replace("peer-as =", "peer-az =", 1))
    assert not ok and "invalid keys: peer-az" in output
    ok, output = dry_run(tmp_path, good.replace("hold-time = 9", 'hold-time = "nine"', 1))
    assert not ok and "hold-time" in output


def test_semantic_checks_catch_what_gobgpd_d_lets_through(tmp_path):
    # gobgpd -d accepts these; the running daemon would only log a warning
    # and keep its old policy.
    good = render.render(intents_of()["g1"], password=PASSWORD)
    dangling = good.replace('prefix-set = "EXPORT-V4-1"', 'prefix-set = "NOPE"')
    assert dry_run(tmp_path, dangling)[0]
    assert semantic_problems(tomllib.loads(dangling)) == ["policy EXPORT-V4: prefix-set NOPE is not defined"]
    bad_community = good.replace('"65000:80"', '"65000:eighty"')
    assert dry_run(tmp_path, bad_community)[0]
    assert semantic_problems(tomllib.loads(bad_community)) == ["policy EXPORT-V4: set-community '65000:eighty' is not a community"]


def _layout(**kwargs):
    hostvars, groups = fabric(**kwargs)
    problems = Problems()
    layout = model.read(hostvars, groups, problems)
    assert not problems, problems.messages()
    return layout


def _daemon_problems(**kwargs):
    layout = _layout(**kwargs)
    problems = Problems()
    hosts.daemon_problems(layout.hosts, layout.fabric, problems)
    return problems.messages()


def test_bfd_is_refused_on_a_gobgp_node_with_host_path_and_value():
    messages = _daemon_problems(bgp={"bfd": True})
    assert messages == [
        "g1: fabric_bgp.bfd = true: fabric_daemon gobgp (GoBGP) has no BFD; set fabric_bgp.bfd: false in a fabric with GoBGP nodes "
        "(a dead node is then dropped after fabric_bgp.hold_time)"
    ]


def test_a_health_checked_vip_is_refused_on_a_gobgp_node():
    vips = ["198.51.100.10", {"address": "198.51.100.12", "health": {"checks": [{"type": "tcp", "port": 80}]}}]
    messages = _daemon_problems(fabric_vips=vips)
    assert len(messages) == 1
    assert messages[0].startswith("g1: fabric_vips[1].health = 'checks: tcp': is not supported with fabric_daemon: gobgp: ")
    assert "does not follow the address on lo, so the health agent could not withdraw this VIP" in messages[0]


def test_nothing_is_refused_for_a_fabric_gobgp_can_run():
    assert _daemon_problems(bgp={"ttl_security": True, "graceful_restart": True}) == []


def test_a_tor_cannot_run_gobgp():
    hostvars, groups = fabric()
    hostvars["tor1"]["fabric_daemon"] = "gobgp"
    _intents, problems = model.build(hostvars, groups)
    assert any(m.startswith("tor1: fabric_daemon = 'gobgp'") for m in problems.messages())


def test_the_model_reports_the_gaps_when_it_calls_the_drivers():
    if not hasattr(hosts, "daemon_problems"):
        pytest.skip("hosts.daemon_problems is missing")
    _intents, problems = model.build(*fabric(bgp={"bfd": True}))
    if not problems:
        pytest.skip("model.build does not call hosts.daemon_problems yet (one line in model.read, see docs/gobgp.md)")
    assert any(m.startswith("g1: fabric_bgp.bfd = true: fabric_daemon gobgp (GoBGP) has no BFD") for m in problems.messages())


# Session resets the plan reports ------------------------------------------------


def _observed(before, after, sessions):
    return {"config": {"diff": {"before": before, "after": after}}, "bgp": {"sessions": [{"peer": p} for p in sessions]}}


def test_a_policy_change_resets_no_session_a_neighbor_change_resets_that_neighbor():
    drv = daemons.driver("gobgp")
    intent = intents_of()["g1"]
    live = ["10.1.1.1", "2001:db8:1::1"]
    normal = render.render(intent, password=PASSWORD)
    assert drv.resets(intent, _observed(normal, render.render(intent, password=PASSWORD, drain=DRAINING), live)) == set()
    assert drv.resets(intent, _observed(normal, render.render(intent, password=PASSWORD, drain=DRAINED), live)) == set()
    timers = render.render(intents_of(bgp={"hold_time": 30})["g1"], password=PASSWORD)
    assert drv.resets(intent, _observed(normal, timers, live)) == set(live)
    one = normal.replace('description = "tor1"', 'description = "tor1-renamed"', 1)
    assert drv.resets(intent, _observed(normal, one, live)) == {"10.1.1.1"}
    # A new router id or ASN is read only at start: every session restarts.
    moved = normal.replace('router-id = "10.1.1.21"', 'router-id = "10.1.1.99"')
    assert drv.resets(intent, _observed(normal, moved, live)) == set(live)
    assert session_changes(normal, "not toml [") is None
    assert drv.resets(intent, _observed(normal, "not toml [", live)) == set(live)
