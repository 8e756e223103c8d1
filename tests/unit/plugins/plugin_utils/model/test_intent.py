# -*- coding: utf-8 -*-
"""The intent records: their dict form (the JSON contract), reading it back, and what they refuse."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from ansible_collections.anycast.fabric.plugins.module_utils._contract import INTENT_SCHEMA
from ansible_collections.anycast.fabric.plugins.plugin_utils import cli
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import fabric_read, intent, model
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import (
    Bgp,
    ExportEntry,
    Intent,
    IntentError,
    Peer,
    PodCidr,
    SiteExport,
    Vip,
    as_intent,
    as_intents,
)
from conftest import REPO
from fabric_factory import small_fabric, two_sites

EXAMPLE = REPO / "inventories" / "example"
RECORDS = (Intent, Bgp, Peer, Vip, ExportEntry, PodCidr, SiteExport)


def build_ok(factory):
    built, problems = model.build(*factory())
    assert not problems, problems.messages()
    return built


def example():
    """The intents of inventories/example (the fabric tests/golden/example is rendered from)."""
    built, _hostvars, _groups, error = fabric_read.model(cli._task_vars([str(EXAMPLE)], None))
    assert error is None, error
    return built


FABRICS = {"small": lambda: build_ok(small_fabric), "two_sites": lambda: build_ok(two_sites), "example": example}


@pytest.fixture(scope="module", params=sorted(FABRICS))
def fabric(request):
    return FABRICS[request.param]()


@pytest.fixture(scope="module")
def sites():
    return build_ok(two_sites)


def records_in(value):
    """Every record in VALUE (a record, or tuples and mappings of them), VALUE's own first."""
    if isinstance(value, intent.Record):
        yield value
        for f in dataclasses.fields(value):
            yield from records_in(getattr(value, f.name))
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from records_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from records_in(item)


def kind(value):
    """VALUE's JSON kind (str subclasses such as Ansible's tagged strings are strings), or its type's name."""
    for plain in (bool, int, str, dict, list):
        if isinstance(value, plain):
            return plain.__name__
    return "null" if value is None else type(value).__name__


def containers_in(value, path="intent"):
    """(path, kind) of VALUE and of everything in it, through dicts, lists and tuples."""
    yield path, kind(value)
    if isinstance(value, dict):
        for key, item in value.items():
            yield from containers_in(item, "%s.%s" % (path, key))
    elif isinstance(value, (list, tuple)):
        for n, item in enumerate(value):
            yield from containers_in(item, "%s[%d]" % (path, n))


# The dict form and back ------------------------------------------------------------


def test_the_model_builds_intents(fabric):
    assert fabric
    for name, built in fabric.items():
        assert isinstance(built, Intent) and built.hostname == name and built.schema == INTENT_SCHEMA


def test_every_intent_round_trips_through_its_dict_form(fabric):
    for name, built in fabric.items():
        plain = built.to_dict()
        again = Intent.from_dict(plain)
        assert again == built, name
        assert again.to_dict() == plain, name
        assert as_intent(plain) == built and as_intent(built) is built
    assert as_intents({name: built.to_dict() for name, built in fabric.items()}) == fabric


def test_every_intent_round_trips_through_json(fabric):
    for name, built in fabric.items():
        text = json.dumps(built.to_dict(), sort_keys=True)
        back = json.loads(text)
        # The dict form is JSON already: lists, not tuples, so JSON gives it back unchanged.
        assert back == built.to_dict(), name
        assert Intent.from_dict(back) == built, name
        assert json.dumps(Intent.from_dict(back).to_dict(), sort_keys=True) == text, name


def test_the_dict_form_holds_only_plain_json_data(fabric):
    for name, built in fabric.items():
        plain = built.to_dict()
        kinds = dict(containers_in(plain, name))
        odd = {path: k for path, k in kinds.items() if k not in ("dict", "list", "str", "int", "bool", "null")}
        assert not odd, odd


def test_the_records_hold_tuples_not_lists(fabric):
    for name, built in fabric.items():
        for record in records_in(built):
            for f in dataclasses.fields(record):
                value = getattr(record, f.name)
                assert not isinstance(value, list), "%s: %s.%s is a list" % (name, type(record).__name__, f.name)
                if isinstance(value, dict) and f.name in ("exports", "export_policy"):
                    assert all(isinstance(v, tuple) for v in value.values()), "%s: %s.%s" % (name, type(record).__name__, f.name)


def test_health_round_trips_too():
    hostvars, groups = small_fabric()
    hostvars["n1"]["fabric_vips"] = [{"address": "198.51.100.10", "health": {"checks": [{"type": "http", "expect_status": [200, 204]}]}}]
    built, problems = model.build(hostvars, groups)
    assert not problems, problems.messages()
    node = built["n1"]
    assert node.vips[0].health is not None
    plain = node.to_dict()
    assert Intent.from_dict(plain).to_dict() == plain
    assert Intent.from_dict(json.loads(json.dumps(plain))) == node


