# -*- coding: utf-8 -*-
"""Shared test helpers: paths, the real daemon parsers, running playbooks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS = REPO / ".build" / "collections"
if str(COLLECTIONS) not in sys.path:
    # `make unit` sets PYTHONPATH; this keeps a bare `pytest` working too.
    sys.path.insert(0, str(COLLECTIONS))

BIN = Path(sys.executable).parent


def ansible_env(**extra):
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_FORCE_COLOR="false",
        ANSIBLE_NOCOLOR="true",
        ANSIBLE_HOST_KEY_CHECKING="false",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        PATH="%s:%s" % (BIN, env.get("PATH", "")),
    )
    env.update(extra)
    return env


def run_playbook(playbook, inventory, *args, cwd=None, env=None):
    cmd = [str(BIN / "ansible-playbook"), str(playbook), "-i", str(inventory), *args]
    return subprocess.run(cmd, cwd=cwd or REPO, env=env or ansible_env(), capture_output=True, text=True, timeout=300, check=False)


def _need(tool):
    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin")
    if path is None:
        pytest.fail("%s is not installed: run `make setup` (the parsers are part of the test contract)" % tool)
    return path


def parse_config(path):
    """Run the daemon's own parser on a rendered file; return (ok, output)."""
    path = Path(path)
    if path.name == "bird.conf":
        proc = subprocess.run([_need("bird"), "-p", "-c", str(path)], capture_output=True, text=True, timeout=60, check=False)
    else:
        proc = subprocess.run([_need("vtysh"), "-C", "-f", str(path)], capture_output=True, text=True, timeout=60, check=False)
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip()


@pytest.fixture(scope="session")
def repo():
    return REPO
