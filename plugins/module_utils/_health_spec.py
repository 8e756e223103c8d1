# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health spec: a VIP's `health` section, defined once for the controller and the agent.

One file, two users:

* the controller (plugins/plugin_utils/model/health.py) validates `fabric_vips[i].health`
  with read_health() and its own problem reader (host, path, value, reason);
* the node's health agent (roles/programs/files/anycast_healthd) runs the very
  same file: scripts/build-node-programs.py copies it into the agent's package
  (a unit test fails when the copy is stale), and the agent validates its
  configuration with read_health() and the small Reader below.

Standard library only, Python 3.9+ (the agent runs with the node's python3); the
one import from the collection is _schema (the base problem reader and Field),
which is copied beside this file.

Every key is a _schema.Field (CHECK_FIELDS, TIMER_FIELDS, DAMPING_FIELDS,
HEALTH_FIELDS): its type, range, unit, default and meaning. read_health()
checks values against them and SCHEMA_TABLES are docs/health.md's tables
(scripts/data-model.py).
"""

from __future__ import absolute_import, annotations, division, print_function

import ipaddress
import math
import re
import shlex

# The collection's leaf schema: beside this file both in module_utils and in
# the agent's package (scripts/build-node-programs.py copies the two together).
from . import _schema

__metaclass__ = type

Field, Table, REQUIRED = _schema.Field, _schema.Table, _schema.REQUIRED

CHECK_TYPES = ("tcp", "http", "https", "exec", "ipvs", "kubernetes", "systemd_unit", "process")
# Event-driven check types: they follow a systemd unit (its ActiveState, by
# D-Bus signal) or a process (a pidfd) and go down the moment it fails, without
# `fall` failed runs; `rise` still counts their recovery (one count per interval).
EVENT_TYPES = ("systemd_unit", "process")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORTS = {"http": 80, "https": 443}
DEFAULT_PATH = "/"
DEFAULT_STATUS = (200,)
DEFAULT_PROTOCOL = "tcp"
IPVS_PROTOCOLS = ("tcp", "udp", "sctp")
MAX_CHECKS = 8
# An exec check's command line (or the sum of its arguments), in characters.
MAX_COMMAND = 4096

# Used with fullmatch only: `$` would let a trailing newline through.
PATH_RE = re.compile(r"/[\x21-\x7e]{0,1023}")  # printable ASCII, no spaces: it goes verbatim into the request line
# A Service's namespace (a DNS-1123 label) and name (a DNS-1035 label), as
# Kubernetes validates them: lower-case letters, digits and '-', at most 63
# characters each. The model and the agent both match it whole (fullmatch).
SERVICE_RE = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?/[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")

# A unit name as systemd's unit_name_is_valid() accepts it, template instances
# included ("getty@tty1.service") but not bare templates ("getty@.service": no
# unit of that name ever runs): the characters systemd allows (letters, digits,
# ':', '_', '.', '-', '\\'; '@' only after the prefix), at most 255 characters
# (UNIT_NAME_MAX) and one of systemd's unit type suffixes.
UNIT_SUFFIXES = ("service", "socket", "target", "device", "mount", "automount", "swap", "timer", "path", "slice", "scope")
UNIT_NAME_MAX = 255
UNIT_RE = re.compile(r"[A-Za-z0-9:_.\\-]+(?:@[A-Za-z0-9:_.\\@-]+)?\.(?:%s)" % "|".join(UNIT_SUFFIXES))
# A process name as the kernel keeps it (/proc/PID/comm, what `pgrep -x` matches):
# at most 15 characters (TASK_COMM_LEN - 1); printable ASCII, no leading or
# trailing space. A longer program name is cut by the kernel: give its first 15 characters.
COMM_MAX = 15
COMM_RE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,%d}[\x21-\x7e])?" % (COMM_MAX - 2))

COMMAND_REASON = "must be a command line (a string) or a list of arguments, without control characters, at most %d characters" % MAX_COMMAND


def _applies(*kinds):
    return "checks of type " + ", ".join(kinds)


# The keys, declared once (_schema.Field): their type, range, unit, default
# and meaning. read_health() checks values against them, and
# scripts/data-model.py writes docs/health.md's tables from them
# (plugins/plugin_utils/model/health.py registers SCHEMA_TABLES).

# Options of the check types (besides `type` and the timers).
CHECK_FIELDS = (
    Field("type", "string", "what the check does", default=REQUIRED, choices=CHECK_TYPES),
    Field(
        "host",
        "address",
        "where to connect; an IP address, never a name",
        default=DEFAULT_HOST,
        restrictions="no IPv6 zone id, not unspecified or multicast; " + _applies("tcp", "http", "https", "kubernetes"),
    ),
    Field(
        "port",
        "integer",
        "the port to connect to; kubernetes: the Service's healthCheckNodePort",
        min=1,
        max=65535,
        default_text="`80` (http), `443` (https); **required** for tcp, ipvs, kubernetes",
        restrictions=_applies("tcp", "http", "https", "ipvs", "kubernetes"),
    ),
    Field(
        "path",
        "string",
        "the path of the request",
        default=DEFAULT_PATH,
        pattern=PATH_RE,
        rule="starts with '/', printable ASCII without spaces, at most 1024 characters",
        message="must be an HTTP path starting with '/', without spaces or non-ASCII characters, at most 1024 characters",
        restrictions=_applies("http", "https"),
        doc_type="HTTP path",
    ),
    Field(
        "expect_status",
        "list",
        "the statuses that count as up",
        default=list(DEFAULT_STATUS),
        items=Field("status", "integer", min=100, max=599),
        restrictions=_applies("http", "https"),
        doc_type="integer or list of integers",
    ),
    Field(
        "command",
        "any",
        "the program and its arguments; it runs without a shell",
        default_text="**required** for exec",
        rule="starts with the program's absolute path; no control characters, at most %d characters" % MAX_COMMAND,
        restrictions=_applies("exec"),
        doc_type="command line or list of arguments",
    ),
    Field("protocol", "string", "the IPVS service's protocol", default=DEFAULT_PROTOCOL, choices=IPVS_PROTOCOLS, restrictions=_applies("ipvs")),
    Field(
        "service",
        "string",
        "the Service kube-proxy must answer for",
        pattern=SERVICE_RE,
        rule="NAMESPACE/NAME: lower-case letters, digits and '-', at most 63 characters each",
        message="must be NAMESPACE/NAME of a Kubernetes Service (lower-case letters, digits and '-', at most 63 characters each)",
        restrictions=_applies("kubernetes"),
    ),
    Field(
        "unit",
        "string",
        "the systemd unit to follow: up while its ActiveState is active (or reloading)",
        default_text="**required** for systemd_unit",
        pattern=UNIT_RE,
        rule="a unit name as systemd accepts it, with its type suffix (e.g. nginx.service, getty@tty1.service; no bare template), at most %d characters"
        % UNIT_NAME_MAX,
        message="must be a systemd unit name with its type suffix (%s), e.g. nginx.service: letters, digits, ':', '_', '.', '-', '\\', "
        "'@' only before an instance name, at most %d characters; not a bare template (name@.service)" % (", ".join(UNIT_SUFFIXES), UNIT_NAME_MAX),
        restrictions=_applies("systemd_unit"),
    ),
    Field(
        "pidfile",
        "string",
        "the file holding the PID of the process to follow (re-read every interval: a restarted process is followed again)",
        default_text="none; `pidfile` or `name` is **required** for process",
        rule=_schema.ABS_PATH_RULE + ", at most %d characters" % _schema.ABS_PATH_MAX,
        restrictions=_applies("process"),
        doc_type="absolute path",
    ),
    Field(
        "name",
        "string",
        "the process's name (/proc/PID/comm, as `pgrep -x` matches it); alone: the oldest process of that name; "
        "with `pidfile`: the PID in the file must be that program",
        default_text="none; `pidfile` or `name` is **required** for process",
        pattern=COMM_RE,
        rule="1-%d printable ASCII characters, no leading or trailing space (the kernel keeps the first %d characters of a program's name)"
        % (COMM_MAX, COMM_MAX),
        message="must be a process name as /proc/PID/comm shows it: 1-%d printable ASCII characters, no leading or trailing space "
        "(the kernel cuts longer names to their first %d characters)" % (COMM_MAX, COMM_MAX),
        restrictions=_applies("process"),
    ),
    Field(
        "healthz_port",
        "integer",
        "kube-proxy's /healthz port (normally 10256): gates the check on it",
        min=1,
        max=65535,
        restrictions=_applies("kubernetes"),
    ),
)

# About one second from a dead service to its withdrawal: a refused
# connection fails at once, so the third failure in a row comes 600-900 ms
# after the death; a hung service costs one timeout more (at most ~1.15 s).
# rise 3 keeps one lucky answer from announcing a VIP that is still sick.
TIMER_FIELDS = (
    Field("interval_ms", "integer", "from the start of one run to the start of the next", default=300, min=50, max=600000, unit="ms"),
    Field(
        "timeout_ms",
        "integer",
        "a run that takes longer fails, even if its answer is good",
        default=250,
        min=10,
        max=600000,
        unit="ms",
        restrictions="below the check's `interval_ms`",
    ),
    Field("rise", "integer", "successes in a row that bring a check up", default=3, min=1, max=100),
    Field(
        "fall",
        "integer",
        "failures in a row that bring it down",
        default=3,
        min=1,
        max=100,
        restrictions="not for checks of type %s: a failure they see withdraws at once" % ", ".join(EVENT_TYPES),
    ),
)

# RFC 2439-style damping of the VIP's health: every fall (healthy -> sick)
# adds `penalty`, which halves every `half_life_s`; at `suppress` the VIP is
# held down, even while healthy, until the penalty decays below `reuse`. The
# penalty is capped so that no hold lasts longer than `max_hold_s` after the
# last fall. With these values a VIP is held after three falls within ~20 s,
# for about a minute, and for at most five minutes however hard it flaps.
DAMPING_FIELDS = (
    Field("enabled", "boolean", "damp the VIP's flaps", default=True),
    Field("penalty", "integer", "added each time the VIP's health falls (healthy to sick)", default=1000, min=1, max=100000),
    Field("suppress", "integer", "at this penalty the VIP is held down, even while healthy", default=2000, min=1, max=1000000),
    Field(
        "reuse",
        "integer",
        "the hold ends when the penalty decays below this",
        default=750,
        min=1,
        max=1000000,
        restrictions="below `suppress`",
    ),
    Field("half_life_s", "integer", "the penalty halves in this time", default=30, min=1, max=3600, unit="s"),
    Field(
        "max_hold_s",
        "integer",
        "no hold lasts longer than this after the last fall",
        default=300,
        min=1,
        max=86400,
        unit="s",
        restrictions="long enough for the capped penalty to reach `suppress`",
    ),
)

HEALTH_FIELDS = (
    Field(
        "checks",
        "list",
        "the checks, all of which must pass for the VIP to be announced",
        default=REQUIRED,
        doc_type="list of 1-%d mappings" % MAX_CHECKS,
        restrictions="each check: the keys below",
    ),
    Field("damping", "mapping", "flap damping of the VIP's announcement", default_text="the defaults below", restrictions="the keys below"),
)

HEALTH_TABLE = Table("health", HEALTH_FIELDS)
CHECK_TABLE = Table("health_checks", CHECK_FIELDS + TIMER_FIELDS)
DAMPING_TABLE = Table("health_damping", DAMPING_FIELDS)
SCHEMA_TABLES = (HEALTH_TABLE, CHECK_TABLE, DAMPING_TABLE)

TIMER_DEFAULTS = Table("timers", TIMER_FIELDS).defaults()
DAMPING_DEFAULTS = DAMPING_TABLE.defaults()
_FIELD = {field.name: field for field in CHECK_FIELDS + TIMER_FIELDS}
_DAMPING_FIELD = {field.name: field for field in DAMPING_FIELDS}
PORT_RANGE = _schema.bounds(_FIELD["port"])
STATUS_RANGE = _schema.bounds(_FIELD["expect_status"].items)

HEALTH_KEYS = HEALTH_TABLE.names()
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
    # Event-driven (EVENT_TYPES): a systemd unit's ActiveState, followed by
    # D-Bus signal; a process, followed by a pidfd. See docs/health.md.
    "systemd_unit": ("unit",),
    "process": ("pidfile", "name"),
}
CHECK_KEYS = ("type",) + tuple(sorted({key for keys in TYPE_KEYS.values() for key in keys})) + TIMER_KEYS
REQUIRED_KEYS = {
    "tcp": ("port",),
    "http": (),
    "https": (),
    "exec": ("command",),
    "ipvs": ("port",),
    "kubernetes": ("port",),
    "systemd_unit": ("unit",),
    "process": (),  # pidfile or name: checked in _read_check
}


def timer_keys(kind):
    """The timers a check of type KIND takes: an event-driven check has no `fall`."""
    return tuple(key for key in TIMER_KEYS if not (key == "fall" and kind in EVENT_TYPES))


def _integer(reader, path, field, value):
    """VALUE read as FIELD's integer (its range and unit in the reason), or None."""
    unit = " " + _schema.UNITS[field.unit] if field.unit else ""
    low, high = _schema.bounds(field)
    return reader.integer(path, value, low, high, unit)


# Reading ----------------------------------------------------------------------------
# read_health() takes a `reader`: any object with fail(path, value, message),
# problems (a sized collection), dict_of, list_of, integer, choice and boolean.
# The controller passes its own (plugin_utils/model/inputs.Reader); the agent passes
# Reader below.


class Reader(_schema.Reader):
    """The agent's problem reader: records (path, value, message) in a list."""

    def __init__(self):
        self.problems = []

    def fail(self, path, value, message):
        self.problems.append((path, value, message))


def read_health(reader, path, raw):
    """The VIP's normalised health configuration, or None when it has none.

    Records problems on `reader` (path, value, reason); returns None for a VIP
    without health checks, and None too when a problem was found (the VIP is
    then left out of the intent, or the agent refuses its configuration).
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
    kind = reader.choice(path + ".type", raw["type"], _FIELD["type"].choices)
    if kind is None:
        return None
    timers = timer_keys(kind)
    for key in sorted(k for k in raw if isinstance(k, str)):  # other keys: reported by dict_of
        if key in CHECK_KEYS and key != "type" and key not in TYPE_KEYS[kind] + timers:
            options = ", ".join(TYPE_KEYS[kind] + timers)
            why = ": it goes down at once, on the event" if key == "fall" else ""
            reader.fail("%s.%s" % (path, key), raw[key], "does not apply to %s check%s (its options: %s)" % (_a(kind), why, options))
    for key in REQUIRED_KEYS[kind]:
        if raw.get(key) is None:
            reader.fail("%s.%s" % (path, key), None, "is required for %s check" % _a(kind))
    if kind == "process" and raw.get("pidfile") is None and raw.get("name") is None:
        reader.fail(path + ".pidfile", None, "is required for a process check without a name: pidfile or name (or both) find the process to follow")
    check = {"type": kind}
    for key in TYPE_KEYS[kind]:
        check[key] = _READERS[key](reader, "%s.%s" % (path, key), raw.get(key), kind)
    check.update(_read_timers(reader, path, raw, timers))
    return check


def _a(kind):
    # Read aloud: "a tcp check", "an http check", "an exec check", "an ipvs check", "a kubernetes check",
    # "a systemd_unit check", "a process check".
    return ("a " if kind in ("tcp", "kubernetes", "systemd_unit", "process") else "an ") + kind


def _host(reader, path, raw, kind):
    if raw is None:
        return _FIELD["host"].default
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
    return _integer(reader, path, _FIELD["port"], raw)


def _path(reader, path, raw, kind):
    field = _FIELD["path"]
    if raw is None:
        return field.default
    if not isinstance(raw, str) or not field.pattern.fullmatch(raw):
        reader.fail(path, raw, field.message)
        return None
    return raw


def _expect_status(reader, path, raw, kind):
    field = _FIELD["expect_status"]
    if raw is None:
        return _schema.default_value(field)
    if isinstance(raw, (list, tuple)):
        if not raw:
            reader.fail(path, raw, "must list at least one HTTP status code")
            return None
        codes = [_integer(reader, "%s[%d]" % (path, index), field.items, item) for index, item in enumerate(raw)]
    else:
        codes = [_integer(reader, path, field.items, raw)]
    if None in codes:
        return None
    return sorted(set(codes))


def _control_characters(text):
    """Whether TEXT holds a control character (C0, DEL or C1): a NUL kills exec(), a newline splits a log line."""
    return any(ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F for char in text)


def _command(reader, path, raw, kind):
    if raw is None:
        return None
    if isinstance(raw, str):
        # Every string form is checked before it is split: a NUL, a newline or
        # a tab in a command line is a mistake (or an attack), never an argument.
        if _control_characters(raw) or len(raw) > MAX_COMMAND:
            reader.fail(path, raw, COMMAND_REASON)
            return None
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
            if not isinstance(item, str) or _control_characters(item) or len(item) > MAX_COMMAND:
                reader.fail("%s[%d]" % (path, index), item, "must be a string without control characters, at most %d characters" % MAX_COMMAND)
                return None
            argv.append(item)
        if sum(len(item) for item in argv) > MAX_COMMAND:
            reader.fail(path, raw, COMMAND_REASON)
            return None
    else:
        reader.fail(path, raw, COMMAND_REASON)
        return None
    if not argv or not argv[0].startswith("/"):
        # Checks run without a shell and without relying on PATH: what runs
        # is exactly what the inventory names.
        reader.fail(path, raw, "must start with the absolute path of the program (checks run without a shell)")
        return None
    return argv


def _protocol(reader, path, raw, kind):
    field = _FIELD["protocol"]
    if raw is None:
        return field.default
    return reader.choice(path, raw, field.choices)


def _service(reader, path, raw, kind):
    field = _FIELD["service"]
    if raw is None:
        return None
    if not isinstance(raw, str) or not field.pattern.fullmatch(raw):
        reader.fail(path, raw, field.message)
        return None
    return raw


def _healthz_port(reader, path, raw, kind):
    if raw is None:
        return None  # no gate on kube-proxy's /healthz
    return _integer(reader, path, _FIELD["healthz_port"], raw)


def _unit(reader, path, raw, kind):
    field = _FIELD["unit"]
    if raw is None:
        return None  # required: reported already
    if not isinstance(raw, str) or len(raw) > UNIT_NAME_MAX or not field.pattern.fullmatch(raw):
        reader.fail(path, raw, field.message)
        return None
    return raw


def _pidfile(reader, path, raw, kind):
    if raw is None:
        return None
    problem = _schema.abs_path_problem(raw)
    if problem:
        reader.fail(path, raw, problem)
        return None
    return raw


def _name(reader, path, raw, kind):
    field = _FIELD["name"]
    if raw is None:
        return None
    if not isinstance(raw, str) or not field.pattern.fullmatch(raw):
        reader.fail(path, raw, field.message)
        return None
    return raw


_READERS = {
    "host": _host,
    "port": _port,
    "path": _path,
    "expect_status": _expect_status,
    "command": _command,
    "protocol": _protocol,
    "service": _service,
    "healthz_port": _healthz_port,
    "unit": _unit,
    "pidfile": _pidfile,
    "name": _name,
}


def _read_timers(reader, path, raw, keys=TIMER_KEYS):
    timers = {key: TIMER_DEFAULTS[key] for key in keys}
    for key in keys:
        if raw.get(key) is not None:
            timers[key] = _integer(reader, "%s.%s" % (path, key), _FIELD[key], raw[key])
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
    for key in DAMPING_DEFAULTS:
        if given.get(key) is None:
            continue
        sub = "%s.%s" % (path, key)
        field = _DAMPING_FIELD[key]
        damping[key] = reader.boolean(sub, given[key]) if field.type == "boolean" else _integer(reader, sub, field, given[key])
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