# What from_dict refuses ------------------------------------------------------------


def refused(plain, match):
    with pytest.raises(IntentError, match=match) as info:
        Intent.from_dict(plain)
    return str(info.value)


def test_unknown_keys_are_refused_where_they_are(sites):
    node, spine = sites["a1"].to_dict(), sites["spine-a"].to_dict()
    refused(dict(node, colour="red"), r"^intent: unknown keys colour ")
    bad = copy.deepcopy(node)
    bad["peers"][0]["colour"] = "red"
    refused(bad, r"^intent\.peers\[0\]: unknown keys colour ")
    bad = copy.deepcopy(node)
    bad["vips"][1]["colour"] = "red"
    refused(bad, r"^intent\.vips\[1\]: unknown keys colour ")
    bad = copy.deepcopy(node)
    bad["bgp"]["colour"] = "red"
    refused(bad, r"^intent\.bgp: unknown keys colour ")
    bad = copy.deepcopy(node)
    bad["export_policy"]["ipv4"][0]["colour"] = "red"
    refused(bad, r"^intent\.export_policy\.ipv4.*: unknown keys colour ")
    bad = copy.deepcopy(spine)
    upstream = next(n for n, p in enumerate(bad["peers"]) if p["role"] == "upstream")
    bad["peers"][upstream]["export_policy"][0]["colour"] = "red"
    refused(bad, r"^intent\.peers\[%d\]\.export_policy\[0\]: unknown keys colour " % upstream)
    # Several unknown keys are all named, sorted.
    refused(dict(node, zeta=1, alpha=2), r"unknown keys alpha, zeta ")


def test_a_key_of_another_role_is_refused_as_unknown_inside_records(sites):
    # Role-only attributes exist on every Intent (with their empty default),
    # so an intent dict may carry them; a key no record has is refused.
    bad = copy.deepcopy(sites["tor-a"].to_dict())
    bad["peers"][0]["vips"] = []
    refused(bad, r"^intent\.peers\[0\]: unknown keys vips ")


def test_another_schema_is_refused():
    node = build_ok(small_fabric)["n1"].to_dict()
    message = refused(dict(node, schema=INTENT_SCHEMA + 1), r"^intent: intent schema %d is not %d" % (INTENT_SCHEMA + 1, INTENT_SCHEMA))
    assert "another version of anycast.fabric" in message
    refused(dict(node, schema="1"), r"^intent: intent schema '1' is not %d" % INTENT_SCHEMA)
    with pytest.raises(IntentError, match=r"^intent of n1: intent schema 0 is not"):
        as_intents({"n1": dict(node, schema=0)})


def test_a_missing_required_key_is_refused_where_it_is(sites):
    node = sites["a1"].to_dict()
    for key in ("hostname", "role", "daemon", "asn", "bgp"):
        bad = copy.deepcopy(node)
        del bad[key]
        refused(bad, r"^intent: .*'%s'" % key)
    bad = copy.deepcopy(node)
    del bad["bgp"]["hold_time"]
    refused(bad, r"^intent\.bgp: .*'hold_time'")
    bad = copy.deepcopy(node)
    del bad["peers"][0]["address"]
    refused(bad, r"^intent\.peers\[0\]: .*'address'")
    bad = copy.deepcopy(node)
    del bad["vips"][1]["prefix"]
    refused(bad, r"^intent\.vips\[1\]: .*'prefix'")
    bad = copy.deepcopy(node)
    del bad["pod_cidrs"][0]["family"]
    refused(bad, r"^intent\.pod_cidrs\[0\]: .*'family'")
    bad = copy.deepcopy(node)
    del bad["export_policy"]["ipv4"][0]["prefixes"]
    refused(bad, r"^intent\.export_policy\.ipv4.*: .*'prefixes'")


def test_what_is_not_a_mapping_or_a_known_role_is_refused(sites):
    node = sites["a1"].to_dict()
    for bad in ([node], "intent", None, 7):
        refused(bad, r"^intent: must be a mapping, not ")
    refused(dict(node, bgp="x"), r"^intent\.bgp: must be a mapping, not str")
    refused(dict(node, peers=["x"]), r"^intent\.peers\[0\]: must be a mapping, not str")
    refused(dict(node, role="router"), r"^intent: role 'router' is not one of node, tor, spine")
    bad = copy.deepcopy(node)
    bad["peers"][0]["role"] = "friend"
    refused(bad, r"^intent\.peers\[0\]: peer role 'friend' is not one of node, tor, spine, upstream")
    with pytest.raises(IntentError, match=r"^intent of n9: must be a mapping"):
        as_intent([], "intent of n9")


