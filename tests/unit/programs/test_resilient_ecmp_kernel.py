# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The resilient ECMP agent against the real kernel, in a network namespace of its own (root, Linux 5.13+).

Each agent run is a fresh process (`ip netns exec NS python3 agent ...`), as
after a restart: it adopts the groups it finds, with their ids and their
buckets (`ip -json nexthop bucket show` identical before and after); new
timers are set in place without moving a bucket; a next hop that left while
no agent ran loses only its own buckets. The daemon's SIGTERM and SIGKILL
leave everything in place; ExecStopPost (`--stopped`, with fake systemctl
and systemd-run on PATH) flushes on a stop job and arms the stale timer after
a crash, whose `--flush-stale` flushes only if the agent did not come back.
Skipped without root or network namespaces.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
AGENT = ROOT / "roles" / "programs" / "files" / "anycast-resilient-ecmp.py"
UNIT = "anycast-resilient-ecmp.service"
VIP = "198.51.100.80/32"
GATEWAYS = ("10.90.1.11", "10.90.1.12", "10.90.1.13")
BUCKETS = 64


def _ip(ns, *args, check=True):
    return subprocess.run(["ip", "-n", ns] + list(args), capture_output=True, text=True, check=check)


def _usable():
    if os.geteuid() != 0 or not shutil.which("ip"):
        return "needs root and iproute2"
    ns = "arecmp-probe-%d" % os.getpid()
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True, check=False).returncode != 0:
        return "no network namespaces here"
    try:
        _ip(ns, "link", "set", "lo", "up", check=False)
        probe = _ip(ns, "nexthop", "add", "id", "1", "dev", "lo", check=False)
        group = _ip(ns, "nexthop", "add", "id", "2", "group", "1", "type", "resilient", "buckets", "8", check=False)
        if probe.returncode or group.returncode:
            return "no resilient next-hop groups in this kernel (5.13+)"
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
    return None


SKIP = _usable()
pytestmark = pytest.mark.skipif(SKIP is not None, reason=SKIP or "")


