# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes verify's reports (junit.xml, report.md, state.svg) from what every host read back, and fails on a mismatch.

Runs once, on the controller: it reads each verified host's registered
bgp_info result and drain state from the play's variables, the intents and
expected paths from the run folder, and compares them (plugin_utils/ops/verify.py).
"""

from __future__ import annotations

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.anycast.fabric.plugins.plugin_utils.run.controller import FabricAction
from ansible_collections.anycast.fabric.plugins.plugin_utils.document import write
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import IntentError, as_intents
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops import verify
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops.rollout import ROUTERS
from ansible_collections.anycast.fabric.plugins.plugin_utils.render.render_tree import resolve
from ansible_collections.anycast.fabric.plugins.plugin_utils.run import fabric_run

ARGUMENT_SPEC = {
    "dest": {"type": "str", "default": "verify"},
    "hosts": {"type": "list", "elements": "str", "required": True},
    "results": {"type": "str", "default": "verify_bgp"},
    "drain": {"type": "str", "default": "verify_drain"},
    "picture": {"type": "bool", "default": True},
    "fail": {"type": "bool", "default": True},
}


class ActionModule(FabricAction):
    NAME = "fabric_verify"
    ONCE = "it reports on every verified host at once"
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run_fabric(self, result, args, task_vars):
        hostvars = task_vars.get("hostvars") or {}
        try:
            run = fabric_run.find_run(task_vars)
            every = as_intents(fabric_run.intents(run))
        except (fabric_run.RunError, IntentError) as exc:
            return dict(result, failed=True, msg="anycast.fabric.fabric_verify: %s" % to_text(exc))
        names = sorted(set(args["hosts"]) & set(every))
        intents = {name: every[name] for name in names}
        observed = {}
        for name in names:
            variables = hostvars.get(name) or {}
            bgp = variables.get(args["results"])
            drain = variables.get(args["drain"])
            error = None
            # The playbook registers bgp_info with failed_when: false, so a
            # result without sessions (its daemon not running, a skipped
            # task) says why only in its message.
            if isinstance(bgp, dict) and not isinstance(bgp.get("sessions"), list):
                why = to_text(bgp.get("msg") or ("skipped" if bgp.get("skipped") else "no BGP state was read"))
                error = ("unreachable: " + why) if bgp.get("unreachable") else why
            observed[name] = {
                "bgp": bgp if isinstance(bgp, dict) else None,
                "error": error,
                "drain": drain.get("state") if isinstance(drain, dict) else None,
            }
        drained = sorted(n for n, seen in observed.items() if seen["drain"] not in (None, "in_service"))
        expected = {name: fabric_run.expected_paths(run, name, drained) for name in names if intents[name].role in ROUTERS}
        cases = verify.cases(intents, expected, observed)
        report = verify.summary(cases)
        files = {
            "junit.xml": verify.junit(cases),
            "report.json": verify.json_report(cases),
        }
        remove = []
        source = picture = warning = None
        if args["picture"]:
            source, picture, warning = verify.state_picture(cases, intents)
        # A picture of an older state must not stay beside the new reports.
        for name, text in (("state.dot", source), ("state.svg", picture)):
            if text is None:
                remove.append(name)
            else:
                files[name] = text
        files["report.md"] = verify.markdown(cases, picture="state.svg" if picture else None)
        dest = resolve(args["dest"])
        changed = write.changes(dest, files, remove)
        result.update(changed=bool(changed), dest=dest, files=sorted(files), report=report)
        if warning:
            result["warnings"] = [warning]
        if changed and not self._task.check_mode:
            try:
                result["dest"] = write.write_files(dest, files, remove)
            except write.WriteError as exc:
                return dict(result, changed=False, failed=True, msg=to_text(exc))
        if report["failures"] and args["fail"]:
            shown = report["failed"][:20]
            more = "" if len(report["failed"]) <= 20 else "; and %d more" % (len(report["failed"]) - 20)
            result.update(failed=True, msg="%d of %d checks differ from the intent (report: %s/report.md): %s%s" % (
                report["failures"], report["cases"], result["dest"], "; ".join(shown), more))
        return result
