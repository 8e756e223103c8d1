# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters behind the plan playbook (see plugin_utils/ops/plan.py)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import IntentError, as_intents
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops import plan


def plan_report(intents, observed, hosts=None):
    if not isinstance(intents, dict) or not isinstance(observed, dict):
        raise AnsibleFilterError("anycast.fabric.plan_report expects every host's intent and the per-host check-mode results")
    try:
        return plan.build(as_intents(intents), observed, None if hosts is None else [str(h) for h in hosts])
    except IntentError as exc:
        raise AnsibleFilterError("anycast.fabric.plan_report: %s" % exc) from None
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError("anycast.fabric.plan_report: malformed input (%s)" % exc) from exc


def plan_markdown(report, title="anycast.fabric plan", picture=None):
    if not isinstance(report, dict) or report.get("schema") != plan.PLAN_SCHEMA:
        raise AnsibleFilterError("anycast.fabric.plan_markdown expects the output of anycast.fabric.plan_report")
    return plan.markdown(report, title=title, picture=picture or None)


def plan_picture(report, intents):
    """The topology picture with what the change touches marked, as SVG text ('' without changes or without Graphviz)."""
    if not isinstance(report, dict) or report.get("schema") != plan.PLAN_SCHEMA or not isinstance(intents, dict):
        raise AnsibleFilterError("anycast.fabric.plan_picture expects the output of anycast.fabric.plan_report and every host's intent")
    try:
        return plan.picture(report, intents) or ""
    except IntentError as exc:
        raise AnsibleFilterError("anycast.fabric.plan_picture: %s" % exc) from None


class FilterModule:
    def filters(self):
        return {"plan_report": plan_report, "plan_markdown": plan_markdown, "plan_picture": plan_picture}
