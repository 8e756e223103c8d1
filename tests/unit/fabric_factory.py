# -*- coding: utf-8 -*-
"""Small valid fabrics for tests, as the (hostvars, groups) pair model.build() takes."""

from __future__ import annotations

import copy

POOLS = ["198.51.100.0/24", "2001:db8:ac::/48"]


def small_fabric(**fabric_overrides):
    """One site, one spine, two racks of one ToR and two nodes; rack r2 is dual stack."""
    fabric = {"fabric_anycast_pools": list(POOLS), "fabric_bgp": {"password": "s3cret-md5"}}
    fabric.update(fabric_overrides)
    hosts = {
        "spine1": {"fabric_asn": 65000, "fabric_ipv4": "10.0.0.1/24", "fabric_ipv6": "2001:db8::1/64"},
        "tor1": {"fabric_rack": "r1", "fabric_asn": 65101, "fabric_ipv4": "10.1.1.1/24", "fabric_uplink_ipv4": "10.0.0.11/24"},
        "tor2": {
            "fabric_rack": "r2",
            "fabric_asn": 65102,
            "fabric_ipv4": "10.1.2.1/24",
            "fabric_ipv6": "2001:db8:2::1/64",
            "fabric_uplink_ipv4": "10.0.0.12/24",
            "fabric_uplink_ipv6": "2001:db8::12/64",
        },
        "n1": {"fabric_rack": "r1", "fabric_ipv4": "10.1.1.11/24", "fabric_vips": ["198.51.100.10"], "fabric_pod_cidrs": ["10.244.1.0/24"]},
        "n2": {
            "fabric_rack": "r1",
            "fabric_ipv4": "10.1.1.12/24",
            "fabric_daemon": "frr",
            "fabric_vips": ["198.51.100.10", {"address": "198.51.100.11", "name": "web", "communities": ["65000:80"]}],
        },
        "n3": {
            "fabric_rack": "r2",
            "fabric_ipv4": "10.1.2.11/24",
            "fabric_ipv6": "2001:db8:2::11/64",
            "fabric_vips": ["198.51.100.10", "2001:db8:ac::10"],
            "fabric_pod_cidrs": ["10.244.3.0/24", "fd00:244:3::/64"],
        },
        "n4": {
            "fabric_rack": "r2",
            "fabric_ipv4": "10.1.2.12/24",
            "fabric_ipv6": "2001:db8:2::12/64",
            "fabric_daemon": "frr",
            "fabric_vips": ["198.51.100.10", "2001:db8:ac::10"],
        },
    }
    for variables in hosts.values():
        variables.update(copy.deepcopy(fabric))
    groups = {"fabric_spines": ["spine1"], "fabric_tors": ["tor1", "tor2"], "fabric_nodes": ["n1", "n2", "n3", "n4"]}
    return hosts, groups


def set_fabric(hosts, name, value):
    """Set a fabric-wide variable the way group_vars/all would: on every host."""
    for variables in hosts.values():
        variables[name] = copy.deepcopy(value)


def two_sites(**fabric_overrides):
    """Sites a and b, each a spine with one upstream, one ToR and two nodes.

    VIP .80 is global, .81 only in site a; site b's edge prepends .80 twice
    (an active/standby design) and both sites aggregate their pod CIDRs.
    """
    fabric = {"fabric_anycast_pools": list(POOLS), "fabric_bgp": {"password": "s3cret-md5"}}
    fabric.update(fabric_overrides)
    vips = [
        {"address": "198.51.100.80", "name": "web", "prepend": {"b": 2}},
        {"address": "198.51.100.81", "name": "admin", "sites": ["a"]},
    ]
    hosts = {}
    for index, site in enumerate(("a", "b"), start=1):
        hosts["spine-%s" % site] = {
            "fabric_site": site,
            "fabric_asn": 65000 + 10 * index,
            "fabric_ipv4": "10.%d.0.2/24" % (90 + index),
            "fabric_upstreams": [
                {
                    "name": "transit-%s" % site,
                    "address": "10.93.%d.3" % index,
                    "asn": 64600 + index,
                    "local_address": "10.93.%d.2/24" % index,
                    "import": "default",
                }
            ],
            "fabric_site_community": "65000:%d" % index,
            "fabric_pod_aggregates": ["10.244.%d.0/21" % (8 * (index + 1))],
        }
        hosts["tor-%s" % site] = {
            "fabric_site": site,
            "fabric_rack": "r1",
            "fabric_asn": 65100 + 10 * index,
            "fabric_ipv4": "10.%d.1.2/24" % (90 + index),
            "fabric_uplink_ipv4": "10.%d.0.11/24" % (90 + index),
        }
        for n in (1, 2):
            hosts["%s%d" % (site, n)] = {
                "fabric_site": site,
                "fabric_rack": "r1",
                "fabric_ipv4": "10.%d.1.1%d/24" % (90 + index, n),
                "fabric_vips": copy.deepcopy(vips),
                "fabric_pod_cidrs": ["10.244.%d.0/24" % (8 * (index + 1) + n - 1)],
            }
    for variables in hosts.values():
        variables.update(copy.deepcopy(fabric))
    groups = {"fabric_spines": ["spine-a", "spine-b"], "fabric_tors": ["tor-a", "tor-b"], "fabric_nodes": ["a1", "a2", "b1", "b2"]}
    return hosts, groups
