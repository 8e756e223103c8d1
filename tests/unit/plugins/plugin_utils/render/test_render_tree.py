# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing rendered configurations: all hosts or none, never outside the render folder."""

from __future__ import annotations

import fcntl
import os
import signal
import stat
import subprocess
import sys

import pytest

from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render_tree


def tree(root):
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            path = os.path.join(dirpath, f)
            with open(path) as handle:
                out[os.path.relpath(path, root)] = handle.read()
    return out


OLD = {"n1": {"bird.conf": "old n1\n"}, "n2": {"frr.conf": "old n2\n"}, "tor1": {"frr.conf": "old tor1\n"}}
NEW = {"n1": {"bird.conf": "new n1\n"}, "n2": {"bird.conf": "new n2 (now bird)\n"}, "tor1": {"frr.conf": "new tor1\n"}}


@pytest.fixture
def dest(tmp_path):
    path = str(tmp_path / "rendered")
    render_tree.write_tree(path, OLD)
    return path


def test_a_render_replaces_every_host_folder_with_private_modes(dest):
    assert render_tree.write_tree(dest, NEW) == os.path.realpath(dest)
    # n2 changed daemon: its old frr.conf is gone with its old folder.
    assert tree(dest) == {"n1/bird.conf": "new n1\n", "n2/bird.conf": "new n2 (now bird)\n", "tor1/frr.conf": "new tor1\n"}
    for name in NEW:
        assert stat.S_IMODE(os.stat(os.path.join(dest, name)).st_mode) == 0o700
        for f in NEW[name]:
            assert stat.S_IMODE(os.stat(os.path.join(dest, name, f)).st_mode) == 0o600
    assert sorted(os.listdir(dest)) == ["n1", "n2", "tor1"]  # no staging left behind


def test_unchanged_compares_content_file_set_and_modes(dest):
    assert all(render_tree.unchanged(dest, name, files) for name, files in OLD.items())
    assert not render_tree.unchanged(dest, "n1", {"bird.conf": "other\n"})
    assert not render_tree.unchanged(dest, "n1", {"frr.conf": "old n1\n"})
    os.chmod(os.path.join(dest, "n1", "bird.conf"), 0o644)
    assert not render_tree.unchanged(dest, "n1", OLD["n1"])
    assert not render_tree.unchanged(dest, "../n1", OLD["n1"])


def test_a_limited_render_leaves_other_hosts_alone(dest):
    render_tree.write_tree(dest, {"n1": NEW["n1"]})
    assert tree(dest) == {"n1/bird.conf": "new n1\n", "n2/frr.conf": "old n2\n", "tor1/frr.conf": "old tor1\n"}


def test_a_failure_while_writing_the_new_files_changes_nothing(dest, monkeypatch):
    calls = []
    real = render_tree._write

    def failing(path, text, exact=False):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(path, text, exact)

    monkeypatch.setattr(render_tree, "_write", failing)
    with pytest.raises(render_tree.TreeError, match="nothing was changed: .*No space left"):
        render_tree.write_tree(dest, NEW)
    assert tree(dest) == {"n1/bird.conf": "old n1\n", "n2/frr.conf": "old n2\n", "tor1/frr.conf": "old tor1\n"}
    assert sorted(os.listdir(dest)) == ["n1", "n2", "tor1"]


