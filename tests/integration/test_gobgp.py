# -*- coding: utf-8 -*-
"""A GoBGP node (Debian's gobgpd) against an FRR ToR, both rendered by the collection, in containers.

One rack: an FRR ToR and a GoBGP node, dual stack, TCP-MD5, no BFD (GoBGP has
none). The node is set up by the routing role's own gobgp.yml (system user,
unit drop-in, originate script), configured by routing_config and read by
bgp_info. Runs with FABRIC_DOCKER_TESTS=1 (make test sets it), under the
heavy lock like the other container tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import time

import pytest

from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render
from conftest import REPO, ansible_env, in_container, run_module, sh

pytestmark = pytest.mark.skipif(os.environ.get("FABRIC_DOCKER_TESTS") != "1", reason="set FABRIC_DOCKER_TESTS=1 to run the Docker lab tests")

LAB = REPO / "lab"
TAG = "gb%d" % os.getpid()
NETWORK = TAG + "-net"
PASSWORD = "it-md5-key"
TOR, NODE = TAG + "-tor", TAG + "-g1"
VIP, VIP6, WEB = "198.51.100.10", "2001:db8:ac::10", "198.51.100.11"
POD, POD6 = "10.244.21.0/24", "fd00:244:21::/64"
ADDRESSES = {TOR: ("10.204.0.2", "fd00:204::2"), NODE: ("10.204.0.21", "fd00:204::21")}
CONF = "/etc/gobgpd.conf"


def intents():
    common = {"fabric_anycast_pools": ["198.51.100.0/24", "2001:db8:ac::/48"], "fabric_bgp": {"password": PASSWORD, "bfd": False}}
    hosts = {
        TOR: {"fabric_rack": "r1", "fabric_asn": 65101},
        NODE: {
            "fabric_rack": "r1",
            "fabric_daemon": "gobgp",
            "fabric_vips": [VIP, {"address": WEB, "communities": ["65000:80"], "large_communities": ["4200000000:1:2"]}, VIP6],
            "fabric_pod_cidrs": [POD, POD6],
        },
    }
    for name, variables in hosts.items():
        variables.update(common, fabric_ipv4=ADDRESSES[name][0] + "/24", fabric_ipv6=ADDRESSES[name][1] + "/64")
    built, problems = model.build(hosts, {"fabric_tors": [TOR], "fabric_nodes": [NODE]})
    assert not problems, problems.messages()
    return built


def node_config(drain="in_service"):
    return render.render(intents()[NODE], password=PASSWORD, drain=drain)


def role_gobgp_tasks(host):
    """Run the routing role's gobgp.yml on HOST, as site.yml would."""
    play = [{"hosts": host, "gather_facts": False, "tasks": [{"ansible.builtin.include_role": {"name": "anycast.fabric.routing", "tasks_from": "gobgp"}}]}]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "play.json")
        with open(path, "w") as handle:
            json.dump(play, handle)
        cmd = [str(REPO / ".venv" / "bin" / "ansible-playbook"), path, "-i", "%s," % host, "-c", "community.docker.docker"]
        cmd += ["-e", "ansible_python_interpreter=/usr/bin/python3"]
        proc = subprocess.run(cmd, env=ansible_env(), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def rack():
    sh(LAB / "docker-up.sh", timeout=300)
    sh(LAB / "build-image.sh", timeout=900)
    sh(LAB / "net.sh", "create", NETWORK, "10.204.0.0/24", "fd00:204::/64")
    try:
        for name, (ip4, ip6) in ADDRESSES.items():
            sh(LAB / "run-container.sh", name, "--network", NETWORK, "--ip", ip4, "--ip6", ip6, "--rw-sysctl", "--replace", timeout=180)
        in_container(TOR, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
        in_container(TOR, "sed", "-i", "s/^bgpd=no/bgpd=yes/", "/etc/frr/daemons")
        in_container(TOR, "sh", "-c", "grep -q integrated-vtysh /etc/frr/vtysh.conf || echo 'service integrated-vtysh-config' >> /etc/frr/vtysh.conf")
        in_container(TOR, "systemctl", "start", "frr")
        # The routing role installs the driver's packages (gobgpd) with apt.
        in_container(NODE, "sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gobgpd >/dev/null")
        role_gobgp_tasks(NODE)
        yield {TOR: render.render(intents()[TOR], password=PASSWORD), NODE: node_config()}
    finally:
        sh("docker", "rm", "-f", TOR, NODE, check=False)
        sh(LAB / "net.sh", "rm", NETWORK, check=False)


def apply(host, daemon, content, **kwargs):
    args = dict(dict(session_wait=30), daemon=daemon, content=content, **kwargs)
    return run_module("anycast.fabric.routing_config", args, container=host, diff=True)


def sha(host, path=CONF):
    return hashlib.sha256(in_container(host, "cat", path).encode()).hexdigest()


def tor_path(prefix):
    family = "ipv6" if ":" in prefix else "ipv4"
    data = json.loads(in_container(TOR, "vtysh", "-c", "show bgp %s unicast %s json" % (family, prefix)) or "{}")
    return (data.get("paths") or [None])[0]


def wait_tor(prefix, present=True, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        path = tor_path(prefix)
        if (path is not None) == present:
            return path
        time.sleep(0.5)
    pytest.fail("%s is %s on the ToR after %ds" % (prefix, "missing" if present else "still there", timeout))


def generations(host=NODE):
    info = run_module("anycast.fabric.bgp_info", {"daemon": "gobgp", "gather_exports": False}, container=host)
    assert not info.get("failed"), info.get("msg")
    return {(s["peer"], s["family"]): s["generation"] for s in info["sessions"] if s["established"]}


@pytest.fixture(scope="module")
def converged(rack):
    result = apply(TOR, "frr", rack[TOR])
    assert not result.get("failed"), result.get("msg")
    # gobgpd is not running yet (its unit waits for the file): the file is
    # validated and written, and the unit's start originates the prefixes.
    result = apply(NODE, "gobgp", rack[NODE])
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] and not result["daemon_running"]
    in_container(NODE, "systemctl", "start", "gobgpd")
    wait = {"wait_for_established": True, "prefixes": [VIP + "/32", VIP6 + "/128"], "min_paths": 1, "timeout": 90}
    info = run_module("anycast.fabric.bgp_info", wait, container=TOR)
    assert not info.get("failed"), info.get("msg")
    return rack


def test_sessions_come_up_and_the_tor_gets_vips_and_pods_with_their_communities(converged):
    # The lab image has BIRD and FRR installed too, so daemon=auto would pick
    # FRR here; the playbooks pass the intent's daemon, as this does.
    info = run_module("anycast.fabric.bgp_info", {"daemon": "gobgp"}, container=NODE)
    assert not info.get("failed"), info.get("msg")
    assert info["daemon"] == "gobgp"
    assert sorted((s["peer"], s["family"], s["established"]) for s in info["sessions"]) == [
        (ADDRESSES[TOR][0], "ipv4", True),
        (ADDRESSES[TOR][1], "ipv6", True),
    ]
    assert all(s["peer_as"] == 65101 and s["bfd"] is None for s in info["sessions"])
    assert info["exports"] == sorted([POD, VIP + "/32", WEB + "/32", VIP6 + "/128", POD6])
    web = tor_path(WEB + "/32")
    assert web["community"]["list"] == ["65000:80"]
    assert web["largeCommunity"]["list"] == ["4200000000:1:2"]
    assert web["origin"] == "IGP" and web["aspath"]["string"] == str(intents()[NODE].asn)
    for prefix in (VIP + "/32", POD, VIP6 + "/128", POD6):
        assert tor_path(prefix) is not None, prefix


def test_the_api_listens_on_localhost_only_and_the_key_is_not_world_readable(converged):
    assert in_container(NODE, "stat", "-c", "%a %U %G", CONF).split() == ["640", "root", "gobgpd"]
    assert in_container(NODE, "ps", "-o", "user=", "-C", "gobgpd").split() == ["gobgpd"]
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in in_container(NODE, "cat", table).splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and local.endswith(":C383"):  # LISTEN on 50051
                listening.append(local)
    assert listening == ["0100007F:C383"], listening


def test_reapplying_the_same_content_changes_nothing_and_resets_nothing(converged):
    before = generations()
    result = apply(NODE, "gobgp", converged[NODE])
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False and result["reloaded"] is False
    assert generations() == before


def test_a_drain_tags_then_withdraws_the_vips_without_resetting_sessions(converged):
    before = generations()
    try:
        result = apply(NODE, "gobgp", node_config("draining"))
        assert not result.get("failed"), result.get("msg")
        assert result["reloaded"] and result["sessions_reset"] == []
        deadline = time.time() + 30
        while "graceful-shutdown" not in ((tor_path(VIP + "/32") or {}).get("community") or {}).get("string", ""):
            assert time.time() < deadline, tor_path(VIP + "/32")
            time.sleep(0.5)
        assert tor_path(VIP + "/32")["locPrf"] == 0
        assert "graceful-shutdown" not in json.dumps(tor_path(POD))

        result = apply(NODE, "gobgp", node_config("drained"))
        assert not result.get("failed"), result.get("msg")
        assert "gobgp global rib -a ipv4 del %s/32" % VIP in result["commands"]
        for prefix in (VIP + "/32", WEB + "/32", VIP6 + "/128"):
            wait_tor(prefix, present=False)
        assert tor_path(POD) is not None and tor_path(POD6) is not None
    finally:
        result = apply(NODE, "gobgp", converged[NODE])
        assert not result.get("failed"), result.get("msg")
    web = wait_tor(WEB + "/32")
    assert web["community"]["list"] == ["65000:80"]
    assert generations() == before


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda text: text.replace("peer-as =", "peer-az =", 1), "invalid keys: peer-az"),
        # gobgpd -d accepts it; the running gobgpd would only log a warning.
        (lambda text: text.replace('prefix-set = "EXPORT-V4-1"', 'prefix-set = "NOPE"'), "prefix-set NOPE is not defined"),
    ],
)
def test_a_config_gobgp_refuses_is_not_applied(converged, change, message):
    digest, before = sha(NODE), generations()
    result = apply(NODE, "gobgp", change(converged[NODE]))
    assert result.get("failed") and "rejected the new configuration" in result["msg"] and message in result["msg"]
    assert PASSWORD not in result["msg"]
    assert sha(NODE) == digest
    assert generations() == before


def test_a_change_that_breaks_the_sessions_is_rolled_back(converged):
    digest = sha(NODE)
    broken = converged[NODE].replace("peer-as = 65101", "peer-as = 65199")
    result = apply(NODE, "gobgp", broken, session_wait=15)
    assert result.get("failed") and result["rolled_back"], result.get("msg")
    assert sha(NODE) == digest
    info = run_module("anycast.fabric.bgp_info", {"daemon": "gobgp", "wait_for_established": True, "timeout": 60}, container=NODE)
    assert not info.get("failed"), info.get("msg")
    wait_tor(VIP + "/32")


def test_a_restarted_gobgpd_originates_its_prefixes_again(converged):
    in_container(NODE, "systemctl", "restart", "gobgpd")
    info = run_module("anycast.fabric.bgp_info", {"daemon": "gobgp", "wait_for_established": True, "timeout": 60}, container=NODE)
    assert not info.get("failed"), info.get("msg")
    assert info["exports"] == sorted([POD, VIP + "/32", WEB + "/32", VIP6 + "/128", POD6])
    wait_tor(VIP6 + "/128")
