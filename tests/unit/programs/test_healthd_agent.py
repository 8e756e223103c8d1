# -*- coding: utf-8 -*-
"""The health agent's logic (roles/programs/files/anycast_healthd), without a network.

The package is staged and imported exactly as the role deploys it (with the
collection's _health_spec.py inside, as vendored; see healthd_package.py). Time is
injected: rise/fall, damping and the main loop are driven by a fake clock and
a fake interface.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time

import pytest

from ansible_collections.anycast.fabric.plugins.module_utils import _health_spec
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import health, model
from fabric_factory import small_fabric
from healthd_package import SPEC, build_script, load

build = build_script()

healthd = load()

TIMERS = {"interval_ms": 300, "timeout_ms": 250, "rise": 3, "fall": 3}
DAMPING = {"enabled": True, "penalty": 1000, "suppress": 2000, "reuse": 750, "half_life_s": 30, "max_hold_s": 300}


def tcp(port=80, **timers):
    return dict({"type": "tcp", "host": "127.0.0.1", "port": port}, **dict(TIMERS, **timers))


def vip_spec(prefix="198.51.100.10/32", name="web", checks=None, **damping):
    """One VIP as the role's configuration file holds it."""
    return {"prefix": prefix, "name": name, "health": {"checks": checks or [tcp()], "damping": dict(DAMPING, **damping)}}


def config(*vips, tmp_path=None):
    state = str(tmp_path / "state.json") if tmp_path else "/nonexistent/state.json"
    return {"interface": "lo", "state_file": state, "metrics_listen": None, "metrics_textfile": None, "vips": list(vips)}


class FakeInterface:
    """The VIP interface as a set, recording every change."""

    def __init__(self, present=()):
        self.name = "lo"
        self.present = set(present)
        self.calls = []

    def ensure(self):
        self.calls.append(("ensure",))

    def addresses(self):
        return set(self.present)

    def add(self, prefix):
        self.calls.append(("add", prefix))
        self.present.add(prefix)

    def delete(self, prefix):
        self.calls.append(("del", prefix))
        self.present.discard(prefix)

    def withdraw(self, prefixes):
        removed = sorted(set(prefixes) & self.present)
        for prefix in removed:
            self.delete(prefix)
        return removed


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


# The same defaults on both sides ---------------------------------------------------


def test_the_agent_runs_the_controllers_spec_file():
    """One spec: the agent's _health_spec is the collection's file (after the generated header), and the model uses it."""
    assert open(healthd.modules.spec.__file__, encoding="utf-8").read() == build.vendored("_health_spec.py", SPEC.read_text(encoding="utf-8"))
    # ... and so is the leaf schema it builds its problem reader on.
    schema = sys.modules[healthd.modules.spec.__name__.rpartition(".")[0] + "._schema"]
    assert open(schema.__file__, encoding="utf-8").read() == build.vendored("_schema.py", SPEC.with_name("_schema.py").read_text(encoding="utf-8"))
    assert issubclass(healthd.modules.spec.Reader, schema.Reader)
    assert health.read_health.__module__ == health.__name__ and health.spec is _health_spec
    assert healthd.modules.config.spec.TIMER_DEFAULTS == health.TIMER_DEFAULTS


def test_the_intents_health_is_accepted_unchanged():
    """What the role writes (the intent's normalised health) parses to exactly itself."""
    hostvars, groups = small_fabric()
    hostvars["n1"]["fabric_vips"] = [
        {
            "address": "198.51.100.12",
            "name": "web",
            "health": {"checks": [{"type": "http", "path": "/ok"}, {"type": "exec", "command": "/bin/true"}, {"type": "ipvs", "port": 80}]},
        }
    ]
    intents, problems = model.build(hostvars, groups)
    assert problems.messages() == []
    vip = intents["n1"].to_dict()["vips"][0]  # the role writes from the intent's dict form (fabric_intent)
    data = {"schema": 1, "interface": "lo", "vips": [{"prefix": vip["prefix"], "name": vip["name"], "health": vip["health"]}]}
    parsed = healthd.parse_config(json.loads(json.dumps(data)))
    assert parsed["vips"] == [{"prefix": "198.51.100.12/32", "name": "web", "checks": vip["health"]["checks"], "damping": vip["health"]["damping"]}]
    assert parsed["state_file"] == "/run/anycast-healthd/state.json" and parsed["metrics_listen"] is None


