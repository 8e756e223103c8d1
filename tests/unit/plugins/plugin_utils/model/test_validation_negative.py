# -*- coding: utf-8 -*-
"""Negative suite: invalid inventories and the exact problems the model reports.

Every case starts from one small valid fabric (`base()`), applies a few edits
and compares the full problem lines, "<host>: <path> = <value>: <reason>", so
a change in host, path, shown value or wording is a visible test change.

Cases marked xfail(strict=True) describe model bugs: they hold the message
the model *should* produce. Fix the model, and the xfail turns into a failure
that asks for the marker to be removed.
"""

from __future__ import annotations

import copy
import os
import sys

import pytest
import yaml

# `make unit` sets PYTHONPATH=.build/collections; this makes a bare pytest run work too.
_COLLECTIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "..", ".build", "collections")
if os.path.isdir(_COLLECTIONS) and os.path.abspath(_COLLECTIONS) not in map(os.path.abspath, sys.path):
    sys.path.insert(0, os.path.abspath(_COLLECTIONS))

from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model  # noqa: E402

SECRET = "s3cret-md5-key"
POOLS = ["198.51.100.0/24", "2001:db8:ac::/48"]
BGP_KEYS = (
    "bfd, bfd_interval_ms, bfd_multiplier, connect_retry_time, ecmp_paths, error_forget_time, error_wait_time, graceful_restart, "
    "hold_time, keepalive_time, listen_limit, max_prefixes, node_peering, password, ttl_security, weighted_ecmp"
)
ONE_ROLE = "a host has exactly one fabric role; it is in more than one of fabric_nodes, fabric_tors, fabric_spines"
SAME_EVERYWHERE = "fabric-wide variables must be the same for every host (define them once, e.g. in group_vars/all)"
PEER_ADDRESS = "cannot be used to peer: it is an unspecified, loopback or multicast address"
PEER_LINK_LOCAL = "cannot be used to peer: it is an IPv6 link-local address"
INT_ASN = "must be an integer from 1 to 4294967294"
STD_COMMUNITY = "must be a community written as ASN:VALUE with each part 0-65535"
LARGE_COMMUNITY = "must be a community written as GLOBAL:LOCAL1:LOCAL2 with each part 0-4294967295"
HOST_NAME = (
    "a fabric host name is 1-253 characters: dot-separated labels of 1-63 letters, digits, '-' or '_', "
    "starting with a letter or digit (no spaces, quotes, slashes or other punctuation)"
)
IFACE_NAME = "must be an interface name: 1-15 letters, digits, '.', '_' or '-', starting with a letter or digit (Linux allows 15)"
BAD_PASSWORD = "must be 1-80 bytes (UTF-8) of printable characters without spaces, quotes or backslashes"


# The valid base fabric -----------------------------------------------------------


def fabric_wide():
    """What group_vars/all would hold; every host carries its own copy."""
    return {
        "fabric_anycast_pools": list(POOLS),
        "fabric_bgp": {"password": SECRET, "max_prefixes": 50},
        "fabric_node_asn_scheme": "per_rack",
    }


def dns_vip():
    # Announced by both nodes of rack r1: the two copies must stay identical.
    return {"address": "198.51.100.53", "name": "dns", "communities": ["65000:53"]}


def base():
    """Site s1: spine1; rack r1 (dual stack, a BIRD and an FRR node); rack r2 (IPv4 only).

    Returns fresh (hostvars, groups) on every call, so cases can mutate freely.
    """
    site = {"fabric_site": "s1"}
    hostvars = {
        "spine1": {**site, "fabric_asn": 65000, "fabric_ipv4": "10.0.0.1/24", "fabric_ipv6": "2001:db8:0:1::1/64"},
        "r1-tor": {
            **site,
            "fabric_rack": "r1",
            "fabric_asn": 65101,
            "fabric_ipv4": "10.1.1.1/24",
            "fabric_ipv6": "2001:db8:1:1::1/64",
            "fabric_uplink_ipv4": "10.0.0.11/24",
            "fabric_uplink_ipv6": "2001:db8:0:1::11/64",
        },
        "r1-n1": {
            **site,
            "fabric_rack": "r1",
            "fabric_daemon": "bird",
            "fabric_ipv4": "10.1.1.11/24",
            "fabric_ipv6": "2001:db8:1:1::11/64",
            "fabric_vips": [dns_vip(), "2001:db8:ac::53"],
            "fabric_pod_cidrs": ["10.244.1.0/24", "fd00:244:1::/64"],
        },
        "r1-n2": {
            **site,
            "fabric_rack": "r1",
            "fabric_daemon": "frr",
            "fabric_ipv4": "10.1.1.12/24",
            "fabric_ipv6": "2001:db8:1:1::12/64",
            "fabric_vips": [dns_vip()],
            "fabric_pod_cidrs": ["10.244.2.0/24"],
        },
        "r2-tor": {**site, "fabric_rack": "r2", "fabric_asn": 65102, "fabric_ipv4": "10.1.2.1/24", "fabric_uplink_ipv4": "10.0.0.12/24"},
        "r2-n1": {
            **site,
            "fabric_rack": "r2",
            "fabric_ipv4": "10.1.2.11/24",
            "fabric_vips": [{"address": "198.51.100.80", "name": "web", "communities": ["65000:80"], "large_communities": ["4200000000:80:1"]}],
            "fabric_pod_cidrs": ["10.244.3.0/24"],
        },
        "r2-n2": {**site, "fabric_rack": "r2", "fabric_ipv4": "10.1.2.12/24", "fabric_vips": ["198.51.100.99"]},
    }
    for variables in hostvars.values():
        variables.update(fabric_wide())
    groups = {"fabric_spines": ["spine1"], "fabric_tors": ["r1-tor", "r2-tor"], "fabric_nodes": ["r1-n1", "r1-n2", "r2-n1", "r2-n2"]}
    return hostvars, groups


def build(hostvars, groups):
    intents, problems = model.build(hostvars, groups)
    return intents, problems.messages()


