# -*- coding: utf-8 -*-
"""The render playbook end to end: golden files, real parsers, failing early."""

from __future__ import annotations

import difflib
import textwrap

import pytest

from conftest import REPO, parse_config, run_playbook

EXAMPLE = REPO / "inventories" / "example"
GOLDEN = REPO / "tests" / "golden" / "example"
PLAYBOOK = REPO / "playbooks" / "render.yml"


def files_under(root):
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def example_render(tmp_path_factory):
    out = tmp_path_factory.mktemp("render")
    proc = run_playbook(PLAYBOOK, EXAMPLE, "-e", "fabric_render_dir=%s" % out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


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
