# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent's kubernetes check against a stand-in that answers exactly as kube-proxy does.

molecule/shared/kube_proxy_health.py serves kube-proxy's per-Service health
check (200/503 and its JSON body) and /healthz on 127.0.0.1; the lab uses the
same file. The last test runs the whole agent (its check threads, its main
loop) against it with a fake interface and proves that nothing is announced
before `rise` successes, that 1 -> 0 local endpoints withdraws and 0 -> 1
announces again.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import threading
import time
from importlib.machinery import SourceFileLoader

import pytest

from ansible_collections.anycast.fabric.plugins.plugin_utils.model import health
from healthd_package import REPO, load as load_agent


def load(name, path):
    loader = SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


healthd = load_agent()
fake = load("kube_proxy_health", REPO / "molecule" / "shared" / "kube_proxy_health.py")

TIMERS = {"interval_ms": 300, "timeout_ms": 250, "rise": 3, "fall": 3}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class KubeProxy:
    """The stand-in on two free loopback ports; `set(...)` rewrites its state file."""

    def __init__(self, tmp_path, **state):
        self.state_file = str(tmp_path / "kube-proxy.json")
        self.port, self.healthz_port = free_port(), free_port()
        self.set(**dict({"namespace": "lab", "name": "web", "localEndpoints": 1}, **state))
        self.servers = fake.serve(self.state_file, "127.0.0.1", self.port, self.healthz_port)

    def set(self, **state):
        current = fake.read_state(self.state_file)
        current.update(state)
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as handle:
            json.dump(current, handle)
        os.replace(tmp, self.state_file)

    def check(self, **options):
        raw = dict({"type": "kubernetes", "port": self.port}, **options)
        return healthd.parse_check("check", raw)

    def close(self):
        for server in self.servers:
            server.shutdown()
            server.server_close()


@pytest.fixture()
def kube_proxy(tmp_path):
    proxy = KubeProxy(tmp_path)
    yield proxy
    proxy.close()


# The schema on both sides ------------------------------------------------------------


def test_agent_and_model_share_the_service_pattern():
    assert healthd.SERVICE_RE.pattern == health.SERVICE_RE.pattern
    assert healthd.TYPE_KEYS["kubernetes"] == health.TYPE_KEYS["kubernetes"]


@pytest.mark.parametrize("service", ["default/web", "kube-system/a", "a" * 63 + "/" + "b" * 63, "0ns/web-1"])
def test_valid_service_names(service):
    assert health.SERVICE_RE.fullmatch(service) and healthd.SERVICE_RE.fullmatch(service)


@pytest.mark.parametrize(
    "service", ["default/web\n", "web", "Default/web", "default/1web", "default/web-", "a" * 64 + "/web", "ns/" + "b" * 64, "ns/we b", "ns/web/x"]
)
def test_invalid_service_names_are_refused_by_the_agent_too(service):
    with pytest.raises(healthd.ConfigError) as raised:
        healthd.parse_check("c", {"type": "kubernetes", "port": 30100, "service": service})
    assert str(raised.value).startswith("c.service: must be NAMESPACE/NAME of a Kubernetes Service")
    assert "\n" not in str(raised.value)  # one problem, one line


def test_agent_fills_the_models_defaults():
    assert healthd.parse_check("c", {"type": "kubernetes", "port": 30100}) == dict(
        {"type": "kubernetes", "host": "127.0.0.1", "port": 30100, "service": None, "healthz_port": None}, **TIMERS
    )
    with pytest.raises(healthd.ConfigError, match="port: is required for a kubernetes check"):
        healthd.parse_check("c", {"type": "kubernetes"})
    with pytest.raises(healthd.ConfigError, match="healthz_port: must be an integer from 1 to 65535"):
        healthd.parse_check("c", {"type": "kubernetes", "port": 1, "healthz_port": 0})


def test_describe():
    check = healthd.parse_check("c", {"type": "kubernetes", "port": 30100, "service": "lab/web", "healthz_port": 10256})
    assert healthd.describe(check) == "kubernetes 127.0.0.1:30100 lab/web +healthz:10256"


# kube-proxy's answers ------------------------------------------------------------------


