# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed, checked reading of one host's inventory variables.

Every reader records a problem (host, variable path, value, reason) instead of
raising, so that the model can report every mistake of an inventory at once.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Collection, Mapping
from typing import Literal, TypeGuard, overload

from ansible_collections.anycast.fabric.plugins.module_utils import _net_rules, _schema
from ansible_collections.anycast.fabric.plugins.module_utils._net_rules import unusable_address
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.problems import Problems, key_text

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# parse_ip()'s result: (the object, None) or (None, why the text is not one).
Parsed = tuple[IPAddress | IPInterface | IPNetwork, None] | tuple[None, str]

# Every pattern is applied with fullmatch(): `$` would let a trailing newline through.
# Names that reach a rendered file (sites, racks, VIP and upstream names,
# interfaces): characters every daemon takes inside a word, a quoted BIRD
# or TOML string and an FRR description, and nothing a shell or a path treats specially.
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
NAME_RULE = "1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"
# Inventory host names: DNS-like names (long FQDNs included), dot-separated
# labels of letters, digits, '-' and '_'. No '/', no empty label: a host name
# is also a folder name under fabric_render_dir.
HOSTNAME_MAX = 253
HOSTNAME_LABEL_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,62}")
HOSTNAME_RULE = (
    "a fabric host name is 1-%d characters: dot-separated labels of 1-63 letters, digits, '-' or '_', "
    "starting with a letter or digit (no spaces, quotes, slashes or other punctuation)" % HOSTNAME_MAX
)
# FRR's `hostname` command refuses a name whose first character is not a
# letter or digit (lib/command.c, config_hostname); `vtysh -C` does not check it.
HOSTNAME_FIRST_RE = re.compile(r"[A-Za-z0-9]")
DIGITS_RE = re.compile(r"[0-9]+")  # str.isdigit() also accepts '²' and other non-ASCII digits
# More digits than any range the model checks: refused before int() runs
# (Python refuses to convert strings of more than 4,300 digits).
MAX_DIGITS = _schema.MAX_DIGITS
HIDDEN = _schema.HIDDEN
# Keys that look like secrets: an unknown key named so is reported without its value.
SECRET_KEY_RE = re.compile(r"pass|secret|key|token|auth|md5|cred", re.IGNORECASE)
# The address rules (the characters of an address, unusable_address())
# live in module_utils/_net_rules.py, which the node's
# health agent runs too: one rule for a VIP on both sides.


def hostname_problem(name: object) -> str | None:
    """Why NAME cannot be a fabric host name, or None. Linear in its length."""
    if not isinstance(name, str) or not 1 <= len(name) <= HOSTNAME_MAX:
        return HOSTNAME_RULE
    if not HOSTNAME_FIRST_RE.match(name) or not all(HOSTNAME_LABEL_RE.fullmatch(label) for label in name.split(".")):
        return HOSTNAME_RULE
    return None


@overload
def parse_ip(value: object, kind: Literal["address"]) -> tuple[IPAddress, None] | tuple[None, str]: ...


@overload
def parse_ip(value: object, kind: Literal["interface"]) -> tuple[IPInterface, None] | tuple[None, str]: ...


@overload
def parse_ip(value: object, kind: Literal["network"]) -> tuple[IPNetwork, None] | tuple[None, str]: ...


def parse_ip(value: object, kind: str) -> Parsed:
    """(object, None) or (None, reason): _parse_ip() for any value."""
    if not isinstance(value, str):
        return None, "is not an IP address"
    return _parse_ip(value, kind)


# Inventories repeat the same addresses (every node of a VIP lists it):
# parse each text once. Bounded, and ipaddress objects are immutable.
@functools.lru_cache(maxsize=65536)
def _parse_ip(value: str, kind: str) -> Parsed:
    """An ipaddress object from TEXT (kind: 'address', 'interface' or 'network'), or a reason.

    Returns (object, None) or (None, reason): _net_rules.parse_ip(), the rule
    the health agent applies too. Only the characters an address can hold are
    accepted: no zone ids, no whitespace, no trailing newline.
    """
    return _net_rules.parse_ip(value, kind)


def is_int(value: object) -> TypeGuard[int]:
    # YAML booleans are ints in Python; "true" is never a valid ASN or timer.
    return _schema.is_int(value)


