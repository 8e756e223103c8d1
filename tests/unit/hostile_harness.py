# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the hostile-input tests (issue 12) demand of one inventory, shared by the table and the property test.

An inventory is either refused cleanly or rendered faithfully:

- refused: model.build() returns problems without raising; every problem is
  one line (no newline, carriage return or other control character), names a
  host and a variable path, and shows no secret (the fabric's BGP password,
  or a secret-looking value the case planted);
- rendered: every host's file renders, is valid UTF-8, passes its daemon's
  own parser (`bird -p`, `vtysh -C`), contains nothing its daemon would
  misread (config_statements), and has exactly the statements of the same
  fabric with plain names, except free text and identifiers derived from
  names; every accepted host name can be a folder of the render directory.
"""

from __future__ import annotations

import copy
import hashlib
import json
import traceback
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render
from conftest import parse_config

import config_statements
from config_statements import show

PASSWORD = "s3cret-md5"  # fabric_factory's fabric_bgp.password
NAME_MAX_BYTES = 255  # a host name is a folder under fabric_render_dir (NAME_MAX)


@dataclass
class Scenario:
    """One inventory to try, and what to compare its render with."""

    hostile: tuple  # (hostvars, groups)
    plain: Optional[tuple] = None  # the same fabric with plain names; None: nothing to compare with
    host_map: dict = field(default_factory=dict)  # hostile host name -> plain host name
    substitutions: dict = field(default_factory=dict)  # plain token -> hostile token, applied to the plain render
    secrets: tuple = ()  # values no problem line may show
    password: Optional[str] = PASSWORD
    password_is_secret: bool = True  # False: a drawn password that may occur elsewhere in the inventory
    check: Optional[Callable] = None  # extra check of {host: Rendered} -> [failure]
    check_intents: Optional[Callable] = None  # extra check of the intents -> [failure]


@dataclass
class Rendered:
    host: str
    daemon: str
    filename: str
    text: str


class Outcome:
    def __init__(self):
        self.refused = False
        self.crashed = False
        self.problems = []
        self.failures = []


def build(fabric):
    """model.build() on a copy; (intents, problems) or raises AssertionError with the traceback."""
    hosts, groups = copy.deepcopy(fabric)
    try:
        return model.build(hosts, groups)
    except Exception:  # noqa: BLE001 - any exception is the finding
        raise AssertionError("model.build() raised instead of reporting a problem:\n%s" % traceback.format_exc(limit=6)) from None


def _forms(text):
    """The ways a message may show TEXT: raw or escaped."""
    forms = {text, show(text), repr(text)[1:-1], json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]}
    try:
        forms.add(text.encode("unicode_escape").decode("ascii"))
    except UnicodeError:
        pass
    return {f for f in forms if f}


def names(problem, line, host, path):
    """Does PROBLEM name HOST (None: any) and a path starting with PATH?"""
    if host is not None:
        host_field = str(getattr(problem, "host", ""))
        forms = _forms(host)
        if host_field not in forms and not any(f in line for f in forms) and not any(len(f) > 24 and f[:24] in line for f in forms):
            return False
    got = str(getattr(problem, "path", ""))
    return any(got.startswith(form) for form in _forms(path)) if path else True


def refusal_failures(problems, blame=(), secrets=(), empty_host_name=False):
    """What is wrong with a refusal (empty when it is clean).

    empty_host_name: the inventory has a host named '' (a problem about it
    names it by its empty name).
    """
    failures = []
    lines = []
    for problem in problems:
        try:
            line = str(problem)
        except Exception as exc:  # noqa: BLE001
            failures.append("str() of a problem raised %s: %s" % (type(exc).__name__, show(str(exc))[:200]))
            continue
        lines.append((problem, line))
        shown = show(line)[:400]
        if len(line.splitlines()) != 1 or "\n" in line or "\r" in line:
            failures.append("problem is not ONE line (raw newline/line separator in it): %s" % shown)
        elif any(unicodedata.category(c) == "Cc" for c in line):
            failures.append("problem shows a raw control character: %s" % shown)
        for secret in secrets:
            if secret and secret in line:
                failures.append("problem shows a secret (%d chars, masked here): %s" % (len(secret), shown.replace(show(secret), "<SECRET>")))
        if "Traceback" in line:
            failures.append("problem carries a traceback: %s" % shown)
        if not isinstance(getattr(problem, "host", None), str) or not (problem.host or empty_host_name) or not str(getattr(problem, "path", "")):
            failures.append("problem names no host or no variable path: %s" % shown)
    if blame and lines and not any(names(p, line, host, path) for p, line in lines for host, path in blame):
        wanted = " or ".join("%s %s" % ("any host" if h is None else show(h), show(p) or "(any path)") for h, p in blame)
        failures.append("no problem names %s; problems were:\n      %s" % (wanted, "\n      ".join(show(line)[:300] for _p, line in lines)))
    return failures


def host_name_failures(name):
    """An accepted host name must be usable as <render_dir>/<host>/ (never a way out of it)."""
    if not isinstance(name, str):
        return ["host name %r is not a string" % (name,)]
    why = []
    if name in ("", ".", "..") or "/" in name or "\0" in name:
        why.append("it is empty, '.', '..' or contains '/' or NUL: <render_dir>/<host>/ would leave or break the render folder")
    try:
        if len(name.encode("utf-8")) > NAME_MAX_BYTES:
            why.append("it is longer than %d bytes (NAME_MAX): <render_dir>/<host>/ cannot be created" % NAME_MAX_BYTES)
    except UnicodeEncodeError:
        why.append("it is not valid UTF-8 (lone surrogate): no file can be named after it")
    return ["host name %s was accepted but %s" % (show(name)[:120], w) for w in why]


_PARSED = {}


def real_parser(tmp_dir, rendered):
    """(ok, output) of the daemon's own parser, cached by content."""
    key = (rendered.filename, hashlib.sha256(rendered.text.encode("utf-8", "surrogatepass")).hexdigest())
    if key not in _PARSED:
        folder = Path(tmp_dir) / ("p%d" % len(_PARSED))  # never a host name: those are under test
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / rendered.filename
        path.write_bytes(rendered.text.encode("utf-8"))
        _PARSED[key] = parse_config(path)
    return _PARSED[key]