def test_hand_written_config_gets_defaults():
    parsed = healthd.parse_config(
        {"metrics_listen": "[::1]:9474", "vips": [{"address": "2001:db8:ac:0::10", "health": {"checks": [{"type": "https"}, {"type": "ipvs", "port": 53}]}}]}
    )
    assert parsed["metrics_listen"] == ("::1", 9474)
    vip = parsed["vips"][0]
    assert vip["prefix"] == "2001:db8:ac::10/128" and vip["damping"] == DAMPING
    assert vip["checks"] == [
        dict({"type": "https", "host": "127.0.0.1", "port": 443, "path": "/", "expect_status": [200]}, **TIMERS),
        dict({"type": "ipvs", "port": 53, "protocol": "tcp"}, **TIMERS),
    ]


HEALTH = {"checks": [{"type": "tcp", "port": 80}]}
INTERFACE_RULE = "an interface name: 1-15 letters, digits, '.', '_' or '-', starting with a letter or digit (Linux allows 15)"
NOT_HOST = "vips[0].prefix: must be a host route (/32): an anycast VIP is one address, not '198.51.100.0/24'"
LOOPBACK = "is an unspecified, loopback or multicast address"
CHECKS_REQUIRED = "is required: a list of one or more checks (tcp, http, https, exec, ipvs, kubernetes, systemd_unit, process), all of which must pass"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"schema": 2}, "schema: this agent reads schema 1, not 2 (agent and configuration come from different releases)"),
        ({"interfaces": "lo"}, "config: unknown option(s) interfaces (known: interface, metrics_listen, metrics_textfile, schema, state_file, vips)"),
        ({"interface": "a-very-long-interface"}, "interface: must be %s, not 'a-very-long-interface'" % INTERFACE_RULE),
        ({"state_file": "state.json"}, "state_file: must be an absolute path, not 'state.json'"),
        ({"metrics_listen": "localhost:9474"}, "metrics_listen: 'localhost' is not an IP address"),
        ({"metrics_listen": "127.0.0.1:http"}, "metrics_listen: 'http' is not a port number"),
        ({"vips": [{"prefix": "198.51.100.0/24", "health": HEALTH}]}, NOT_HOST),
        ({"vips": [{"prefix": "127.0.0.2", "health": HEALTH}]}, "vips[0].prefix: cannot be announced: it " + LOOPBACK + ", not '127.0.0.2'"),
        (
            {"vips": [{"prefix": "198.51.100.10", "health": HEALTH}, {"prefix": "198.51.100.10/32", "health": HEALTH}]},
            "vips[1].prefix: 198.51.100.10/32 is listed twice",
        ),
        ({"vips": [{"prefix": "198.51.100.10"}]}, "vips[0].health: is required: the checks that gate the VIP's announcement"),
        ({"vips": [{"prefix": "198.51.100.10", "health": {"checks": []}}]}, "vips[0].health.checks: " + CHECKS_REQUIRED),
        (
            {"vips": [{"prefix": "198.51.100.10", "health": {"checks": [{"type": "ping"}]}}]},
            "vips[0].health.checks[0].type: must be one of: tcp, http, https, exec, ipvs, kubernetes, systemd_unit, process, not 'ping'",
        ),
        ({"vips": [{"prefix": "198.51.100.10", "health": {"checks": [{"type": "tcp"}]}}]}, "vips[0].health.checks[0].port: is required for a tcp check"),
        (
            {"vips": [{"prefix": "198.51.100.10", "health": {"checks": [{"type": "tcp", "port": 1, "command": ["/bin/true"]}]}}]},
            "vips[0].health.checks[0].command: does not apply to a tcp check (its options: host, port, interval_ms, timeout_ms, rise, fall), not ['/bin/true']",
        ),
        (
            {"vips": [{"prefix": "198.51.100.10", "health": {"checks": [{"type": "exec", "command": ["true"]}]}}]},
            "vips[0].health.checks[0].command: must start with the absolute path of the program (checks run without a shell), not ['true']",
        ),
        (
            {"vips": [{"prefix": "198.51.100.10", "health": {"checks": [{"type": "tcp", "port": 1, "timeout_ms": 300}]}}]},
            "vips[0].health.checks[0].timeout_ms: must be lower than the check's interval_ms (300, the default), not 300",
        ),
        (
            {"vips": [{"prefix": "198.51.100.10", "health": dict(HEALTH, damping={"reuse": 3000})}]},
            "vips[0].health.damping.reuse: must be lower than damping.suppress (2000), not 3000",
        ),
    ],
)
def test_bad_config_is_refused_with_the_field_named(data, message):
    with pytest.raises(healthd.ConfigError) as raised:
        healthd.parse_config(data)
    assert str(raised.value) == message


