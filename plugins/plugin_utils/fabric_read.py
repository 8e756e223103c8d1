# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the fabric variables of every fabric host, for the controller-side actions.

Shared by anycast.fabric.fabric_facts and anycast.fabric.fabric_render, which
both validate the whole fabric (whatever --limit says: `groups` is never
limited) before doing anything.
"""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.anycast.fabric.plugins.plugin_utils.hosts import ROLE_GROUPS
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import VARIABLES, build
from ansible_collections.anycast.fabric.plugins.plugin_utils.problems import Problems

NO_HOSTS = (
    "No fabric host in the inventory: the groups fabric_nodes, fabric_tors and fabric_spines are missing or empty."
    " Check the -i path (ansible-inventory -i PATH --graph shows what Ansible read)."
)


def plain(value):
    """Deep copy into plain Python types, templating lazily held values on the way."""
    if isinstance(value, dict):
        return {to_text(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return to_text(value)


def fabric_groups(task_vars):
    """{group: [hosts]} of the fabric groups (absent groups are empty)."""
    all_groups = task_vars.get("groups") or {}
    return {group: list(all_groups.get(group, None) or []) for group, _role in ROLE_GROUPS}


def read_host(all_hostvars, name, problems, extra=()):
    """The fabric VARIABLES (and EXTRA) of host NAME, templated, as plain data."""
    variables = {}
    host = all_hostvars[name]
    for var in tuple(VARIABLES) + tuple(extra):
        try:
            if var in host:
                variables[var] = plain(host[var])
        except AnsibleError as exc:
            # An undefined or broken template: report it with the rest.
            problems.add(name, var, "<template>", "cannot be evaluated: %s" % to_text(exc).splitlines()[0])
    return variables


def problems_message(problems, what="nothing was rendered or applied"):
    lines = problems.messages()
    return "The fabric inventory has %d problem%s; %s:\n  - %s" % (len(lines), "" if len(lines) == 1 else "s", what, "\n  - ".join(lines))


def model(task_vars, extra=()):
    """(intents, hostvars, groups, error message or None) for the whole fabric."""
    groups = fabric_groups(task_vars)
    names = sorted({h for members in groups.values() for h in members})
    if not names:
        return {}, {}, groups, NO_HOSTS
    problems = Problems()
    hostvars = {}
    for name in names:
        hostvars[name] = read_host(task_vars["hostvars"], name, problems, extra)
    intents, problems = build(hostvars, groups, problems)
    if problems:
        return {}, hostvars, groups, problems_message(problems)
    return intents, hostvars, groups, None
