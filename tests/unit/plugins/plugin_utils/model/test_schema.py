# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory's schema: the model's leaf checks run from it, and docs/data-model.md is generated from it."""

from __future__ import annotations

import copy
import importlib.util
import subprocess
import sys

import pytest

from ansible_collections.anycast.fabric.plugins.module_utils._schema import HIDDEN, REQUIRED, Field, Table, integer_reason, is_leaf
from ansible_collections.anycast.fabric.plugins.plugin_utils import daemons
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import edge, hosts, intent, model, schema, settings
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.inputs import Reader
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.problems import FABRIC, Problems
from conftest import REPO
from fabric_factory import small_fabric

SCRIPT = REPO / "scripts" / "data-model.py"


def read_bgp(value):
    problems = Problems()
    bgp = settings.read_bgp(Reader(problems, FABRIC, {}), value)
    return bgp, problems.messages()


# The registry ------------------------------------------------------------------


def test_every_required_table_is_registered():
    assert {"fabric_bgp", "fabric_variables", "host_variables", "fabric_upstreams", "vip_keys", "inventory_groups"} <= set(schema.tables())


def test_the_schema_names_exactly_what_the_model_reads():
    # Until hosts.py and model.py read their variables from the tables, their
    # lists must stay equal to them: a variable the model reads is documented.
    assert set(hosts.HOST_VARIABLES) <= set(schema.HOST_TABLE.names())
    assert set(schema.HOST_TABLE.names()) == set(hosts.HOST_VARIABLES)  # fabric_state_dir is checked by the model too (issue 22)
    assert tuple(hosts.VIP_KEYS) == schema.VIP_TABLE.names()
    assert tuple(model.FABRIC_VARIABLES) == settings.FABRIC_TABLE.names()
    assert model.FABRIC_DEFAULTS == settings.FABRIC_DEFAULTS
    assert hosts.MAX_COMMUNITIES == intent.MAX_COMMUNITIES
    assert edge.UPSTREAM_KEYS == edge.UPSTREAM_TABLE.names()


def test_daemon_choices_come_from_the_registry():
    daemon = schema.HOST_TABLE.field("fabric_daemon")
    for role in schema.ROLES:
        assert set(daemons.names_for(role)) <= set(daemon.choices)
        assert "%s `%s`" % (role, daemons.default_for(role)) in daemon.default_text
    assert set(daemon.choices) == {n for role in schema.ROLES for n in daemons.names_for(role)}


def test_table_names_are_unique(monkeypatch):
    monkeypatch.setattr(schema, "SCHEMA_TABLES", schema.SCHEMA_TABLES + (Table("fabric_bgp", ()),))
    with pytest.raises(ValueError, match="two schema tables are named fabric_bgp"):
        schema.tables()


# The model's checks run from the declarations -----------------------------------


def test_bgp_defaults_are_the_declared_ones():
    assert settings.BGP_DEFAULTS == {f.name: f.default for f in settings.BGP_FIELDS}
    assert read_bgp(None) == (settings.BGP_DEFAULTS, [])
    assert read_bgp({}) == (settings.BGP_DEFAULTS, [])


INTEGERS = [f for f in settings.BGP_FIELDS if f.type == "integer"]


@pytest.mark.parametrize("field", INTEGERS, ids=[f.name for f in INTEGERS])
def test_every_declared_bgp_range_is_the_one_enforced(field):
    # keepalive < hold is a cross-check: keep it out of the way of the range.
    base = {"keepalive_time": 1, "hold_time": 65535}
    for good in (field.min, field.max, str(field.min)):
        bgp, problems = read_bgp(dict(base, **{field.name: good}))
        assert problems == [] and bgp[field.name] == int(good), (good, problems)
    for bad in (field.min - 1, field.max + 1, True, "x"):
        bgp, problems = read_bgp(dict(base, **{field.name: bad}))
        shown = "'x'" if bad == "x" else ("true" if bad is True else str(bad))
        assert "fabric: fabric_bgp.%s = %s: %s" % (field.name, shown, integer_reason(field)) in problems
        assert bgp[field.name] is None


def test_null_is_a_refused_value_not_a_default():
    assert read_bgp({"hold_time": None})[1] == ["fabric: fabric_bgp.hold_time = null: must be an integer from 3 to 65535 seconds"]
    assert read_bgp({"error_wait_time": None})[1] == ["fabric: fabric_bgp.error_wait_time = null: must be a list of two integers [min, max] in seconds"]
    assert read_bgp({"password": None}) == (settings.BGP_DEFAULTS, [])


def test_the_password_is_never_echoed():
    for bad in ("with space", "x" * 81, "é" * 41, 1234, ["s3cret"]):
        _bgp, problems = read_bgp({"password": bad})
        assert problems == [
            "fabric: fabric_bgp.password = '%s': must be 1-80 bytes (UTF-8) of printable characters without spaces, quotes or backslashes" % HIDDEN
        ]
    _bgp, problems = read_bgp({"pasword": "s3cret"})
    assert "s3cret" not in " ".join(problems)