def test_base_fabric_is_valid():
    intents, messages = build(*base())
    assert messages == []
    assert sorted(intents) == ["r1-n1", "r1-n2", "r1-tor", "r2-n1", "r2-n2", "r2-tor", "spine1"]
    assert intents["r1-n1"].daemon == "bird" and intents["r1-n2"].daemon == "frr"
    assert intents["r1-n1"].exports["ipv6"] == ("2001:db8:ac::53/128", "fd00:244:1::/64")


# Edits: each returns a function that changes (hostvars, groups) in place ------------


def setv(host, var, value):
    def edit(hostvars, groups):
        hostvars[host][var] = value

    return edit


def unset(host, var):
    def edit(hostvars, groups):
        del hostvars[host][var]

    return edit


def append(host, var, value):
    def edit(hostvars, groups):
        hostvars[host].setdefault(var, []).append(value)

    return edit


def set_vip(host, index, key, value):
    def edit(hostvars, groups):
        hostvars[host]["fabric_vips"][index][key] = value

    return edit


def set_all(var, value):
    """A fabric-wide variable changed in group_vars/all: every host sees it."""

    def edit(hostvars, groups):
        for variables in hostvars.values():
            variables[var] = copy.deepcopy(value)

    return edit


def unset_all(var):
    def edit(hostvars, groups):
        for variables in hostvars.values():
            variables.pop(var, None)

    return edit


def bgp(**options):
    """fabric_bgp of the base with some options changed, on every host."""
    value = fabric_wide()["fabric_bgp"]
    value.update(options)
    return set_all("fabric_bgp", value)


def drop(host):
    """The host leaves the inventory."""

    def edit(hostvars, groups):
        del hostvars[host]
        for members in groups.values():
            if host in members:
                members.remove(host)

    return edit


def also_in(group, host):
    def edit(hostvars, groups):
        groups[group].append(host)

    return edit


def mutated(*edits):
    hostvars, groups = base()
    for edit in edits:
        edit(hostvars, groups)
    return hostvars, groups


def rename(old, new):
    """The host is renamed in the inventory (its variables and groups follow)."""

    def edit(hostvars, groups):
        hostvars[new] = hostvars.pop(old)
        for members in groups.values():
            if old in members:
                members[members.index(old)] = new

    return edit


UPSTREAM = {"name": "transit", "address": "192.0.2.1", "asn": 64999, "local_address": "192.0.2.2/30"}


def set_upstream(value):
    return setv("spine1", "fabric_upstreams", value)


UP = UPSTREAM


def case(case_id, edits, expected, bug=None):
    marks = [pytest.mark.xfail(strict=True, reason="model bug: " + bug)] if bug else []
    return pytest.param(edits, expected, id=case_id, marks=marks)


# The table -------------------------------------------------------------------------

