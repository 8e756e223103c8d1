# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A user's path: the built tarball installed outside the repository, run from a fresh folder with relative paths.

For each fabric shape (tests/shapes.py) the inventory is written into a new
temporary folder, and from there, exactly as README and getting-started say:

    ansible-playbook anycast.fabric.render -i inv -e fabric_render_dir=./rendered
    ansible-playbook anycast.fabric.plan   -i inv -e fabric_plan_dir=./plan

Only the installed copy is on the collections path. The plan runs against
hosts reached with `ansible_connection: local` whose routing daemons do not
run, as on a new rack; every host keeps its drain record in its own folder
(`fabric_state_dir`), and one shape has a drained node.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from ansible_collections.anycast.fabric.plugins.module_utils._contract import DRAINED, IN_SERVICE
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render
from conftest import BIN, REPO, parse_config
from shapes import PASSWORD, Shape, generate

# name -> (shape, host to drain or None)
SHAPES = {
    "no-spines": (Shape(racks=1, nodes=2, tors=2, spines=0), None),
    "one-tor-per-rack": (Shape(racks=2, nodes=2, tors=1, spines=1, daemons="mixed"), None),
    "per-node-asns": (Shape(racks=1, nodes=3, tors=1, spines=1, asn_scheme="per_node", daemons="frr"), None),
    "ipv6-only-vips": (Shape(racks=1, nodes=2, tors=1, spines=1, family="ipv6_vips"), None),
    "spine-upstreams-v4-v6": (Shape(racks=1, nodes=2, tors=1, spines=2, family="dual", upstreams="both", long_names=True), None),
    "two-sites-one-without-spines": (Shape(sites=2, racks=1, nodes=2, tors=1, spines=(1, 0), upstreams="ipv4", regional_vip=True), None),
    "drained-node": (Shape(racks=1, nodes=2, tors=1, spines=0, daemons="mixed"), "ams-r1-n1"),
    "one-node": (Shape(racks=1, nodes=1, tors=1, spines=0, vips=1, pod_cidrs=0), None),
}
FORKS = "10"
TIMEOUT = 600
NOT_FABRIC = "No fabric host in the inventory"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The collection built and installed into a temporary collections path (once for this module)."""
    target = tmp_path_factory.mktemp("collections")
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ.get("PATH", "")))
    proc = subprocess.run([str(REPO / "scripts" / "install-built.sh"), str(target)], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    root = target / "ansible_collections" / "anycast" / "fabric"
    assert (root / "MANIFEST.json").is_file()
    return target, root, collection_files(root)


def collection_files(root):
    """Every file of the installed collection but Python's byte-code caches."""
    return {
        os.path.relpath(os.path.join(folder, name), root)
        for folder, dirs, files in os.walk(root)
        for name in files
        if "__pycache__" not in folder and not name.endswith(".pyc")
    }


def user_env(collections):
    env = dict(os.environ)
    for key in [k for k in env if k.startswith("ANSIBLE_")]:
        del env[key]
    env.update(
        # Only the installed copy: not the work tree, not site-packages.
        ANSIBLE_COLLECTIONS_PATH=str(collections),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_NOCOLOR="true",
        ANSIBLE_FORCE_COLOR="false",
        ANSIBLE_HOST_KEY_CHECKING="false",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        PATH="%s:%s" % (BIN, os.environ.get("PATH", "")),
    )
    return env


def play(installed, cwd, *args):
    cmd = [str(BIN / "ansible-playbook"), *args, "--forks", FORKS]
    return subprocess.run(cmd, cwd=cwd, env=user_env(installed[0]), capture_output=True, text=True, timeout=TIMEOUT, check=False)


class Case:
    """One shape, written as a user's inventory in a fresh folder outside the repository."""

    def __init__(self, name, shape, drained, folder):
        self.name, self.shape, self.drained, self.folder = name, shape, drained, folder
        self.fabric = generate(shape)
        intents, problems = model.build(self.fabric.hostvars, self.fabric.groups)
        assert not problems, problems.messages()
        self.intents = intents
        states = folder.parent / ("%s-state" % folder.name)
        extra = {host: {"fabric_state_dir": str(states / host)} for host in self.fabric.host_vars}
        if drained:
            (states / drained).mkdir(parents=True)
            record = {"schema": 1, "state": DRAINED, "since": "2026-11-25T10:00:00Z", "reason": "test_user_path"}
            (states / drained / "drain.json").write_text(json.dumps(record))
        # What the play needs to reach the stand-in hosts: this machine, with the managed hosts' Python.
        connection = {"ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3"}
        self.fabric.write(folder / "inv", all_vars=connection, host_extra=extra)
        assert REPO not in folder.parents

    def drain(self, host):
        return DRAINED if host == self.drained else IN_SERVICE


@pytest.fixture(scope="module", params=sorted(SHAPES))
def case(request, tmp_path_factory):
    shape, drained = SHAPES[request.param]
    return Case(request.param, shape, drained, tmp_path_factory.mktemp("user-%s" % request.param))


@pytest.fixture(scope="module")
def rendered(case, installed):
    proc = play(installed, case.folder, "anycast.fabric.render", "-i", "inv", "-e", "fabric_render_dir=./rendered")
    return proc


@pytest.fixture(scope="module")
def planned(case, installed):
    proc = play(installed, case.folder, "anycast.fabric.plan", "-i", "inv", "-e", "fabric_plan_dir=./plan")
    return proc


def output(proc):
    return "exit %d\n%s\n%s" % (proc.returncode, proc.stdout[-6000:], proc.stderr[-3000:])


# Render -------------------------------------------------------------------------------------


