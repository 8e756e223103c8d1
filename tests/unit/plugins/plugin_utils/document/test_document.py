# -*- coding: utf-8 -*-
"""The fabric's documentation (plugin_utils/document): goldens, the picture, collapsing, shapes, secrets, writing.

The goldens (tests/golden/docs: fabric.md, the CSV files, topology.dot) are the
documentation of inventories/example; regenerate them with `make golden-docs`
and review the diff. topology.svg is checked for its content (well-formed,
every host and session), never byte for byte: its layout depends on Graphviz.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings

from ansible_collections.anycast.fabric.plugins.plugin_utils import cli
from ansible_collections.anycast.fabric.plugins.plugin_utils.document import documents, tables, topology, write
from ansible_collections.anycast.fabric.plugins.plugin_utils.document.topology import Limits
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import fabric_read, model
from conftest import REPO
from fabric_factory import small_fabric, two_sites
from shapes import PASSWORD, Shape, generate

# The shape strategy and its settings live with the shape tests, one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from test_shapes import PROFILE, build, shapes  # noqa: E402

EXAMPLE = REPO / "inventories" / "example"
GOLDEN = REPO / "tests" / "golden" / "docs"
SVG = "{http://www.w3.org/2000/svg}"
EXAMPLE_PASSWORD = "example-md5-key"


def built(factory):
    intents, problems = model.build(*factory())
    assert not problems, problems.messages()
    return intents


@pytest.fixture(scope="module")
def example():
    """The intents of inventories/example."""
    intents, _hostvars, _groups, error = fabric_read.model(cli._task_vars([str(EXAMPLE)], None))
    assert error is None, error
    return intents


@pytest.fixture(scope="module")
def example_docs(example):
    return documents.generate(example)


def svg_groups(text):
    """{id: (class, title, tooltip)} of every <g> in an SVG document (it must parse)."""
    root = ET.fromstring(text)
    out = {}
    for g in root.iter(SVG + "g"):
        title = g.find(SVG + "title")
        link = g.find(".//" + SVG + "a")
        tooltip = link.get("{http://www.w3.org/1999/xlink}title") if link is not None else None
        out[g.get("id")] = (g.get("class") or "", title.text if title is not None else None, tooltip)
    return out


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


# Goldens -----------------------------------------------------------------------------------


def test_example_documents_are_the_goldens(example_docs):
    want = sorted(p.name for p in GOLDEN.iterdir())
    got = sorted(n for n in example_docs.files if n not in documents.MACHINE_DEPENDENT)
    assert got == want, "the documentation's file set differs from tests/golden/docs (regenerate with `make golden-docs`)"
    diffs = []
    for name in want:
        a, b = (GOLDEN / name).read_text(), example_docs.files[name]
        if a != b:
            diffs.extend(difflib.unified_diff(a.splitlines(), b.splitlines(), "golden/" + name, "generated/" + name, lineterm=""))
    assert not diffs, "the documentation changed (review, then `make golden-docs`):\n" + "\n".join(diffs[:200])


def test_example_tables_hold_every_host_session_and_vip(example, example_docs):
    hosts = rows(example_docs.files["hosts.csv"])
    assert [r["host"] for r in hosts] == [i.hostname for i in tables.ordered(example)]
    assert sorted(r["host"] for r in hosts) == sorted(example)
    sessions = rows(example_docs.files["sessions.csv"])
    # Every peer entry of every host is one end of exactly one session row.
    ends = sorted((p.name, i.hostname, p.family, p.address) for i in example.values() for p in i.peers)
    listed = sorted(
        [(r["a_host"], r["b_host"], r["family"], r["a_address"]) for r in sessions]
        + [(r["b_host"], r["a_host"], r["family"], r["b_address"]) for r in sessions]
    )
    assert listed == ends
    assert {r["kind"] for r in sessions} == {"static"}
    vips = rows(example_docs.files["vips.csv"])
    announced = {}
    for intent in example.values():
        for vip in intent.vips:
            announced.setdefault(vip.prefix, set()).add(intent.hostname)
    assert {r["prefix"]: set(r["nodes"].split()) for r in vips} == announced
    web = next(r for r in vips if r["name"] == "web")
    assert web["sites"] == "ams fra" and web["node_count"] == "7" and web["large_communities"] == "4200000000:80:1"


def test_example_svg_is_well_formed_and_shows_every_host_and_session(example, example_docs):
    assert not example_docs.warnings
    groups = svg_groups(example_docs.files["topology.svg"])
    for name in example:
        assert "host-%s" % name in groups, name
        assert groups["host-%s" % name][1] == name  # Graphviz's <title> is the node's name
    for session in tables.sessions(example):
        cls, title, tooltip = groups["link-%s--%s" % (session.a.host, session.b.host)]
        assert session.family in cls.split() and "session" in cls.split()
        assert title == "%s--%s" % (session.a.host, session.b.host)
        assert session.family in tooltip
    for site in ("ams", "fra"):
        assert "site-%s" % site in groups
    for rack in ("ams-r1", "ams-r2", "fra-r1"):
        assert "rack-%s" % rack in groups
    # Each node's VIP count and each box's ASN are on the box.
    text = example_docs.files["topology.svg"]
    assert "AS 65101" in text and "4 VIPs" in text and "3 VIPs" in text
    assert "nothing is collapsed" in example_docs.files["fabric.md"]


def test_the_documents_do_not_depend_on_the_inventory_order():
    fabric = generate(Shape(sites=2, racks=2, nodes=3, tors=2, spines=2, upstreams="both", family="dual", daemons="mixed", regional_vip=True))
    one = documents.generate(build(fabric), picture=False)
    two = documents.generate(build(fabric, reverse=True), picture=False)
    assert one.files == two.files


# Shapes ---------------------------------------------------------------------------------


def check_documents(intents, docs, limits):
    hosts = rows(docs.files["hosts.csv"])
    assert sorted(r["host"] for r in hosts) == sorted(intents)
    internal = sum(len(i.peers) for i in intents.values())
    upstream = sum(len(i.peers_of("upstream")) for i in intents.values())
    assert len(rows(docs.files["sessions.csv"])) == (internal - upstream) // 2 + upstream
    assert len(rows(docs.files["vips.csv"])) == len({v.prefix for i in intents.values() for v in i.vips})
    groups = svg_groups(docs.files["topology.svg"])
    layout = docs.layout
    tooltips = " ".join(t or "" for _c, _t, t in groups.values())
    for intent in intents.values():
        site_collapsed = intent.site in layout.collapsed_sites
        rack_collapsed = (intent.site, intent.rack) in layout.collapsed_racks and intent.is_node
        if intent.role == "spine" or not (site_collapsed or rack_collapsed):
            assert "host-%s" % intent.hostname in groups
        else:
            assert intent.hostname in tooltips.split()  # named in its rack's (or nodes') box
    for site in layout.sites:
        assert ("site %s" % site.name) in docs.files["topology.svg"]
    if layout.collapsed_sites or layout.collapsed_racks:
        assert "In this fabric:" in docs.files["fabric.md"]


@settings(max_examples=30, **PROFILE)
@given(shapes())
def test_every_shape_is_documented(shape):
    intents = build(generate(shape))
    for limits in (Limits(), Limits(rack_nodes=1, site_racks=1)):
        docs = documents.generate(intents, limits)
        assert not docs.warnings, docs.warnings
        check_documents(intents, docs, limits)
        if shape.password:
            assert not any(shape.password in text for text in docs.files.values())


# Collapsing ----------------------------------------------------------------------------------


def test_big_racks_collapse_their_nodes_into_one_box():
    intents = build(generate(Shape(sites=1, racks=2, nodes=12, tors=2, spines=2, vips=3)))
    docs = documents.generate(intents)
    assert docs.layout.collapsed_racks == {("ams", "r1"), ("ams", "r2")}
    groups = svg_groups(docs.files["topology.svg"])
    assert "nodes-ams-r1" in groups and "host-ams-r1-n1" not in groups and "host-ams-r1-tor1" in groups
    assert "12 nodes" in docs.files["topology.svg"] and "36 VIPs announced" in docs.files["topology.svg"]
    # One edge per ToR to the nodes' box, its sessions counted in the tooltip.
    assert "links-ams-r1-tor1--nodes/ams/r1" in groups
    assert "12 sessions" in groups["links-ams-r1-tor1--nodes/ams/r1"][2]
    md = docs.files["fabric.md"]
    assert "racks with more than 8 nodes draw their nodes as one box" in md and "ams/r1, ams/r2" in md
    # The tables still list every host.
    assert len(rows(docs.files["hosts.csv"])) == 2 * 14 + 2


def test_big_sites_collapse_into_rack_boxes_at_100_racks():
    intents = build(generate(Shape(sites=4, racks=25, nodes=2, tors=2, spines=2, upstreams="ipv4", vips=2)))
    docs = documents.generate(intents)
    assert docs.layout.collapsed_sites == {"ams", "fra", "lon", "par"}
    groups = svg_groups(docs.files["topology.svg"])
    assert sum(1 for i in groups if i and i.startswith("rack-")) == 100
    assert "rack-ams-r25" in groups and "host-ams-r1-tor1" not in groups and "host-ams-spine1" in groups
    assert "links-ams-spine1--racks-ams" in groups and "50 sessions" in groups["links-ams-spine1--racks-ams"][2]
    assert "upstream-ams-transit-1-v4" in groups and "upstream-fra-transit-1-v4" in groups
    md = docs.files["fabric.md"]
    assert "site ams has 25 racks (more than 8): each rack is one box" in md


def test_collapse_limits_are_options():
    intents = build(generate(Shape(sites=1, racks=3, nodes=3)))
    assert not documents.generate(intents, picture=False).layout.notes
    docs = documents.generate(intents, Limits(rack_nodes=2, site_racks=2), picture=False)
    assert docs.layout.collapsed_sites == {"ams"} and "more than 2 racks" in docs.files["fabric.md"]


# The edge, health checks, secrets ----------------------------------------------------------------


def test_the_edge_shows_upstreams_aggregates_and_prepends():
    intents = built(two_sites)
    docs = documents.generate(intents)
    md = docs.files["fabric.md"]
    edge = md.split("## Edge", 1)[1].split("##", 1)[0]
    assert "| spine-b | b | transit-b | ipv4 | 64602 | 10.93.2.3 | 10.93.2.2 | 0.0.0.0/0 | 10 | 10.244.24.0/21 |" in edge
    assert "prepend 2: 198.51.100.80/32" in edge and "plain: 10.244.24.0/21" in edge
    sessions = rows(docs.files["sessions.csv"])
    upstream = [r for r in sessions if r["b_role"] == "upstream"]
    assert [(r["a_host"], r["b_host"], r["b_announces"]) for r in upstream] == [("spine-a", "transit-a", ""), ("spine-b", "transit-b", "")]
    assert "65000:1" in md.split("## Sites", 1)[1].split("##", 1)[0]  # site communities
    groups = svg_groups(docs.files["topology.svg"])
    assert "upstream-a-transit-a" in groups and "link-spine-a--transit-a" in groups


def test_health_checks_are_summarised_without_an_exec_check_arguments():
    hosts, groups = small_fabric()
    health = {
        "checks": [
            {"type": "http", "port": 8080, "path": "/healthz", "expect_status": [200, 204]},
            {"type": "exec", "command": ["/usr/local/bin/check-dns", "--token", "Tok3n-never-shown"]},
            {"type": "tcp", "host": "::1", "port": 53, "interval_ms": 1000},
        ],
        "damping": {"enabled": False},
    }
    hosts["n1"]["fabric_vips"] = [{"address": "198.51.100.10", "health": health}]
    intents, problems = model.build(hosts, groups)
    assert not problems, problems.messages()
    docs = documents.generate(intents)
    vip = next(r for r in rows(docs.files["vips.csv"]) if r["prefix"] == "198.51.100.10/32")
    assert vip["health"] == (
        "http 127.0.0.1:8080/healthz (status 200/204) [every 300 ms, rise 3, fall 3] + exec /usr/local/bin/check-dns [every 300 ms, rise 3, fall 3]"
        " + tcp [::1]:53 [every 1000 ms, rise 3, fall 3]; no damping (n1); none (always announced) (n2, n3, n4)"
    )
    for text in docs.files.values():
        assert "Tok3n-never-shown" not in text and "s3cret-md5" not in text


def test_event_driven_checks_are_summarised_without_fall():
    hosts, groups = small_fabric()
    checks = [{"type": "systemd_unit", "unit": "nginx.service"}, {"type": "process", "pidfile": "/run/nginx.pid", "name": "nginx", "rise": 1}]
    hosts["n1"]["fabric_vips"] = [{"address": "198.51.100.10", "health": {"checks": checks}}]
    intents, problems = model.build(hosts, groups)
    assert not problems, problems.messages()
    vip = next(r for r in rows(documents.generate(intents).files["vips.csv"]) if r["prefix"] == "198.51.100.10/32")
    assert vip["health"] == (
        "none (always announced) (n2, n3, n4); "
        "systemd_unit nginx.service [event-driven, rise 3 every 300 ms] + process /run/nginx.pid nginx [event-driven, rise 1 every 300 ms] (n1)"
    )


def test_no_key_reaches_any_file(example_docs):
    for name, text in example_docs.files.items():
        assert EXAMPLE_PASSWORD not in text, name
    assert "yes (not shown)" in example_docs.files["fabric.md"]
    docs = documents.generate(build(generate(Shape(password=PASSWORD))))
    assert not any(PASSWORD in text for text in docs.files.values())


# Without Graphviz ------------------------------------------------------------------------------


def test_without_dot_everything_but_the_picture_is_made(monkeypatch, example):
    monkeypatch.setattr(topology, "dot_program", lambda: None)
    docs = documents.generate(example)
    assert "topology.svg" not in docs.files and docs.skipped == ["topology.svg"]
    assert {"fabric.md", "hosts.csv", "sessions.csv", "vips.csv", "topology.dot"} <= set(docs.files)
    assert len(docs.warnings) == 1 and "dot program is not on the controller's PATH" in docs.warnings[0] and "apt install graphviz" in docs.warnings[0]


def test_without_the_binding_the_tables_are_still_made(monkeypatch, example):
    monkeypatch.setattr(topology, "HAS_GRAPHVIZ", False)
    docs = documents.generate(example)
    assert docs.skipped == ["topology.dot", "topology.svg"]
    assert "pip install graphviz" in docs.warnings[0]
    assert docs.files["fabric.md"] == (GOLDEN / "fabric.md").read_text()


def test_a_failing_dot_is_reported(monkeypatch, tmp_path):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho 'Error: syntax' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(topology, "dot_program", lambda: str(fake))
    with pytest.raises(topology.TopologyError, match="dot failed \\(exit 1\\): Error: syntax"):
        topology.svg("graph {}")


# Writing -----------------------------------------------------------------------------------------


def test_write_is_all_or_nothing(monkeypatch, tmp_path):
    dest = str(tmp_path / "docs")
    write.write_files(dest, {"a.md": "old a\n", "b.csv": "old b\n", "topology.svg": "<svg/>"})
    assert write.changes(dest, {"a.md": "old a\n", "b.csv": "old b\n"}) == []
    assert write.changes(dest, {"a.md": "new\n"}, remove=["topology.svg"]) == ["a.md", "topology.svg"]
    real_rename = os.rename
    calls = []

    def failing(src, dst):
        calls.append(dst)
        if len(calls) == 4:
            raise OSError(28, "No space left on device")
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", failing)
    with pytest.raises(write.WriteError, match="nothing was changed"):
        write.write_files(dest, {"a.md": "new a\n", "b.csv": "new b\n"}, remove=["topology.svg"])
    monkeypatch.setattr(os, "rename", real_rename)
    assert sorted(os.listdir(dest)) == ["a.md", "b.csv", "topology.svg"]
    assert (tmp_path / "docs" / "a.md").read_text() == "old a\n" and (tmp_path / "docs" / "b.csv").read_text() == "old b\n"
    # And without a failure: new files in, the stale picture out.
    write.write_files(dest, {"a.md": "new a\n", "b.csv": "new b\n"}, remove=["topology.svg"])
    assert sorted(os.listdir(dest)) == ["a.md", "b.csv"]


def test_write_refuses_odd_names_and_relative_folders(tmp_path):
    with pytest.raises(write.WriteError, match="not an absolute path"):
        write.write_files("docs", {"a.md": ""})
    with pytest.raises(write.WriteError, match="not a plain file name"):
        write.write_files(str(tmp_path), {"../a.md": ""})
    (tmp_path / "fabric.md").mkdir()
    with pytest.raises(write.WriteError, match="it is a folder"):
        write.write_files(str(tmp_path), {"fabric.md": ""})