CASES = [
    # Missing required variables.
    case("node-without-ipv4", [unset("r1-n2", "fabric_ipv4")], ["r1-n2: fabric_ipv4 = null: is required: the IPv4 address this host peers from"]),
    case("node-without-rack", [unset("r1-n2", "fabric_rack")], ["r1-n2: fabric_rack = null: is required for nodes"]),
    # Without its rack the ToR serves nobody, so the nodes of r2 are unserved too:
    # both statements are true and name what to fix.
    case(
        "tor-without-rack",
        [unset("r2-tor", "fabric_rack")],
        [
            "r2-tor: fabric_rack = null: is required for ToRs",
            "r2-n1: fabric_rack = 'r2': no ToR (fabric_tors) serves rack 'r2' of site 's1'",
            "r2-n2: fabric_rack = 'r2': no ToR (fabric_tors) serves rack 'r2' of site 's1'",
        ],
    ),
    case("tor-without-asn", [unset("r1-tor", "fabric_asn")], ["r1-tor: fabric_asn = null: is required for ToRs"]),
    case("spine-without-asn", [unset("spine1", "fabric_asn")], ["spine1: fabric_asn = null: is required for spines"]),
    case(
        "no-anycast-pools",
        [unset_all("fabric_anycast_pools")],
        ["fabric: fabric_anycast_pools = null: is required: the prefixes every VIP must lie in"],
    ),
    # Ill-typed values.
    case("asn-bool", [setv("r1-tor", "fabric_asn", True)], ["r1-tor: fabric_asn = true: " + INT_ASN]),
    case("asn-word", [setv("spine1", "fabric_asn", "sixty-five-thousand")], ["spine1: fabric_asn = 'sixty-five-thousand': " + INT_ASN]),
    case("asn-list", [setv("r2-tor", "fabric_asn", [65102])], ["r2-tor: fabric_asn = [65102]: " + INT_ASN]),
    case(
        "asn-unicode-digit-crashes",
        # str.isdigit() accepts superscripts, int() does not: ValueError escapes build().
        [setv("r1-tor", "fabric_asn", "65101\u00b2")],
        ["r1-tor: fabric_asn = '65101\u00b2': " + INT_ASN],
    ),
    case("vips-not-a-list", [setv("r2-n2", "fabric_vips", "198.51.100.99")], ["r2-n2: fabric_vips = '198.51.100.99': must be a list"]),
    case("bgp-not-a-mapping", [set_all("fabric_bgp", "yes")], ["fabric: fabric_bgp = '<hidden>': must be a mapping (got a string)"]),
    # fabric_bgp holds the password: none of its values is ever echoed.
    case("bgp-unknown-key", [bgp(holdtime=9)], ["fabric: fabric_bgp.holdtime = '<hidden>': is not a known option (known: %s)" % BGP_KEYS]),
    case(
        "vip-unknown-key",
        [set_vip("r2-n1", 0, "comunities", ["65000:81"])],
        [
            "r2-n1: fabric_vips[0].comunities = ['65000:81']: is not a known option"
            " (known: address, communities, health, large_communities, med, name, prepend, sites, weight)"
        ],
    ),
    case("vip-without-address", [setv("r2-n2", "fabric_vips", [{"name": "admin"}])], ["r2-n2: fabric_vips[0].address = null: is required"]),
    # Bad peering addresses.
    case("ipv4-not-an-address", [setv("r1-n1", "fabric_ipv4", "10.1.1.300/24")], ["r1-n1: fabric_ipv4 = '10.1.1.300/24': is not an IPv4 address"]),
    case("ipv6-in-ipv4", [setv("r2-n1", "fabric_ipv4", "2001:db8:2::11/64")], ["r2-n1: fabric_ipv4 = '2001:db8:2::11/64': is an IPv6 address, expected IPv4"]),
    case("ipv4-loopback", [setv("r2-tor", "fabric_ipv4", "127.0.0.1")], ["r2-tor: fabric_ipv4 = '127.0.0.1': " + PEER_ADDRESS]),
    case("ipv6-link-local", [setv("r1-n2", "fabric_ipv6", "fe80::12/64")], ["r1-n2: fabric_ipv6 = 'fe80::12/64': " + PEER_LINK_LOCAL]),
    case(
        "ipv4-network-address",
        [setv("r2-n2", "fabric_ipv4", "10.1.2.0/24")],
        ["r2-n2: fabric_ipv4 = '10.1.2.0/24': is the network or broadcast address of 10.1.2.0/24"],
    ),
    case(
        "router-id-not-ipv4",
        [setv("r2-n1", "fabric_router_id", "10.1.2")],
        ["r2-n1: fabric_router_id = '10.1.2': must be a non-zero IPv4 address (a 32-bit BGP identifier)"],
    ),
    # VIPs.
    case(
        "vip-outside-pools",
        [setv("r2-n2", "fabric_vips", ["203.0.113.9"])],
        ["r2-n2: fabric_vips[0] = '203.0.113.9': is outside every anycast pool (fabric_anycast_pools: 198.51.100.0/24)"],
    ),
    case(
        "vip-dict-outside-pools-path",
        # The address of a mapping VIP lives at .address, whatever other keys it has.
        [setv("r2-n2", "fabric_vips", [{"address": "203.0.113.9"}])],
        ["r2-n2: fabric_vips[0].address = '203.0.113.9': is outside every anycast pool (fabric_anycast_pools: 198.51.100.0/24)"],
    ),
    case(
        "vip-not-host-route",
        [setv("r2-n2", "fabric_vips", ["198.51.100.0/24"])],
        ["r2-n2: fabric_vips[0] = '198.51.100.0/24': must be a host route (/32): an anycast VIP is one address"],
    ),
    case("vip-not-an-address", [setv("r2-n2", "fabric_vips", ["dns"])], ["r2-n2: fabric_vips[0] = 'dns': is not an IP address"]),
    case(
        "vip-loopback",
        [setv("r2-n2", "fabric_vips", ["127.0.0.53"])],
        ["r2-n2: fabric_vips[0] = '127.0.0.53': cannot be announced: it is an unspecified, loopback or multicast address"],
    ),
    case(
        "vip-twice-on-a-node",
        [append("r2-n2", "fabric_vips", "198.51.100.99")],
        ["r2-n2: fabric_vips[1] = '198.51.100.99': is listed twice (also fabric_vips[0])"],
    ),
    case(
        "vip-conflicting-communities",
        [set_vip("r1-n2", 0, "communities", ["65000:54"])],
        [
            "r1-n2: fabric_vips[0] = '198.51.100.53': is also a VIP of r1-n1 (fabric_vips[0]) with different name or communities; "
            "every node announcing a VIP must describe it the same way"
        ],
    ),
    case(
        "vip-on-a-tor",
        [setv("r1-tor", "fabric_vips", ["198.51.100.7"])],
        ["r1-tor: fabric_vips = ['198.51.100.7']: only applies to nodes (fabric_nodes); ToRs announce no service addresses"],
    ),
    case(
        "vip-interface-too-long",
        [setv("r2-n2", "fabric_vip_interface", "anycast-loopback")],
        ["r2-n2: fabric_vip_interface = 'anycast-loopback': " + IFACE_NAME],
    ),
    # Communities.
    case(
        "community-part-too-big",
        [set_vip("r2-n1", 0, "communities", ["65000:70000"])],
        ["r2-n1: fabric_vips[0].communities[0] = '65000:70000': " + STD_COMMUNITY],
    ),
    case(
        "community-three-parts", [set_vip("r2-n1", 0, "communities", ["65000:1:2"])], ["r2-n1: fabric_vips[0].communities[0] = '65000:1:2': " + STD_COMMUNITY]
    ),
    case(
        "large-community-two-parts",
        [set_vip("r2-n1", 0, "large_communities", ["4200000000:80"])],
        ["r2-n1: fabric_vips[0].large_communities[0] = '4200000000:80': " + LARGE_COMMUNITY],
    ),
    case(
        "communities-not-a-list",
        [set_vip("r2-n1", 0, "communities", "65000:80")],
        ["r2-n1: fabric_vips[0].communities = '65000:80': must be a list"],
    ),
    case(
        "community-read-as-sexagesimal",
        # Unquoted 65000:53 is the YAML 1.1 base-60 integer 3900053, also for Ansible's
        # loader: the user never wrote 3900053 and needs to be told to quote the community.
        [set_vip("r2-n1", 0, "communities", yaml.safe_load("[65000:53]"))],
        [
            "r2-n1: fabric_vips[0].communities[0] = 3900053: " + STD_COMMUNITY + "; YAML read the unquoted 65000:53 "
            "as the base-60 number 3900053, quote it: '65000:53'"
        ],
    ),
    case(
        "bad-community-on-shared-vip",
        # Only r1-n1 is wrong; r1-n2's copy of the VIP is the intended one.
        [set_vip("r1-n1", 0, "communities", ["65000:70000"])],
        ["r1-n1: fabric_vips[0].communities[0] = '65000:70000': " + STD_COMMUNITY],
    ),
    # Anycast pools.
    case(
        "pools-overlap",
        [set_all("fabric_anycast_pools", POOLS + ["198.51.100.128/25"])],
        ["fabric: fabric_anycast_pools[2] = '198.51.100.128/25': overlaps fabric_anycast_pools[0] (198.51.100.0/24); anycast pools must be disjoint"],
    ),
    case(
        "pool-host-bits",
        [set_all("fabric_anycast_pools", POOLS + ["203.0.113.5/24"])],
        ["fabric: fabric_anycast_pools[2] = '203.0.113.5/24': has host bits set"],
    ),
    case(
        "pools-not-a-list",
        [set_all("fabric_anycast_pools", "198.51.100.0/24")],
        ["fabric: fabric_anycast_pools = '198.51.100.0/24': must be a list"],
    ),
    # ASN ranges and reserved values.
    case("asn-zero", [setv("r2-tor", "fabric_asn", 0)], ["r2-tor: fabric_asn = 0: " + INT_ASN]),
    case("asn-as-trans", [setv("r1-tor", "fabric_asn", 23456)], ["r1-tor: fabric_asn = 23456: is AS_TRANS (RFC 6793) and cannot be used"]),
    case("asn-65535", [setv("r2-tor", "fabric_asn", 65535)], ["r2-tor: fabric_asn = 65535: is reserved (RFC 7300) and cannot be used"]),
    case("asn-max", [setv("spine1", "fabric_asn", 4294967295)], ["spine1: fabric_asn = 4294967295: " + INT_ASN]),
    case("asn-above-32-bit", [setv("spine1", "fabric_asn", 4294967296)], ["spine1: fabric_asn = 4294967296: " + INT_ASN]),
    case("node-asn-reserved", [setv("r1-n1", "fabric_asn", 23456)], ["r1-n1: fabric_asn = 23456: is AS_TRANS (RFC 6793) and cannot be used"]),
    case("asn-base-reserved", [set_all("fabric_node_asn_base", 23456)], ["fabric: fabric_node_asn_base = 23456: is AS_TRANS (RFC 6793)"]),
    case(
        "asn-scheme-unknown",
        [set_all("fabric_node_asn_scheme", "per_site")],
        ["fabric: fabric_node_asn_scheme = 'per_site': must be one of: per_rack, per_node"],
    ),
    case(
        "derived-asns-collide",
        # A base of 65534 leaves a single 16-bit ASN for every rack.
        [set_all("fabric_node_asn_base", 65534)],
        [
            "r2-n1: fabric_asn = 65534: the per_rack ASN derived for this node is also derived for r1-n1; set fabric_asn explicitly for one of them",
            "r2-n2: fabric_asn = 65534: the per_rack ASN derived for this node is also derived for r1-n1; set fabric_asn explicitly for one of them",
        ],
    ),
    case(
        "node-shares-tor-asn",
        [setv("r1-n1", "fabric_asn", 65101)],
        ["r1-n1: fabric_asn = 65101: is the ASN of r1-tor; nodes need their own ASN for eBGP with their ToRs"],
    ),
    case(
        "tor-shares-spine-asn",
        [setv("r2-tor", "fabric_asn", 65000)],
        ["r2-tor: fabric_asn = 65000: is also the ASN of spine spine1; ToRs and spines peer over eBGP"],
    ),
    # Uniqueness.
    case(
        "router-id-duplicate",
        [setv("r2-n1", "fabric_router_id", "10.1.1.11")],
        ["r2-n1: fabric_router_id = '10.1.1.11': is also the router id of r1-n1; router ids must be unique"],
    ),
    case(
        "router-id-duplicate-blames-setter",
        # r1-n1 sets a router id equal to r2-n1's address; r2-n1 set nothing and is innocent.
        [setv("r1-n1", "fabric_router_id", "10.1.2.11")],
        ["r1-n1: fabric_router_id = '10.1.2.11': is also the router id of r2-n1; router ids must be unique"],
    ),
    case(
        "uplink-address-duplicate",
        [setv("r2-tor", "fabric_uplink_ipv4", "10.0.0.11/24")],
        ["r2-tor: fabric_uplink_ipv4 = '10.0.0.11': is already used by r1-tor (fabric_uplink_ipv4); peering addresses must be unique"],
    ),
    case(
        "ipv4-address-duplicate",
        [setv("r1-n2", "fabric_ipv4", "10.1.1.11/24")],
        ["r1-n2: fabric_ipv4 = '10.1.1.11': is already used by r1-n1 (fabric_ipv4); peering addresses must be unique"],
    ),
    # Topology.
    case(
        "rack-without-tor",
        [drop("r2-tor")],
        [
            "r2-n1: fabric_rack = 'r2': no ToR (fabric_tors) serves rack 'r2' of site 's1'",
            "r2-n2: fabric_rack = 'r2': no ToR (fabric_tors) serves rack 'r2' of site 's1'",
        ],
    ),
    case("tor-without-nodes", [drop("r2-n1"), drop("r2-n2")], ["r2-tor: fabric_rack = 'r2': no node (fabric_nodes) is in rack 'r2' of site 's1'"]),
    case(
        "node-off-tor-segment",
        # The reason must name the ToR's segment, not the node's own (wrong) one.
        [setv("r1-n2", "fabric_ipv4", "10.1.9.12/24")],
        ["r1-n2: fabric_ipv4 = '10.1.9.12': is not on the same segment as r1-tor (10.1.1.1, segment 10.1.1.0/24)"],
    ),
    case(
        "tor-prefix-too-long",
        # A /30 typo on the ToR leaves both nodes outside its segment.
        [setv("r2-tor", "fabric_ipv4", "10.1.2.1/30")],
        [
            "r2-n1: fabric_ipv4 = '10.1.2.11': is not on the same segment as r2-tor (10.1.2.1, segment 10.1.2.0/30)",
            "r2-n2: fabric_ipv4 = '10.1.2.12': is not on the same segment as r2-tor (10.1.2.1, segment 10.1.2.0/30)",
        ],
    ),
    case(
        "spine-in-site-without-tors",
        [setv("spine1", "fabric_site", "s2")],
        ["spine1: fabric_site = 's2': no ToR (fabric_tors) is in this site, so the spine has nobody to peer with"],
    ),
    case(
        "spine-site-invalid",
        [setv("spine1", "fabric_site", "site 1")],
        ["spine1: fabric_site = 'site 1': must be a site name: 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"],
    ),
    case(
        "tor-without-uplink",
        [unset("r2-tor", "fabric_uplink_ipv4")],
        ["r2-tor: fabric_uplink_ipv4 = null: is required: site 's1' has spines (spine1) and a ToR peers with them from this address"],
    ),
    case(
        "uplink-on-a-node",
        [setv("r2-n1", "fabric_uplink_ipv4", "10.0.0.21/24")],
        ["r2-n1: fabric_uplink_ipv4 = '10.0.0.21/24': only applies to ToRs (fabric_tors); nodes peer from fabric_ipv4/fabric_ipv6"],
    ),
    case(
        "host-in-two-roles",
        [also_in("fabric_tors", "r1-n1")],
        ["r1-n1: groups = ['fabric_nodes', 'fabric_tors']: " + ONE_ROLE],
    ),
    case("bird-on-a-tor", [setv("r1-tor", "fabric_daemon", "bird")], ["r1-tor: fabric_daemon = 'bird': must be one of: frr, external"]),
    # IPv6.
    case(
        "ipv6-vip-without-ipv6",
        [unset("r1-n2", "fabric_ipv6"), append("r1-n2", "fabric_vips", "2001:db8:ac::80")],
        ["r1-n2: fabric_vips[1] = '2001:db8:ac::80': is an IPv6 VIP but the node has no IPv6 session (set fabric_ipv6)"],
    ),
    case(
        "ipv6-dict-vip-without-ipv6-path",
        [unset("r1-n2", "fabric_ipv6"), append("r1-n2", "fabric_vips", {"address": "2001:db8:ac::80", "name": "web6"})],
        ["r1-n2: fabric_vips[1].address = '2001:db8:ac::80': is an IPv6 VIP but the node has no IPv6 session (set fabric_ipv6)"],
    ),
    case(
        "ipv6-pod-cidr-without-ipv6",
        [unset("r1-n2", "fabric_ipv6"), append("r1-n2", "fabric_pod_cidrs", "fd00:244:2::/64")],
        ["r1-n2: fabric_pod_cidrs[1] = 'fd00:244:2::/64': is an IPv6 pod CIDR but the node has no IPv6 session (set fabric_ipv6)"],
    ),
    case(
        "tor-without-ipv6-under-ipv6-nodes",
        [unset("r1-tor", "fabric_ipv6")],
        [
            "r1-tor: fabric_ipv6 = null: is required: node r1-n1 of its rack peers over IPv6 (fabric_ipv6 = 2001:db8:1:1::11)",
            "r1-tor: fabric_ipv6 = null: is required: node r1-n2 of its rack peers over IPv6 (fabric_ipv6 = 2001:db8:1:1::12)",
        ],
    ),
    case(
        "spine-without-ipv6",
        [unset("spine1", "fabric_ipv6")],
        ["spine1: fabric_ipv6 = null: is required: rack 'r1' announces IPv6 prefixes that reach the spines over IPv6"],
    ),
    case(
        "tor-without-ipv6-uplink",
        [unset("r1-tor", "fabric_uplink_ipv6")],
        ["r1-tor: fabric_uplink_ipv6 = null: is required: rack 'r1' announces IPv6 prefixes and site 's1' has spines"],
    ),
    # Pod CIDRs.
    case(
        "pod-cidr-overlaps-pool",
        [append("r2-n1", "fabric_pod_cidrs", "198.51.100.0/28")],
        ["r2-n1: fabric_pod_cidrs[1] = '198.51.100.0/28': overlaps anycast pool 198.51.100.0/24; pod CIDRs and VIPs must not share addresses"],
    ),
    case(
        "pod-cidrs-of-two-nodes-overlap",
        [setv("r2-n2", "fabric_pod_cidrs", ["10.244.1.128/25"])],
        ["r2-n2: fabric_pod_cidrs[0] = '10.244.1.128/25': overlaps a pod CIDR of r1-n1 (10.244.1.0/24); every node owns its pod CIDRs alone"],
    ),
    case(
        "pod-cidrs-of-one-node-overlap",
        [append("r1-n1", "fabric_pod_cidrs", "10.244.1.0/25")],
        ["r1-n1: fabric_pod_cidrs[2] = '10.244.1.0/25': overlaps fabric_pod_cidrs[0] of the same node"],
    ),
    case("pod-cidr-host-bits", [setv("r2-n1", "fabric_pod_cidrs", ["10.244.3.1/24"])], ["r2-n1: fabric_pod_cidrs[0] = '10.244.3.1/24': has host bits set"]),
    # BGP timers, BFD and policy.
    case("hold-time-below-3", [bgp(hold_time=2)], ["fabric: fabric_bgp.hold_time = 2: must be an integer from 3 to 65535 seconds"]),
    case(
        "keepalive-not-below-hold", [bgp(keepalive_time=9, hold_time=9)], ["fabric: fabric_bgp.keepalive_time = 9: must be lower than fabric_bgp.hold_time (9)"]
    ),
    case("bfd-interval-5ms", [bgp(bfd_interval_ms=5)], ["fabric: fabric_bgp.bfd_interval_ms = 5: must be an integer from 10 to 60000 milliseconds"]),
    case("bfd-multiplier-1", [bgp(bfd_multiplier=1)], ["fabric: fabric_bgp.bfd_multiplier = 1: must be an integer from 2 to 255"]),
    case("bfd-not-a-boolean", [bgp(bfd="on")], ["fabric: fabric_bgp.bfd = 'on': must be true or false"]),
    case(
        "ttl-security-with-bfd",
        [bgp(ttl_security=True)],
        [
            "fabric: fabric_bgp.ttl_security = true: cannot be combined with fabric_bgp.bfd: with ttl-security FRR runs multihop BFD "
            "while BIRD runs single-hop BFD, so BFD never comes up; disable one of them"
        ],
    ),
    case(
        "error-wait-reversed",
        [bgp(error_wait_time=[30, 1])],
        ["fabric: fabric_bgp.error_wait_time = [30, 1]: the first value (min) must not exceed the second (max)"],
    ),
    case("password-with-space", [bgp(password="s3cret key")], ["fabric: fabric_bgp.password = '<hidden>': " + BAD_PASSWORD]),
    # Fabric-wide variables that differ between hosts.
    case(
        "fabric-wide-differs",
        [setv("r2-n2", "fabric_node_asn_scheme", "per_node")],
        ["r2-n2: fabric_node_asn_scheme = 'per_node': differs from its value on r1-n1; " + SAME_EVERYWHERE],
    ),
    case(
        "pools-differ-on-spine",
        [setv("spine1", "fabric_anycast_pools", POOLS[:1])],
        ["spine1: fabric_anycast_pools = ['198.51.100.0/24']: differs from its value on r1-n1; " + SAME_EVERYWHERE],
    ),
    case(
        "fabric-wide-differs-on-first-host",
        # r1-n1 (first by name) is the odd one out: it, not the six agreeing hosts, is wrong.
        [setv("r1-n1", "fabric_node_asn_scheme", "per_node")],
        ["r1-n1: fabric_node_asn_scheme = 'per_node': differs from its value on r1-n2; " + SAME_EVERYWHERE],
    ),
    # The input boundary (issue 12): hostile names, addresses and numbers.
    # FRR's `hostname` refuses a first character that is not a letter or digit (vtysh -C does not).
    case("host-leading-underscore", [rename("r2-n2", "_r2-n2")], ["_r2-n2: inventory_hostname = '_r2-n2': " + HOST_NAME]),
    case(
        "health-check-non-string-key",
        [set_vip("r2-n1", 0, "health", {"checks": [{"type": "tcp", "port": 80, 10**30: 1}]})],
        [
            "r2-n1: fabric_vips[0].health.checks[0].<an integer of 100 bits> = '<hidden>': is not a known option (known: command, expect_status, fall, healthz_port, host, interval_ms, name, path, pidfile, port, protocol, rise, service, timeout_ms, type, unit)"  # noqa: E501
        ],
    ),
    case(
        "aggregate-covers-infra",
        [setv("spine1", "fabric_pod_aggregates", ["10.0.0.0/8"])],
        [
            "spine1: fabric_pod_aggregates[0] = '10.0.0.0/8': covers 10.0.0.11, the address of r1-tor (fabric_uplink_ipv4); aggregates must not cover the fabric's own addresses"  # noqa: E501
        ],
    ),
    case(
        "upstream-link-covers-rack",
        [set_upstream([dict(UPSTREAM, address="10.1.2.200", local_address="10.1.2.201/24")])],
        [
            "spine1: fabric_upstreams[0].local_address = '10.1.2.201/24': covers 10.1.2.1, the address of r2-tor (fabric_ipv4); upstream links must not cover the fabric's own addresses"  # noqa: E501
        ],
    ),
    case(
        "ipv4-this-network",
        [setv("r2-n2", "fabric_ipv4", "0.1.2.12")],
        ["r2-n2: fabric_ipv4 = '0.1.2.12': cannot be used to peer: it is in 0.0.0.0/8 ('this network', RFC 1122)"],
    ),
    case(
        "ipv6-compatible",
        [setv("r1-n2", "fabric_ipv6", "::10.1.1.12")],
        ["r1-n2: fabric_ipv6 = '::10.1.1.12': cannot be used to peer: it is an IPv4-compatible IPv6 address (::/96, deprecated by RFC 4291)"],
    ),
    case(
        "upstream-entry-string-with-secret",
        [set_upstream(["name: transit, password: Secret-1234"])],
        ["spine1: fabric_upstreams[0] = '<hidden>': must be a mapping (got a string)"],
    ),
    case(
        "host-quote",
        [rename("r1-tor", 'r1-tor" ; password "x')],
        ['r1-tor" ; password "x: inventory_hostname = \'r1-tor" ; password "x\': ' + HOST_NAME],
    ),
    case(
        "host-newline",
        [rename("r1-n1", "r1-n1\n neighbor 10.1.1.1 password y")],
        ["r1-n1\\n neighbor 10.1.1.1 password y: inventory_hostname = 'r1-n1\\n neighbor 10.1.1.1 password y': " + HOST_NAME],
    ),
    case(
        "host-path",
        [rename("r2-n2", "../x")],
        ["../x: inventory_hostname = '../x': " + HOST_NAME],
    ),
    case(
        "host-abs",
        [rename("r2-n2", "/etc/x")],
        ["/etc/x: inventory_hostname = '/etc/x': " + HOST_NAME],
    ),
    case(
        "host-too-long-label",
        [rename("r2-n2", "a" * 64 + ".example")],
        [
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example: inventory_hostname = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example': "  # noqa: E501
            + HOST_NAME
        ],
    ),
    case(
        "site-trailing-newline",
        [setv("r2-n2", "fabric_site", "s1\n")],
        ["r2-n2: fabric_site = 's1\\n': must be a site name: 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"],
    ),
    case(
        "rack-huge-int",
        [setv("r2-n2", "fabric_rack", 10**5000)],
        ["r2-n2: fabric_rack = <an integer of 16610 bits>: must be a rack name: 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"],
    ),
    case(
        "vip-zone",
        [setv("r2-n2", "fabric_vips", ["fe80::1%eth0"])],
        ["r2-n2: fabric_vips[0] = 'fe80::1%eth0': has an IPv6 zone id ('%...'): zone ids are not allowed here"],
    ),
    case(
        "ipv6-zone",
        [setv("r1-n2", "fabric_ipv6", "2001:db8:1:1::12%eth0/64")],
        ["r1-n2: fabric_ipv6 = '2001:db8:1:1::12%eth0/64': has an IPv6 zone id ('%...'): zone ids are not allowed here"],
    ),
    case(
        "ipv6-mapped",
        [setv("r1-n2", "fabric_ipv6", "::ffff:10.1.1.12/64")],
        ["r1-n2: fabric_ipv6 = '::ffff:10.1.1.12/64': cannot be used to peer: it is an IPv4-mapped IPv6 address: use the IPv4 address itself"],
    ),
    case(
        "ipv4-broadcast",
        [setv("r2-n2", "fabric_ipv4", "255.255.255.255")],
        ["r2-n2: fabric_ipv4 = '255.255.255.255': cannot be used to peer: it is in 240.0.0.0/4 (reserved, includes the broadcast address 255.255.255.255)"],
    ),
    case(
        "ipv4-multicast",
        [setv("r2-n2", "fabric_ipv4", "224.0.0.5")],
        ["r2-n2: fabric_ipv4 = '224.0.0.5': cannot be used to peer: it is an unspecified, loopback or multicast address"],
    ),
    case(
        "peer-in-pool",
        [setv("r2-n2", "fabric_ipv4", "198.51.100.7/24")],
        [
            "r2-n2: fabric_ipv4 = '198.51.100.7': is not on the same segment as r2-tor (10.1.2.1, segment 10.1.2.0/24)",
            "r2-n2: fabric_ipv4 = '198.51.100.7': lies in anycast pool 198.51.100.0/24; infrastructure addresses must stay out of the anycast pools",
        ],
    ),
    case(
        "vip-is-infra",
        [setv("r2-n2", "fabric_vips", ["10.1.2.1"])],
        [
            "r2-n2: fabric_vips[0] = '10.1.2.1': is outside every anycast pool (fabric_anycast_pools: 198.51.100.0/24)",
            "r2-n2: fabric_vips[0] = '10.1.2.1': is the address of r2-tor (fabric_ipv4); a VIP cannot be an infrastructure address",
        ],
    ),
    case(
        "pod-default",
        [setv("r2-n2", "fabric_pod_cidrs", ["0.0.0.0/0"])],
        ["r2-n2: fabric_pod_cidrs[0] = '0.0.0.0/0': is a default route: a pod CIDR is the node's own pod addresses"],
    ),
    case(
        "pod-covers-infra",
        [setv("r2-n2", "fabric_pod_cidrs", ["10.1.0.0/16"])],
        ["r2-n2: fabric_pod_cidrs[0] = '10.1.0.0/16': covers 10.1.1.1, the address of r1-tor (fabric_ipv4); pod CIDRs must not cover infrastructure addresses"],
    ),
    case(
        "pool-default",
        [set_all("fabric_anycast_pools", ["0.0.0.0/0", "2001:db8:ac::/48"])],
        [
            "fabric: fabric_anycast_pools[0] = '0.0.0.0/0': is a default route: an anycast pool holds the VIPs, not every address",
            "r1-n1: fabric_vips[0].address = '198.51.100.53': is outside every anycast pool (fabric_anycast_pools: none of IPv4)",
            "r1-n2: fabric_vips[0].address = '198.51.100.53': is outside every anycast pool (fabric_anycast_pools: none of IPv4)",
            "r2-n1: fabric_vips[0].address = '198.51.100.80': is outside every anycast pool (fabric_anycast_pools: none of IPv4)",
            "r2-n2: fabric_vips[0] = '198.51.100.99': is outside every anycast pool (fabric_anycast_pools: none of IPv4)",
        ],
    ),
    case(
        "asn-huge-string",
        [setv("r1-tor", "fabric_asn", "9" * 5000)],
        [
            "r1-tor: fabric_asn = '999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999...(5000 characters)': must be an integer from 1 to 4294967294"  # noqa: E501
        ],
    ),
    case(
        "asn-huge-int",
        [setv("r1-tor", "fabric_asn", 10**5000)],
        ["r1-tor: fabric_asn = <an integer of 16610 bits>: must be an integer from 1 to 4294967294"],
    ),
    case(
        "asn-float",
        [setv("r1-tor", "fabric_asn", 65101.0)],
        ["r1-tor: fabric_asn = 65101.0: must be an integer from 1 to 4294967294"],
    ),
    case(
        "asn-negative-string",
        [setv("r1-tor", "fabric_asn", "-5")],
        ["r1-tor: fabric_asn = '-5': must be an integer from 1 to 4294967294"],
    ),
    case(
        "max-prefixes-huge",
        [bgp(max_prefixes="9" * 30)],
        ["fabric: fabric_bgp.max_prefixes = '999999999999999999999999999999': must be an integer from 1 to 4294967295"],
    ),
    case(
        "password-bytes",
        [bgp(password="é" * 41)],
        ["fabric: fabric_bgp.password = '<hidden>': must be 1-80 bytes (UTF-8) of printable characters without spaces, quotes or backslashes"],
    ),
    case(
        "communities-too-many",
        [setv("r2-n2", "fabric_vips", [{"address": "198.51.100.99", "communities": ["65000:%d" % i for i in range(65)]}])],
        [
            "r2-n2: fabric_vips[0].communities = '65 communities': at most 64 may be set on one VIP (FRR reads one command line of at most 4,096 characters and 256 words)"  # noqa: E501
        ],
    ),
    case(
        "upstream-secret-key",
        [set_upstream([dict(UP, password="hunter2")])],
        ["spine1: fabric_upstreams[0].password = '<hidden>': is not a known option (known: address, asn, import, local_address, max_prefixes, name)"],
    ),
    case(
        "upstream-local-clash",
        [set_upstream([dict(UP, local_address="10.0.0.11/24", address="10.0.0.99")])],
        ["spine1: fabric_upstreams[0].local_address = '10.0.0.11': is already used by r1-tor (fabric_uplink_ipv4); peering addresses must be unique"],
    ),
    case(
        "upstream-address-infra",
        [set_upstream([dict(UP, address="10.0.0.1", local_address="10.0.0.98/24")])],
        ["spine1: fabric_upstreams[0].address = '10.0.0.1': is the address of spine1 (fabric_ipv4): an upstream router is outside the fabric"],
    ),
    case(
        "upstream-address-zone",
        [set_upstream([dict(UP, address="fe80::1%eth0")])],
        [
            "spine1: fabric_upstreams[0].address = 'fe80::1%eth0': must be the upstream router's IP address; it has an IPv6 zone id ('%...'): zone ids are not allowed here"  # noqa: E501
        ],
    ),
    case(
        "upstream-mapped",
        [set_upstream([dict(UP, address="::ffff:192.0.2.1", local_address="::ffff:192.0.2.2/126")])],
        ["spine1: fabric_upstreams[0].address = '::ffff:192.0.2.1': cannot be used to peer: it is an IPv4-mapped IPv6 address: use the IPv4 address itself"],
    ),
    case(
        "aggregate-default",
        [setv("spine1", "fabric_pod_aggregates", ["0.0.0.0/0"])],
        ["spine1: fabric_pod_aggregates[0] = '0.0.0.0/0': is a default route: an aggregate must cover pod CIDRs, not everything"],
    ),
    case(
        "interface-slash",
        [setv("r2-n2", "fabric_vip_interface", "lo/x")],
        ["r2-n2: fabric_vip_interface = 'lo/x': " + IFACE_NAME],
    ),
    case(
        "vip-name-newline",
        [set_vip("r2-n1", 0, "name", "web\nx")],
        ["r2-n1: fabric_vips[0].name = 'web\\nx': must be a VIP name: 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"],
    ),
    case(
        "dict-key-newline",
        [set_vip("r2-n1", 0, "bad\nkey", 1)],
        [
            "r2-n1: fabric_vips[0].bad\\nkey = '<hidden>': is not a known option (known: address, communities, health, large_communities, med, name, prepend, sites, weight)"  # noqa: E501
        ],
    ),
    case(
        "per-site-huge-key",
        [set_vip("r2-n1", 0, "med", {10**5000: 1})],
        [
            "r2-n1: fabric_vips[0].med.<an integer of 16610 bits> = <an integer of 16610 bits>: must be a site name: 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"  # noqa: E501
        ],
    ),
]


