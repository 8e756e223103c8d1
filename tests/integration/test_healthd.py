# -*- coding: utf-8 -*-
"""The health agent for real: its own process, real services, a real kernel, a private network namespace.

Everything runs inside the `netns` fixture's namespace (its own `lo`): the
services (python's http.server on 127.0.0.1), the agent, and every probe. Every
wait is bounded, and every process is killed in a finalizer. The detection
times are measured, printed (pytest -s) and bounded.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time

import pytest

from conftest import HOST_PYTHON, REPO, build_health_agent, netns_addresses

WEB, DNS, FLAP = "198.51.100.10/32", "2001:db8:ac::53/128", "198.51.100.30/32"
WEB_PORT, DNS_PORT, METRICS_PORT = 18080, 18053, 9474
# Default timers (interval 300 ms, timeout 250 ms, rise 3, fall 3): a refused
# connection is noticed 600-900 ms after the death.
DETECTION_BOUND_S = 1.5


def build_agent(folder):
    """The zipapp as the role builds it: the programs role's package (with its copies of the health spec, schema and address rules)."""
    return build_health_agent(folder / "agent")[1]


SAMPLE_RE = re.compile(r"([a-z_]+)(?:\{(.*)\})? (\S+)")
LABEL_RE = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')


def labels(**pairs):
    return frozenset(pairs.items())


def samples(lines):
    """Prometheus text exposition -> {(name, labels): value}, whatever the order of the labels."""
    found = {}
    for line in lines:
        match = SAMPLE_RE.fullmatch(line)
        if match and not line.startswith("#"):
            pairs = {key: value.replace('\\"', '"').replace("\\\\", "\\") for key, value in LABEL_RE.findall(match.group(2) or "")}
            found[match.group(1), frozenset(pairs.items())] = float(match.group(3))
    return found


