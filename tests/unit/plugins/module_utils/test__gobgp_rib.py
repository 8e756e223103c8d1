# -*- coding: utf-8 -*-
"""The one GoBGP RIB reconcile (module_utils/_gobgp_rib.py), against a fake `gobgp` CLI.

The routing_config module (GoBGP.reconcile, through run_command) and the node
program gobgp-originate (main(), through subprocess) both run this code; the
program itself is tested in tests/unit/roles/routing/test_gobgp_originate.py.
"""

from __future__ import annotations

import json
import re

import pytest

from ansible_collections.anycast.fabric.plugins.module_utils import _gobgp_rib
from ansible_collections.anycast.fabric.plugins.module_utils._daemon import DaemonError
from ansible_collections.anycast.fabric.plugins.module_utils._gobgp import GoBGP
from ansible_collections.anycast.fabric.plugins.module_utils._gobgp_rib import RibError, load, main, originated, reconcile, wait_for_api

CONFIG = """
[global.config]
  as = 4200000001
  router-id = "10.0.0.21"
[[defined-sets.prefix-sets]]
  prefix-set-name = "ORIGINATE-V4"
  [[defined-sets.prefix-sets.prefix-list]]
    ip-prefix = "10.244.21.0/24"
  [[defined-sets.prefix-sets.prefix-list]]
    ip-prefix = "198.51.100.10/32"
[[defined-sets.prefix-sets]]
  prefix-set-name = "ORIGINATE-V6"
  [[defined-sets.prefix-sets.prefix-list]]
    ip-prefix = "2001:db8:ac::10/128"
[[defined-sets.prefix-sets]]
  prefix-set-name = "EXPORT-V4-1"
  [[defined-sets.prefix-sets.prefix-list]]
    ip-prefix = "198.51.100.10/32"
"""


def rib_json(prefixes):
    """`gobgp global rib -a FAMILY -j` as gobgpd 3.10 prints it (one path per prefix, attributes trimmed)."""
    return json.dumps(
        {prefix: [{"nlri": {"prefix": prefix}, "age": 1795635846, "best": True, "attrs": [{"type": 1, "value": 0}], "stale": False}] for prefix in prefixes}
    )


class FakeGobgp:
    """gobgpd's global RIB behind the `gobgp` CLI: records each command; FAIL maps a command prefix to an error."""

    def __init__(self, rib=None, fail=None, error=RibError, api_down=0):
        self.rib = {"ipv4": set(), "ipv6": set()}
        for family, prefixes in (rib or {}).items():
            self.rib[family] = set(prefixes)
        self.fail = fail or {}
        self.error = error
        self.api_down = api_down  # `gobgp global -j` fails this many times first
        self.calls = []

    def __call__(self, *words):
        self.calls.append(words)
        for start, message in self.fail.items():
            if words[: len(start)] == start:
                raise self.error(message)
        if words == ("global", "-j"):
            if self.api_down:
                self.api_down -= 1
                raise self.error("connection refused")
            return '{"attrs":{"as":4200000001,"router_id":"10.0.0.21"}}\n'
        assert words[:3] == ("global", "rib", "-a"), words
        family, verb = words[3], words[4]
        if verb == "-j":
            return rib_json(sorted(self.rib[family])) + "\n"
        if verb == "add":
            assert words[6:] == ("origin", "igp"), words
            self.rib[family].add(words[5])
        elif verb == "del":
            self.rib[family].discard(words[5])
        else:
            raise AssertionError(words)
        return ""


def config():
    return load(CONFIG)


def test_the_originate_sets_are_read_from_the_file_and_only_those():
    assert originated(config()) == {"ipv4": ["10.244.21.0/24", "198.51.100.10/32"], "ipv6": ["2001:db8:ac::10/128"]}
    assert originated({}) == {"ipv4": [], "ipv6": []}


def test_an_empty_rib_gets_every_originated_prefix():
    cli = FakeGobgp()
    commands = reconcile(config(), cli)
    assert cli.rib == {"ipv4": {"10.244.21.0/24", "198.51.100.10/32"}, "ipv6": {"2001:db8:ac::10/128"}}
    assert commands == [
        "gobgp global rib -a ipv4 add 10.244.21.0/24 origin igp",
        "gobgp global rib -a ipv4 add 198.51.100.10/32 origin igp",
        "gobgp global rib -a ipv6 add 2001:db8:ac::10/128 origin igp",
    ]


def test_a_rib_in_step_is_only_read():
    cli = FakeGobgp(rib={"ipv4": ["10.244.21.0/24", "198.51.100.10/32"], "ipv6": ["2001:db8:ac::10/128"]})
    assert reconcile(config(), cli) == []
    assert cli.calls == [("global", "rib", "-a", "ipv4", "-j"), ("global", "rib", "-a", "ipv6", "-j")]


def test_a_prefix_the_file_no_longer_lists_leaves_the_rib_which_withdraws_it():
    """A drained VIP leaves the ORIGINATE set: GoBGP withdraws only what leaves the RIB."""
    cli = FakeGobgp(rib={"ipv4": ["10.244.21.0/24", "198.51.100.10/32", "198.51.100.99/32"], "ipv6": ["2001:db8:ac::99/128"]})
    commands = reconcile(config(), cli)
    assert commands == [
        "gobgp global rib -a ipv4 del 198.51.100.99/32",
        "gobgp global rib -a ipv6 add 2001:db8:ac::10/128 origin igp",
        "gobgp global rib -a ipv6 del 2001:db8:ac::99/128",
    ]
    assert cli.rib == {"ipv4": {"10.244.21.0/24", "198.51.100.10/32"}, "ipv6": {"2001:db8:ac::10/128"}}