@pytest.mark.parametrize("edits, expected", CASES)
def test_invalid_inventory(edits, expected):
    intents, messages = build(*mutated(*edits))
    assert messages == expected
    assert intents == {}


def test_table_is_large_enough():
    assert len(CASES) >= 35
    assert len({p.id for p in CASES}) == len(CASES)


# Secrets ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "edits, expected",
    [
        case("bad-password", [bgp(password="s3cret key")], [("fabric", "fabric_bgp.password", BAD_PASSWORD)]),
        case(
            "bgp-differs",
            [setv("r2-n2", "fabric_bgp", {"password": "other-md5-key"})],
            [("r2-n2", "fabric_bgp", "differs from its value on r1-n1; " + SAME_EVERYWHERE)],
        ),
        case(
            "misspelled-password-key",
            [set_all("fabric_bgp", {"passwd": SECRET})],
            [("fabric", "fabric_bgp.passwd", "is not a known option (known: %s)" % BGP_KEYS)],
        ),
        case(
            "bgp-written-as-list",
            [set_all("fabric_bgp", [{"password": SECRET}])],
            [("fabric", "fabric_bgp", "must be a mapping")],
        ),
    ],
)
def test_secrets_never_appear(edits, expected):
    """Whatever is wrong around fabric_bgp, no message may contain a password."""
    problems = model.build(*mutated(*edits))[1]
    assert [(p.host, p.path, p.message) for p in problems] == expected
    for line in problems.messages():
        for secret in (SECRET, "s3cret key", "other-md5-key"):
            assert secret not in line


