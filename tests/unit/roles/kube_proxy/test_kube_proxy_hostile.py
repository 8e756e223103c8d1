# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kube_proxy role with hostile variables writes nothing (issue 22).

The real role, run by ansible-playbook on localhost (connection local, no root,
no container), with a newline injected into a sysctl value and every file the
role writes pointed into the test's folder: the run fails at the role_inputs
task with every problem listed, and no file appears, in check mode or not.
"""

from __future__ import annotations

import json
import re

import pytest

from conftest import run_playbook

INJECTED = "1\nkernel.core_pattern = |/tmp/pwned"


def run_role(tmp_path, variables, check):
    target = tmp_path / "target"
    (target / "sysctl.d").mkdir(parents=True)
    (target / "modules-load.d").mkdir()
    (target / "kube-proxy").mkdir()
    variables = dict(
        {
            "kube_proxy_sysctl_file": str(target / "sysctl.d" / "90-kp.conf"),
            "kube_proxy_modules_load_file": str(target / "modules-load.d" / "kp.conf"),
            "kube_proxy_config_path": str(target / "kube-proxy" / "kube-proxy.yaml"),
            "ansible_python_interpreter": "/usr/bin/python3",
        },
        **variables,
    )
    play = [{"hosts": "localhost", "gather_facts": False, "vars": variables, "roles": ["anycast.fabric.kube_proxy"]}]
    (tmp_path / "play.json").write_text(json.dumps(play))
    proc = run_playbook(tmp_path / "play.json", "localhost,", "-c", "local", *(["--check"] if check else []))
    written = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    return proc, proc.stdout + proc.stderr, written


HOSTILE = {
    "sysctl-value-newline": ({"kube_proxy_extra_sysctls": {"net.core.somaxconn": INJECTED}}, ["kube_proxy_extra_sysctls['net.core.somaxconn']"]),
    "sysctl-key-newline": ({"kube_proxy_extra_sysctls": {"net.core.somaxconn = 1\nkernel.core_pattern": "|/tmp/pwned"}}, ["kube_proxy_extra_sysctls["]),
    "everything": (
        {
            "kube_proxy_extra_sysctls": {"net.core.somaxconn": INJECTED, "net.ipv4.conf.eth0/100.rp_filter": "2"},
            "kube_proxy_ipvs_modules": ["ip_vs", "ip_vs_rr\nevil"],
            "kube_proxy_kubernetes_version": 1.4,
            "kube_proxy_mode": "ipvs",
        },
        ["kube_proxy_extra_sysctls['net.core.somaxconn']", "kube_proxy_ipvs_modules[1]", "kube_proxy_kubernetes_version = 1.4"],
    ),
}


@pytest.mark.parametrize("check", [True, False], ids=["check-mode", "for-real"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_variables_fail_at_role_inputs_and_write_nothing(tmp_path, case, check):
    variables, expected = HOSTILE[case]
    if not check:
        # Safety net for a run as root: should role_inputs ever stop failing,
        # no module can run on this host (role_inputs runs on the controller).
        variables = dict(variables, ansible_python_interpreter="/nonexistent/python3")
    proc, output, written = run_role(tmp_path, variables, check)
    assert proc.returncode != 0, output
    assert written == [], "the role wrote %s:\n%s" % (written, output)
    assert "Check the role's variables that reach files on the node" in output
    assert "The kube_proxy role's variables have" in output and "nothing was changed on localhost" in output, output
    for path in expected:
        assert "localhost: " + path in output, (path, output)
    # The run stopped at the first task: only the argument spec ran before it.
    tasks = re.findall(r"^TASK \[anycast\.fabric\.kube_proxy : (.*?)\]", output, re.M)
    assert len(tasks) == 2 and tasks[0].startswith("Validating arguments against arg spec"), tasks
    assert tasks[1] == "Check the role's variables that reach files on the node", tasks
    assert re.search(r"localhost\s+: ok=1\s+changed=0\s+unreachable=0\s+failed=1", output), output


def test_a_bad_path_is_refused_before_anything_is_written(tmp_path):
    proc, output, written = run_role(tmp_path, {"kube_proxy_sysctl_file": str(tmp_path / "target" / "sysctl.d" / "x.conf\nother")}, check=True)
    assert proc.returncode != 0 and written == [], output
    assert "localhost: kube_proxy_sysctl_file" in output
