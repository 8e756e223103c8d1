# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The resilient ECMP agent (roles/programs/files/anycast-resilient-ecmp.py) and the long-lived lab client's report.

The agent runs `ip`; here a fake kernel answers its `ip -json` reads and
records the commands it would run, so the mirroring rules are checked
without root: groups changed in place (same id, so surviving next hops keep
their buckets), nothing done when nothing changed, the rules added last and
removed first, routes outside the pools left alone; a new process adopts
what it finds; ExecStopPost's decisions (flush on a stop job, keep on a
restart, arm the stale timer after a crash) and the stale flush. The same
against the real kernel, in a network namespace: test_resilient_ecmp_kernel.py.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
AGENT = ROOT / "roles" / "programs" / "files" / "anycast-resilient-ecmp.py"
LAB = ROOT / "lab"


def _load(name, path):
    loader = SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


ecmp = _load("anycast_resilient_ecmp", AGENT)
sys.path.insert(0, str(LAB))
import longlived  # noqa: E402

BASE = ecmp.DEFAULTS["id_base"]
N1, N2, N5 = ("10.90.1.11", "eth1"), ("10.90.1.12", "eth1"), ("10.90.1.13", "eth1")


class FakeKernel(object):
    """Main-table routes, the agent's nexthops/routes/rules; answers the agent's reads."""

    def __init__(self):
        self.main = {4: [], 6: []}
        self.nexthops = []
        self.table = {4: [], 6: []}
        self.rules = {4: [], 6: []}
        self.ran = []

    def ip_json(self, *args, family=None):
        if args[:2] == ("route", "show") and args[3] == "main":
            return self.main[family]
        if args[:2] == ("route", "show"):
            return self.table[family]
        if args[:2] == ("nexthop", "show"):
            return self.nexthops
        if args[:2] == ("rule", "show"):
            return self.rules[family]
        raise AssertionError(args)

    def batch(self, lines, family=None):
        self.ran += [("-%d " % family if family else "") + line for line in lines]

    def installed(self, agent_commands_applied):
        """Fold what the agent ran into the fake state (enough of iproute2 for these tests)."""
        for line in agent_commands_applied:
            words = line.split()
            if words[:2] == ["nexthop", "replace"] and "group" in words:
                gid = int(words[3])
                members = [{"id": int(m.split(",")[0]), "weight": int(m.split(",")[1]) if "," in m else 1}
                           for m in words[words.index("group") + 1].split("/")]
                self.nexthops = [n for n in self.nexthops if n["id"] != gid]
                self.nexthops.append({"id": gid, "group": members, "resilient_args": {
                    key: int(words[words.index(key) + 1]) for key in ("buckets", "idle_timer", "unbalanced_timer")}})
            elif words[:2] == ["nexthop", "replace"]:
                nid = int(words[3])
                gw = words[words.index("via") + 1] if "via" in words else None
                self.nexthops.append({"id": nid, "gateway": gw, "dev": words[words.index("dev") + 1]})
            elif words[:2] == ["route", "replace"]:
                family = 6 if ":" in words[2] else 4
                self.table[family] = [r for r in self.table[family] if r["dst"] != words[2]]
                self.table[family].append({"dst": words[2], "nhid": int(words[4])})
            elif words[:2] == ["route", "del"]:
                family = 6 if ":" in words[2] else 4
                self.table[family] = [r for r in self.table[family] if r["dst"] != words[2]]
            elif words[:2] == ["nexthop", "del"]:
                self.nexthops = [n for n in self.nexthops if n["id"] != int(words[3])]
            elif words[1:3] == ["rule", "add"]:
                family = int(words[0][1])
                dst, dstlen = words[words.index("to") + 1].split("/")
                self.rules[family].append({"priority": int(words[4]), "dst": dst, "dstlen": int(dstlen),
                                           "table": words[words.index("lookup") + 1]})


def multipath(dst, *hops):
    return {"dst": dst, "protocol": "bgp", "nexthops": [{"gateway": gw, "dev": dev, "weight": 1} for gw, dev in hops]}


@pytest.fixture
def kernel(monkeypatch):
    fake = FakeKernel()
    monkeypatch.setattr(ecmp, "ip_json", fake.ip_json)
    monkeypatch.setattr(ecmp, "batch", fake.batch)
    return fake


