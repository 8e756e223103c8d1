# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health agent as the role deploys it, for the tests.

The role ships roles/healthcheck/files/anycast_healthd/ plus the collection's
plugins/module_utils/_health_spec.py (the one health spec) into a staging folder
on the node and builds a zipapp of it. build() does the same here, and the
tests import the package from the staging folder, so they run exactly the files
the node runs.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import types
import zipapp
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]
PACKAGE = REPO / "roles" / "healthcheck" / "files" / "anycast_healthd"
SPEC = REPO / "plugins" / "module_utils" / "_health_spec.py"
MODULES = ("config", "checks", "state", "announcer", "metrics", "notify", "agent", "cli")


def build(folder):
    """Stage the package and build the zipapp in `folder`: (staging folder, zipapp path)."""
    folder = Path(folder)
    source = folder / "src"
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(PACKAGE, source / "anycast_healthd", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(SPEC, source / "anycast_healthd" / "_health_spec.py")
    target = folder / "anycast-healthd.pyz"
    zipapp.create_archive(source, target, main="anycast_healthd.cli:run", filter=lambda path: "__pycache__" not in path.parts)
    return source, target


def load():
    """All the agent's modules, imported from a fresh staging folder; one namespace of their names."""
    source, _target = build(tempfile.mkdtemp(prefix="anycast-healthd-"))
    sys.path.insert(0, str(source))
    import importlib

    modules = {name: importlib.import_module("anycast_healthd." + name) for name in MODULES}
    modules["spec"] = importlib.import_module("anycast_healthd._health_spec")
    merged = types.SimpleNamespace(modules=types.SimpleNamespace(**modules))
    for module in modules.values():
        for name, value in vars(module).items():
            if not name.startswith("__"):
                setattr(merged, name, value)
    merged.VERSION = importlib.import_module("anycast_healthd").VERSION
    return merged