def test_render_writes_every_host_into_the_users_folder(case, rendered, installed):
    assert rendered.returncode == 0, output(rendered)
    out = case.folder / "rendered"
    assert out.is_dir(), "nothing was written to ./rendered (relative to the folder the user ran from)\n" + output(rendered)
    assert sorted(p.name for p in out.iterdir()) == sorted(case.intents)
    for host, intent in case.intents.items():
        files = sorted(p.name for p in (out / host).iterdir())
        assert files == [render.config_filename(intent)], host
        path = out / host / files[0]
        # It holds the BGP key.
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert path.read_text() == render.render(intent, password=PASSWORD), "%s: the installed collection rendered something else" % host
    # Nowhere else: the folder holds the inventory and the output, the installed collection is untouched.
    assert {p.name for p in case.folder.iterdir()} <= {"inv", "rendered", "plan"}
    assert collection_files(installed[1]) == installed[2], "render wrote into the installed collection"


def test_rendered_files_pass_the_real_parsers(case, rendered):
    assert rendered.returncode == 0, output(rendered)
    for host, intent in case.intents.items():
        ok, text = parse_config(case.folder / "rendered" / host / render.config_filename(intent))
        assert ok, "%s: %s" % (host, text)


# Plan ---------------------------------------------------------------------------------------


def plan_report(case, planned):
    assert planned.returncode == 0, output(planned)
    path = case.folder / "plan" / "plan.json"
    assert path.is_file(), "no ./plan/plan.json (relative to the folder the user ran from)\n" + output(planned)
    return json.loads(path.read_text())


def test_plan_writes_its_report_into_the_users_folder(case, planned, installed):
    report = plan_report(case, planned)
    # A plan with changes draws them (plan.svg) and links the picture from plan.md.
    assert sorted(p.name for p in (case.folder / "plan").iterdir()) == ["plan.json", "plan.md", "plan.svg"]
    text = (case.folder / "plan" / "plan.md").read_text()
    assert "**Changes** on %d host(s)." % len(case.intents) in text
    assert "[What the change touches](plan.svg)" in text
    svg = (case.folder / "plan" / "plan.svg").read_text()
    # Every host is new: every box (a collapsed rack's too) is a change, none unchanged.
    assert 'class="node host changed"' in svg and 'class="node host ok"' not in svg
    assert PASSWORD not in svg
    assert report["result"] == "changes"
    assert {p.name for p in case.folder.iterdir()} <= {"inv", "rendered", "plan"}
    assert collection_files(installed[1]) == installed[2], "plan wrote into the installed collection"


def test_plan_of_new_hosts_adds_every_session_and_vip(case, planned):
    """New racks: no daemon runs, so every host's whole configuration, sessions and VIPs are additions."""
    report = plan_report(case, planned)
    assert report["errors"] == []
    assert report["warnings"] == []
    assert sorted(report["hosts"]) == sorted(case.intents)
    assert report["hosts_changed"] == sorted(case.intents)
    for host, intent in case.intents.items():
        entry = report["hosts"][host]
        assert (entry["role"], entry["daemon"], entry["site"], entry["rack"]) == (intent.role, intent.daemon, intent.site, intent.rack), host
        assert entry["config_changed"] and entry["error"] is None, host
        assert entry["sessions_added"] == sorted({p.address for p in intent.peers}), host
        assert entry["sessions_removed"] == [] and entry["sessions_reset"] == [], host
        if intent.role == "node":
            assert entry["vips_added"] == sorted(intent.vip_prefixes()), host
            assert entry["drain"] == case.drain(host), host
    text = json.dumps(report)
    assert PASSWORD not in text, "the plan report shows the BGP key"


def test_plan_renders_a_drained_node_drained(case, planned):
    """The drained node's record (in its fabric_state_dir) is read, and the planned configuration is the drained one."""
    report = plan_report(case, planned)
    for host in [case.drained] if case.drained else []:
        entry = report["hosts"][host]
        assert entry["drain"] == DRAINED, "%s has a drain record saying drained; the plan read %s" % (host, entry["drain"])
        intent = case.intents[host]
        drained = render.render(intent, password=PASSWORD, drain=DRAINED).splitlines()
        in_service = set(render.render(intent, password=PASSWORD).splitlines())
        only_drained = [line for line in drained if line not in in_service and line.strip()]
        assert only_drained, "rendering drained changes nothing?"
        added = {line[1:] for line in entry["diff"].splitlines() if line.startswith("+")}
        missing = [line for line in only_drained if line not in added]
        assert not missing, "the plan did not render %s drained: missing %s" % (host, missing)


# No fabric host ---------------------------------------------------------------------------


@pytest.mark.parametrize("playbook", ["render", "plan"])
@pytest.mark.parametrize("inventory", ["missing", "no-fabric-hosts"])
def test_no_fabric_host_fails_clearly(playbook, inventory, installed, tmp_path):
    if inventory == "no-fabric-hosts":
        (tmp_path / "inv.yml").write_text("all:\n  children:\n    web:\n      hosts:\n        web1: {ansible_connection: local}\n")
        source = "inv.yml"
    else:
        source = "no-such-inventory"
    dest = "fabric_render_dir=./rendered" if playbook == "render" else "fabric_plan_dir=./plan"
    proc = play(installed, tmp_path, "anycast.fabric.%s" % playbook, "-i", source, "-e", dest)
    assert proc.returncode != 0, output(proc)
    assert NOT_FABRIC in proc.stdout + proc.stderr, output(proc)
    assert not (tmp_path / "rendered").exists() and not (tmp_path / "plan").exists()