@pytest.fixture
def agent():
    config = dict(ecmp.DEFAULTS, pools=["198.51.100.0/24", "2001:db8:ac::/48"])
    config["pools"] = [ecmp.ipaddress.ip_network(p) for p in config["pools"]]
    return ecmp.Agent(config, log=lambda _msg: None)


def sync(agent, kernel):
    kernel.ran = []
    done = agent.sync()
    kernel.installed(done)
    return done


def group_of(kernel, prefix):
    route = next(r for r in kernel.table[4] if r["dst"] == prefix)
    return next(n for n in kernel.nexthops if n["id"] == route["nhid"])


def test_first_sync_builds_resilient_group_route_then_rules(agent, kernel):
    kernel.main[4] = [multipath("198.51.100.80", N1, N2, N5), {"dst": "10.90.100.0/24", "gateway": "10.90.0.2", "dev": "eth0"}]
    done = sync(agent, kernel)
    groups = [line for line in done if " group " in line]
    assert len(groups) == 1 and "type resilient buckets 512 idle_timer 120 unbalanced_timer 0" in groups[0]
    assert sum(1 for line in done if line.startswith("nexthop replace") and " via " in line) == 3
    assert "route replace 198.51.100.80/32 nhid %d table 200 proto 250" % group_of(kernel, "198.51.100.80/32")["id"] in done
    # the rules come last, one per pool and family; nothing outside the pools is mirrored
    assert done[-2:] == ["-4 rule add pref 1000 to 198.51.100.0/24 lookup 200", "-6 rule add pref 1000 to 2001:db8:ac::/48 lookup 200"]
    assert not any("10.90.100.0" in line for line in done)
    assert all(agent.ours(n["id"]) for n in kernel.nexthops)


def test_nothing_to_do_when_nothing_changed(agent, kernel):
    kernel.main[4] = [multipath("198.51.100.80", N1, N2, N5)]
    sync(agent, kernel)
    assert sync(agent, kernel) == []


def test_leaving_next_hop_replaces_the_group_in_place(agent, kernel):
    kernel.main[4] = [multipath("198.51.100.80", N1, N2, N5)]
    sync(agent, kernel)
    gid = group_of(kernel, "198.51.100.80/32")["id"]
    kernel.main[4] = [multipath("198.51.100.80", N2, N5)]
    done = sync(agent, kernel)
    # the same group id (ip nexthop replace keeps the survivors' buckets), no route change
    assert [line.split()[3] for line in done if " group " in line] == [str(gid)]
    assert not any(line.startswith("route ") for line in done)
    assert len(group_of(kernel, "198.51.100.80/32")["group"]) == 2
    # n1's own nexthop object goes after the group no longer uses it
    assert done[-1].startswith("nexthop del id")


def test_joining_next_hop_keeps_the_group(agent, kernel):
    kernel.main[4] = [multipath("198.51.100.80", N2, N5)]
    sync(agent, kernel)
    gid = group_of(kernel, "198.51.100.80/32")["id"]
    kernel.main[4] = [multipath("198.51.100.80", N1, N2, N5)]
    done = sync(agent, kernel)
    assert group_of(kernel, "198.51.100.80/32")["id"] == gid
    assert [line for line in done if " group " in line][0].startswith("nexthop replace id %d group" % gid)


def test_withdrawn_prefix_is_removed_route_first(agent, kernel):
    kernel.main[4] = [multipath("198.51.100.80", N1, N2)]
    sync(agent, kernel)
    kernel.main[4] = []
    done = sync(agent, kernel)
    assert done[0] == "route del 198.51.100.80/32 table 200"
    assert [line.split()[:2] for line in done[1:]] == [["nexthop", "del"]] * 3
    assert kernel.nexthops == [] and kernel.table[4] == []


def test_new_bucket_count_means_a_new_group(agent, kernel):
    kernel.main[4] = [multipath("198.51.100.80", N1, N2)]
    sync(agent, kernel)
    old = group_of(kernel, "198.51.100.80/32")["id"]
    agent.c["buckets"] = 1024
    done = sync(agent, kernel)
    new = group_of(kernel, "198.51.100.80/32")["id"]
    assert new != old and "route replace 198.51.100.80/32 nhid %d table 200 proto 250" % new in done
    assert "nexthop del id %d" % old in done