def render_all(intents, password):
    out, failures = {}, []
    for host, intent in intents.items():
        try:
            text = render.render(intent, password=password if intent.bgp.password else None)
        except Exception as exc:  # noqa: BLE001
            failures.append("%s: the model accepted the inventory but render() raised %s: %s" % (show(host), type(exc).__name__, show(str(exc))[:300]))
            continue
        out[host] = Rendered(host, intent.daemon, render.config_filename(intent), text)
    return out, failures


_PLAIN = {}


def plain_renders(fabric, password):
    key = json.dumps(fabric, sort_keys=True, default=str) + repr(password)
    if key not in _PLAIN:
        intents, problems = build(fabric)
        assert not problems, "test bug: the plain fabric is refused: %s" % problems.messages()
        texts, failures = render_all(intents, password)
        assert not failures, "test bug: the plain fabric does not render: %s" % failures
        _PLAIN[key] = texts
    return _PLAIN[key]


def rendering_failures(intents, scenario, tmp_dir):
    failures = []
    for name in intents:
        failures += host_name_failures(name)
    if scenario.check_intents:
        failures += scenario.check_intents(intents)
    texts, render_failures = render_all(intents, scenario.password)
    failures += render_failures
    for host, rendered in texts.items():
        try:
            rendered.text.encode("utf-8")
        except UnicodeEncodeError as exc:
            failures.append("%s: the rendered %s is not valid UTF-8 (%s): no file can hold it" % (show(host), rendered.filename, exc.reason))
            rendered.text = rendered.text.encode("utf-8", "backslashreplace").decode("utf-8")
    # The statement checker first (cheap, and the clearest message), then the daemons.
    if scenario.plain is not None:
        plain = plain_renders(scenario.plain, scenario.password)
        expected_hosts = {scenario.host_map.get(h, h) for h in texts}
        if expected_hosts != set(plain) and not render_failures:
            failures.append("hosts rendered %s, plain fabric %s" % (sorted(show(h) for h in expected_hosts), sorted(plain)))
        for host, rendered in sorted(texts.items(), key=lambda kv: show(kv[0])):
            twin = plain.get(scenario.host_map.get(host, host))
            if twin is None:
                continue
            if twin.daemon != rendered.daemon:
                failures.append("%s: daemon %s, plain twin %s" % (show(host), rendered.daemon, twin.daemon))
                continue
            for line in config_statements.compare(rendered.text, twin.text, rendered.daemon, scenario.substitutions):
                failures.append("%s (%s): %s" % (show(host)[:80], rendered.filename, line))
    else:
        for host, rendered in texts.items():
            for problem in config_statements.parse(rendered.text, rendered.daemon).problems:
                failures.append("%s (%s): the daemon would misread the render: %s" % (show(host)[:80], rendered.filename, problem))
    for host, rendered in sorted(texts.items(), key=lambda kv: show(kv[0])):
        ok, output = real_parser(tmp_dir, rendered)
        if not ok:
            failures.append("%s: %s rejected by its daemon's parser: %s" % (show(host)[:80], rendered.filename, show(output)[-400:]))
    if scenario.check:
        failures += scenario.check(texts)
    return failures


def judge(scenario, tmp_dir, expect="either", blame=()):
    """Try SCENARIO; return an Outcome whose failures say what is wrong (empty: all good).

    expect: "refuse" (a clean refusal naming one of BLAME is required),
    "render" (the inventory is valid and must render faithfully) or
    "either" (a clean refusal or a faithful render).
    """
    outcome = Outcome()
    try:
        intents, problems = build(scenario.hostile)
    except AssertionError as exc:
        outcome.crashed = True
        outcome.failures.append(str(exc))
        return outcome
    secrets = tuple(scenario.secrets) + ((scenario.password,) if scenario.password and scenario.password_is_secret else ())
    if problems:
        outcome.refused = True
        outcome.problems = list(problems)
        if expect == "render":
            outcome.failures.append("refused a valid inventory: %s" % " | ".join(show(str(p))[:300] for p in problems))
        empty = "" in scenario.hostile[0] or any("" in (members or []) for members in scenario.hostile[1].values())
        outcome.failures += refusal_failures(problems, blame if expect != "render" else (), secrets, empty_host_name=empty)
        return outcome
    if expect == "refuse":
        wanted = " or ".join("%s %s" % ("any host" if h is None else show(h), show(p)) for h, p in blame) or "a problem"
        outcome.failures.append("ACCEPTED; expected a refusal naming %s" % wanted)
    outcome.failures += rendering_failures(intents, scenario, tmp_dir)
    return outcome
