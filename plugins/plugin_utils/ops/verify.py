# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verify report: the intent's expectations, one test case each, against what the hosts showed.

Pure: typed intents, each router's expected ECMP paths, and per host what
verify read back (`observed`: {host: {"bgp": bgp_info result or None,
"error": message or None, "drain": drain state or None}}) in; test cases out,
and from them a JUnit XML document (for CI's test reports) and a Markdown
report (for people). The state picture is document/topology.py's drawing
coloured by `live_state()`.

One test case per expected session (each end of it: a session can be up at
one end and not the other), per expected ECMP path set at each router
(prefix and count), and per VIP of each node (announced, or withdrawn by a
drain or by its health checks).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Optional

from ansible_collections.anycast.fabric.plugins.module_utils._contract import DRAINED, IN_SERVICE
from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons.external import EXTERNAL
from ansible_collections.anycast.fabric.plugins.plugin_utils.document import topology
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import Intent, Peer, Vip

REPORT_SCHEMA = 1
KINDS = ("sessions", "paths", "vips")
KIND_TITLES = {"sessions": "BGP sessions", "paths": "ECMP paths", "vips": "VIP announcements"}
# A router managed elsewhere (fabric_daemon: external) is never read: its own cases are skipped, the other ends checked.
NOT_READ = "not read"
ELSEWHERE = "managed elsewhere (fabric_daemon: external): checked from the other end of each session"

# Observed: {host: {"bgp": bgp_info's result, "error": str or None, "drain": str or None}}
Observed = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Case:
    """One expectation and what was found."""

    kind: str  # one of KINDS
    host: str  # where it was checked
    subject: str  # the peer (name, address, family), the prefix, or the VIP
    expected: str
    found: str
    ok: bool
    skipped: Optional[str] = None  # why it was not checked (then ok is True)

    @property
    def name(self) -> str:
        return "%s: %s" % (self.host, self.subject)


def session_subject(peer: Peer) -> str:
    """How a session's test case is named (at the host that has PEER)."""
    return "session with %s (%s, %s)" % (peer.name, peer.address, peer.family)


def vip_subject(vip: Vip) -> str:
    return "VIP %s%s" % (vip.prefix, " (%s)" % vip.name if vip.name else "")


def _bgp(observed: Observed, host: str) -> tuple[Optional[Mapping[str, Any]], Optional[str]]:
    """(bgp_info result, error): the result is None when the host could not be read."""
    seen = observed.get(host) or {}
    bgp = seen.get("bgp")
    error = seen.get("error")
    if not isinstance(bgp, Mapping) or not isinstance(bgp.get("sessions"), list):
        return None, str(error or "not read (the host was not reached or verify stopped before it)")
    return bgp, None


def _drain(observed: Observed, host: str) -> str:
    state = (observed.get(host) or {}).get("drain")
    return state if isinstance(state, str) else IN_SERVICE


def session_cases(intents: Mapping[str, Intent], observed: Observed) -> list[Case]:
    out = []
    for host, intent in sorted(intents.items()):
        bgp, error = _bgp(observed, host)
        sessions = {(str(s.get("peer")), str(s.get("family"))): s for s in (bgp or {}).get("sessions", []) if isinstance(s, Mapping)}
        for peer in intent.peers:
            subject = session_subject(peer)
            if intent.daemon == EXTERNAL:
                out.append(Case("sessions", host, subject, "Established", NOT_READ, True, ELSEWHERE))
                continue
            if error is not None:
                out.append(Case("sessions", host, subject, "Established", "unknown: %s" % error, False))
                continue
            session = sessions.get((peer.address, peer.family))
            if session is None:
                # A ToR forgets a dynamic node session that is down (FRR lists only the live ones).
                missing = "no session from the node (dynamic peering: not connected)" if peer.dynamic else "not configured"
                out.append(Case("sessions", host, subject, "Established", missing, False))
                continue
            state = str(session.get("state") or "unknown")
            detail = state if not session.get("last_error") else "%s (%s)" % (state, session.get("last_error"))
            out.append(Case("sessions", host, subject, "Established", detail, bool(session.get("established"))))
    return out


def path_cases(expected: Mapping[str, Mapping[str, int]], observed: Observed, external: Iterable[str] = ()) -> list[Case]:
    """EXTERNAL: routers managed elsewhere (not read: their cases are skipped)."""
    out = []
    elsewhere = set(external)
    for router, paths in sorted(expected.items()):
        if not paths:
            continue
        bgp, error = _bgp(observed, router)
        routes = (bgp or {}).get("routes") or {}
        for prefix, count in sorted(paths.items()):
            subject = "paths to %s" % prefix
            want = "at least %d path(s)" % count
            if router in elsewhere:
                out.append(Case("paths", router, subject, want, NOT_READ, True, ELSEWHERE))
                continue
            if error is not None:
                out.append(Case("paths", router, subject, want, "unknown: %s" % error, False))
                continue
            route = routes.get(prefix) if isinstance(routes, Mapping) else None
            if not isinstance(route, Mapping):
                out.append(Case("paths", router, subject, want, "not read", False))
                continue
            hops = [str(h) for h in route.get("next_hops") or []]
            found = "%d path(s)%s" % (len(hops), (" via " + ", ".join(hops)) if hops else "")
            out.append(Case("paths", router, subject, want, found, len(hops) >= count))
    return out


def vip_cases(intents: Mapping[str, Intent], observed: Observed) -> list[Case]:
    out = []
    for host, intent in sorted(intents.items()):
        if intent.role != "node":
            continue
        bgp, error = _bgp(observed, host)
        exported = set(str(p) for p in (bgp or {}).get("exports") or [])
        drain = _drain(observed, host)
        # What the node's ToRs installed counts too: a ToR waits for its expected
        # paths, a node's own read does not wait for its exports (a health agent
        # may add a VIP a moment after the node was read).
        seen_at_tors = _seen_at_tors(intent, observed)
        for vip in intent.vips:
            subject = vip_subject(vip)
            if error is not None:
                out.append(Case("vips", host, subject, "announced", "unknown: %s" % error, False))
                continue
            announced = vip.prefix in exported or (drain != DRAINED and vip.prefix in seen_at_tors)
            if drain == DRAINED:
                ok = not announced
                out.append(Case("vips", host, subject, "withdrawn (drained)", "announced" if announced else "withdrawn", ok, None if not ok else "drained"))
                continue
            expected = "announced" + (" (draining)" if drain != IN_SERVICE else "")
            if announced:
                out.append(Case("vips", host, subject, expected, "announced", True))
            elif vip.health is not None:
                out.append(Case("vips", host, subject, expected, "withdrawn by its health checks (they fail on %s)" % host, False))
            else:
                out.append(Case("vips", host, subject, expected, "not announced (is it on %s?)" % intent.vip_interface, False))
    return out


def _seen_at_tors(node: Intent, observed: Observed) -> set[str]:
    """The node's prefixes some ToR of its routes through it (its session address among the next hops)."""
    out: set[str] = set()
    for peer in node.peers_of("tor"):
        bgp, error = _bgp(observed, peer.name)
        routes = (bgp or {}).get("routes") or {}
        if error is not None or not isinstance(routes, Mapping):
            continue
        for prefix, route in routes.items():
            if isinstance(route, Mapping) and peer.local_address in (route.get("next_hops") or ()):
                out.add(str(prefix))
    return out


def cases(intents: Mapping[str, Intent], expected: Mapping[str, Mapping[str, int]], observed: Observed) -> list[Case]:
    """Every test case of the fabric, in report order: sessions, paths, VIPs; by host."""
    external = [name for name, intent in intents.items() if intent.daemon == EXTERNAL]
    return session_cases(intents, observed) + path_cases(expected, observed, external) + vip_cases(intents, observed)


def summary(all_cases: Iterable[Case]) -> dict[str, Any]:
    """{"result", "cases", "failures", "by_kind": {kind: {"cases", "failures", "skipped"}}, "failed": [names]}."""
    listed = list(all_cases)
    by_kind = {}
    for kind in KINDS:
        mine = [c for c in listed if c.kind == kind]
        by_kind[kind] = {"cases": len(mine), "failures": sum(1 for c in mine if not c.ok), "skipped": sum(1 for c in mine if c.skipped)}
    failed = [c for c in listed if not c.ok]
    return {
        "schema": REPORT_SCHEMA,
        "result": "failed" if failed else "passed",
        "cases": len(listed),
        "failures": len(failed),
        "by_kind": by_kind,
        "failed": ["%s %s: expected %s, found %s" % (c.kind, c.name, c.expected, c.found) for c in failed],
    }


def junit(all_cases: Iterable[Case], name: str = "anycast.fabric verify") -> str:
    """The cases as JUnit XML: one testsuite per kind, one testcase per case (classname KIND.HOST)."""
    listed = list(all_cases)
    root = ET.Element("testsuites", name=name, tests=str(len(listed)), failures=str(sum(1 for c in listed if not c.ok)))
    for kind in KINDS:
        mine = [c for c in listed if c.kind == kind]
        suite = ET.SubElement(
            root,
            "testsuite",
            name=KIND_TITLES[kind],
            tests=str(len(mine)),
            failures=str(sum(1 for c in mine if not c.ok)),
            errors="0",
            skipped=str(sum(1 for c in mine if c.skipped)),
        )
        for case in mine:
            element = ET.SubElement(suite, "testcase", classname="%s.%s" % (kind, case.host), name=case.subject)
            if not case.ok:
                failure = ET.SubElement(element, "failure", message="expected %s, found %s" % (case.expected, case.found), type="mismatch")
                failure.text = "%s\nexpected: %s\nfound: %s\n" % (case.name, case.expected, case.found)
            elif case.skipped:
                ET.SubElement(element, "system-out").text = "%s (%s)" % (case.found, case.skipped)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def json_report(all_cases: Iterable[Case]) -> str:
    """The summary and every case, as JSON (for scripts)."""
    listed = list(all_cases)
    report = summary(listed)
    report["checks"] = [
        {"kind": c.kind, "host": c.host, "subject": c.subject, "expected": c.expected, "found": c.found, "ok": c.ok, "skipped": c.skipped}
        for c in listed
    ]
    return json.dumps(report, indent=1, sort_keys=True) + "\n"


def state_picture(all_cases: Iterable[Case], intents: Mapping[str, Intent]) -> tuple[Optional[str], Optional[str], Optional[str]]:
    """(the picture's Graphviz source, the picture as SVG, a warning): the topology coloured by the live state.

    The source is None without the graphviz binding, the SVG None without `dot` as well; the
    warning says what is missing.
    """
    listed = list(all_cases)
    try:
        source = topology.source(topology.plan(intents), state=live_state(listed, intents))
    except topology.TopologyError as exc:
        return None, None, "state.svg was not written: %s" % exc
    try:
        return source, topology.svg(source), None
    except topology.TopologyError as exc:
        return source, None, "state.svg was not written (state.dot was): %s" % exc


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(all_cases: Iterable[Case], picture: Optional[str] = None, title: str = "anycast.fabric verify") -> str:
    """A readable report: the verdict, counts per kind, what differs from the intent, and the picture."""
    listed = list(all_cases)
    report = summary(listed)
    out = ["# %s" % title, ""]
    if report["failures"]:
        out.append("**Failed**: %d of %d checks differ from the intent." % (report["failures"], report["cases"]))
    else:
        out.append("**Passed**: all %d checks match the intent." % report["cases"])
    out += ["", "| checks | passed | failed | skipped |", "|---|---|---|---|"]
    for kind in KINDS:
        counts = report["by_kind"][kind]
        out.append("| %s | %d | %d | %d |" % (KIND_TITLES[kind], counts["cases"] - counts["failures"], counts["failures"], counts["skipped"]))
    out.append("")
    if picture:
        out += ["![The fabric's live state](%s)" % picture, ""]
    failed = [c for c in listed if not c.ok]
    if failed:
        out += ["## What differs from the intent", "", "| host | check | expected | found |", "|---|---|---|---|"]
        out += ["| %s | %s | %s | %s |" % (_cell(c.host), _cell(c.subject), _cell(c.expected), _cell(c.found)) for c in failed]
        out.append("")
    skipped = [c for c in listed if c.skipped]
    if skipped:
        out += ["## Skipped: not expected to serve, or not read", ""] + ["- %s: %s (%s)" % (c.host, c.subject, c.skipped) for c in skipped] + [""]
    return "\n".join(out).rstrip("\n") + "\n"


def live_state(all_cases: Iterable[Case], intents: Mapping[str, Intent]) -> dict[str, Any]:
    """What the state picture colours: sessions by (host, peer) up or down, routers and nodes with failures.

    {"sessions": {(host, peer name): bool (every family up at this end)},
     "hosts": {host: "ok" | "failed" | "unknown"}, "vips": {node: {"withdrawn": [prefix...]}}}
    """
    sessions: dict[tuple[str, str], bool] = {}
    hosts: dict[str, str] = {name: "ok" for name in intents}
    vips: dict[str, dict[str, list[str]]] = {}
    by_subject: dict[tuple[str, str, str], Case] = {}
    for case in all_cases:
        by_subject[(case.kind, case.host, case.subject)] = case
        if not case.ok:
            hosts[case.host] = "unknown" if case.found.startswith("unknown") else "failed"
    for host, intent in intents.items():
        for peer in intent.peers:
            session = by_subject.get(("sessions", host, session_subject(peer)))
            up = session is not None and session.ok
            sessions[(host, peer.name)] = sessions.get((host, peer.name), True) and up
        for vip in intent.vips:
            announcement = by_subject.get(("vips", host, vip_subject(vip)))
            # Withdrawn: read and not announced (a host that could not be read withdrew nothing we know of).
            if announcement is not None and announcement.found != "announced" and not announcement.found.startswith("unknown"):
                vips.setdefault(host, {"withdrawn": []})["withdrawn"].append(vip.prefix)
    return {"sessions": sessions, "hosts": hosts, "vips": vips}
