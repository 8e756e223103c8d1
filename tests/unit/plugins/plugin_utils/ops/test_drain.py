# -*- coding: utf-8 -*-
"""Drain: what it renders, what it refuses, and what it waits for at each router."""

from __future__ import annotations

import re

import pytest

from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops import drain, rollout
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render
from conftest import parse_config
from fabric_factory import small_fabric

PASSWORD = "s3cret-md5"
VIP = "198.51.100.10/32"  # announced by n1, n2 (rack r1, tor1) and n3, n4 (rack r2, tor2)
WEB = "198.51.100.11/32"  # announced by n2 only


@pytest.fixture(scope="module")
def intents():
    built, problems = model.build(*small_fabric())
    assert not problems, problems.messages()
    return built


def serving(intents, **states):
    """Live states: every node in service and announcing its intent, except as given."""
    out = {}
    for name, intent in intents.items():
        if intent.role == "node":
            exports = [v.prefix for v in intent.vips] + [p.prefix for p in intent.pod_cidrs]
            out[name] = {"state": states.get(name, "in_service"), "exports": exports}
    return out


# Rendering ---------------------------------------------------------------------


@pytest.mark.parametrize("state", ["in_service", "draining", "drained"])
@pytest.mark.parametrize("node", ["n1", "n2"])  # BIRD, FRR
def test_every_drain_state_parses(tmp_path, intents, node, state):
    text = render.render(intents[node], password=PASSWORD, drain=state)
    path = tmp_path / render.config_filename(intents[node])
    path.write_text(text)
    ok, output = parse_config(path)
    assert ok, output


def test_bird_draining_tags_vips_only_and_drained_withdraws_them(intents):
    normal = render.render(intents["n1"], password=PASSWORD)
    draining = render.render(intents["n1"], password=PASSWORD, drain="draining")
    drained = render.render(intents["n1"], password=PASSWORD, drain="drained")
    assert "65535" not in normal
    # The pod CIDR keeps its own, untagged entry (with the node's weight: weighted ECMP).
    pods = re.compile(r"if net ~ \[ 10\.244\.1\.0/24 \] then (?:\{[^}]*\}|accept;)")
    assert "65535" not in pods.search(draining).group(0)
    assert re.search(r"if net ~ \[ %s \] then \{\n(?:    bgp_ext_community[^\n]*\n)?    bgp_community.add\(\(65535,0\)\);" % re.escape(VIP), draining)
    assert VIP not in drained.split("filter export_ipv4")[1]
    assert pods.search(drained)


def test_frr_draining_uses_the_name_running_config_shows(intents):
    draining = render.render(intents["n2"], password=PASSWORD, drain="draining")
    assert " set community 65000:80 graceful-shutdown additive" in draining
    assert " set community graceful-shutdown additive" in draining


def test_frr_drained_node_without_pods_denies_everything_explicitly(intents):
    drained = render.render(intents["n2"], password=PASSWORD, drain="drained")
    assert "route-map EXPORT-V4 deny 10\nexit" in drained
    assert "EXPORT-V4-1" not in drained


def test_routers_lower_graceful_shutdown_paths_and_ignore_drain(intents):
    for router in ("tor1", "spine1"):
        text = render.render(intents[router], password=PASSWORD)
        assert "bgp community-list standard GSHUT seq 5 permit graceful-shutdown" in text
        assert " match community GSHUT\n" in text and " set local-preference 0\n" in text
        assert render.render(intents[router], password=PASSWORD, drain="drained") == text


def test_unknown_drain_state_is_refused(intents):
    with pytest.raises(render.RenderError, match="drain state 'off'"):
        render.render(intents["n1"], password=PASSWORD, drain="off")


# The safety check ------------------------------------------------------------


def test_draining_one_of_several_nodes_is_safe(intents):
    assert drain.drain_check(intents, serving(intents), ["n1"]) == []


def test_draining_the_only_node_of_a_vip_is_refused(intents):
    problems = drain.drain_check(intents, serving(intents), ["n2"])
    assert problems == ["%s is announced in service only by n2: draining it would withdraw it from the fabric" % WEB]


def test_nodes_already_drained_or_not_announcing_do_not_count(intents):
    states = serving(intents, n3="drained", n4="draining")
    problems = drain.drain_check(intents, states, ["n1", "n2"])
    assert any(p.startswith(VIP) and "n1, n2" in p for p in problems)
    # n1 announces nothing now (its VIP is down): draining n2 is the last of the VIP too.
    states = serving(intents, n3="drained", n4="drained")
    states["n1"]["exports"] = []
    assert any(p.startswith(VIP) for p in drain.drain_check(intents, states, ["n2"]))


def test_targets_that_are_not_nodes_are_reported(intents):
    assert drain.drain_check(intents, serving(intents), ["tor1"])[0] == "not fabric nodes: tor1"


# What to wait for ------------------------------------------------------------


def test_one_node_waits_at_its_tor_only(intents):
    waits = drain.drain_waits(intents, serving(intents), ["n1"])
    assert waits == [{"router": "tor1", "prefixes": [VIP], "without": ["10.1.1.11"]}]


def test_a_whole_rack_waits_at_the_spine_for_the_tor(intents):
    # tor1 keeps the draining paths (they are all it has); the spine must
    # leave tor1 for VIP. WEB has no node elsewhere (a forced drain): the
    # spine keeps its only path, so there is nothing to wait for.
    waits = drain.drain_waits(intents, serving(intents), ["n1", "n2"])
    assert waits == [{"router": "spine1", "prefixes": [VIP], "without": ["10.0.0.11"]}]


def test_second_batch_of_a_rack_counts_the_first_as_out(intents):
    # Batch 2 of `serial: 1`: n1 drained earlier in the run, n2 now.
    waits = drain.drain_waits(intents, serving(intents), ["n1", "n2"])
    assert {"router": "spine1", "prefixes": [VIP], "without": ["10.0.0.11"]} in waits
    assert not any(w["router"] == "tor1" for w in waits)


def test_undrain_waits_for_present_vips_at_tor_and_spine(intents):
    waits = drain.undrain_waits(intents, "n2", [VIP])
    assert waits == [
        {"router": "tor1", "prefixes": [VIP], "with": ["10.1.1.12"]},
        {"router": "spine1", "prefixes": [VIP], "with": ["10.0.0.11"]},
    ]
    assert drain.undrain_waits(intents, "n2", []) == []


# Verification with drained nodes --------------------------------------------


def test_expected_paths_leave_out_drained_vips_but_keep_pods(intents):
    tor = rollout.expected_paths(intents["tor1"], intents=intents, drained=["n1"])
    assert tor[VIP] == 1 and tor["10.244.1.0/24"] == 1
    spine = rollout.expected_paths(intents["spine1"], intents=intents, drained=["n1", "n2"])
    assert spine[VIP] == 1  # only tor2 now
    assert WEB not in spine and spine["10.244.1.0/24"] == 1
    assert rollout.expected_paths(intents["spine1"], intents=intents, drained=["n1"])[VIP] == 2
