# -*- coding: utf-8 -*-
"""The lab's container base: Docker engine, cached image, systemd, BIRD, FRR, networking.

Runs only with FABRIC_DOCKER_TESTS=1 (it installs and starts Docker and builds
an image: about two minutes the first time, seconds once the image is cached).
Everything it creates carries its own names (this process' id), and the
finalizer removes exactly that, so other lab runs on the same engine survive.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from conftest import REPO

pytestmark = pytest.mark.skipif(os.environ.get("FABRIC_DOCKER_TESTS") != "1", reason="set FABRIC_DOCKER_TESTS=1 to run the Docker lab tests")

LAB = REPO / "lab"
TAG = "lt%d" % os.getpid()
NETWORK = TAG + "-net"
SUBNET4, SUBNET6 = "10.201.0.0/24", "fd00:201::/64"
BIRD = {"name": TAG + "-bird", "ip": "10.201.0.11", "ip6": "fd00:201::11"}
FRR = {"name": TAG + "-frr", "ip": "10.201.0.12", "ip6": "fd00:201::12"}


def run(*cmd, timeout=60, check=True):
    """Run a command; on failure, fail the test with its whole output."""
    try:
        proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail("timed out after %s s: %s\n%s%s" % (timeout, " ".join(map(str, cmd)), exc.stdout or "", exc.stderr or ""))
    if check and proc.returncode != 0:
        pytest.fail("exit %d: %s\n%s%s" % (proc.returncode, " ".join(map(str, cmd)), proc.stdout, proc.stderr))
    return proc


def in_container(name, script, timeout=60, check=True):
    return run("docker", "exec", name, "sh", "-c", script, timeout=timeout, check=check)


def wait_for(name, script, want, timeout=20):
    """Rerun `script` in the container until its output contains `want`."""
    deadline = time.monotonic() + timeout
    while True:
        proc = in_container(name, script, check=False)
        if want in proc.stdout:
            return proc.stdout
        if time.monotonic() > deadline:
            pytest.fail("%r not in the output of %r after %s s:\n%s%s" % (want, script, timeout, proc.stdout, proc.stderr))
        time.sleep(0.5)


@pytest.fixture(scope="module")
def image():
    # apt-get install of docker.io/debootstrap on a fresh machine, then the engine.
    run(LAB / "docker-up.sh", timeout=600)
    proc = run(LAB / "build-image.sh", timeout=1200)
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def lab(request, image):
    def cleanup():
        # Only what this module made: lab/destroy.sh would also remove other
        # runs' lab containers on the shared engine.
        run("docker", "rm", "-f", BIRD["name"], FRR["name"], check=False)
        run("docker", "network", "rm", NETWORK, check=False)

    request.addfinalizer(cleanup)
    run(LAB / "net.sh", "create", NETWORK, SUBNET4, SUBNET6)
    boot = {}
    for box in (BIRD, FRR):
        start = time.monotonic()
        proc = run(LAB / "run-container.sh", box["name"], "--image", image,
                   "--network", NETWORK, "--ip", box["ip"], "--ip6", box["ip6"], timeout=180)
        boot[box["name"]] = time.monotonic() - start
        assert "running after" in proc.stdout, "booted degraded:\n" + proc.stdout
    return boot


def test_image_build_is_cached(image):
    start = time.monotonic()
    proc = run(LAB / "build-image.sh", timeout=120)
    took = time.monotonic() - start
    assert proc.stdout.strip().splitlines()[-1] == image
    assert "nothing to build" in proc.stderr
    assert took < 15, "a cached build took %.1f s" % took
    assert run("docker", "image", "inspect", "-f", "{{.Id}}", image).stdout == run(
        "docker", "image", "inspect", "-f", "{{.Id}}", image.rsplit(":", 1)[0] + ":latest").stdout


def test_containers_boot_systemd_to_running(lab):
    for name in (BIRD["name"], FRR["name"]):
        assert in_container(name, "systemctl is-system-running", check=False).stdout.strip() == "running"
        assert in_container(name, "hostname").stdout.strip() == name
    assert max(lab.values()) < 60, lab


def test_daemons_installed_but_disabled_and_ids_unique(lab):
    for name in (BIRD["name"], FRR["name"]):
        out = in_container(name, "systemctl is-enabled bird.service frr.service", check=False).stdout.split()
        assert out == ["disabled", "disabled"], (name, out)
        assert in_container(name, "command -v python3").stdout.strip() == "/usr/bin/python3"
    ids = {in_container(name, "cat /etc/machine-id").stdout.strip() for name in (BIRD["name"], FRR["name"])}
    assert len(ids) == 2 and "" not in ids, ids


def test_bird_starts_under_systemd(lab):
    name = BIRD["name"]
    in_container(name, "systemctl start bird.service")
    # bird.service is Type=simple: the control socket appears a moment after
    # `systemctl start` returns.
    wait_for(name, "birdc show status", "Daemon is up and running")
    assert in_container(name, "systemctl is-active bird.service").stdout.strip() == "active"


def test_frr_starts_under_systemd_with_bgpd_and_bfdd(lab):
    name = FRR["name"]
    in_container(name, "sed -i -e 's/^bgpd=no/bgpd=yes/' -e 's/^bfdd=no/bfdd=yes/' /etc/frr/daemons")
    in_container(name, "systemctl start frr.service", timeout=120)
    assert in_container(name, "systemctl is-active frr.service").stdout.strip() == "active"
    for daemon in ("zebra", "bgpd", "bfdd"):
        assert in_container(name, "pgrep -x %s" % daemon, check=False).returncode == 0, daemon + " is not running"
    assert "FRRouting 8." in in_container(name, "vtysh -c 'show version'").stdout
    assert "BFD Peers" in in_container(name, "vtysh -c 'show bfd peers'").stdout
    assert "usage: frr-reload.py" in in_container(name, "/usr/lib/frr/frr-reload.py --help").stdout


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_containers_reach_each_other(lab, family):
    key = "ip" if family == "ipv4" else "ip6"
    for src, dst in ((BIRD, FRR), (FRR, BIRD)):
        proc = in_container(src["name"], "ping -c 2 -i 0.2 -W 2 %s" % dst[key], check=False)
        assert proc.returncode == 0, "%s -> %s:\n%s%s" % (src["name"], dst[key], proc.stdout, proc.stderr)
