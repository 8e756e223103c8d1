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


def test_the_field_tables_declare_every_key_with_its_default():
    checks = spec.CHECK_TABLE
    assert set(checks.names()) == set(spec.CHECK_KEYS) and spec.DAMPING_TABLE.names() == tuple(spec.DAMPING_DEFAULTS)
    assert spec.HEALTH_TABLE.names() == spec.HEALTH_KEYS == ("checks", "damping")
    for key, default in spec.TIMER_DEFAULTS.items():
        assert checks.field(key).default == default and checks.field(key).type == "integer"
    assert spec.TIMER_DEFAULTS == {"interval_ms": 300, "timeout_ms": 250, "rise": 3, "fall": 3}
    assert spec.DAMPING_DEFAULTS == {"enabled": True, "penalty": 1000, "suppress": 2000, "reuse": 750, "half_life_s": 30, "max_hold_s": 300}
    assert checks.field("host").default == spec.DEFAULT_HOST and checks.field("type").choices == spec.CHECK_TYPES
    assert checks.field("expect_status").default == [200] and spec.STATUS_RANGE == (100, 599) and spec.PORT_RANGE == (1, 65535)
    assert (checks.field("interval_ms").unit, spec.DAMPING_TABLE.field("half_life_s").unit) == ("ms", "s")


@pytest.mark.parametrize(
    ("section", "path", "reason"),
    [
        ({"checks": [{"type": "tcp", "port": 1, "interval_ms": 49}]}, "h.checks[0].interval_ms", "must be an integer from 50 to 600000 milliseconds"),
        ({"checks": [{"type": "tcp", "port": 0}]}, "h.checks[0].port", "must be an integer from 1 to 65535"),
        ({"checks": [{"type": "http", "expect_status": [99]}]}, "h.checks[0].expect_status[0]", "must be an integer from 100 to 599"),
        ({"checks": [{"type": "tcp", "port": 1}], "damping": {"half_life_s": 0}}, "h.damping.half_life_s", "must be an integer from 1 to 3600 seconds"),
        ({"checks": [{"type": "ipvs", "port": 1, "protocol": "icmp"}]}, "h.checks[0].protocol", "must be one of: tcp, udp, sctp"),
        ({"checks": [{"type": "http", "path": "no-slash"}]}, "h.checks[0].path", spec.CHECK_TABLE.field("path").message),
    ],
)
def test_the_reasons_come_from_the_fields(section, path, reason):
    reader = spec.Reader()
    assert spec.read_health(reader, "h", section) is None
    assert [(p, m) for p, _v, m in reader.problems] == [(path, reason)]
