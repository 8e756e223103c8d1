# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collects every validation problem of a fabric so that one run reports all of them."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import overload

# Problems about fabric-wide variables are reported against this pseudo host.
FABRIC = "fabric"


@dataclass(frozen=True)
class Problem:
    host: str
    path: str
    value: str  # the offending value, shown the way the user wrote it
    message: str

    def __str__(self) -> str:
        return "%s: %s = %s: %s" % (self.host, self.path, self.value, self.message)


# One problem is one line, and a hostile value cannot make a report line
# unreadable: values longer than this are cut (their length is said).
MAX_SHOWN = 120
# Integers of more bits than this are described, not printed (Python refuses
# to print integers of more than 4,300 digits, and nobody wants to read them).
MAX_SHOWN_BITS = 96
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: object) -> str:
    """TEXT with every non-printable character (newlines, controls, bidi marks...) escaped.

    Cost: linear in the length of TEXT.
    """
    text = text if isinstance(text, str) else str(text)
    if text.isprintable():
        return text
    out: list[str] = []
    for char in text:
        if char.isprintable():
            out.append(char)
        elif char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x100:
            out.append("\\x%02x" % ord(char))
        elif ord(char) < 0x10000:
            out.append("\\u%04x" % ord(char))
        else:
            out.append("\\U%08x" % ord(char))
    return "".join(out)


def _cut(text: str) -> str:
    if len(text) <= MAX_SHOWN:
        return text
    return "%s...(%d characters)" % (text[:MAX_SHOWN], len(text))


def show(value: object, _depth: int = 0) -> str:
    """A value the way the user wrote it, on one line and of bounded length."""
    # repr() of Ansible's tagged strings or of netaddr objects is noisy; users
    # wrote plain YAML scalars, so show them the way they wrote them.
    if isinstance(value, str):
        return "'%s'" % one_line(_cut(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        if value.bit_length() > MAX_SHOWN_BITS:
            return "<an integer of %d bits>" % value.bit_length()
        return str(value)
    if _depth > 3:
        return "..."
    if isinstance(value, (list, tuple)):
        return _cut("[%s]" % ", ".join(show(v, _depth + 1) for v in value[:20])) + ("" if len(value) <= 20 else " (%d items)" % len(value))
    if isinstance(value, dict):
        items = list(value.items())
        text = "{%s}" % ", ".join("%s: %s" % (key_text(k), show(v, _depth + 1)) for k, v in items[:20])
        return _cut(text) + ("" if len(items) <= 20 else " (%d keys)" % len(items))
    return one_line(_cut(str(value)))


def key_text(key: object) -> str:
    """A mapping key as part of a variable path (user keys may be anything)."""
    if isinstance(key, str):
        return one_line(_cut(key))
    return show(key)


REDACTED = "<hidden>"


@overload
def redact(value: str, secrets: Collection[str]) -> str: ...


@overload
def redact(value: object, secrets: Collection[str]) -> object: ...


def redact(value: object, secrets: Collection[str]) -> object:
    """VALUE (a string, or lists and mappings of them) with every one of SECRETS replaced by REDACTED.

    Longest secret first, so that a key containing a shorter one is blanked whole.
    """
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in sorted(secrets, key=len, reverse=True):
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, (list, tuple)):
        return [redact(v, secrets) for v in value]
    if isinstance(value, dict):
        return {redact(k, secrets) if isinstance(k, str) else k: redact(v, secrets) for k, v in value.items()}
    return value


class Problems:
    """An ordered, de-duplicated list of problems.

    `secrets`: strings never to be shown (the BGP keys that evaluated); they
    are blanked out of each value BEFORE it is cut to MAX_SHOWN characters, so
    no cut value shows the first characters of a key either.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._items: list[Problem] = []
        self._seen: set[Problem] = set()
        self.secrets = frozenset(secrets)

    def add(self, host: object, path: str, value: object, message: str) -> None:
        if self.secrets:
            value, message, path = redact(value, self.secrets), redact(message, self.secrets), redact(path, self.secrets)
        problem = Problem(one_line(_cut(host)) if isinstance(host, str) else show(host), one_line(path), show(value), one_line(message))
        if problem not in self._seen:
            self._seen.add(problem)
            self._items.append(problem)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._items)

    def messages(self) -> list[str]:
        return [str(p) for p in self._items]