def test_single_next_hop_and_nhid_routes(agent, kernel):
    # a route with one next hop, and one that zebra installed through its own nexthop group (nhid only)
    kernel.main[4] = [{"dst": "198.51.100.81", "gateway": "10.90.1.11", "dev": "eth1"}, {"dst": "198.51.100.82", "nhid": 33}]
    kernel.nexthops = [{"id": 33, "group": [{"id": 31}, {"id": 32, "weight": 2}]},
                       {"id": 31, "gateway": "10.90.1.12", "dev": "eth1"}, {"id": 32, "gateway": "10.90.1.13", "dev": "eth1"}]
    sync(agent, kernel)
    assert len(group_of(kernel, "198.51.100.81/32")["group"]) == 1
    weights = sorted(m["weight"] for m in group_of(kernel, "198.51.100.82/32")["group"])
    assert weights == [1, 2]


def test_flush_removes_rules_before_routes_and_groups_before_members(agent, kernel, monkeypatch):
    kernel.main[4] = [multipath("198.51.100.80", N1, N2)]
    sync(agent, kernel)
    calls = []

    class Proc(object):
        def __init__(self, rc):
            self.returncode = rc

    def run(cmd, **_kwargs):
        calls.append(" ".join(cmd))
        # one rule per family to delete, then "no such rule"
        return Proc(0 if sum(1 for c in calls if c == " ".join(cmd)) == 1 else 2)

    monkeypatch.setattr(ecmp.subprocess, "run", run)
    kernel.ran = []
    done = agent.flush()
    assert done[0].startswith("-4 rule del") and done[1].startswith("-6 rule del")
    # routes one by one (ip route flush refuses nhid routes), before the groups they use
    assert done[2] == "route del 198.51.100.80/32 table 200"
    dels = [line for line in done if line.startswith("nexthop del")]
    gid = group_of(kernel, "198.51.100.80/32")["id"]
    assert dels[0] == "nexthop del id %d" % gid and len(dels) == 3


def test_config_requires_pools_and_sane_buckets(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"pools": []}))
    with pytest.raises(ecmp.Failure, match="no pools"):
        ecmp.load_config(str(path))
    path.write_text(json.dumps({"pools": ["198.51.100.0/24"], "buckets": 70000}))
    with pytest.raises(ecmp.Failure, match="buckets"):
        ecmp.load_config(str(path))


# ---------------------------------------------------------------- adoption (a new process finds the groups)
def test_a_new_agent_adopts_the_groups_it_finds(agent, kernel):
    kernel.main[4] = [multipath("198.51.100.80", N1, N2, N5)]
    sync(agent, kernel)
    gid = group_of(kernel, "198.51.100.80/32")["id"]
    fresh = ecmp.Agent(dict(agent.c), log=lambda _msg: None)
    # nothing to do: the same group, members and rules are taken as they are (no replace, no rehash)
    assert sync(fresh, kernel) == []
    # and a next hop that left while no agent ran is removed in place from the adopted group
    kernel.main[4] = [multipath("198.51.100.80", N2, N5)]
    done = sync(ecmp.Agent(dict(agent.c), log=lambda _msg: None), kernel)
    assert [line.split()[3] for line in done if " group " in line] == [str(gid)]
    assert not any(line.startswith("route ") for line in done)


def test_new_timers_are_set_in_place_on_the_same_group(agent, kernel):
    kernel.main[4] = [multipath("198.51.100.80", N1, N2)]
    sync(agent, kernel)
    gid = group_of(kernel, "198.51.100.80/32")["id"]
    agent.c["idle_timer"], agent.c["unbalanced_timer"] = 60, 300
    done = sync(agent, kernel)
    # same members, same id: the kernel keeps every bucket (test_resilient_ecmp_kernel.py checks it)
    assert len(done) == 1 and done[0].startswith("nexthop replace id %d group " % gid)
    assert "idle_timer 60 unbalanced_timer 300" in done[0]
    assert sync(agent, kernel) == []


