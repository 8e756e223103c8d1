# -*- coding: utf-8 -*-
"""The GoBGP host class: parsing `gobgp neighbor -j` and RIB output, gobgpd -d messages, secrets, semantic checks."""

from __future__ import annotations

import json

from ansible_collections.anycast.fabric.plugins.module_utils import _daemons
from ansible_collections.anycast.fabric.plugins.module_utils._gobgp import (
    GoBGP,
    _dry_run_message,
    export_view,
    parse_export_policy,
    parse_neighbors,
    semantic_problems,
    session_changes,
)
from ansible_collections.anycast.fabric.plugins.module_utils._gobgp_rib import originated, parse_rib

# `gobgp neighbor -j` of gobgpd 3.10 (Debian 12) with two Established sessions
# to an FRR ToR, captured in the lab; capabilities and empty sections left
# out, the key replaced.
NEIGHBORS = json.dumps(
    [
        {
            "apply_policy": {
                "export_policy": {"direction": 2, "policies": [{"name": "EXPORT-V6"}], "default_action": 2},
                "import_policy": {"direction": 1, "default_action": 2},
            },
            "conf": {
                "auth_password": "captured-key",
                "description": "gp-tor",
                "local_asn": 4244547508,
                "neighbor_address": "fd00:203::2",
                "peer_asn": 65101,
                "type": 1,
            },
            "state": {
                "messages": {"received": {"open": 1, "keepalive": 40, "total": 41}, "sent": {"update": 11, "open": 1, "keepalive": 40, "total": 52}},
                "neighbor_address": "fd00:203::2",
                "peer_asn": 65101,
                "type": 1,
                "queues": {},
                "session_state": 6,
                "router_id": "10.203.0.2",
            },
            "timers": {
                "config": {"connect_retry": 2, "hold_time": 9, "keepalive_interval": 3, "idle_hold_time_after_reset": 30},
                "state": {"keepalive_interval": 3, "negotiated_hold_time": 9, "uptime": {"seconds": 1795635842}, "downtime": {"seconds": 1795635842}},
            },
            "transport": {"local_address": "fd00:203::21"},
            "afi_safis": [{"config": {"family": {"afi": 2, "safi": 1}, "enabled": True}, "state": {"family": {"afi": 2, "safi": 1}, "enabled": True}}],
            "ttl_security": {},
        },
        {
            "apply_policy": {"export_policy": {"direction": 2}, "import_policy": {"direction": 1}},
            "conf": {
                "auth_password": "captured-key",
                "description": "gp-tor",
                "local_asn": 4244547508,
                "neighbor_address": "10.203.0.2",
                "peer_asn": 65101,
                "type": 1,
            },
            "state": {
                "messages": {"received": {"open": 1, "keepalive": 40, "total": 41}, "sent": {"update": 12, "open": 1, "keepalive": 40, "total": 53}},
                "neighbor_address": "10.203.0.2",
                "peer_asn": 65101,
                "type": 1,
                "queues": {},
                "session_state": 6,
                "router_id": "10.203.0.2",
            },
            "timers": {
                "config": {"connect_retry": 2, "hold_time": 9, "keepalive_interval": 3},
                "state": {"keepalive_interval": 3, "negotiated_hold_time": 9, "uptime": {"seconds": 1795635842}, "downtime": {"seconds": 1795635842}},
            },
            "transport": {"local_address": "10.203.0.21"},
            "afi_safis": [{"config": {"family": {"afi": 1, "safi": 1}, "enabled": True}, "state": {"family": {"afi": 1, "safi": 1}, "enabled": True}}],
            "ttl_security": {},
        },
    ]
)

# `gobgp neighbor 10.203.0.2 adj-out -a ipv4 -j`, same node.
ADJ_OUT = json.dumps(
    {
        "10.244.1.0/24": [
            {
                "nlri": {"prefix": "10.244.1.0/24"},
                "age": 1795635846,
                "best": False,
                "attrs": [
                    {"type": 1, "value": 0},
                    {"type": 2, "as_paths": [{"segment_type": 2, "num": 1, "asns": [4244547508]}]},
                    {"type": 3, "nexthop": "10.203.0.21"},
                ],
                "stale": False,
            }
        ],
        "198.51.100.10/32": [
            {
                "nlri": {"prefix": "198.51.100.10/32"},
                "age": 1795635916,
                "best": False,
                "attrs": [
                    {"type": 1, "value": 0},
                    {"type": 2, "as_paths": [{"segment_type": 2, "num": 1, "asns": [4244547508]}]},
                    {"type": 3, "nexthop": "10.203.0.21"},
                    {"type": 8, "communities": [4259840010]},
                    {"type": 32, "value": [{"ASN": 65000, "LocalData1": 1, "LocalData2": 2}]},
                ],
                "stale": False,
            }
        ],
    }
)


