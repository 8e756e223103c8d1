# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile and careless inventories (issue 12), table-driven.

Every case is an inventory built on fabric_factory with one hostile or careless
value. It must be refused cleanly or rendered faithfully (see hostile_harness):

- `refuse`: the issue demands a refusal (addresses, numbers, secrets, paths);
  the refusal must name the host and the variable path given in the case;
- `render`: a valid inventory at an edge (a 240-character FQDN, the largest
  ASN...): it must render, pass the daemons' parsers and mean what it says;
- `either`: names. Refusing is fine; rendering is fine if no statement of
  any config differs from the same fabric with plain names.

A failing case prints which case, which host, and which statement differs.
"""

from __future__ import annotations

import copy
import ipaddress
import re

import pytest

from fabric_factory import set_fabric, small_fabric, two_sites
from hostile_harness import PASSWORD, Scenario, build, host_name_failures, judge, names, refusal_failures
from config_statements import FRR_LINE_BYTES, FRR_MAX_WORDS, frr_route_map_entries, show

FRR_MAX_PREFIX = 4294967295  # `neighbor X maximum-prefix (1-4294967295)`
SECRET = "Upstream-Secret-42"


# Building hostile fabrics ------------------------------------------------------


def small(**fabric):
    return small_fabric(**fabric)


def small_per_node(**fabric):
    # Site and rack names feed the per_rack ASN derivation; with per_node the
    # hostile and the plain fabric have the same ASNs.
    return small_fabric(fabric_node_asn_scheme="per_node", **fabric)


def sites_per_node(**fabric):
    return two_sites(fabric_node_asn_scheme="per_node", **fabric)


def rename_hosts(fabric, mapping):
    """The fabric with hosts renamed (all at once: {'n1': 'N1', 'n2': 'n1'} works)."""
    hosts, groups = fabric
    return ({mapping.get(n, n): v for n, v in hosts.items()}, {g: [mapping.get(n, n) for n in members] for g, members in groups.items()})


def set_host(fabric, host, **variables):
    fabric[0][host].update(copy.deepcopy(variables))
    return fabric


def set_everywhere(fabric, name, value):
    set_fabric(fabric[0], name, value)
    return fabric


def bgp(fabric, **settings):
    """fabric_bgp with SETTINGS over the factory's (password kept)."""
    value = dict(fabric[0][next(iter(fabric[0]))]["fabric_bgp"], **settings)
    return set_everywhere(fabric, "fabric_bgp", value)


def rename_site(fabric, old, new):
    hosts, _groups = fabric
    for variables in hosts.values():
        if variables.get("fabric_site", "default") == old:
            variables["fabric_site"] = new
        for vip in variables.get("fabric_vips") or []:
            if isinstance(vip, dict):
                if vip.get("sites"):
                    vip["sites"] = [new if s == old else s for s in vip["sites"]]
                for key in ("prepend", "med"):
                    if isinstance(vip.get(key), dict):
                        vip[key] = {(new if s == old else s): v for s, v in vip[key].items()}
    return fabric


def rename_rack(fabric, old, new):
    for variables in fabric[0].values():
        if variables.get("fabric_rack") == old:
            variables["fabric_rack"] = new
    return fabric


def upstream(fabric, host="spine-a", index=0, **fields):
    fabric[0][host]["fabric_upstreams"][index].update(copy.deepcopy(fields))
    return fabric


def with_upstream(fabric):
    """small_fabric plus one upstream on spine1."""
    fabric[0]["spine1"]["fabric_upstreams"] = [{"name": "transit1", "address": "10.93.1.3", "asn": 64601, "local_address": "10.93.1.2/24"}]
    return fabric


def vip_on(fabric, hosts, vip):
    for host in hosts:
        fabric[0][host].setdefault("fabric_vips", []).append(copy.deepcopy(vip))
    return fabric


# Scenario makers ---------------------------------------------------------------


def host_renamed(base, old, new):
    """Hosts renamed to hostile names; compared with the base fabric."""
    mapping = dict(zip(old, new)) if isinstance(old, tuple) else {old: new}
    return lambda: Scenario(hostile=rename_hosts(base(), mapping), plain=base(), host_map={v: k for k, v in mapping.items()})


def site_renamed(new, old="a"):
    return lambda: Scenario(hostile=rename_site(sites_per_node(), old, new), plain=sites_per_node())


def rack_renamed(new, old="r1"):
    return lambda: Scenario(hostile=rename_rack(small_per_node(), old, new), plain=small_per_node())


PLAIN_IFACE = "vipplain0"


def iface(new):
    """fabric_vip_interface on every node: the name is used verbatim, so the plain render gets it substituted."""

    def make():
        hostile = small()
        plain = small()
        for name in hostile[1]["fabric_nodes"]:
            set_host(hostile, name, fabric_vip_interface=new)
            set_host(plain, name, fabric_vip_interface=PLAIN_IFACE)
        return Scenario(hostile=hostile, plain=plain, substitutions={PLAIN_IFACE: new} if isinstance(new, str) else {})

    return make


def vip_named(new):
    def make():
        hostile, plain = small(), small()
        hostile[0]["n2"]["fabric_vips"][1]["name"] = new
        return Scenario(hostile=hostile, plain=plain)

    return make


def upstream_named(new):
    return lambda: Scenario(hostile=upstream(two_sites(), name=new), plain=two_sites())


def variant(base, secrets=(), password=PASSWORD, check=None, check_intents=None, **edits):
    """base() with edits: host=dict of variables, or a callable(fabric) under key `apply`."""

    def make():
        fabric = base()
        apply = edits.get("apply")
        if apply:
            result = apply(fabric)
            fabric = result if isinstance(result, tuple) else fabric
        for host, variables in edits.items():
            if host != "apply":
                set_host(fabric, host, **variables)
        return Scenario(hostile=fabric, secrets=tuple(secrets), password=password, check=check, check_intents=check_intents)

    return make


# Extra checks of rendered texts -----------------------------------------------------


def max_prefix_within_frr(texts):
    failures = []
    for host, rendered in texts.items():
        for value in re.findall(r"maximum-prefix (\S+)", rendered.text):
            if not value.isdigit() or not 1 <= int(value) <= FRR_MAX_PREFIX:
                failures.append("%s: maximum-prefix %s is outside FRR's 1-%d (derived limit not clamped)" % (host, value, FRR_MAX_PREFIX))
    return failures


