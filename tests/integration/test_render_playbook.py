# -*- coding: utf-8 -*-
"""The render playbook end to end: golden files, real parsers, failing early."""

from __future__ import annotations

import difflib
import json
import sys
import textwrap

import pytest

from conftest import REPO, ansible_env, parse_config, run_playbook

EXAMPLE = REPO / "inventories" / "example"
GOLDEN = REPO / "tests" / "golden" / "example"
PLAYBOOK = REPO / "playbooks" / "render.yml"


def files_under(root):
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def example_render(tmp_path_factory):
    # A relative render folder, from a working directory that is neither the
    # checkout nor the playbook's; PWD lies (a wrapper without a shell), so
    # only the real working directory may count.
    work = tmp_path_factory.mktemp("work")
    proc = run_playbook("anycast.fabric.render", EXAMPLE, "-e", "fabric_render_dir=out/rendered", cwd=work, env=ansible_env(PWD=str(REPO)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not (REPO / "out").exists() and not (REPO / "playbooks" / "out").exists()
    return work / "out" / "rendered"


def test_example_renders_exactly_the_golden_files(example_render):
    got, want = files_under(example_render), files_under(GOLDEN)
    assert sorted(got) == sorted(want), "rendered file set differs from tests/golden/example (regenerate with `make golden`)"
    diffs = []
    for name in sorted(want):
        a, b = want[name].read_text(), got[name].read_text()
        if a != b:
            diffs.extend(difflib.unified_diff(a.splitlines(), b.splitlines(), "golden/" + name, "rendered/" + name, lineterm=""))
    assert not diffs, "rendering changed (review, then `make golden`):\n" + "\n".join(diffs[:200])


def test_example_covers_every_role_and_daemon():
    names = files_under(GOLDEN)
    assert any(n.endswith("bird.conf") for n in names)
    assert sum(n.endswith("frr.conf") for n in names) > 0
    assert len({n.split("/")[0] for n in names}) == 16  # every host of inventories/example


@pytest.mark.parametrize("name", sorted(files_under(GOLDEN)))
def test_every_golden_file_passes_the_real_parser(name):
    ok, output = parse_config(GOLDEN / name)
    assert ok, output


def write_inventory(tmp_path, body):
    path = tmp_path / "hosts.yml"
    path.write_text(textwrap.dedent(body))
    return path


BROKEN = """
all:
  vars:
    # If anything tried to reach a host, it would fail here, visibly.
    ansible_connection: ssh
    ansible_host: 127.0.0.1
    ansible_port: 1
    fabric_anycast_pools: [198.51.100.0/24]
  children:
    fabric_tors:
      hosts:
        tor1: {fabric_rack: r1, fabric_asn: 65101, fabric_ipv4: 10.1.1.1/24}
    fabric_nodes:
      hosts:
        n1: {fabric_rack: r1, fabric_ipv4: 10.1.1.11/24, fabric_vips: [192.0.2.10]}
        n2: {fabric_rack: r1, fabric_ipv4: 10.9.9.9/24, fabric_asn: 65101}
        n3: {fabric_rack: r7, fabric_ipv4: 10.1.1.13/24}
"""


def test_invalid_inventory_fails_before_any_host_is_contacted_listing_all_errors(tmp_path):
    out = tmp_path / "out"
    proc = run_playbook(PLAYBOOK, write_inventory(tmp_path, BROKEN), "-e", "fabric_render_dir=%s" % out)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "The fabric inventory has 4 problems; nothing was rendered or applied" in text
    for line in (
        "n1: fabric_vips[0] = '192.0.2.10': is outside every anycast pool (fabric_anycast_pools: 198.51.100.0/24)",
        "n2: fabric_ipv4 = '10.9.9.9': is not on the same segment as tor1 (10.1.1.1, segment 10.1.1.0/24)",
        "n2: fabric_asn = 65101: is the ASN of tor1; nodes need their own ASN for eBGP with their ToRs",
        "n3: fabric_rack = 'r7': no ToR (fabric_tors) serves rack 'r7' of site 'default'",
    ):
        assert line in text
    assert "UNREACHABLE" not in text
    assert not out.exists()


def test_fabric_facts_insists_on_run_once(tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        textwrap.dedent(
            """
            - hosts: fabric_nodes
              gather_facts: false
              tasks:
                - anycast.fabric.fabric_facts:
            """
        )
    )
    inventory = write_inventory(tmp_path, "all:\n  children:\n    fabric_nodes:\n      hosts:\n        n1: {ansible_connection: local}\n")
    proc = run_playbook(playbook, inventory)
    assert proc.returncode != 0
    assert "must run with 'run_once: true'" in proc.stdout


def test_the_render_writes_only_private_files_and_no_staging_folder(example_render):
    assert sorted(p.name for p in example_render.iterdir() if p.name.startswith(".")) == []
    for path in example_render.rglob("*"):
        assert path.stat().st_mode & 0o777 == (0o700 if path.is_dir() else 0o600), path


def test_a_second_render_changes_nothing(example_render):
    proc = run_playbook("anycast.fabric.render", EXAMPLE, "-e", "fabric_render_dir=%s" % example_render)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "changed=0" in proc.stdout


# No spines, one ToR per rack; hosts reached with a local connection and no
# running daemon, as a new rack would be.
NO_SPINES = """
all:
  vars:
    fabric_anycast_pools: [198.51.100.0/24]
    ansible_connection: local
  children:
    fabric_tors:
      hosts:
        tor1: {fabric_rack: r1, fabric_asn: 65101, fabric_ipv4: 10.1.1.1/24}
        tor2: {fabric_rack: r2, fabric_asn: 65102, fabric_ipv4: 10.1.2.1/24}
    fabric_nodes:
      hosts:
        n1: {fabric_rack: r1, fabric_ipv4: 10.1.1.11/24, fabric_vips: [198.51.100.10]}
        n2: {fabric_rack: r2, fabric_ipv4: 10.1.2.11/24, fabric_vips: [198.51.100.10], fabric_daemon: frr}
    other:
      hosts:
        bastion: {}
"""


def test_a_fabric_without_spines_renders_and_limit_renders_only_its_hosts(tmp_path):
    inventory = write_inventory(tmp_path, NO_SPINES)
    proc = run_playbook("anycast.fabric.render", inventory, "-e", "fabric_render_dir=out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.conf")) == [
        "n1/bird.conf",
        "n2/frr.conf",
        "tor1/frr.conf",
        "tor2/frr.conf",
    ]
    proc = run_playbook("anycast.fabric.render", inventory, "-e", "fabric_render_dir=limited", "--limit", "n2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [p.name for p in (tmp_path / "limited").iterdir()] == ["n2"]


def test_a_limit_outside_the_fabric_fails_saying_so(tmp_path):
    inventory = write_inventory(tmp_path, NO_SPINES)
    proc = run_playbook("anycast.fabric.render", inventory, "-e", "fabric_render_dir=out", "--limit", "bastion", cwd=tmp_path)
    assert proc.returncode != 0
    assert "No fabric host matched" in proc.stdout
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("playbook", ["render", "plan", "site", "verify", "drain", "undrain"])
def test_every_playbook_fails_clearly_on_a_wrong_inventory_path(tmp_path, playbook):
    proc = run_playbook("anycast.fabric." + playbook, tmp_path / "no-such-inventory.yml", "-e", "fabric_render_dir=out", cwd=tmp_path)
    assert proc.returncode != 0, proc.stdout
    assert "No fabric host in the inventory" in proc.stdout
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("playbook", ["drain", "undrain"])
@pytest.mark.parametrize("pattern", ["nX", None])
def test_drain_and_undrain_refuse_a_pattern_that_matches_no_node(tmp_path, playbook, pattern):
    # A play whose hosts match nothing is skipped with exit 0: a typo must not "succeed".
    inventory = write_inventory(tmp_path, NO_SPINES)
    extra = ["-e", "fabric_drain=%s" % pattern] if pattern else []
    proc = run_playbook("anycast.fabric." + playbook, inventory, "-e", "ansible_connection=local", *extra, cwd=tmp_path)
    assert proc.returncode != 0, proc.stdout
    assert "matches no node of fabric_nodes" in proc.stdout


def test_the_plan_of_a_fabric_without_spines_in_check_mode_with_absent_daemons(tmp_path):
    inventory = write_inventory(tmp_path, NO_SPINES)
    # The modules run with this interpreter (it has the collection's module dependencies).
    proc = run_playbook("anycast.fabric.plan", inventory, "-e", "fabric_plan_dir=report", "-e", "ansible_python_interpreter=%s" % sys.executable, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "report" / "plan.json").read_text())
    assert report["result"] in ("changes", "no_changes") and report["errors"] == []
    assert sorted(report["hosts"]) == ["n1", "n2", "tor1", "tor2"]
    assert report["hosts"]["n1"]["vips_added"] == ["198.51.100.10/32"] or report["hosts"]["n1"]["vips_added"] == []
    assert (tmp_path / "report" / "plan.md").read_text().startswith("# anycast.fabric plan")
    # Under --limit, only the limited hosts are planned.
    proc = run_playbook(
        "anycast.fabric.plan",
        inventory,
        "-e",
        "fabric_plan_dir=limited",
        "-e",
        "ansible_python_interpreter=%s" % sys.executable,
        "--limit",
        "tor2",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(json.loads((tmp_path / "limited" / "plan.json").read_text())["hosts"]) == ["tor2"]


def test_site_keeps_its_rollout_under_syntax_check():
    proc = run_playbook("anycast.fabric.site", EXAMPLE, "--syntax-check")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_intent_role_leaves_each_host_only_its_own_intent_and_no_run_folder_behind(tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        textwrap.dedent(
            """
            - hosts: fabric_nodes:fabric_tors:fabric_spines
              gather_facts: false
              roles:
                - role: anycast.fabric.intent
              tasks:
                - name: Show what each host carries
                  ansible.builtin.debug:
                    msg: "FACTS {{ inventory_hostname }} {{ fabric_intent.hostname }} {{ fabric_intents is defined }} {{ fabric_run }}"
            - hosts: localhost
              gather_facts: false
              tasks:
                - ansible.builtin.debug:
                    msg: "ROLLOUT {{ lookup('anycast.fabric.fabric_data', 'rollout') | to_json }}"
            """
        )
    )
    local_tmp = tmp_path / "local-tmp"
    proc = run_playbook(playbook, write_inventory(tmp_path, NO_SPINES), env=ansible_env(ANSIBLE_LOCAL_TEMP=str(local_tmp)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [line.split('"msg": "', 1)[1].rstrip('"') for line in proc.stdout.splitlines() if '"msg": "FACTS' in line]
    assert sorted(line.split()[1:4] for line in lines) == [[h, h, "False"] for h in ("n1", "n2", "tor1", "tor2")]
    run = {line.split()[4] for line in lines}
    assert len(run) == 1 and run.pop().startswith(str(local_tmp))
    assert 'ROLLOUT {\\"batches\\": [1, 1], \\"hosts\\": [\\"n1\\", \\"n2\\"]}' in proc.stdout
    # Ansible removes its local temporary folder, and the run folder with it, at exit.
    assert not list(local_tmp.rglob("anycast-fabric-run-*"))