def test_error_wait_time_items_and_order():
    assert read_bgp({"error_wait_time": ["2", 5]})[0]["error_wait_time"] == [2, 5]
    assert read_bgp({"error_wait_time": [0, 5]})[1] == ["fabric: fabric_bgp.error_wait_time[0] = 0: must be an integer from 1 to 65535 seconds"]
    assert read_bgp({"error_wait_time": [30, 1]})[1] == [
        "fabric: fabric_bgp.error_wait_time = [30, 1]: the first value (min) must not exceed the second (max)"
    ]


def test_reader_fields_defaults_required_and_unknown_keys():
    table = Table("t", (Field("a", "integer", min=1, max=5, default=REQUIRED), Field("b", "boolean", default=False), Field("c", "name")))
    problems = Problems()
    reader = Reader(problems, "h1", {})
    assert reader.fields("x", table, {"a": "3", "c": "free"}) == {"a": 3, "b": False, "c": "free"}
    assert reader.fields("x", table, {"b": "yes", "token": "t0ps3cret"}) == {"a": None, "b": None, "c": None}
    assert problems.messages() == [
        "h1: x.token = '<hidden>': is not a known option (known: a, b, c)",
        "h1: x.a = null: is required",
        "h1: x.b = 'yes': must be true or false",
    ]
    assert reader.fields("x", table, "a=1") is None


def test_upstream_keys_run_from_the_table():
    hostvars, groups = small_fabric()
    spine = sorted(groups["fabric_spines"])[0] if groups.get("fabric_spines") else None
    if spine is None:
        pytest.skip("the small fabric has no spine")
    hostvars = copy.deepcopy(hostvars)
    hostvars[spine]["fabric_upstreams"] = [{"name": "t", "address": "192.0.2.1", "asn": 0, "local_address": "192.0.2.2/24", "max_prefixes": "0"}]
    _intents, problems = model.build(hostvars, groups)
    messages = problems.messages()
    assert "%s: fabric_upstreams[0].asn = 0: must be an integer from 1 to 4294967294" % spine in messages
    assert "%s: fabric_upstreams[0].max_prefixes = '0': must be an integer from 1 to 4294967295" % spine in messages


# The generated docs ------------------------------------------------------------------


def load_script():
    spec = importlib.util.spec_from_file_location("data_model_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_docs_tables_are_generated_and_fresh():
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_regenerate_rewrites_blocks_and_reports_marker_mistakes():
    script = load_script()
    tables = {"t": ["| Key |", "|---|", "| `a` |"]}
    begin, end = '[//]: # "BEGIN generated: t"', '[//]: # "END generated: t"'
    errors, used = [], set()
    text = "\n".join(["intro", begin, "", "| stale |", end, "outro"])
    assert script.regenerate(text, tables, "p.md", errors, used).split("\n") == ["intro", begin, "", "| Key |", "|---|", "| `a` |", "", end, "outro"]
    assert errors == [] and used == {"t"}
    script.regenerate("\n".join([begin, "x"]), tables, "p.md", errors, set())
    script.regenerate('[//]: # "BEGIN generated: nope"', tables, "p.md", errors, set())
    script.regenerate(end, tables, "p.md", errors, set())
    assert len(errors) == 3
    assert "the block of t is never closed" in errors[0]
    assert "no schema table is named nope (known: t)" in errors[1]
    assert "END t does not close any block" in errors[2]


def test_check_reports_a_stale_table_with_a_diff(tmp_path, monkeypatch, capsys):
    script = load_script()
    docs = tmp_path / "docs"
    docs.mkdir()
    page = docs / "page.md"
    page.write_text('[//]: # "BEGIN generated: fabric_bgp"\n| old |\n[//]: # "END generated: fabric_bgp"\n', encoding="utf-8")
    monkeypatch.setattr(script, "DOCS", docs)
    monkeypatch.setattr(script, "REPO", tmp_path)
    monkeypatch.setattr(script, "load_tables", lambda: {"fabric_bgp": ["| new |"]})
    assert script.main(["--check"]) == 1
    out = capsys.readouterr().out
    assert "-| old |" in out and "+| new |" in out
    assert script.main([]) == 0
    assert script.main(["--check"]) == 0
    assert "| new |" in page.read_text(encoding="utf-8")


HOSTILE = [None, True, -1, 2**4000, 1.5, "", "9" * 5000, "a\nb", "\u202e", "x" * 10000, [], {}, {"k": "v"}, ["a"] * 3, b"bytes"]
LEAVES = [(t.name, f) for t in schema.tables().values() for f in t.fields if is_leaf(f)]


@pytest.mark.parametrize("table, field", LEAVES, ids=["%s.%s" % (t, f.name) for t, f in LEAVES])
def test_every_declared_leaf_refuses_hostile_values_without_raising(table, field):
    for value in HOSTILE:
        problems = Problems()
        result = Reader(problems, "h", {}).field("v", field, value)
        messages = problems.messages()
        if result is None and not (value is None and field.nullable):
            assert messages, (table, field.name, value)
        for message in messages:
            assert "\n" not in message
            if field.secret:
                assert message.startswith("h: v = '%s': " % HIDDEN)
