# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one boundary for role variables that reach a file on a node.

Every variable of a role that ends up in a file the role writes (sysctl.d,
modules-load.d, systemd units, the KubeProxyConfiguration, the agents'
configurations) is declared here with a type and a character set that the
target file's syntax cannot be broken by: a sysctl key is a dotted name, a
sysctl value a printable line, a module a word, a path absolute and
normalised. `anycast.fabric.role_inputs` (the first task of each role) checks
them on the controller and fails, naming host, variable path and value for
every problem at once, before the role touches the host.

Values that go through a serialiser (to_json, to_nice_yaml) cannot add a line,
but are still declared with their type, so a wrong type fails here rather
than as a Jinja error on the node.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from ansible_collections.anycast.fabric.plugins.module_utils import _schema
from ansible_collections.anycast.fabric.plugins.module_utils._net_rules import INTERFACE_RE, INTERFACE_RULE
from ansible_collections.anycast.fabric.plugins.module_utils._schema import Field
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.problems import show

# A sysctl name as sysctl.d(5) writes it: dotted words; '/' stands for a '.'
# inside an interface name (net.ipv4.conf.eth0/100.rp_filter).
SYSCTL_KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,31}(?:\.[A-Za-z0-9_][A-Za-z0-9_/@+-]{0,63}){1,8}")
SYSCTL_KEY_RULE = "a sysctl name: dotted words of letters, digits, '_', '-', '/', '@', '+' (net.ipv4.conf.eth0/100.rp_filter)"
# A sysctl value: printable ASCII on one line, no leading or trailing space
# (sysctl.d strips them), at most 256 characters ("4096 131072 6291456").
SYSCTL_VALUE_RE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,254}[\x21-\x7e])?")
SYSCTL_VALUE_RULE = "a sysctl value: 1-256 printable ASCII characters on one line, no leading or trailing space"
MODULE_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
MODULE_RULE = "a kernel module name: 1-64 letters, digits, '_' or '-'"
# A Debian package name, optionally pinned (name=version).
PACKAGE_RE = re.compile(r"[a-z0-9][a-z0-9+.-]{1,99}(?:=[A-Za-z0-9.+~:-]{1,100})?")
PACKAGE_RULE = "a Debian package name (lower-case letters, digits, '+', '-', '.'), optionally =VERSION"
CAPABILITY_RE = re.compile(r"CAP_[A-Z_]{1,32}")
CAPABILITY_RULE = "a capability name such as CAP_NET_RAW"
VERSION_RE = re.compile(r"1\.[0-9]{1,3}(?:\.[0-9]{1,4})?")
VERSION_RULE = "a Kubernetes version such as '1.35' or '1.33.2' (a quoted string)"
CONF_PATH_RE = re.compile(r"(?:/(?!\.\.?(?:/|\Z))[A-Za-z0-9_@+.-]{1,255}){0,31}/[A-Za-z0-9_@+.-]{0,250}[A-Za-z0-9_@+-]\.conf")
CONF_PATH_RULE = _schema.ABS_PATH_RULE + ", ending in .conf (systemd-sysctl and systemd-modules-load read only *.conf)"
LISTEN_RULE = "ADDRESS:PORT with an IP address (127.0.0.1:9474, [::1]:9474)"
# kube-proxy's IPVS schedulers (ipvsadm's names).
IPVS_SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf", "twos")
MAX_ITEMS = 256

# A Special's checker: the reason VALUE is refused, or None.
Checker = Callable[[object], str | None]


def _path(name: str, description: str, nullable: bool = False) -> Field:
    return Field(name, "string", description, pattern=_schema.ABS_PATH_RE, rule=_schema.ABS_PATH_RULE, max_length=_schema.ABS_PATH_MAX, nullable=nullable)


def _conf_path(name: str, description: str) -> Field:
    return Field(name, "string", description, pattern=CONF_PATH_RE, rule=CONF_PATH_RULE, max_length=_schema.ABS_PATH_MAX)


def _words(name: str, description: str, pattern: re.Pattern[str], rule: str) -> Field:
    return Field(name, "list", description, items=Field("item", "string", pattern=pattern, rule=rule, max_length=200))


def _int(name: str, description: str, low: int, high: int) -> Field:
    return Field(name, "integer", description, min=low, max=high)


class Mapping:
    """A mapping variable whose keys and values are each checked against a Field."""

    type = "mapping"

    def __init__(self, name: str, description: str, key: Field, value: Field, max_items: int = MAX_ITEMS) -> None:
        # check() words its refusals with the key's and the value's rule.
        if key.rule is None or value.rule is None:
            raise ValueError("mapping %s: its key and value fields need a rule" % name)
        self.name = name
        self.description = description
        self.key = key
        self.value = value
        self.key_rule: str = key.rule
        self.value_rule: str = value.rule
        self.max_items = max_items


