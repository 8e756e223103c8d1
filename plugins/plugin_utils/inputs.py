# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed, checked reading of one host's inventory variables.

Every reader records a problem (host, variable path, value, reason) instead of
raising, so that the model can report every mistake of an inventory at once.
"""

from __future__ import annotations

import ipaddress
import re

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
DIGITS_RE = re.compile(r"^[0-9]+$")  # str.isdigit() also accepts '²' and other non-ASCII digits
HIDDEN = "<hidden>"


def is_int(value):
    # YAML booleans are ints in Python; "true" is never a valid ASN or timer.
    return isinstance(value, int) and not isinstance(value, bool)


class Reader:
    """Reads variables of one host (or of the fabric) and records problems."""

    def __init__(self, problems, host, variables):
        self.problems = problems
        self.host = host
        self.variables = variables

    def fail(self, path, value, message):
        self.problems.add(self.host, path, value, message)

    def get(self, name, default=None):
        return self.variables.get(name, default)

    # Scalars -----------------------------------------------------------------

    def name(self, path, value, what="a name"):
        if not isinstance(value, str) or not NAME_RE.match(value):
            self.fail(path, value, "must be %s: 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit" % what)
            return None
        return value

    def choice(self, path, value, choices):
        if value not in choices:
            self.fail(path, value, "must be one of: %s" % ", ".join(choices))
            return None
        return value

    def integer(self, path, value, low, high, unit=""):
        if isinstance(value, str) and DIGITS_RE.match(value):
            value = int(value)
        if not is_int(value) or not low <= value <= high:
            self.fail(path, value, "must be an integer from %d to %d%s" % (low, high, unit))
            return None
        return value

    def boolean(self, path, value):
        if not isinstance(value, bool):
            self.fail(path, value, "must be true or false")
            return None
        return value

    # Addresses ---------------------------------------------------------------

    def interface(self, path, value, version):
        """An address, optionally with the prefix length of its segment.

        Returns (address, network or None): the network is only known when the
        user wrote a prefix length, and only then can subnets be cross-checked.
        """
        if not isinstance(value, str):
            self.fail(path, value, "must be an IPv%d address (optionally with /prefix-length)" % version)
            return None, None
        try:
            iface = ipaddress.ip_interface(value)
        except ValueError:
            self.fail(path, value, "is not an IPv%d address" % version)
            return None, None
        if iface.version != version:
            self.fail(path, value, "is an IPv%d address, expected IPv%d" % (iface.version, version))
            return None, None
        address = iface.ip
        if address.is_unspecified or address.is_multicast or address.is_loopback or (version == 6 and address.is_link_local):
            self.fail(path, value, "cannot be used to peer (unspecified, loopback, multicast or link-local)")
            return None, None
        network = iface.network if "/" in value else None
        if network is not None and network.num_addresses > 2 and address in (network.network_address, network.broadcast_address):
            self.fail(path, value, "is the network or broadcast address of %s" % network)
            return None, None
        return address, network

    def prefix(self, path, value, what="a prefix"):
        if not isinstance(value, str) or "/" not in value:
            self.fail(path, value, "must be %s written as address/length" % what)
            return None
        try:
            return ipaddress.ip_network(value, strict=True)
        except ValueError as exc:
            reason = "has host bits set" if "host bits" in str(exc) else "is not a valid prefix"
            self.fail(path, value, reason)
            return None

    def list_of(self, path, value):
        if value is None:
            return []
        if not isinstance(value, (list, tuple)):
            self.fail(path, value, "must be a list")
            return []
        return list(value)

    def dict_of(self, path, value, allowed, secret=False):
        """A mapping with only known keys; secret=True never echoes its values."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(path, HIDDEN if secret else value, "must be a mapping")
            return None
        for key in value:
            if key not in allowed:
                self.fail("%s.%s" % (path, key), HIDDEN if secret else value[key], "is not a known option (known: %s)" % ", ".join(sorted(allowed)))
        return value


def community(reader, path, value, parts):
    """A standard (2 parts of 16 bits) or large (3 parts of 32 bits) community."""
    width = 0xFFFF if parts == 2 else 0xFFFFFFFF
    fields = value.split(":") if isinstance(value, str) else []
    if len(fields) != parts or not all(DIGITS_RE.match(f) and int(f) <= width for f in fields):
        kind = "ASN:VALUE with each part 0-65535" if parts == 2 else "GLOBAL:LOCAL1:LOCAL2 with each part 0-4294967295"
        reader.fail(path, value, "must be a community written as %s%s" % (kind, _sexagesimal_hint(value, parts)))
        return None
    return ":".join(str(int(f)) for f in fields)


def _sexagesimal_hint(value, parts):
    """YAML 1.1 (Ansible's loader) reads unquoted 65000:53 as the base-60 integer 3900053."""
    if not isinstance(value, int) or isinstance(value, bool):
        return ""
    digits, rest = [], value
    for _part in range(parts - 1):
        rest, low = divmod(rest, 60)
        digits.insert(0, low)
    written = ":".join(str(d) for d in [rest] + digits)
    return "; YAML read the unquoted %s as the base-60 number %d, quote it: '%s'" % (written, value, written)
