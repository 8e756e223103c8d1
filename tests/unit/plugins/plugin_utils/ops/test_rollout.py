# -*- coding: utf-8 -*-
"""Expected live state and rollout order, derived from intents."""

from __future__ import annotations

from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops import rollout
from fabric_factory import small_fabric


def intents():
    built, problems = model.build(*small_fabric())
    assert not problems
    return built


def test_tor_expects_one_path_per_announcing_node():
    expected = rollout.expected_paths(intents()["tor1"])
    # n1 and n2 both announce 198.51.100.10; only n1 has a pod CIDR, only n2 the web VIP.
    assert expected == {"10.244.1.0/24": 1, "198.51.100.10/32": 2, "198.51.100.11/32": 1}


def test_spine_expects_one_path_per_rack_tor_and_nodes_expect_nothing():
    built = intents()
    assert rollout.expected_paths(built["spine1"])["198.51.100.10/32"] == 2  # tor1 and tor2
    assert rollout.expected_paths(built["spine1"])["2001:db8:ac::10/128"] == 1  # only rack r2 is dual stack
    assert rollout.expected_paths(built["n1"]) == {}


def test_rollout_orders_nodes_rack_by_rack():
    assert rollout.rollout(intents()) == {"hosts": ["n1", "n2", "n3", "n4"], "batches": [2, 2]}
    assert rollout.rollout(intents(), role="tor") == {"hosts": ["tor1", "tor2"], "batches": [1, 1]}
