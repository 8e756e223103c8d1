# -*- coding: utf-8 -*-
"""The host daemon registry: its choices match the doc fragment, secrets of every daemon are masked,
auto picks what is present, and each daemon's apply transaction rolls back in its own way."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.anycast.fabric.plugins.doc_fragments.daemon import ModuleDocFragment
from ansible_collections.anycast.fabric.plugins.module_utils import _daemons
from ansible_collections.anycast.fabric.plugins.module_utils._bird import Bird
from ansible_collections.anycast.fabric.plugins.module_utils._daemon import Daemon, DaemonError, State, Transaction
from ansible_collections.anycast.fabric.plugins.module_utils._frr import Frr


def test_the_doc_fragment_lists_exactly_the_registered_daemons_and_their_options():
    apply_doc = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]["daemon"]
    info_doc = yaml.safe_load(ModuleDocFragment.INFO)["options"]["daemon"]
    options_doc = yaml.safe_load(ModuleDocFragment.OPTIONS)["options"]
    assert apply_doc["choices"] == sorted(_daemons.DAEMONS)
    assert info_doc["choices"] == ["auto"] + sorted(_daemons.DAEMONS)
    specs = _daemons.option_specs()
    assert sorted(options_doc) == sorted(specs)
    for name, spec in specs.items():
        assert options_doc[name]["type"] == spec["type"] and options_doc[name].get("default") == spec.get("default")


@pytest.mark.parametrize("name", sorted(_daemons.DAEMONS))
def test_every_daemon_class_is_complete(name):
    cls = _daemons.DAEMONS[name]
    assert issubclass(cls, Daemon) and cls.name == name and cls.default_dest.startswith("/")
    assert cls.secret_res, "a daemon's configuration may hold BGP passwords: say how to find them"
    for verb in ("running", "validate", "state", "exports", "apply"):
        assert getattr(cls, verb) is not getattr(Daemon, verb), "%s does not implement %s" % (name, verb)


def test_secrets_of_every_daemon_are_found_and_masked():
    text = 'protocol bgp a { password "bird-key"; }\nrouter bgp 1\n neighbor 10.0.0.1 password frr-key\n'
    assert _daemons.find_secrets(text) == {"bird-key", "frr-key"}
    masked = _daemons.mask_secrets(text)
    assert "bird-key" not in masked and "frr-key" not in masked
    assert 'password "********";' in masked and "neighbor 10.0.0.1 password ********" in masked


class FakeModule:
    def __init__(self, params, bins=()):
        self.params = params
        self.bins = bins

    def get_bin_path(self, name, required=False, opt_dirs=None):
        if name in self.bins:
            return "/usr/bin/" + name
        if required:
            raise AssertionError("%s missing" % name)
        return None


def test_auto_picks_the_first_daemon_present(tmp_path):
    socket = tmp_path / "bird.ctl"
    module = FakeModule({"bird_socket": str(socket)}, bins=("vtysh",))
    assert _daemons.auto(module) == "frr"
    socket.write_text("")
    assert _daemons.auto(module) == "bird"
    assert _daemons.auto(FakeModule({"bird_socket": str(tmp_path / "none")})) == _daemons.AUTO_FALLBACK


def test_create_reads_each_daemons_own_options(tmp_path):
    module = FakeModule({"bird_socket": "/x/bird.ctl", "frr_reload_path": "/x/frr-reload.py"}, bins=("bird", "birdc", "vtysh"))
    assert _daemons.create(module, "bird").socket == "/x/bird.ctl"
    assert _daemons.create(module, "frr").reload_path == "/x/frr-reload.py"


class Failed(Exception):
    pass


class FakeTx:
    """The Transaction's steps, recorded; post-check answers come from BROKEN (one list per call)."""

    def __init__(self, broken, rollback=True):
        self.params = {"confirm_timeout": None, "session_wait": 5, "settle_time": 0, "rollback": rollback}
        self.dest = "/etc/daemon.conf"
        self.result = {}
        self.steps = []
        self.broken = list(broken)
        self.module = self  # set_fs_attributes_if_different below

    def file_args(self, path):
        return {"path": path}

    def set_fs_attributes_if_different(self, file_args, changed):
        self.steps.append(("attributes", file_args["path"]))
        return changed

    def backup(self, old):
        self.steps.append(("backup", old))

    def install(self, candidate, old):
        self.steps.append(("install", candidate))

    def restore_file(self, old):
        self.steps.append(("restore", old))

    def snapshot(self, text):
        self.steps.append(("snapshot", text))
        return "/nonexistent/snapshot"

    def post_check(self, before, settle=None):
        return self.broken.pop(0), State([])

    def finish(self, before, after):
        self.steps.append(("finish",))

    def fail(self, msg, **extra):
        self.result.update(extra)
        raise Failed(msg)


def bird_double(calls):
    bird = Bird.__new__(Bird)
    bird.configure = lambda path, timeout: calls.append(("configure", path, timeout))
    bird.confirm = lambda: calls.append(("confirm",))
    bird.undo = lambda: calls.append(("undo",))
    return bird


