# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_health_spec.py: the one health spec, run by the controller and by the agent."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.anycast.fabric.plugins.module_utils import _health_spec as spec
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.inputs import Reader as ModelReader
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.problems import Problems

SPEC = Path(spec.__file__)


def test_standard_library_only(tmp_path):
    """The agent runs this file on the node, with _schema.py beside it: nothing else but the standard library."""
    schema = SPEC.with_name("_schema.py")
    for path in (SPEC, schema):
        tree = ast.parse(path.read_text())
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module and not node.level}
        assert imported <= set(sys.stdlib_module_names), path
        relative = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level for alias in node.names}
        assert relative <= {"_schema"}, path
    # And the two run alone, isolated, in a package of their own as in the agent's zipapp (python3 -I).
    package = tmp_path / "agent_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for path in (SPEC, schema):
        (package / path.name).write_bytes(path.read_bytes())
    code = "import sys; sys.path.insert(0, %r); from agent_pkg import _health_spec as ns" % str(tmp_path)
    code += "; health = ns.read_health(ns.Reader(), 'h', {'checks': [{'type': 'tcp', 'port': 1}]})"
    code += "; print(health['checks'][0]['host'])"
    result = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "127.0.0.1"


def model_reader():
    return ModelReader(Problems(), "n1", {})


CASES = [
    {"checks": [{"type": "tcp", "port": 53}]},
    {"checks": [{"type": "http", "port": "8080", "expect_status": [204, 200, 200]}, {"type": "exec", "command": "/bin/check --quick 'a b'"}]},
    {"checks": [{"type": "kubernetes", "port": 30100, "service": "shop/web", "healthz_port": 10256}], "damping": {"half_life_s": 60}},
    {"checks": [{"type": "ipvs", "port": 53, "protocol": "udp", "rise": 1, "fall": 5}], "damping": {"enabled": False}},
    {"checks": []},
    {"checks": [{"type": "ping"}]},
    {"checks": [{"type": "tcp", "port": 1, "command": ["/bin/true"], "colour": "red"}]},
    {"checks": [{"type": "tcp", "port": 0, "timeout_ms": 400}], "damping": {"reuse": 3000}},
    {"checks": [{"type": "http", "host": "localhost", "path": "no-slash"}]},
    {"checks": [{"type": "exec", "command": ["true"]}], "damping": {"max_hold_s": 1}},
    "not a mapping",
]


@pytest.mark.parametrize("raw", CASES)
def test_both_readers_see_the_same_problems_and_result(raw):
    """The agent's Reader and the model's give the same normalised section and the same (path, reason) pairs."""
    agent, model = spec.Reader(), model_reader()
    assert spec.read_health(agent, "h", raw) == spec.read_health(model, "h", raw)
    seen_by_agent = list(dict.fromkeys((path, message) for path, _value, message in agent.problems))
    assert seen_by_agent == [(problem.path, problem.message) for problem in model.problems]
    assert bool(agent.problems) == (raw not in CASES[:4])


def test_defaults_are_filled_in():
    health = spec.read_health(spec.Reader(), "h", {"checks": [{"type": "https"}, {"type": "ipvs", "port": 53}]})
    assert health["checks"][0] == dict({"type": "https", "host": "127.0.0.1", "port": 443, "path": "/", "expect_status": [200]}, **spec.TIMER_DEFAULTS)
    assert health["checks"][1] == dict({"type": "ipvs", "protocol": "tcp", "port": 53}, **spec.TIMER_DEFAULTS)
    assert health["damping"] == spec.DAMPING_DEFAULTS


def test_doc_rows_cover_every_key_with_its_default():
    rows = {row["key"]: row for row in spec.doc_rows()}
    assert set(rows) == {"checks[].%s" % key for key in spec.CHECK_KEYS} | {"damping.%s" % key for key in spec.DAMPING_DEFAULTS}
    for key, default in spec.TIMER_DEFAULTS.items():
        assert rows["checks[].%s" % key]["default"] == default
    for key, default in spec.DAMPING_DEFAULTS.items():
        assert rows["damping.%s" % key]["default"] == default
    assert rows["checks[].host"]["default"] == spec.DEFAULT_HOST
    assert all(set(row) == {"key", "type", "default", "meaning"} for row in rows.values())
