# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health agent and the controller accept and refuse the same VIPs and VIP interfaces.

Both run module_utils/_net_rules.py (the agent its vendored copy): a VIP is
read by the model's hosts._host_route() and by the agent's config.host_route(),
the interface by the model's `fabric_vip_interface` field and by the agent's
parse_config(). A table of hostile values goes through both sides.
"""

from __future__ import annotations

import pytest

from ansible_collections.anycast.fabric.plugins.module_utils import _net_rules, _schema
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import hosts, schema
from healthd_package import load

healthd = load()

VIPS = [
    # (value, accepted)
    ("198.51.100.10", True),
    ("198.51.100.10/32", True),
    ("2001:db8:ac::10", True),
    ("2001:db8:ac::10/128", True),
    ("2001:DB8:AC::10", True),
    ("169.254.10.1", True),  # the model allows an IPv4 link-local VIP; so does the agent now
    ("198.51.100.0/24", False),
    ("198.51.100.10/31", False),
    ("2001:db8:ac::/64", False),
    ("198.51.100.10/33", False),
    ("198.51.100.10/", False),
    ("198.51.100.10/032", True),  # Python reads a length with a leading zero; both sides alike
    ("::ffff:198.51.100.10", False),
    ("::ffff:198.51.100.10/128", False),
    ("::198.51.100.10", False),
    ("fe80::1", False),
    ("fe80::1%eth0", False),
    ("fe80::1%eth0\n", False),
    ("127.0.0.1", False),
    ("::1", False),
    ("0.0.0.0", False),
    ("::", False),
    ("0.1.2.3", False),
    ("255.255.255.255", False),
    ("240.0.0.1", False),
    ("224.0.0.1", False),
    ("ff02::1", False),
    (" 198.51.100.10", False),
    ("198.51.100.10\n", False),
    ("198.51.100.10\x00", False),
    ("198.51.100.10\t", False),
    ("198.51.100.010", False),
    ("web.example.com", False),
    ("", False),
    ("1" * 4400, False),
    (3325256714, False),
    (None, False),
    (True, False),
    (["198.51.100.10"], False),
    ({"address": "198.51.100.10"}, False),
]

INTERFACES = [
    ("lo", True),
    ("eth0", True),
    ("dummy-vips", True),
    ("vlan.100", True),
    ("bond_0", True),
    ("a" * 15, True),
    ("a" * 16, False),
    ("a-very-long-interface", False),
    ("", False),
    ("-eth0", False),
    (".", False),
    ("..", False),
    ("eth/0", False),
    ("eth 0", False),
    ("eth0\n", False),
    ("eth0\t", False),
    ("eth\x000", False),
    ("bond0:1", False),
    ("éth0", False),
    ("eth0%", False),
    (None, False),
    (5, False),
    (["lo"], False),
]


class Collect(_schema.Reader):
    def __init__(self):
        self.problems = []

    def fail(self, path, value, message):
        self.problems.append((path, value, message))


def controller_vip(value):
    """The model's reading of a VIP: (host route text or None, reason or None)."""
    reader = Collect()
    network = hosts._host_route(reader, "fabric_vips[0]", value)
    return (str(network) if network is not None else None), (reader.problems[0][2] if reader.problems else None)


def agent_vip(value):
    """The agent's reading of a VIP: (host route text or None, its error or None)."""
    try:
        return healthd.modules.config.host_route(value, "vips[0].prefix"), None
    except healthd.modules.config.ConfigError as exc:
        return None, str(exc)


@pytest.mark.parametrize(("value", "accepted"), VIPS, ids=[repr(v)[:40] for v, _a in VIPS])
def test_a_vip_is_accepted_or_refused_alike(value, accepted):
    model_route, model_reason = controller_vip(value)
    agent_route, agent_error = agent_vip(value)
    assert (model_route is not None) == (agent_route is not None) == accepted
    assert model_route == agent_route
    if not accepted:
        # The same reason, in the agent's "WHERE: REASON, not VALUE" form.
        assert agent_error == "vips[0].prefix: %s, not %r" % (model_reason, value)
        assert _net_rules.host_route(value) == (None, model_reason)


def model_interface(value):
    field = schema.tables()["host_variables"].field("fabric_vip_interface")
    checked, errors = _schema.check(field, value)
    return checked, [reason for _suffix, _shown, reason in errors]


@pytest.mark.parametrize(("value", "accepted"), INTERFACES, ids=[repr(v)[:40] for v, _a in INTERFACES])
def test_a_vip_interface_is_accepted_or_refused_alike(value, accepted):
    checked, reasons = model_interface(value)
    try:
        config = healthd.modules.config.parse_config({"interface": value})
        agent, error = config["interface"], None
    except healthd.modules.config.ConfigError as exc:
        agent, error = None, str(exc)
    assert (checked is not None) == (agent is not None) == accepted
    if accepted:
        assert checked == agent == value
    else:
        assert error == "interface: %s, not %r" % (reasons[0], value)
        assert _net_rules.interface_problem(value) == reasons[0]


def test_the_model_declares_the_shared_interface_rule():
    field = schema.tables()["host_variables"].field("fabric_vip_interface")
    assert field.pattern is _net_rules.INTERFACE_RE and field.rule is _net_rules.INTERFACE_RULE
    assert schema.INTERFACE_RE is _net_rules.INTERFACE_RE
