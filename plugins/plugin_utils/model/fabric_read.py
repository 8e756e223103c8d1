# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the fabric variables of every fabric host, for the controller-side actions.

Shared by anycast.fabric.fabric_facts and anycast.fabric.fabric_render, which
both validate the whole fabric (whatever --limit says: `groups` is never
limited) before doing anything.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any, TypeAlias

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.anycast.fabric.plugins.plugin_utils.model.hosts import ROLE_GROUPS
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.inputs import SECRET_KEY_RE
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import Intent
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.model import VARIABLES, build
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.problems import Problems, key_text, redact
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.schema import secret_variables

# A variable as plain() returns it: what YAML and JSON can hold.
Plain: TypeAlias = "dict[str, Plain] | list[Plain] | str | int | float | bool | None"
# Ansible's task variables and host variables: anything the inventory,
# facts and plays put there (values of any type, templated lazily).
TaskVars = Mapping[str, Any]

NO_HOSTS = (
    "No fabric host in the inventory: the groups fabric_nodes, fabric_tors and fabric_spines are missing or empty."
    " Check the -i path (ansible-inventory -i PATH --graph shows what Ansible read)."
)


class EvaluationError(Exception):
    """A value under PATH could not be templated; CAUSE is the original exception."""

    def __init__(self, path: str, cause: Exception) -> None:
        Exception.__init__(self, path)
        self.path = path
        self.cause = cause


def plain(value: object, path: str = "") -> Plain:
    """Deep copy into plain Python types, templating lazily held values on the way.

    A template that fails to evaluate raises EvaluationError with the path of
    the value that failed (``fabric_bgp.password``), so that a failure inside a
    secret is reported without Ansible's message.
    """
    try:
        if isinstance(value, dict):
            return {to_text(k): plain(v, "%s.%s" % (path, key_text(k))) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v, "%s[%d]" % (path, index)) for index, v in enumerate(value)]
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        text: str = to_text(value)  # ansible-core does not annotate to_text(); it returns a str
        return text
    except EvaluationError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a filter raises is reported, never a traceback
        raise EvaluationError(path, exc) from None


# The first line of Ansible's message for a failing plugin names the plugin,
# never a value: "The filter plugin 'ansible.builtin.items2dict' failed: ...".
_PLUGIN_RE = re.compile(r"\AThe (filter|lookup|test) plugin '([A-Za-z0-9_.]{1,200})' failed")


def failure_kind(exc: BaseException) -> str:
    """What kind of failure EXC is, in words that quote no value (for secrets)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    first = to_text(exc).splitlines()[0] if to_text(exc) else ""
    plugin = _PLUGIN_RE.match(first)
    if plugin:
        return "the %s %s failed" % (plugin.group(1), plugin.group(2))
    if "AnsibleUndefinedVariable" in names:
        return "it refers to an undefined variable or key"
    if names & {"TemplateSyntaxError", "AnsibleTemplateSyntaxError"}:
        return "its template has a syntax error"
    return "templating failed (%s)" % type(exc).__name__


def is_secret_path(path: str, secrets: Collection[str]) -> bool:
    """Whether PATH (``var.key[0]...``) lies under a secret variable or a key that names a secret."""
    var = re.split(r"[.\[]", path, maxsplit=1)[0]
    return var in secrets or bool(SECRET_KEY_RE.search(path[len(var):]))


def evaluation_problem(problems: Problems, name: str, var: str, exc: Exception, secrets: Collection[str], hide: bool = False) -> None:
    """Record that VAR of host NAME cannot be evaluated, hiding Ansible's text for secrets (or always: HIDE)."""
    path = var + (exc.path if isinstance(exc, EvaluationError) else "")
    cause = exc.cause if isinstance(exc, EvaluationError) else exc
    if hide or is_secret_path(path, secrets):
        # Ansible's message may quote the value (items2dict, human_to_bytes,
        # to_datetime... print their input): say where and what kind only.
        message = "cannot be evaluated: %s (Ansible's message is not shown: it may quote the secret)" % failure_kind(cause)
    else:
        text = to_text(cause)
        message = "cannot be evaluated: %s" % (text.splitlines()[0] if text else type(cause).__name__)
    problems.add(name, path, "<template>", message)


def fabric_groups(task_vars: TaskVars) -> dict[str, list[str]]:
    """{group: [hosts]} of the fabric groups (absent groups are empty)."""
    all_groups = task_vars.get("groups") or {}
    return {group: list(all_groups.get(group, None) or []) for group, _role in ROLE_GROUPS}


def read_host(all_hostvars: TaskVars, name: str, problems: Problems, extra: Iterable[str] = ()) -> dict[str, Plain]:
    """The fabric VARIABLES (and EXTRA) of host NAME, templated, as plain data."""
    variables: dict[str, Plain] = {}
    host = all_hostvars[name]
    secrets = secret_variables()
    failures: list[tuple[str, Exception]] = []
    # Secrets first: when one fails, any other variable that reads it fails
    # too, with Ansible's text about the secret's input.
    for var in sorted(tuple(VARIABLES) + tuple(extra), key=lambda v: v not in secrets):
        try:
            if var in host:
                variables[var] = plain(host[var])
        except Exception as exc:  # noqa: BLE001 - an undefined or broken template: report it with the rest
            failures.append((var, exc))
    # A host whose secret failed shows no Ansible message at all: another
    # variable's failure may be that same failure, quoting the same input.
    secret_failed = any(is_secret_path(var + (failure.path if isinstance(failure, EvaluationError) else ""), secrets) for var, failure in failures)
    for var, failure in failures:
        evaluation_problem(problems, name, var, failure, secrets, hide=secret_failed)
    return variables


def known_secrets(hostvars: Mapping[str, Mapping[str, Plain]]) -> set[str]:
    """The secret values that did evaluate (fabric_bgp.password of every host): never to be shown."""
    found: set[str] = set()
    for variables in hostvars.values():
        bgp = variables.get("fabric_bgp")
        password = bgp.get("password") if isinstance(bgp, dict) else None
        if isinstance(password, str) and len(password) >= MIN_REDACTED:
            found.add(password)
    return found


# Secrets shorter than this are not searched for in messages: a key of one
# or two characters would blank every report (and protects nothing).
MIN_REDACTED = 3


def problems_message(problems: Problems, what: str = "nothing was rendered or applied", secrets: Collection[str] = ()) -> str:
    lines = [redact(line, secrets) for line in problems.messages()]
    return "The fabric inventory has %d problem%s; %s:\n  - %s" % (len(lines), "" if len(lines) == 1 else "s", what, "\n  - ".join(lines))


def model(
    task_vars: TaskVars, extra: Iterable[str] = ()
) -> tuple[dict[str, Intent], dict[str, dict[str, Plain]], dict[str, list[str]], str | None]:
    """(intents, hostvars, groups, error message or None) for the whole fabric."""
    groups = fabric_groups(task_vars)
    names = sorted({h for members in groups.values() for h in members})
    if not names:
        return {}, {}, groups, NO_HOSTS
    problems = Problems()
    hostvars: dict[str, dict[str, Plain]] = {}
    for name in names:
        hostvars[name] = read_host(task_vars["hostvars"], name, problems, extra)
    # From here on, no problem shows a key that evaluated on some host (a
    # template of another variable that quotes it, a value cut mid-key).
    secrets = known_secrets(hostvars)
    problems.secrets = frozenset(secrets)
    intents, problems = build(hostvars, groups, problems)
    if problems:
        # And the whole report once more, lines from before the keys were known included.
        return {}, hostvars, groups, problems_message(problems, secrets=secrets)
    return intents, hostvars, groups, None
