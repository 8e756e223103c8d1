# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Expected ECMP paths: the one algorithm (rollout.path_entry + count_paths) on the golden fabric and on any shape.

Every caller counts with it: the expected_paths filter (one router's entry,
computed on the spot), the fabric_data lookup (the entry the run folder
keeps), and through the lookup site.yml's rack gate and verify.yml. The
tests state what a router should install from the nodes' side (who exports
what to whom, who holds which VIP, who is drained) and check the algorithm,
the filter and the run folder against it.
"""

from __future__ import annotations

import itertools
import json

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.anycast.fabric.plugins.filter.expected_paths import FilterModule
from ansible_collections.anycast.fabric.plugins.plugin_utils import cli
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import fabric_read
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops import rollout
from ansible_collections.anycast.fabric.plugins.plugin_utils.run import fabric_run
from conftest import REPO
from fabric_factory import small_fabric, two_sites
from shapes import generate
from test_shapes import PROFILE, build, shapes

EXAMPLE = REPO / "inventories" / "example"
FILTER = FilterModule().filters()["expected_paths"]


@pytest.fixture(scope="module")
def golden():
    """The intents of inventories/example, the fabric tests/golden/example is rendered from."""
    intents, _hostvars, _groups, error = fabric_read.model(cli._task_vars([str(EXAMPLE)], None))
    assert error is None, error
    return intents


def nodes_of(intents):
    return sorted(n for n, i in intents.items() if i.role == "node")


def vips(intent):
    return set(v.prefix for v in intent.vips)


def announcers(intents):
    """{(router, prefix): nodes announcing PREFIX to ROUTER}, from the nodes' own exports."""
    out = {}
    for name in nodes_of(intents):
        for peer in intents[name].peers:
            for prefix in peer.export:
                out.setdefault((peer.name, prefix), set()).add(name)
    return out


def in_service(intents, node, prefix, drained):
    """Whether NODE still announces PREFIX into ECMP: a drained node withdraws its VIPs, never its pod CIDRs."""
    return node not in drained or prefix not in vips(intents[node])


def wanted(intents, name, drained=()):
    """What router NAME should install, stated from the nodes' side.

    A path from a fabric peer for a prefix it is accepted from is expected
    while someone behind that peer still announces the prefix: the node
    itself, or for a ToR, some node behind it (a ToR nobody exports the
    prefix to keeps its path: nothing of it is drained).
    """
    intent, drained = intents[name], set(drained)
    if intent.role == "node":
        return {}
    behind = announcers(intents)
    paths = {}
    for peer in intent.peers:
        if peer.role == "upstream":
            continue
        for prefix in peer.accept:
            if peer.role == "node":
                alive = in_service(intents, peer.name, prefix, drained)
            elif peer.role == "tor" and behind.get((peer.name, prefix)):
                alive = any(in_service(intents, n, prefix, drained) for n in behind[(peer.name, prefix)])
            else:
                alive = True
            if alive:
                paths.setdefault(prefix, set()).add(peer.name)
    return dict((prefix, len(peers)) for prefix, peers in sorted(paths.items()))


def drained_sets(intents):
    nodes = nodes_of(intents)
    yield ()
    for size in sorted(set((1, 2, len(nodes)))):
        yield from itertools.combinations(nodes, size)


def check_fabric(intents, drained_choices, tmp_path):
    """Filter, run folder and the nodes'-side statement agree for every router and drained set."""
    run = fabric_run.write_run(intents, str(tmp_path))
    index = rollout.path_index(intents)
    assert sorted(index) == sorted(n for n, i in intents.items() if i.role in ("tor", "spine"))
    as_json = json.loads(json.dumps({n: i.to_dict() for n, i in intents.items()}))
    for drained in drained_choices:
        for name in sorted(intents):
            want = wanted(intents, name, drained)
            assert rollout.expected_paths(intents[name], intents=intents, drained=drained) == want, (name, drained)
            assert FILTER(as_json[name], intents=as_json, drained=list(drained)) == want, (name, drained)
            assert fabric_run.expected_paths(run, name, drained) == want, (name, drained)
            # Less drained never expects fewer paths; a drained node's pod CIDRs stay.
            for prefix, count in wanted(intents, name).items():
                assert want.get(prefix, 0) <= count
                if not any(prefix in vips(intents[n]) for n in nodes_of(intents)):
                    assert want.get(prefix) == count, (name, prefix, drained)