def test_load_config_reports_unreadable_and_invalid_files(tmp_path):
    with pytest.raises(healthd.ConfigError, match="cannot read .*missing.json: No such file or directory"):
        healthd.load_config(str(tmp_path / "missing.json"))
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(healthd.ConfigError, match="bad.json is not valid JSON"):
        healthd.load_config(str(tmp_path / "bad.json"))


# Rise and fall ----------------------------------------------------------------------


def test_a_check_starts_down_and_needs_rise_successes():
    check = healthd.CheckState(tcp(rise=3, fall=2), "tcp 127.0.0.1:80")
    assert check.up is False
    assert [check.record(ok) for ok in (True, True, False, True, True)] == [False] * 5
    assert check.up is False  # the failure restarted the run of successes
    assert check.record(True) is True and check.up is True


def test_a_check_falls_after_fall_failures_in_a_row():
    check = healthd.CheckState(tcp(rise=1, fall=3), "x")
    check.record(True)
    assert [check.record(ok, 0.001, "connection refused") for ok in (False, False, True, False, False)] == [False] * 5
    assert check.up is True
    assert check.record(False, 0.001, "connection refused") is True
    assert check.up is False and check.error == "connection refused"
    assert (check.runs, check.failed_runs) == (7, 5)


def test_a_hung_check_is_forced_down_at_once():
    check = healthd.CheckState(tcp(rise=1, fall=3), "x")
    check.record(True)
    assert check.force_down("still running after 900 ms") is True
    assert check.up is False and check.failures == 3
    # It needs rise successes again, like any failed check.
    assert check.record(True) is True


# Damping -----------------------------------------------------------------------------


def test_penalty_halves_every_half_life():
    damping = healthd.Damping(DAMPING)
    damping.fall(0.0)
    assert damping.penalty(0.0) == 1000
    assert damping.penalty(30.0) == pytest.approx(500)
    assert damping.penalty(90.0) == pytest.approx(125)


def test_three_quick_falls_hold_the_vip_until_the_penalty_decays_below_reuse():
    damping = healthd.Damping(DAMPING)
    assert damping.fall(0.0) is False
    assert damping.fall(2.0) is False  # 1000 * 2^(-2/30) + 1000 = 1955
    assert damping.fall(4.0) is True  # 2911 >= 2000
    penalty = damping.penalty(4.0)
    assert penalty == pytest.approx(1000 * 2 ** (-4 / 30) + 1000 * 2 ** (-2 / 30) + 1000)
    hold = 30 * math.log2(penalty / 750)
    assert damping.hold_left(4.0) == pytest.approx(hold)
    assert damping.held(4.0 + hold - 0.01) is True
    assert damping.held(4.0 + hold + 0.01) is False
    assert damping.hold_left(4.0 + hold + 0.01) == 0


def test_falls_spread_out_never_hold():
    damping = healthd.Damping(DAMPING)
    for minute in range(20):
        assert damping.fall(minute * 60.0) is False
    assert damping.held(20 * 60.0) is False


