# -*- coding: utf-8 -*-
"""Property tests: any valid fabric renders to configs the real parsers accept, deterministically."""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render
from conftest import parse_config

# CI must not fail on a newly drawn example nobody can reproduce locally;
# developers' runs keep exploring.
PROFILE = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=bool(os.environ.get("CI")))

VIP4 = ["198.51.100.%d" % i for i in range(1, 40)]
VIP6 = ["2001:db8:ac::%x" % i for i in range(1, 40)]
PASSWORD = "pw-Prop_1"

communities = st.lists(st.tuples(st.integers(0, 65535), st.integers(0, 65535)).map("%d:%d".__mod__), max_size=2)
large_communities = st.lists(
    st.tuples(st.integers(0, 4294967295), st.integers(0, 4294967295), st.integers(0, 4294967295)).map("%d:%d:%d".__mod__), max_size=2
)


@st.composite
def bgp_settings(draw):
    bgp = {}
    if draw(st.booleans()):
        hold = draw(st.integers(3, 600))
        bgp.update(hold_time=hold, keepalive_time=draw(st.integers(1, hold - 1)))
    bfd = draw(st.booleans())
    bgp["bfd"] = bfd
    if bfd:
        bgp.update(bfd_interval_ms=draw(st.integers(10, 60000)), bfd_multiplier=draw(st.integers(2, 255)))
    else:
        bgp["ttl_security"] = draw(st.booleans())
    if draw(st.booleans()):
        bgp["password"] = PASSWORD
    bgp.update(
        graceful_restart=draw(st.booleans()),
        max_prefixes=draw(st.integers(8, 100000)),  # a node announces at most 6 VIPs and a pod CIDR per family
        ecmp_paths=draw(st.integers(1, 256)),
    )
    low = draw(st.integers(1, 100))
    bgp["error_wait_time"] = [low, draw(st.integers(low, 600))]
    return bgp


@st.composite
def vip_catalogue(draw):
    """Attributes per VIP, fixed fabric-wide: nodes must describe a VIP alike."""
    catalogue = {}
    for address in VIP4[:12] + VIP6[:12]:
        if draw(st.booleans()):
            catalogue[address] = address
        else:
            catalogue[address] = {
                "address": address,
                "name": "svc-%s" % address.replace(":", "-").replace(".", "-"),
                "communities": draw(communities),
                "large_communities": draw(large_communities),
            }
    return catalogue


@st.composite
def fabrics(draw):
    fabric_vars = {
        "fabric_anycast_pools": ["198.51.100.0/24", "2001:db8:ac::/48"],
        "fabric_bgp": draw(bgp_settings()),
        "fabric_node_asn_scheme": draw(st.sampled_from(["per_rack", "per_node"])),
    }
    catalogue = draw(vip_catalogue())
    hosts, groups = {}, {"fabric_nodes": [], "fabric_tors": [], "fabric_spines": []}
    for s in range(draw(st.integers(1, 2))):
        site = "site%d" % s
        n_spines = draw(st.integers(0, 2))
        for sp in range(n_spines):
            name = "%s-spine%d" % (site, sp)
            hosts[name] = {
                "fabric_site": site,
                "fabric_asn": 65000 + s,
                "fabric_ipv4": "10.%d.0.%d/24" % (s, sp + 1),
                "fabric_ipv6": "2001:db8:%d::%d/64" % (s, sp + 1),
            }
            groups["fabric_spines"].append(name)
        for r in range(draw(st.integers(1, 3))):
            rack, dual = "r%d" % r, draw(st.booleans())
            for t in range(draw(st.integers(1, 2))):
                name = "%s-%s-tor%d" % (site, rack, t)
                tor = {"fabric_site": site, "fabric_rack": rack, "fabric_asn": 65100 + 10 * s + r, "fabric_ipv4": "10.%d.%d.%d/24" % (s, r + 1, t + 1)}
                if n_spines:
                    tor["fabric_uplink_ipv4"] = "10.%d.0.%d/24" % (s, 100 + 2 * r + t)
                if dual:
                    tor["fabric_ipv6"] = "2001:db8:%d:%d::%d/64" % (s, r + 1, t + 1)
                    if n_spines:
                        tor["fabric_uplink_ipv6"] = "2001:db8:%d::%x/64" % (s, 0x100 + 2 * r + t)
                hosts[name] = tor
                groups["fabric_tors"].append(name)
            for n in range(draw(st.integers(1, 4))):
                name = "%s-%s-n%d" % (site, rack, n)
                node = {
                    "fabric_site": site,
                    "fabric_rack": rack,
                    "fabric_ipv4": "10.%d.%d.%d/24" % (s, r + 1, 10 + n),
                    "fabric_daemon": draw(st.sampled_from(["bird", "frr"])),
                }
                usable = [a for a in catalogue if dual or ":" not in a]
                node["fabric_vips"] = [catalogue[a] for a in draw(st.lists(st.sampled_from(usable), unique=True, max_size=6))]
                pods = []
                if draw(st.booleans()):
                    pods.append("10.%d.%d.0/24" % (100 + s, 16 * r + n))
                if dual:
                    node["fabric_ipv6"] = "2001:db8:%d:%d::%x/64" % (s, r + 1, 0x10 + n)
                    if draw(st.booleans()):
                        pods.append("fd00:%d:%d:%d::/64" % (s, r, n))
                node["fabric_pod_cidrs"] = pods
                hosts[name] = node
                groups["fabric_nodes"].append(name)
    for variables in hosts.values():
        variables.update(json.loads(json.dumps(fabric_vars)))
    return hosts, groups


def build_ok(hosts, groups):
    intents, problems = model.build(hosts, groups)
    assert not problems, problems.messages()
    return intents


@settings(max_examples=25, **PROFILE)
@given(fabrics())
def test_valid_fabrics_render_to_configs_the_real_parsers_accept(tmp_path_factory, fabric):
    hosts, groups = fabric
    out = tmp_path_factory.mktemp("prop")
    for name, intent in build_ok(hosts, groups).items():
        path = out / name / render.config_filename(intent)
        path.parent.mkdir()
        path.write_text(render.render(intent, password=PASSWORD))
        ok, output = parse_config(path)
        assert ok, "%s:\n%s\n---\n%s" % (name, output, path.read_text())


@settings(max_examples=100, **PROFILE)
@given(fabrics())
def test_rendering_is_deterministic(fabric):
    hosts, groups = fabric
    first = {n: render.render(i, password=PASSWORD) for n, i in build_ok(hosts, groups).items()}
    second = {n: render.render(i, password=PASSWORD) for n, i in build_ok(json.loads(json.dumps(hosts)), groups).items()}
    assert first == second


@settings(max_examples=100, **PROFILE)
@given(fabrics())
def test_every_exported_prefix_is_accepted_by_the_peer_and_nothing_else(fabric):
    hosts, groups = fabric
    intents = build_ok(hosts, groups)
    for name, intent in intents.items():
        for peer in intent.peers:
            back = next(p for p in intents[peer.name].peers if p.name == name and p.family == peer.family)
            assert (back.address, back.local_address) == (peer.local_address, peer.address)
            assert back.asn == intent.asn
            assert peer.export == back.accept
