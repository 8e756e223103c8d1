# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters behind the zero-reset drain (fabric_drain_mode: keep; module drain_keep)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.anycast.fabric.plugins.plugin_utils.run import fabric_run


def _node(intents, host, name):
    if not isinstance(intents, dict) or host not in intents or not isinstance(intents[host], dict):
        raise AnsibleFilterError("anycast.fabric.%s: %s has no intent (expects the mapping of every host's intent)" % (name, host))
    return intents[host]


def drain_keep_peers(intents, host):
    """HOST's rack-mates (nodes of its site and rack, not HOST), by name: [{name, ipv4, ipv6}] (addresses without length).

    The same list as the fabric_data lookup's rack_mates (fabric_run.rack_mates, the one definition), from intents in hand.
    """
    _node(intents, host, "drain_keep_peers")
    return fabric_run.rack_mates(intents).get(host, [])


def drain_keep_conflicts(intents, states, targets, out=None):
    """Why TARGETS cannot all drain in keep mode now: one keep drain per rack at a time (messages; empty when fine).

    STATES: per node a dict with the key state (drain_state: in_service, draining, drained); a node missing is in service.
    OUT: nodes taken out of service earlier in this run (their STATES are from before it).
    """
    states = states or {}
    gone = set(targets) | set(out or [])
    problems = []
    seen = {}
    for target in targets:
        me = _node(intents, target, "drain_keep_conflicts")
        rack = (me.get("site"), me.get("rack"))
        if me.get("rack") in (None, ""):
            problems.append("%s has no rack (fabric_rack): keep mode needs rack-mates on its segment" % target)
            continue
        if rack in seen:
            problems.append("%s and %s are in the same rack %s/%s: keep mode drains one node per rack at a time"
                            " (-e fabric_drain_serial=1, or drain them one after the other)" % (seen[rack], target, rack[0], rack[1]))
            continue
        seen[rack] = target
        mates = drain_keep_peers(intents, target)
        busy = [m["name"] for m in mates if (states.get(m["name"]) or {}).get("state") == "draining"]
        if busy:
            problems.append("%s's rack-mate %s is draining: keep mode drains one node per rack at a time (finish or undrain %s first)"
                            % (target, ", ".join(busy), ", ".join(busy)))
        serving = [m["name"] for m in mates if (states.get(m["name"]) or {}).get("state", "in_service") == "in_service"
                   and m["name"] not in gone]
        if not serving:
            problems.append("%s has no rack-mate in service to take its flows: keep mode needs one" % target)
    return problems


class FilterModule:
    def filters(self):
        return {"drain_keep_peers": drain_keep_peers, "drain_keep_conflicts": drain_keep_conflicts}