def test_the_hold_grows_with_more_flapping_but_never_beyond_max_hold():
    damping = healthd.Damping(dict(DAMPING, max_hold_s=120))
    holds = []
    for second in range(0, 200, 2):  # flapping every 2 s for 200 s
        damping.fall(float(second))
        holds.append(damping.hold_left(float(second)))
    assert holds[2] > 0 and holds[10] > holds[2] and holds[20] > holds[10]
    assert max(holds) == pytest.approx(120)  # the cap: reuse * 2^(max_hold / half_life)
    assert damping.penalty(198.0) == pytest.approx(750 * 2**4)
    assert damping.held(198.0 + 119.9) is True and damping.held(198.0 + 120.1) is False


def test_disabled_damping_never_holds():
    damping = healthd.Damping(dict(DAMPING, enabled=False))
    assert not any(damping.fall(float(t)) for t in range(10))
    assert damping.held(10.0) is False and damping.penalty(10.0) == 0


def test_penalty_survives_a_restart_decayed_by_the_time_in_between():
    damping = healthd.Damping(DAMPING)
    damping.restore(3000, True, 30.0, 5.0)
    assert damping.penalty(5.0) == pytest.approx(1500) and damping.held(5.0)
    damping.restore(1000, True, 30.0, 5.0)  # 500 after the restart: below reuse, not held
    assert damping.held(5.0) is False
    damping.restore("junk", True, 0.0, 5.0)
    assert damping.penalty(5.0) == pytest.approx(500)


# The main loop, with a fake clock and a fake interface ------------------------------------------


def make_agent(*vips, present=(), tmp_path=None):
    clock = Clock()
    iface = FakeInterface(present)
    agent = healthd.Agent(healthd.parse_config(config(*vips, tmp_path=tmp_path)), interface=iface, clock=clock, wall=lambda: 1.7e9 + clock.now)
    agent.running = True
    return agent, iface, clock


def feed(agent, vip_index, *results, check_index=0):
    check = agent.vips[vip_index].checks[check_index]
    for ok in results:
        check.record(ok, 0.002, "" if ok else "connection refused")


def test_vip_is_announced_after_rise_and_withdrawn_after_fall(tmp_path):
    agent, iface, clock = make_agent(vip_spec(), tmp_path=tmp_path)
    feed(agent, 0, True, True)
    agent.step()
    assert iface.present == set()
    feed(agent, 0, True)
    agent.step()
    assert iface.present == {"198.51.100.10/32"} and agent.vips[0].transitions == 1
    feed(agent, 0, False, False)
    agent.step()
    assert iface.present == {"198.51.100.10/32"}
    feed(agent, 0, False)
    agent.step()
    assert iface.present == set() and agent.vips[0].transitions == 2 and agent.vips[0].falls == 1


def test_vips_are_independent_and_all_checks_must_pass(tmp_path):
    two_checks = vip_spec("198.51.100.11/32", "dns", checks=[tcp(53, rise=1, fall=1), tcp(853, rise=1, fall=1)])
    agent, iface, clock = make_agent(vip_spec(checks=[tcp(rise=1, fall=1)]), two_checks, tmp_path=tmp_path)
    feed(agent, 0, True)
    feed(agent, 1, True, check_index=0)
    agent.step()
    assert iface.present == {"198.51.100.10/32"}  # dns still waits for its second check
    feed(agent, 1, True, check_index=1)
    agent.step()
    assert iface.present == {"198.51.100.10/32", "198.51.100.11/32"}
    feed(agent, 1, False, check_index=1)
    agent.step()
    assert iface.present == {"198.51.100.10/32"}


def test_start_withdraws_leftovers_before_any_check(tmp_path, monkeypatch):
    monkeypatch.setattr(healthd.Agent, "_check_loop", lambda self, vip, check: None)
    agent, iface, clock = make_agent(vip_spec(), present={"198.51.100.10/32", "203.0.113.7/32"}, tmp_path=tmp_path)
    agent.start()
    assert iface.calls[:2] == [("ensure",), ("del", "198.51.100.10/32")]
    assert iface.present == {"203.0.113.7/32"}  # not ours: untouched
    agent.stop()


