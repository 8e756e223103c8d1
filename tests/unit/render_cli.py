# -*- coding: utf-8 -*-
"""Run the render CLI (plugins/plugin_utils/cli.py) as a user would, and compare rendered trees."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys

from conftest import COLLECTIONS


def cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS), ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS))
    cmd = [sys.executable, "-m", "ansible_collections.anycast.fabric.plugins.plugin_utils.cli", *args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


def same_tree(left, right):
    comparison = filecmp.dircmp(left, right)
    if comparison.left_only or comparison.right_only or comparison.diff_files:
        return False
    return all(same_tree(os.path.join(left, d), os.path.join(right, d)) for d in comparison.common_dirs)
