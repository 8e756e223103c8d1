# -*- coding: utf-8 -*-
"""routing_config, bgp_info and loopback_vip against real BIRD and FRR in containers.

One rack: an FRR ToR, a BIRD node and an FRR node on one Docker network, with
real BGP (TCP-MD5) and BFD sessions. Runs with FABRIC_DOCKER_TESTS=1 (make test
sets it); the image is built once and cached.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import time

import pytest

from ansible_collections.anycast.fabric.plugins.module_utils._bgp_state import same_generation
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render
from conftest import REPO, container_succeeds, in_container, run_module, sh

pytestmark = pytest.mark.skipif(os.environ.get("FABRIC_DOCKER_TESTS") != "1", reason="set FABRIC_DOCKER_TESTS=1 to run the Docker lab tests")

LAB = REPO / "lab"
TAG = "rm%d" % os.getpid()
NETWORK = TAG + "-net"
PASSWORD = "it-md5-key"
TOR, BIRD_NODE, FRR_NODE = TAG + "-tor", TAG + "-n1", TAG + "-n2"
VIP, VIP6 = "198.51.100.10", "2001:db8:ac::10"
ADDRESSES = {TOR: ("10.202.0.2", "fd00:202::2"), BIRD_NODE: ("10.202.0.11", "fd00:202::11"), FRR_NODE: ("10.202.0.12", "fd00:202::12")}


def fabric_configs(**bgp):
    """The rack's configs, rendered by the collection's own model and renderer."""
    common = {"fabric_anycast_pools": ["198.51.100.0/24", "2001:db8:ac::/48"], "fabric_bgp": dict(password=PASSWORD, **bgp)}
    hosts = {
        TOR: {"fabric_rack": "r1", "fabric_asn": 65101},
        BIRD_NODE: {"fabric_rack": "r1", "fabric_vips": [VIP, VIP6], "fabric_pod_cidrs": ["10.244.1.0/24"]},
        FRR_NODE: {"fabric_rack": "r1", "fabric_daemon": "frr", "fabric_vips": [VIP, VIP6]},
    }
    for name, variables in hosts.items():
        variables.update(common, fabric_ipv4=ADDRESSES[name][0] + "/24", fabric_ipv6=ADDRESSES[name][1] + "/64")
    intents, problems = model.build(hosts, {"fabric_tors": [TOR], "fabric_nodes": [BIRD_NODE, FRR_NODE]})
    assert not problems, problems.messages()
    return {name: render.render(intent, password=PASSWORD) for name, intent in intents.items()}


@pytest.fixture(scope="module")
def rack():
    sh(LAB / "docker-up.sh", timeout=300)
    sh(LAB / "build-image.sh", timeout=900)
    sh(LAB / "net.sh", "create", NETWORK, "10.202.0.0/24", "fd00:202::/64")
    try:
        for name, (ip4, ip6) in ADDRESSES.items():
            sh(LAB / "run-container.sh", name, "--network", NETWORK, "--ip", ip4, "--ip6", ip6, "--rw-sysctl", "--replace", timeout=180)
            # Routers forward; FRR's running-config would otherwise carry
            # "no ipv6 forwarding" and every frr-reload would try to change it.
            in_container(name, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
        for name in (TOR, FRR_NODE):
            in_container(name, "sed", "-i", "s/^bgpd=no/bgpd=yes/; s/^bfdd=no/bfdd=yes/", "/etc/frr/daemons")
            in_container(name, "sh", "-c", "grep -q integrated-vtysh /etc/frr/vtysh.conf || echo 'service integrated-vtysh-config' >> /etc/frr/vtysh.conf")
            in_container(name, "systemctl", "start", "frr")
        in_container(BIRD_NODE, "systemctl", "start", "bird")
        yield fabric_configs()
    finally:
        sh("docker", "rm", "-f", TOR, BIRD_NODE, FRR_NODE, check=False)
        sh(LAB / "net.sh", "rm", NETWORK, check=False)


def apply(host, daemon, content, **kwargs):
    return run_module("anycast.fabric.routing_config", dict(daemon=daemon, content=content, session_wait=20, **kwargs), container=host, diff=True)


def file_sha(host, daemon):
    path = "/etc/bird/bird.conf" if daemon == "bird" else "/etc/frr/frr.conf"
    return hashlib.sha256(in_container(host, "cat", path).encode()).hexdigest()


def established(host):
    info = run_module("anycast.fabric.bgp_info", {"gather_exports": False}, container=host)
    return {(s["peer"], s["family"]): s for s in info["sessions"] if s["established"]}


@pytest.fixture(scope="module")
def converged(rack):
    """The good configs applied everywhere, VIPs on the nodes, sessions up."""
    for host, daemon in ((TOR, "frr"), (BIRD_NODE, "bird"), (FRR_NODE, "frr")):
        result = apply(host, daemon, rack[host])
        assert not result.get("failed"), result.get("msg")
        assert result["changed"] and result["reloaded"]
    for node in (BIRD_NODE, FRR_NODE):
        vips = run_module("anycast.fabric.loopback_vip", {"addresses": [VIP, VIP6]}, container=node)
        assert not vips.get("failed"), vips.get("msg")
    info = run_module(
        "anycast.fabric.bgp_info",
        {"wait_for_established": True, "prefixes": [VIP + "/32", VIP6 + "/128"], "min_paths": 2, "timeout": 90},
        container=TOR,
    )
    assert not info.get("failed"), info.get("msg")
    return rack


def test_good_configs_bring_up_every_session_with_bfd_and_ecmp(converged):
    info = run_module("anycast.fabric.bgp_info", {"prefixes": [VIP + "/32"]}, container=TOR)
    assert info["established"] == 4
    assert all(s["bfd"] == "up" for s in info["sessions"])
    assert info["routes"][VIP + "/32"]["next_hops"] == sorted([ADDRESSES[BIRD_NODE][0], ADDRESSES[FRR_NODE][0]])
    node = run_module("anycast.fabric.bgp_info", {}, container=BIRD_NODE)
    assert node["exports"] == ["10.244.1.0/24", VIP + "/32", VIP6 + "/128"]


@pytest.mark.parametrize("host, daemon", [(TOR, "frr"), (BIRD_NODE, "bird"), (FRR_NODE, "frr")])
def test_reapplying_unchanged_content_touches_nothing(converged, host, daemon):
    before = established(host)
    result = apply(host, daemon, converged[host])
    assert result["changed"] is False and result["reloaded"] is False and result["commands"] == []
    after = established(host)
    assert after.keys() == before.keys() and all(same_generation(after[k]["generation"], before[k]["generation"]) for k in before), (before, after)


def test_check_mode_reports_the_delta_and_changes_nothing(converged):
    changed = converged[TOR].replace("maximum-paths 64", "maximum-paths 32")
    sha = file_sha(TOR, "frr")
    result = run_module("anycast.fabric.routing_config", {"daemon": "frr", "content": changed}, container=TOR, check=True, diff=True)
    assert result["changed"] and any("maximum-paths 32" in c for c in result["commands"])
    assert "maximum-paths 32" in result["diff"]["after"]
    assert file_sha(TOR, "frr") == sha
    assert "maximum-paths 32" not in in_container(TOR, "vtysh", "-c", "show running-config")


def test_diff_masks_the_password(converged):
    changed = converged[BIRD_NODE].replace("hold time 9;", "hold time 9;\n  # comment-only change")
    result = run_module("anycast.fabric.routing_config", {"daemon": "bird", "content": changed}, container=BIRD_NODE, check=True, diff=True)
    assert PASSWORD not in result["diff"]["after"] and PASSWORD not in result["diff"]["before"]
    assert 'password "********";' in result["diff"]["after"]


GARBAGE = [(BIRD_NODE, "bird", "protocol bgp {"), (TOR, "frr", "router bgp 65101\n neighbor 10.9.9.9 remote-as bogus\n")]


@pytest.mark.parametrize("host, daemon, garbage", GARBAGE)
def test_invalid_config_is_refused_and_nothing_is_touched(converged, host, daemon, garbage):
    sha, before = file_sha(host, daemon), established(host)
    result = apply(host, daemon, converged[host] + garbage)
    assert result.get("failed") and "rejected the new configuration" in result["msg"]
    assert file_sha(host, daemon) == sha
    after = established(host)
    assert after.keys() == before.keys() and all(same_generation(after[k]["generation"], before[k]["generation"]) for k in before), (before, after)


def test_bird_change_that_breaks_sessions_is_undone_and_the_file_restored(converged):
    sha = file_sha(BIRD_NODE, "bird")
    asn = render_asn(converged[BIRD_NODE])
    broken = converged[BIRD_NODE].replace("local as %s;" % asn, "local as %d;" % (int(asn) + 1))
    result = apply(BIRD_NODE, "bird", broken)
    assert result.get("failed") and result["rolled_back"]
    assert "Bad peer AS" in result["msg"] and "configure undo" in result["msg"]
    assert file_sha(BIRD_NODE, "bird") == sha
    wait_established(BIRD_NODE, 2)


def test_frr_change_that_breaks_sessions_is_rolled_back(converged):
    sha = file_sha(TOR, "frr")
    address = ADDRESSES[BIRD_NODE][0]
    broken = converged[TOR].replace(" neighbor %s remote-as" % address, " neighbor %s shutdown\n neighbor %s remote-as" % (address, address))
    result = apply(TOR, "frr", broken)
    assert result.get("failed") and result["rolled_back"]
    assert any(address in line for line in result["broken"])
    assert file_sha(TOR, "frr") == sha
    assert " neighbor %s shutdown" % address not in in_container(TOR, "vtysh", "-c", "show running-config")
    wait_established(TOR, 4)


def test_a_good_change_is_applied_without_resetting_sessions(converged):
    changed = converged[TOR].replace("maximum-paths 64", "maximum-paths 32")
    result = apply(TOR, "frr", changed)
    assert result["changed"] and result["reloaded"] and not result.get("failed")
    assert result["sessions_reset"] == []
    assert "maximum-paths 32" in in_container(TOR, "vtysh", "-c", "show running-config")
    assert result["backup_file"].startswith("/etc/frr/frr.conf.")
    mode = in_container(TOR, "stat", "-c", "%a %U %G", "/etc/frr/frr.conf").split()
    assert mode == ["640", "frr", "frr"]
    assert apply(TOR, "frr", converged[TOR])["sessions_reset"] == []


# A stand-in for frr-reload.py (the module runs it with Python) that runs the real one, then, after a
# --reload, marks that FRR runs the candidate and holds the module there:
# the window in which a killed apply used to leave the new file on disk
# while FRR ran whatever frr-reload.py had got to.
SLOW_RELOAD = """import subprocess, sys, time
rc = subprocess.call([sys.executable, "/usr/lib/frr/frr-reload.py"] + sys.argv[1:])
if "--reload" in sys.argv:
    open("/run/slow-reload.done", "w").close()
    time.sleep(120)