def communities_kept(address, communities, large=False, nodes=("n1", "n2")):
    """Every asked community is set on the VIP by the NODES announcing it, in one `set` per route-map entry (FRR keeps only the last)."""
    keyword = "large-community" if large else "community"

    def check(texts):
        failures = []
        for host, rendered in texts.items():
            if host not in nodes:
                continue
            if rendered.daemon == "frr" and address in rendered.text:
                seen = set()
                by_map = {}
                for (name, seq), body in frr_route_map_entries(rendered.text).items():
                    sets = [t for t in body if t[:2] == ("set", keyword)]
                    if len(sets) > 1:
                        failures.append("%s: route-map %s %s has %d `set %s` lines; FRR keeps only the last one" % (host, name, seq, len(sets), keyword))
                    for tokens in sets:
                        seen.update(tokens[2:])
                        if "additive" not in tokens:
                            failures.append("%s: route-map %s %s: `set %s` without additive replaces what was set before" % (host, name, seq, keyword))
                    if sets:
                        by_map.setdefault(name, []).append((int(seq), body))
                    for tokens in body:
                        if len(tokens) > FRR_MAX_WORDS:
                            failures.append("%s: route-map %s %s has a %d-word line (FRR: at most %d)" % (host, name, seq, len(tokens), FRR_MAX_WORDS))
                # Communities split over several entries of one route-map only
                # add up if every entry but the last goes on to the next one.
                for name, entries in by_map.items():
                    for seq, body in sorted(entries)[:-1]:
                        if not any(t[:2] == ("on-match", "next") or t[:1] == ("continue",) for t in body):
                            failures.append(
                                "%s: route-map %s %d sets communities but neither `on-match next` nor `continue` follows: later entries never run"
                                % (host, name, seq)
                            )
                missing = [c for c in communities if c not in seen]
                if missing:
                    failures.append("%s: %d of the VIP's %d communities are never set (first: %s)" % (host, len(missing), len(communities), missing[0]))
                long_lines = [n for n, line in enumerate(rendered.text.split("\n"), 1) if len(line.encode()) > FRR_LINE_BYTES]
                if long_lines:
                    failures.append("%s: lines %s are longer than FRR's %d bytes" % (host, long_lines[:5], FRR_LINE_BYTES))
            if rendered.daemon == "bird" and address in rendered.text:
                found = set(
                    re.findall(r"bgp_large_community\.add\(\((\d+),(\d+),(\d+)\)\)" if large else r"bgp_community\.add\(\((\d+),(\d+)\)\)", rendered.text)
                )
                missing = [c for c in communities if tuple(c.split(":")) not in found]
                if missing:
                    failures.append("%s: %d communities missing from the BIRD filter (first: %s)" % (host, len(missing), missing[0]))
        return failures

    return check


def health_path_kept(texts_or_intents):
    """A health path that is accepted goes verbatim into an HTTP request line: printable ASCII, no spaces."""
    failures = []
    for host, intent in texts_or_intents.items():
        for vip in intent.vips:
            for check in (vip.health or {}).get("checks", []):
                path = check.get("path")
                if path is not None and not re.fullmatch(r"/[\x21-\x7e]*", path):
                    failures.append("%s: health path %s accepted: it would split or corrupt the HTTP request line" % (host, show(path)))
                target = check.get("host")
                if target is not None and not re.fullmatch(r"[0-9A-Fa-f.:%a-zA-Z_-]+", str(target)):
                    failures.append("%s: health host %s accepted" % (host, show(str(target))))
    return failures


def health_vip(check):
    return {"address": "198.51.100.20", "name": "checked", "health": {"checks": [check]}}


def many(count, large=False):
    if large:
        return ["4200000000:%d:%d" % (i, 4294967295 - i) for i in range(count)]
    return ["65000:%d" % (10000 + i) for i in range(count)]


FQDN_TAIL = ".rack-r1.row-17.hall-b.ams.dc.example-corporation-infrastructure.net"


def fqdn(stem, length=240):
    """A real-looking FQDN of LENGTH characters (labels of at most 63)."""
    body = stem + FQDN_TAIL
    labels = []
    filler = length - len(body) - 1
    while filler > 0:
        size = min(filler, 60)
        labels.append("x" * size)
        filler -= size + 1
    name = ".".join([stem] + labels) + FQDN_TAIL
    return name[:length] if len(name) > length else name


FQDN_A, FQDN_B = fqdn("node-a", 240), fqdn("node-b", 240)
# Two names sharing their first 239 characters: a truncated identifier would merge them.
TWIN_A = "n" * 60 + "." + "m" * 60 + "." + "k" * 60 + "." + "j" * 56 + "1"
TWIN_B = TWIN_A[:-1] + "2"

# The cases -----------------------------------------------------------------------
# (id, scenario maker, expect, blame) -- blame: ((host or None, path prefix), ...)

