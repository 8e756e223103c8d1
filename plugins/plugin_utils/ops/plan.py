# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan report: what an apply would change, host by host, and what is risky about it.

Input: every host's intent (model.intent.Intent, or its dict form) and, per host, what check mode found
(`observed`: {host: {"config": routing_config result, "bgp": bgp_info result,
"error": message or None}}). Output: a dict (plan.json) and its Markdown
rendering (plan.md), both free of secrets: routing_config masks passwords in
its diff and commands, and nothing else here reads them.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any, Optional, Union

from ansible_collections.anycast.fabric.plugins.module_utils._contract import IN_SERVICE
from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons import DRIVERS, driver
from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons.base import diff_lines
from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons.external import EXTERNAL
from ansible_collections.anycast.fabric.plugins.plugin_utils.document import topology
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import Intent, as_intents

PLAN_SCHEMA = 1


def _host_routes(prefixes: Iterable[str]) -> set[str]:
    return set(p for p in prefixes if p.endswith("/32") or p.endswith("/128"))


def unified_diff(diff: Optional[Mapping[str, Any]], host: str) -> str:
    if not diff:
        return ""
    before = (diff.get("before") or "").splitlines()
    after = (diff.get("after") or "").splitlines()
    header = diff.get("before_header") or host
    return "\n".join(difflib.unified_diff(before, after, fromfile="%s (live)" % header, tofile="%s (planned)" % header, lineterm="", n=3))


def _resets(intent: Intent, observed: Mapping[str, Any]) -> set[str]:
    """Live sessions (peer addresses) the configuration change would re-establish (the daemon's driver decides)."""
    return driver(intent.daemon).resets(intent, observed)