def test_the_stand_in_answers_like_kube_proxy(kube_proxy):
    """The exact bytes: status, headers and the dedented JSON body of hcHandler.ServeHTTP."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", kube_proxy.port, timeout=2)
    conn.request("GET", "/anything")
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    assert response.status == 200 and response.getheader("Content-Type") == "application/json"
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert body == '{\n\t"service": {\n\t\t"namespace": "lab",\n\t\t"name": "web"\n\t},\n\t"localEndpoints": 1,\n\t"serviceProxyHealthy": true\n}'


@pytest.mark.parametrize(
    "state, ok, error",
    [
        ({"localEndpoints": 1}, True, ""),
        ({"localEndpoints": 3}, True, ""),
        ({"localEndpoints": 0}, False, "no local endpoint (localEndpoints 0, HTTP status 503)"),
        ({"localEndpoints": 2, "healthy": False}, False, "kube-proxy is not healthy (serviceProxyHealthy false; localEndpoints 2)"),
        # kube-proxy's handler for a Service it no longer serves writes nothing: 200, no body.
        ({"closed": True}, False, "HTTP status 200 without kube-proxy's JSON body (service, localEndpoints)"),
    ],
)
def test_service_health_check(kube_proxy, state, ok, error):
    kube_proxy.set(**state)
    got_ok, latency, got_error = healthd.run_check(kube_proxy.check(), {"prefix": "198.51.100.10/32"})
    assert (got_ok, got_error) == (ok, error)
    assert 0 <= latency < 0.25


def test_the_expected_service_must_answer(kube_proxy):
    assert healthd.run_check(kube_proxy.check(service="lab/web"), {"prefix": "198.51.100.10/32"})[0] is True
    ok, _latency, error = healthd.run_check(kube_proxy.check(service="lab/api"), {"prefix": "198.51.100.10/32"})
    assert not ok and error == "the port answers for Service lab/web, not lab/api"


def test_the_healthz_gate(kube_proxy):
    check = kube_proxy.check(healthz_port=kube_proxy.healthz_port)
    assert healthd.run_check(check, {"prefix": "198.51.100.10/32"})[:3:2] == (True, "")
    kube_proxy.set(eligible=False)  # the node is being deleted: /healthz 503, the Service port still 200
    ok, _latency, error = healthd.run_check(check, {"prefix": "198.51.100.10/32"})
    assert not ok and error == "kube-proxy /healthz answers HTTP status 503 (node not eligible or proxy unhealthy)"
    # Without the gate the same node still counts as healthy for the Service.
    assert healthd.run_check(kube_proxy.check(), {"prefix": "198.51.100.10/32"})[0] is True


def test_a_dead_kube_proxy_fails_the_check(tmp_path):
    check = healthd.parse_check("c", {"type": "kubernetes", "port": free_port()})
    ok, _latency, error = healthd.run_check(check, {"prefix": "198.51.100.10/32"})
    assert not ok and error == "connection refused"


@pytest.mark.parametrize(
    "status, body, ok, error",
    [
        (200, b'{"service": {"namespace": "a", "name": "b"}, "localEndpoints": 1, "serviceProxyHealthy": true}', True, ""),
        # Older kube-proxies (before serviceProxyHealthy existed): the count decides.
        (200, b'{"service": {"namespace": "a", "name": "b"}, "localEndpoints": 1}', True, ""),
        (200, b'{"service": {"namespace": "a", "name": "b"}, "localEndpoints": 0}', False, "no local endpoint (localEndpoints 0, HTTP status 200)"),
        (
            200,
            b'{"service": {"namespace": "a", "name": "b"}, "localEndpoints": true}',
            False,
            "HTTP status 200 without kube-proxy's JSON body (service, localEndpoints)",
        ),
        (200, b'{"localEndpoints": 1}', False, "HTTP status 200 without kube-proxy's JSON body (service, localEndpoints)"),
        (200, b"ok", False, "HTTP status 200 without kube-proxy's JSON body (service, localEndpoints)"),
        (200, b"[1]", False, "HTTP status 200 without kube-proxy's JSON body (service, localEndpoints)"),
        (200, b" " * 5000, False, "HTTP status 200 without kube-proxy's JSON body (service, localEndpoints)"),
        (404, b"404 page not found\n", False, "HTTP status 404 (kube-proxy answers 200 or 503)"),
        (
            503,
            b'{"service": {"namespace": "a", "name": "b"}, "localEndpoints": 0, "serviceProxyHealthy": true}',
            False,
            "no local endpoint (localEndpoints 0, HTTP status 503)",
        ),
    ],
)
def test_verdicts(status, body, ok, error):
    assert healthd.kube_verdict({"service": None}, status, body) == (ok, error)


def test_a_hostile_service_name_in_the_answer_stays_on_one_line():
    body = json.dumps({"service": {"namespace": "a\nb", "name": "c\u2028d"}, "localEndpoints": 1}).encode()
    ok, error = healthd.kube_verdict({"service": "lab/web"}, 200, body)
    assert not ok and "\n" not in error and "\u2028" not in error and error.startswith("the port answers for Service a\\nb/c")


# Announce only when ready: the whole agent against the stand-in -----------------------------


class RecordingInterface:
    """The VIP interface as a set; every add records how many successes each check had by then."""

    def __init__(self, agent_ref):
        self.name = "lo"
        self.present = set()
        self.adds = []
        self.agent_ref = agent_ref

    def ensure(self):
        pass

    def addresses(self):
        return set(self.present)

    def add(self, prefix):
        vip = next(v for v in self.agent_ref[0].vips if v.prefix == prefix)
        self.adds.append((prefix, [c.successes for c in vip.checks], [c.runs - c.failed_runs for c in vip.checks]))
        self.present.add(prefix)

    def delete(self, prefix):
        self.present.discard(prefix)

    def withdraw(self, prefixes):
        removed = sorted(set(prefixes) & self.present)
        self.present -= set(removed)
        return removed


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_the_vip_follows_local_endpoints_and_is_never_announced_before_rise(kube_proxy, tmp_path):
    kube_proxy.set(localEndpoints=0)
    checks = [
        {"type": "kubernetes", "port": kube_proxy.port, "service": "lab/web", "healthz_port": kube_proxy.healthz_port, "interval_ms": 100, "timeout_ms": 80}
    ]
    config = healthd.parse_config(
        {"interface": "lo", "state_file": str(tmp_path / "state.json"), "vips": [{"prefix": "198.51.100.81/32", "name": "lb", "health": {"checks": checks}}]}
    )
    ref = [None]
    iface = RecordingInterface(ref)
    agent = healthd.Agent(config, interface=iface)
    ref[0] = agent
    runner = threading.Thread(target=lambda: (agent.start(), agent.run()), daemon=True)
    runner.start()
    try:
        check = agent.vips[0].checks[0]
        # 0 local endpoints: the check runs (and fails) again and again; nothing is announced.
        assert wait_for(lambda: check.runs >= 8, 5)
        assert iface.present == set() and iface.adds == [] and check.error == "no local endpoint (localEndpoints 0, HTTP status 503)"
        # One endpoint: announced, and only after `rise` (3) successes in a row.
        kube_proxy.set(localEndpoints=1)
        assert wait_for(lambda: iface.present == {"198.51.100.81/32"}, 5)
        prefix, successes, total_ok = iface.adds[0]
        assert prefix == "198.51.100.81/32" and successes[0] >= 3 and total_ok[0] >= 3
        # Back to 0: withdrawn after `fall` failures.
        kube_proxy.set(localEndpoints=0)
        assert wait_for(lambda: iface.present == set(), 5)
        assert agent.vips[0].checks[0].error == "no local endpoint (localEndpoints 0, HTTP status 503)"
        # And 1 again: announced again, again only after rise successes.
        kube_proxy.set(localEndpoints=1)
        assert wait_for(lambda: iface.present == {"198.51.100.81/32"}, 5)
        assert len(iface.adds) == 2 and iface.adds[1][1][0] >= 3
    finally:
        agent.stopping.set()
        agent.wake.set()
        runner.join(5)
        agent.stop()
    assert iface.present == set()


def test_a_restarted_agent_withdraws_first_and_waits_for_rise_again(kube_proxy, tmp_path):
    """After a restart (or a reboot) the VIP left on the interface is withdrawn before any check runs."""
    checks = [{"type": "kubernetes", "port": kube_proxy.port, "interval_ms": 100, "timeout_ms": 80}]
    config = healthd.parse_config(
        {"interface": "lo", "state_file": str(tmp_path / "state.json"), "vips": [{"prefix": "198.51.100.81/32", "health": {"checks": checks}}]}
    )
    ref = [None]
    iface = RecordingInterface(ref)
    iface.present.add("198.51.100.81/32")  # left behind by the previous run
    agent = healthd.Agent(config, interface=iface)
    ref[0] = agent
    seen = []
    original = agent._apply

    def spy(vip, wanted, now):
        seen.append((wanted, vip.checks[0].runs))
        return original(vip, wanted, now)

    agent._apply = spy
    agent.start()
    try:
        assert iface.present == set()  # withdrawn before the first check ran
        runner = threading.Thread(target=agent.run, daemon=True)
        runner.start()
        assert wait_for(lambda: iface.present == {"198.51.100.81/32"}, 5)
        assert seen[0][0] is True and seen[0][1] >= 3
    finally:
        agent.stopping.set()
        agent.wake.set()
        runner.join(5)
        agent.stop()


# One problem, one line (issue 12) -----------------------------------------------------------


def test_names_with_control_characters_stay_on_one_line():
    # Control characters in a command are refused (issue 22), and the refusal is one line.
    with pytest.raises(healthd.ConfigError) as raised:
        healthd.parse_check("c", {"type": "exec", "command": ["/bin/echo", "a\nb", "tab\there"]})
    assert str(raised.value) == "c.command[1]: must be a string without control characters, at most 4096 characters, not 'a\\nb'"
    check = healthd.parse_check("c", {"type": "exec", "command": ["/bin/echo", "a b"]})
    assert healthd.describe(check) == "exec /bin/echo a b"
    with pytest.raises(healthd.ConfigError) as raised:
        healthd.parse_config({"vips": [{"prefix": "198.51.100.10", "name": "web\nx", "health": {"checks": [{"type": "tcp", "port": 1}]}}]})
    assert str(raised.value) == "vips[0].name: must be a string of printable characters (at most 255), not 'web\\nx'"


def test_the_agent_refuses_zone_ids():
    with pytest.raises(healthd.ConfigError) as raised:
        healthd.parse_check("c", {"type": "kubernetes", "port": 30100, "host": "fe80::1%lo\nx"})
    assert str(raised.value) == "c.host: must not carry an IPv6 zone id (%name), not 'fe80::1%lo\\nx'"
