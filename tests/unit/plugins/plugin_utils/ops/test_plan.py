# -*- coding: utf-8 -*-
"""The plan report: changes, resets and warnings from check-mode results."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops import plan
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render
from fabric_factory import small_fabric

PASSWORD = "s3cret-md5"


def build(mutate=None):
    hosts, groups = small_fabric()
    if mutate:
        mutate(hosts)
    intents, problems = model.build(hosts, groups)
    assert not problems, problems.messages()
    return intents


@pytest.fixture(scope="module")
def intents():
    return build()


def live(intents, changed=None):
    """Observed state of a fabric that runs exactly INTENTS; CHANGED: {host: routing_config result}."""
    observed = {}
    for name, intent in intents.items():
        sessions = [
            {"name": p.id if intent.daemon == "bird" else p.name, "peer": p.address, "established": True, "state": "Established"}
            for p in intent.peers
        ]
        exports = [v.prefix for v in intent.vips] + [p.prefix for p in intent.pod_cidrs]
        config = (changed or {}).get(name) or {"changed": False, "commands": [], "diff": None}
        observed[name] = {"config": config, "bgp": {"sessions": sessions, "exports": exports}, "drain": "in_service", "error": None}
    return observed


def diff_of(intent_before, intent_after):
    return {
        "changed": True,
        "commands": [],
        "diff": {
            "before": render.render(intent_before, password=PASSWORD),
            "after": render.render(intent_after, password=PASSWORD),
            "before_header": "/etc/bird/bird.conf",
        },
    }


def test_an_unchanged_fabric_plans_no_changes(intents):
    report = plan.build(intents, live(intents))
    assert report["result"] == "no_changes" and not report["changes"] and report["warnings"] == []
    assert "**No changes.**" in plan.markdown(report)


def test_a_new_vip_is_an_addition_without_warnings(intents):
    def add_vip(hosts):
        hosts["n1"]["fabric_vips"].append("198.51.100.99")

    after = build(add_vip)
    observed = live(intents, {"n1": diff_of(intents["n1"], after["n1"])})
    report = plan.build(after, observed)
    assert report["result"] == "changes" and "n1" in report["hosts_changed"]
    assert report["hosts"]["n1"]["vips_added"] == ["198.51.100.99/32"]
    assert report["hosts"]["n1"]["sessions_reset"] == []
    assert report["warnings"] == []


def test_removing_a_vip_from_its_only_node_warns(intents):
    def drop_web(hosts):
        hosts["n2"]["fabric_vips"] = ["198.51.100.10"]

    after = build(drop_web)
    report = plan.build(after, live(intents))
    assert report["hosts"]["n2"]["vips_removed"] == ["198.51.100.11/32"]
    assert report["warnings"] == ["VIP 198.51.100.11/32 loses its last node: announced now by n2, by no node after the change"]


def test_a_bird_timer_change_resets_every_session_and_warns_for_the_rack(intents):
    def timers(hosts):
        for host in hosts.values():
            host["fabric_bgp"] = dict(host["fabric_bgp"], hold_time=12, keepalive_time=4)

    after = build(timers)
    observed = live(intents, {"n1": diff_of(intents["n1"], after["n1"])})
    report = plan.build(after, observed)
    assert report["hosts"]["n1"]["sessions_reset"] == ["10.1.1.1"]
    assert any(w.startswith("n1: the change re-establishes 1 session(s)") for w in report["warnings"])
    # n2 is not reset (its result says unchanged): rack r1 keeps a session.
    assert not any("loses all its BGP sessions" in w for w in report["warnings"])
    observed["n2"]["config"] = {"changed": True, "commands": ["router bgp 4200000000", " timers bgp 4 12"], "diff": {"before": "a", "after": "b"}}
    report = plan.build(after, observed)
    assert any(w.endswith("r1 loses all its BGP sessions at once (2 of them removed or reset)") for w in report["warnings"])


def test_a_bird_filter_change_resets_nothing(intents):
    def pods(hosts):
        hosts["n1"]["fabric_pod_cidrs"].append("10.244.9.0/24")

    after = build(pods)
    report = plan.build(after, live(intents, {"n1": diff_of(intents["n1"], after["n1"])}))
    assert report["hosts"]["n1"]["config_changed"] and report["hosts"]["n1"]["sessions_reset"] == []


def test_frr_neighbor_password_commands_reset_the_group(intents):
    observed = live(
        intents, {"tor1": {"changed": True, "commands": ["router bgp 65101", " neighbor NODES-V4 password ********"], "diff": {"before": "x", "after": "y"}}}
    )
    report = plan.build(intents, observed)
    assert report["hosts"]["tor1"]["sessions_reset"] == ["10.1.1.11", "10.1.1.12"]


def test_sessions_added_and_removed_come_from_the_live_state(intents):
    observed = live(intents)
    observed["tor1"]["bgp"]["sessions"].append({"name": "old", "peer": "10.1.1.99", "established": True, "state": "Established"})
    observed["tor1"]["bgp"]["sessions"] = [s for s in observed["tor1"]["bgp"]["sessions"] if s["peer"] != "10.1.1.12"]
    report = plan.build(intents, observed)
    assert report["hosts"]["tor1"]["sessions_added"] == ["10.1.1.12"]
    assert report["hosts"]["tor1"]["sessions_removed"] == ["10.1.1.99"]


def test_a_host_that_cannot_be_planned_makes_the_plan_an_error(intents):
    observed = live(intents)
    observed["n3"] = {"config": {}, "bgp": {}, "drain": "in_service", "error": "bird: command not found"}
    report = plan.build(intents, observed)
    assert report["result"] == "error" and report["errors"] == ["n3: bird: command not found"]
    assert "## Errors" in plan.markdown(report)
    # Nothing is known of what n3 runs: it is not listed as changing, nor its VIPs and sessions as added.
    assert "n3" not in report["hosts_changed"]
    assert report["hosts"]["n3"]["vips_added"] == [] and report["hosts"]["n3"]["sessions_added"] == []


def test_markdown_shows_the_diff_and_never_the_password(intents):
    def add_vip(hosts):
        hosts["n1"]["fabric_vips"].append("198.51.100.99")

    after = build(add_vip)
    change = diff_of(intents["n1"], after["n1"])
    masked = copy.deepcopy(change)
    for side in ("before", "after"):
        masked["diff"][side] = masked["diff"][side].replace(PASSWORD, "********")
    text = plan.markdown(plan.build(after, live(intents, {"n1": masked})))
    assert "```diff" in text and "198.51.100.99/32" in text.split("```diff")[1]
    assert PASSWORD not in text
