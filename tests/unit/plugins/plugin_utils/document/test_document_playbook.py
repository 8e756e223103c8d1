# -*- coding: utf-8 -*-
"""anycast.fabric.document end to end through ansible-playbook: a relative folder from another directory,
all files, idempotence, check mode, --limit, no key in any output, and a controller without Graphviz's dot.

No host is contacted (the action runs on the controller only), so this runs without the lab.
"""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import BIN, REPO, ansible_env, run_playbook

EXAMPLE = REPO / "inventories" / "example"
GOLDEN = REPO / "tests" / "golden" / "docs"
EXAMPLE_PASSWORD = "example-md5-key"
FILES = ["fabric.md", "hosts.csv", "sessions.csv", "topology.dot", "topology.svg", "vips.csv"]


def document(cwd, *args, env=None):
    proc = run_playbook("anycast.fabric.document", EXAMPLE, *args, cwd=cwd, env=env or ansible_env(PWD=str(REPO)))
    return proc, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def documented(tmp_path_factory):
    # A relative folder, from a working directory that is neither the checkout
    # nor the playbook's; PWD lies (a wrapper without a shell): only the real
    # working directory may count.
    work = tmp_path_factory.mktemp("work")
    proc, text = document(work, "-e", "fabric_docs_dir=out/docs", "-v")
    assert proc.returncode == 0, text
    assert not (REPO / "out").exists() and not (REPO / "playbooks" / "out").exists()
    return work, work / "out" / "docs", text


def test_a_relative_folder_gets_every_file_from_the_callers_directory(documented):
    _work, docs, text = documented
    assert sorted(os.listdir(docs)) == FILES
    for name in os.listdir(GOLDEN):
        assert (docs / name).read_text() == (GOLDEN / name).read_text(), name
    root = ET.parse(docs / "topology.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert '"hosts": 16' in text and '"sessions": 42' in text and '"picture": true' in text


def test_no_key_in_any_file_or_output(documented):
    _work, docs, text = documented
    assert EXAMPLE_PASSWORD not in text
    for name in os.listdir(docs):
        assert EXAMPLE_PASSWORD not in (docs / name).read_text(), name


def test_a_second_run_changes_nothing_and_limit_documents_the_whole_fabric(documented):
    work, docs, _text = documented
    proc, text = document(work, "-e", "fabric_docs_dir=out/docs", "--limit", "ams-r1-n1")
    assert proc.returncode == 0, text
    assert "changed=0" in text and "failed=0" in text
    assert sorted(os.listdir(docs)) == FILES


def test_default_folder_and_check_mode(tmp_path):
    proc, text = document(tmp_path, "--check")
    assert proc.returncode == 0, text
    assert "changed=1" in text and not (tmp_path / "fabric-docs").exists()
    proc, text = document(tmp_path)
    assert proc.returncode == 0, text
    assert sorted(os.listdir(tmp_path / "fabric-docs")) == FILES


def test_without_dot_everything_else_is_written_with_a_warning(tmp_path):
    # A controller whose PATH has Python and Ansible but no Graphviz.
    proc, text = document(tmp_path, "-e", "fabric_docs_dir=docs", env=ansible_env(PATH=str(BIN)))
    assert proc.returncode == 0, text
    assert sorted(os.listdir(tmp_path / "docs")) == [n for n in FILES if n != "topology.svg"]
    flat = " ".join(text.split())
    assert "topology.svg was not drawn (the other files were written)" in flat and "apt install graphviz" in flat
    # A picture from an earlier run is removed, not left beside newer tables.
    (tmp_path / "docs" / "topology.svg").write_text("<svg/>")
    proc, text = document(tmp_path, "-e", "fabric_docs_dir=docs", env=ansible_env(PATH=str(BIN)))
    assert proc.returncode == 0, text
    assert not (tmp_path / "docs" / "topology.svg").exists()


def test_an_inventory_without_fabric_hosts_fails(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    web1: {}\n")
    proc = run_playbook("anycast.fabric.document", inventory, "-e", "fabric_docs_dir=docs", cwd=tmp_path, env=ansible_env())
    assert proc.returncode != 0
    assert "No fabric host in the inventory" in proc.stdout + proc.stderr
    assert not (tmp_path / "docs").exists()


def test_the_installed_tarball_documents_its_example(tmp_path):
    """Built and installed as a user gets it, alone on the collections path, run from another folder."""
    target = tmp_path / "collections"
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ.get("PATH", "")))
    proc = subprocess.run([str(REPO / "scripts" / "install-built.sh"), str(target)], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    root = target / "ansible_collections" / "anycast" / "fabric"
    work = tmp_path / "work"
    work.mkdir()
    only_installed = ansible_env(ANSIBLE_COLLECTIONS_PATH=str(target), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
    proc = run_playbook("anycast.fabric.document", root / "inventories" / "example", "-e", "fabric_docs_dir=docs", cwd=work, env=only_installed)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(os.listdir(work / "docs")) == FILES
    for name in os.listdir(GOLDEN):
        assert (work / "docs" / name).read_text() == (GOLDEN / name).read_text(), name