def test_stop_withdraws_everything(tmp_path):
    agent, iface, clock = make_agent(vip_spec(checks=[tcp(rise=1)]), tmp_path=tmp_path)
    feed(agent, 0, True)
    agent.step()
    agent.stop()
    assert iface.present == set()
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["running"] is False and state["vips"][0]["announced"] is False


def test_a_flapping_vip_is_held_down_while_healthy_then_released(tmp_path):
    agent, iface, clock = make_agent(vip_spec(checks=[tcp(rise=1, fall=1)], half_life_s=2, max_hold_s=4), tmp_path=tmp_path)
    for _flap in range(3):
        feed(agent, 0, True)
        agent.step()
        assert iface.present == {"198.51.100.10/32"}
        clock.now += 0.2
        feed(agent, 0, False)
        agent.step()
        assert iface.present == set()
        clock.now += 0.2
    feed(agent, 0, True)
    agent.step()
    vip = agent.vips[0]
    assert vip.healthy and vip.damping.held(clock.now) and iface.present == set()
    hold = vip.damping.hold_left(clock.now)
    assert 1.0 < hold <= 4.0
    clock.now += hold - 0.05
    agent.step()
    assert iface.present == set()
    clock.now += 0.1
    agent.step()
    assert iface.present == {"198.51.100.10/32"}


def test_changes_behind_the_agents_back_are_undone(tmp_path):
    agent, iface, clock = make_agent(vip_spec(checks=[tcp(rise=1)]), vip_spec("198.51.100.11/32", None), tmp_path=tmp_path)
    feed(agent, 0, True)
    agent.step()
    iface.present.discard("198.51.100.10/32")  # e.g. a purge by another tool
    iface.present.add("198.51.100.11/32")  # e.g. added by hand while sick
    clock.now += healthd.RECONCILE_S
    agent.step()
    assert iface.present == {"198.51.100.10/32"}


def test_a_check_that_hangs_withdraws_its_vip(tmp_path):
    agent, iface, clock = make_agent(vip_spec(checks=[tcp(rise=1)]), tmp_path=tmp_path)
    feed(agent, 0, True)
    agent.step()
    check = agent.vips[0].checks[0]
    check.running_since = clock.now
    clock.now += 0.25 + healthd.HUNG_GRACE_S - 0.01
    agent.step()
    assert iface.present == {"198.51.100.10/32"}
    clock.now += 0.02
    agent.step()
    assert iface.present == set() and check.error.startswith("still running after 7")


def test_the_state_file_carries_the_penalty_into_the_next_run(tmp_path):
    spec = vip_spec(checks=[tcp(rise=1, fall=1)])
    agent, iface, clock = make_agent(spec, tmp_path=tmp_path)
    for _flap in range(3):
        feed(agent, 0, True)
        agent.step()
        feed(agent, 0, False)
        agent.step()
    agent.stop()
    assert agent.vips[0].damping.held(clock.now)
    again, iface, clock = make_agent(spec, tmp_path=tmp_path)
    again.restore_damping()
    assert again.vips[0].damping.held(clock.now)


# Metrics, state and the CLI ------------------------------------------------------------------------------


def snapshot():
    return {
        "running": True,
        "started": 1700000000.5,
        "interface": "lo",
        "pid": os.getpid(),
        "version": healthd.VERSION,
        "updated": 1700000100.0,
        "vips": [
            {
                "prefix": "198.51.100.10/32",
                "name": "web",
                "announced": True,
                "healthy": True,
                "suppressed": False,
                "penalty": 0.0,
                "hold_left_s": 0.0,
                "last_change": 1700000001.25,
                "transitions": 1,
                "falls": 0,
                "checks": [{"name": "http://127.0.0.1:80/", "type": "http", "up": True, "latency_ms": 1.5, "runs": 40, "failures": 2, "error": ""}],
            },
            {
                "prefix": "2001:db8:ac::10/128",
                "name": None,
                "announced": False,
                "healthy": True,
                "suppressed": True,
                "penalty": 2911.2,
                "hold_left_s": 58.6,
                "last_change": 1700000090.0,
                "transitions": 6,
                "falls": 3,
                "checks": [{"name": 'exec /bin/check "x"', "type": "exec", "up": True, "latency_ms": None, "runs": 9, "failures": 3, "error": ""}],
            },
        ],
    }


