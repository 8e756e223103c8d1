# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The routing role's BIRD set-up (roles/routing/tasks/bird.yml): systemd restarts BIRD after any failure.

Debian's bird.service has Restart=on-abort: a BIRD that dies of a signal
comes back, one that exits with an error status does not. The role adds a
drop-in with Restart=on-failure, applied by a daemon-reload only when the
drop-in changed (idempotent), and never restarts BIRD itself. The container
check (the policy on a real node, and BIRD back after a SIGKILL) is in
molecule/failover/verify.yml.
"""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest
import yaml

from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons import driver

ROOT = Path(__file__).resolve().parents[4]
TASKS = ROOT / "roles" / "routing" / "tasks"
DEBIAN_UNIT = Path("/lib/systemd/system/bird.service")


def _tasks():
    return yaml.safe_load((TASKS / "bird.yml").read_text())


def _unit(text):
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read_string(text)
    return parser


def _dropin():
    (task,) = [t for t in _tasks() if "ansible.builtin.copy" in t]
    return task


def test_the_bird_driver_picks_this_file():
    # main.yml includes tasks/<driver name>.yml when it exists.
    facts = driver("bird").facts()
    assert (TASKS / ("%s.yml" % facts["name"])).is_file()
    assert "routing_daemon.name ~ '.yml'" in (TASKS / "main.yml").read_text()
    assert facts["service"] == "bird"


def test_dropin_restarts_on_failure_and_never_gives_up():
    copy = _dropin()["ansible.builtin.copy"]
    assert copy["dest"].startswith("/etc/systemd/system/bird.service.d/")
    assert copy["dest"].endswith(".conf")
    unit = _unit(copy["content"])
    assert unit["Service"]["Restart"] == "on-failure"
    assert 0 < int(unit["Service"]["RestartSec"]) <= 5
    assert unit["Unit"]["StartLimitIntervalSec"] == "0"
    # A drop-in with its own ExecStart= or Type= would change how BIRD runs, not only its restarts.
    assert set(unit["Service"]) == {"Restart", "RestartSec"}


def test_reload_only_when_the_dropin_changed_and_never_a_restart():
    tasks = _tasks()
    register = _dropin()["register"]
    (reload_task,) = [t for t in tasks if "ansible.builtin.systemd_service" in t]
    assert reload_task["ansible.builtin.systemd_service"] == {"daemon_reload": True}
    assert reload_task["when"] == "%s is changed" % register
    for task in tasks:
        assert "notify" not in task
        module = task.get("ansible.builtin.systemd_service") or {}
        assert "state" not in module


def test_the_folder_exists_before_the_copy():
    tasks = _tasks()
    folder = [i for i, t in enumerate(tasks) if t.get("ansible.builtin.file", {}).get("state") == "directory"]
    copy = tasks.index(_dropin())
    assert folder and folder[0] < copy
    assert tasks[folder[0]]["ansible.builtin.file"]["path"] == str(Path(_dropin()["ansible.builtin.copy"]["dest"]).parent)


@pytest.mark.skipif(not DEBIAN_UNIT.is_file(), reason="bird2 not installed on this machine")
def test_debians_unit_alone_would_not_restart_after_an_error_exit():
    # Why the drop-in exists: on-abort covers signals only (systemd.service(5)).
    assert _unit(DEBIAN_UNIT.read_text())["Service"]["Restart"] == "on-abort"