CASES = [
    # Host names: BIRD description strings, FRR lines, identifiers.
    ("host-quote-closes-bird-description", host_renamed(small, "tor1", 'tor1"; password "evil"; hold time 3; description "x'), "either", ()),
    ("host-plain-quote", host_renamed(small, "tor1", 'tor"1'), "either", ()),
    ("host-backslash", host_renamed(small, "tor1", "tor\\1"), "either", ()),
    ("host-trailing-backslash", host_renamed(small, "tor1", "tor1\\"), "either", ()),
    ("host-newline-frr-commands", host_renamed(small, "tor1", "tor1\n neighbor 10.1.1.12 password evil"), "either", ()),
    ("host-newline-node", host_renamed(small, "n2", "n2\nrouter bgp 1\n neighbor 10.9.9.9 remote-as 1"), "either", ()),
    ("host-trailing-newline", host_renamed(small, "n1", "n1\n"), "either", ()),
    ("host-carriage-return", host_renamed(small, "tor1", "tor1\rhostname evil"), "either", ()),
    ("host-tab", host_renamed(small, "tor1", "tor\t1"), "either", ()),
    ("host-nul", host_renamed(small, "n2", "n2\x00x"), "either", ()),
    ("host-escape-sequence", host_renamed(small, "tor1", "\x1b[31mtor1\x1b[0m"), "either", ()),
    ("host-vertical-tab-formfeed", host_renamed(small, "tor1", "tor\x0b1\x0c"), "either", ()),
    ("host-del-and-c1", host_renamed(small, "n1", "n1\x7f\x85\x9b"), "either", ()),
    ("host-unicode-line-separators", host_renamed(small, "n2", "n2\u2028neighbor\u2029x"), "either", ()),
    ("host-latin-accent", host_renamed(small, "tor1", "tör1"), "either", ()),
    ("host-rtl-override", host_renamed(small, "tor1", "tor\u202e1rot"), "either", ()),
    ("host-zero-width", host_renamed(small, ("n1", "n2"), ("n\u200b1", "n1")), "either", ()),
    ("host-bom", host_renamed(small, "n1", "\ufeffn1"), "either", ()),
    ("host-homoglyphs-same-rack", host_renamed(small, ("n1", "n2"), ("n\u043e1", "nö1")), "either", ()),
    ("host-cyrillic-tor", host_renamed(small, "tor1", "т\u043er1"), "either", ()),
    ("host-punctuation-only-differs", host_renamed(small, ("n1", "n2"), ("n-1", "n_1")), "either", ()),
    ("host-dot-vs-dash", host_renamed(small, ("n1", "n2"), ("n.1", "n-1")), "either", ()),
    ("host-case-only-differs", host_renamed(small, ("n1", "n2"), ("N1", "n1")), "either", ()),
    ("host-bird-punctuation", host_renamed(small, "tor1", "tor1;{}#/*x*/"), "either", ()),
    ("host-frr-comment-chars", host_renamed(small, "tor1", "! tor1 # x"), "either", ()),
    ("host-spaces", host_renamed(small, "tor1", "tor 1"), "either", ()),
    ("host-single-quote-dollar-backtick", host_renamed(small, "n2", "n2'$(id)`x`"), "either", ()),
    ("host-template-syntax", host_renamed(small, "n2", "{{ 7*7 }}{% raw %}"), "either", ()),
    ("host-keyword-names", host_renamed(small, ("n1", "n2", "tor1"), ("protocol", "exit", "router")), "either", ()),
    ("host-fixed-name-lookalikes", host_renamed(small, ("n1", "n2", "tor1"), ("DENY-ALL", "NODES-V4", "tor_session")), "either", ()),
    ("host-leading-digit-dash-underscore", host_renamed(small, ("n1", "n2", "tor1"), ("1n", "-n", "_t")), "either", ()),
    ("host-empty-name", host_renamed(small, "n1", ""), "either", ()),
    ("host-lone-surrogate", host_renamed(small, "n1", "n\udcff1"), "either", ()),
    ("host-not-a-string", host_renamed(small, "n1", 5), "either", ()),
    ("host-trailing-dot", host_renamed(small, "n1", "n1."), "either", ()),
    ("host-long-fqdn-node", host_renamed(small, ("n1", "n2"), (FQDN_A, FQDN_B)), "render", ()),
    ("host-long-fqdn-tor-and-spine", host_renamed(small, ("tor1", "spine1"), (fqdn("tor1"), fqdn("spine1", 253))), "render", ()),
    ("host-long-fqdns-differing-at-the-end", host_renamed(small, ("n1", "n2"), (TWIN_A, TWIN_B)), "render", ()),
    ("host-longer-than-dns", host_renamed(small, "n1", "n" * 300), "either", ()),
    ("host-4000-chars", host_renamed(small, "tor1", "t" * 4000), "either", ()),
    # Site and rack names (comments, ASN derivation, scopes).
    ("site-trailing-newline", site_renamed("a\n"), "either", ()),
    ("site-newline-statement", site_renamed("a\nprotocol static evil { ipv4; route 0.0.0.0/0 unreachable; }"), "either", ()),
    ("site-quote", site_renamed('a"b'), "either", ()),
    ("site-unicode", site_renamed("ämsterdam"), "either", ()),
    ("site-dotdot", site_renamed(".."), "either", ()),
    ("rack-trailing-newline", rack_renamed("r1\n"), "either", ()),
    ("rack-newline-frr-command", rack_renamed("r1\n neighbor 10.1.1.11 password evil"), "either", ()),
    ("rack-trailing-space", rack_renamed("r1 "), "either", ()),
    ("rack-huge-integer", variant(small, tor1={"fabric_rack": 10**5000}, n1={"fabric_rack": 10**5000}, n2={"fabric_rack": 10**5000}), "either", ()),
    # Interface names (used verbatim: BIRD interface "...", FRR match interface).
    ("iface-trailing-newline", iface("lo\n"), "either", ()),
    ("iface-quote", iface('lo"; interface "*'), "either", ()),
    ("iface-glob-matches-everything", iface("*"), "refuse", ((None, "fabric_vip_interface"),)),
    ("iface-glob-suffix", iface("eth*"), "refuse", ((None, "fabric_vip_interface"),)),
    ("iface-space", iface("lo x"), "either", ()),
    ("iface-too-long", iface("a" * 16), "refuse", ((None, "fabric_vip_interface"),)),
    ("iface-vlan-valid", iface("eth0.100"), "render", ()),
    ("iface-dotdot", iface(".."), "either", ()),
    ("iface-not-a-string", iface(["lo"]), "refuse", ((None, "fabric_vip_interface"),)),
    # VIP and upstream names.
    ("vip-name-newline", vip_named("web\n}"), "either", ()),
    ("vip-name-quote", vip_named('web"; x'), "either", ()),
    ("vip-name-long", vip_named("w" * 300), "either", ()),
    ("upstream-name-quote", upstream_named('transit"; password "x'), "either", ()),
    ("upstream-name-newline", upstream_named("transit\nneighbor 10.93.1.3 password x"), "either", ()),
    ("upstream-name-long-fqdn", upstream_named(fqdn("transit", 240)), "either", ()),
    ("upstream-name-equals-a-peer", upstream_named("tor-a"), "either", ()),
    # Health checks (rendered into the agent's JSON, an HTTP request line).
    (
        "health-path-newline",
        variant(small, apply=lambda f: vip_on(f, ["n1"], health_vip({"type": "http", "path": "/healthz\r\nHost: evil"})), check_intents=health_path_kept),
        "refuse",
        (("n1", "fabric_vips[1].health"),),
    ),
    (
        "health-path-trailing-newline",
        variant(small, apply=lambda f: vip_on(f, ["n1"], health_vip({"type": "http", "path": "/healthz\n"})), check_intents=health_path_kept),
        "refuse",
        (("n1", "fabric_vips[1].health"),),
    ),
    (
        "health-path-space",
        variant(small, apply=lambda f: vip_on(f, ["n1"], health_vip({"type": "http", "path": "/a b HTTP/1.0"})), check_intents=health_path_kept),
        "refuse",
        (("n1", "fabric_vips[1].health"),),
    ),
    (
        "health-host-trailing-newline",
        variant(small, apply=lambda f: vip_on(f, ["n1"], health_vip({"type": "tcp", "port": 80, "host": "127.0.0.1\n"})), check_intents=health_path_kept),
        "refuse",
        (("n1", "fabric_vips[1].health"),),
    ),
    (
        "health-port-huge-digits",
        variant(small, apply=lambda f: vip_on(f, ["n1"], health_vip({"type": "tcp", "port": "9" * 5000}))),
        "refuse",
        (("n1", "fabric_vips[1].health"),),
    ),
    # Addresses.
    ("addr-zone-id-percent-25", variant(small, n3={"fabric_ipv6": "2001:db8:2::11%25x/64"}), "refuse", (("n3", "fabric_ipv6"),)),
    ("addr-zone-id-link-local", variant(small, n3={"fabric_ipv6": "fe80::11%eth0/64"}), "refuse", (("n3", "fabric_ipv6"),)),
    (
        "addr-zone-id-in-vip",
        variant(small, n3={"fabric_vips": ["198.51.100.10", "2001:db8:ac::10%eth0"]}, n4={"fabric_vips": ["198.51.100.10", "2001:db8:ac::10%eth0"]}),
        "refuse",
        (("n3", "fabric_vips[1]"), ("n4", "fabric_vips[1]")),
    ),
    (
        "addr-zone-id-in-pod-cidr",
        variant(small, n3={"fabric_pod_cidrs": ["10.244.3.0/24", "fd00:244:3::%eth0/64"]}),
        "refuse",
        (("n3", "fabric_pod_cidrs[1]"),),
    ),
    (
        "addr-zone-id-upstream",
        variant(two_sites, apply=lambda f: upstream(f, address="2001:db8:93::3%eth1", local_address="2001:db8:93::2/64")),
        "refuse",
        (("spine-a", "fabric_upstreams[0]"),),
    ),
    (
        "addr-ipv4-mapped-peering",
        variant(
            small,
            tor2={"fabric_ipv6": "::ffff:10.1.2.1/120"},
            n3={"fabric_ipv6": "::ffff:10.1.2.11/120", "fabric_pod_cidrs": ["10.244.3.0/24"], "fabric_vips": ["198.51.100.10"]},
            n4={"fabric_ipv6": "::ffff:10.1.2.12/120", "fabric_vips": ["198.51.100.10"]},
            apply=lambda f: set_host(f, "tor2", fabric_uplink_ipv6=None),
        ),
        "refuse",
        (("tor2", "fabric_ipv6"), ("n3", "fabric_ipv6"), ("n4", "fabric_ipv6")),
    ),
    (
        "addr-ipv4-mapped-upstream",
        variant(two_sites, apply=lambda f: upstream(f, address="::ffff:10.93.1.3", local_address="::ffff:10.93.1.2/120")),
        "refuse",
        (("spine-a", "fabric_upstreams[0]"),),
    ),
    ("addr-broadcast-of-the-segment", variant(small, n1={"fabric_ipv4": "10.1.1.255"}), "refuse", (("n1", "fabric_ipv4"),)),
    (
        "addr-limited-broadcast-upstream",
        variant(two_sites, apply=lambda f: upstream(f, address="255.255.255.255", local_address="255.255.255.254/31")),
        "refuse",
        (("spine-a", "fabric_upstreams[0]"),),
    ),
    ("addr-multicast-peering", variant(small, n1={"fabric_ipv4": "224.0.0.5/24"}), "refuse", (("n1", "fabric_ipv4"),)),
    (
        "addr-multicast-upstream",
        variant(two_sites, apply=lambda f: upstream(f, address="ff02::5", local_address="2001:db8:93::2/64")),
        "refuse",
        (("spine-a", "fabric_upstreams[0]"),),
    ),
    (
        "addr-unspecified-upstream",
        variant(two_sites, apply=lambda f: upstream(f, address="0.0.0.0", local_address="0.0.0.1/24")),
        "refuse",
        (("spine-a", "fabric_upstreams[0]"),),
    ),
    (
        "addr-loopback-upstream",
        variant(two_sites, apply=lambda f: upstream(f, address="::1", local_address="::2/126")),
        "refuse",
        (("spine-a", "fabric_upstreams[0]"),),
    ),
    ("addr-loopback-peering", variant(small, tor1={"fabric_uplink_ipv4": "127.0.0.11/8"}), "refuse", (("tor1", "fabric_uplink_ipv4"),)),
    (
        "addr-peering-equals-a-vip",
        variant(
            small,
            apply=lambda f: set_everywhere(f, "fabric_anycast_pools", ["198.51.100.0/24", "2001:db8:ac::/48", "10.1.1.11/32"]),
            n2={"fabric_vips": ["198.51.100.10", "10.1.1.11"]},
        ),
        "refuse",
        (("n1", "fabric_ipv4"), ("n2", "fabric_vips[1]"), (None, "fabric_anycast_pools[2]")),
    ),
    (
        "addr-peering-inside-a-pool",
        variant(small, apply=lambda f: set_everywhere(f, "fabric_anycast_pools", ["198.51.100.0/24", "2001:db8:ac::/48", "10.0.0.0/28"])),
        "refuse",
        (("spine1", "fabric_ipv4"), ("tor1", "fabric_uplink_ipv4"), ("tor2", "fabric_uplink_ipv4"), (None, "fabric_anycast_pools[2]")),
    ),
    (
        "addr-vip-equals-upstream-address",
        variant(two_sites, apply=lambda f: upstream(f, address="198.51.100.80", local_address="198.51.100.2/24")),
        "refuse",
        (("spine-a", "fabric_upstreams[0]"), (None, "fabric_vips[0]")),
    ),
    ("addr-vip-equals-router-id", variant(small, tor1={"fabric_router_id": "198.51.100.10"}), "either", ()),
    ("addr-pod-default-route-v4", variant(small, n1={"fabric_pod_cidrs": ["0.0.0.0/0"]}), "refuse", (("n1", "fabric_pod_cidrs[0]"),)),
    (
        "addr-pod-default-route-v6-no-v6-pool",
        variant(
            small,
            apply=lambda f: set_everywhere(f, "fabric_anycast_pools", ["198.51.100.0/24"]),
            n3={"fabric_vips": ["198.51.100.10"], "fabric_pod_cidrs": ["10.244.3.0/24", "::/0"]},
            n4={"fabric_vips": ["198.51.100.10"]},
        ),
        "refuse",
        (("n3", "fabric_pod_cidrs[1]"),),
    ),
    ("addr-pod-covers-infrastructure", variant(small, n1={"fabric_pod_cidrs": ["10.0.0.0/8"]}), "refuse", (("n1", "fabric_pod_cidrs[0]"),)),
    ("addr-pod-is-the-rack-segment", variant(small, n1={"fabric_pod_cidrs": ["10.1.1.0/24"]}), "refuse", (("n1", "fabric_pod_cidrs[0]"),)),
    ("addr-pod-covers-a-pool", variant(small, n1={"fabric_pod_cidrs": ["198.51.0.0/16"]}), "refuse", (("n1", "fabric_pod_cidrs[0]"),)),
    (
        "addr-upstream-local-is-a-tor-address",
        variant(two_sites, apply=lambda f: upstream(f, address="10.91.0.50", local_address="10.91.0.11/24")),
        "refuse",
        (("spine-a", "fabric_upstreams[0].local_address"), ("tor-a", "fabric_uplink_ipv4")),
    ),
    (
        "addr-upstream-local-is-another-upstreams",
        variant(two_sites, apply=lambda f: upstream(f, host="spine-b", address="10.93.1.4", local_address="10.93.1.2/24")),
        "refuse",
        (("spine-b", "fabric_upstreams[0].local_address"), ("spine-a", "fabric_upstreams[0].local_address")),
    ),
    (
        "addr-upstream-address-is-a-tor-address",
        variant(two_sites, apply=lambda f: upstream(f, address="10.91.0.11", local_address="10.91.0.2/24")),
        "refuse",
        (("spine-a", "fabric_upstreams[0]"), ("tor-a", "fabric_uplink_ipv4")),
    ),
    (
        "addr-upstream-local-is-own-fabric-address",
        variant(two_sites, apply=lambda f: upstream(f, address="10.91.0.50", local_address="10.91.0.2/24")),
        "refuse",
        (("spine-a", "fabric_upstreams[0]"), ("spine-a", "fabric_ipv4")),
    ),
    (
        "addr-upstream-local-inside-a-pool",
        variant(two_sites, apply=lambda f: upstream(f, address="198.51.100.3", local_address="198.51.100.2/24")),
        "refuse",
        (("spine-a", "fabric_upstreams[0]"),),
    ),
    ("addr-pod-ipv4-mapped", variant(small, n3={"fabric_pod_cidrs": ["10.244.3.0/24", "::ffff:10.244.0.0/120"]}), "either", ((None, "fabric_pod_cidrs[1]"),)),
    (
        "addr-two-upstreams-same-address",
        variant(
            two_sites,
            apply=lambda f: f[0]["spine-a"]["fabric_upstreams"].append(
                {"name": "transit-a2", "address": "10.93.1.3", "asn": 64611, "local_address": "10.93.1.5/24"}
            ),
        ),
        "refuse",
        (("spine-a", "fabric_upstreams[1]"), ("spine-a", "fabric_upstreams[0]")),
    ),
    ("addr-trailing-newline", variant(small, n1={"fabric_ipv4": "10.1.1.11/24\n"}), "refuse", (("n1", "fabric_ipv4"),)),
    ("addr-newline-statement", variant(small, n1={"fabric_ipv4": "10.1.1.11/24\nneighbor 10.9.9.9 remote-as 1"}), "refuse", (("n1", "fabric_ipv4"),)),
    (
        "addr-vip-trailing-newline",
        variant(small, n2={"fabric_vips": ["198.51.100.10\n", {"address": "198.51.100.11", "name": "web", "communities": ["65000:80"]}]}),
        "refuse",
        (("n2", "fabric_vips[0]"),),
    ),
    (
        "addr-pool-default-route",
        variant(small, apply=lambda f: set_everywhere(f, "fabric_anycast_pools", ["0.0.0.0/0", "2001:db8:ac::/48"])),
        "refuse",
        ((None, "fabric_anycast_pools[0]"),),
    ),
    (
        "addr-pool-v6-default-route",
        variant(small, apply=lambda f: set_everywhere(f, "fabric_anycast_pools", ["198.51.100.0/24", "::/0"])),
        "refuse",
        ((None, "fabric_anycast_pools[1]"),),
    ),
    (
        "addr-pod-v6-covers-infrastructure",
        variant(small, n3={"fabric_pod_cidrs": ["10.244.3.0/24", "2001:db8::/32"]}),
        "refuse",
        (("n3", "fabric_pod_cidrs[1]"),),
    ),
    (
        "addr-aggregate-default-route",
        variant(two_sites, **{"spine-a": {"fabric_pod_aggregates": ["0.0.0.0/0"]}}),
        "refuse",
        (("spine-a", "fabric_pod_aggregates[0]"),),
    ),
    ("addr-router-id-trailing-newline", variant(small, tor1={"fabric_router_id": "10.1.1.1\n"}), "refuse", (("tor1", "fabric_router_id"),)),
    (
        "addr-health-host-zone-id-newline",
        variant(
            small, apply=lambda f: vip_on(f, ["n1"], health_vip({"type": "tcp", "port": 80, "host": "fe80::1%eth0\nHost: x"})), check_intents=health_path_kept
        ),
        "refuse",
        (("n1", "fabric_vips[1].health.checks[0].host"),),
    ),
    # Numbers.
    ("num-asn-5000-digit-string", variant(small, tor1={"fabric_asn": "9" * 5000}), "refuse", (("tor1", "fabric_asn"),)),
    ("num-asn-5000-digit-int", variant(small, tor1={"fabric_asn": 10**5000}), "refuse", (("tor1", "fabric_asn"),)),
    ("num-asn-negative", variant(small, tor1={"fabric_asn": -65101}), "refuse", (("tor1", "fabric_asn"),)),
    ("num-asn-float", variant(small, tor1={"fabric_asn": 65101.0}), "refuse", (("tor1", "fabric_asn"),)),
    ("num-asn-nan", variant(small, tor1={"fabric_asn": float("nan")}), "refuse", (("tor1", "fabric_asn"),)),
    ("num-asn-boolean", variant(small, tor1={"fabric_asn": True}), "refuse", (("tor1", "fabric_asn"),)),
    ("num-asn-0", variant(small, tor1={"fabric_asn": 0}), "refuse", (("tor1", "fabric_asn"),)),
    ("num-asn-23456", variant(small, tor1={"fabric_asn": 23456}), "refuse", (("tor1", "fabric_asn"),)),
    ("num-asn-65535", variant(small, tor1={"fabric_asn": 65535}), "refuse", (("tor1", "fabric_asn"),)),
    ("num-asn-2to32-minus-1", variant(small, tor1={"fabric_asn": 4294967295}), "refuse", (("tor1", "fabric_asn"),)),
    ("num-asn-2to32", variant(small, tor1={"fabric_asn": 4294967296}), "refuse", (("tor1", "fabric_asn"),)),
    ("num-asn-largest-valid", variant(small, tor1={"fabric_asn": 4294967294}), "render", ()),
    ("num-asn-1", variant(small, tor1={"fabric_asn": 1}), "render", ()),
    (
        "num-bgp-edges-low",
        variant(small, apply=lambda f: bgp(f, hold_time=3, keepalive_time=1, bfd_interval_ms=10, bfd_multiplier=2, ecmp_paths=1, max_prefixes=2)),
        "render",
        (),
    ),
    (
        "num-bgp-edges-high",
        variant(
            small,
            apply=lambda f: bgp(
                f,
                hold_time=65535,
                keepalive_time=21845,
                bfd_interval_ms=60000,
                bfd_multiplier=255,
                ecmp_paths=255,
                connect_retry_time=65535,
                error_wait_time=[65535, 65535],
            ),
        ),
        "render",
        (),
    ),
    ("num-bgp-gtsm-graceful-restart", variant(small, apply=lambda f: bgp(f, bfd=False, ttl_security=True, graceful_restart=True)), "render", ()),
    (
        "num-community-edges",
        variant(
            small,
            n2={
                "fabric_vips": [
                    "198.51.100.10",
                    {
                        "address": "198.51.100.11",
                        "name": "web",
                        "communities": ["0:0", "65535:65535"],
                        "large_communities": ["0:0:0", "4294967295:4294967295:4294967295"],
                    },
                ]
            },
        ),
        "render",
        (),
    ),
    (
        "num-med-prepend-edges",
        variant(
            two_sites,
            apply=lambda f: [v["fabric_vips"][0].update(med={"a": 4294967295, "b": 0}, prepend={"b": 10}) for v in f[0].values() if "fabric_vips" in v],
        ),
        "render",
        (),
    ),
    ("num-asn-digits-with-newline", variant(small, tor1={"fabric_asn": "65101\nrouter bgp 1"}), "refuse", (("tor1", "fabric_asn"),)),
    ("num-asn-fullwidth-digits", variant(small, tor1={"fabric_asn": "６５１０１"}), "refuse", (("tor1", "fabric_asn"),)),
    (
        "num-node-asn-base-huge",
        variant(small, apply=lambda f: set_everywhere(f, "fabric_node_asn_base", "9" * 5000)),
        "refuse",
        ((None, "fabric_node_asn_base"),),
    ),
    ("num-hold-time-huge", variant(small, apply=lambda f: bgp(f, hold_time="9" * 5000)), "refuse", ((None, "fabric_bgp.hold_time"),)),
    ("num-keepalive-negative", variant(small, apply=lambda f: bgp(f, keepalive_time=-3)), "refuse", ((None, "fabric_bgp.keepalive_time"),)),
    ("num-keepalive-float", variant(small, apply=lambda f: bgp(f, keepalive_time=1.5)), "refuse", ((None, "fabric_bgp.keepalive_time"),)),
    ("num-bfd-interval-infinity", variant(small, apply=lambda f: bgp(f, bfd_interval_ms=float("inf"))), "refuse", ((None, "fabric_bgp.bfd_interval_ms"),)),
    ("num-error-wait-huge", variant(small, apply=lambda f: bgp(f, error_wait_time=["9" * 5000, 1])), "refuse", ((None, "fabric_bgp.error_wait_time"),)),
    ("num-max-prefixes-huge", variant(small, apply=lambda f: bgp(f, max_prefixes="9" * 5000)), "refuse", ((None, "fabric_bgp.max_prefixes"),)),
    (
        "num-max-prefixes-spine-overflow",
        variant(small, apply=lambda f: bgp(f, max_prefixes=4294967295), check=max_prefix_within_frr),
        "either",
        ((None, "fabric_bgp.max_prefixes"),),
    ),
    (
        "num-max-prefixes-spine-exactly-2to32",
        variant(small, apply=lambda f: bgp(f, max_prefixes=2147483648), check=max_prefix_within_frr),
        "either",
        ((None, "fabric_bgp.max_prefixes"),),
    ),
    ("num-max-prefixes-spine-fits", variant(small, apply=lambda f: bgp(f, max_prefixes=2147483647), check=max_prefix_within_frr), "render", ()),
    (
        "num-upstream-max-prefixes-huge",
        variant(two_sites, apply=lambda f: upstream(f, max_prefixes="9" * 5000)),
        "refuse",
        (("spine-a", "fabric_upstreams[0].max_prefixes"),),
    ),
    ("num-upstream-asn-huge-int", variant(two_sites, apply=lambda f: upstream(f, asn=10**5000)), "refuse", (("spine-a", "fabric_upstreams[0].asn"),)),
    ("num-upstream-max-prefixes-largest", variant(two_sites, apply=lambda f: upstream(f, max_prefixes=4294967295), check=max_prefix_within_frr), "render", ()),
    (
        "num-med-huge",
        variant(two_sites, apply=lambda f: [v["fabric_vips"][0].update(med={"a": "9" * 5000}) for v in f[0].values() if "fabric_vips" in v]),
        "refuse",
        ((None, "fabric_vips[0].med"),),
    ),
    (
        "num-prepend-too-many",
        variant(two_sites, apply=lambda f: [v["fabric_vips"][0].update(prepend={"b": 11}) for v in f[0].values() if "fabric_vips" in v]),
        "refuse",
        ((None, "fabric_vips[0].prepend"),),
    ),
    (
        "num-community-huge-part",
        variant(small, n2={"fabric_vips": ["198.51.100.10", {"address": "198.51.100.11", "name": "web", "communities": ["9" * 5000 + ":1"]}]}),
        "refuse",
        (("n2", "fabric_vips[1].communities"),),
    ),
    (
        "num-large-community-huge-part",
        variant(small, n2={"fabric_vips": ["198.51.100.10", {"address": "198.51.100.11", "name": "web", "large_communities": ["1:1:" + "9" * 5000]}]}),
        "refuse",
        (("n2", "fabric_vips[1].large_communities"),),
    ),
    # Lengths the daemons impose: FRR reads 4096-byte lines of at most 256 words.
    (
        "long-300-communities",
        variant(
            small,
            apply=lambda f: vip_on(f, ["n1", "n2"], {"address": "198.51.100.30", "name": "many", "communities": many(300)}),
            check=communities_kept("198.51.100.30", many(300)),
        ),
        "either",
        ((None, "fabric_vips[2].communities"),),
    ),
    (
        "long-1000-communities",
        variant(
            small,
            apply=lambda f: vip_on(f, ["n2"], {"address": "198.51.100.30", "name": "many", "communities": many(1000)}),
            check=communities_kept("198.51.100.30", many(1000), nodes=("n2",)),
        ),
        "either",
        ((None, "fabric_vips[2].communities"),),
    ),
    (
        "long-200-large-communities",
        variant(
            small,
            apply=lambda f: vip_on(f, ["n1", "n2"], {"address": "198.51.100.30", "name": "many", "large_communities": many(200, large=True)}),
            check=communities_kept("198.51.100.30", many(200, large=True), large=True),
        ),
        "either",
        ((None, "fabric_vips[2].large_communities"),),
    ),
    # TCP-MD5 keys: at most 80 BYTES.
    ("md5-80-ascii", variant(small, password="k" * 80, apply=lambda f: bgp(f, password="k" * 80)), "render", ()),
    ("md5-81-ascii", variant(small, password="k" * 81, apply=lambda f: bgp(f, password="k" * 81)), "refuse", ((None, "fabric_bgp.password"),)),
    ("md5-41-two-byte-chars", variant(small, password="é" * 41, apply=lambda f: bgp(f, password="é" * 41)), "refuse", ((None, "fabric_bgp.password"),)),
    ("md5-27-three-byte-chars", variant(small, password="€" * 27, apply=lambda f: bgp(f, password="€" * 27)), "refuse", ((None, "fabric_bgp.password"),)),
    ("md5-newline", variant(small, password="abc\ndef", apply=lambda f: bgp(f, password="abc\ndef")), "refuse", ((None, "fabric_bgp.password"),)),
    ("md5-quote", variant(small, password='ab"; x', apply=lambda f: bgp(f, password='ab"; x')), "refuse", ((None, "fabric_bgp.password"),)),
    ("md5-frr-comment-char", variant(small, password="ab!c#d", apply=lambda f: bgp(f, password="ab!c#d")), "either", ()),
    # Secrets never echoed.
    *[
        (
            "secret-unknown-upstream-key-%s" % key,
            variant(two_sites, secrets=(SECRET,), apply=lambda f, key=key: upstream(f, **{key: SECRET})),
            "refuse",
            (("spine-a", "fabric_upstreams[0].%s" % key),),
        )
        for key in ("password", "secret", "md5_key", "auth_token", "Password")
    ],
    (
        "secret-unknown-fabric-bgp-key",
        variant(small, secrets=("hunter2-Secret",), apply=lambda f: bgp(f, passwd="hunter2-Secret")),
        "refuse",
        ((None, "fabric_bgp.passwd"),),
    ),
    (
        "secret-password-differs-on-one-host",
        variant(small, secrets=("other-Secret-9",), tor1={"fabric_bgp": {"password": "other-Secret-9"}}),
        "refuse",
        (("tor1", "fabric_bgp"),),
    ),
    (
        "secret-password-not-a-string",
        variant(small, secrets=("['s3cret-md5']",), apply=lambda f: bgp(f, password=["s3cret-md5"])),
        "refuse",
        ((None, "fabric_bgp.password"),),
    ),
    (
        "secret-fabric-bgp-not-a-mapping",
        variant(small, apply=lambda f: set_everywhere(f, "fabric_bgp", "password: s3cret-md5")),
        "refuse",
        ((None, "fabric_bgp"),),
    ),
    (
        "secret-upstream-entry-not-a-mapping",
        variant(two_sites, secrets=("Secret-1234567",), **{"spine-a": {"fabric_upstreams": ["name: transit-a, password: Secret-1234567"]}}),
        "refuse",
        (("spine-a", "fabric_upstreams[0]"),),
    ),
    (
        "secret-password-key-under-a-vip",
        variant(small, secrets=("Secret-1234567",), n1={"fabric_vips": [{"address": "198.51.100.10", "password": "Secret-1234567"}]}),
        "refuse",
        (("n1", "fabric_vips[0].password"),),
    ),
    # One problem, one line: values, keys and host names with newlines.
    ("oneline-daemon-value", variant(small, n1={"fabric_daemon": "frr\nbird"}), "refuse", (("n1", "fabric_daemon"),)),
    ("oneline-unknown-vip-key", variant(small, n2={"fabric_vips": [{"address": "198.51.100.10", "na\nme": "x\ny"}]}), "refuse", (("n2", "fabric_vips[0]"),)),
    (
        "oneline-unknown-upstream-key",
        variant(two_sites, apply=lambda f: upstream(f, **{"imp\rort": "default\n"})),
        "refuse",
        (("spine-a", "fabric_upstreams[0]"),),
    ),
    (
        "oneline-bad-host-with-newline-name",
        lambda: Scenario(hostile=set_host(rename_hosts(small(), {"n1": "n1\nx"}), "n1\nx", fabric_ipv4="bogus\n")),
        "refuse",
        (("n1\nx", ""),),
    ),
    ("oneline-upstream-asn-newline", variant(two_sites, apply=lambda f: upstream(f, asn="64601\n")), "refuse", (("spine-a", "fabric_upstreams[0].asn"),)),
    (
        "oneline-site-community-newline",
        variant(two_sites, **{"spine-a": {"fabric_site_community": "65000:1\n"}}),
        "refuse",
        (("spine-a", "fabric_site_community"),),
    ),
    (
        "oneline-upstream-import-newline",
        variant(two_sites, apply=lambda f: upstream(f, **{"import": "default\n"})),
        "refuse",
        (("spine-a", "fabric_upstreams[0].import"),),
    ),
    (
        "oneline-prepend-site-key-newline",
        variant(two_sites, apply=lambda f: [v["fabric_vips"][0].update(prepend={"b\nx": 2}) for v in f[0].values() if "fabric_vips" in v]),
        "refuse",
        ((None, "fabric_vips[0].prepend"),),
    ),
    (
        "oneline-vip-keys-not-strings",
        variant(small, n2={"fabric_vips": [{"address": "198.51.100.10", 5: "x", None: 1}]}),
        "refuse",
        (("n2", "fabric_vips[0]"),),
    ),
    (
        "oneline-community-newline",
        variant(small, n2={"fabric_vips": ["198.51.100.10", {"address": "198.51.100.11", "name": "web", "communities": ["65000:80\n"]}]}),
        "refuse",
        (("n2", "fabric_vips[1].communities"),),
    ),
]