def test_adoption_keeps_the_member_objects_a_group_uses(agent, kernel):
    # two objects for one (gateway, device): the group's member wins, the other one goes
    kernel.main[4] = [multipath("198.51.100.80", N1, N2)]
    kernel.nexthops = [{"id": BASE, "gateway": N1[0], "dev": "eth1"}, {"id": BASE + 1, "gateway": N1[0], "dev": "eth1"},
                       {"id": BASE + 2, "gateway": N2[0], "dev": "eth1"},
                       {"id": BASE + 3, "group": [{"id": BASE + 1}, {"id": BASE + 2}],
                        "resilient_args": {"buckets": 512, "idle_timer": 120, "unbalanced_timer": 0}}]
    kernel.table[4] = [{"dst": "198.51.100.80/32", "nhid": BASE + 3}]
    kernel.rules[4] = [{"priority": 1000, "dst": "198.51.100.0", "dstlen": 24, "table": "200"}]
    kernel.rules[6] = [{"priority": 1000, "dst": "2001:db8:ac::", "dstlen": 48, "table": "200"}]
    assert sync(agent, kernel) == ["nexthop del id %d" % BASE]


def test_a_plain_multipath_group_in_the_range_is_replaced_by_a_resilient_one(agent, kernel):
    kernel.main[4] = [multipath("198.51.100.80", N1, N2)]
    kernel.nexthops = [{"id": BASE, "gateway": N1[0], "dev": "eth1"}, {"id": BASE + 1, "gateway": N2[0], "dev": "eth1"},
                       {"id": BASE + 2, "group": [{"id": BASE}, {"id": BASE + 1}]}]
    kernel.table[4] = [{"dst": "198.51.100.80/32", "nhid": BASE + 2}]
    done = sync(agent, kernel)
    new = group_of(kernel, "198.51.100.80/32")["id"]
    assert new != BASE + 2 and "nexthop del id %d" % (BASE + 2) in done


# ---------------------------------------------------------------- ExecStopPost and the stale timer
class Tools(object):
    """Fake systemctl list-jobs and systemd-run; records what ran."""

    def __init__(self, job=None, run_rc=0):
        self.job, self.run_rc, self.calls = job, run_rc, []

    def run(self, cmd, **_kwargs):
        self.calls.append(cmd)
        if cmd[0] == "systemctl":
            out = "  42 anycast-resilient-ecmp.service %s running\n" % self.job if self.job else ""
            return ecmp.subprocess.CompletedProcess(cmd, 0, out, "")
        if cmd[0] == "systemd-run":
            return ecmp.subprocess.CompletedProcess(cmd, self.run_rc, "", "" if self.run_rc == 0 else "Failed to connect to bus")
        raise AssertionError(cmd)


@pytest.fixture
def stopping(agent, monkeypatch, tmp_path):
    flushes = []
    agent.c["run_dir"] = str(tmp_path / "run")
    monkeypatch.setattr(agent, "flush", lambda: flushes.append(True) or ["route del 198.51.100.80/32 table 200"])

    def with_tools(tools):
        monkeypatch.setattr(ecmp.subprocess, "run", tools.run)
        decision, _done = ecmp.stopped(agent, "anycast-resilient-ecmp.service", "/etc/anycast-fabric/resilient-ecmp.json",
                                       env={"SERVICE_RESULT": "success", "EXIT_CODE": "exited", "EXIT_STATUS": "0"})
        return decision, len(flushes)

    return with_tools


def test_a_stop_job_flushes_at_once(stopping):
    assert stopping(Tools(job="stop")) == ("flush", 1)


@pytest.mark.parametrize("job", ["restart", "try-restart", "reload-or-restart"])
def test_a_restart_job_keeps_everything_for_the_next_start(stopping, job):
    tools = Tools(job=job)
    assert stopping(tools) == ("keep", 0)
    assert [c[0] for c in tools.calls] == ["systemctl"]


@pytest.mark.parametrize("job", [None, "start"])
def test_a_crash_keeps_the_groups_and_arms_the_stale_timer(stopping, job):
    # no job: the process died on its own (crash, SIGKILL, watchdog); a start job: a start that failed
    tools = Tools(job=job)
    decision, flushes = stopping(tools)
    assert flushes == 0 and decision.startswith("stale anycast-resilient-ecmp-stale-") and decision.endswith(".timer")
    run = tools.calls[-1]
    assert run[0] == "systemd-run" and "--on-active=30s" in run and "--collect" in run
    assert run[-4:-1] == ["--config", "/etc/anycast-fabric/resilient-ecmp.json", "--flush-stale"]
    assert abs(float(run[-1]) - ecmp.boottime()) < 60