class Special:
    """A variable with its own checker: CHECK(value) -> reason or None."""

    type = "special"

    def __init__(self, name: str, description: str, check: Checker, nullable: bool = False) -> None:
        self.name = name
        self.description = description
        self.check = check
        self.nullable = nullable


def _prefix_problem(value: object, allow: tuple[str, ...] = ()) -> str | None:
    if isinstance(value, str) and value in allow:
        return None
    reason = "must be an IP address or prefix (address/length)" + (" or one of: %s" % ", ".join(allow) if allow else "")
    if not isinstance(value, str) or len(value) > 64:
        return reason
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return reason
    return None


def _prefixes(allow: tuple[str, ...] = ()) -> Checker:
    def check(value: object) -> str | None:
        if not isinstance(value, (list, tuple)) or len(value) > MAX_ITEMS:
            return "must be a list (at most %d items)" % MAX_ITEMS
        for item in value:
            reason = _prefix_problem(item, allow)
            if reason:
                return "every item %s; %s is not" % (reason, show(item))
        return None

    return check


def _listen_problem(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > 64 or ":" not in value:
        return "must be " + LISTEN_RULE
    host, _sep, port = value.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return "must be " + LISTEN_RULE
    if not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        return "must be " + LISTEN_RULE
    return None


def _mapping_problem(value: object) -> str | None:
    return None if isinstance(value, dict) else "must be a mapping"


# The kube_proxy role (and the deprecated ipvs role, which passes its
# variables on to it).
# What a role variable is declared as.
Declaration = Field | Mapping | Special

KUBE_PROXY: tuple[Declaration, ...] = (
    Field("kube_proxy_mode", "string", "kube-proxy's mode", choices=("auto", "nftables", "ipvs", "iptables")),
    Field("kube_proxy_kubernetes_version", "string", "the cluster's Kubernetes version", pattern=VERSION_RE, rule=VERSION_RULE),
    _words("kube_proxy_nftables_modules", "modules-load.d lines", MODULE_RE, MODULE_RULE),
    _words("kube_proxy_nftables_optional_modules", "modules-load.d lines", MODULE_RE, MODULE_RULE),
    _words("kube_proxy_ipvs_modules", "modules-load.d lines", MODULE_RE, MODULE_RULE),
    _words("kube_proxy_ipvs_optional_modules", "modules-load.d lines", MODULE_RE, MODULE_RULE),
    _words("kube_proxy_iptables_modules", "modules-load.d lines", MODULE_RE, MODULE_RULE),
    _words("kube_proxy_iptables_optional_modules", "modules-load.d lines", MODULE_RE, MODULE_RULE),
    _words("kube_proxy_nftables_packages", "apt packages", PACKAGE_RE, PACKAGE_RULE),
    _words("kube_proxy_ipvs_packages", "apt packages", PACKAGE_RE, PACKAGE_RULE),
    _words("kube_proxy_iptables_packages", "apt packages", PACKAGE_RE, PACKAGE_RULE),
    _conf_path("kube_proxy_modules_load_file", "the modules-load.d file"),
    _conf_path("kube_proxy_sysctl_file", "the sysctl.d file"),
    _int("kube_proxy_apt_cache_valid_time", "seconds", 0, 10**7),
    Field("kube_proxy_ipvs_conn_reuse_mode", "string", "conn_reuse_mode", choices=("auto", "0", "1", "2")),
    Mapping(
        "kube_proxy_extra_sysctls",
        "sysctl.d lines",
        Field("key", "string", pattern=SYSCTL_KEY_RE, rule=SYSCTL_KEY_RULE, max_length=256),
        Field("value", "string", pattern=SYSCTL_VALUE_RE, rule=SYSCTL_VALUE_RULE, max_length=256),
    ),
    Field("kube_proxy_config", "string", "write, validate or none", choices=("write", "validate", "none")),
    _path("kube_proxy_config_path", "the KubeProxyConfiguration file"),
    Field("kube_proxy_ipvs_scheduler", "string", "ipvs.scheduler", choices=IPVS_SCHEDULERS),
    Special("kube_proxy_ipvs_exclude_cidrs", "ipvs.excludeCIDRs", _prefixes()),
    Special("kube_proxy_node_port_addresses", "nodePortAddresses", _prefixes(allow=("primary",))),
    Special("kube_proxy_config_extra", "merged into the KubeProxyConfiguration (to_nice_yaml)", _mapping_problem),
    Field("kube_proxy_vip_interface", "string", "the VIP interface", pattern=INTERFACE_RE, rule=INTERFACE_RULE),
)

HEALTHCHECK: tuple[Declaration, ...] = (
    _int("healthcheck_watchdog_sec", "WatchdogSec= of the unit", 1, 3600),
    _words("healthcheck_extra_capabilities", "CapabilityBoundingSet= of the unit", CAPABILITY_RE, CAPABILITY_RULE),
    Field(
        "healthcheck_read_write_paths",
        "list",
        "ReadWritePaths= of the unit",
        items=Field("path", "string", pattern=_schema.ABS_PATH_RE, rule=_schema.ABS_PATH_RULE, max_length=_schema.ABS_PATH_MAX),
    ),
    _path("healthcheck_metrics_textfile", "the metrics file (its folder is a ReadWritePaths= line)", nullable=True),
    Special("healthcheck_metrics_listen", "the metrics listener", _listen_problem, nullable=True),
)

TOR: tuple[Declaration, ...] = (
    Special("tor_resilient_ecmp_pools", "the mirrored pools", _prefixes()),
    _int("tor_resilient_ecmp_buckets", "buckets per group", 1, 65535),
    _int("tor_resilient_ecmp_idle_timer", "seconds", 0, 2**31 - 1),
    _int("tor_resilient_ecmp_unbalanced_timer", "seconds", 0, 2**31 - 1),
    # 253-255 are the kernel's default, main and local tables.
    _int("tor_resilient_ecmp_table", "the routing table", 1, 252),
    # 0 is the local rule, 32766/32767 main and default.
    _int("tor_resilient_ecmp_rule_priority", "the ip rule's priority", 1, 32765),
    _int("tor_resilient_ecmp_watchdog_sec", "WatchdogSec= of the unit", 1, 3600),
    # 0 flushes the groups at once after the agent dies (no stale window).
    _int("tor_resilient_ecmp_stale_sec", "seconds", 0, 86400),
)

ROUTING: tuple[Declaration, ...] = (
    _int("routing_session_wait", "seconds", 1, 3600),
    # Validated by the model as fabric_bgp.password; here only its type, never its value.
    Field("routing_bgp_password", "string", "the BGP key", nullable=True, secret=True, max_length=80, length_unit="bytes", charset="word"),
    Field("routing_drain_state", "string", "the drain state", choices=("in_service", "draining", "drained"), nullable=True),
)

ROLES: dict[str, tuple[Declaration, ...]] = {"kube_proxy": KUBE_PROXY, "healthcheck": HEALTHCHECK, "tor": TOR, "routing": ROUTING}


def _number_hint(field: Field, value: object) -> str | None:
    """A number where a string is declared: YAML read an unquoted value (1.40 is 1.4). A secret's value is not repeated."""
    if field.type == "string" and not isinstance(value, bool) and isinstance(value, (int, float)):
        quoted = "" if field.secret else " ('%s')" % value
        return "is a number, but must be a string: quote it in YAML%s, an unquoted 1.40 is read as 1.4" % quoted
    return None


def check(declaration: Declaration, value: object) -> list[_schema.Error]:
    """[(suffix, shown value, reason)] of VALUE against one declaration (empty: accepted)."""
    if value is None and getattr(declaration, "nullable", False):
        return []
    if isinstance(declaration, Special):
        reason = declaration.check(value)
        return [("", value, reason)] if reason else []
    if isinstance(declaration, Mapping):
        if not isinstance(value, dict) or len(value) > declaration.max_items:
            return [("", value, "must be a mapping of at most %d items" % declaration.max_items)]
        errors: list[_schema.Error] = []
        for key, item in value.items():
            suffix = "[%s]" % show(key)
            hint = _number_hint(declaration.key, key)
            if hint or _schema.check(declaration.key, key)[1]:
                errors.append((suffix, key, "the key " + (hint or "must be " + declaration.key_rule)))
                continue
            # Numbers are sysctl values too; booleans are not (YAML's yes is True).
            shown = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
            if _schema.check(declaration.value, shown)[1]:
                errors.append((suffix, item, "must be " + declaration.value_rule))
        return errors
    if declaration.type == "list" and isinstance(value, (list, tuple)) and len(value) > MAX_ITEMS:
        return [("", value, "must be a list of at most %d items" % MAX_ITEMS)]
    hint = _number_hint(declaration, value)
    if hint:
        return [("", value, hint)]
    # A list without declared items takes any item (_schema.check() keeps them as given).
    if declaration.type == "list" and declaration.items is not None and isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            hint = _number_hint(declaration.items, item)
            if hint:
                return [("[%d]" % index, item, hint)]
    return list(_schema.check(declaration, value)[1])