IDS = [case[0] for case in CASES]
assert len(IDS) == len(set(IDS)), "duplicate case ids"


@pytest.mark.parametrize("case_id, make, expect, blame", CASES, ids=IDS)
def test_hostile_input_is_refused_cleanly_or_rendered_faithfully(tmp_path, case_id, make, expect, blame):
    outcome = judge(make(), tmp_path, expect=expect, blame=blame)
    if outcome.failures:
        verdict = "an exception" if outcome.crashed else "refused" if outcome.refused else "accepted"
        pytest.fail("case %s (expect %s, got %s):\n  - %s" % (case_id, expect, verdict, "\n  - ".join(outcome.failures)), pytrace=False)


def test_the_table_covers_every_family():
    families = {case_id.split("-")[0] for case_id in IDS}
    assert {"host", "site", "rack", "iface", "vip", "upstream", "health", "addr", "num", "long", "md5", "secret", "oneline"} <= families
    assert len(CASES) >= 40


# The render folder: <fabric_render_dir>/<host>/<file> must stay inside it ----------

ESCAPES = ["../x", "a/../../b", "/abs", ".", "..", "a/b", "x/", "../../../../etc/cron.d/x"]


@pytest.mark.parametrize("name", ESCAPES, ids=[show(n) for n in ESCAPES])
@pytest.mark.parametrize("role_host", ["n1", "tor1", "spine1"])
def test_a_host_name_that_is_not_a_plain_folder_name_is_refused(name, role_host):
    intents, problems = build(rename_hosts(small(), {role_host: name}))
    assert problems, "host name %r (in place of %s) was accepted: the render action would write <render_dir>/%s/..." % (name, role_host, name)
    lines = [str(p) for p in problems]
    assert any(names(p, line, name, None) for p, line in zip(problems, lines)), "no problem names the host %r: %s" % (name, lines)
    assert not refusal_failures(problems, secrets=(PASSWORD,)), refusal_failures(problems, secrets=(PASSWORD,))