def build(
    intents: Mapping[str, Union[Intent, Mapping[str, Any]]], observed: Mapping[str, Any], planned_hosts: Optional[Iterable[str]] = None
) -> dict[str, Any]:
    """The plan of PLANNED_HOSTS (default: every host of INTENTS).

    With a subset (--limit), the VIPs the fabric keeps after the change are
    still counted over every node's intent, so moving a VIP to a host outside
    the subset is not reported as a loss.
    """
    typed = as_intents(intents)
    hosts: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    errors: list[str] = []
    live_vips: dict[str, set[str]] = {}
    planned_vips: dict[str, set[str]] = {}
    for name, intent in typed.items():
        for prefix in intent.vip_prefixes():
            planned_vips.setdefault(prefix, set()).add(name)
    names = sorted(typed) if planned_hosts is None else sorted(set(planned_hosts) & set(typed))
    for name in names:
        intent = typed[name]
        seen = observed.get(name) or {}
        if seen.get("error"):
            errors.append("%s: %s" % (name, seen["error"]))
        config = seen.get("config") or {}
        bgp = seen.get("bgp") or {}
        sessions = bgp.get("sessions") or []
        added_lines, removed_lines = diff_lines(config.get("diff"))
        # Dynamic node peering: a ToR's node sessions come and go with the nodes
        # (each node's own plan shows them), not with the ToR's configuration.
        dynamic = set(p.address for p in intent.peers if p.dynamic)
        planned_peers = set(p.address for p in intent.peers) - dynamic
        live_peers = set(s["peer"] for s in sessions if not s.get("dynamic") and s["peer"] not in dynamic and not _in_listen_range(intent, s["peer"]))
        entry: dict[str, Any] = {
            "role": intent.role,
            "daemon": intent.daemon,
            "site": intent.site,
            "rack": intent.rack,
            "config_changed": bool(config.get("changed")),
            "lines_added": len(added_lines),
            "lines_removed": len(removed_lines),
            "commands": list(config.get("commands") or []),
            "diff": unified_diff(config.get("diff"), name) if config.get("changed") else "",
            "sessions_added": sorted(planned_peers - live_peers),
            "sessions_removed": sorted(live_peers - planned_peers),
            # A configuration change resets dynamic sessions too (switching a ToR to listen ranges drops its named nodes).
            "sessions_reset": sorted(_resets(intent, seen) & (planned_peers | dynamic)) if config.get("changed") else [],
            "vips_added": [],
            "vips_removed": [],
            "error": seen.get("error"),
        }
        if intent.role == "node":
            planned = set(intent.vip_prefixes())
            live = _host_routes(bgp.get("exports") or []) if bgp else set()
            if seen.get("drain", IN_SERVICE) != IN_SERVICE:
                live = planned & live  # a drained node announces nothing: not a removal
            entry["vips_added"] = sorted(planned - live) if bgp else sorted(planned)
            entry["vips_removed"] = sorted(live - planned)
            entry["drain"] = seen.get("drain", IN_SERVICE)
            for prefix in live:
                live_vips.setdefault(prefix, set()).add(name)
        if intent.daemon == EXTERNAL:
            # Never read: nothing of it is planned; what it must have is its hand-off.
            entry.update(external=True, config_changed=False, lines_added=0, lines_removed=0, commands=[], diff="")
            for key in ("sessions_added", "sessions_removed", "sessions_reset", "vips_added", "vips_removed"):
                entry[key] = []
            warnings.append(
                "%s is managed elsewhere (fabric_daemon: external): not read or planned; what it must have is in its hand-off "
                "(anycast.fabric.render writes handoff.md and handoff.frr.conf)" % name
            )
        if entry["error"]:
            # What the host runs is unknown (unreachable, its daemon missing): claim no change of it;
            # the error makes the plan's result.
            for key in ("sessions_added", "sessions_removed", "sessions_reset", "vips_added", "vips_removed"):
                entry[key] = []
        hosts[name] = entry

    for prefix, nodes in sorted(live_vips.items()):
        if not planned_vips.get(prefix):
            warnings.append("VIP %s loses its last node: announced now by %s, by no node after the change" % (prefix, ", ".join(sorted(nodes))))
    racks: dict[tuple[str, Optional[str]], list[str]] = {}
    for name, entry in hosts.items():
        if entry["role"] == "node":
            racks.setdefault((entry["site"], entry["rack"]), []).append(name)
    for (site, rack), members in sorted(racks.items()):
        established = [(n, p) for n in members for p in _live_established(observed.get(n))]
        lost = [(n, p) for n, p in established if p in hosts[n]["sessions_removed"] or p in hosts[n]["sessions_reset"]]
        if established and len(lost) == len(established):
            warnings.append("rack %s/%s loses all its BGP sessions at once (%d of them removed or reset)" % (site, rack, len(established)))
    for name, entry in sorted(hosts.items()):
        if entry["sessions_reset"]:
            warnings.append(
                "%s: the change re-establishes %d session(s) (%s): a timer, password or neighbor change"
                % (name, len(entry["sessions_reset"]), ", ".join(entry["sessions_reset"]))
            )
    changed = sorted(
        n for n, e in hosts.items()
        if not e["error"] and (e["config_changed"] or e["vips_added"] or e["vips_removed"] or e["sessions_added"] or e["sessions_removed"])
    )
    result = "error" if errors else "changes" if changed else "no_changes"
    return {
        "schema": PLAN_SCHEMA,
        "result": result,
        "changes": bool(changed),
        "hosts_changed": changed,
        "warnings": warnings,
        "errors": errors,
        "hosts": hosts,
    }


