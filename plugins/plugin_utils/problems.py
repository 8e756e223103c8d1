# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collects every validation problem of a fabric so that one run reports all of them."""

from __future__ import annotations

from dataclasses import dataclass

# Problems about fabric-wide variables are reported against this pseudo host.
FABRIC = "fabric"


@dataclass(frozen=True)
class Problem:
    host: str
    path: str
    value: str  # the offending value, shown the way the user wrote it
    message: str

    def __str__(self):
        return "%s: %s = %s: %s" % (self.host, self.path, self.value, self.message)


def show(value):
    # repr() of Ansible's tagged strings or of netaddr objects is noisy; users
    # wrote plain YAML scalars, so show them the way they wrote them.
    if isinstance(value, str):
        return "'%s'" % value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "[%s]" % ", ".join(show(v) for v in value)
    if isinstance(value, dict):
        return "{%s}" % ", ".join("%s: %s" % (k, show(v)) for k, v in value.items())
    return str(value)


class Problems:
    """An ordered, de-duplicated list of problems."""

    def __init__(self):
        self._items = []
        self._seen = set()

    def add(self, host, path, value, message):
        problem = Problem(host, path, show(value), message)
        if problem not in self._seen:
            self._seen.add(problem)
            self._items.append(problem)

    def __bool__(self):
        return bool(self._items)

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def messages(self):
        return [str(p) for p in self._items]