def test_established_sessions_are_read_in_the_shape_of_bird_and_frr():
    sessions = parse_neighbors(NEIGHBORS)
    assert [(s["peer"], s["family"], s["state"], s["established"]) for s in sessions] == [
        ("10.203.0.2", "ipv4", "Established", True),
        ("fd00:203::2", "ipv6", "Established", True),
    ]
    first = sessions[0]
    assert first["name"] == "gp-tor" and first["peer_as"] == 65101 and first["local_as"] == 4244547508
    assert first["since"] == "1795635842" and first["generation"] == "1795635842/1"
    assert first["bfd"] is None
    assert set(first) == {
        "name",
        "peer",
        "peer_as",
        "local_as",
        "family",
        "state",
        "established",
        "since",
        "generation",
        "prefixes_received",
        "prefixes_sent",
        "bfd",
        "last_error",
    }


def test_a_session_that_is_not_up_and_one_that_reconnected():
    data = json.loads(NEIGHBORS)
    data[0]["state"]["session_state"] = 3
    del data[0]["timers"]["state"]["uptime"]
    data[1]["state"]["messages"]["received"]["open"] = 2
    sessions = {s["peer"]: s for s in parse_neighbors(json.dumps(data))}
    down = sessions["fd00:203::2"]
    assert down["state"] == "Active" and not down["established"] and down["since"] is None
    again = sessions["10.203.0.2"]
    assert again["established"] and again["generation"] != parse_neighbors(NEIGHBORS)[0]["generation"]
    assert parse_neighbors("[]") == [] and parse_neighbors("null") == []


def test_rib_and_adj_out_are_read_as_prefixes():
    assert parse_rib(ADJ_OUT) == ["10.244.1.0/24", "198.51.100.10/32"]
    assert parse_rib("") == [] and parse_rib("{}") == []


def test_dry_run_errors_are_given_in_words():
    out = (
        '{"Error":"1 error(s) decoding:\\n\\n* \'neighbors[0].config\' has invalid keys: peer-az",'
        '"Topic":"Config","level":"fatal","msg":"Can\'t read config file /etc/gobgpd.conf","time":"2026-11-25T19:41:51Z"}\n'
    )
    message = _dry_run_message(out)
    assert message.startswith("Can't read config file /etc/gobgpd.conf: 1 error(s) decoding")
    assert "invalid keys: peer-az" in message
    ok = '{"Topic":"Config","level":"info","msg":"Finished reading the config file","time":"2026-11-25T19:41:51Z"}'
    assert _dry_run_message(ok) == ""


def test_the_key_is_found_and_masked_in_gobgp_syntax():
    text = '[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "10.0.0.1"\n    auth-password = "k3y-x"\n'
    assert "gobgp" in _daemons.DAEMONS and _daemons.DAEMONS["gobgp"] is GoBGP
    assert _daemons.find_secrets(text) == {"k3y-x"}
    masked = _daemons.mask_secrets(text)
    assert "k3y-x" not in masked and 'auth-password = "********"' in masked


CONFIG = """
[global.config]
  as = 4200000001
  router-id = "10.0.0.21"
[global.apply-policy.config]
  import-policy-list = ["ACCEPT-LOCAL"]
  export-policy-list = ["EXPORT-V4", "MISSING"]
[[defined-sets.prefix-sets]]
  prefix-set-name = "ORIGINATE-V4"
  [[defined-sets.prefix-sets.prefix-list]]
    ip-prefix = "198.51.100.10/32"
[[defined-sets.prefix-sets]]
  prefix-set-name = "EXPORT-V4-1"
  [[defined-sets.prefix-sets.prefix-list]]
    ip-prefix = "198.51.100.300/32"
[[policy-definitions]]
  name = "ACCEPT-LOCAL"
[[policy-definitions]]
  name = "EXPORT-V4"
  [[policy-definitions.statements]]
    [policy-definitions.statements.conditions.match-prefix-set]
      prefix-set = "EXPORT-V4-1"
    [policy-definitions.statements.actions.bgp-actions.set-large-community.set-large-community-method]
      communities-list = ["1:2"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.0.0.1"
    peer-as = 65101
"""


