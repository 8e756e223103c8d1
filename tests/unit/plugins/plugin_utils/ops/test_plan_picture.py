"""The plan's picture: the topology with the hosts a change touches and the sessions it resets marked."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ansible_collections.anycast.fabric.plugins.plugin_utils.document import topology
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops import plan
from fabric_factory import small_fabric


ENTRY = {"lines_added": 1, "lines_removed": 1, "vips_added": [], "vips_removed": [], "sessions_added": [], "sessions_removed": [], "diff": "", "commands": []}


def intents():
    hosts, groups = small_fabric()
    built, problems = model.build(hosts, groups)
    assert not problems, problems.messages()
    return built


def test_changed_hosts_and_reset_sessions_are_marked():
    built = intents()
    n1_at_tor1 = next(p for p in built["tor1"].peers if p.name == "n1")
    tor1_at_n1 = next(p for p in built["n1"].peers if p.name == "tor1")
    report = {
        "schema": plan.PLAN_SCHEMA,
        "result": "changes",
        "changes": True,
        "hosts_changed": ["n1", "tor1"],
        "warnings": [],
        "errors": [],
        "hosts": {
            "n1": dict(ENTRY, role="node", daemon="bird", sessions_reset=[tor1_at_n1.address]),
            "tor1": dict(ENTRY, role="tor", daemon="frr", sessions_reset=[n1_at_tor1.address]),
        },
    }
    state = plan.picture_state(report, built)
    assert state["hosts"]["n1"] == "changed" and state["hosts"]["n2"] == "ok"
    assert state["marks"] == {("n1", "tor1"): "reset", ("tor1", "n1"): "reset"}
    svg = plan.picture(report, {name: i.to_dict() for name, i in built.items()})
    root = ET.fromstring(svg)
    classes = {g.get("id"): g.get("class") for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("id")}
    assert classes["host-n1"] == "node host changed" and classes["host-tor1"] == "node host changed"
    assert classes["host-n3"] == "node host ok"
    assert classes["link-tor1--n1"] == "edge session ipv4 reset"
    assert classes["link-tor1--n2"] == "edge session ipv4"
    assert "[What the change touches](plan.svg)" in plan.markdown(report, picture="plan.svg")


def test_no_picture_without_changes_or_without_dot(monkeypatch):
    built = intents()
    empty = {"schema": plan.PLAN_SCHEMA, "result": "no_changes", "changes": False, "hosts_changed": [], "warnings": [], "errors": [], "hosts": {}}
    assert plan.picture(empty, built) is None
    assert "plan.svg" not in plan.markdown(empty, picture="plan.svg")
    changed = dict(empty, result="changes", changes=True, hosts_changed=["n1"], hosts={"n1": {}})
    monkeypatch.setattr(topology, "dot_program", lambda: None)
    assert plan.picture(changed, built) is None
