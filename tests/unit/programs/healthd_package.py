# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health agent as the role deploys it, for the tests.

The healthcheck role ships roles/programs/files/anycast_healthd/ (the agent's
modules plus its copies of the collection's plugins/module_utils/_health_spec.py,
_schema.py and _net_rules.py, kept in step by scripts/build-node-programs.py)
into a staging folder on the node and builds a zipapp of it. build() does the same here, and the
tests import the package from the staging folder, so they run exactly the files
the node runs.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
import types

from conftest import REPO, build_health_agent

SPEC = REPO / "plugins" / "module_utils" / "_health_spec.py"
MODULES = ("config", "checks", "state", "announcer", "metrics", "notify", "agent", "cli")


def build(folder):
    """Stage the package and build the zipapp in `folder`: (staging folder, zipapp path)."""
    return build_health_agent(folder)


def load():
    """All the agent's modules, imported from a fresh staging folder; one namespace of their names."""
    folder = tempfile.mkdtemp(prefix="anycast-healthd-")
    # The staging folder only has to outlive the imports' use: gone when the test process ends.
    atexit.register(shutil.rmtree, folder, True)
    source, _target = build(folder)
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


def build_script():
    """scripts/build-node-programs.py as a module (it vendors the shared files into the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_node_programs", REPO / "scripts" / "build-node-programs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