def test_a_crash_without_a_timer_flushes(stopping):
    assert stopping(Tools(run_rc=1)) == ("flush", 1)


def test_stale_sec_0_flushes_after_a_crash_but_not_on_a_restart(agent, stopping):
    agent.c["stale_sec"] = 0
    assert stopping(Tools()) == ("flush", 1)
    assert stopping(Tools(job="restart")) == ("keep", 1)


def test_the_stale_flush_spares_an_agent_that_synced_since(agent, monkeypatch, tmp_path):
    agent.c["run_dir"] = str(tmp_path / "run")
    flushes = []
    monkeypatch.setattr(agent, "flush", lambda: flushes.append(True) or [])
    # never synced since boot: flush
    assert agent.flush_stale(ecmp.boottime())[0] is True
    crash = ecmp.boottime()
    time_after = crash + 1
    monkeypatch.setattr(ecmp, "boottime", lambda: time_after)
    agent.stamp()
    assert agent.synced() == pytest.approx(time_after, abs=0.01)
    # the agent synced after the crash: it is back, nothing to flush
    assert agent.flush_stale(crash) == (False, [])
    # its last sync was before this crash: it did not come back
    assert agent.flush_stale(time_after + 5)[0] is True
    assert len(flushes) == 2


def test_job_type_reads_list_jobs(monkeypatch):
    monkeypatch.setattr(ecmp.subprocess, "run", Tools(job="restart").run)
    assert ecmp.job_type("anycast-resilient-ecmp.service") == "restart"
    assert ecmp.job_type("other.service") is None
    monkeypatch.setattr(ecmp.subprocess, "run", Tools().run)
    assert ecmp.job_type("anycast-resilient-ecmp.service") is None


def test_config_refuses_a_negative_stale_time(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"pools": ["198.51.100.0/24"], "stale_sec": -1}))
    with pytest.raises(ecmp.Failure, match="stale_sec"):
        ecmp.load_config(str(path))


# ---------------------------------------------------------------- lab/longlived.py report
def _conn(index, node, reset=None, stalls=()):
    return {"id": index, "local_port": 40000 + index, "node": node, "opened": 1.0, "answers": 10,
            "reset": reset, "reset_why": "reset" if reset else None, "stalls": [list(s) for s in stalls]}


def test_report_splits_changed_node_from_collateral():
    data = {"ready": 10.0, "stopped": 30.0, "connections": [
        _conn(0, "n1", reset=15.0), _conn(1, "n1"), _conn(2, "n2", reset=15.1),
        _conn(3, "n3", stalls=[(16.0, 17.0)]), _conn(4, "n5", reset=5.0), _conn(5, None, reset=10.5),
    ]}
    out = longlived.report(data, ["n1"], 12.0, None)
    assert out["connections"] == 5 and out["not_established"] == 1
    assert out["on_changed"] == {"connections": 2, "reset": 1, "stalled": 0}
    assert out["collateral"] == {"connections": 3, "reset": 1, "stalled": 1}
    # a reset before the window is not the event's, but it is reported
    assert out["outside_window"] == 1
    assert out["per_node"]["n2"]["reset"] == 1


def test_report_counts_a_stalled_then_reset_connection_once():
    data = {"ready": 0.0, "stopped": 10.0, "connections": [_conn(0, "n2", reset=4.0, stalls=[(3.0, None)])]}
    out = longlived.report(data, ["n1"])
    assert out["collateral"] == {"connections": 1, "reset": 1, "stalled": 0}


def test_ipv6_link_local_and_device_only_next_hops_are_stable(agent, kernel):
    kernel.main[6] = [multipath("2001:db8:ac::80", ("fe80::11", "eth1"), ("fe80::12", "eth1")),
                      {"dst": "2001:db8:ac::81", "dev": "eth2"}]
    first = sync(agent, kernel)
    assert any(line.startswith("nexthop replace") and "via fe80::11 dev eth1" in line for line in first)
    assert any(line.startswith("nexthop replace") and line.endswith("dev eth2 proto 250") and " via " not in line for line in first)
    assert "-6 rule add pref 1000 to 2001:db8:ac::/48 lookup 200" in first
    # read back, nothing changes: no nexthop object is created again and again
    assert sync(agent, kernel) == []