# All mistakes at once, in a stable order --------------------------------------------

MANY_MISTAKES = [
    also_in("fabric_spines", "r1-n1"),
    bgp(hold_time=2),
    unset("r1-n2", "fabric_ipv4"),
    setv("r2-tor", "fabric_asn", "sixty-five"),
    setv("spine1", "fabric_daemon", "bird"),
    setv("r2-n2", "fabric_vips", ["203.0.113.9"]),
    append("r2-n1", "fabric_pod_cidrs", "10.244.1.0/24"),
]


def test_every_mistake_is_reported_in_one_run():
    intents, messages = build(*mutated(*MANY_MISTAKES))
    assert intents == {}
    # Group membership first, then fabric-wide variables, then each host's own
    # variables by host name, then the checks across hosts.
    assert messages == [
        "r1-n1: groups = ['fabric_nodes', 'fabric_spines']: " + ONE_ROLE,
        "fabric: fabric_bgp.hold_time = 2: must be an integer from 3 to 65535 seconds",
        "r1-n2: fabric_ipv4 = null: is required: the IPv4 address this host peers from",
        "r2-tor: fabric_asn = 'sixty-five': " + INT_ASN,
        "spine1: fabric_daemon = 'bird': must be one of: frr, external",
        "r2-n2: fabric_vips[0] = '203.0.113.9': is outside every anycast pool (fabric_anycast_pools: 198.51.100.0/24)",
        "r2-n1: fabric_pod_cidrs[1] = '10.244.1.0/24': overlaps a pod CIDR of r1-n1 (10.244.1.0/24); every node owns its pod CIDRs alone",
    ]


def reversed_inventory(hostvars, groups):
    """The same inventory with every host and group listed in the opposite order."""
    return dict(reversed(list(hostvars.items()))), {group: list(reversed(members)) for group, members in reversed(list(groups.items()))}


def test_problems_come_in_a_deterministic_order():
    first = build(*mutated(*MANY_MISTAKES))[1]
    second = build(*mutated(*MANY_MISTAKES))[1]
    assert first == second
    # Inventory order (dict insertion, group listing) must not matter either.
    assert build(*reversed_inventory(*mutated(*MANY_MISTAKES)))[1] == first
