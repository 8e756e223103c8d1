# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation and normalisation of a VIP's `health` (the checks that gate its announcement).

A VIP with a `health` section is announced by the node's health agent
(roles/healthcheck, files/anycast-healthd) exactly while all its checks pass;
a VIP without one is held permanently by the vips role. The normalised form
written into the intent carries every default explicitly, so the agent's
configuration is a plain copy of it and `fabric_intent` shows what will run.

The agent repeats these defaults (it runs on the managed host, standard library
only, and cannot import this file); tests/unit/test_health_agent.py keeps them equal.
"""

from __future__ import annotations

import ipaddress
import math
import re
import shlex

CHECK_TYPES = ("tcp", "http", "https", "exec", "ipvs", "kubernetes")

# About one second from a dead service to its withdrawal: a refused
# connection fails at once, so the third failure in a row comes 600-900 ms
# after the death; a hung service costs one timeout more (at most ~1.15 s).
# rise 3 keeps one lucky answer from announcing a VIP that is still sick.
TIMER_DEFAULTS = {"interval_ms": 300, "timeout_ms": 250, "rise": 3, "fall": 3}

# RFC 2439-style damping of the VIP's health: every fall (healthy -> sick)
# adds `penalty`, which halves every `half_life_s`; at `suppress` the VIP is
# held down, even while healthy, until the penalty decays below `reuse`. The
# penalty is capped so that no hold lasts longer than `max_hold_s` after the
# last fall. With these values a VIP is held after three falls within ~20 s,
# for about a minute, and for at most five minutes however hard it flaps.
DAMPING_DEFAULTS = {"enabled": True, "penalty": 1000, "suppress": 2000, "reuse": 750, "half_life_s": 30, "max_hold_s": 300}

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORTS = {"http": 80, "https": 443}
DEFAULT_PATH = "/"
DEFAULT_STATUS = (200,)
DEFAULT_PROTOCOL = "tcp"
IPVS_PROTOCOLS = ("tcp", "udp", "sctp")
MAX_CHECKS = 8

HEALTH_KEYS = ("checks", "damping")
TIMER_KEYS = tuple(TIMER_DEFAULTS)
# Options of each check type besides `type` and the timers, in output order.
TYPE_KEYS = {
    "tcp": ("host", "port"),
    "http": ("host", "port", "path", "expect_status"),
    "https": ("host", "port", "path", "expect_status"),
    "exec": ("command",),
    "ipvs": ("protocol", "port"),
    # kube-proxy's per-Service health check (externalTrafficPolicy: Local):
    # port is the Service's healthCheckNodePort; service (NAMESPACE/NAME), when
    # given, must be the Service kube-proxy answers for; healthz_port (kube-proxy's
    # healthzBindAddress port, normally 10256), when given, gates the check on
    # kube-proxy's /healthz too. See docs/health.md.
    "kubernetes": ("host", "port", "service", "healthz_port"),
}
CHECK_KEYS = ("type",) + tuple(sorted({key for keys in TYPE_KEYS.values() for key in keys})) + TIMER_KEYS
REQUIRED = {"tcp": ("port",), "http": (), "https": (), "exec": ("command",), "ipvs": ("port",), "kubernetes": ("port",)}

# Used with fullmatch only: `$` would let a trailing newline through.
PATH_RE = re.compile(r"/[\x21-\x7e]{0,1023}")  # printable ASCII, no spaces: it goes verbatim into the request line
# A Service's namespace (a DNS-1123 label) and name (a DNS-1035 label), as
# Kubernetes validates them: lower-case letters, digits and '-', at most 63
# characters each. The agent repeats it (SERVICE_RE); the unit tests keep both equal.
SERVICE_RE = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?/[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")


def read_health(reader, path, raw):
    """The VIP's normalised health configuration, or None when it has none.

    Records problems on `reader` (host, path, value, reason) like every other
    input reader; returns None for a VIP without health checks, and None too
    when a problem was found (the VIP is then left out of the intent).
    """
    if raw is None:
        return None
    before = len(reader.problems)
    given = reader.dict_of(path, raw, HEALTH_KEYS)
    if given is None:
        return None
    checks = _read_checks(reader, path + ".checks", given.get("checks"))
    damping = _read_damping(reader, path + ".damping", given.get("damping"))
    if len(reader.problems) != before:
        return None
    return {"checks": checks, "damping": damping}


def _read_checks(reader, path, raw):
    if raw is None or raw == []:
        reader.fail(path, raw, "is required: a list of one or more checks (%s), all of which must pass" % ", ".join(CHECK_TYPES))
        return []
    items = reader.list_of(path, raw)
    if len(items) > MAX_CHECKS:
        reader.fail(path, len(items), "lists %d checks, more than the %d allowed; combine some in one exec check" % (len(items), MAX_CHECKS))
        return []
    return [_read_check(reader, "%s[%d]" % (path, index), item) for index, item in enumerate(items)]


def _read_check(reader, path, raw):
    if not isinstance(raw, dict):
        reader.fail(path, raw, "must be a mapping with at least a type (one of %s)" % ", ".join(CHECK_TYPES))
        return None
    reader.dict_of(path, raw, CHECK_KEYS)
    if raw.get("type") is None:
        reader.fail(path + ".type", None, "is required: one of %s" % ", ".join(CHECK_TYPES))
        return None
    kind = reader.choice(path + ".type", raw["type"], CHECK_TYPES)
    if kind is None:
        return None
    for key in sorted(k for k in raw if isinstance(k, str)):  # other keys: reported by dict_of
        if key in CHECK_KEYS and key != "type" and key not in TYPE_KEYS[kind] + TIMER_KEYS:
            options = ", ".join(TYPE_KEYS[kind] + TIMER_KEYS)
            reader.fail("%s.%s" % (path, key), raw[key], "does not apply to %s check (its options: %s)" % (_a(kind), options))
    for key in REQUIRED[kind]:
        if raw.get(key) is None:
            reader.fail("%s.%s" % (path, key), None, "is required for %s check" % _a(kind))
    check = {"type": kind}
    for key in TYPE_KEYS[kind]:
        check[key] = _READERS[key](reader, "%s.%s" % (path, key), raw.get(key), kind)
    check.update(_read_timers(reader, path, raw))
    return check


def _a(kind):
    # Read aloud: "a tcp check", "an http check", "an exec check", "an ipvs check", "a kubernetes check".
    return ("a " if kind in ("tcp", "kubernetes") else "an ") + kind


def _host(reader, path, raw, kind):
    if raw is None:
        return DEFAULT_HOST
    try:
        address = ipaddress.ip_address(raw) if isinstance(raw, str) else None
    except ValueError:
        address = None
    if address is None:
        reader.fail(path, raw, "must be an IP address, not a name: a health check must not depend on DNS")
        return None
    if getattr(address, "scope_id", None) is not None:
        # "fe80::1%eth0": the zone id is free text (a newline included).
        reader.fail(path, raw, "must not carry an IPv6 zone id (%name)")
        return None
    if address.is_unspecified or address.is_multicast:
        reader.fail(path, raw, "cannot be connected to (unspecified or multicast)")
        return None
    return address.compressed


def _port(reader, path, raw, kind):
    if raw is None:
        return DEFAULT_PORTS.get(kind)  # required ports were reported already
    return reader.integer(path, raw, 1, 65535)


def _path(reader, path, raw, kind):
    if raw is None:
        return DEFAULT_PATH
    if not isinstance(raw, str) or not PATH_RE.fullmatch(raw):
        reader.fail(path, raw, "must be an HTTP path starting with '/', without spaces or non-ASCII characters, at most 1024 characters")
        return None
    return raw


def _expect_status(reader, path, raw, kind):
    if raw is None:
        return list(DEFAULT_STATUS)
    if isinstance(raw, (list, tuple)):
        if not raw:
            reader.fail(path, raw, "must list at least one HTTP status code")
            return None
        codes = [reader.integer("%s[%d]" % (path, index), item, 100, 599) for index, item in enumerate(raw)]
    else:
        codes = [reader.integer(path, raw, 100, 599)]
    if None in codes:
        return None
    return sorted(set(codes))


def _command(reader, path, raw, kind):
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            argv = shlex.split(raw)
        except ValueError as exc:
            reader.fail(path, raw, "cannot be split into arguments: %s" % exc)
            return None
    elif isinstance(raw, (list, tuple)):
        argv = []
        for index, item in enumerate(raw):
            # A number in a YAML list is an argument like any other.
            if isinstance(item, int) and not isinstance(item, bool):
                item = str(item)
            if not isinstance(item, str) or "\0" in item:
                reader.fail("%s[%d]" % (path, index), item, "must be a string")
                return None
            argv.append(item)
    else:
        reader.fail(path, raw, "must be a command line (a string) or a list of arguments")
        return None
    if not argv or not argv[0].startswith("/"):
        # Checks run without a shell and without relying on PATH: what runs
        # is exactly what the inventory names.
        reader.fail(path, raw, "must start with the absolute path of the program (checks run without a shell)")
        return None
    return argv


def _protocol(reader, path, raw, kind):
    if raw is None:
        return DEFAULT_PROTOCOL
    return reader.choice(path, raw, IPVS_PROTOCOLS)


def _service(reader, path, raw, kind):
    if raw is None:
        return None
    if not isinstance(raw, str) or not SERVICE_RE.fullmatch(raw):
        reader.fail(path, raw, "must be NAMESPACE/NAME of a Kubernetes Service (lower-case letters, digits and '-', at most 63 characters each)")
        return None
    return raw


def _healthz_port(reader, path, raw, kind):
    if raw is None:
        return None  # no gate on kube-proxy's /healthz
    return reader.integer(path, raw, 1, 65535)


_READERS = {
    "host": _host,
    "port": _port,
    "path": _path,
    "expect_status": _expect_status,
    "command": _command,
    "protocol": _protocol,
    "service": _service,
    "healthz_port": _healthz_port,
}


def _read_timers(reader, path, raw):
    timers = dict(TIMER_DEFAULTS)
    limits = {"interval_ms": (50, 600000, " milliseconds"), "timeout_ms": (10, 600000, " milliseconds"), "rise": (1, 100, ""), "fall": (1, 100, "")}
    for key in TIMER_KEYS:
        if raw.get(key) is not None:
            low, high, unit = limits[key]
            timers[key] = reader.integer("%s.%s" % (path, key), raw[key], low, high, unit)
    interval, timeout = timers["interval_ms"], timers["timeout_ms"]
    if interval is not None and timeout is not None and timeout >= interval:
        # A check still running when the next one is due would delay every
        # later result: detection time is only bounded if timeout < interval.
        where = "" if "interval_ms" in raw else ", the default"
        reader.fail(path + ".timeout_ms", timeout, "must be lower than the check's interval_ms (%d%s)" % (interval, where))
    return timers


def _read_damping(reader, path, raw):
    damping = dict(DAMPING_DEFAULTS)
    given = reader.dict_of(path, raw, DAMPING_DEFAULTS)
    if given is None:
        return damping
    limits = {
        "penalty": (1, 100000, ""),
        "suppress": (1, 1000000, ""),
        "reuse": (1, 1000000, ""),
        "half_life_s": (1, 3600, " seconds"),
        "max_hold_s": (1, 86400, " seconds"),
    }
    for key in DAMPING_DEFAULTS:
        if given.get(key) is None:
            continue
        sub = "%s.%s" % (path, key)
        damping[key] = reader.boolean(sub, given[key]) if key == "enabled" else reader.integer(sub, given[key], *limits[key])
    if None in damping.values() or not damping["enabled"]:
        return damping
    if damping["reuse"] >= damping["suppress"]:
        reader.fail(path + ".reuse", damping["reuse"], "must be lower than damping.suppress (%d)" % damping["suppress"])
    elif damping["max_hold_s"] / damping["half_life_s"] < math.log2(damping["suppress"] / damping["reuse"]):
        # The penalty is capped at reuse * 2^(max_hold_s / half_life_s), so
        # that a hold never outlasts max_hold_s; a cap below suppress would
        # silently disable damping.
        cap = damping["reuse"] * 2 ** (damping["max_hold_s"] / damping["half_life_s"])
        reader.fail(
            path + ".max_hold_s",
            damping["max_hold_s"],
            "is too short for damping to ever hold the VIP: with reuse %d and half_life_s %d the penalty is capped at %d, below suppress (%d)"
            % (damping["reuse"], damping["half_life_s"], int(cap), damping["suppress"]),
        )
    return damping