def _in_listen_range(intent: Intent, address: str) -> bool:
    """Whether a live session's peer ADDRESS lies in one of the ToR's listen ranges (a node it accepts without naming it)."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(r.prefix) for r in intent.listen)


def _live_established(observed: Optional[Mapping[str, Any]]) -> list[str]:
    sessions = ((observed or {}).get("bgp") or {}).get("sessions") or []
    return [s["peer"] for s in sessions if s.get("established")]


PICTURE_LEGEND = "plan: orange boxes: hosts whose configuration changes; orange edges: sessions the change re-establishes, adds or removes"


def picture_state(plan: Mapping[str, Any], intents: Mapping[str, Intent | Mapping[str, Any]]) -> dict[str, Any]:
    """What the plan's picture marks (document/topology.py's state): changed hosts, and sessions reset, added or removed."""
    typed = as_intents(intents)
    hosts = {name: "ok" for name in typed}
    marks: dict[tuple[str, str], str] = {}
    for name, entry in (plan.get("hosts") or {}).items():
        if name not in typed:
            continue
        if name in plan.get("hosts_changed", ()):
            hosts[name] = "changed"
        by_address = {p.address: p.name for p in typed[name].peers}
        for key, mark in (("sessions_reset", "reset"), ("sessions_added", "added"), ("sessions_removed", "removed")):
            for address in entry.get(key) or ():
                peer = by_address.get(address)
                if peer is not None:
                    marks.setdefault((name, peer), mark)
    return {"hosts": hosts, "marks": marks, "sessions": {}, "title": "plan", "legend": PICTURE_LEGEND}


def picture(plan: Mapping[str, Any], intents: Mapping[str, Intent | Mapping[str, Any]]) -> str | None:
    """The topology picture with what the change touches marked, as SVG; None without changes or without Graphviz."""
    if not plan.get("hosts_changed"):
        return None
    typed = as_intents(intents)
    try:
        return topology.svg(topology.source(topology.plan(typed), state=picture_state(plan, typed)))
    except topology.TopologyError:
        return None


def markdown(plan: Mapping[str, Any], title: str = "anycast.fabric plan", picture: str | None = None) -> str:
    out = ["# %s" % title, ""]
    verdict = {
        "no_changes": "**No changes.**",
        "changes": "**Changes** on %d host(s)." % len(plan["hosts_changed"]),
        "error": "**Error**: the plan is incomplete.",
    }
    out.append(verdict[plan["result"]])
    out.append("")
    if plan["errors"]:
        out += ["## Errors", ""] + ["- %s" % e for e in plan["errors"]] + [""]
    if plan["warnings"]:
        out += ["## Warnings", ""] + ["- :warning: %s" % w for w in plan["warnings"]] + [""]
    if picture and plan["hosts_changed"]:
        out += ["[What the change touches](%s): hosts whose configuration changes, and sessions it re-establishes, adds or removes." % picture, ""]
    if plan["hosts_changed"]:
        out += [
            "## Summary",
            "",
            "| host | role | config lines +/- | VIPs added | VIPs removed | sessions added | removed | reset |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name in plan["hosts_changed"]:
            h = plan["hosts"][name]
            out.append(
                "| %s | %s | +%d / -%d | %s | %s | %s | %s | %s |"
                % (
                    name,
                    h["role"],
                    h["lines_added"],
                    h["lines_removed"],
                    ", ".join(h["vips_added"]) or "-",
                    ", ".join(h["vips_removed"]) or "-",
                    ", ".join(h["sessions_added"]) or "-",
                    ", ".join(h["sessions_removed"]) or "-",
                    ", ".join(h["sessions_reset"]) or "-",
                )
            )
        out.append("")
        out += ["## Configuration changes", ""]
        for name in plan["hosts_changed"]:
            h = plan["hosts"][name]
            if not h["diff"]:
                continue
            out += ["<details><summary>%s (%s, %s)</summary>" % (name, h["role"], h["daemon"]), "", "```diff", h["diff"], "```", ""]
            if h["commands"]:
                intro = getattr(DRIVERS.get(h["daemon"]), "commands_title", None) or "The daemon would run:"
                out += [intro, "", "```", "\n".join(h["commands"]), "```", ""]
            out += ["</details>", ""]
    return "\n".join(out).rstrip("\n") + "\n"
