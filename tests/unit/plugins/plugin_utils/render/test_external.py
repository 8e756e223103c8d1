# -*- coding: utf-8 -*-
"""ToRs and spines managed elsewhere (fabric_daemon: external): a hand-off, never a configuration the roles apply.

What must hold: the model takes `external` for ToRs and spines only; such a
router's render folder holds handoff.md and handoff.frr.conf (FRR's own
parser takes it; it equals the configuration a managed FRR router would get,
the key left as a placeholder) and no frr.conf; its peers' configurations do
not change; verify skips its own reads and still checks the other ends; plan
plans nothing of it and says so.
"""

from __future__ import annotations

import copy
import dataclasses
import shutil
import subprocess

import pytest

from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons.external import HANDOFF_CONFIG, HANDOFF_NOTES, PASSWORD_PLACEHOLDER
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops import plan, verify
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops.rollout import count_paths, path_index
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render
from fabric_factory import small_fabric

PASSWORD = "s3cret-md5"


def build(**daemons):
    hostvars, groups = small_fabric(fabric_bgp={"password": PASSWORD})
    for host, daemon in daemons.items():
        hostvars[host]["fabric_daemon"] = daemon
    intents, problems = model.build(hostvars, groups)
    return intents, problems.messages()


@pytest.fixture(scope="module")
def fabric():
    intents, problems = build(tor2="external", spine1="external")
    assert not problems, problems
    return intents


def test_routers_may_be_external_nodes_may_not():
    _intents, problems = build(n1="external")
    assert any(m.startswith("n1: fabric_daemon = 'external'") for m in problems), problems


def test_an_external_router_gets_a_handoff_and_no_configuration(fabric):
    files = render.rendered_files(fabric["tor2"], password=PASSWORD)
    assert sorted(files) == [HANDOFF_CONFIG, HANDOFF_NOTES]
    config = files[HANDOFF_CONFIG]
    assert PASSWORD not in config and PASSWORD not in files[HANDOFF_NOTES]
    assert "neighbor NODES-V4 password %s" % PASSWORD_PLACEHOLDER in config
    # The same as what a managed FRR ToR would be given, the key aside.
    managed = render.render(dataclasses.replace(fabric["tor2"], daemon="frr"), password=PASSWORD)
    body = "\n".join(line for line in config.splitlines() if not line.startswith("! HAND-OFF") and "Replace " not in line and "handoff.md" not in line)
    assert body == managed.replace(PASSWORD, PASSWORD_PLACEHOLDER).rstrip("\n")
    # A managed router's folder is unchanged: one configuration file.
    assert list(render.rendered_files(fabric["tor1"], password=PASSWORD)) == ["frr.conf"]


def test_the_handoff_names_every_session_and_the_policy(fabric):
    notes = render.rendered_files(fabric["tor2"], password=PASSWORD)[HANDOFF_NOTES]
    for peer in fabric["tor2"].peers:
        assert "| %s | %s | %s | %s | %d |" % (peer.name, peer.role, peer.family, peer.address, peer.asn) in notes
    assert "TCP-MD5 key: the fabric's `fabric_bgp.password` (not written here)" in notes
    assert "graceful-shutdown" in notes and "cumulative" in notes
    spine = render.rendered_files(fabric["spine1"], password=PASSWORD)[HANDOFF_NOTES]
    assert "extcommunity none" in spine


def test_peers_of_external_routers_render_as_before():
    managed, _p = build()
    external, _p = build(tor2="external", spine1="external")
    for name in ("n1", "n2", "n3", "n4", "tor1"):
        assert render.render(managed[name], password=PASSWORD) == render.render(external[name], password=PASSWORD), name


@pytest.mark.skipif(shutil.which("vtysh") is None, reason="FRR's vtysh is not installed")
def test_frr_parses_the_handoff(tmp_path, fabric):
    for name in ("tor2", "spine1"):
        path = tmp_path / name
        path.write_text(render.rendered_files(fabric[name], password=PASSWORD)[HANDOFF_CONFIG])
        proc = subprocess.run(["vtysh", "-C", "-f", str(path)], capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, (name, proc.stdout, proc.stderr)


def test_verify_skips_what_it_cannot_read_and_checks_the_other_ends(fabric):
    expected = {name: count_paths(entry, ()) for name, entry in path_index(fabric).items()}
    observed = {}
    for name, intent in fabric.items():
        if intent.daemon == "external":
            continue  # never read
        sessions = [{"peer": p.address, "family": p.family, "state": "Established", "established": True} for p in intent.peers]
        routes = {prefix: {"next_hops": ["192.0.2.%d" % n for n in range(count)]} for prefix, count in expected.get(name, {}).items()}
        observed[name] = {"bgp": {"sessions": sessions, "routes": routes, "exports": intent.vip_prefixes()}, "error": None}
    # n3's session with the external tor2 is down: the node's end says so.
    for session in observed["n3"]["bgp"]["sessions"]:
        session.update(state="Active", established=False)
    cases = verify.cases(fabric, expected, observed)
    external = [c for c in cases if c.host in ("tor2", "spine1")]
    assert external and all(c.ok and c.skipped and c.found == verify.NOT_READ for c in external)
    failed = [c for c in cases if not c.ok]
    assert failed and {c.host for c in failed} == {"n3"}


def test_plan_plans_nothing_of_an_external_router_and_says_so(fabric):
    observed = {name: {"config": {"changed": False}, "bgp": {"sessions": [], "exports": []}, "error": None} for name in fabric}
    for name in ("tor2", "spine1"):
        observed[name] = {"config": {}, "bgp": {}, "drain": "in_service", "error": None}
    report = plan.build(fabric, copy.deepcopy(observed))
    assert "tor2" not in report["hosts_changed"] and "spine1" not in report["hosts_changed"]
    assert report["hosts"]["tor2"]["external"] is True
    assert any(w.startswith("tor2 is managed elsewhere") for w in report["warnings"])
