# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validates the whole fabric from the inventory and computes every host's intent.

Runs on the controller only: it reads host variables, never a host.
"""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.anycast.fabric.plugins.plugin_utils.hosts import ROLE_GROUPS
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import VARIABLES, build
from ansible_collections.anycast.fabric.plugins.plugin_utils.problems import Problems


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


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset()

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if not self._task.run_once:
            # Every host would validate the whole fabric again and repeat
            # every error; once per play is the contract.
            msg = "anycast.fabric.fabric_facts must run with 'run_once: true'; it computes the intent of every fabric host at once"
            return dict(result, failed=True, msg=msg)

        groups = {group: list(task_vars["groups"].get(group, [])) for group, _role in ROLE_GROUPS}
        problems = Problems()
        hostvars = {}
        for name in sorted({h for members in groups.values() for h in members}):
            hostvars[name] = self._read_host(task_vars["hostvars"], name, problems)

        intents, problems = build(hostvars, groups, problems)
        if problems:
            lines = problems.messages()
            return dict(
                result,
                failed=True,
                msg="The fabric inventory has %d problem%s; nothing was rendered or applied:\n  - %s"
                % (len(lines), "" if len(lines) == 1 else "s", "\n  - ".join(lines)),
            )

        roles = {role: len(groups[group]) for group, role in ROLE_GROUPS}
        result.update(changed=False, ansible_facts={"fabric_intents": intents}, hosts=len(intents), roles=roles)
        return result

    @staticmethod
    def _read_host(all_hostvars, name, problems):
        variables = {}
        host = all_hostvars[name]
        for var in VARIABLES:
            try:
                if var in host:
                    variables[var] = plain(host[var])
            except AnsibleError as exc:
                # An undefined or broken template: report it with the rest.
                problems.add(name, var, "<template>", "cannot be evaluated: %s" % to_text(exc).splitlines()[0])
        return variables
