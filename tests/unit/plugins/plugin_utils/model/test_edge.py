# -*- coding: utf-8 -*-
"""A site's edge: upstream peers, per-VIP scope and weight, site communities, pod aggregates."""

from __future__ import annotations

import pytest

from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops import rollout
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render
from conftest import parse_config
from fabric_factory import two_sites

PASSWORD = "s3cret-md5"


def build(mutate=None):
    hosts, groups = two_sites()
    if mutate:
        mutate(hosts)
    return model.build(hosts, groups)


@pytest.fixture(scope="module")
def intents():
    built, problems = build()
    assert not problems, problems.messages()
    return built


def test_every_host_of_two_sites_parses(tmp_path, intents):
    for name, intent in intents.items():
        path = tmp_path / name / render.config_filename(intent)
        path.parent.mkdir()
        path.write_text(render.render(intent, password=PASSWORD))
        ok, output = parse_config(path)
        assert ok, "%s: %s" % (name, output)


def test_a_regional_vip_stays_in_its_sites(intents):
    assert [v.prefix for v in intents["a1"].vips] == ["198.51.100.80/32", "198.51.100.81/32"]
    assert [v.prefix for v in intents["b1"].vips] == ["198.51.100.80/32"]
    tor_b = intents["tor-b"].peers_of("node")
    assert tor_b
    assert all("198.51.100.81/32" not in p.accept for p in tor_b)


def test_the_edge_exports_vips_and_aggregates_only_and_imports_the_default_route(intents):
    upstream = next(p for p in intents["spine-a"].peers if p.role == "upstream")
    assert upstream.accept == ("0.0.0.0/0",)
    assert upstream.export == ("198.51.100.80/32", "198.51.100.81/32", "10.244.16.0/21")
    assert upstream.aggregates == ("10.244.16.0/21",)
    text = render.render(intents["spine-a"], password=PASSWORD)
    assert " neighbor 10.93.1.3 remote-as 64601" in text
    assert " neighbor UPSTREAMS-V4 route-map TO-UPSTREAMS-V4 out" in text
    assert "ip prefix-list FROM-transit_a_v4 seq 10 permit 0.0.0.0/0" in text
    assert "  aggregate-address 10.244.16.0/21 summary-only" in text
    assert " set community 65000:1 additive" in text
    # The fabric's key, BFD and GTSM stay inside the fabric.
    assert " neighbor UPSTREAMS-V4 password" not in text and " neighbor UPSTREAMS-V4 bfd" not in text
    assert " neighbor TORS-V4 password %s" % PASSWORD in text


def test_site_b_weighs_the_global_vip_down_with_prepends(intents):
    text = render.render(intents["spine-b"], password=PASSWORD)
    assert " set as-path prepend 65020 65020" in text
    assert "198.51.100.81" not in text
    assert "set as-path prepend" not in render.render(intents["spine-a"], password=PASSWORD)


def test_an_upstream_that_imports_nothing_is_denied_everything():
    def no_import(hosts):
        del hosts["spine-a"]["fabric_upstreams"][0]["import"]

    built, problems = build(no_import)
    assert not problems
    assert " neighbor 10.93.1.3 route-map DENY-ALL in" in render.render(built["spine-a"], password=PASSWORD)


def test_verification_does_not_count_upstream_routes(intents):
    assert "0.0.0.0/0" not in rollout.expected_paths(intents["spine-a"])


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (
            lambda h: h["a1"]["fabric_vips"][1].update(sites=["c"]),
            "a1: fabric_vips[1] = '198.51.100.81': names site 'c', which has no nodes (sites: a, b)",
        ),
        (
            lambda h: h["spine-a"]["fabric_upstreams"][0].update(asn=65010),
            "spine-a: fabric_upstreams[0].asn = 65010: is the spine's own ASN; upstreams peer over eBGP",
        ),
        (
            lambda h: h["spine-a"]["fabric_upstreams"][0].update(local_address="10.93.1.2"),
            "spine-a: fabric_upstreams[0].local_address = '10.93.1.2': needs the link's prefix length (address/length)",
        ),
        (
            lambda h: h["spine-a"]["fabric_upstreams"][0].update(address="10.93.9.3"),
            "spine-a: fabric_upstreams[0].address = '10.93.9.3': is not on the link of local_address (10.93.1.0/24)",
        ),
        (
            lambda h: h["spine-a"]["fabric_upstreams"][0].update(**{"import": "all"}),
            "spine-a: fabric_upstreams[0].import = 'all': must be one of: none, default",
        ),
        (
            lambda h: h["tor-a"].update(fabric_upstreams=[{"name": "x"}]),
            "tor-a: fabric_upstreams = [{name: 'x'}]: only applies to spines (fabric_spines): the site's edge peers with its upstreams",
        ),
        (
            lambda h: h["spine-b"].update(fabric_pod_aggregates=["198.51.100.0/25"]),
            "spine-b: fabric_pod_aggregates[0] = '198.51.100.0/25': overlaps anycast pool 198.51.100.0/24",
        ),
        (
            lambda h: h["a2"]["fabric_vips"][0].update(prepend={"b": 11}),
            "a2: fabric_vips[0].prepend.b = 11: must be an integer from 1 to 10",
        ),
    ],
)
def test_bad_edge_input_is_reported_with_its_path(mutate, expected):
    _built, problems = build(mutate)
    assert expected in problems.messages()
