# -*- coding: utf-8 -*-
"""fabric_vips[N].health: the exact problems of invalid sections and the normalised intent of valid ones.

Every negative case gives node n1's first VIP (198.51.100.10) a health
section and compares the full problem lines, "<host>: <path> = <value>:
<reason>", so a change in path, shown value or wording is a visible test change.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.anycast.fabric.plugins.module_utils import _health_spec, _schema
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import health, model, schema
from fabric_factory import small_fabric

DOCS = Path(__file__).resolve().parents[5] / "docs" / "health.md"

VIP = "fabric_vips[0].health"
TCP = {"type": "tcp", "port": 53}
CHECK_KEYS = "command, expect_status, fall, healthz_port, host, interval_ms, name, path, pidfile, port, protocol, rise, service, timeout_ms, type, unit"
TYPES = "tcp, http, https, exec, ipvs, kubernetes, systemd_unit, process"
CHECKS_REQUIRED = "is required: a list of one or more checks (%s), all of which must pass" % TYPES
UNIT_REASON = (
    "must be a systemd unit name with its type suffix (service, socket, target, device, mount, automount, swap, timer, path, slice, scope), "
    "e.g. nginx.service: letters, digits, ':', '_', '.', '-', '\\', '@' only before an instance name, at most 255 characters; "
    "not a bare template (name@.service)"
)
NAME_REASON = (
    "must be a process name as /proc/PID/comm shows it: 1-15 printable ASCII characters, no leading or trailing space "
    "(the kernel cuts longer names to their first 15 characters)"
)
PIDFILE_REASON = _schema.abs_path_problem(None)
EVENT_FALL = "does not apply to %s check: it goes down at once, on the event (its options: %s, interval_ms, timeout_ms, rise)"
PORT = "must be an integer from 1 to 65535"
TIMERS = "interval_ms, timeout_ms, rise, fall"
PATH_REASON = "must be an HTTP path starting with '/', without spaces or non-ASCII characters, at most 1024 characters"
SERVICE_REASON = "must be NAMESPACE/NAME of a Kubernetes Service (lower-case letters, digits and '-', at most 63 characters each)"


def build_with(health_value, host="n1", index=0):
    hostvars, groups = small_fabric()
    vips = hostvars[host]["fabric_vips"]
    item = vips[index]
    vips[index] = dict(item, health=health_value) if isinstance(item, dict) else {"address": item, "health": health_value}
    intents, problems = model.build(hostvars, groups)
    return intents, problems.messages()


def checks(*items):
    return {"checks": list(items)}


def problem(path, value, reason, host="n1"):
    return "%s: %s%s = %s: %s" % (host, VIP, path, value, reason)


def case(case_id, value, *expected):
    return pytest.param(value, list(expected), id=case_id)


CASES = [
    # The section itself.
    case("not-a-mapping", "tcp:53", problem("", "'tcp:53'", "must be a mapping (got a string)")),
    case("unknown-key", {"checks": [TCP], "dampening": {}}, problem(".dampening", "{}", "is not a known option (known: checks, damping)")),
    case("no-checks", {}, problem(".checks", "null", CHECKS_REQUIRED)),
    case("empty-checks", {"checks": []}, problem(".checks", "[]", CHECKS_REQUIRED)),
    case("checks-not-a-list", {"checks": TCP}, problem(".checks", "{type: 'tcp', port: 53}", "must be a list")),
    case("too-many-checks", checks(*[TCP] * 9), problem(".checks", "9", "lists 9 checks, more than the 8 allowed; combine some in one exec check")),
    # One check.
    case("check-not-a-mapping", checks("tcp"), problem(".checks[0]", "'tcp'", "must be a mapping with at least a type (one of %s)" % TYPES)),
    case("check-without-type", checks({"port": 80}), problem(".checks[0].type", "null", "is required: one of %s" % TYPES)),
    case("unknown-type", checks({"type": "icmp"}), problem(".checks[0].type", "'icmp'", "must be one of: %s" % TYPES)),
    case("check-unknown-key", checks(dict(TCP, prot=1)), problem(".checks[0].prot", "1", "is not a known option (known: %s)" % CHECK_KEYS)),
    case(
        "option-of-another-type",
        checks(dict(TCP, path="/x")),
        problem(".checks[0].path", "'/x'", "does not apply to a tcp check (its options: host, port, %s)" % TIMERS),
    ),
    case(
        "exec-with-port",
        checks({"type": "exec", "command": "/bin/true", "port": 80}),
        problem(".checks[0].port", "80", "does not apply to an exec check (its options: command, %s)" % TIMERS),
    ),
    # Ports and hosts.
    case("tcp-without-port", checks({"type": "tcp"}), problem(".checks[0].port", "null", "is required for a tcp check")),
    case("ipvs-without-port", checks({"type": "ipvs"}), problem(".checks[0].port", "null", "is required for an ipvs check")),
    case("port-too-big", checks({"type": "http", "port": 70000}), problem(".checks[0].port", "70000", PORT)),
    case("port-bool", checks({"type": "https", "port": True}), problem(".checks[0].port", "true", PORT)),
    case(
        "host-is-a-name",
        checks(dict(TCP, host="localhost")),
        problem(".checks[0].host", "'localhost'", "must be an IP address, not a name: a health check must not depend on DNS"),
    ),
    case("host-unspecified", checks(dict(TCP, host="0.0.0.0")), problem(".checks[0].host", "'0.0.0.0'", "cannot be connected to (unspecified or multicast)")),
    # HTTP.
    case(
        "path-without-slash",
        checks({"type": "http", "path": "healthz"}),
        problem(".checks[0].path", "'healthz'", PATH_REASON),
    ),
    case(
        "path-with-space",
        checks({"type": "http", "path": "/health z"}),
        problem(".checks[0].path", "'/health z'", PATH_REASON),
    ),
    case(
        "status-out-of-range",
        checks({"type": "http", "expect_status": 700}),
        problem(".checks[0].expect_status", "700", "must be an integer from 100 to 599"),
    ),
    case(
        "status-list-item",
        checks({"type": "https", "expect_status": [200, "ok"]}),
        problem(".checks[0].expect_status[1]", "'ok'", "must be an integer from 100 to 599"),
    ),
    case("status-empty", checks({"type": "http", "expect_status": []}), problem(".checks[0].expect_status", "[]", "must list at least one HTTP status code")),
    # exec.
    case("exec-without-command", checks({"type": "exec"}), problem(".checks[0].command", "null", "is required for an exec check")),
    case(
        "exec-relative-program",
        checks({"type": "exec", "command": "check.sh --fast"}),
        problem(".checks[0].command", "'check.sh --fast'", "must start with the absolute path of the program (checks run without a shell)"),
    ),
    case(
        "exec-unbalanced-quote",
        checks({"type": "exec", "command": "/bin/sh -c 'exit 1"}),
        problem(".checks[0].command", "'/bin/sh -c 'exit 1'", "cannot be split into arguments: No closing quotation"),
    ),
    case(
        "exec-argument-not-a-string",
        checks({"type": "exec", "command": ["/usr/local/bin/check", {"port": 80}]}),
        problem(".checks[0].command[1]", "{port: 80}", "must be a string without control characters, at most 4096 characters"),
    ),
    case(
        "exec-command-mapping",
        checks({"type": "exec", "command": {"run": "/bin/true"}}),
        problem(".checks[0].command", "{run: '/bin/true'}", _health_spec.COMMAND_REASON),
    ),
    # A trailing newline must not pass a `$` anchor (issue 12).
    case("path-trailing-newline", checks({"type": "http", "path": "/healthz\n"}), problem(".checks[0].path", "'/healthz\\n'", PATH_REASON)),
    case(
        "host-with-zone-id",
        checks({"type": "kubernetes", "port": 30100, "host": "fe80::1%eth0\nx"}),
        problem(".checks[0].host", "'fe80::1%eth0\\nx'", "must not carry an IPv6 zone id (%name)"),
    ),
    # kubernetes (kube-proxy's healthCheckNodePort).
    case("kubernetes-without-port", checks({"type": "kubernetes"}), problem(".checks[0].port", "null", "is required for a kubernetes check")),
    case(
        "kubernetes-service-with-newline",
        checks({"type": "kubernetes", "port": 30100, "service": "default/web\n"}),
        problem(".checks[0].service", "'default/web\\n'", SERVICE_REASON),
    ),
    case(
        "kubernetes-service-without-namespace",
        checks({"type": "kubernetes", "port": 30100, "service": "web"}),
        problem(".checks[0].service", "'web'", SERVICE_REASON),
    ),
    case(
        "kubernetes-service-upper-case",
        checks({"type": "kubernetes", "port": 30100, "service": "Default/web"}),
        problem(".checks[0].service", "'Default/web'", SERVICE_REASON),
    ),
    case(
        "kubernetes-service-name-too-long",
        checks({"type": "kubernetes", "port": 30100, "service": "default/" + "w" * 64}),
        problem(".checks[0].service", "'default/%s'" % ("w" * 64), SERVICE_REASON),
    ),
    case(
        "kubernetes-healthz-port",
        checks({"type": "kubernetes", "port": 30100, "healthz_port": 70000}),
        problem(".checks[0].healthz_port", "70000", PORT),
    ),
    case(
        "kubernetes-no-path",
        checks({"type": "kubernetes", "port": 30100, "path": "/"}),
        problem(".checks[0].path", "'/'", "does not apply to a kubernetes check (its options: host, port, service, healthz_port, %s)" % TIMERS),
    ),
    case(
        "service-on-http",
        checks({"type": "http", "service": "default/web"}),
        problem(".checks[0].service", "'default/web'", "does not apply to an http check (its options: host, port, path, expect_status, %s)" % TIMERS),
    ),
    # ipvs.
    case("ipvs-protocol", checks({"type": "ipvs", "port": 80, "protocol": "icmp"}), problem(".checks[0].protocol", "'icmp'", "must be one of: tcp, udp, sctp")),
    # Timers.
    case("interval-too-short", checks(dict(TCP, interval_ms=10)), problem(".checks[0].interval_ms", "10", "must be an integer from 50 to 600000 milliseconds")),
    case(
        "timeout-not-below-interval",
        checks(dict(TCP, interval_ms=200, timeout_ms=200)),
        problem(".checks[0].timeout_ms", "200", "must be lower than the check's interval_ms (200)"),
    ),
    case(
        "timeout-above-default-interval",
        checks(dict(TCP, timeout_ms=500)),
        problem(".checks[0].timeout_ms", "500", "must be lower than the check's interval_ms (300, the default)"),
    ),
    case("rise-zero", checks(dict(TCP, rise=0)), problem(".checks[0].rise", "0", "must be an integer from 1 to 100")),
    case("fall-word", checks(dict(TCP, fall="three")), problem(".checks[0].fall", "'three'", "must be an integer from 1 to 100")),
    # Every problem of every check is reported at once, with its own index.
    case(
        "two-bad-checks",
        checks(TCP, {"type": "tcp"}, {"type": "http", "port": 0}),
        problem(".checks[1].port", "null", "is required for a tcp check"),
        problem(".checks[2].port", "0", PORT),
    ),
    # Damping.
    # Event-driven checks: strict names, no `fall`, every problem at once.
    case("unit-required", checks({"type": "systemd_unit"}), problem(".checks[0].unit", "null", "is required for a systemd_unit check")),
    case("unit-without-suffix", checks({"type": "systemd_unit", "unit": "nginx"}), problem(".checks[0].unit", "'nginx'", UNIT_REASON)),
    case("unit-bare-template", checks({"type": "systemd_unit", "unit": "getty@.service"}), problem(".checks[0].unit", "'getty@.service'", UNIT_REASON)),
    case("unit-space", checks({"type": "systemd_unit", "unit": "my app.service"}), problem(".checks[0].unit", "'my app.service'", UNIT_REASON)),
    case("unit-newline", checks({"type": "systemd_unit", "unit": "a\nb.service"}), problem(".checks[0].unit", "'a\\nb.service'", UNIT_REASON)),
    case(
        "event-check-with-fall",
        checks({"type": "systemd_unit", "unit": "nginx.service", "fall": 2}, {"type": "process", "name": "nginx", "fall": 1, "port": 80}),
        problem(
            ".checks[0].fall",
            "2",
            EVENT_FALL % ("a systemd_unit", "unit"),
        ),
        problem(
            ".checks[1].fall",
            "1",
            EVENT_FALL % ("a process", "pidfile, name"),
        ),
        problem(".checks[1].port", "80", "does not apply to a process check (its options: pidfile, name, interval_ms, timeout_ms, rise)"),
    ),
    case(
        "process-without-pidfile-or-name",
        checks({"type": "process"}),
        problem(".checks[0].pidfile", "null", "is required for a process check without a name: pidfile or name (or both) find the process to follow"),
    ),
    case(
        "process-bad-pidfile-and-name",
        checks({"type": "process", "pidfile": "run/nginx.pid", "name": "nginx-worker-process"}, {"type": "process", "pidfile": "/run/../x.pid", "name": " x"}),
        problem(".checks[0].pidfile", "'run/nginx.pid'", PIDFILE_REASON),
        problem(".checks[0].name", "'nginx-worker-process'", NAME_REASON),
        problem(".checks[1].pidfile", "'/run/../x.pid'", PIDFILE_REASON),
        problem(".checks[1].name", "' x'", NAME_REASON),
    ),
    case("damping-not-a-mapping", {"checks": [TCP], "damping": True}, problem(".damping", "true", "must be a mapping")),
    case(
        "damping-unknown-key",
        {"checks": [TCP], "damping": {"half_life": 10}},
        problem(".damping.half_life", "10", "is not a known option (known: enabled, half_life_s, max_hold_s, penalty, reuse, suppress)"),
    ),
    case("damping-enabled-word", {"checks": [TCP], "damping": {"enabled": "yes"}}, problem(".damping.enabled", "'yes'", "must be true or false")),
    case(
        "damping-half-life-zero",
        {"checks": [TCP], "damping": {"half_life_s": 0}},
        problem(".damping.half_life_s", "0", "must be an integer from 1 to 3600 seconds"),
    ),
    case(
        "damping-reuse-not-below-suppress",
        {"checks": [TCP], "damping": {"reuse": 2000}},
        problem(".damping.reuse", "2000", "must be lower than damping.suppress (2000)"),
    ),
    case(
        "damping-cap-below-suppress",
        {"checks": [TCP], "damping": {"half_life_s": 60, "max_hold_s": 30}},
        problem(
            ".damping.max_hold_s",
            "30",
            "is too short for damping to ever hold the VIP: with reuse 750 and half_life_s 60 the penalty is capped at 1060, below suppress (2000)",
        ),
    ),
]


@pytest.mark.parametrize("value, expected", CASES)
def test_invalid_health_is_reported_exactly(value, expected):
    intents, messages = build_with(value)
    assert messages == expected
    assert intents == {}


def test_unit_names_follow_systemds_rules():
    def problems(unit):
        reader = _health_spec.Reader()
        _health_spec.read_health(reader, "h", checks({"type": "systemd_unit", "unit": unit}))
        return [message for _path, _value, message in reader.problems]

    for good in ("nginx.service", "getty@tty1.service", "dev-sda1.device", "run-user-0.mount", "a:b_c.d-e\\x2d.socket", "a" * 247 + ".service"):
        assert problems(good) == [], good
    for bad in ("a" * 248 + ".service", "nginx", ".service", "@x.service", "getty@.service", "x.Service", "x y.service", "nginx.service\n", 5, ["x.service"]):
        assert problems(bad) == [UNIT_REASON], bad


def test_problems_name_the_host_and_vip_index():
    # n2's second VIP is a mapping already (name, communities): health sits beside them.
    intents, messages = build_with(checks({"type": "exec"}), host="n2", index=1)
    assert messages == ["n2: fabric_vips[1].health.checks[0].command = null: is required for an exec check"]


# Valid sections ---------------------------------------------------------------------

DEFAULT_TIMERS = {"interval_ms": 300, "timeout_ms": 250, "rise": 3, "fall": 3}
DEFAULT_DAMPING = {"enabled": True, "penalty": 1000, "suppress": 2000, "reuse": 750, "half_life_s": 30, "max_hold_s": 300}


def test_defaults_detect_a_dead_service_in_about_a_second():
    timers = health.TIMER_DEFAULTS
    assert timers == DEFAULT_TIMERS
    # Refused connections: the fall-th failure comes (fall-1)..fall intervals after the death.
    assert timers["fall"] * timers["interval_ms"] <= 1000
    # A hung service costs one timeout more, still about a second.
    assert timers["fall"] * timers["interval_ms"] + timers["timeout_ms"] <= 1200
    assert timers["timeout_ms"] < timers["interval_ms"]


def test_a_full_section_is_normalised_with_every_default():
    section = {
        "checks": [
            {"type": "tcp", "port": "53"},
            {"type": "http", "port": 8080, "path": "/healthz", "expect_status": [204, 200, 200], "interval_ms": 500, "timeout_ms": 400},
            {"type": "https", "host": "::1"},
            {"type": "exec", "command": "/usr/local/bin/check-db --port 5432 'a b'", "rise": 1, "fall": 1},
            {"type": "exec", "command": ["/usr/bin/test", "-e", "/run/ok", 7]},
            {"type": "ipvs", "port": 443},
            {"type": "kubernetes", "port": 30100},
            {"type": "kubernetes", "host": "10.0.0.11", "port": "30101", "service": "shop/web-frontend", "healthz_port": 10256},
        ],
        "damping": {"half_life_s": 10, "max_hold_s": 60},
    }
    events = {
        "checks": [
            {"type": "systemd_unit", "unit": "getty@tty1.service"},
            {"type": "process", "pidfile": "/run/nginx.pid", "rise": 1},
            {"type": "process", "name": "haproxy", "pidfile": "/run/haproxy.pid", "interval_ms": 1000, "timeout_ms": 100},
        ],
    }
    intents, messages = build_with(section)
    assert messages == []
    vip = intents["n1"].vips[0]
    assert vip.prefix == "198.51.100.10/32"
    # The dict form: what the health agent is given (the record keeps lists as tuples).
    assert vip.to_dict()["health"] == {
        "checks": [
            dict({"type": "tcp", "host": "127.0.0.1", "port": 53}, **DEFAULT_TIMERS),
            dict(
                {"type": "http", "host": "127.0.0.1", "port": 8080, "path": "/healthz", "expect_status": [200, 204]},
                **dict(DEFAULT_TIMERS, interval_ms=500, timeout_ms=400),
            ),
            dict({"type": "https", "host": "::1", "port": 443, "path": "/", "expect_status": [200]}, **DEFAULT_TIMERS),
            {"type": "exec", "command": ["/usr/local/bin/check-db", "--port", "5432", "a b"], "interval_ms": 300, "timeout_ms": 250, "rise": 1, "fall": 1},
            dict({"type": "exec", "command": ["/usr/bin/test", "-e", "/run/ok", "7"]}, **DEFAULT_TIMERS),
            dict({"type": "ipvs", "protocol": "tcp", "port": 443}, **DEFAULT_TIMERS),
            dict({"type": "kubernetes", "host": "127.0.0.1", "port": 30100, "service": None, "healthz_port": None}, **DEFAULT_TIMERS),
            dict({"type": "kubernetes", "host": "10.0.0.11", "port": 30101, "service": "shop/web-frontend", "healthz_port": 10256}, **DEFAULT_TIMERS),
        ],
        "damping": dict(DEFAULT_DAMPING, half_life_s=10, max_hold_s=60),
    }
    # Key order is fixed too: the intent (and the agent's JSON config) is byte-for-byte stable.
    assert list(vip.health["checks"][1]) == ["type", "host", "port", "path", "expect_status", "interval_ms", "timeout_ms", "rise", "fall"]
    again, _messages = build_with(section)
    assert json.dumps(again["n1"].to_dict(), sort_keys=False) == json.dumps(intents["n1"].to_dict(), sort_keys=False)
    # Event-driven checks: no `fall` (a failure withdraws at once).
    intents, messages = build_with(events)
    assert messages == []
    timers = {"interval_ms": 300, "timeout_ms": 250, "rise": 3}
    assert intents["n1"].vips[0].to_dict()["health"]["checks"] == [
        dict({"type": "systemd_unit", "unit": "getty@tty1.service"}, **timers),
        dict({"type": "process", "pidfile": "/run/nginx.pid", "name": None}, **dict(timers, rise=1)),
        dict({"type": "process", "pidfile": "/run/haproxy.pid", "name": "haproxy"}, **dict(timers, interval_ms=1000, timeout_ms=100)),
    ]


def test_minimal_section_gets_default_damping_and_other_vips_stay_without_health():
    intents, messages = build_with(checks({"type": "http"}))
    assert messages == []
    assert intents["n1"].vips[0].to_dict()["health"] == {
        "checks": [dict({"type": "http", "host": "127.0.0.1", "port": 80, "path": "/", "expect_status": [200]}, **DEFAULT_TIMERS)],
        "damping": DEFAULT_DAMPING,
    }
    # Health is per node: n2 announces the same VIP without checks.
    assert [v.health for v in intents["n2"].vips] == [None, None]
    # Null means "no health section", not an error.
    intents, messages = build_with(None)
    assert messages == [] and intents["n1"].vips[0].health is None


def test_disabled_damping_skips_the_threshold_checks():
    intents, messages = build_with({"checks": [TCP], "damping": {"enabled": False, "reuse": 5000}})
    assert messages == []
    assert intents["n1"].vips[0].health["damping"] == dict(DEFAULT_DAMPING, enabled=False, reuse=5000)


def test_the_docs_tables_of_health_keys_are_generated_from_the_spec():
    """docs/health.md, "Every key": the spec's Field tables, registered with the schema and generated by scripts/data-model.py."""
    tables = schema.tables()
    for table in health.SCHEMA_TABLES:
        assert tables[table.name] is table
        text = DOCS.read_text()
        begin = '[//]: # "BEGIN generated: %s"' % table.name
        block = text[text.index(begin) + len(begin) : text.index('[//]: # "END generated: %s"' % table.name)]
        assert block.strip("\n").split("\n") == _schema.markdown(table)
