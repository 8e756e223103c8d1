# -*- coding: utf-8 -*-
"""Shared test helpers: paths, the real daemon parsers, running playbooks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS = REPO / ".build" / "collections"
if str(COLLECTIONS) not in sys.path:
    # `make unit` sets PYTHONPATH; this keeps a bare `pytest` working too.
    sys.path.insert(0, str(COLLECTIONS))
# Shared test helpers (fabric_factory, config_statements, hostile_harness) sit
# in tests/unit; tests in folders that mirror plugins/ import them by name.
UNIT_HELPERS = REPO / "tests" / "unit"
if str(UNIT_HELPERS) not in sys.path:
    sys.path.insert(0, str(UNIT_HELPERS))

BIN = Path(sys.executable).parent


# The health agent as roles/healthcheck deploys it: the programs role's
# package anycast_healthd (the agent's modules plus the copies of the
# collection's health spec, leaf schema and address rules that
# scripts/build-node-programs.py keeps in step), zipped into one zipapp.
HEALTHD_PACKAGE = REPO / "roles" / "programs" / "files" / "anycast_healthd"


def build_health_agent(folder):
    """Stage the agent in FOLDER/src and zip it: (staging folder, zipapp path)."""
    import zipapp

    folder = Path(folder)
    source = folder / "src"
    shutil.rmtree(source, ignore_errors=True)
    # Only the *.py files, as the role's fileglob stages them.
    shutil.copytree(HEALTHD_PACKAGE, source / "anycast_healthd", ignore=lambda _d, names: [n for n in names if not n.endswith(".py")])
    target = folder / "anycast-healthd.pyz"
    zipapp.create_archive(source, target, main="anycast_healthd.cli:run", filter=lambda path: "__pycache__" not in path.parts)
    return source, target


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


def sh(*cmd, timeout=180, check=True, input=None):
    """Run CMD; its stdout. With CHECK, a non-zero exit fails the test with the command's output."""
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, check=False, input=input)
    if check and proc.returncode != 0:
        pytest.fail("exit %d: %s\n%s%s" % (proc.returncode, " ".join(map(str, cmd)), proc.stdout, proc.stderr))
    return proc.stdout


def in_container(name, *cmd, check=True, input=None):
    """`docker exec` CMD in the lab container NAME (stdin from INPUT); its stdout."""
    interactive = ["-i"] if input is not None else []
    return sh("docker", "exec", *interactive, name, *cmd, check=check, input=input)


def container_succeeds(name, *cmd):
    """Whether CMD exits 0 in the lab container NAME."""
    return subprocess.run(["docker", "exec", name] + [str(c) for c in cmd], capture_output=True, timeout=180, check=False).returncode == 0


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
    elif path.name == "gobgpd.conf":
        proc = subprocess.run([_need("gobgpd"), "-d", "-f", str(path)], capture_output=True, text=True, timeout=60, check=False)
    else:
        proc = subprocess.run([_need("vtysh"), "-C", "-f", str(path)], capture_output=True, text=True, timeout=60, check=False)
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip()


@pytest.fixture(scope="session")
def repo():
    return REPO


# Modules run for real ------------------------------------------------------------

# The managed hosts' interpreter: Debian's python3 with Debian's python3-pyroute2
# (0.7.2), exactly what a stock Debian 12 node has.
HOST_PYTHON = "/usr/bin/python3"


def run_module(module, args, netns=None, check=False, diff=False, python=HOST_PYTHON, container=None):
    """Run one module on localhost, in a network namespace, or in a lab container; return its result dict.

    A two-task playbook registers the result and writes it out as JSON, so the
    test sees exactly what a playbook would (the diff included), in check mode
    too.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        play = [
            {
                "hosts": "localhost",
                "gather_facts": False,
                "tasks": [
                    {"name": "module under test", module: args, "register": "result", "ignore_errors": True},
                    {
                        "name": "save the result",
                        "ansible.builtin.copy": {"content": "{{ result | to_json }}", "dest": out, "mode": "0600"},
                        "check_mode": False,
                        "diff": False,
                    },
                ],
            }
        ]
        playbook = os.path.join(tmp, "play.json")
        with open(playbook, "w") as handle:
            json.dump(play, handle)
        cmd = ["ip", "netns", "exec", netns] if netns else []
        cmd += [str(BIN / "ansible-playbook"), playbook, "-e", "ansible_python_interpreter=%s" % python]
        if container:
            # The result file is written on the controller, whatever the target.
            play[0]["hosts"] = container
            play[0]["tasks"][1]["delegate_to"] = "localhost"
            with open(playbook, "w") as handle:
                json.dump(play, handle)
            cmd += ["-i", "%s," % container, "-c", "community.docker.docker"]
        else:
            cmd += ["-i", "localhost,", "-c", "local"]
        cmd += ["--check"] if check else []
        cmd += ["--diff"] if diff else []
        proc = subprocess.run(cmd, env=ansible_env(), capture_output=True, text=True, timeout=300, check=False)
        if not os.path.exists(out):
            raise AssertionError("the module did not run (rc %d):\n%s\n%s" % (proc.returncode, proc.stdout, proc.stderr))
        with open(out) as handle:
            return json.load(handle)


def call_module(main, args, capsys, check=False, diff=True):
    """Run a module's main() in this process with ARGS; return its result dict.

    For logic a real host cannot provoke cheaply; run_module runs modules
    the way Ansible does.
    """
    from ansible.module_utils import _internal
    from ansible.module_utils.testing import patch_module_args

    args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    capsys.readouterr()
    # Once any test has imported controller code (ansible.errors, a plugin),
    # ansible-core routes module warnings to the controller's display instead
    # of the module's result: run the module as it runs on a host.
    was_controller = _internal.is_controller
    _internal.is_controller = False
    try:
        with patch_module_args(args):
            with pytest.raises(SystemExit):
                main()
    finally:
        _internal.is_controller = was_controller
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def netns():
    """A fresh network namespace: a private `lo` and private sysctls for module tests."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    name = "afab-%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


def netns_addresses(name, interface="lo"):
    out = subprocess.run(["ip", "netns", "exec", name, "ip", "-j", "addr", "show", "dev", interface], capture_output=True, text=True, check=True).stdout
    return sorted("%s/%d" % (a["local"], a["prefixlen"]) for link in json.loads(out) for a in link.get("addr_info", []))
