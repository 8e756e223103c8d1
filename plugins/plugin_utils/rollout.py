# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the live fabric should look like, and in which order to change it, derived from intents."""

from __future__ import annotations

from collections import OrderedDict, defaultdict


def expected_paths(intent):
    """{prefix: number of installed next hops a router should have for it}.

    A ToR should reach each prefix through every node that announces it; a
    spine through every ToR whose rack announces it. Nodes import nothing.
    """
    if intent.get("role") == "node":
        return {}
    announcers = defaultdict(set)
    for peer in intent.get("peers", []):
        for prefix in peer.get("accept", []):
            announcers[prefix].add(peer["name"])
    return dict((prefix, len(names)) for prefix, names in sorted(announcers.items()))


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
