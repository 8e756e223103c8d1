# -*- coding: utf-8 -*-
"""The render CLI (plugins/plugin_utils/cli.py): the render playbook's result without ansible-playbook."""

from __future__ import annotations

import pytest

from conftest import REPO
from render_cli import cli, same_tree

GOLDEN = REPO / "tests" / "golden" / "example"
EXAMPLE = REPO / "inventories" / "example"


def test_renders_the_golden_files_to_a_relative_folder(tmp_path):
    proc = cli("-i", str(EXAMPLE), "-o", "rendered", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "rendered"
    assert same_tree(out, GOLDEN)
    assert "16 hosts rendered" in proc.stdout
    # The key is in the files: owner only.
    assert oct(out.stat().st_mode & 0o777) == "0o700"
    some = next(p for p in out.rglob("*.conf"))
    assert oct(some.stat().st_mode & 0o777) == "0o600"

    again = cli("-i", str(EXAMPLE), "-o", "rendered", "--check", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout.startswith("0 of 16 hosts would change"), again.stdout + again.stderr


def test_check_says_what_would_change_and_writes_nothing(tmp_path):
    proc = cli("-i", str(EXAMPLE), "-o", "out", "--check", cwd=tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert proc.stdout.startswith("16 of 16 hosts would change")
    assert not (tmp_path / "out").exists()


def test_limit_renders_only_those_hosts(tmp_path):
    host = sorted(p.name for p in GOLDEN.iterdir())[0]
    proc = cli("-i", str(EXAMPLE), "-o", "out", "--limit", host, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [host]
    bad = cli("-i", str(EXAMPLE), "-o", "out2", "--limit", "no-such-host", cwd=tmp_path)
    assert bad.returncode == 1 and "no-such-host" in bad.stderr and not (tmp_path / "out2").exists()


@pytest.mark.parametrize(
    "inventory, expected",
    [
        ("all:\n  hosts:\n    web1: {}\n", "No fabric host in the inventory"),
        (
            "all:\n  children:\n    fabric_nodes:\n      hosts:\n        'n1':\n          fabric_rack: r1\n          fabric_ipv4: 10.0.0.1\n",
            "fabric: fabric_anycast_pools = null: is required",
        ),
    ],
)
def test_an_invalid_inventory_fails_with_the_problems_and_writes_nothing(tmp_path, inventory, expected):
    (tmp_path / "inv.yml").write_text(inventory)
    proc = cli("-i", "inv.yml", "-o", "out", cwd=tmp_path)
    assert proc.returncode == 1
    assert expected in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()
