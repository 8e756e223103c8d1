# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the live fabric should look like, and in which order to change it, derived from intents."""

from __future__ import annotations

from collections import OrderedDict, defaultdict


def expected_paths(intent, intents=None, drained=()):
    """{prefix: number of installed next hops a router should have for it}.

    A ToR should reach each prefix through every node that announces it; a
    spine through every ToR whose rack announces it. Nodes import nothing.
    drained: nodes whose VIPs are out of ECMP (draining or drained); their pod
    CIDRs still count. A spine needs every node's intent (intents) to tell
    whether a ToR still has an undrained node behind it for a VIP.
    """
    if intent.get("role") == "node":
        return {}
    drained = set(drained)
    withdrawn = _drained_vips(intents or {}, drained)
    announcers = defaultdict(set)
    for peer in intent.get("peers", []):
        if peer.get("role") == "upstream":
            continue  # outside the fabric: its routes are not the fabric's to count
        for prefix in peer.get("accept", []):
            if prefix in withdrawn.get(peer["name"], ()):
                continue
            if peer.get("role") == "tor" and intents and _only_drained_behind(intents, peer["name"], prefix, drained):
                continue
            announcers[prefix].add(peer["name"])
    return dict((prefix, len(names)) for prefix, names in sorted(announcers.items()))


def _drained_vips(intents, drained):
    return dict((name, set(v["prefix"] for v in intents[name].get("vips", []))) for name in drained if name in intents)


def _only_drained_behind(intents, tor, prefix, drained):
    """Whether every node announcing PREFIX to TOR is drained (for a VIP)."""
    behind = [
        name
        for name, node in intents.items()
        if node.get("role") == "node" and any(p["name"] == tor and prefix in p.get("export", []) for p in node.get("peers", []))
    ]
    vip_holders = [name for name in behind if any(v["prefix"] == prefix for v in intents[name].get("vips", []))]
    return bool(vip_holders) and len(vip_holders) == len(behind) and set(vip_holders) <= drained


def rollout(intents, role="node"):
    """Hosts of one role ordered rack by rack, with the batch sizes for `serial`.

    Returns {"hosts": [...], "batches": [...]}: playing `hosts` with
    `serial: batches` changes one rack at a time, racks in (site, rack) order.
    """
    racks = OrderedDict()
    for name, intent in sorted(intents.items(), key=lambda item: (item[1].get("site") or "", item[1].get("rack") or "", item[0])):
        if intent.get("role") == role:
            racks.setdefault((intent.get("site"), intent.get("rack")), []).append(name)
    return {"hosts": [h for members in racks.values() for h in members], "batches": [len(members) for members in racks.values()]}