def test_every_host_name_the_model_accepts_is_one_folder_inside_the_render_dir(tmp_path):
    """The names of the table that are accepted: joined under a folder, none leaves it."""
    root = (tmp_path / "render").resolve()
    accepted = []
    for case_id, make, _expect, _blame in CASES:
        if not case_id.startswith("host-"):
            continue
        try:
            intents, problems = build(make().hostile)
        except AssertionError:
            continue  # reported by the table test
        if not problems:
            accepted += list(intents)
    assert accepted, "no host name of the table was accepted (not even the plain ones)?"
    failures = []
    for name in accepted:
        failures += host_name_failures(name)
        try:
            target = (root / name / "frr.conf").resolve()
        except (ValueError, OSError) as exc:
            failures.append("host name %s cannot be a folder: %s" % (show(name), exc))
            continue
        if root not in target.parents or target.parent.parent != root:
            failures.append("host name %s leads to %s" % (show(name), target))
    assert not failures, "\n".join(failures)


# Statement checker self-tests: it must see what it is meant to see ----------------


def test_checker_reads_every_golden_config_without_problems(repo):
    from config_statements import parse

    files = sorted((repo / "tests" / "golden").glob("*/*/*.conf"))
    assert files
    for path in files:
        parsed = parse(path.read_text(), "bird" if path.name == "bird.conf" else "frr")
        assert parsed.statements and not parsed.problems, (path, parsed.problems)
        assert compare_bird(path.read_text(), path.read_text()) == [] if path.name == "bird.conf" else compare_frr(path.read_text(), path.read_text()) == []


