# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters behind the drain and undrain playbooks (see plugin_utils/ops/drain.py)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import IntentError, as_intents
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops import drain


def _intents(value, name):
    if not isinstance(value, dict) or not all(isinstance(i, dict) and "role" in i for i in value.values()):
        raise AnsibleFilterError("anycast.fabric.%s expects the mapping of every host's intent" % name)
    try:
        return as_intents(value)
    except IntentError as exc:
        raise AnsibleFilterError("anycast.fabric.%s: %s" % (name, exc)) from None


def drain_check(intents, states, targets):
    return drain.drain_check(_intents(intents, "drain_check"), states or {}, list(targets))


def drain_waits(intents, states, targets):
    return drain.drain_waits(_intents(intents, "drain_waits"), states or {}, list(targets))


def undrain_waits(intents, node, present):
    intents = _intents(intents, "undrain_waits")
    if node not in intents:
        raise AnsibleFilterError("anycast.fabric.undrain_waits: %s has no intent" % node)
    return drain.undrain_waits(intents, node, list(present))


class FilterModule:
    def filters(self):
        return {"drain_check": drain_check, "drain_waits": drain_waits, "undrain_waits": undrain_waits}
