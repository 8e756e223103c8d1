# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validates the whole fabric and writes its documentation (tables, Markdown, topology picture) to a folder.

Runs on the controller only, in one task: no per-host task, no fact.
"""

from __future__ import annotations

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.anycast.fabric.plugins.plugin_utils.run.controller import FabricAction
from ansible_collections.anycast.fabric.plugins.plugin_utils.document import documents, write
from ansible_collections.anycast.fabric.plugins.plugin_utils.document.topology import Limits
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import fabric_read
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import as_intents
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render_tree

ARGUMENT_SPEC = {
    "dest": {"type": "str", "required": True},
    "picture": {"type": "bool", "default": True},
    "collapse_rack_nodes": {"type": "int", "default": Limits().rack_nodes},
    "collapse_site_racks": {"type": "int", "default": Limits().site_racks},
}


class ActionModule(FabricAction):
    NAME = "fabric_document"
    ONCE = "it documents the whole fabric at once"
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run_fabric(self, result, args, task_vars):
        if not args["dest"]:
            return dict(result, failed=True, msg="Set fabric_docs_dir (dest), e.g. -e fabric_docs_dir=./fabric-docs")
        if args["collapse_rack_nodes"] < 1 or args["collapse_site_racks"] < 1:
            return dict(result, failed=True, msg="collapse_rack_nodes and collapse_site_racks must be at least 1")

        # The whole fabric, whatever --limit says: the documentation is of the fabric.
        intents, _hostvars, _groups, error = fabric_read.model(task_vars)
        if error:
            return dict(result, failed=True, msg=error)
        limits = Limits(rack_nodes=args["collapse_rack_nodes"], site_racks=args["collapse_site_racks"])
        made = documents.generate(as_intents(intents), limits, picture=args["picture"])

        # Relative to the directory ansible-playbook runs in (never the playbook's).
        dest = render_tree.resolve(args["dest"])
        # A picture that could not be drawn this time must not stay beside the new tables.
        remove = [name for name in made.skipped if name in documents.MACHINE_DEPENDENT]
        changed = write.changes(dest, made.files, remove)
        warnings = list(made.warnings)
        result.update(
            changed=bool(changed),
            dest=dest,
            files=sorted(made.files),
            files_changed=changed,
            hosts=len(intents),
            sessions=len(made.layout.sessions),
            collapsed=list(made.layout.notes),
            picture="topology.svg" in made.files,
        )
        if warnings:
            result["warnings"] = warnings
        if changed and not self._task.check_mode:
            try:
                result["dest"] = write.write_files(dest, made.files, remove)
            except write.WriteError as exc:
                return dict(result, changed=False, failed=True, msg=to_text(exc))
        return result