def test_metrics_text_exposition():
    """prometheus_client's text format (values as Go floats), the same names, labels and HELP texts as before."""
    text = healthd.render_metrics(snapshot())
    lines = text.splitlines()
    # prometheus_client writes labels sorted by name.
    web = 'name="web",vip="198.51.100.10/32"'
    v6 = 'name="",vip="2001:db8:ac::10/128"'
    for line in [
        "anycast_healthd_running 1.0",
        "anycast_healthd_start_time_seconds 1.7000000005e+09",
        "# HELP anycast_healthd_vip_announced 1 while the VIP is on its interface (announced), 0 while withdrawn.",
        "# TYPE anycast_healthd_vip_announced gauge",
        "anycast_healthd_vip_announced{%s} 1.0" % web,
        "anycast_healthd_vip_announced{%s} 0.0" % v6,
        "anycast_healthd_vip_suppressed{%s} 1.0" % v6,
        "anycast_healthd_vip_penalty{%s} 2911.2" % v6,
        "anycast_healthd_vip_last_change_timestamp_seconds{%s} 1.70000000125e+09" % web,
        "# TYPE anycast_healthd_vip_transitions_total counter",
        "anycast_healthd_vip_transitions_total{%s} 6.0" % v6,
        'anycast_healthd_check_up{check="http://127.0.0.1:80/",name="web",type="http",vip="198.51.100.10/32"} 1.0',
        'anycast_healthd_check_latency_seconds{check="http://127.0.0.1:80/",name="web",type="http",vip="198.51.100.10/32"} 0.0015',
        # Quotes in labels are escaped; a check that never ran has no latency.
        'anycast_healthd_check_latency_seconds{check="exec /bin/check \\"x\\"",name="",type="exec",vip="2001:db8:ac::10/128"} NaN',
        'anycast_healthd_check_failures_total{check="http://127.0.0.1:80/",name="web",type="http",vip="198.51.100.10/32"} 2.0',
    ]:
        assert line in lines
    # Every sample belongs to a declared metric, and each metric is declared once.
    declared = [line.split()[2] for line in lines if line.startswith("# TYPE")]
    assert len(declared) == len(set(declared)) == len(healthd.METRICS) + 2
    samples = {line.split("{")[0].split()[0] for line in lines if not line.startswith("#")}
    assert samples == set(declared)
    assert text.endswith("\n")


def test_metrics_textfile_and_listener(tmp_path):
    """The textfile (node-exporter) and the HTTP listener serve the same exposition; other paths are 404."""
    import urllib.error
    import urllib.request

    path = tmp_path / "textfile" / "anycast_healthd.prom"
    healthd.write_textfile(str(path), snapshot())
    assert path.read_text() == healthd.render_metrics(snapshot())
    server = healthd.MetricsServer(("127.0.0.1", 0), snapshot)
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = "http://127.0.0.1:%d" % server.server_address[1]
        with urllib.request.urlopen(url + "/metrics", timeout=5) as answer:
            assert answer.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
            assert answer.read().decode() == healthd.render_metrics(snapshot())
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(url + "/other", timeout=5)
        assert raised.value.code == 404
    finally:
        server.shutdown()
        server.server_close()