class Lab:
    """Processes in one namespace, killed (and reaped) at the end of the test."""

    def __init__(self, netns, tmp_path):
        self.netns = netns
        self.tmp = tmp_path
        self.procs = []
        self.agent = None
        self.config = tmp_path / "healthd.json"
        self.state = tmp_path / "state.json"
        self.textfile = tmp_path / "metrics.prom"
        self.log = tmp_path / "agent.log"
        self.agent_path = build_agent(tmp_path)
        subprocess.run(["ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up"], check=True)

    def exec(self, *cmd, **kwargs):
        return subprocess.run(["ip", "netns", "exec", self.netns, *cmd], capture_output=True, text=True, timeout=30, check=False, **kwargs)

    def spawn(self, *cmd, log=None):
        out = open(log, "a") if log else subprocess.DEVNULL
        # `ip netns exec` execs the command: the pid is the command's own.
        proc = subprocess.Popen(["ip", "netns", "exec", self.netns, *cmd], stdout=out, stderr=subprocess.STDOUT)
        if log:
            out.close()
        self.procs.append(proc)
        return proc

    def server(self, port):
        """An HTTP server on 127.0.0.1:port (also what the tcp checks connect to)."""
        root = self.tmp / "www"
        root.mkdir(exist_ok=True)
        return self.spawn(HOST_PYTHON, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(root), str(port))

    def write_config(self, vips):
        config = {
            "schema": 1,
            "interface": "lo",
            "state_file": str(self.state),
            "metrics_listen": "127.0.0.1:%d" % METRICS_PORT,
            "metrics_textfile": str(self.textfile),
            "vips": vips,
        }
        self.config.write_text(json.dumps(config, indent=2))

    def start_agent(self):
        self.agent = self.spawn(HOST_PYTHON, "-I", str(self.agent_path), "--config", str(self.config), log=self.log)
        return time.monotonic()

    def cli(self, *args):
        return self.exec(HOST_PYTHON, "-I", str(self.agent_path), "--config", str(self.config), *args)

    def addresses(self):
        return netns_addresses(self.netns)

    def wait(self, what, predicate, timeout):
        """Poll every 20 ms; the seconds it took, or a failure that shows the agent's log."""
        started = time.monotonic()
        while True:
            if predicate():
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                log = self.log.read_text() if self.log.exists() else "(no agent log)"
                pytest.fail("%s: not within %.1f s; lo has %s\nagent log:\n%s" % (what, timeout, self.addresses(), log))
            time.sleep(0.02)

    def present(self, prefix):
        return lambda: prefix in self.addresses()

    def absent(self, prefix):
        return lambda: prefix not in self.addresses()

    def metrics(self):
        probe = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:%d/metrics', timeout=5).read().decode(), end='')" % METRICS_PORT
        result = self.exec(HOST_PYTHON, "-c", probe)
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    def close(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.kill()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


@pytest.fixture
def lab(netns, tmp_path):
    lab = Lab(netns, tmp_path)
    try:
        yield lab
    finally:
        lab.close()


def web_and_dns():
    return [
        {"prefix": WEB, "name": "web", "health": {"checks": [{"type": "http", "port": WEB_PORT, "path": "/"}]}},
        {"prefix": DNS, "name": "dns", "health": {"checks": [{"type": "tcp", "port": DNS_PORT}]}},
    ]


def test_vips_follow_their_services_independently(lab):
    web = lab.server(WEB_PORT)
    lab.server(DNS_PORT)
    lab.write_config(web_and_dns())
    started = lab.start_agent()
    lab.wait("web announced", lab.present(WEB), 5)
    lab.wait("dns announced", lab.present(DNS), 5)
    # rise 3 at 300 ms: the third success comes at least 600 ms after the first.
    first = time.monotonic() - started
    assert first >= 0.55, "announced %.2f s after start: before rise successes" % first

    # The web service dies: only its VIP is withdrawn, within the bound.
    web.kill()
    web.wait(timeout=10)
    detection = lab.wait("web withdrawn", lab.absent(WEB), DETECTION_BOUND_S)
    print("\nhealthd: web withdrawn %.3f s after its server was killed (bound %.1f s)" % (detection, DETECTION_BOUND_S))
    assert DNS in lab.addresses()

    # Back, after rise successes again.
    restarted = time.monotonic()
    lab.server(WEB_PORT)
    back = lab.wait("web announced again", lab.present(WEB), 5)
    print("healthd: web announced %.3f s after its server was restarted" % back)
    assert back >= 0.55 and time.monotonic() - restarted < 5

    metrics = samples(lab.metrics())
    web = {"vip": WEB, "name": "web"}
    assert metrics["anycast_healthd_vip_announced", labels(**web)] == 1
    assert metrics["anycast_healthd_vip_transitions_total", labels(**web)] == 3
    assert metrics["anycast_healthd_vip_falls_total", labels(**web)] == 1
    assert metrics["anycast_healthd_vip_announced", labels(vip=DNS, name="dns")] == 1
    http_check = labels(check="http://127.0.0.1:%d/" % WEB_PORT, type="http", **web)
    assert metrics["anycast_healthd_check_up", http_check] == 1
    assert 0 < metrics["anycast_healthd_check_latency_seconds", http_check] < 0.25
    # The textfile carries the same samples.
    assert samples(lab.textfile.read_text().splitlines())["anycast_healthd_vip_announced", labels(**web)] == 1

    status = lab.cli("--status")
    assert status.returncode == 0, status.stdout + status.stderr
    rows = {line.split()[0]: line.split() for line in status.stdout.splitlines()[2:]}
    assert rows[WEB][1:3] == ["web", "announced"] and rows[DNS][1:3] == ["dns", "announced"]
    assert rows[WEB][5] == "1"  # one fall

    log = lab.log.read_text()
    assert "vip %s (web): WITHDRAWN (http://127.0.0.1:%d/: connection refused)" % (WEB, WEB_PORT) in log
    assert "vip %s (web): ANNOUNCED (checks pass)" % WEB in log


def test_sigkill_then_withdraw_all_and_a_restart_that_rechecks(lab):
    lab.server(WEB_PORT)
    lab.server(DNS_PORT)
    lab.write_config(web_and_dns())
    lab.start_agent()
    lab.wait("both announced", lambda: {WEB, DNS} <= set(lab.addresses()), 5)

    # SIGKILL leaves the addresses behind: exactly what ExecStopPost is for.
    lab.agent.send_signal(signal.SIGKILL)
    lab.agent.wait(timeout=10)
    assert {WEB, DNS} <= set(lab.addresses())
    status = lab.cli("--status")
    assert status.returncode == 3 and "NOT running" in status.stdout

    started = time.monotonic()
    result = lab.cli("--withdraw-all")
    took = time.monotonic() - started
    print("\nhealthd: --withdraw-all took %.3f s" % took)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not {WEB, DNS} & set(lab.addresses())
    assert "withdraw-all: 2 of 2 managed VIP(s) were on lo and are withdrawn" in result.stdout
    state = json.loads(lab.state.read_text())
    assert state["running"] is False and not any(v["announced"] for v in state["vips"])
    textfile = samples(lab.textfile.read_text().splitlines())
    assert textfile["anycast_healthd_vip_announced", labels(vip=WEB, name="web")] == 0
    assert textfile["anycast_healthd_running", labels()] == 0
    # Twice is harmless (systemd may run it after a clean stop that withdrew already).
    assert lab.cli("--withdraw-all").returncode == 0

    # A leftover address of a sick service, and a restart: nothing is announced before the checks pass.
    lab.exec("ip", "addr", "add", FLAP, "dev", "lo")
    vips = web_and_dns() + [{"prefix": FLAP, "health": {"checks": [{"type": "tcp", "port": 18099}]}}]
    lab.write_config(vips)
    started = lab.start_agent()
    lab.wait("leftover withdrawn at start", lab.absent(FLAP), 2)
    early = time.monotonic() - started
    if early < 0.5:
        assert WEB not in lab.addresses()
    back = lab.wait("web announced after the restart", lab.present(WEB), 5) + early
    print("healthd: after a restart, web announced %.3f s after the agent started" % back)
    assert back >= 0.55
    time.sleep(0.5)
    assert FLAP not in lab.addresses()  # sick: stays withdrawn

    # A clean stop withdraws everything by itself.
    lab.agent.send_signal(signal.SIGTERM)
    assert lab.agent.wait(timeout=5) == 0
    assert not {WEB, DNS, FLAP} & set(lab.addresses())
    assert "stopped; every managed VIP is withdrawn" in lab.log.read_text()


def test_a_flapping_vip_is_held_down_then_released(lab, tmp_path):
    flag = tmp_path / "healthy"
    check = {"type": "exec", "command": ["/usr/bin/test", "-e", str(flag)], "interval_ms": 200, "timeout_ms": 150, "rise": 1, "fall": 1}
    # Fast damping for the test: suppress after ~3 quick falls, hold at most 5 s.
    damping = {"penalty": 1000, "suppress": 2500, "reuse": 1000, "half_life_s": 2, "max_hold_s": 5}
    lab.write_config([{"prefix": FLAP, "name": "flappy", "health": {"checks": [check], "damping": damping}}])
    lab.start_agent()

    falls = 0
    for _cycle in range(8):
        flag.touch()
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and FLAP not in lab.addresses():
            time.sleep(0.02)
        if FLAP not in lab.addresses():
            break  # healthy but not announced: held down
        flag.unlink()
        lab.wait("withdrawn after a fall", lab.absent(FLAP), 1.0)
        falls += 1
    else:
        pytest.fail("never held down after 8 falls:\n" + lab.log.read_text())
    assert falls >= 3  # two falls (2000) stay below suppress (2500)

    state = json.loads(lab.state.read_text())["vips"][0]
    assert state["healthy"] is True and state["suppressed"] is True and state["announced"] is False
    assert samples(lab.metrics())["anycast_healthd_vip_suppressed", labels(vip=FLAP, name="flappy")] == 1
    assert "flapping, held down for" in lab.log.read_text()
    status = lab.cli("--status")
    assert "held down (" in status.stdout

    # Still held a while later, although healthy all along...
    time.sleep(0.5)
    assert FLAP not in lab.addresses()
    # ...and released once the penalty decayed below reuse, within the cap
    # counted from the agent's last fall (a check that is slow under load is
    # a fall too, and rightly extends the hold).
    lab.wait("released", lab.present(FLAP), 7.0)
    lab.wait("state file updated", lambda: json.loads(lab.state.read_text())["vips"][0]["announced"], 2.0)
    state = json.loads(lab.state.read_text())["vips"][0]
    held = state["last_change"] - state["last_fall"]
    print("\nhealthd: flapping VIP held down %.2f s after its last fall (%d falls, max_hold_s 5)" % (held, state["falls"]))
    assert state["falls"] >= falls and 2.0 < held <= 5.0 + 0.5


KUBE_STANDIN = REPO / "molecule" / "shared" / "kube_proxy_health.py"
KUBE_PORT, KUBE_HEALTHZ_PORT = 31080, 10256


def test_a_service_vip_follows_kube_proxys_local_endpoints(lab, tmp_path):
    """kubernetes check: a stand-in answering exactly as kube-proxy does (200/503, JSON body) on a real kernel."""
    state = tmp_path / "kube-proxy.json"

    def endpoints(count, **extra):
        tmp = tmp_path / "kube-proxy.json.tmp"
        tmp.write_text(json.dumps(dict({"namespace": "lab", "name": "web", "localEndpoints": count}, **extra)))
        tmp.replace(state)
        return time.monotonic()

    endpoints(0)
    lab.spawn(HOST_PYTHON, str(KUBE_STANDIN), str(state), "127.0.0.1", str(KUBE_PORT), str(KUBE_HEALTHZ_PORT))
    check = {"type": "kubernetes", "port": KUBE_PORT, "service": "lab/web", "healthz_port": KUBE_HEALTHZ_PORT}
    lab.write_config([{"prefix": WEB, "name": "lb", "health": {"checks": [check]}}])
    lab.start_agent()

    # No local endpoint: never announced, over many check runs (3 s = 10 intervals).
    time.sleep(3)
    assert WEB not in lab.addresses()
    metrics = samples(lab.metrics())
    runs = [value for (name, _labels), value in metrics.items() if name == "anycast_healthd_check_runs_total"]
    assert len(runs) == 1 and runs[0] >= 5
    assert metrics["anycast_healthd_vip_announced", labels(vip=WEB, name="lb")] == 0

    # One local endpoint: announced after rise (3) successes, not before.
    since = endpoints(1)
    up = lab.wait("announced with one local endpoint", lab.present(WEB), 5)
    assert up >= 0.55, "announced %.2f s after the endpoint appeared: before rise successes" % up

    # 1 -> 0: withdrawn within the same bound as a dead service.
    since = endpoints(0)
    down = lab.wait("withdrawn with no local endpoint", lab.absent(WEB), DETECTION_BOUND_S)
    print("\nhealthd: kubernetes VIP withdrawn %.3f s after localEndpoints went to 0 (bound %.1f s)" % (down, DETECTION_BOUND_S))

    # 0 -> 1: back.
    since = endpoints(1)
    back = lab.wait("announced again", lab.present(WEB), 5)
    assert back >= 0.55

    # The node is being deleted: /healthz turns 503 while the Service port still says 200.
    since = endpoints(1, eligible=False)
    lab.wait("withdrawn when kube-proxy's /healthz fails", lab.absent(WEB), DETECTION_BOUND_S)
    assert time.monotonic() - since < DETECTION_BOUND_S + 0.5

    log = lab.log.read_text()
    name = "kubernetes 127.0.0.1:%d lab/web +healthz:%d" % (KUBE_PORT, KUBE_HEALTHZ_PORT)
    assert "vip %s (lb): WITHDRAWN (%s: no local endpoint (localEndpoints 0, HTTP status 503))" % (WEB, name) in log
    assert "%s: kube-proxy /healthz answers HTTP status 503 (node not eligible or proxy unhealthy)" % name in log


# Event-driven: a process followed by a pidfd withdraws its VIP at the exit, not at a later check run.
EVENT_BOUND_S = 0.5


def test_a_process_check_withdraws_at_the_exit(lab):
    web = lab.server(WEB_PORT)
    pidfile = lab.tmp / "web.pid"
    pidfile.write_text("%d\n" % web.pid)
    # A 10 s interval: only the pidfd's event can withdraw within the bound.
    check = {"type": "process", "pidfile": str(pidfile), "interval_ms": 10000, "timeout_ms": 100, "rise": 1}
    lab.write_config([{"prefix": WEB, "name": "web", "health": {"checks": [check]}}])
    lab.start_agent()
    lab.wait("web announced", lab.present(WEB), 5)
    web.kill()
    detection = lab.wait("web withdrawn", lab.absent(WEB), EVENT_BOUND_S)
    web.wait(timeout=10)
    print("\nhealthd: process check: web withdrawn %.3f s after its server was killed (bound %.1f s)" % (detection, EVENT_BOUND_S))
    log = lab.log.read_text()
    assert "vip %s (web): WITHDRAWN (process %s: process %d exited)" % (WEB, pidfile, web.pid) in log
