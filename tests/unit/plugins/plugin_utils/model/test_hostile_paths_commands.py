# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile input, second round (issue 22): exec health commands and fabric_state_dir.

- An exec check's command refuses control characters (C0, DEL, C1) in the
  string form and in every list item, and commands longer than MAX_COMMAND:
  a NUL in the string form used to pass and kill the agent's check thread.
- fabric_state_dir must be absolute, normalised, of safe characters and at
  most ABS_PATH_MAX long, in the model (per node) and in the modules that
  keep records there (drain_state, loopback_vip, ipvs).
"""

from __future__ import annotations

import pytest

from ansible_collections.anycast.fabric.plugins.module_utils import _health_spec as spec
from ansible_collections.anycast.fabric.plugins.module_utils import _schema
from ansible_collections.anycast.fabric.plugins.modules import drain_state, ipvs, loopback_vip
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from conftest import call_module
from fabric_factory import small_fabric
from hostile_harness import PASSWORD, refusal_failures

CONTROLS = ["\0", "\x01", "\t", "\n", "\r", "\x1b", "\x1f", "\x7f", "\x80", "\x85", "\x9b", "\x9f"]
CONTROL_IDS = ["U+%04X" % ord(c) for c in CONTROLS]
ITEM_REASON = "must be a string without control characters, at most %d characters" % spec.MAX_COMMAND


def agent_read(command):
    """(normalised health, [(path, value, reason)]) as the agent reads an exec check with COMMAND."""
    reader = spec.Reader()
    health = spec.read_health(reader, "h", {"checks": [{"type": "exec", "command": command}]})
    return health, reader.problems


def model_problems(command):
    hostvars, groups = small_fabric()
    hostvars["n1"]["fabric_vips"][0] = {"address": "198.51.100.10", "health": {"checks": [{"type": "exec", "command": command}]}}
    intents, problems = model.build(hostvars, groups)
    return intents, problems


# Exec commands ----------------------------------------------------------------------


@pytest.mark.parametrize("char", CONTROLS, ids=CONTROL_IDS)
def test_a_control_character_in_the_string_form_is_refused(char):
    command = "/usr/local/bin/check --name a%sb" % char
    health, problems = agent_read(command)
    assert health is None
    assert problems == [("h.checks[0].command", command, spec.COMMAND_REASON)]


@pytest.mark.parametrize("char", CONTROLS, ids=CONTROL_IDS)
def test_a_control_character_in_a_list_item_is_refused(char):
    for index, command in ((1, ["/usr/local/bin/check", "a%sb" % char]), (0, ["/usr/local/bin/che%sck" % char])):
        health, problems = agent_read(command)
        assert health is None
        assert problems == [("h.checks[0].command[%d]" % index, command[index], ITEM_REASON)]


def test_a_nul_in_the_string_form_is_refused_in_the_model_with_one_clean_line():
    command = "/bin/true\0--kill-the-thread"
    intents, problems = model_problems(command)
    messages = problems.messages()
    assert any(m.startswith("n1: fabric_vips[0].health.checks[0].command = ") and m.endswith(spec.COMMAND_REASON) for m in messages), messages
    assert not refusal_failures(problems, blame=(("n1", "fabric_vips[0].health.checks[0].command"),), secrets=(PASSWORD,))


def test_a_nul_written_at_the_start_or_end_is_refused_too():
    for command in ("\0/bin/true", "/bin/true\0", "/bin/true \0", "/bin/true '\0'"):
        assert agent_read(command)[1], repr(command)


@pytest.mark.parametrize("char", ["\xa0", "é", "\u2028", " "], ids=["NBSP", "e-acute", "U+2028", "space"])
def test_characters_outside_c0_del_c1_are_not_control_characters_for_the_spec(char):
    # Only C0, DEL and C1 are refused; the rest is an argument like any other
    # (U+2028 is a Unicode line separator, but no control character for exec()).
    health, problems = agent_read(["/usr/local/bin/check", "a%sb" % char])
    assert problems == [] and health["checks"][0]["command"] == ["/usr/local/bin/check", "a%sb" % char]


def test_the_string_form_may_be_exactly_max_command_long():
    command = "/usr/local/bin/check " + "a" * (spec.MAX_COMMAND - len("/usr/local/bin/check "))
    assert len(command) == spec.MAX_COMMAND
    health, problems = agent_read(command)
    assert problems == [] and health["checks"][0]["command"][1] == "a" * (spec.MAX_COMMAND - 21)


@pytest.mark.parametrize("extra", [1, 6000])
def test_a_longer_string_form_is_refused(extra):
    command = "/usr/local/bin/check " + "a" * (spec.MAX_COMMAND - 21 + extra)
    health, problems = agent_read(command)
    assert health is None and problems == [("h.checks[0].command", command, spec.COMMAND_REASON)]


def test_a_list_item_longer_than_max_command_is_refused():
    command = ["/usr/local/bin/check", "a" * (spec.MAX_COMMAND + 1)]
    assert agent_read(command)[1] == [("h.checks[0].command[1]", command[1], ITEM_REASON)]


def test_a_list_whose_arguments_add_up_to_more_than_max_command_is_refused():
    command = ["/usr/local/bin/check"] + ["a" * 1000] * 5
    assert agent_read(command)[1] == [("h.checks[0].command", command, spec.COMMAND_REASON)]
    fits = ["/usr/local/bin/check"] + ["a" * 1000] * 4
    assert agent_read(fits)[1] == []


def test_the_model_and_the_agent_refuse_the_same_commands():
    for command in ("/bin/true\0x", ["/bin/true", "x\ny"], "/bin/true " + "a" * spec.MAX_COMMAND, {"run": "/bin/true"}):
        _health, agent = agent_read(command)
        intents, problems = model_problems(command)
        assert agent and problems, repr(command)[:80]
        agent_paths = {path.replace("h.", "fabric_vips[0].health.", 1) for path, _v, _r in agent}
        model_paths = {p.path for p in problems}
        assert agent_paths <= model_paths, (agent_paths, model_paths)


# fabric_state_dir -------------------------------------------------------------------

GOOD_DIRS = ["/var/lib/anycast-fabric", "/srv/anycast-fabric", "/a", "/a.b/c-d_e@f+g/.hidden", "/" + "/".join(["a" * 255] * 4)[:1023]]
BAD_DIRS = {
    "relative": "var/lib/anycast-fabric",
    "dot-relative": "./state",
    "empty": "",
    "dotdot": "/var/lib/../x",
    "dot": "/var/./lib",
    "trailing-dotdot": "/var/lib/..",
    "double-slash": "/a//b",
    "trailing-slash": "/a/",
    "root": "/",
    "newline": "/var/lib/x\ny",
    "nul": "/var/lib/x\0",
    "tab": "/var/lib/x\ty",
    "del": "/var/lib/x\x7f",
    "c1": "/var/lib/x\x85",
    "space": "/var/lib/my state",
    "quote": "/var/lib/'x'",
    "non-ascii": "/var/lib/é",
    "over-long": "/" + "/".join(["a" * 250] * 5),
    "component-too-long": "/" + "a" * 256,
}


def with_state_dir(value, host="n1"):
    hostvars, groups = small_fabric()
    hostvars[host]["fabric_state_dir"] = value
    return model.build(hostvars, groups)


def test_the_path_rule_limits():
    assert len(BAD_DIRS["over-long"]) > _schema.ABS_PATH_MAX
    assert len(GOOD_DIRS[-1]) == _schema.ABS_PATH_MAX


@pytest.mark.parametrize("value", GOOD_DIRS, ids=lambda v: v[:30])
def test_a_good_state_dir_is_accepted(value):
    intents, problems = with_state_dir(value)
    assert not problems, problems.messages()
    assert _schema.abs_path_problem(value) is None


@pytest.mark.parametrize("case", sorted(BAD_DIRS))
def test_a_bad_state_dir_is_refused_by_the_model(case):
    value = BAD_DIRS[case]
    _intents, problems = with_state_dir(value)
    messages = problems.messages()
    assert any(m.startswith("n1: fabric_state_dir = ") and "must be an absolute, normalised path" in m for m in messages), messages
    assert not refusal_failures(problems, blame=(("n1", "fabric_state_dir"),), secrets=(PASSWORD,))
    assert _schema.abs_path_problem(value)


@pytest.mark.parametrize("value", [5, ["/var/lib/x"], {"path": "/x"}, True])
def test_a_state_dir_of_the_wrong_type_is_refused_by_the_model(value):
    _intents, problems = with_state_dir(value)
    assert any(m.startswith("n1: fabric_state_dir") for m in problems.messages()), problems.messages()
    assert _schema.abs_path_problem(value)


def test_an_unset_state_dir_is_the_default():
    _intents, problems = with_state_dir(None)
    assert not problems


MODULES = {"drain_state": drain_state.main, "loopback_vip": loopback_vip.main, "ipvs": ipvs.main}


@pytest.mark.parametrize("case", ["relative", "dot-relative", "empty", "dotdot", "double-slash", "trailing-slash", "newline", "nul", "over-long", "space"])
@pytest.mark.parametrize("name", sorted(MODULES))
def test_the_modules_fail_on_a_bad_state_dir_and_create_nothing(capsys, tmp_path, monkeypatch, name, case):
    monkeypatch.chdir(tmp_path)
    result = call_module(MODULES[name], {"state_dir": BAD_DIRS[case]}, capsys, check=False)
    assert result.get("failed"), result
    assert result["msg"].startswith("state_dir = ") and "must be an absolute, normalised path" in result["msg"], result["msg"]
    assert list(tmp_path.iterdir()) == [], "a record was written under the working directory"


def test_drain_state_works_on_a_good_state_dir(capsys, tmp_path):
    state_dir = tmp_path / "state"
    result = call_module(drain_state.main, {"state_dir": str(state_dir)}, capsys, check=False)
    assert not result.get("failed"), result