def test_semantic_problems_name_each_dangling_or_malformed_value():
    import tomllib

    config = tomllib.loads(CONFIG)
    assert semantic_problems(config) == [
        "prefix-set EXPORT-V4-1: '198.51.100.300/32' is not a network",
        "policy EXPORT-V4: set-large-community '1:2' is not a community",
        "global export-policy-list: policy MISSING is not defined",
    ]
    assert originated(config) == {"ipv4": ["198.51.100.10/32"], "ipv6": []}


def test_session_changes_tell_global_from_neighbor_changes():
    assert session_changes(CONFIG, CONFIG) == (False, set())
    assert session_changes(CONFIG, CONFIG.replace("peer-as = 65101", "peer-as = 65102")) == (False, {"10.0.0.1"})
    assert session_changes(CONFIG, CONFIG.replace('"1:2"', '"1:2:3"')) == (False, set())
    assert session_changes(CONFIG, CONFIG.replace("as = 4200000001", "as = 4200000002")) == (True, set())
    assert session_changes(None, CONFIG) is None


# `gobgp global policy export -j` of gobgpd 3.10 running a draining node's file.
EXPORT_POLICY = json.dumps(
    {
        "name": "global",
        "direction": 2,
        "policies": [
            {
                "name": "EXPORT-V4",
                "statements": [
                    {"name": "EXPORT-V4-1", "conditions": {"prefix_set": {"name": "EXPORT-V4-1"}, "rpki_result": -1}, "actions": {"route_action": 1}},
                    {
                        "name": "EXPORT-V4-2",
                        "conditions": {"prefix_set": {"name": "EXPORT-V4-2"}, "rpki_result": -1},
                        "actions": {
                            "route_action": 1,
                            "community": {"communities": ["65000:10", "65535:0"]},
                            "large_community": {"communities": ["65000:1:2"]},
                        },
                    },
                ],
            }
        ],
        "default_action": 2,
    }
)

EXPORT_CONFIG = """
[global.apply-policy.config]
  export-policy-list = ["EXPORT-V4"]
[[policy-definitions]]
  name = "EXPORT-V4"
  [[policy-definitions.statements]]
    name = "EXPORT-V4-1"
    [policy-definitions.statements.conditions.match-prefix-set]
      prefix-set = "EXPORT-V4-1"
  [[policy-definitions.statements]]
    name = "EXPORT-V4-2"
    [policy-definitions.statements.conditions.match-prefix-set]
      prefix-set = "EXPORT-V4-2"
    [policy-definitions.statements.actions.bgp-actions.set-community.set-community-method]
      communities-list = ["65535:0", "65000:10"]
    [policy-definitions.statements.actions.bgp-actions.set-large-community.set-large-community-method]
      communities-list = ["65000:1:2"]
"""


def test_the_live_export_policy_is_compared_with_the_file():
    # After a SIGHUP gobgpd applies the file asynchronously: the apply waits
    # until the live export policy is the file's (a drain changes only that).
    import tomllib

    live = parse_export_policy(EXPORT_POLICY)
    assert live == export_view(tomllib.loads(EXPORT_CONFIG))
    assert live != export_view(tomllib.loads(EXPORT_CONFIG.replace('"65535:0", ', "")))
    assert parse_export_policy('{"name":"global","direction":2,"default_action":2}') == [] == export_view({})


class _NoGobgp:
    def __init__(self, check_mode):
        self.check_mode = check_mode
        self.warnings = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        assert not required
        return None

    def warn(self, text):
        self.warnings.append(text)


def test_a_node_without_gobgpd_is_planned_with_a_warning_and_not_applied():
    planned = _NoGobgp(check_mode=True)
    assert GoBGP(planned).validate("/nonexistent") == (True, "")
    assert planned.warnings == ["gobgpd is not installed yet: the configuration was not validated"]
    assert GoBGP(_NoGobgp(check_mode=False)).validate("/nonexistent") == (False, "gobgpd is not installed (Debian package gobgpd)")
    assert GoBGP(_NoGobgp(check_mode=False)).running() is False
