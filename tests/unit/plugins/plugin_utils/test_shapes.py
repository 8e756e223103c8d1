# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property tests over fabric shapes: model, renderer and plan filter on any shape a user may build.

Shapes come from tests/shapes.py (sites, racks, ToRs per rack, spines or
none per site, upstreams or none, daemons, address families, ASN schemes,
VIPs and pod CIDRs per node, FQDN host names). For every shape: the model
accepts it, every host renders, the real parsers accept every file, the plan
filter plans it as the plan playbook would for new hosts, and all of it is
byte-identical whatever the order of the inventory's hosts and groups.
"""

from __future__ import annotations

import json
import os
import subprocess

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.anycast.fabric.plugins.module_utils._contract import DRAIN_STATES, IN_SERVICE
from ansible_collections.anycast.fabric.plugins.module_utils._daemons import mask_secrets
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops import plan
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render
from conftest import BIN, ansible_env, parse_config
from shapes import DAEMONS, FAMILIES, UPSTREAMS, Shape, generate, scale_shape

PROFILE = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=bool(os.environ.get("CI")))


@st.composite
def shapes(draw):
    sites = draw(st.integers(1, 2))
    return Shape(
        sites=sites,
        racks=draw(st.integers(1, 2)),
        nodes=draw(st.integers(1, 3)),
        tors=draw(st.integers(1, 2)),
        spines=tuple(draw(st.lists(st.integers(0, 2), min_size=sites, max_size=sites))),
        upstreams=draw(st.sampled_from(UPSTREAMS)),
        daemons=draw(st.sampled_from(DAEMONS)),
        family=draw(st.sampled_from(FAMILIES)),
        asn_scheme=draw(st.sampled_from(["per_rack", "per_node"])),
        vips=draw(st.integers(0, 3)),
        pod_cidrs=draw(st.integers(0, 2)),
        regional_vip=draw(st.booleans()),
        long_names=draw(st.booleans()),
        password=draw(st.sampled_from([None, "s3cret-md5"])),
        node_peering=draw(st.sampled_from(["static", "dynamic"])),
        external=draw(st.booleans()),
        unnumbered=draw(st.booleans()),
    )


@st.composite
def planned_shapes(draw):
    """A shape and the drain state of each node (as its drain record would say)."""
    shape = draw(shapes())
    fabric = generate(shape)
    drains = {node: draw(st.sampled_from(DRAIN_STATES)) for node in fabric.nodes}
    return shape, fabric, drains


def build(fabric, reverse=False):
    hostvars, groups = fabric.hostvars, fabric.groups
    if reverse:
        # Another inventory order: hosts, groups and group members all reversed.
        hostvars = {name: hostvars[name] for name in reversed(list(hostvars))}
        groups = {group: list(reversed(groups[group])) for group in reversed(list(groups))}
    intents, problems = model.build(hostvars, groups)
    assert not problems, "%s:\n%s" % (fabric.shape.describe(), "\n".join(problems.messages()))
    return intents


def render_all(shape, intents, drains):
    return {name: render.render(intent, password=shape.password, drain=drains.get(name, IN_SERVICE)) for name, intent in intents.items()}


def new_hosts_observed(intents, texts, drains):
    """What the plan playbook observes on hosts whose daemons do not run yet (a new rack):
    routing_config's check-mode result shows the whole file (keys masked), bgp_info found nothing."""
    return {
        name: {
            "config": {
                "changed": True,
                "commands": [],
                "diff": {"before": "", "after": mask_secrets(texts[name]), "before_header": "/etc/%s/%s" % (intent.daemon, render.config_filename(intent))},
            },
            "bgp": {},
            "drain": drains.get(name, IN_SERVICE),
            "error": None,
        }
        for name, intent in intents.items()
    }


