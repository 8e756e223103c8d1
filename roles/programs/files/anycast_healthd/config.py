# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent's configuration file, validated with the shared health spec and address rules."""

from __future__ import annotations

import ipaddress
import json

from anycast_healthd import _health_spec as spec
from anycast_healthd import _net_rules

CONFIG_SCHEMA = 1
DEFAULT_CONFIG = "/etc/anycast-fabric/healthd.json"
DEFAULT_STATE_FILE = "/run/anycast-healthd/state.json"
CONFIG_KEYS = ("schema", "interface", "state_file", "metrics_listen", "metrics_textfile", "vips")
VIP_KEYS = ("prefix", "address", "name", "health")


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the offending field."""


def _fail(where, message):
    raise ConfigError("%s: %s" % (where, message))


def _mapping(where, value, allowed):
    if not isinstance(value, dict):
        _fail(where, "must be a mapping")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        _fail(where, "unknown option(s) %s (known: %s)" % (", ".join(map(str, unknown)), ", ".join(sorted(allowed))))
    return value


def _raise_first(reader):
    """The spec's first problem as a ConfigError: path, reason and the value."""
    path, value, message = reader.problems[0]
    shown = repr(value)
    if len(shown) > 120:
        shown = shown[:117] + "..."
    _fail(path, message if value in (None, [], {}) else "%s, not %s" % (message, shown))


def parse_check(where, raw):
    """One check with every default filled in (hand-written configs may omit them)."""
    reader = spec.Reader()
    check = spec._read_check(reader, where, raw)
    if reader.problems:
        _raise_first(reader)
    return check


def parse_health(where, raw):
    """A VIP's health section, normalised by the shared spec (exactly as the controller does)."""
    if raw is None:
        _fail(where, "is required: the checks that gate the VIP's announcement")
    reader = spec.Reader()
    health = spec.read_health(reader, where, raw)
    if reader.problems:
        _raise_first(reader)
    return health


def parse_listen(value):
    """'127.0.0.1:9474' or '[::1]:9474' -> (host, port)."""
    where = "metrics_listen"
    if not isinstance(value, str) or ":" not in value:
        _fail(where, "must be ADDRESS:PORT, e.g. 127.0.0.1:9474 or [::1]:9474")
    host, _sep, port = value.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        _fail(where, "%r is not an IP address" % host)
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        _fail(where, "%r is not a port number" % port)
    return address.compressed, int(port)


def parse_config(data):
    """Validate the agent's configuration (a dict loaded from JSON) and fill in defaults."""
    data = _mapping("config", data, CONFIG_KEYS)
    schema = data.get("schema", CONFIG_SCHEMA)
    if schema != CONFIG_SCHEMA:
        _fail("schema", "this agent reads schema %d, not %r (agent and configuration come from different releases)" % (CONFIG_SCHEMA, schema))
    interface = data.get("interface", "lo")
    # The model's rule for fabric_vip_interface (module_utils/_net_rules.py).
    problem = _net_rules.interface_problem(interface)
    if problem:
        _fail("interface", "%s, not %r" % (problem, interface))
    config = {"interface": interface, "state_file": data.get("state_file") or DEFAULT_STATE_FILE, "metrics_listen": None, "metrics_textfile": None}
    for key in ("state_file", "metrics_textfile"):
        value = data.get(key) or config[key]
        if value is not None and (not isinstance(value, str) or not value.startswith("/")):
            _fail(key, "must be an absolute path, not %r" % value)
        config[key] = value
    if data.get("metrics_listen"):
        config["metrics_listen"] = parse_listen(data["metrics_listen"])
    vips, seen = [], set()
    raw_vips = data.get("vips", [])
    if not isinstance(raw_vips, list):
        _fail("vips", "must be a list")
    for index, raw in enumerate(raw_vips):
        where = "vips[%d]" % index
        raw = _mapping(where, raw, VIP_KEYS)
        prefix = host_route(raw.get("prefix") or raw.get("address"), where + ".prefix")
        if prefix in seen:
            _fail(where + ".prefix", "%s is listed twice" % prefix)
        seen.add(prefix)
        name = raw.get("name")
        if name is not None and (not isinstance(name, str) or not name.isprintable() or len(name) > 255):
            _fail(where + ".name", "must be a string of printable characters (at most 255), not %r" % (name,))
        health = parse_health(where + ".health", raw.get("health"))
        vips.append({"prefix": prefix, "name": name, "checks": health["checks"], "damping": health["damping"]})
    config["vips"] = vips
    return config


def host_route(value, where="prefix"):
    """'198.51.100.10' or '198.51.100.10/32' -> '198.51.100.10/32' (and /128 for IPv6).

    The model's rule for a VIP of fabric_vips (module_utils/_net_rules.py), with its reasons.
    """
    network, reason = _net_rules.host_route(value)
    if network is None:
        _fail(where, "%s, not %r" % (reason, value))
    return str(network)


def load_config(path):
    try:
        with open(path) as handle:
            data = json.load(handle)
    except OSError as exc:
        raise ConfigError("cannot read %s: %s" % (path, exc.strerror)) from None
    except ValueError as exc:
        raise ConfigError("%s is not valid JSON: %s" % (path, exc)) from None
    return parse_config(data)
