# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a drain may do, and what the routers must show before it goes on.

Pure functions of the intents ({host: model.intent.Intent} or their dict form) and of what the nodes announce right now
(`states`: {node: {"state": drain state, "exports": [prefixes]}}), so the
drain playbooks stay thin and every decision here is unit-tested.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible_collections.anycast.fabric.plugins.module_utils._contract import IN_SERVICE
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import Intent, as_intent, as_intents

# {node: {"state": drain state, "exports": [prefixes] or None}}
States = Mapping[str, Mapping[str, Any]]
# Intents as the callers hold them: records, or their dict form (the run folder's JSON).
Intents = Mapping[str, Intent | Mapping[str, Any]]
# (router, prefix, "with"/"without", [addresses])
Wait = tuple[str, str, str, list[str]]


def _family(prefix: str) -> str:
    return "ipv6" if ":" in prefix else "ipv4"


def _addresses(router: Intent, peer_name: str, family: str) -> list[str]:
    """ROUTER's next hops through PEER_NAME in FAMILY: the peer's address, or the interface of each unnumbered link to it."""
    return [peer.address for peer in router.peers if peer.name == peer_name and peer.family == family]


def _nodes(intents: Mapping[str, Intent]) -> list[str]:
    return sorted(name for name, intent in intents.items() if intent.role == "node")


def _announced(states: States, intents: Mapping[str, Intent], node: str) -> list[str]:
    """The VIPs a node announces now (its live exports), or per its intent when unknown."""
    state = states.get(node)
    vips = intents[node].vip_prefixes()
    if state is None or state.get("exports") is None:
        return vips
    return [p for p in vips if p in state["exports"]]


def _in_service(states: States, node: str) -> bool:
    state: object = (states.get(node) or {}).get("state", IN_SERVICE)
    return state == IN_SERVICE


def drain_check(intents: Intents, states: States, targets: Iterable[str]) -> list[str]:
    """Why draining TARGETS would take a VIP off the fabric; empty when it would not.

    A VIP is served while some node announces it in service; draining every
    such node leaves it with no healthy announcement at all.
    """
    typed = as_intents(intents)
    chosen = set(targets)
    problems = []
    unknown = sorted(t for t in chosen if t not in typed or typed[t].role != "node")
    if unknown:
        problems.append("not fabric nodes: %s" % ", ".join(unknown))
    holders: dict[str, set[str]] = OrderedDict()
    for node in _nodes(typed):
        if _in_service(states, node):
            for prefix in _announced(states, typed, node):
                holders.setdefault(prefix, set()).add(node)
    for prefix, nodes in sorted(holders.items()):
        if nodes & chosen and not nodes - chosen:
            problems.append(
                "%s is announced in service only by %s: draining %s would withdraw it from the fabric"
                % (prefix, ", ".join(sorted(nodes)), "them" if len(nodes) > 1 else "it")
            )
    return problems


def _group(waits: Iterable[Wait]) -> list[dict[str, Any]]:
    """[{router, prefixes, <key>: [...]}] with one entry per router and address set."""
    grouped: dict[tuple[str, str, tuple[str, ...]], list[str]] = OrderedDict()
    for router, prefix, key, addresses in waits:
        slot = grouped.setdefault((router, key, tuple(sorted(addresses))), [])
        if prefix not in slot:
            slot.append(prefix)
    return [{"router": r, "prefixes": sorted(p), key: list(a)} for (r, key, a), p in grouped.items()]


def drain_waits(intents: Intents, states: States, targets: Iterable[str]) -> list[dict[str, Any]]:
    """Where each drained VIP path must be gone from the FIB before the VIPs are withdrawn.

    At each ToR of a target node: the node's address, for every VIP some
    other in-service node behind that ToR still announces. A ToR left with
    only draining paths for a VIP keeps them (they are all it has): then the
    spines above it must stop routing the VIP via that ToR instead.
    """
    typed = as_intents(intents)
    chosen = set(targets)
    nodes = _nodes(typed)
    out = chosen | set(n for n in nodes if not _in_service(states, n))
    # Nodes behind each ToR, in one pass (sorted, as the nodes are).
    behind_of: dict[str, list[str]] = {}
    for node in nodes:
        for peer_name in sorted(set(p.name for p in typed[node].peers)):
            behind_of.setdefault(peer_name, []).append(node)
    waits: list[Wait] = []
    emptied: set[tuple[str, str]] = set()
    served: set[tuple[str, str]] = set()
    for tor_name, tor in sorted(typed.items()):
        if tor.role != "tor":
            continue
        behind = behind_of.get(tor_name, [])
        for node in behind:
            if node not in out:
                served.update((tor_name, prefix) for prefix in _announced(states, typed, node))
        for node in sorted(set(behind) & chosen):
            for prefix in _announced(states, typed, node):
                others = [n for n in behind if n not in out and prefix in _announced(states, typed, n)]
                addresses = _addresses(tor, node, _family(prefix))
                if others and addresses:
                    waits.append((tor_name, prefix, "without", addresses))
                elif not others:
                    emptied.add((tor_name, prefix))
    for spine_name, spine in sorted(typed.items()):
        if spine.role != "spine":
            continue
        gone: dict[str, list[str]] = {}
        for tor_name, prefix in sorted(emptied):
            addresses = _addresses(spine, tor_name, _family(prefix))
            # Without another ToR serving the VIP (a forced drain of its last
            # nodes), the spine keeps the draining path: nothing to wait for.
            elsewhere = any((peer.name, prefix) in served for peer in spine.peers_of("tor") if peer.name != tor_name)
            if addresses and elsewhere:
                gone.setdefault(prefix, []).extend(addresses)
        for prefix, addresses in sorted(gone.items()):
            waits.append((spine_name, prefix, "without", addresses))
    return _group(waits)


def undrain_waits(intents: Intents, node: str, present: Iterable[str]) -> list[dict[str, Any]]:
    """Where an undrained node's VIPs (those now on its VIP interface) must be back in the FIB."""

    typed = as_intents(intents)

    def uplinks_of(tor_name: str) -> dict[str, list[list[str]]]:
        out: dict[str, list[list[str]]] = {}
        for spine_name, spine in sorted(typed.items()):
            if spine.role != "spine":
                continue
            for family in ("ipv4", "ipv6"):
                for address in _addresses(spine, tor_name, family):
                    out.setdefault(family, []).append([spine_name, address])
        return out

    return undrain_waits_for(typed[node], present, uplinks_of)


def undrain_waits_for(
    intent: Intent | Mapping[str, Any], present: Iterable[str], uplinks_of: Callable[[str], Mapping[str, list[list[str]]]]
) -> list[dict[str, Any]]:
    """undrain_waits from the node's own intent and, per ToR, its spines' addresses for it.

    uplinks_of(tor) -> {family: [[spine, the spine's address for that ToR], ...]}:
    what the run folder keeps per ToR, so a node's waits never read the fabric.
    """
    node = as_intent(intent)
    shown = set(present)
    vips = [p for p in node.vip_prefixes() if p in shown]
    waits: list[Wait] = []
    for peer in node.peers_of("tor"):
        tor_name = peer.name
        spines = uplinks_of(tor_name).get(peer.family, [])
        for prefix in vips:
            if _family(prefix) != peer.family:
                continue
            waits.append((tor_name, prefix, "with", [peer.local_address]))
            for spine_name, address in spines:
                waits.append((spine_name, prefix, "with", [address]))
    return _group(waits)
