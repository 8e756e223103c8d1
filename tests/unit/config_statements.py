# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The statements of a rendered BIRD or FRR configuration, for comparing two renders.

A configuration is read the way its daemon reads it, then reduced to a multiset
of statements, each with the blocks (BIRD) or nodes (FRR) it sits in:

- comments are dropped (BIRD `#` to the end of the line and `/* */`; FRR lines
  starting with `!` or `#`);
- free text is replaced by a placeholder: BIRD `description "..."` string
  contents, FRR `description ...` to the end of the line and `hostname ...`;
- identifiers the model derives from host names are replaced by what they
  belong to: a BIRD `protocol bgp NAME` by its neighbor address, an FRR
  route-map a neighbor uses by that neighbor's address and direction, and a
  prefix-list by the route-map entries that match on it.

Two renders of the same fabric, one with hostile names and one with plain
names, must then have the same multiset: any other difference is a statement
the hostile name added, removed or changed (`compare`).

BIRD 2.0.12 strings have no escapes: a string runs from `"` to the next `"`,
a backslash is an ordinary character and a newline inside a string is an
error ("Unterminated string"); an apostrophed symbol ('name') is one token. FRR reads a file line by line (a newline in a
name starts a new command), into a 4096-byte buffer (VTY_BUFSIZ: a longer line
is cut and its rest read as another command), splits it into at most 256
words (CMD_ARGC_MAX), and stops at a NUL like any C string. `problems` of a
parse lists what a daemon would misread.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter, namedtuple

FREE_TEXT = "<free text>"
# FRR's limits (lib/vty.h VTY_BUFSIZ, lib/command.h CMD_ARGC_MAX): fgets()
# into a 4096-byte buffer keeps 4095 bytes, the newline included.
FRR_LINE_BYTES = 4094
FRR_MAX_WORDS = 256

Statement = namedtuple("Statement", "context tokens line")


class Parsed:
    """The statements of one configuration and what its daemon would misread."""

    def __init__(self, daemon):
        self.daemon = daemon
        self.statements = []
        self.problems = []

    def keys(self):
        return Counter((s.context, s.tokens) for s in self.statements)