def test_checker_sees_a_statement_injected_through_a_bird_description():
    plain = 'protocol bgp tor1_v4 from t {\n  description "tor1";\n  neighbor 10.1.1.1 as 65101;\n}\n'
    hostile = 'protocol bgp x_v4 from t {\n  description "tor1"; password "evil"; description "x";\n  neighbor 10.1.1.1 as 65101;\n}\n'
    diffs = compare_bird(hostile, plain)
    assert any('password "evil"' in d for d in diffs), diffs
    assert any("description" in d for d in diffs), diffs  # a second description: the extra one


def test_checker_reads_bird_strings_as_bird_does():
    # No escapes in BIRD 2.0: `\"` ends the string; a newline inside one is an error.
    plain = 'protocol device {\n  description "a";\n}\n'
    assert compare_bird('protocol device {\n  description "a\\"b";\n}\n', plain)
    assert compare_bird('protocol device {\n  description "a;{}#b";\n}\n', plain) == []
    assert any("newline inside a string" in d for d in compare_bird('protocol device {\n  description "a\nb";\n}\n', plain))
    assert compare_bird('# comment "\nprotocol device { /* } */\n  description "b";\n}\n', plain) == []
    # An apostrophed symbol is one token, whatever punctuation it holds.
    quoted = "protocol bgp 'tor-1.example' {\n  neighbor 10.0.0.1 as 1;\n}\n"
    assert compare_bird(quoted, quoted.replace("'tor-1.example'", "t1")) == []