def test_a_file_without_originate_sets_empties_the_rib():
    cli = FakeGobgp(rib={"ipv4": ["198.51.100.10/32"]})
    assert reconcile({}, cli) == ["gobgp global rib -a ipv4 del 198.51.100.10/32"]
    assert cli.rib == {"ipv4": set(), "ipv6": set()}


@pytest.mark.parametrize(
    "failing",
    [("global", "rib", "-a", "ipv4", "-j"), ("global", "rib", "-a", "ipv4", "add"), ("global", "rib", "-a", "ipv6", "del")],
    ids=["list", "add", "del"],
)
def test_a_failing_command_stops_the_reconcile_with_the_callers_error(failing):
    cli = FakeGobgp(rib={"ipv6": ["2001:db8:ac::99/128"]}, fail={failing: "rpc error: code = Unavailable"})
    with pytest.raises(RibError, match="Unavailable"):
        reconcile(config(), cli)
    assert cli.calls[-1][: len(failing)] == failing


def test_the_api_is_waited_for_then_given_up_on():
    now = [0.0]
    cli = FakeGobgp(api_down=3)
    wait_for_api(cli, timeout=30, sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0])
    assert cli.calls == [("global", "-j")] * 4 and now[0] == 1.5
    with pytest.raises(RibError, match="did not answer within 2 s"):
        wait_for_api(FakeGobgp(api_down=100), timeout=2, sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0])


def test_main_reconciles_the_file_it_is_given(tmp_path, capsys):
    path = tmp_path / "gobgpd.conf"
    path.write_text(CONFIG)
    cli, waited = FakeGobgp(), []
    assert main([str(path)], cli=cli, wait=waited.append) == 0
    assert waited == [cli] and cli.rib["ipv6"] == {"2001:db8:ac::10/128"}
    assert capsys.readouterr().out.splitlines()[0] == "gobgp global rib -a ipv4 add 10.244.21.0/24 origin igp"


@pytest.mark.parametrize(
    ("text", "message"),
    [(None, "No such file"), ("[global\n", "cannot read .* as TOML"), (CONFIG, "rib add failed")],
    ids=["missing", "not-toml", "cli-error"],
)
def test_main_returns_the_error_in_words(tmp_path, text, message):
    path = tmp_path / "gobgpd.conf"
    if text is not None:
        path.write_text(text)
    cli = FakeGobgp(fail={("global", "rib", "-a", "ipv4", "add"): "gobgp global rib add failed: bad prefix"})
    result = main([str(path)], cli=cli, wait=lambda cli: None)
    assert isinstance(result, str) and result.startswith("gobgp-originate: ")
    assert re.search(message, result), result


class RunCommandModule:
    """An AnsibleModule's run_command, answering from a FakeGobgp."""

    def __init__(self, gobgp):
        self.gobgp = gobgp

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return "/usr/bin/" + name

    def run_command(self, argv):
        assert argv[0] == "/usr/bin/gobgp"
        try:
            return 0, self.gobgp(*argv[1:]), ""
        except RibError as exc:
            return 1, "", str(exc)


def test_the_module_runs_the_same_reconcile_through_run_command():
    fake = FakeGobgp(rib={"ipv4": ["198.51.100.99/32"]})
    daemon = GoBGP(RunCommandModule(fake))
    commands = daemon.reconcile(config())
    assert commands == reconcile(config(), FakeGobgp(rib={"ipv4": ["198.51.100.99/32"]}))
    assert fake.rib == {"ipv4": {"10.244.21.0/24", "198.51.100.10/32"}, "ipv6": {"2001:db8:ac::10/128"}}
    # Its errors are the module's own (DaemonError), with gobgp's words.
    failing = GoBGP(RunCommandModule(FakeGobgp(fail={("global", "rib", "-a", "ipv4", "add"): "bad prefix"})))
    with pytest.raises(DaemonError, match="gobgp global rib -a ipv4 add 10.244.21.0/24 origin igp failed: bad prefix"):
        failing.reconcile(config())


def test_the_shared_module_is_standard_library_only():
    """The node runs it without Ansible or the collection."""
    import ast
    import sys

    tree = ast.parse(open(_gobgp_rib.__file__, encoding="utf-8").read())
    modules = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert modules - {"__future__"} <= set(sys.stdlib_module_names), modules


def test_the_nodes_runner_raises_in_words(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RibError, match="^gobgp global -j: "):
        _gobgp_rib.run_gobgp("global", "-j")
    fake = tmp_path / "gobgp"
    fake.write_text('#!/bin/sh\necho "rpc error: $*" >&2\nexit 1\n')
    fake.chmod(0o755)
    with pytest.raises(RibError, match="^gobgp global rib -a ipv4 -j failed: rpc error: global rib -a ipv4 -j$"):
        _gobgp_rib.run_gobgp("global", "rib", "-a", "ipv4", "-j")