@settings(max_examples=50, **PROFILE)
@given(planned_shapes())
def test_every_shape_builds_renders_and_plans_deterministically(case):
    shape, fabric, drains = case
    intents = build(fabric)
    assert sorted(intents) == sorted(fabric.host_vars)
    texts = render_all(shape, intents, drains)
    report = plan.build(intents, new_hosts_observed(intents, texts, drains))
    markdown = plan.markdown(report)

    external = sorted(name for name, intent in intents.items() if intent.daemon == "external")
    # A router managed elsewhere is planned from nothing and named in the warnings, nothing else.
    assert report["result"] == "changes" and report["errors"] == []
    assert [w.split(" ")[0] for w in report["warnings"]] == external
    assert report["hosts_changed"] == sorted(set(intents) - set(external))
    for name, intent in intents.items():
        entry = report["hosts"][name]
        if name in external:
            assert entry["external"] and not entry["sessions_added"]
            continue
        # A ToR's dynamic node sessions are its nodes' to add, not the ToR's.
        assert entry["sessions_added"] == sorted({p.address for p in intent.peers if not p.dynamic})
        assert entry["lines_added"] == len(texts[name].splitlines())
        if intent.role == "node":
            assert entry["vips_added"] == sorted(v.prefix for v in intent.vips)
            assert entry["drain"] == drains[name]
    if shape.password:
        assert shape.password not in json.dumps(report) + markdown

    # The same inventory in another order: byte-identical intents, files and plan.
    again = build(fabric, reverse=True)
    assert again == intents
    assert json.dumps({n: i.to_dict() for n, i in again.items()}, sort_keys=True) == json.dumps({n: i.to_dict() for n, i in intents.items()}, sort_keys=True)
    texts_again = render_all(shape, again, drains)
    assert texts_again == texts
    report_again = plan.build(again, new_hosts_observed(again, texts_again, drains))
    assert json.dumps(report_again) == json.dumps(report)
    assert plan.markdown(report_again) == markdown


@settings(max_examples=25, **PROFILE)
@given(planned_shapes())
def test_every_shape_renders_files_the_real_parsers_accept(tmp_path_factory, case):
    shape, fabric, drains = case
    intents = build(fabric)
    out = tmp_path_factory.mktemp("shape")
    for name, text in render_all(shape, intents, drains).items():
        path = out / name / render.config_filename(intents[name])
        path.parent.mkdir()
        path.write_text(text)
        ok, output = parse_config(path)
        assert ok, "%s (%s):\n%s\n---\n%s" % (name, shape.describe(), output, text)


def test_the_written_inventory_is_what_the_model_is_given(tmp_path):
    """The generator's (hostvars, groups) are exactly what Ansible reads from the inventory it writes."""
    shape = Shape(sites=2, racks=2, nodes=2, tors=2, spines=(2, 0), upstreams="both", daemons="mixed", family="dual", regional_vip=True, long_names=True)
    fabric = generate(shape)
    fabric.write(tmp_path / "inv")
    proc = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(tmp_path / "inv"), "--list"], env=ansible_env(), capture_output=True, text=True, timeout=120, check=True
    )
    listed = json.loads(proc.stdout)
    seen = {host: {k: v for k, v in variables.items() if k.startswith("fabric_")} for host, variables in listed["_meta"]["hostvars"].items()}
    assert seen == fabric.hostvars

    def members(group):
        entry = listed.get(group, {})
        return set(entry.get("hosts", [])).union(*[members(child) for child in entry.get("children", [])])

    for group, names in fabric.groups.items():
        assert members(group) == set(names)
    assert "fabric_spines" in listed  # site fra has none, site ams has two


def test_a_fabric_without_spines_has_no_spine_group():
    fabric = generate(Shape(spines=0))
    assert "fabric_spines" not in fabric.groups and "fabric_spines" not in fabric.inventory()["all"]["children"]


def test_the_benchmark_shape_is_issue_14s():
    shape = scale_shape(2000)
    assert (shape.sites, shape.racks, shape.nodes, shape.tors, shape.hosts) == (4, 25, 20, 2, 2208)
    assert scale_shape(5000).hosts == 5520 and scale_shape(100).hosts == 112
