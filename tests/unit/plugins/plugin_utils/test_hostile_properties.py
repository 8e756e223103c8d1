# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property tests for hostile input (issue 12): names from the whole of Unicode, junk values anywhere.

A fabric whose host, site, rack, VIP, upstream and interface names are drawn
from every Unicode category (control and format characters, separators,
quotes, the daemons' punctuation) is refused cleanly or rendered to configs
the daemons accept with exactly the statements of the same fabric with plain
names. Any value in any inventory variable, and any number around the
model's and the daemons' edges, is refused cleanly or rendered to configs the
daemons accept; the model never raises.
"""

from __future__ import annotations

import copy
import os

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ansible_collections.anycast.fabric.plugins.plugin_utils.model import hosts, model
from fabric_factory import small_fabric
from hostile_harness import PASSWORD, Scenario, judge
from config_statements import show

# As in test_properties: CI replays a fixed set of examples, developers explore.
PROFILE = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=bool(os.environ.get("CI")))

PLAIN_SITE = "dc1"
PLAIN_IFACE = "vipplain0"
HOSTS = ("spine1", "tor1", "n1", "n2")  # the ones whose names are drawn

NAME_CHARS = st.one_of(
    st.characters(),  # every code point but surrogates
    st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]),
    st.sampled_from(list("\"\\\n\r;{}!#/.'`$% *")),
)
PLAUSIBLE = st.one_of(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,30}", fullmatch=True),
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?){0,3}", fullmatch=True),
)
NAMES = st.one_of(
    st.text(NAME_CHARS, min_size=0, max_size=24),
    # Plausible names too, so that some fabrics render and are compared...
    PLAUSIBLE,
    PLAUSIBLE,
    # ...one hostile character inside a plausible name (the sharpest injection)...
    st.tuples(PLAUSIBLE, NAME_CHARS, PLAUSIBLE).map("".join),
    # ...and long ones: junk, and FQDNs of up to 255 characters (253 is the limit).
    st.text(NAME_CHARS, min_size=200, max_size=300),
    st.from_regex(r"[a-z][a-z0-9-]{40,62}(\.[a-z0-9]{50,63}){2,3}", fullmatch=True),
)
# A field keeps its plain name three times out of four.
MAYBE_NAME = st.one_of(st.none(), st.none(), st.none(), NAMES)


def plain_fabric():
    hosts, groups = small_fabric(fabric_node_asn_scheme="per_node")
    for variables in hosts.values():
        variables["fabric_site"] = PLAIN_SITE
    for name in groups["fabric_nodes"]:
        hosts[name]["fabric_vip_interface"] = PLAIN_IFACE
    hosts["spine1"]["fabric_upstreams"] = [{"name": "transit1", "address": "10.93.1.3", "asn": 64601, "local_address": "10.93.1.2/24"}]
    return hosts, groups


@st.composite
def hostile_fabrics(draw):
    """(Scenario, what was drawn): some names of the plain fabric replaced by drawn ones."""
    hosts, groups = plain_fabric()
    drawn = {}
    renames = {}
    for host in HOSTS:
        new = draw(MAYBE_NAME)
        taken = set(hosts) | set(renames.values())
        if new is not None and new not in taken:
            renames[host] = new
    if renames:
        drawn["hosts"] = renames
    site = draw(MAYBE_NAME)
    if site is not None:
        drawn["site"] = site
        for variables in hosts.values():
            variables["fabric_site"] = site
    rack = draw(MAYBE_NAME)
    if rack is not None and rack != "r2":
        drawn["rack"] = rack
        for variables in hosts.values():
            if variables.get("fabric_rack") == "r1":
                variables["fabric_rack"] = rack
    vip = draw(MAYBE_NAME)
    if vip is not None:
        drawn["vip"] = vip
        hosts["n2"]["fabric_vips"][1]["name"] = vip
    up = draw(MAYBE_NAME)
    if up is not None:
        drawn["upstream"] = up
        hosts["spine1"]["fabric_upstreams"][0]["name"] = up
    iface = draw(MAYBE_NAME)
    substitutions = {}
    if iface is not None:
        drawn["interface"] = iface
        substitutions[PLAIN_IFACE] = iface
        for name in groups["fabric_nodes"]:
            hosts[name]["fabric_vip_interface"] = iface
    hostile = ({renames.get(n, n): v for n, v in hosts.items()}, {g: [renames.get(n, n) for n in m] for g, m in groups.items()})
    scenario = Scenario(hostile=hostile, plain=plain_fabric(), host_map={v: k for k, v in renames.items()}, substitutions=substitutions)
    return scenario, drawn


def _explain(drawn):
    return ", ".join("%s=%s" % (k, show(repr(v))[:160]) for k, v in drawn.items()) or "nothing drawn"


@settings(max_examples=100, **PROFILE)
@given(hostile_fabrics())
def test_names_from_all_of_unicode_are_refused_cleanly_or_change_no_statement(tmp_path_factory, drawn_fabric):
    scenario, drawn = drawn_fabric
    outcome = judge(scenario, tmp_path_factory.mktemp("names"), expect="either")
    event("refused" if outcome.refused else "rendered and compared")
    assert not outcome.failures, "drawn: %s\n  - %s" % (_explain(drawn), "\n  - ".join(outcome.failures))


# Junk values in any variable ------------------------------------------------------

# Every variable the model reads (one definition: the model's own lists).
HOST_VARIABLES = hosts.HOST_VARIABLES
FABRIC_VARIABLES = model.FABRIC_VARIABLES


def _maybe_huge(value):
    """5000 and -5000 stand for 5000-digit integers (hypothesis cannot print those)."""
    return 10**5000 if value == 5000 else -(10**5000) if value == -5000 else value


def _safe_repr(value):
    try:
        return show(repr(value))
    except ValueError:  # an integer beyond Python's int->str digit limit, somewhere inside
        return "<a value holding an integer of more than 4300 digits>"


class Drawn:
    """What a junk example changed; printed as the edits (the values may not survive repr())."""

    def __init__(self, scenario, edits):
        self.scenario = scenario
        self.edits = edits

    def __repr__(self):
        return "; ".join(self.edits)


TEXT = st.one_of(
    st.text(NAME_CHARS, max_size=30),
    st.sampled_from(["9" * 5000, "-1", "0", "65001\n", "10.1.1.11/24\n", "fe80::1%eth0", "::ffff:10.0.0.1", "0.0.0.0/0", "1:2:3", "65000:80", "true"]),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**32, 2**32 - 1, 2**31, 0, 5000, -5000]).map(_maybe_huge),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
JUNK = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(TEXT, st.sampled_from(["address", "name", "asn", "password", "health", "communities"])), inner, max_size=4),
    ),
    max_leaves=12,
)
BGP_KEYS = (
    "keepalive_time",
    "hold_time",
    "bfd",
    "bfd_interval_ms",
    "bfd_multiplier",
    "graceful_restart",
    "password",
    "ttl_security",
    "max_prefixes",
    "ecmp_paths",
    "connect_retry_time",
    "error_wait_time",
    "error_forget_time",
)


@st.composite
def junk_fabrics(draw):
    hosts, groups = plain_fabric()
    edits = []
    for _attempt in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["host", "fabric", "bgp"]))
        value = draw(JUNK)
        if kind == "host":
            host = draw(st.sampled_from(sorted(hosts)))
            var = draw(st.sampled_from(HOST_VARIABLES))
            hosts[host][var] = value
            edits.append("%s.%s" % (host, var))
        elif kind == "fabric":
            var = draw(st.sampled_from(FABRIC_VARIABLES))
            for variables in hosts.values():
                variables[var] = copy.deepcopy(value)
            edits.append(var)
        else:
            key = draw(st.sampled_from(BGP_KEYS))
            for variables in hosts.values():
                current = variables.get("fabric_bgp")
                variables["fabric_bgp"] = dict(current if isinstance(current, dict) else {}, **{key: copy.deepcopy(value)})
            edits.append("fabric_bgp.%s" % key)
        edits[-1] += " = %s" % _safe_repr(value)[:200]
    password = hosts["n1"].get("fabric_bgp", {}).get("password") if isinstance(hosts["n1"].get("fabric_bgp"), dict) else None
    # A drawn password counts as a secret when it is long enough not to occur
    # in messages by chance, and the draw did not also put it in another value.
    secret = isinstance(password, str) and len(password) >= 6
    if secret:
        others = copy.deepcopy(hosts)
        for variables in others.values():
            if isinstance(variables.get("fabric_bgp"), dict):
                variables["fabric_bgp"].pop("password", None)
        secret = password not in _safe_repr(others) and password not in show(_safe_repr(others))
    secrets = (PASSWORD,) + ((password,) if secret else ())
    drawn_password = password if isinstance(password, str) else PASSWORD
    scenario = Scenario(hostile=(hosts, groups), secrets=secrets, password=drawn_password, password_is_secret=drawn_password == PASSWORD or secret)
    return Drawn(scenario, edits)


@settings(max_examples=100, **PROFILE)
@given(junk_fabrics())
def test_any_value_in_any_variable_is_refused_cleanly_or_renders_to_configs_the_daemons_accept(tmp_path_factory, junk):
    outcome = judge(junk.scenario, tmp_path_factory.mktemp("junk"), expect="either")
    event("refused" if outcome.refused else "rendered")
    assert not outcome.failures, "edits: %s\n  - %s" % (junk, "\n  - ".join(outcome.failures))


# Numbers at and around every edge -------------------------------------------------

EDGES = [0, 1, 2, 3, 9, 10, 255, 256, 21845, 21846, 60000, 60001, 65534, 65535, 65536, 2**31 - 1, 2**31, 2**32 - 2, 2**32 - 1, 2**32, 2**63, -1]
NUMBERS = st.one_of(st.sampled_from(EDGES), st.integers(min_value=0, max_value=2**33), st.sampled_from(EDGES).map(str))
NUMERIC_BGP_KEYS = ("keepalive_time", "hold_time", "bfd_interval_ms", "bfd_multiplier", "max_prefixes", "ecmp_paths", "connect_retry_time", "error_forget_time")


@st.composite
def number_fabrics(draw):
    """The two-site-like small fabric with an upstream, numbers drawn around the daemons' and the model's edges."""
    hosts, groups = plain_fabric()
    edits = []
    bgp = dict(hosts["n1"]["fabric_bgp"])
    for key in draw(st.lists(st.sampled_from(NUMERIC_BGP_KEYS), unique=True, max_size=4)):
        bgp[key] = draw(NUMBERS)
        edits.append("fabric_bgp.%s = %r" % (key, bgp[key]))
    if draw(st.booleans()):
        bgp["error_wait_time"] = [draw(NUMBERS), draw(NUMBERS)]
        edits.append("fabric_bgp.error_wait_time = %r" % (bgp["error_wait_time"],))
    for variables in hosts.values():
        variables["fabric_bgp"] = copy.deepcopy(bgp)
    for host in draw(st.lists(st.sampled_from(["spine1", "tor1", "tor2", "n1"]), unique=True, max_size=2)):
        hosts[host]["fabric_asn"] = draw(NUMBERS)
        edits.append("%s.fabric_asn = %r" % (host, hosts[host]["fabric_asn"]))
    up = hosts["spine1"]["fabric_upstreams"][0]
    for key in draw(st.lists(st.sampled_from(["asn", "max_prefixes"]), unique=True, max_size=2)):
        up[key] = draw(NUMBERS)
        edits.append("fabric_upstreams[0].%s = %r" % (key, up[key]))
    if draw(st.booleans()):
        parts = [draw(NUMBERS) for _part in range(2)]
        large = [draw(NUMBERS) for _part in range(3)]
        hosts["n2"]["fabric_vips"][1]["communities"] = ["%s:%s" % tuple(parts)]
        hosts["n2"]["fabric_vips"][1]["large_communities"] = ["%s:%s:%s" % tuple(large)]
        edits.append("n2 VIP communities %s:%s, large %s:%s:%s" % tuple(parts + large))
    return Drawn(Scenario(hostile=(hosts, groups)), edits or ["nothing changed"])


@settings(max_examples=100, **PROFILE)
@given(number_fabrics())
def test_numbers_around_every_edge_are_refused_cleanly_or_accepted_by_the_daemons(tmp_path_factory, numbers):
    outcome = judge(numbers.scenario, tmp_path_factory.mktemp("numbers"), expect="either")
    event("refused" if outcome.refused else "rendered")
    assert not outcome.failures, "numbers: %s\n  - %s" % (numbers, "\n  - ".join(outcome.failures))
