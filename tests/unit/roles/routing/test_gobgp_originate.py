# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node program gobgp-originate (roles/routing/files): the module's own reconcile, installed by the role, run by the unit.

The program is plugins/module_utils/_gobgp_rib.py plus a __main__ guard
(scripts/build-gobgp-originate.py): these tests fail when the role's copy is
stale, and run the copy itself, with the node's Python and a fake `gobgp` on
PATH, against a configuration the collection renders. The reconcile's cases
are in tests/unit/plugins/module_utils/test__gobgp_rib.py; the container test
(a restarted gobgpd originates its prefixes again) in tests/integration/test_gobgp.py.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.anycast.fabric.plugins.module_utils._gobgp_rib import load, originated
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render

ROOT = Path(__file__).resolve().parents[4]
PROGRAM = ROOT / "roles" / "routing" / "files" / "gobgp-originate"
SPEC = importlib.util.spec_from_file_location("build_gobgp_originate", ROOT / "scripts" / "build-gobgp-originate.py")
build = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(build)
# The node's interpreter (Debian 12: 3.11, which has tomllib); the venv's when this machine has none.
NODE_PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable

FAKE_GOBGP = """\
import json, os, sys

path = os.environ["FAKE_GOBGP_STATE"]
with open(path) as handle:
    state = json.load(handle)
words = sys.argv[1:]
state["calls"].append(words)


def done(code, out="", err=""):
    with open(path, "w") as handle:
        json.dump(state, handle)
    sys.stdout.write(out)
    sys.stderr.write(err)
    sys.exit(code)


if words == ["global", "-j"]:
    if state["api_down"]:
        state["api_down"] -= 1
        done(1, err="rpc error: connection refused\\n")
    done(0, '{"attrs":{"as":4200000001}}\\n')
family, verb = words[3], words[4]
if verb in state["fail"]:
    done(1, err="rpc error: code = Unknown desc = refused\\n")
if verb == "-j":
    rib = {p: [{"nlri": {"prefix": p}, "best": True}] for p in state["rib"][family]}
    done(0, json.dumps(rib) + "\\n")
if verb == "add":
    state["rib"][family] = sorted(set(state["rib"][family]) | {words[5]})
elif verb == "del":
    state["rib"][family] = [p for p in state["rib"][family] if p != words[5]]
done(0)
"""


def test_the_roles_program_is_the_shared_module_plus_its_entry():
    wanted = build.program(build.SOURCE.read_text(encoding="utf-8"))
    assert PROGRAM.read_text(encoding="utf-8") == wanted, "stale: run python scripts/build-gobgp-originate.py"
    assert build.main(["--check"]) == 0


def test_the_role_installs_the_program_and_the_unit_runs_it_after_every_start():
    tasks = yaml.safe_load((ROOT / "roles" / "routing" / "tasks" / "gobgp.yml").read_text())
    copies = [t["ansible.builtin.copy"] for t in tasks if "ansible.builtin.copy" in t]
    program = next(c for c in copies if c.get("src") == "gobgp-originate")
    unit = next(c for c in copies if c.get("dest", "").endswith("gobgpd.service.d/anycast-fabric.conf"))
    assert "ExecStartPost=+/usr/bin/python3 %s /etc/gobgpd.conf" % program["dest"] in unit["content"].splitlines()


def rendered_node_config():
    common = {"fabric_anycast_pools": ["198.51.100.0/24", "2001:db8:ac::/48"], "fabric_bgp": {"bfd": False}}
    hostvars = {
        "tor1": dict(common, fabric_rack="r1", fabric_asn=65101, fabric_ipv4="10.1.1.1/24", fabric_ipv6="2001:db8:1::1/64"),
        "g1": dict(
            common,
            fabric_rack="r1",
            fabric_daemon="gobgp",
            fabric_ipv4="10.1.1.21/24",
            fabric_ipv6="2001:db8:1::21/64",
            fabric_vips=["198.51.100.10", {"address": "198.51.100.11", "communities": ["65000:80"]}, "2001:db8:ac::10"],
            fabric_pod_cidrs=["10.244.21.0/24", "fd00:244:21::/64"],
        ),
    }
    intents, problems = model.build(hostvars, {"fabric_tors": ["tor1"], "fabric_nodes": ["g1"]})
    assert not problems, problems.messages()
    return render.render(intents["g1"])


@pytest.fixture
def node(tmp_path):
    """A node: the rendered /etc/gobgpd.conf, and a fake gobgp (its RIB in a JSON file) on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "gobgp"
    fake.write_text("#!%s\n%s" % (sys.executable, FAKE_GOBGP))
    fake.chmod(0o755)
    conf = tmp_path / "gobgpd.conf"
    conf.write_text(rendered_node_config())
    state = tmp_path / "rib.json"

    class Node:
        config = conf

        @staticmethod
        def set(rib=None, api_down=0, fail=()):
            state.write_text(json.dumps({"rib": dict({"ipv4": [], "ipv6": []}, **(rib or {})), "api_down": api_down, "fail": list(fail), "calls": []}))

        @staticmethod
        def state():
            return json.loads(state.read_text())

        @staticmethod
        def run(*args):
            env = dict(os.environ, PATH="%s:%s" % (bin_dir, os.environ.get("PATH", "")), FAKE_GOBGP_STATE=str(state))
            return subprocess.run([NODE_PYTHON, str(PROGRAM), *args], capture_output=True, text=True, env=env, timeout=60, check=False)

    Node.set()
    return Node


def test_a_started_gobgpd_gets_exactly_the_prefixes_of_its_file(node):
    wanted = originated(load(node.config.read_text()))
    assert wanted == {"ipv4": ["10.244.21.0/24", "198.51.100.10/32", "198.51.100.11/32"], "ipv6": ["2001:db8:ac::10/128", "fd00:244:21::/64"]}
    # A stale path (a VIP that left the file) is removed; the API answers only on the third try.
    node.set(rib={"ipv4": ["198.51.100.99/32"]}, api_down=2)
    proc = node.run(str(node.config))
    assert proc.returncode == 0, proc.stderr
    assert node.state()["rib"] == wanted
    assert node.state()["calls"][:3] == [["global", "-j"]] * 3
    assert "gobgp global rib -a ipv4 del 198.51.100.99/32" in proc.stdout.splitlines()
    # Run again (another start of the unit with the same RIB): it only reads.
    node.set(rib=wanted)
    proc = node.run(str(node.config))
    assert proc.returncode == 0 and proc.stdout == ""
    assert all(call[-1] == "-j" for call in node.state()["calls"])


def test_a_failure_fails_the_start_with_the_reason(node):
    node.set(fail=["add"])
    proc = node.run(str(node.config))
    assert proc.returncode == 1
    assert proc.stderr.startswith("gobgp-originate: gobgp global rib -a ipv4 add 10.244.21.0/24 origin igp failed: rpc error")
    proc = node.run(str(node.config.with_name("missing.conf")))
    assert proc.returncode == 1 and "No such file" in proc.stderr
