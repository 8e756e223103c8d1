# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks a role's file-bound variables on the controller (plugin_utils/model/role_inputs.py)."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.anycast.fabric.plugins.module_utils._schema import HIDDEN
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import role_inputs
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.fabric_read import evaluation_problem, plain
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.problems import Problems


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("role",))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        role = self._task.args.get("role")
        if role not in role_inputs.ROLES:
            return dict(result, failed=True, msg="role must be one of: %s" % ", ".join(sorted(role_inputs.ROLES)))
        host = task_vars.get("inventory_hostname", "?")
        problems = Problems()
        secrets = frozenset(d.name for d in role_inputs.ROLES[role] if getattr(d, "secret", False))
        checked = 0
        for declaration in role_inputs.ROLES[role]:
            if declaration.name not in task_vars:
                continue  # the role's default applies (declared in its defaults and argument spec)
            try:
                value = plain(self._templar.template(task_vars[declaration.name]))
            except Exception as exc:  # noqa: BLE001 - a broken template is a problem like any other, never a traceback
                evaluation_problem(problems, host, declaration.name, exc, secrets)
                continue
            checked += 1
            for suffix, shown, reason in role_inputs.check(declaration, value):
                problems.add(host, declaration.name + suffix, HIDDEN if declaration.name in secrets else shown, reason)
        if problems:
            lines = problems.messages()
            msg = "The %s role's variables have %d problem%s; nothing was changed on %s:\n  - %s" % (
                role,
                len(lines),
                "" if len(lines) == 1 else "s",
                host,
                "\n  - ".join(lines),
            )
            return dict(result, failed=True, msg=msg, problems=lines)
        return dict(result, changed=False, checked=checked)