def test_bird_confirms_a_change_that_keeps_the_sessions():
    calls, tx = [], FakeTx([[]])
    bird_double(calls).apply(tx, "/tmp/cand", "old", State([]))
    # BIRD loads the candidate itself (readable by BIRD's user); the file changes only after confirm.
    assert calls == [("configure", "/tmp/cand", 35), ("confirm",)]
    assert tx.steps[0] == ("attributes", "/tmp/cand")
    assert tx.steps.index(("install", "/tmp/cand")) < tx.steps.index(("finish",))
    assert tx.result["reloaded"] and ("restore", "old") not in tx.steps


def test_bird_undoes_and_leaves_the_file_when_the_post_check_fails():
    calls, tx = [], FakeTx([["session n1 is Idle"], []])
    with pytest.raises(Failed, match="birdc configure undo.*was not changed"):
        bird_double(calls).apply(tx, "/tmp/cand", "old", State([]))
    assert ("undo",) in calls and ("confirm",) not in calls
    assert not any(step[0] in ("install", "restore") for step in tx.steps) and tx.result["rolled_back"]


def test_bird_leaves_the_file_when_a_controller_dies_before_confirm():
    """Killed inside the timeout window: BIRD undoes on its own, and the file still holds the old config."""
    calls, tx = [], FakeTx([])

    def killed(before, settle=None):
        raise KeyboardInterrupt

    tx.post_check = killed
    with pytest.raises(KeyboardInterrupt):
        bird_double(calls).apply(tx, "/tmp/cand", "old", State([]))
    assert calls == [("configure", "/tmp/cand", 35)]
    assert not any(step[0] in ("install", "restore") for step in tx.steps)


def test_bird_refuses_a_confirm_timeout_within_the_session_wait():
    calls, tx = [], FakeTx([])
    tx.params["confirm_timeout"] = 5
    with pytest.raises(Failed, match="must exceed session_wait"):
        bird_double(calls).apply(tx, "/tmp/cand", "old", State([]))
    assert calls == [] and tx.steps == []


def frr_double(calls, reload_fails=()):
    frr = Frr.__new__(Frr)
    frr.running_config = lambda: "running\n"

    def reload(path):
        calls.append(("reload", path))
        if path in reload_fails:
            raise DaemonError("frr-reload.py --reload failed: nope")

    frr.reload = reload
    frr.state = lambda: State([])
    return frr


def test_frr_reloads_the_candidate_then_installs_it(monkeypatch):
    monkeypatch.setattr("os.unlink", lambda path: None)
    calls, tx = [], FakeTx([[]])
    frr_double(calls).apply(tx, "/tmp/cand", "old", State([]))
    assert calls == [("reload", "/tmp/cand")]
    # The backup is of the file before frr-reload.py writes over it; the file changes only after the reload.
    assert tx.steps.index(("backup", "old")) < tx.steps.index(("install", "/tmp/cand")) < tx.steps.index(("finish",))
    assert tx.result["reloaded"] and ("restore", "old") not in tx.steps


def test_frr_leaves_the_file_when_the_apply_dies_during_the_reload(monkeypatch):
    """Killed inside frr-reload.py: the file is not the candidate, so the next run applies the change again."""
    monkeypatch.setattr("os.unlink", lambda path: None)
    calls, tx = [], FakeTx([])
    frr = frr_double(calls)

    def killed(path):
        calls.append(("reload", path))
        raise KeyboardInterrupt

    frr.reload = killed
    with pytest.raises(KeyboardInterrupt):
        frr.apply(tx, "/tmp/cand", "old", State([]))
    assert calls == [("reload", "/tmp/cand")]
    assert not any(step[0] in ("install", "restore") for step in tx.steps)


def test_frr_reloads_the_snapshot_then_restores_the_file_when_the_reload_fails(monkeypatch):
    monkeypatch.setattr("os.unlink", lambda path: None)
    calls, tx = [], FakeTx([[]])
    with pytest.raises(Failed, match="reloaded the previous running configuration: frr-reload.py --reload failed"):
        frr_double(calls, reload_fails=("/tmp/cand",)).apply(tx, "/tmp/cand", "old", State([]))
    assert calls == [("reload", "/tmp/cand"), ("reload", "/nonexistent/snapshot")]
    assert tx.steps[0] == ("snapshot", "running\n") and ("restore", "old") in tx.steps
    assert ("install", "/tmp/cand") not in tx.steps


def test_frr_without_rollback_only_fails(monkeypatch):
    monkeypatch.setattr("os.unlink", lambda path: None)
    calls, tx = [], FakeTx([["session t1 is Idle"]], rollback=False)
    with pytest.raises(Failed, match="rollback disabled"):
        frr_double(calls).apply(tx, "/tmp/cand", "old", State([]))
    assert calls == [("reload", "/tmp/cand")] and ("restore", "old") not in tx.steps
    assert ("install", "/tmp/cand") in tx.steps


@pytest.mark.parametrize("written", [False, True])
def test_restoring_no_previous_file_removes_whatever_is_there(tmp_path, written):
    """With no file before the apply, a rollback leaves none, whether or not the reload wrote one (FRR's "write")."""
    dest = tmp_path / "frr.conf"
    if written:
        dest.write_text("dump of the running config\n")

    class Module:
        params = {}

    Transaction(Module(), None, str(dest), {}).restore_file(None)
    assert not dest.exists()