sys.exit(rc)
"""


def test_an_frr_apply_killed_after_the_reload_leaves_the_change_to_the_next_run(converged):
    changed = converged[TOR].replace("maximum-paths 64", "maximum-paths 16")
    candidate_sha = hashlib.sha256(changed.encode()).hexdigest()
    in_container(TOR, "sh", "-c", "cat > /usr/local/bin/slow-frr-reload && chmod 755 /usr/local/bin/slow-frr-reload", input=SLOW_RELOAD)
    in_container(TOR, "rm", "-f", "/run/slow-reload.done")
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(apply, TOR, "frr", changed, frr_reload_path="/usr/local/bin/slow-frr-reload", rollback=False)
        deadline = time.time() + 120
        while not container_succeeds(TOR, "test", "-e", "/run/slow-reload.done"):
            if time.time() > deadline or running.done():
                pytest.fail("the reload never ran: %s" % (running.result() if running.done() else "timeout"))
            time.sleep(0.5)
        # The module dies (SIGKILL, as with a dead controller over SSH), the stand-in with it.
        in_container(TOR, "pkill", "-KILL", "-f", "AnsiballZ_routing_confi[g]")
        in_container(TOR, "pkill", "-KILL", "-f", "slow-frr-reloa[d]", check=False)
        killed = running.result(timeout=120)
    assert killed.get("failed") or killed.get("unreachable"), killed
    assert "maximum-paths 16" in in_container(TOR, "vtysh", "-c", "show running-config")
    # FRR runs the change, the file does not hold it: the next run applies it and puts the file in place.
    assert file_sha(TOR, "frr") != candidate_sha
    again = apply(TOR, "frr", changed)
    assert again["changed"] and not again.get("failed"), again.get("msg")
    assert file_sha(TOR, "frr") == candidate_sha
    assert apply(TOR, "frr", converged[TOR])["changed"]
    wait_established(TOR, 4)


def test_withdrawing_a_vip_removes_its_paths_at_the_tor(converged):
    result = run_module("anycast.fabric.loopback_vip", {"addresses": [VIP], "state": "absent"}, container=BIRD_NODE)
    assert result["removed"] == [VIP + "/32"]
    try:
        info = run_module("anycast.fabric.bgp_info", {"prefixes": [VIP + "/32"], "max_paths": 1, "timeout": 30}, container=TOR)
        assert not info.get("failed"), info.get("msg")
        assert info["routes"][VIP + "/32"]["next_hops"] == [ADDRESSES[FRR_NODE][0]]
    finally:
        run_module("anycast.fabric.loopback_vip", {"addresses": [VIP, VIP6]}, container=BIRD_NODE)
    info = run_module("anycast.fabric.bgp_info", {"prefixes": [VIP + "/32"], "min_paths": 2, "timeout": 30}, container=TOR)
    assert not info.get("failed"), info.get("msg")


def test_bgp_info_wait_fails_clearly_on_timeout(converged):
    info = run_module("anycast.fabric.bgp_info", {"prefixes": ["198.51.100.99/32"], "min_paths": 1, "timeout": 2}, container=TOR)
    assert info.get("failed") and "198.51.100.99/32 has 0 path(s), expected at least 1" in info["msg"]


def render_asn(bird_conf):
    return next(line.split()[2].rstrip(";") for line in bird_conf.splitlines() if line.strip().startswith("local as"))


def wait_established(host, count, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if len(established(host)) >= count:
            return
        time.sleep(1)
    pytest.fail("%s did not get %d sessions back within %ds" % (host, count, timeout))
