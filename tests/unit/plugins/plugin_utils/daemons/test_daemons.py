# -*- coding: utf-8 -*-
"""The controller's daemon driver registry: choices, defaults, dispatch, capability gaps."""

from __future__ import annotations

import dataclasses
import os

import pytest

from ansible_collections.anycast.fabric.plugins.lookup.fabric_data import LookupModule
from ansible_collections.anycast.fabric.plugins.plugin_utils import daemons
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import hosts, model
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops import plan
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render
from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons.base import CAPABILITIES, Driver
from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons.frr import FRR_DEFAULTS
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.inputs import HIDDEN
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.problems import Problems
from fabric_factory import small_fabric

PASSWORD = "s3cret-md5"


@pytest.fixture(scope="module")
def fabric():
    hostvars, groups = small_fabric()
    intents, problems = model.build(hostvars, groups)
    assert not problems, problems.messages()
    return hostvars, groups, intents


def test_the_registry_keeps_todays_choices_and_defaults():
    assert daemons.names_for("node")[:2] == ("bird", "frr")
    assert "bird" not in daemons.names_for("tor") and "bird" not in daemons.names_for("spine")
    assert daemons.default_for("node") == "bird"
    assert daemons.default_for("tor") == daemons.default_for("spine") == "frr"
    for role in ("node", "tor", "spine"):
        assert sum(1 for d in daemons.DRIVERS.values() if role in d.default_for) == 1, "one default per role"


@pytest.mark.parametrize("name", sorted(daemons.DRIVERS))
def test_every_driver_is_complete(name):
    drv = daemons.driver(name)
    assert drv.name == name and isinstance(drv, Driver)
    assert drv.default_for <= drv.roles and drv.roles <= {"node", "tor", "spine"}
    assert drv.capabilities <= set(CAPABILITIES)
    if drv.identity is None:
        # Managed elsewhere: a hand-off in the render folder, nothing installed or run on the host.
        assert name == "external" and drv.roles == {"tor", "spine"} and not drv.default_for
        assert drv.config_file and not drv.config_path and not drv.packages and not drv.service
    else:
        assert drv.config_file and drv.config_path.endswith("/" + drv.config_file)
        assert drv.packages and drv.service
    assert os.path.exists(os.path.join(render.TEMPLATES, drv.template))
    facts = drv.facts()
    assert facts["name"] == name and facts["packages"] == list(drv.packages) and facts["config_path"] == drv.config_path


def test_render_dispatches_to_the_hosts_driver(fabric):
    _hostvars, _groups, intents = fabric
    for intent in intents.values():
        drv = daemons.driver(intent.daemon)
        assert render.config_filename(intent) == drv.config_file
        assert render.render(intent, password=PASSWORD) == drv.render(render._environment(), intent, PASSWORD)


def test_an_unknown_daemon_is_a_render_error_not_a_crash(fabric):
    intent = dataclasses.replace(fabric[2]["n1"], daemon="quagga")
    with pytest.raises(render.RenderError, match="daemon 'quagga' is not one of bird, frr"):
        render.render(intent, password=PASSWORD)
    with pytest.raises(KeyError):
        render.config_filename(intent)


def test_frr_defaults_are_never_rendered(fabric):
    intent = fabric[2]["tor1"]
    bgp = dataclasses.replace(intent.bgp, keepalive_time=FRR_DEFAULTS["keepalive_time"], hold_time=FRR_DEFAULTS["hold_time"])
    intent = dataclasses.replace(intent, bgp=bgp)
    assert "timers bgp" not in render.render(intent, password=PASSWORD)


def test_the_plan_asks_the_driver_which_sessions_reset(fabric, monkeypatch):
    intents = fabric[2]
    calls = []

    def resets(self, intent, observed):
        calls.append(intent.hostname)
        return {"10.1.1.1"}

    monkeypatch.setattr(type(daemons.driver("bird")), "resets", resets)
    observed = {"n1": {"config": {"changed": True, "diff": {"before": "a\n", "after": "b\n"}}, "bgp": {"sessions": [{"name": "x", "peer": "10.1.1.1"}]}}}
    report = plan.build(intents, observed, planned_hosts=["n1"])
    assert calls == ["n1"] and report["hosts"]["n1"]["sessions_reset"] == ["10.1.1.1"]


