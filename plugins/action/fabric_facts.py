# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validates the whole fabric from the inventory and computes every host's intent.

Runs on the controller only: it reads host variables, never a host. The
intents go to a run folder (plugin_utils/run/fabric_run.py); the only fact is
that folder's path, so no host's facts grow with the fabric.
"""

from __future__ import annotations

from ansible import constants as C
from ansible.plugins.action import ActionBase

from ansible_collections.anycast.fabric.plugins.plugin_utils.model import fabric_read
from ansible_collections.anycast.fabric.plugins.plugin_utils.run import fabric_run


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

        intents, _hostvars, _groups, error = fabric_read.model(task_vars)
        if error:
            return dict(result, failed=True, msg=error)
        run = fabric_run.write_run(intents, C.DEFAULT_LOCAL_TMP)
        roles = dict((role, sum(1 for i in intents.values() if i.role == role)) for role in fabric_run.ROLES)
        result.update(changed=False, ansible_facts={"fabric_run": run}, hosts=len(intents), roles=roles)
        return result
