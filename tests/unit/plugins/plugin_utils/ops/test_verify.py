"""verify's report: test cases from the intent against what the hosts showed, as JUnit XML and Markdown."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops import verify
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops.rollout import count_paths, path_index
from fabric_factory import small_fabric

PASSWORD = "s3cret-md5"


@pytest.fixture(scope="module")
def intents():
    hosts, groups = small_fabric()
    built, problems = model.build(hosts, groups)
    assert not problems, problems.messages()
    return built


def expected_of(intents, drained=()):
    return {name: count_paths(entry, drained) for name, entry in path_index(intents).items()}


def healthy(intents, drained=()):
    """What bgp_info would return on a healthy fabric: every session up, every expected path installed."""
    expected = expected_of(intents, drained)
    observed = {}
    for name, intent in intents.items():
        sessions = [
            {"name": p.name, "peer": p.address, "family": p.family, "state": "Established", "established": True, "last_error": None}
            for p in intent.peers
        ]
        routes = {prefix: {"next_hops": ["192.0.2.%d" % n for n in range(count)], "paths": count} for prefix, count in expected.get(name, {}).items()}
        exports = [] if name in drained else intent.vip_prefixes()
        observed[name] = {"bgp": {"sessions": sessions, "routes": routes, "exports": exports}, "error": None, "drain": "drained" if name in drained else None}
    return expected, observed


def test_a_healthy_fabric_passes_every_case(intents):
    expected, observed = healthy(intents)
    cases = verify.cases(intents, expected, observed)
    report = verify.summary(cases)
    sessions = sum(len(i.peers) for i in intents.values())
    paths = sum(len(e) for e in expected.values())
    vips = sum(len(i.vips) for i in intents.values())
    assert report["result"] == "passed" and report["failures"] == 0
    assert report["by_kind"]["sessions"]["cases"] == sessions
    assert report["by_kind"]["paths"]["cases"] == paths
    assert report["by_kind"]["vips"]["cases"] == vips
    assert report["cases"] == sessions + paths + vips
    root = ET.fromstring(verify.junit(cases))
    assert root.get("failures") == "0" and int(root.get("tests")) == report["cases"]
    assert [s.get("name") for s in root.iter("testsuite")] == ["BGP sessions", "ECMP paths", "VIP announcements"]
    assert "**Passed**" in verify.markdown(cases)


def test_a_stopped_daemon_fails_its_sessions_at_both_ends_its_paths_and_its_vips(intents):
    expected, observed = healthy(intents)
    # n1's BIRD is stopped: bgp_info cannot read it, and tor1 sees the session down and one path fewer.
    observed["n1"] = {"bgp": {"daemon": "bird"}, "error": "bird is not running (or its control interface is unreachable)", "drain": None}
    tor1 = observed["tor1"]["bgp"]
    n1 = next(p for p in intents["tor1"].peers if p.name == "n1")
    for session in tor1["sessions"]:
        if session["peer"] == n1.address:
            session.update(state="Active", established=False, last_error="Socket: Connection refused")
    for prefix in intents["n1"].vip_prefixes():
        route = tor1["routes"][prefix]
        route["next_hops"] = route["next_hops"][1:]
        route["paths"] -= 1
    cases = verify.cases(intents, expected, observed)
    failed = [c for c in cases if not c.ok]
    names = sorted(c.name for c in failed)
    assert "tor1: session with n1 (%s, ipv4)" % n1.address in names
    assert any(c.host == "n1" and c.kind == "sessions" and "bird is not running" in c.found for c in failed)
    assert all(c.host in ("n1", "tor1") for c in failed), names
    assert {c.subject for c in failed if c.kind == "paths"} == {"paths to %s" % p for p in intents["n1"].vip_prefixes()}
    n1_vips = {"VIP %s" % v.prefix + (" (%s)" % v.name if v.name else "") for v in intents["n1"].vips}
    assert {c.subject for c in failed if c.kind == "vips" and c.host == "n1"} == n1_vips
    root = ET.fromstring(verify.junit(cases))
    assert int(root.get("failures")) == len(failed)
    junit_failed = {(t.get("classname"), t.get("name")) for t in root.iter("testcase") if t.find("failure") is not None}
    assert ("sessions.tor1", "session with n1 (%s, ipv4)" % n1.address) in junit_failed
    message = next(t.find("failure").get("message") for t in root.iter("testcase") if t.get("classname") == "sessions.tor1" and t.find("failure") is not None)
    assert message == "expected Established, found Active (Socket: Connection refused)"
    text = verify.markdown(cases)
    assert "## What differs from the intent" in text and "| tor1 | session with n1" in text
    state = verify.live_state(cases, intents)
    assert state["sessions"][("tor1", "n1")] is False and state["sessions"][("tor1", "n2")] is True
    assert state["hosts"]["n1"] == "unknown" and state["hosts"]["tor1"] == "failed" and state["hosts"]["n3"] == "ok"


def test_a_drained_node_is_expected_withdrawn_not_failed(intents):
    expected, observed = healthy(intents, drained=("n2",))
    cases = verify.cases(intents, expected, observed)
    assert verify.summary(cases)["failures"] == 0
    skipped = [c for c in cases if c.skipped]
    assert skipped and all(c.host == "n2" and c.kind == "vips" for c in skipped)
    # A drained node that still announces is a failure.
    observed["n2"]["bgp"]["exports"] = intents["n2"].vip_prefixes()
    failed = [c for c in verify.cases(intents, expected, observed) if not c.ok]
    assert failed and all(c.found == "announced" and c.expected == "withdrawn (drained)" for c in failed)


def test_a_vip_withdrawn_by_its_health_checks_says_so():
    hosts, groups = small_fabric()
    hosts["n1"]["fabric_vips"] = [{"address": "198.51.100.10", "health": {"checks": [{"type": "tcp", "port": 80}]}}]
    intents, problems = model.build(hosts, groups)
    assert not problems, problems.messages()
    expected, observed = healthy(intents)
    observed["n1"]["bgp"]["exports"] = []
    failed = [c for c in verify.cases(intents, expected, observed) if not c.ok and c.kind == "vips"]
    assert [c.found for c in failed] == ["withdrawn by its health checks (they fail on n1)"]


def test_an_unreached_host_fails_every_check_it_owns(intents):
    expected, observed = healthy(intents)
    del observed["spine1"]
    failed = [c for c in verify.cases(intents, expected, observed) if not c.ok]
    assert failed and {c.host for c in failed} == {"spine1"}
    assert all(c.found.startswith("unknown: not read") for c in failed)


def test_the_reports_hold_no_secret_and_escape_what_they_quote(intents):
    expected, observed = healthy(intents)
    observed["n1"] = {"bgp": None, "error": 'boom <&> "quoted" | pipe', "drain": None}
    cases = verify.cases(intents, expected, observed)
    xml = verify.junit(cases)
    ET.fromstring(xml)  # well-formed despite <&>
    text = verify.markdown(cases)
    assert "\\| pipe" in text
    data = json.loads(verify.json_report(cases))
    assert data["failures"] == sum(1 for c in cases if not c.ok)
    for blob in (xml, text, verify.json_report(cases)):
        assert PASSWORD not in blob


def test_the_state_picture_marks_the_down_session_and_the_unread_host(intents):
    expected, observed = healthy(intents)
    observed["n1"] = {"bgp": None, "error": "bird is not running", "drain": None}
    cases = verify.cases(intents, expected, observed)
    source, svg, warning = verify.state_picture(cases, intents)
    assert warning is None and svg is not None and source.startswith("graph fabric {")
    root = ET.fromstring(svg)
    classes = {g.get("id"): g.get("class") for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("id")}
    assert classes["link-tor1--n1"] == "edge session ipv4 down"
    assert classes["link-tor1--n2"] == "edge session ipv4 up"
    assert classes["host-n1"] == "node host unknown" and classes["host-n2"] == "node host ok"
    assert all(c.endswith(" up") for name, c in classes.items() if name.startswith("link-") and "n1" not in name)


def test_without_graphviz_the_reports_are_still_written_with_a_warning(intents, monkeypatch):
    from ansible_collections.anycast.fabric.plugins.plugin_utils.document import topology

    monkeypatch.setattr(topology, "dot_program", lambda: None)
    expected, observed = healthy(intents)
    source, svg, warning = verify.state_picture(verify.cases(intents, expected, observed), intents)
    assert source is not None and svg is None and warning.startswith("state.svg was not written (state.dot was): ")


def test_a_vip_the_tor_routes_through_the_node_counts_as_announced_though_the_node_was_read_before(intents):
    # The node was read before its health agent added the VIP; its ToR, which waits, routes it through the node.
    expected, observed = healthy(intents)
    observed["n1"]["bgp"]["exports"] = []
    n1_at_tor1 = next(p for p in intents["tor1"].peers if p.name == "n1")
    for prefix in intents["n1"].vip_prefixes():
        observed["tor1"]["bgp"]["routes"][prefix]["next_hops"].append(n1_at_tor1.address)
    assert not [c for c in verify.cases(intents, expected, observed) if not c.ok]
