# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the live fabric should look like, and in which order to change it, derived from intents.

INTENTS are {host: model.intent.Intent}; expected_paths() (the filter's
entry) also takes their dict form.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any, Optional

from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import Intent, as_intent, as_intents

# {prefix: [[peer, withdrawn_by or None], ...]}: one router's paths (path_entry).
PathEntry = dict[str, list[list[Any]]]
# {(tor, prefix): ([nodes behind], [those holding it as a VIP])}
Exported = Mapping[tuple[str, str], tuple[list[str], list[str]]]


ROUTERS = ("tor", "spine")


# Expected ECMP paths ------------------------------------------------------------
#
# One algorithm, in two steps: path_entry() lists, for one router, each path
# it may install ([peer, withdrawn_by]); count_paths() counts those a set of
# drained nodes leaves. The run folder keeps every router's entry (written once
# by fabric_facts, read per host by the fabric_data lookup); the
# expected_paths filter computes one router's entry on the spot. Both count
# with count_paths, so they agree by construction.


def exporters(intents: Mapping[str, Intent]) -> Exported:
    """{(tor, prefix): [nodes exporting PREFIX to TOR, those of them holding it as a VIP]}.

    One pass over the nodes: what a ToR's path for a prefix depends on at a spine.
    """
    out: dict[tuple[str, str], tuple[list[str], list[str]]] = OrderedDict()
    for name, intent in intents.items():
        if intent.role != "node":
            continue
        vips = set(intent.vip_prefixes())
        for peer in intent.peers:
            for prefix in peer.export:
                behind, holders = out.setdefault((peer.name, prefix), ([], []))
                if name not in behind:
                    behind.append(name)
                    if prefix in vips:
                        holders.append(name)
    return out


def path_entry(intent: Intent, intents: Mapping[str, Intent], exported: Exported) -> PathEntry:
    """{prefix: [[peer, withdrawn_by or None], ...]}: the paths router INTENT may install.

    A path from PEER for PREFIX is expected unless every node of WITHDRAWN_BY
    is drained: for a node, its own VIPs; for a ToR, a VIP that only nodes
    holding it announce behind that ToR. INTENTS (for the nodes' VIPs) and
    EXPORTED (exporters(intents)) may be empty: then nothing is withdrawn.
    Nodes install nothing: their entry is empty.
    """
    if intent.role not in ROUTERS:
        return {}
    entries: dict[str, dict[str, Optional[list[str]]]] = OrderedDict()
    for peer in intent.peers:
        role = peer.role
        if role == "upstream":
            continue  # outside the fabric: its routes are not the fabric's to count
        other = intents.get(peer.name) if role == "node" else None
        node_vips = set(other.vip_prefixes()) if other is not None else set()
        for prefix in peer.accept:
            withdrawn_by: Optional[list[str]] = None
            if role == "node":
                withdrawn_by = [peer.name] if prefix in node_vips else None
            elif role == "tor":
                behind, holders = exported.get((peer.name, prefix), ([], []))
                withdrawn_by = sorted(holders) if holders and len(holders) == len(behind) else None
            slot = entries.setdefault(prefix, OrderedDict())
            if peer.name not in slot:
                slot[peer.name] = withdrawn_by
    return dict((prefix, [[peer, by] for peer, by in slot.items()]) for prefix, slot in sorted(entries.items()))


def path_index(intents: Mapping[str, Intent]) -> dict[str, PathEntry]:
    """{router: path_entry} for every ToR and spine: linear in the size of the intents."""
    exported = exporters(intents)
    return dict((name, path_entry(intent, intents, exported)) for name, intent in intents.items() if intent.role in ROUTERS)


def count_paths(entry: PathEntry, drained: Iterable[str] = ()) -> dict[str, int]:
    """{prefix: number of installed next hops} from one router's path_entry, with DRAINED nodes out of ECMP."""
    gone = set(drained)
    out = {}
    for prefix, paths in sorted(entry.items()):
        count = sum(1 for _peer, by in paths if not (by and set(by) <= gone))
        if count:
            out[prefix] = count
    return out


def expected_paths(
    intent: Intent | Mapping[str, Any], intents: Optional[Mapping[str, Intent | Mapping[str, Any]]] = None, drained: Iterable[str] = ()
) -> dict[str, int]:
    """{prefix: number of installed next hops} router INTENT should have (the filter).

    A ToR should reach each prefix through every node that announces it; a
    spine through every ToR whose rack announces it. Nodes import nothing.
    drained: nodes whose VIPs are out of ECMP (draining or drained); their pod
    CIDRs still count. A spine needs every node's intent (intents) to tell
    whether a ToR still has an undrained node behind it for a VIP; without
    drained nodes, the router's own intent is enough.
    """
    router = as_intent(intent)
    if router.role not in ROUTERS:
        return {}
    typed = as_intents(intents or {})
    out = list(drained)
    exported = exporters(typed) if out and router.peers_of("tor") else {}
    return count_paths(path_entry(router, typed if out else {}, exported), out)


def rollout(intents: Mapping[str, Intent], role: str = "node") -> dict[str, list[Any]]:
    """Hosts of one role ordered rack by rack, with the batch sizes for `serial`.

    Returns {"hosts": [...], "batches": [...]}: playing `hosts` with
    `serial: batches` changes one rack at a time, racks in (site, rack) order.
    """
    racks: dict[tuple[str, Optional[str]], list[str]] = OrderedDict()
    for name, intent in sorted(intents.items(), key=lambda item: (item[1].site or "", item[1].rack or "", item[0])):
        if intent.role == role:
            racks.setdefault((intent.site, intent.rack), []).append(name)
    return {"hosts": [h for members in racks.values() for h in members], "batches": [len(members) for members in racks.values()]}