# The golden fabric ---------------------------------------------------------------


def test_the_golden_fabric_expects_one_path_per_announcer_and_per_rack_tor(golden):
    # ams-r1: three nodes; every node holds both ams VIPs, only its own pod CIDR.
    tor = rollout.expected_paths(golden["ams-r1-tor1"])
    assert tor["198.51.100.53/32"] == tor["198.51.100.80/32"] == 3
    assert tor["10.244.1.0/24"] == 1
    spine = rollout.expected_paths(golden["ams-spine1"])
    assert spine["198.51.100.53/32"] == 4  # two ToRs in each of two racks
    assert spine["10.244.1.0/24"] == 2  # both ToRs of rack ams-r1
    for intent in golden.values():
        if intent.role == "node":
            assert rollout.expected_paths(intent) == {}
        else:
            # Nothing from outside the fabric (upstreams' routes) is counted.
            assert "0.0.0.0/0" not in rollout.expected_paths(intent) and "::/0" not in rollout.expected_paths(intent)


def test_on_the_golden_fabric_a_rack_drained_leaves_the_spine_its_pod_cidrs_only(golden):
    rack = [n for n in nodes_of(golden) if n.startswith("ams-r1-")]
    spine = rollout.expected_paths(golden["ams-spine1"], intents=golden, drained=rack)
    before = rollout.expected_paths(golden["ams-spine1"])
    assert spine["198.51.100.53/32"] == before["198.51.100.53/32"] - 2  # ams-r1's two ToRs are out
    assert spine["10.244.1.0/24"] == before["10.244.1.0/24"]


def test_on_the_golden_fabric_filter_run_folder_and_statement_agree(golden, tmp_path):
    check_fabric(golden, drained_sets(golden), tmp_path)


@pytest.mark.parametrize("factory", [small_fabric, two_sites], ids=["small", "two_sites"])
def test_on_the_factory_fabrics_filter_run_folder_and_statement_agree(factory, tmp_path):
    from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model

    intents, problems = model.build(*factory())
    assert not problems, problems.messages()
    check_fabric(intents, drained_sets(intents), tmp_path)


# Any shape -------------------------------------------------------------------------


@st.composite
def drained_shapes(draw):
    """A shape's intents and a few sets of drained nodes."""
    fabric = generate(draw(shapes()))
    intents = build(fabric)
    nodes = nodes_of(intents)
    drained = draw(st.lists(st.sets(st.sampled_from(nodes)) if nodes else st.just(set()), min_size=1, max_size=3))
    return intents, [tuple(sorted(d)) for d in drained]


@settings(max_examples=40, **PROFILE)
@given(drained_shapes())
def test_on_every_shape_filter_run_folder_and_statement_agree(tmp_path_factory, case):
    intents, drained = case
    check_fabric(intents, [()] + drained, tmp_path_factory.mktemp("run"))


@settings(max_examples=40, **PROFILE)
@given(drained_shapes())
def test_on_every_shape_a_tor_expects_every_announcing_node(case):
    """Without drained nodes, a ToR's count is what the nodes export to it (their side, not the ToR's accept lists)."""
    intents, _drained = case
    behind = announcers(intents)
    for name, intent in intents.items():
        if intent.role != "tor":
            continue
        mine = dict((prefix, len(nodes)) for (tor, prefix), nodes in behind.items() if tor == name)
        assert rollout.expected_paths(intent) == mine


# The filter's contract -------------------------------------------------------------


def test_the_filter_refuses_what_is_not_an_intent_and_drained_without_intents():
    with pytest.raises(AnsibleFilterError, match="expects a host intent"):
        FILTER({"peers": []})
    with pytest.raises(AnsibleFilterError, match="pass intents"):
        FILTER({"role": "tor", "peers": []}, drained=["n1"])


def test_a_router_entry_needs_only_its_own_intent_without_drained_nodes():
    from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model

    intents, _problems = model.build(*small_fabric())
    for name, intent in intents.items():
        assert rollout.expected_paths(intent) == rollout.count_paths(rollout.path_index(intents).get(name, {}))