def test_checker_names_bird_protocols_by_their_neighbor():
    plain = "protocol bgp a_v4 {\n  neighbor 10.0.0.1 as 1;\n}\nprotocol bgp b_v4 {\n  neighbor 10.0.0.2 as 2;\n}\n"
    swapped = "protocol bgp zz {\n  neighbor 10.0.0.2 as 2;\n}\nprotocol bgp h_1 {\n  neighbor 10.0.0.1 as 1;\n}\n"
    assert compare_bird(swapped, plain) == []
    crossed = "protocol bgp a_v4 {\n  neighbor 10.0.0.1 as 2;\n}\nprotocol bgp b_v4 {\n  neighbor 10.0.0.2 as 1;\n}\n"
    assert len(compare_bird(crossed, plain)) == 4


def test_checker_sees_an_frr_command_injected_through_a_newline():
    plain = "hostname tor1\nrouter bgp 1\n neighbor 10.0.0.1 remote-as 2\n neighbor 10.0.0.1 description n1\nexit\n"
    hostile = "hostname tor1\nrouter bgp 1\n neighbor 10.0.0.1 remote-as 2\n neighbor 10.0.0.1 description n1\n neighbor 10.0.0.1 password x\nexit\n"
    diffs = compare_frr(hostile, plain)
    assert len(diffs) == 1 and "password x" in diffs[0] and "[router bgp 1]" in diffs[0], diffs
    assert compare_frr(plain.replace("description n1", 'description n1 ! # " { ;').replace("hostname tor1", "hostname t o r"), plain) == []


