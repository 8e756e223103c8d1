# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of the collection's controller-side actions that work on the whole fabric at once.

Such an action (fabric_render, fabric_document, fabric_verify) never connects
to a host and must run once per play (`run_once: true`): run once per host, it
would do the fabric's work again for every host and repeat every error.
"""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase


class FabricAction(ActionBase):
    """Checks the arguments against ARGUMENT_SPEC and `run_once`, then calls run_fabric()."""

    TRANSFERS_FILES = False
    _requires_connection = False
    NAME = ""  # the action's name, for messages: anycast.fabric.NAME
    ONCE = ""  # why it runs once: "it ... at once"
    ARGUMENT_SPEC: dict[str, dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._VALID_ARGS = frozenset(cls.ARGUMENT_SPEC)

    def run(self, tmp: Any = None, task_vars: Any = None) -> dict[str, Any]:
        result: dict[str, Any] = super().run(tmp, task_vars)
        # ansible-core's validate_argument_spec() has no annotations.
        _validation, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)  # type: ignore[no-untyped-call]
        if not self._task.run_once:
            return dict(result, failed=True, msg="anycast.fabric.%s must run with 'run_once: true'; %s" % (self.NAME, self.ONCE))
        return self.run_fabric(result, args, task_vars or {})

    def run_fabric(self, result: dict[str, Any], args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError
