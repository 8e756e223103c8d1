# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""BIRD 2 on nodes: the view its template lays out and the changes that reset a session."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Optional

from ansible_collections.anycast.fabric.plugins.module_utils._contract import FAMILY_TAG
from ansible_collections.anycast.fabric.plugins.module_utils._daemon_identity import BIRD
from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons.base import Driver, diff_lines
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import weights
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import Intent

# BIRD session options: a change re-establishes the session (not just a policy update).
BIRD_RESET = re.compile(r"^\s*(?:hold time|keepalive time|password|neighbor|source address|local as|ttl security|graceful restart)\b")
_BLOCK = re.compile(r"^(template bgp|protocol bgp) (\S+)")


def _bird_community(value: str) -> str:
    return "(%s)" % ",".join(value.split(":"))


def _bird_link_bandwidth(asn: int, mbps: int) -> str:
    """The link-bandwidth extended community (weighted ECMP) as BIRD writes it: transitive, subtype 4."""
    return "(unknown 0x%x, %d, %d)" % (weights.LINK_BANDWIDTH_SUBTYPE, weights.as_field(asn), weights.ieee_bits(mbps))


def bird_view(intent: Intent) -> dict[str, Any]:
    bgp = intent.bgp
    vips = {fam: [v.prefix for v in intent.vips if v.family == fam] for fam in FAMILY_TAG}
    pods = {fam: [p.prefix for p in intent.pod_cidrs if p.family == fam] for fam in FAMILY_TAG}
    filters: dict[str, list[dict[str, Any]]] = {}
    for fam, entries in intent.export_policy.items():
        filters[fam] = [
            {
                "prefixes": entry.prefixes,
                "communities": [_bird_community(c) for c in entry.communities],
                "large_communities": [_bird_community(c) for c in entry.large_communities],
                "link_bandwidth": _bird_link_bandwidth(intent.asn, entry.bandwidth) if entry.bandwidth else None,
            }
            for entry in entries
        ]
    return {
        "vips": {fam: nets for fam, nets in vips.items() if nets},
        "pods": {fam: nets for fam, nets in pods.items() if nets},
        "filters": filters,
        "bfd": bgp.bfd,
        "error_wait": "%d, %d" % tuple(bgp.error_wait_time),
    }


def bird_reset_protocols(diff: Optional[Mapping[str, Any]], live_names: Iterable[str]) -> set[str]:
    """BIRD sessions a change would restart: every session for template changes, else the changed protocol."""
    before = (diff or {}).get("before") or ""
    after = (diff or {}).get("after") or ""
    names: set[str] = set()
    added, removed = diff_lines(diff)
    for text, changed in ((before, set(removed)), (after, set(added))):
        block: Optional[tuple[str, Optional[str]]] = None  # ("template", None) or ("protocol", its name)
        for line in text.splitlines():
            match = _BLOCK.match(line)
            if match:
                block = ("template", None) if match.group(1) == "template bgp" else ("protocol", match.group(2))
            elif line.startswith("}"):
                block = None
            elif block and line in changed and BIRD_RESET.match(line):
                if block[0] == "template":
                    names.update(live_names)
                elif block[1] is not None:
                    names.add(block[1])
    return names


class Bird(Driver):
    identity = BIRD
    roles = frozenset(["node"])
    default_for = frozenset(["node"])
    template = "bird.conf.j2"

    def view(self, intent: Intent) -> dict[str, Any]:
        return bird_view(intent)

    def resets(self, intent: Intent, observed: Mapping[str, Any]) -> set[str]:
        # BIRD sessions are named after their protocol.
        sessions = (observed.get("bgp") or {}).get("sessions") or []
        names = bird_reset_protocols((observed.get("config") or {}).get("diff"), [s["name"] for s in sessions])
        return set(s["peer"] for s in sessions if s["name"] in names)