@pytest.mark.parametrize("fail_at", [1, 2, 3, 4, 5])
def test_a_failure_while_swapping_puts_the_old_folders_back(dest, monkeypatch, fail_at):
    calls = []
    real = os.rename

    def failing(src, dst):
        calls.append(src)
        if len(calls) == fail_at:
            raise OSError(5, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(render_tree, "_rename", failing)
    with pytest.raises(render_tree.TreeError):
        render_tree.write_tree(dest, NEW)
    assert tree(dest) == {"n1/bird.conf": "old n1\n", "n2/frr.conf": "old n2\n", "tor1/frr.conf": "old tor1\n"}
    assert sorted(os.listdir(dest)) == ["n1", "n2", "tor1"]


def test_a_failure_on_a_fresh_folder_leaves_no_host_folder(tmp_path, monkeypatch):
    dest = str(tmp_path / "fresh")
    calls = []
    real = os.rename

    def failing(src, dst):
        calls.append(src)
        if len(calls) == 3:
            raise OSError(5, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(render_tree, "_rename", failing)
    with pytest.raises(render_tree.TreeError):
        render_tree.write_tree(dest, NEW)
    assert os.listdir(dest) == []


@pytest.mark.parametrize("name", ["..", ".", "../escape", "a/b", "", "x\0y", ".fabric-render-x"])
def test_host_names_that_are_not_plain_folder_names_are_refused_before_any_write(dest, name):
    with pytest.raises(render_tree.TreeError, match="not a plain folder name"):
        render_tree.write_tree(dest, dict(NEW, **{name: {"bird.conf": "x\n"}}))
    assert tree(dest) == {"n1/bird.conf": "old n1\n", "n2/frr.conf": "old n2\n", "tor1/frr.conf": "old tor1\n"}


def test_a_symbolic_link_out_of_the_render_folder_is_refused(dest, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(str(outside), os.path.join(dest, "n3"))
    with pytest.raises(render_tree.TreeError, match="symbolic link"):
        render_tree.write_tree(dest, {"n1": NEW["n1"], "n3": {"bird.conf": "x\n"}})
    assert os.listdir(str(outside)) == []
    assert tree(dest)["n1/bird.conf"] == "old n1\n"


def test_relative_paths_resolve_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert render_tree.resolve("rendered") == os.path.join(str(tmp_path), "rendered")
    assert render_tree.resolve("./a/../b") == os.path.join(str(tmp_path), "b")
    assert render_tree.resolve("/abs/x") == "/abs/x"
    assert render_tree.resolve("~/x") == os.path.expanduser("~/x")
    assert render_tree.resolve("r", cwd="/elsewhere") == "/elsewhere/r"
    with pytest.raises(render_tree.TreeError, match="not an absolute path"):
        render_tree.write_tree("relative", NEW)


def test_modes_stay_private_under_a_umask_that_takes_owner_bits(tmp_path):
    old = os.umask(0o277)
    try:
        render_tree.write_tree(str(tmp_path / "r"), NEW)
    finally:
        os.umask(old)
    for name in NEW:
        assert stat.S_IMODE(os.stat(str(tmp_path / "r" / name)).st_mode) == 0o700
        for f in NEW[name]:
            assert stat.S_IMODE(os.stat(str(tmp_path / "r" / name / f)).st_mode) == 0o600


# A render that dies outright (kill -9) ---------------------------------------------------------------------------

KILLED_MID_SWAP = """
import os, signal, sys
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render_tree

real = render_tree._rename


def rename(src, dst):
    real(src, dst)
    os.kill(os.getpid(), signal.SIGKILL)  # right after moving the first host's folder aside


render_tree._rename = rename
render_tree.write_tree(sys.argv[1], {"n1": {"bird.conf": "new n1\\n"}, "n2": {"bird.conf": "new n2\\n"}})
"""


def test_the_next_render_puts_back_what_a_render_killed_mid_swap_moved_aside(dest):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-c", KILLED_MID_SWAP, dest], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    left = sorted(os.listdir(dest))
    assert "n1" not in left and any(name.startswith(render_tree.STAGING_PREFIX) for name in left), left
    render_tree.write_tree(dest, {"tor1": NEW["tor1"]})
    assert tree(dest) == {"n1/bird.conf": "old n1\n", "n2/frr.conf": "old n2\n", "tor1/frr.conf": "new tor1\n"}
    assert sorted(os.listdir(dest)) == ["n1", "n2", "tor1"]


def test_the_staging_folder_of_a_render_still_running_is_left_alone(dest):
    live = os.path.join(dest, render_tree.STAGING_PREFIX + "live")
    os.makedirs(os.path.join(live, "new"))
    running = os.open(dest, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(running, fcntl.LOCK_SH)  # what a render in progress holds
        render_tree.write_tree(dest, {"n1": NEW["n1"]})
        assert os.path.isdir(live)
    finally:
        os.close(running)
    render_tree.write_tree(dest, {"n1": NEW["n1"]})
    assert not os.path.exists(live)