def test_the_base_driver_resets_every_live_session_when_it_knows_no_better():
    observed = {"bgp": {"sessions": [{"peer": "10.0.0.1"}, {"peer": "10.0.0.2"}]}}
    assert Driver().resets({}, observed) == {"10.0.0.1", "10.0.0.2"}


class NoBfd(Driver):
    name = "nobfd"
    roles = frozenset(["node"])
    capabilities = frozenset(["communities", "drain"])


def _hosts(hostvars, groups):
    problems = Problems()
    roles = {n: role for group, role in hosts.ROLE_GROUPS for n in groups.get(group, [])}
    read = {n: hosts.read_host(problems, n, roles[n], hostvars[n]) for n in roles}
    assert not problems
    return read


def test_capability_gaps_are_problems_with_the_host_the_path_and_a_hidden_key(fabric, monkeypatch):
    hostvars, groups, _intents = fabric
    monkeypatch.setitem(daemons.DRIVERS, "nobfd", NoBfd())
    read = _hosts(hostvars, groups)
    read["n2"].daemon = "nobfd"  # n2 has a VIP with communities (capable) and the fabric has BFD and a key (not)
    fabric_settings = model.Fabric(pools=[], bgp=dict(model_bgp(hostvars)), asn_scheme="per_rack", asn_base=None)
    problems = Problems()
    hosts.daemon_problems(read, fabric_settings, problems)
    found = [(p.host, p.path, p.value) for p in problems]
    assert ("n2", "fabric_bgp.bfd", "true") in found
    assert ("n2", "fabric_bgp.password", repr(HIDDEN)) in found
    assert all(host == "n2" for host, _path, _value in found)
    assert not any("communities" in path for _host, path, _value in found)
    assert PASSWORD not in "\n".join(str(p) for p in problems)
    assert "nobfd cannot do BFD" in "\n".join(str(p) for p in problems)


def test_bird_and_frr_have_no_capability_gaps_in_a_valid_fabric(fabric):
    hostvars, groups, _intents = fabric
    read = _hosts(hostvars, groups)
    fabric_settings = model.Fabric(pools=[], bgp=dict(model_bgp(hostvars), ttl_security=True, graceful_restart=True), asn_scheme="per_rack", asn_base=None)
    problems = Problems()
    hosts.daemon_problems(read, fabric_settings, problems)
    assert not problems


def model_bgp(hostvars):
    from ansible_collections.anycast.fabric.plugins.plugin_utils.model.settings import BGP_DEFAULTS

    return dict(BGP_DEFAULTS, password=hostvars["n1"]["fabric_bgp"]["password"])


@pytest.fixture
def lookup():
    import yaml
    from ansible import constants as C

    from ansible_collections.anycast.fabric.plugins.lookup import fabric_data

    name = "anycast.fabric.fabric_data"
    C.config.initialize_plugin_configuration_definitions("lookup", name, yaml.safe_load(fabric_data.DOCUMENTATION)["options"])
    plugin = LookupModule()
    plugin._load_name = name
    return plugin


def test_the_lookup_returns_the_driver_facts_without_a_run_folder(lookup):
    from ansible.errors import AnsibleLookupError

    assert lookup.run(["daemon"], {}, daemon="bird") == [daemons.driver("bird").facts()]
    with pytest.raises(AnsibleLookupError, match="not one of"):
        lookup.run(["daemon"], {}, daemon="quagga")


def test_the_lookup_reads_the_hosts_daemon_from_the_run_folder(lookup, fabric, tmp_path):
    from ansible_collections.anycast.fabric.plugins.plugin_utils.run import fabric_run

    intents = fabric[2]
    run = fabric_run.write_run(intents, str(tmp_path))
    for host in ("n1", "n2", "tor1"):
        facts = lookup.run(["daemon"], {"fabric_run": run, "inventory_hostname": host})[0]
        assert facts == daemons.driver(intents[host].daemon).facts()
    assert lookup.run(["daemon"], {"fabric_run": run}, host="spine1")[0]["service"] == "frr"