class Lab(object):
    """A namespace with one link, a multipath route to the VIP in main, the agent's config and fake systemd tools."""

    def __init__(self, tmp_path):
        self.ns = "arecmp-%d-%d" % (os.getpid(), int(time.monotonic() * 1000) % 100000)
        self.tmp = tmp_path
        self.config = tmp_path / "resilient-ecmp.json"
        self.run_dir = tmp_path / "run"
        self.tools = tmp_path / "bin"
        self.tools.mkdir()
        self.write_config()
        self.jobs("")
        (self.tools / "systemd-run").write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "{}"\n'.format(tmp_path / "timer"))
        (self.tools / "systemd-run").chmod(0o755)
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        _ip(self.ns, "link", "set", "lo", "up")
        _ip(self.ns, "link", "add", "d0", "type", "veth", "peer", "name", "p0")
        _ip(self.ns, "link", "set", "d0", "up")
        _ip(self.ns, "link", "set", "p0", "up")
        _ip(self.ns, "addr", "add", "10.90.1.1/24", "dev", "d0")
        self.main(*GATEWAYS)
        self.daemon = None

    def write_config(self, **changes):
        config = {"pools": ["198.51.100.0/24"], "buckets": BUCKETS, "run_dir": str(self.run_dir), "resync": 1.0}
        config.update(changes)
        self.config.write_text(json.dumps(config))

    def jobs(self, line):
        """What the fake `systemctl list-jobs` prints."""
        (self.tools / "systemctl").write_text("#!/bin/sh\necho '%s'\n" % line)
        (self.tools / "systemctl").chmod(0o755)

    def main(self, *gateways):
        hops = []
        for gateway in gateways:
            hops += ["nexthop", "via", gateway, "dev", "d0"]
        _ip(self.ns, "route", "replace", VIP, "proto", "bgp", *hops)

    def agent(self, *args, check=True):
        env = dict(os.environ, PATH="%s:%s" % (self.tools, os.environ.get("PATH", "/usr/bin:/bin")))
        proc = subprocess.run(["ip", "netns", "exec", self.ns, sys.executable, "-I", str(AGENT), "--config", str(self.config)]
                              + list(args), capture_output=True, text=True, env=env, check=False, timeout=60)
        assert not check or proc.returncode == 0, proc.stderr
        return proc

    def start(self):
        """The daemon in a session of its own (killing the session is systemd's cgroup kill)."""
        before = self.synced()
        self.daemon = subprocess.Popen(["ip", "netns", "exec", self.ns, sys.executable, "-I", str(AGENT), "--config", str(self.config)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
        deadline = time.monotonic() + 30
        while self.synced() == before:
            assert self.daemon.poll() is None, self.daemon.stderr.read()
            assert time.monotonic() < deadline, "the agent did not sync"
            time.sleep(0.05)

    def signal(self, signum):
        os.killpg(self.daemon.pid, signum)
        code = self.daemon.wait(timeout=30)
        self.daemon.stderr.close()
        self.daemon = None
        return code

    def synced(self):
        try:
            return (self.run_dir / "synced").read_text()
        except OSError:
            return None

    def state(self):
        """Group ids, each group's members and buckets (index -> member's gateway), the table's routes, the rules."""
        nexthops = json.loads(_ip(self.ns, "-json", "nexthop", "show").stdout or "[]")
        gateway = {n["id"]: n.get("gateway") for n in nexthops if not n.get("group")}
        groups = {}
        for nh in nexthops:
            if nh.get("group"):
                buckets = json.loads(_ip(self.ns, "-json", "nexthop", "bucket", "show", "id", str(nh["id"])).stdout)
                groups[nh["id"]] = {
                    "members": sorted(gateway[m["id"]] for m in nh["group"]),
                    "args": {k: v for k, v in nh["resilient_args"].items() if k != "unbalanced_time"},
                    "buckets": {b["bucket"]["index"]: gateway[b["bucket"]["nhid"]] for b in buckets},
                }
        table = json.loads(_ip(self.ns, "-json", "route", "show", "table", "200", check=False).stdout or "[]")
        rules = [r for r in json.loads(_ip(self.ns, "-json", "rule", "show").stdout) if r.get("priority") == 1000]
        return {"groups": groups, "routes": {r["dst"]: r.get("nhid") for r in table}, "rules": len(rules)}

    def main_route(self):
        return json.loads(_ip(self.ns, "-json", "route", "show", VIP).stdout)

    def close(self):
        if self.daemon is not None:
            self.signal(signal.SIGKILL)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True, check=False)


@pytest.fixture
def lab(tmp_path):
    made = Lab(tmp_path)
    yield made
    made.close()


def _only_group(state):
    (gid,) = state["groups"]
    assert state["routes"] == {VIP.split("/", maxsplit=1)[0]: gid} and state["rules"] == 1
    return gid, state["groups"][gid]


def test_a_new_process_adopts_ids_and_buckets(lab):
    assert lab.agent("--once").stdout
    before = lab.state()
    gid, group = _only_group(before)
    assert group["members"] == sorted(GATEWAYS) and len(group["buckets"]) == BUCKETS
    # a second process: nothing to do, the same ids, every bucket on the same next hop
    assert lab.agent("--once").stdout == ""
    assert lab.state() == before
    assert _only_group(lab.state())[0] == gid


def test_new_timers_are_set_in_place_without_moving_a_bucket(lab):
    lab.agent("--once")
    gid, group = _only_group(lab.state())
    lab.write_config(idle_timer=60, unbalanced_timer=600)
    done = lab.agent("--once").stdout.splitlines()
    assert len(done) == 1 and done[0].startswith("nexthop replace id %d group" % gid)
    new_gid, new_group = _only_group(lab.state())
    assert new_gid == gid and new_group["buckets"] == group["buckets"]
    assert new_group["args"] == {"buckets": BUCKETS, "idle_timer": 60, "unbalanced_timer": 600}


def test_a_next_hop_that_left_while_no_agent_ran_loses_only_its_buckets(lab):
    lab.agent("--once")
    gid, group = _only_group(lab.state())
    lab.main(GATEWAYS[1], GATEWAYS[2])
    lab.agent("--once")
    new_gid, new_group = _only_group(lab.state())
    assert new_gid == gid and new_group["members"] == sorted(GATEWAYS[1:])
    moved = {i for i, gw in group["buckets"].items() if new_group["buckets"][i] != gw}
    assert moved == {i for i, gw in group["buckets"].items() if gw == GATEWAYS[0]}


def test_a_new_bucket_count_is_a_new_group(lab):
    # the kernel refuses to change a resilient group's bucket count in place: a deliberate rehash
    lab.agent("--once")
    gid, _group = _only_group(lab.state())
    lab.write_config(buckets=2 * BUCKETS)
    lab.agent("--once")
    new_gid, new_group = _only_group(lab.state())
    assert new_gid != gid and len(new_group["buckets"]) == 2 * BUCKETS


def test_sigterm_and_sigkill_leave_the_groups_and_a_restart_adopts_them(lab):
    lab.start()
    before = lab.state()
    _only_group(before)
    assert lab.signal(signal.SIGTERM) == 0
    assert lab.state() == before
    # a restart job: ExecStopPost keeps everything, the next start adopts it
    lab.jobs("  9 %s restart running" % UNIT)
    assert lab.agent("--stopped", UNIT).stdout == ""
    lab.start()
    assert lab.state() == before
    lab.signal(signal.SIGKILL)
    assert lab.state() == before


def test_a_stop_job_flushes(lab):
    lab.start()
    lab.signal(signal.SIGTERM)
    lab.jobs("  7 %s stop running" % UNIT)
    out = lab.agent("--stopped", UNIT).stdout
    assert "rule del" in out and lab.state() == {"groups": {}, "routes": {}, "rules": 0}
    # lookups fall back to main, which the agent never touches
    assert len(lab.main_route()[0]["nexthops"]) == 3


def test_a_crash_arms_the_stale_timer_which_flushes_only_if_the_agent_is_not_back(lab):
    lab.start()
    lab.signal(signal.SIGKILL)
    before = lab.state()
    lab.jobs("")  # no job: the process died on its own
    lab.agent("--stopped", UNIT)
    timer = (lab.tmp / "timer").read_text().split("\n")
    assert "--on-active=30s" in timer and timer[timer.index("--flush-stale") - 2:timer.index("--flush-stale")] == ["--config", str(lab.config)]
    since = timer[timer.index("--flush-stale") + 1]
    assert lab.state() == before
    # systemd restarted it and it synced: the timer finds it back and leaves everything
    lab.start()
    assert "is back" in lab.agent("--flush-stale", since).stdout
    assert lab.state() == before
    # killed again and not back: the timer armed by that exit flushes
    lab.signal(signal.SIGKILL)
    lab.agent("--stopped", UNIT)
    timer = (lab.tmp / "timer").read_text().split("\n")
    out = lab.agent("--flush-stale", timer[timer.index("--flush-stale") + 1]).stdout
    assert "did not come back" in out and lab.state() == {"groups": {}, "routes": {}, "rules": 0}
    assert len(lab.main_route()[0]["nexthops"]) == 3


def test_stale_groups_lose_a_next_hop_whose_link_goes_down(lab):
    # what the kernel does while the agent is away: a next hop on a link that goes down leaves the group
    # (its buckets go to the others); the route keeps working (no black hole through a dead link)
    lab.agent("--once")
    gid, group = _only_group(lab.state())
    _ip(lab.ns, "link", "add", "d1", "type", "veth", "peer", "name", "p1")
    _ip(lab.ns, "link", "set", "d1", "up")
    _ip(lab.ns, "link", "set", "p1", "up")
    _ip(lab.ns, "addr", "add", "10.90.2.1/24", "dev", "d1")
    _ip(lab.ns, "route", "replace", VIP, "proto", "bgp", "nexthop", "via", GATEWAYS[0], "dev", "d0",
        "nexthop", "via", GATEWAYS[1], "dev", "d0", "nexthop", "via", "10.90.2.13", "dev", "d1")
    lab.agent("--once")
    gid, group = _only_group(lab.state())
    assert "10.90.2.13" in group["members"]
    _ip(lab.ns, "link", "set", "d1", "down")
    new_gid, new_group = _only_group(lab.state())
    assert new_gid == gid and new_group["members"] == sorted(GATEWAYS[:2]) and len(new_group["buckets"]) == BUCKETS
    assert all(new_group["buckets"][i] == gw for i, gw in group["buckets"].items() if gw != "10.90.2.13")


def test_an_ipv4_route_through_ipv6_link_local_next_hops_gets_its_group(lab):
    # An unnumbered link (RFC 8950): zebra installs `10.x via inet6 fe80::... dev X` (RTA_VIA).
    links = ("fe80::1", "fe80::2")
    hops = []
    for gateway in links:
        hops += ["nexthop", "via", "inet6", gateway, "dev", "d0"]
    _ip(lab.ns, "route", "replace", VIP, "proto", "bgp", *hops)
    assert lab.agent("--once").stdout
    gid, group = _only_group(lab.state())
    assert group["members"] == sorted(links) and len(group["buckets"]) == BUCKETS
    # Nothing to do on a second pass: the link-local next hops were read back as they were installed.
    assert lab.agent("--once").stdout == ""
    assert _only_group(lab.state())[0] == gid
