# -*- coding: utf-8 -*-
"""anycast.fabric.fabric_verify through ansible-playbook, without a lab: every host registers what
bgp_info would have returned (built from its own intent), and the action writes the reports into a
relative folder of the caller's directory and fails exactly when a check differs from the intent."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from conftest import REPO, ansible_env, run_playbook

EXAMPLE = REPO / "inventories" / "example"
EXAMPLE_PASSWORD = "example-md5-key"

# What bgp_info returns on a healthy host, from the host's own intent and expected paths;
# BROKEN (a host name) gets what bgp_info says when its daemon is not running.
PLAYBOOK = """
- hosts: fabric_nodes:fabric_tors:fabric_spines
  gather_facts: false
  connection: local
  tasks:
    - ansible.builtin.include_role:
        name: anycast.fabric.intent
    - ansible.builtin.set_fact:
        verify_bgp: >-
          {%- set sessions = [] -%}
          {%- for p in fabric_intent.peers -%}
          {{- sessions.append({'name': p.name, 'peer': p.address, 'family': p.family, 'state': 'Established', 'established': true}) -}}
          {%- endfor -%}
          {%- set routes = {} -%}
          {%- for prefix, count in lookup('anycast.fabric.fabric_data', 'expected_paths').items() -%}
          {{- routes.update({prefix: {'next_hops': range(count) | map('string') | list, 'paths': count}}) -}}
          {%- endfor -%}
          {%- if inventory_hostname == broken | default('') -%}
          {{ {'daemon': 'bird', 'msg': 'bird is not running (or its control interface is unreachable)', 'failed': false} }}
          {%- else -%}
          {{ {'sessions': sessions, 'routes': routes, 'exports': fabric_intent.vips | default([]) | map(attribute='prefix') | list, 'failed': false} }}
          {%- endif -%}
    - anycast.fabric.fabric_verify:
        dest: "{{ fabric_verify_dir }}"
        hosts: "{{ ansible_play_hosts_all }}"
      run_once: true
"""


@pytest.fixture(scope="module")
def playbook(tmp_path_factory):
    path = tmp_path_factory.mktemp("play") / "verify.yml"
    path.write_text(PLAYBOOK)
    return path


def verify(cwd, playbook, *args):
    proc = run_playbook(playbook, EXAMPLE, "-e", "fabric_verify_dir=out/verify", *args, cwd=cwd, env=ansible_env(PWD=str(REPO)))
    return proc, proc.stdout + proc.stderr


def test_a_healthy_fabric_passes_and_the_reports_land_in_the_callers_folder(tmp_path, playbook):
    proc, text = verify(tmp_path, playbook)
    assert proc.returncode == 0, text
    out = tmp_path / "out" / "verify"
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "report.json", "report.md", "state.dot", "state.svg"]
    root = ET.parse(out / "junit.xml").getroot()
    assert root.get("failures") == "0" and int(root.get("tests")) > 0
    report = json.loads((out / "report.json").read_text())
    assert report["result"] == "passed" and report["by_kind"]["paths"]["cases"] > 0 and report["by_kind"]["vips"]["cases"] > 0
    assert "**Passed**" in (out / "report.md").read_text()
    for path in out.iterdir():
        assert EXAMPLE_PASSWORD not in path.read_text()
    assert EXAMPLE_PASSWORD not in text


def test_a_stopped_daemon_fails_the_play_and_is_named_in_every_report(tmp_path, playbook):
    proc, text = verify(tmp_path, playbook, "-e", "broken=ams-r1-n1")
    assert proc.returncode != 0, text
    assert "checks differ from the intent" in text and "ams-r1-n1" in text
    out = tmp_path / "out" / "verify"
    root = ET.parse(out / "junit.xml").getroot()
    failed = [t for t in root.iter("testcase") if t.find("failure") is not None]
    assert failed and {t.get("classname").split(".", 1)[1] for t in failed} == {"ams-r1-n1"}
    assert all("bird is not running" in t.find("failure").get("message") for t in failed)
    svg = ET.parse(out / "state.svg").getroot()
    classes = {g.get("id"): g.get("class") for g in svg.iter("{http://www.w3.org/2000/svg}g") if g.get("id")}
    assert classes["host-ams-r1-n1"] == "node host unknown"
    assert any(i.startswith("link-") and "ams-r1-n1" in i and c.endswith(" down") for i, c in classes.items())


def test_check_mode_writes_nothing(tmp_path, playbook):
    proc, text = verify(tmp_path, playbook, "--check")
    assert proc.returncode == 0, text
    assert not (tmp_path / "out").exists()
