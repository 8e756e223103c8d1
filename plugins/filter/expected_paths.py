# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that derive the expected live state and the rollout order from intents."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import IntentError, as_intent, as_intents
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops.rollout import expected_paths, rollout


def _expected_paths(intent, intents=None, drained=()):
    if not isinstance(intent, dict) or "role" not in intent:
        raise AnsibleFilterError("anycast.fabric.expected_paths expects a host intent (fabric_intent)")
    if drained and intents is None:
        raise AnsibleFilterError("anycast.fabric.expected_paths: with drained nodes, pass intents (every host's intent) too")
    try:
        return expected_paths(as_intent(intent), intents=None if intents is None else as_intents(intents), drained=drained)
    except IntentError as exc:
        raise AnsibleFilterError("anycast.fabric.expected_paths: %s" % exc) from None


def _rollout(intents, role="node"):
    if not isinstance(intents, dict):
        raise AnsibleFilterError("anycast.fabric.rollout expects the mapping of every host's intent")
    try:
        return rollout(as_intents(intents), role)
    except IntentError as exc:
        raise AnsibleFilterError("anycast.fabric.rollout: %s" % exc) from None


class FilterModule:
    def filters(self):
        return {"expected_paths": _expected_paths, "rollout": _rollout}