def test_status_table():
    state = snapshot()
    text = healthd.format_status(state, 1700000102.0, present={"198.51.100.10/32"})
    lines = text.splitlines()
    assert lines[0] == "anycast-healthd %s: running (pid %d) on lo, updated 2s ago" % (healthd.VERSION, os.getpid())
    assert lines[1].split() == ["VIP", "NAME", "STATE", "SINCE", "FALLS", "PENALTY", "CHECKS"]
    assert lines[2].split() == ["198.51.100.10/32", "web", "announced", "1m40s", "ago", "0", "0", "http://127.0.0.1:80/", "up", "(1.5", "ms)"]
    assert "held down (58s left)" in lines[3] and "2911" in lines[3]
    # The kernel disagreeing with the agent is shown.
    text = healthd.format_status(state, 1700000102.0, present=set())
    assert "announced [on lo: no]" in text
    state["pid"] = 2**22 + 12345  # beyond pid_max: no such process
    assert "NOT running" in healthd.format_status(state, 1700000102.0).splitlines()[0]
    state["running"] = False
    assert healthd.format_status(state, 1700000102.0).startswith("anycast-healthd: stopped 2s ago; its VIPs were withdrawn")


def test_state_file_is_written_atomically_and_read_back(tmp_path):
    path = tmp_path / "run" / "state.json"
    healthd.write_atomic(str(path), json.dumps(dict(snapshot(), schema=healthd.STATE_SCHEMA)))
    assert healthd.read_state(str(path))["vips"][1]["falls"] == 3
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]
    path.write_text("{")
    assert healthd.read_state(str(path)) is None


def test_sd_notify_uses_python3_systemd(monkeypatch):
    """Under systemd (NOTIFY_SOCKET set) the message goes to systemd.daemon.notify; outside, nothing is imported."""
    import sys
    import types

    sent = []
    fake = types.ModuleType("systemd")
    fake.daemon = types.SimpleNamespace(notify=sent.append)
    monkeypatch.setitem(sys.modules, "systemd", fake)
    monkeypatch.setitem(sys.modules, "systemd.daemon", fake.daemon)
    monkeypatch.setenv("NOTIFY_SOCKET", "/run/systemd/notify")
    healthd.sd_notify("READY=1")
    assert sent == ["READY=1"]

    def refused(message):
        raise OSError(111, "Connection refused")

    fake.daemon.notify = refused
    healthd.sd_notify("WATCHDOG=1")  # logged, not raised
    monkeypatch.delenv("NOTIFY_SOCKET")
    monkeypatch.delitem(sys.modules, "systemd")
    monkeypatch.delitem(sys.modules, "systemd.daemon")
    healthd.sd_notify("READY=1")  # outside systemd: nothing, no error


@pytest.mark.parametrize(
    "value, expected",
    [("127.0.0.1:9474", ("127.0.0.1", 9474)), ("[::1]:9474", ("::1", 9474)), ("0.0.0.0:80", ("0.0.0.0", 80))],
)
def test_parse_listen(value, expected):
    assert healthd.parse_listen(value) == expected


# Checks that need no network ----------------------------------------------------------------------

IP_VS = """IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  C633640A:0050 rr
  -> 0A000002:0050      Masq    1      0          0
  -> 0A000003:0050      Masq    0      3          1
TCP  C633640A:01BB wrr persistent 300 FFFFFFFF
  -> 0A000002:01BB      Masq    0      0          0
UDP  C633640A:0035 rr
FWM  00000001 rr
  -> 0A000004:0000      Route   5      0          0
TCP  [2001:0db8:00ac:0000:0000:0000:0000:0010]:0050 rr
  -> [2001:0db8:0001:0000:0000:0000:0000:0002]:0050      Masq    2      0          0
"""


def test_parse_ip_vs():
    assert healthd.parse_ip_vs(IP_VS) == {
        ("tcp", "198.51.100.10", 80): [1, 0],
        ("tcp", "198.51.100.10", 443): [0],
        ("udp", "198.51.100.10", 53): [],
        ("tcp", "2001:db8:ac::10", 80): [2],
    }