def test_checker_names_frr_route_maps_and_prefix_lists_by_their_use():
    def config(name_a, name_b, list_b=None):
        list_b = list_b or name_b
        return (
            "ip prefix-list %(a)s seq 10 permit 10.9.0.0/24\nip prefix-list %(lb)s seq 10 permit 10.9.1.0/24\n"
            "route-map %(a)s permit 10\n match ip address prefix-list %(a)s\nexit\n"
            "route-map %(b)s permit 10\n match ip address prefix-list %(lb)s\nexit\n"
            "router bgp 1\n address-family ipv4 unicast\n  neighbor 10.0.0.1 route-map %(a)s in\n"
            "  neighbor 10.0.0.2 route-map %(b)s in\n  neighbor G route-map DENY-ALL out\n exit-address-family\nexit\n"
        ) % {"a": name_a, "b": name_b, "lb": list_b}

    plain = config("FROM-n1_v4", "FROM-n2_v4")
    assert compare_frr(config("FROM-h_9f2c", "FROM-x"), plain) == []
    # Words in a description are free text, never taken for a route-map name.
    described = " neighbor 10.0.0.1 description x route-map FROM-h_9f2c in\n"
    assert (
        compare_frr(
            config("FROM-h_9f2c", "FROM-x").replace("router bgp 1\n", "router bgp 1\n" + described),
            plain.replace("router bgp 1\n", "router bgp 1\n" + described),
        )
        == []
    )
    # Two neighbors sharing one route-map: a merged identifier is a change.
    assert compare_frr(config("FROM-n_v4", "FROM-n_v4"), plain)
    # The wrong prefix-list behind a route-map is a change.
    assert compare_frr(config("FROM-n1_v4", "FROM-n2_v4", list_b="FROM-n1_v4"), plain)


def test_checker_flags_what_frr_cannot_read():
    words = " ".join("65000:%d" % i for i in range(300))
    parsed = parse_frr("route-map X permit 10\n set community %s additive\nexit\n" % words)
    assert any("words" in p for p in parsed.problems)
    parsed = parse_frr("router bgp 1\n neighbor 10.0.0.1 description %s\nexit\n" % ("x" * 5000))
    assert any("bytes" in p for p in parsed.problems)
    parsed = parse_frr("hostname a\x00b\n")
    assert any("NUL" in p for p in parsed.problems)


def test_checker_applies_substitutions_to_the_plain_render_only():
    plain = 'protocol direct vips {\n  interface "vipplain0";\n}\n'
    assert compare_bird(plain.replace("vipplain0", "eth0.100"), plain, {"vipplain0": "eth0.100"}) == []
    assert compare_bird(plain.replace("vipplain0", "eth0.101"), plain, {"vipplain0": "eth0.100"})
    frr = "route-map VIPS-V4 permit 10\n match interface vipplain0\nexit\n"
    assert compare_frr(frr.replace("vipplain0", "lo x"), frr, {"vipplain0": "lo x"})  # two words now


def compare_bird(actual, expected, substitutions=None):
    from config_statements import compare

    return compare(actual, expected, "bird", substitutions)


def compare_frr(actual, expected, substitutions=None):
    from config_statements import compare

    return compare(actual, expected, "frr", substitutions)


def parse_frr(text):
    from config_statements import parse

    return parse(text, "frr")


def test_plain_fabrics_of_the_table_render_and_pass_the_checker_against_themselves(tmp_path):
    """The baselines are sound: each plain fabric renders, parses, and equals itself."""
    for base in (small, small_per_node, two_sites, sites_per_node, lambda: with_upstream(small())):
        outcome = judge(Scenario(hostile=base(), plain=base()), tmp_path, expect="render")
        assert not outcome.failures, outcome.failures


def test_ip_addresses_in_the_table_are_what_they_claim():
    # Guard against a case that tests something else than its name says.
    assert ipaddress.ip_address("::ffff:10.1.2.1").ipv4_mapped is not None
    assert ipaddress.ip_address("255.255.255.255").is_reserved
    assert len(FQDN_A) == 240 and all(len(label) <= 63 for label in FQDN_A.split("."))
    assert TWIN_A[:-1] == TWIN_B[:-1] and len(TWIN_A) == 240
    assert len(("é" * 41).encode()) == 82 and len(("€" * 27).encode()) == 81
    hosts, _groups = small()
    assert hosts["n2"]["fabric_vips"][1]["name"] == "web"  # vip_named edits this VIP
    assert build(small())[1].messages() == []