class Reader(_schema.Reader):
    """Reads variables of one host (or of the fabric) and records problems with the host's name."""

    def __init__(self, problems: Problems, host: str, variables: Mapping[str, object]) -> None:
        self.problems = problems
        self.host = host
        self.variables = variables

    def fail(self, path: str, value: object, message: str) -> None:
        self.problems.add(self.host, path, value, message)

    def get(self, name: str, default: object = None) -> object:
        return self.variables.get(name, default)

    # Declared fields (plugins/module_utils/_schema.py) -----------------------

    def field(self, path: str, field: _schema.Field, value: object) -> object:
        """VALUE checked against FIELD (a leaf of the schema); None when refused.

        Every problem is recorded with the host, PATH (plus the item's index for
        lists) and the value as written, or HIDDEN for a secret field.
        """
        checked, errors = _schema.check(field, value)
        for suffix, shown, reason in errors:
            self.fail(path + suffix, shown, reason)
        return checked

    def fields(self, path: str, table: _schema.Table, value: object, secret: bool = False) -> dict[str, object] | None:
        """The mapping VALUE read key by key against TABLE: {name: checked value}.

        Absent keys take their default (REQUIRED keys missing are reported as
        "is required"); unknown keys are refused as dict_of() does. Keys whose
        type is not a leaf type are returned as given, for their own reader.
        Returns None when VALUE is not a mapping.
        """
        given = self.dict_of(path, value, table.names(), secret=secret)
        if given is None:
            return None
        out: dict[str, object] = {}
        for item in table.fields:
            sub = "%s.%s" % (path, item.name)
            raw = given.get(item.name)
            if raw is None and item.required:
                self.fail(sub, None, "is required")
                out[item.name] = None
            elif item.name not in given:
                out[item.name] = _schema.default_value(item)
            elif _schema.is_leaf(item):
                out[item.name] = self.field(sub, item, raw)
            else:
                out[item.name] = raw
        return out

    # Scalars -----------------------------------------------------------------

    def name(self, path: str, value: object, what: str = "a name") -> str | None:
        if not isinstance(value, str) or not NAME_RE.fullmatch(value):
            self.fail(path, value, "must be %s: %s" % (what, NAME_RULE))
            return None
        return value

    # Addresses ---------------------------------------------------------------

    def interface(self, path: str, value: object, version: int) -> tuple[IPAddress | None, IPNetwork | None]:
        """An address, optionally with the prefix length of its segment.

        Returns (address, network or None): the network is only known when the
        user wrote a prefix length, and only then can subnets be cross-checked.
        """
        parsed = parse_ip(value, "interface")
        if parsed[0] is None:
            reason = parsed[1]
            if not isinstance(value, str):
                reason = "must be an IPv%d address (optionally with /prefix-length)" % version
            elif reason.startswith("is not"):
                reason = "is not an IPv%d address" % version
            self.fail(path, value, reason)
            return None, None
        iface = parsed[0]
        if iface.version != version:
            self.fail(path, value, "is an IPv%d address, expected IPv%d" % (iface.version, version))
            return None, None
        address = iface.ip
        unusable = unusable_address(address)
        if unusable:
            self.fail(path, value, "cannot be used to peer: it %s" % unusable)
            return None, None
        network = iface.network if isinstance(value, str) and "/" in value else None
        if network is not None and network.num_addresses > 2 and address in (network.network_address, network.broadcast_address):
            self.fail(path, value, "is the network or broadcast address of %s" % network)
            return None, None
        return address, network

    def prefix(self, path: str, value: object, what: str = "a prefix", not_default: str | None = None) -> IPNetwork | None:
        """VALUE as a network; with NOT_DEFAULT (the reason) a default route (/0) is refused too."""
        if not isinstance(value, str) or "/" not in value:
            self.fail(path, value, "must be %s written as address/length" % what)
            return None
        parsed = parse_ip(value, "network")
        if parsed[0] is None:
            self.fail(path, value, parsed[1])
        elif not_default is not None and parsed[0].prefixlen == 0:
            self.fail(path, value, "is a default route: " + not_default)
            return None
        return parsed[0]

    def dict_of(self, path: str, value: object, allowed: Collection[str], secret: bool = False) -> dict[object, object] | None:
        """A mapping with only known keys; secret=True never echoes its values."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            # A mapping written as one string by mistake (quoting, indentation)
            # may hold a secret: do not echo such text.
            hidden = secret or (isinstance(value, str) and bool(SECRET_KEY_RE.search(value)))
            self.fail(path, HIDDEN if hidden else value, "must be a mapping" + (" (got a string)" if isinstance(value, str) else ""))
            return None
        for key in value:
            if key not in allowed:
                hidden = secret or not isinstance(key, str) or bool(SECRET_KEY_RE.search(key))
                why = "is not a known option (known: %s)" % ", ".join(sorted(allowed))
                self.fail("%s.%s" % (path, key_text(key)), HIDDEN if hidden else value[key], why)
        return value


def community(reader: Reader, path: str, value: object, parts: int) -> str | None:
    """A standard (2 parts of 16 bits) or large (3 parts of 32 bits) community."""
    width = 0xFFFF if parts == 2 else 0xFFFFFFFF
    fields = value.split(":") if isinstance(value, str) and len(value) <= 40 else []
    if len(fields) != parts or not all(len(f) <= 10 and DIGITS_RE.fullmatch(f) and int(f) <= width for f in fields):
        kind = "ASN:VALUE with each part 0-65535" if parts == 2 else "GLOBAL:LOCAL1:LOCAL2 with each part 0-4294967295"
        reader.fail(path, value, "must be a community written as %s%s" % (kind, _sexagesimal_hint(value, parts)))
        return None
    return ":".join(str(int(f)) for f in fields)


def _sexagesimal_hint(value: object, parts: int) -> str:
    """YAML 1.1 (Ansible's loader) reads unquoted 65000:53 as the base-60 integer 3900053."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 60**parts * 2**32:
        return ""
    digits: list[int] = []
    rest = value
    for _part in range(parts - 1):
        rest, low = divmod(rest, 60)
        digits.insert(0, low)
    written = ":".join(str(d) for d in [rest] + digits)
    return "; YAML read the unquoted %s as the base-60 number %d, quote it: '%s'" % (written, value, written)