def show(text):
    """A string with its invisible characters spelled out (for failure messages)."""
    out = []
    for char in text:
        if char.isprintable() or char == " ":
            out.append(char)
        else:
            out.append(char.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def describe(statement):
    where = " > ".join(" ".join(show(t) for t in header) for header in statement.context)
    return "%s%s  (line %d)" % ("[%s] " % where if where else "", " ".join(show(t) for t in statement.tokens), statement.line)


def parse(text, daemon, substitutions=None):
    """The statements of TEXT, a rendered `bird` or `frr` configuration.

    substitutions: {token: replacement} applied to whole tokens (and to the
    contents of whole BIRD strings) before anything else, so that a plain
    render can stand in for a hostile one where a value is meant to be used
    verbatim (an interface name, say).
    """
    if daemon == "bird":
        return _bird(text, substitutions or {})
    if daemon == "frr":
        return _frr(text, substitutions or {})
    raise ValueError("daemon must be bird or frr, not %r" % daemon)


def compare(actual, expected, daemon, substitutions=None):
    """Differences between two renders, as readable lines; [] when they mean the same.

    actual: the render under test (hostile names); expected: the same fabric
    with plain names, with SUBSTITUTIONS applied to it.
    """
    got = parse(actual, daemon)
    want = parse(expected, daemon, substitutions)
    lines = ["the daemon would misread the render: %s" % p for p in got.problems]
    lines += ["the plain render itself is misread (test bug?): %s" % p for p in want.problems]
    have, need = got.keys(), want.keys()
    by_key = {}
    for statement in got.statements + want.statements:
        by_key.setdefault((statement.context, statement.tokens), statement)
    for key in sorted(have - need, key=lambda k: by_key[k].line):
        extra = (have - need)[key]
        lines.append("statement not in the plain render%s: %s" % (" (x%d)" % extra if extra > 1 else "", describe(by_key[key])))
    for key in sorted(need - have, key=lambda k: by_key[k].line):
        missing = (need - have)[key]
        lines.append("statement of the plain render missing%s: %s" % (" (x%d)" % missing if missing > 1 else "", describe(by_key[key])))
    return lines


# BIRD ------------------------------------------------------------------------

_BIRD_SPACE = " \t\r\n"
_BIRD_BREAK = set(_BIRD_SPACE) | set(";{}\"#'")


def _bird_tokens(text, parsed):
    """(token, line) pairs; strings keep their quotes, comments are gone."""
    tokens = []
    i, line, n = 0, 1, len(text)
    while i < n:
        char = text[i]
        if char == "\n":
            line += 1
            i += 1
        elif char in _BIRD_SPACE:
            i += 1
        elif char == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                parsed.problems.append("line %d: unterminated /* comment" % line)
                return tokens
            line += text.count("\n", i, end)
            i = end + 2
        elif char == '"':
            end = text.find('"', i + 1)
            newline = text.find("\n", i + 1)
            if end < 0:
                parsed.problems.append("line %d: unterminated string" % line)
                return tokens
            if 0 <= newline < end:
                parsed.problems.append("line %d: newline inside a string %s" % (line, show(text[i : end + 1])))
            tokens.append((text[i : end + 1], line))
            line += text.count("\n", i, end)
            i = end + 1
        elif char == "'":
            # An apostrophed symbol ('my-proto'): one token, never across lines.
            end = text.find("'", i + 1)
            newline = text.find("\n", i + 1)
            if end < 0 or 0 <= newline < end:
                parsed.problems.append("line %d: unterminated apostrophed symbol" % line)
                end = n - 1 if end < 0 else end
            tokens.append((text[i : end + 1], line))
            line += text.count("\n", i, end)
            i = end + 1
        elif char in ";{}":
            tokens.append((char, line))
            i += 1
        else:
            start = i
            while i < n and text[i] not in _BIRD_BREAK and not text.startswith("/*", i):
                i += 1
            tokens.append((text[start:i], line))
    return tokens


def _substitute(token, substitutions):
    if token in substitutions:
        return substitutions[token]
    if len(token) >= 2 and token[0] == '"' and token[-1] == '"' and token[1:-1] in substitutions:
        return '"%s"' % substitutions[token[1:-1]]
    return token


def _bird(text, substitutions):
    parsed = Parsed("bird")
    if "\0" in text:
        parsed.problems.append("NUL character at offset %d" % text.index("\0"))
    context, current, first_line = [], [], None
    raw = []  # (context, tokens, line, kind) with kind "stmt" or "block"
    for token, line in _bird_tokens(text, parsed):
        token = _substitute(token, substitutions)
        if token == ";":
            if current:
                raw.append((tuple(context), tuple(current), first_line, "stmt"))
            current, first_line = [], None
        elif token == "{":
            header = tuple(current)
            raw.append((tuple(context), header, first_line or line, "block"))
            context.append(header)
            current, first_line = [], None
        elif token == "}":
            if current:
                parsed.problems.append("line %d: statement without ';' before '}': %s" % (line, show(" ".join(current))))
                raw.append((tuple(context), tuple(current), first_line, "stmt"))
                current, first_line = [], None
            if not context:
                parsed.problems.append("line %d: '}' closes no block" % line)
            else:
                context.pop()
        else:
            if first_line is None:
                first_line = line
            current.append(token)
    if current:
        parsed.problems.append("line %d: statement without ';' at the end: %s" % (first_line, show(" ".join(current))))
        raw.append((tuple(context), tuple(current), first_line, "stmt"))
    if context:
        parsed.problems.append("%d block(s) left open at the end: %s" % (len(context), show(" ".join(context[-1]))))

    # Protocol names derived from host names: by the neighbor they talk to.
    names = {}
    for ctx, tokens, _line, kind in raw:
        if kind == "stmt" and ctx and len(ctx[-1]) >= 3 and ctx[-1][:2] == ("protocol", "bgp") and tokens[:1] == ("neighbor",) and len(tokens) >= 2:
            names.setdefault(ctx[-1][2], "<bgp %s>" % tokens[1])
    for ctx, tokens, line, _kind in raw:
        tokens = tuple(names.get(t, t) for t in tokens)
        ctx = tuple(tuple(names.get(t, t) for t in header) for header in ctx)
        if len(tokens) == 2 and tokens[0] == "description" and tokens[1].startswith('"'):
            tokens = ("description", '"%s"' % FREE_TEXT)
        parsed.statements.append(Statement(ctx, tokens, line))
    return parsed


# FRR -------------------------------------------------------------------------

_FRR_SPACE = re.compile(r"[ \t\n\v\f\r]+")  # C isspace() in the C locale
# Commands that open a node at the top level, and the sub-nodes of each.
_FRR_TOP_NODES = {"router", "route-map", "bfd", "interface", "vrf", "line", "key", "nexthop-group", "segment-routing", "pbr-map"}
_FRR_SUB_NODES = {"router": {"address-family", "vni", "segment-routing"}, "bfd": {"profile", "peer"}, "key": {"key"}}
_FRR_EXITS = {"exit", "exit-address-family", "exit-vrf", "exit-vni", "quit"}
_NAME_KINDS = ("route-map", "prefix-list", "filter-list", "distribute-list")


def _is_address(token):
    try:
        ipaddress.ip_address(token)
    except ValueError:
        return False
    return True


def _frr(text, substitutions):
    parsed = Parsed("frr")
    raw = []  # (context, tokens, line)
    context = []
    for number, line in enumerate(text.split("\n"), start=1):
        size = len(line.encode("utf-8", "surrogatepass"))
        if size > FRR_LINE_BYTES:
            parsed.problems.append(
                "line %d is %d bytes; FRR reads at most %d bytes of a line and runs the rest as another command" % (number, size, FRR_LINE_BYTES)
            )
        if "\0" in line:
            parsed.problems.append("line %d: NUL character (FRR stops reading the line there): %s" % (number, show(line)))
            line = line[: line.index("\0")]
        stripped = line.strip(" \t\v\f\r")
        if not stripped or stripped[0] in "!#":
            continue
        tokens = tuple(_substitute(t, substitutions) for t in _FRR_SPACE.split(stripped))
        if len(tokens) > FRR_MAX_WORDS:
            parsed.problems.append("line %d has %d words; FRR accepts at most %d" % (number, len(tokens), FRR_MAX_WORDS))
        word = tokens[0]
        if word in _FRR_EXITS:
            raw.append((tuple(context), tokens, number))
            if context:
                context.pop()
            continue
        if word == "end":
            raw.append((tuple(context), tokens, number))
            context = []
            continue
        parent = context[-1][0] if context else None
        if context and word in _FRR_SUB_NODES.get(context[0][0], ()) and len(context) == 1:
            raw.append((tuple(context), tokens, number))
            context.append(tokens)
        elif word in _FRR_TOP_NODES and not (parent and word in _FRR_SUB_NODES.get(parent, ())):
            # FRR leaves the current node for a command only the top level knows.
            context = []
            raw.append(((), tokens, number))
            context.append(tokens)
        else:
            raw.append((tuple(context), tokens, number))

    # Free text first, so that words inside it are never taken for names.
    raw = [(ctx, _frr_free_text(tokens), line) for ctx, tokens, line in raw]

    # Names derived from host names: route-maps (and prefix-lists...) a
    # neighbor *address* uses are named by that use; names a peer-group or
    # redistribute uses are the model's fixed names and stay.
    used, pinned = {}, set()
    for _ctx, tokens, _line in raw:
        if tokens[0] == "neighbor" and len(tokens) == 5 and tokens[2] in _NAME_KINDS and tokens[4] in ("in", "out"):
            key = (tokens[2], tokens[3])
            if _is_address(tokens[1]):
                used.setdefault(key, set()).add("%s %s" % (tokens[4], tokens[1]))
            else:
                pinned.add(key)
        elif tokens[0] != "match":  # matches are handled below, per route-map entry
            for index, token in enumerate(tokens[:-1]):
                defines = (tokens[0] == "route-map" and index == 0) or (tokens[0] in ("ip", "ipv6") and index == 1)
                if token in _NAME_KINDS and not defines:
                    pinned.add((token, tokens[index + 1]))
    renamed = {}
    for (kind, name), uses in used.items():
        if (kind, name) not in pinned:
            renamed[(kind, name)] = "<%s %s>" % (kind, ",".join(sorted(uses)))
    # Prefix-lists matched only by renamed route-maps: by those entries.
    matched = {}
    for ctx, tokens, _line in raw:
        if ctx and ctx[0][0] == "route-map" and len(ctx[0]) >= 4 and tokens[0] == "match" and "prefix-list" in tokens[:-1]:
            name = tokens[tokens.index("prefix-list") + 1]
            matched.setdefault(name, set()).add((ctx[0][1], ctx[0][3]))
    for name, entries in matched.items():
        if ("prefix-list", name) in used or ("prefix-list", name) in renamed:
            continue
        if all(("route-map", rm) in renamed for rm, _seq in entries):
            renamed[("prefix-list", name)] = "<prefix-list %s>" % ",".join(sorted("%s#%s" % (renamed[("route-map", rm)], seq) for rm, seq in entries))

    def rename(tokens):
        out = list(tokens)
        for index in range(len(out) - 1):
            kind = out[index]
            if kind in _NAME_KINDS and (kind, out[index + 1]) in renamed:
                out[index + 1] = renamed[(kind, out[index + 1])]
        return tuple(out)

    for ctx, tokens, line in raw:
        parsed.statements.append(Statement(tuple(rename(header) for header in ctx), rename(tokens), line))
    return parsed


def _frr_free_text(tokens):
    if tokens[0] == "hostname":
        return ("hostname", FREE_TEXT)
    if tokens[0] == "description":
        return ("description", FREE_TEXT)
    if tokens[0] == "neighbor" and len(tokens) >= 3 and tokens[2] == "description":
        return tokens[:3] + (FREE_TEXT,)
    return tokens


# Helpers for specific checks ---------------------------------------------------


def frr_route_map_entries(text):
    """{(route-map name, seq): [statement tokens]} of an FRR render (names as written)."""
    entries = {}
    current = None
    for line in text.split("\n"):
        stripped = line.strip(" \t\v\f\r")
        if not stripped or stripped[0] in "!#":
            continue
        tokens = tuple(_FRR_SPACE.split(stripped))
        if tokens[0] == "route-map" and len(tokens) >= 4:
            current = (tokens[1], tokens[3])
            entries.setdefault(current, [])
        elif tokens[0] in _FRR_TOP_NODES or tokens[0] in _FRR_EXITS or tokens[0] == "end":
            current = None
        elif current is not None:
            entries[current].append(tokens)
    return entries
