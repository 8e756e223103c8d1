# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validates the whole fabric and renders every (or every limited) host's configuration to a folder.

Runs on the controller only, in one task: no per-host task, no fact.
"""

from __future__ import annotations

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.anycast.fabric.plugins.plugin_utils.run.controller import FabricAction
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import fabric_read
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render_tree
from ansible_collections.anycast.fabric.plugins.plugin_utils.render.render import RenderError, rendered_files

ARGUMENT_SPEC = {
    "dest": {"type": "str", "required": True},
    "hosts": {"type": "list", "elements": "str"},
}


class ActionModule(FabricAction):
    NAME = "fabric_render"
    ONCE = "it renders every fabric host at once"
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run_fabric(self, result, args, task_vars):
        if not args["dest"]:
            return dict(result, failed=True, msg="Set fabric_render_dir (dest), e.g. -e fabric_render_dir=./rendered")

        # The whole fabric is validated, whatever --limit says.
        intents, hostvars, _groups, error = fabric_read.model(task_vars)
        if error:
            return dict(result, failed=True, msg=error)
        selected = sorted(intents) if args["hosts"] is None else sorted(set(args["hosts"]) & set(intents))
        if not selected:
            msg = "No fabric host matched: the hosts given (e.g. by --limit %s) are in none of fabric_nodes, fabric_tors, fabric_spines" % (
                task_vars.get("ansible_limit") or "",
            )
            return dict(result, failed=True, msg=msg)

        # Relative to the directory ansible-playbook runs in (never the playbook's).
        dest = render_tree.resolve(args["dest"])
        rendered = {}
        try:
            for name in selected:
                password = (hostvars[name].get("fabric_bgp") or {}).get("password")
                rendered[name] = rendered_files(intents[name], password=password)
        except (RenderError, KeyError, TypeError) as exc:
            return dict(result, failed=True, msg="Rendering failed, nothing was written: %s" % to_text(exc))

        changed = sorted(name for name, files in rendered.items() if not render_tree.unchanged(dest, name, files))
        result.update(changed=bool(changed), dest=dest, hosts=len(selected), hosts_changed=changed)
        if changed and not self._task.check_mode:
            try:
                result["dest"] = render_tree.write_tree(dest, rendered)
            except render_tree.TreeError as exc:
                return dict(result, changed=False, failed=True, msg=to_text(exc))
        return result
