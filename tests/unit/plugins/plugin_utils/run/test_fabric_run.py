# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run folder, the fabric_data lookup and the plan with upstreams: no fabric-sized facts."""

from __future__ import annotations

import json
import os
import stat

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops import drain, plan, rollout
from ansible_collections.anycast.fabric.plugins.plugin_utils.run import fabric_run
from fabric_factory import small_fabric, two_sites

PASSWORD = "s3cret-md5"


def build(factory):
    intents, problems = model.build(*factory())
    assert not problems, problems.messages()
    return intents


@pytest.fixture(params=[small_fabric, two_sites], ids=["small", "two_sites"])
def intents(request):
    return build(request.param)


@pytest.fixture
def run(intents, tmp_path):
    return fabric_run.write_run(intents, str(tmp_path))


def test_undrain_waits_from_a_node_record_and_its_tor_uplinks_match_the_whole_fabric(intents, run):
    for name, intent in sorted(intents.items()):
        if intent.role != "node":
            continue
        present = [v.prefix for v in intent.vips]
        want = drain.undrain_waits(intents, name, present)
        assert drain.undrain_waits_for(fabric_run.intent(run, name), present, lambda tor: fabric_run.tor_uplinks(run, tor)) == want
        assert any(w["router"].startswith("spine") for w in want)  # the spines' waits are there too


def test_the_run_folder_is_private_holds_every_intent_and_no_key(intents, run):
    assert stat.S_IMODE(os.stat(run).st_mode) == 0o700
    for root, dirs, files in os.walk(run):
        for d in dirs:
            assert stat.S_IMODE(os.stat(os.path.join(root, d)).st_mode) == 0o700
        for f in files:
            path = os.path.join(root, f)
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
            with open(path) as handle:
                assert PASSWORD not in handle.read()
            # Names come from digests, never from host names.
            stem = f[: -len(".json")]
            assert f.endswith(".json") and (stem in ("manifest", "rollout", "intents") or (len(stem) == 64 and set(stem) <= set("0123456789abcdef")))
    for name, intent in intents.items():
        assert fabric_run.intent(run, name) == json.loads(json.dumps(intent.to_dict()))
    assert fabric_run.intents(run) == json.loads(json.dumps({n: i.to_dict() for n, i in intents.items()}))
    assert fabric_run.intent(run, "not-a-host") is None
    assert fabric_run.rollout_of(run) == rollout.rollout(intents)
    assert fabric_run.rollout_of(run, "tor") == rollout.rollout(intents, "tor")
    assert fabric_run.check_run(run)["hosts"] == len(intents)


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs", "..", "a\nb", "n\0", "é" * 300])
def test_host_keys_are_plain_file_names_whatever_the_host_name(name):
    key = fabric_run.host_key(name)
    assert len(key) == 64 and set(key) <= set("0123456789abcdef")


def test_a_gone_or_foreign_run_folder_fails_clearly(tmp_path):
    with pytest.raises(fabric_run.RunError, match="not an anycast.fabric run folder"):
        fabric_run.intent(str(tmp_path), "n1")
    gone = str(tmp_path / (fabric_run.RUN_PREFIX + "x"))
    with pytest.raises(fabric_run.RunError, match="gone or incomplete"):
        fabric_run.intent(gone, "n1")


def test_two_runs_never_share_a_folder(intents, tmp_path):
    assert fabric_run.write_run(intents, str(tmp_path)) != fabric_run.write_run(intents, str(tmp_path))


# The lookup ---------------------------------------------------------------------


NAME = "anycast.fabric.fabric_data"


@pytest.fixture(scope="module")
def loader():
    """Register the lookup's options from its DOCUMENTATION, as Ansible's plugin loader does."""
    import yaml
    from ansible import constants as C

    from ansible_collections.anycast.fabric.plugins.lookup import fabric_data

    options = yaml.safe_load(fabric_data.DOCUMENTATION)["options"]
    C.config.initialize_plugin_configuration_definitions("lookup", NAME, options)
    return fabric_data.LookupModule


def lookup(what, variables, **kwargs):
    from ansible_collections.anycast.fabric.plugins.lookup.fabric_data import LookupModule

    plugin = LookupModule()
    plugin._load_name = NAME
    return plugin.run([what], variables=variables, **kwargs)[0]


def test_the_lookup_reads_the_current_hosts_intent_from_its_fabric_run(loader, intents, run):
    name = sorted(intents)[0]
    assert lookup("intent", {"fabric_run": run, "inventory_hostname": name}) == json.loads(json.dumps(intents[name].to_dict()))


def test_the_lookup_finds_the_run_on_localhost_as_in_a_plays_hosts_line(loader, intents, run):
    variables = {"hostvars": {"localhost": {"fabric_run": run}}}
    assert lookup("rollout", variables) == rollout.rollout(intents)
    tor = next(n for n, i in sorted(intents.items()) if i.role == "tor")
    assert lookup("expected_paths", variables, host=tor) == rollout.expected_paths(intents[tor], intents=intents)


def test_the_lookup_refuses_hosts_outside_the_fabric_unless_asked(loader, run):
    variables = {"fabric_run": run, "inventory_hostname": "localhost"}
    with pytest.raises(AnsibleLookupError, match="localhost is not a fabric host"):
        lookup("intent", variables)
    assert lookup("intent", variables, missing="none") is None


def test_the_lookup_without_a_run_says_what_to_run_first(loader):
    with pytest.raises(AnsibleLookupError, match="run the anycast.fabric.intent role"):
        lookup("intent", {"inventory_hostname": "n1", "hostvars": {"localhost": {}}})
    with pytest.raises(AnsibleLookupError, match="one term"):
        lookup("everything", {})


def test_the_lookup_gives_a_nodes_undrain_waits(loader, intents, run):
    node = next(n for n, i in sorted(intents.items()) if i.role == "node")
    present = [v.prefix for v in intents[node].vips]
    got = lookup("undrain_waits", {"fabric_run": run, "inventory_hostname": node}, present=present)
    assert got == drain.undrain_waits(intents, node, present)


def test_the_lookup_gives_a_nodes_rack_mates_from_its_own_record(loader, intents, run):
    for name, intent in sorted(intents.items()):
        got = lookup("rack_mates", {"fabric_run": run, "inventory_hostname": name})
        if intent.role != "node":
            assert got == []
            continue
        want = [
            {"name": other, "ipv4": o.ipv4.split("/")[0], "ipv6": (o.ipv6 or "").split("/")[0]}
            for other, o in sorted(intents.items())
            if o.role == "node" and other != name and (o.site, o.rack) == (intent.site, intent.rack)
        ]
        assert got == want


# The plan with upstream peers (the peer-group names come from _contract) ---------


def test_a_changed_upstream_timer_on_a_spine_resets_only_the_upstream_session():
    intents = build(two_sites)
    spine = intents["spine-a"]
    assert spine.daemon == "frr"
    upstream = next(p for p in spine.peers if p.role == "upstream")
    observed = {}
    for name, intent in intents.items():
        sessions = [{"name": p.name, "peer": p.address, "established": True} for p in intent.peers]
        observed[name] = {"config": {"changed": False}, "bgp": {"sessions": sessions, "exports": []}, "drain": "in_service", "error": None}
    observed["spine-a"]["config"] = {
        "changed": True,
        "commands": ["neighbor UPSTREAMS-V4 timers 3 9"],
        "diff": {"before": "a\n", "after": "b\n"},
    }
    report = plan.build(intents, observed)
    assert report["hosts"]["spine-a"]["sessions_reset"] == [upstream.address]
    assert any("spine-a: the change re-establishes 1 session(s)" in w for w in report["warnings"])


def test_a_limited_plan_reports_only_its_hosts_and_no_vip_moved_outside_as_lost():
    intents = build(two_sites)
    observed = {"a1": {"config": {"changed": False}, "bgp": {"sessions": [], "exports": ["198.51.100.80/32"]}, "drain": "in_service", "error": None}}
    report = plan.build(intents, observed, planned_hosts=["a1"])
    assert sorted(report["hosts"]) == ["a1"]
    assert not any("loses its last node" in w for w in report["warnings"])