@pytest.mark.parametrize(
    "prefix, protocol, port, expected",
    [
        ("198.51.100.10/32", "tcp", 80, (True, "")),
        ("2001:db8:ac::10/128", "tcp", 80, (True, "")),
        ("198.51.100.10/32", "tcp", 443, (False, "the virtual service has no real server with weight > 0 (1 real servers)")),
        ("198.51.100.10/32", "udp", 53, (False, "the virtual service has no real server with weight > 0 (0 real servers)")),
        ("198.51.100.11/32", "tcp", 80, (False, "no IPVS virtual service tcp 198.51.100.11:80")),
    ],
)
def test_ipvs_check(tmp_path, monkeypatch, prefix, protocol, port, expected):
    (tmp_path / "ip_vs").write_text(IP_VS)
    monkeypatch.setattr(healthd.modules.checks, "IPVS_PROC", str(tmp_path / "ip_vs"))
    assert healthd.check_ipvs({"type": "ipvs", "protocol": protocol, "port": port}, prefix) == expected


def test_ipvs_check_without_ipvs(tmp_path, monkeypatch):
    monkeypatch.setattr(healthd.modules.checks, "IPVS_PROC", str(tmp_path / "missing"))
    ok, latency, error = healthd.run_check(dict({"type": "ipvs", "protocol": "tcp", "port": 80}, **TIMERS), {"prefix": "198.51.100.10/32"})
    assert not ok and error.startswith("no IPVS in this kernel")


def exec_check(command, timeout_ms=250):
    return dict({"type": "exec", "command": command}, **dict(TIMERS, timeout_ms=timeout_ms, interval_ms=timeout_ms + 50))


VIP = {"prefix": "198.51.100.10/32", "name": "web"}


def test_exec_check_passes_on_status_zero_and_sees_its_vip():
    ok, latency, error = healthd.run_check(exec_check(["/bin/sh", "-c", 'test "$ANYCAST_VIP $ANYCAST_VIP_NAME" = "198.51.100.10 web"']), VIP)
    assert (ok, error) == (True, "") and 0 < latency < 0.25


def test_exec_check_failure_keeps_a_line_of_output():
    ok, latency, error = healthd.run_check(exec_check(["/bin/sh", "-c", "echo 'db down'; exit 3"]), VIP)
    assert (ok, error) == (False, "exit status 3: db down")


def test_exec_check_timeout_kills_the_whole_process_group(tmp_path):
    marker = tmp_path / "survivor"
    script = "(sleep 0.6; touch %s) & sleep 5" % marker
    started = time.monotonic()
    ok, latency, error = healthd.run_check(exec_check(["/bin/sh", "-c", script], timeout_ms=200), VIP)
    assert (ok, error) == (False, "still running after 200 ms (killed)")
    assert time.monotonic() - started < 1.0
    time.sleep(0.8)
    assert not marker.exists()  # the background child died with the group


def test_exec_check_of_a_missing_program():
    ok, latency, error = healthd.run_check(exec_check(["/nonexistent/check"]), VIP)
    assert (ok, error) == (False, "No such file or directory")


def test_describe_names_checks_stably():
    assert healthd.describe(tcp(53)) == "tcp 127.0.0.1:53"
    assert healthd.describe(dict(tcp(8443), type="https", host="::1", path="/ok")) == "https://[::1]:8443/ok"
    assert healthd.describe({"type": "ipvs", "protocol": "udp", "port": 53}, "2001:db8:ac::53/128") == "ipvs udp [2001:db8:ac::53]:53"


def test_check_config_cli(tmp_path, capsys):
    path = tmp_path / "healthd.json"
    path.write_text(json.dumps({"schema": 1, "interface": "lo", "vips": [{"prefix": "198.51.100.10", "health": HEALTH}]}))
    assert healthd.main(["--config", str(path), "--check-config"]) == 0
    assert capsys.readouterr().out == "%s: 1 VIP(s), 1 check(s) on lo\n" % path
    path.write_text(json.dumps({"vips": [{"prefix": "198.51.100.10"}]}))
    assert healthd.main(["--config", str(path), "--check-config"]) == 2
    assert "configuration: vips[0].health: is required" in capsys.readouterr().out