def test_a_record_where_a_list_of_them_belongs_or_the_reverse_is_refused(sites):
    # What is read back must have the records' shape, or render() and the
    # filters fail later with an AttributeError instead of an IntentError.
    node = sites["a1"].to_dict()
    refused(dict(node, bgp=[node["bgp"]]), r"^intent\.bgp: ")
    refused(dict(node, peers=node["peers"][0]), r"^intent\.peers: ")
    refused(dict(node, peers=None), r"^intent\.peers: ")
    refused(dict(node, vips=None), r"^intent\.vips: ")


# The records -----------------------------------------------------------------------


def test_records_are_frozen(sites):
    node, spine = sites["a1"], sites["spine-a"]
    upstream = next(p for p in spine.peers if p.role == "upstream")
    for record, name, value in (
        (node, "asn", 1),
        (node, "vips", ()),
        (node.bgp, "password", False),
        (node.peers[0], "address", "192.0.2.1"),
        (node.vips[0], "communities", ("65000:1",)),
        (node.pod_cidrs[0], "prefix", "10.0.0.0/24"),
        (node.export_policy["ipv4"][0], "prefixes", ()),
        (upstream.export_policy[0], "prepend", 3),
    ):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, name, value)
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(record, name)


def test_records_are_slotted():
    for record in RECORDS:
        assert "__dict__" not in dir(record) and hasattr(record, "__slots__"), record.__name__
    for record in records_in(build_ok(two_sites)["spine-a"]):
        assert not hasattr(record, "__dict__"), type(record).__name__
        with pytest.raises((AttributeError, TypeError)):
            object.__setattr__(record, "colour", "red")


def test_an_intent_cannot_be_made_of_another_schema_or_role():
    node = build_ok(small_fabric)["n1"]
    with pytest.raises(TypeError, match="schema"):
        dataclasses.replace(node, schema=INTENT_SCHEMA + 1)
    with pytest.raises(TypeError, match="role"):
        dataclasses.replace(node, role="router")
    with pytest.raises(TypeError, match="peer role"):
        dataclasses.replace(node.peers[0], role="friend")


# Role-only keys --------------------------------------------------------------------

NODE_ONLY = {"vip_interface", "vips", "pod_cidrs", "exports", "export_policy"}
TOR_ONLY = {"uplink_ipv4", "uplink_ipv6", "listen", "pool_ranges"}
SPINE_ONLY = {"site_community", "pool_ranges"}
COMMON = {"schema", "hostname", "role", "daemon", "site", "rack", "asn", "router_id", "ipv4", "ipv6", "bgp", "peers"}
UPSTREAM_ONLY = {"export_policy", "aggregates"}
LINK_ONLY = {"interface", "remote_interface"}  # unnumbered ToR-spine links
PEER_COMMON = {"name", "id", "role", "family", "address", "local_address", "asn", "accept", "export", "max_prefixes"}


def test_role_only_keys_appear_only_for_their_role(fabric):
    wanted = {"node": COMMON | NODE_ONLY, "tor": COMMON | TOR_ONLY, "spine": COMMON | SPINE_ONLY}
    seen = set()
    for name, built in fabric.items():
        plain = built.to_dict()
        assert set(plain) == wanted[built.role], name
        seen.add(built.role)
        for peer in plain["peers"]:
            only = {"upstream": UPSTREAM_ONLY, "node": {"dynamic"}, "tor": LINK_ONLY, "spine": LINK_ONLY}.get(peer["role"], set())
            assert set(peer) == PEER_COMMON | only, (name, peer["id"])
    assert seen == {"node", "tor", "spine"}


def test_upstream_peers_carry_their_export_policy(sites):
    spine = sites["spine-a"]
    upstreams = spine.peers_of("upstream")
    assert upstreams
    for peer in upstreams:
        assert peer.export_policy and all(isinstance(entry, SiteExport) for entry in peer.export_policy)
        assert [p for entry in peer.export_policy for p in entry.prefixes] == list(peer.export)
        assert peer.to_dict()["export_policy"] == [entry.to_dict() for entry in peer.export_policy]
    for peer in spine.peers_of("tor"):
        assert "export_policy" not in peer.to_dict() and "aggregates" not in peer.to_dict()


def test_routers_have_the_node_attributes_empty(sites):
    for name in ("tor-a", "spine-a"):
        router = sites[name]
        assert router.vips == () and router.pod_cidrs == () and router.vip_prefixes() == []
        assert not router.is_node
    assert sites["a1"].is_node and sites["a1"].vip_prefixes() == [v.prefix for v in sites["a1"].vips]


def test_records_are_values(sites):
    # Equal when their attributes are equal; a copy of the dict form is not the same intent once changed.
    node = sites["a1"]
    assert Intent.from_dict(node.to_dict()) == node
    assert dataclasses.replace(node, asn=node.asn + 1) != node
    assert node.peers_of("tor") == tuple(p for p in node.peers if p.role == "tor")
