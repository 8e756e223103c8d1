# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fabric's tables, from its intents: hosts, racks, BGP sessions, VIPs and the edge.

Everything is sorted (sites and racks naturally, r2 before r10; addresses
numerically), so the same intents always give the same rows. Each BGP
session appears once, however many ends the inventory holds: a session
between two fabric hosts is in both hosts' intents (one Peer each), one to an
upstream only in its spine's.

Nothing secret reaches a row: the intent holds no BGP key (only whether
there is one), and an `exec` health check is shown by its program alone,
never with its arguments.
"""

from __future__ import annotations

import csv
import functools
import io
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ansible_collections.anycast.fabric.plugins.module_utils._health_spec import EVENT_TYPES
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import Bgp, Intent, Peer, SiteExport, Vip

ROLE_ORDER = {"spine": 0, "tor": 1, "node": 2, "upstream": 3}
# What a session's `kind` column says: every session is configured on both ends today.
STATIC = "static"
# A cell lists at most this many names or prefixes, then says how many more.
LIST_MAX = 8


@functools.lru_cache(maxsize=65536)
def natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key that puts r2 before r10 (digit runs compare as numbers)."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part)


@functools.lru_cache(maxsize=65536)
def address_key(text: str) -> tuple[int, int, int]:
    """Addresses and prefixes in numeric order, IPv4 first."""
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return (9, 0, 0)
    return (net.version, int(net.network_address), net.prefixlen)


def host_key(intent: Intent) -> tuple[Any, ...]:
    """Hosts by site, then rack (spines first), then role, then name."""
    rack = natural(intent.rack) if intent.rack is not None else ()
    return (natural(intent.site), intent.rack is not None, rack, ROLE_ORDER[intent.role], natural(intent.hostname))


def ordered(intents: Mapping[str, Intent]) -> list[Intent]:
    return sorted(intents.values(), key=host_key)


def shorten(items: Sequence[str], limit: int = LIST_MAX) -> str:
    """ITEMS joined by ', ', at most LIMIT of them and then 'and N more'."""
    if len(items) <= limit:
        return ", ".join(items)
    return "%s and %d more" % (", ".join(items[:limit]), len(items) - limit)


# Racks and sites ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rack:
    site: str
    name: str
    tors: tuple[Intent, ...]
    nodes: tuple[Intent, ...]

    @property
    def label(self) -> str:
        return "%s/%s" % (self.site, self.name)

    @property
    def vips(self) -> int:
        """VIP announcements of the rack's nodes (a VIP two nodes announce counts twice)."""
        return sum(len(n.vips) for n in self.nodes)

    def node_asns(self) -> list[int]:
        return sorted({n.asn for n in self.nodes})


@dataclass(frozen=True, slots=True)
class Site:
    name: str
    spines: tuple[Intent, ...]
    racks: tuple[Rack, ...]

    @property
    def nodes(self) -> int:
        return sum(len(r.nodes) for r in self.racks)

    @property
    def tors(self) -> int:
        return sum(len(r.tors) for r in self.racks)

    @property
    def vips(self) -> int:
        return sum(r.vips for r in self.racks)


def sites(intents: Mapping[str, Intent]) -> list[Site]:
    """The fabric's sites, each with its spines and racks, in order."""
    spines: dict[str, list[Intent]] = {}
    racks: dict[str, dict[str, list[Intent]]] = {}
    for intent in ordered(intents):
        racks.setdefault(intent.site, {})
        if intent.rack is None:
            spines.setdefault(intent.site, []).append(intent)
        else:
            racks[intent.site].setdefault(intent.rack, []).append(intent)
    out = []
    for site in sorted(racks, key=natural):
        members = racks[site]
        out.append(
            Site(
                name=site,
                spines=tuple(spines.get(site, ())),
                racks=tuple(
                    Rack(
                        site=site,
                        name=rack,
                        tors=tuple(i for i in members[rack] if i.role == "tor"),
                        nodes=tuple(i for i in members[rack] if i.role == "node"),
                    )
                    for rack in sorted(members, key=natural)
                ),
            )
        )
    return out


# Hosts -------------------------------------------------------------------------------

HOST_COLUMNS = ("host", "role", "site", "rack", "daemon", "asn", "router_id", "ipv4", "ipv6", "uplink_ipv4", "uplink_ipv6", "vips", "pod_cidrs", "sessions")


def host_rows(intents: Mapping[str, Intent]) -> list[dict[str, str]]:
    rows = []
    for i in ordered(intents):
        rows.append(
            {
                "host": i.hostname,
                "role": i.role,
                "site": i.site,
                "rack": i.rack or "",
                "daemon": i.daemon,
                "asn": str(i.asn),
                "router_id": i.router_id,
                "ipv4": i.ipv4,
                "ipv6": i.ipv6 or "",
                "uplink_ipv4": (i.uplink_ipv4 or "") if i.role == "tor" else "",
                "uplink_ipv6": (i.uplink_ipv6 or "") if i.role == "tor" else "",
                "vips": str(len(i.vips)) if i.is_node else "",
                "pod_cidrs": " ".join(sorted((p.prefix for p in i.pod_cidrs), key=address_key)) if i.is_node else "",
                "sessions": str(len(i.peers)),
            }
        )
    return rows


# Sessions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class End:
    host: str
    role: str
    asn: int
    address: str
    announces: int | None  # prefixes this end sends the other (None: not known, an upstream)


@dataclass(frozen=True, slots=True)
class Session:
    """One BGP session: two ends (a: the one nearer the spines), one address family."""

    family: str
    a: End
    b: End
    kind: str = STATIC


SESSION_COLUMNS = (
    "family",
    "kind",
    "a_host",
    "a_role",
    "a_asn",
    "a_address",
    "a_announces",
    "b_host",
    "b_role",
    "b_asn",
    "b_address",
    "b_announces",
)


def _end_key(end: End) -> tuple[int, str, str]:
    return (ROLE_ORDER.get(end.role, 9), end.host, end.address)


def session_key(session: Session) -> tuple[Any, ...]:
    """Sessions by their ends' hosts, then family, then addresses."""
    a, b = session.a, session.b
    return (
        ROLE_ORDER.get(a.role, 9),
        natural(a.host),
        ROLE_ORDER.get(b.role, 9),
        natural(b.host),
        session.family,
        address_key(a.address),
        address_key(b.address),
    )


def sessions(intents: Mapping[str, Intent]) -> list[Session]:
    """Every BGP session of the fabric once, in order (upper end, lower end, family)."""
    found: dict[tuple[str, str, str, str, str], Session] = {}
    for intent in intents.values():
        for peer in intent.peers:
            local = End(intent.hostname, intent.role, intent.asn, peer.local_address, len(peer.export))
            remote_intent = intents.get(peer.name) if peer.role != "upstream" else None
            remote_peer = _peer_of(remote_intent, intent.hostname, peer) if remote_intent is not None else None
            remote = End(peer.name, peer.role, peer.asn, peer.far_address, len(remote_peer.export) if remote_peer is not None else None)
            a, b = sorted((local, remote), key=_end_key)
            key = (peer.family, a.host, a.address, b.host, b.address)
            if key not in found or (found[key].b.announces is None and b.announces is not None):
                found[key] = Session(family=peer.family, a=a, b=b)
    return sorted(found.values(), key=session_key)


def _peer_of(intent: Intent, name: str, peer: Peer) -> Peer | None:
    """INTENT's peer entry for the other end of PEER (a session of host NAME)."""
    for other in intent.peers:
        if other.name == name and other.family == peer.family and other.far_address == peer.local_address:
            return other
    return None


def session_rows(found: Iterable[Session]) -> list[dict[str, str]]:
    rows = []
    for s in found:
        rows.append(
            {
                "family": s.family,
                "kind": s.kind,
                "a_host": s.a.host,
                "a_role": s.a.role,
                "a_asn": str(s.a.asn),
                "a_address": s.a.address,
                "a_announces": "" if s.a.announces is None else str(s.a.announces),
                "b_host": s.b.host,
                "b_role": s.b.role,
                "b_asn": str(s.b.asn),
                "b_address": s.b.address,
                "b_announces": "" if s.b.announces is None else str(s.b.announces),
            }
        )
    return rows


# VIPs --------------------------------------------------------------------------------

VIP_COLUMNS = ("prefix", "family", "name", "sites", "node_count", "nodes", "health", "communities", "large_communities")


@dataclass(frozen=True, slots=True)
class VipUse:
    """A VIP and every node that announces it."""

    prefix: str
    vip: Vip  # the first announcing node's (shared keys are equal on every node)
    nodes: tuple[Intent, ...]
    health: tuple[tuple[str, tuple[str, ...]], ...]  # (summary, nodes with it), by summary

    @property
    def sites(self) -> list[str]:
        return sorted({n.site for n in self.nodes}, key=natural)


def vips(intents: Mapping[str, Intent]) -> list[VipUse]:
    by_prefix: dict[str, list[tuple[Intent, Vip]]] = {}
    for intent in ordered(intents):
        for vip in intent.vips:
            by_prefix.setdefault(vip.prefix, []).append((intent, vip))
    out = []
    for prefix in sorted(by_prefix, key=address_key):
        uses = by_prefix[prefix]
        health: dict[str, list[str]] = {}
        for node, vip in uses:
            health.setdefault(health_summary(vip.health), []).append(node.hostname)
        out.append(
            VipUse(
                prefix=prefix,
                vip=uses[0][1],
                nodes=tuple(node for node, _vip in uses),
                health=tuple((summary, tuple(names)) for summary, names in sorted(health.items())),
            )
        )
    return out


def vip_health_text(use: VipUse) -> str:
    """The VIP's health checks in one cell; where nodes differ, which nodes have which."""
    if len(use.health) == 1:
        return use.health[0][0]
    parts = []
    for summary, names in use.health:
        who = shorten(names) if len(names) <= LIST_MAX else "%d nodes" % len(names)
        parts.append("%s (%s)" % (summary, who))
    return "; ".join(parts)


def vip_rows(found: Iterable[VipUse]) -> list[dict[str, str]]:
    rows = []
    for use in found:
        rows.append(
            {
                "prefix": use.prefix,
                "family": use.vip.family,
                "name": use.vip.name or "",
                "sites": " ".join(use.sites),
                "node_count": str(len(use.nodes)),
                "nodes": " ".join(n.hostname for n in use.nodes),
                "health": vip_health_text(use),
                "communities": " ".join(use.vip.communities),
                "large_communities": " ".join(use.vip.large_communities),
            }
        )
    return rows


NO_HEALTH = "none (always announced)"


def _endpoint(check: Mapping[str, Any]) -> str:
    host = str(check.get("host") or "")
    port = check.get("port")
    if ":" in host:
        host = "[%s]" % host
    return "%s:%s" % (host, port) if port is not None else host


def check_summary(check: Mapping[str, Any]) -> str:
    """One health check in a few words (an exec check: its program, never its arguments)."""
    kind = str(check.get("type"))
    if kind in ("http", "https"):
        text = "%s %s%s" % (kind, _endpoint(check), check.get("path") or "/")
        status = [int(s) for s in (check.get("expect_status") or [])]
        if status and status != [200]:
            text += " (status %s)" % "/".join(str(s) for s in status)
    elif kind == "exec":
        command = check.get("command")
        program = command[0] if isinstance(command, (list, tuple)) and command else str(command or "").split(" ", 1)[0]
        text = "exec %s" % program
    elif kind == "ipvs":
        text = "ipvs %s/%s" % (check.get("protocol") or "tcp", check.get("port"))
    elif kind == "kubernetes":
        text = "kubernetes %s" % _endpoint(check)
        if check.get("service"):
            text += " service %s" % check["service"]
        if check.get("healthz_port"):
            text += " healthz %s" % check["healthz_port"]
    elif kind == "systemd_unit":
        text = "systemd_unit %s" % check.get("unit")
    elif kind == "process":
        text = "process %s" % " ".join(str(check[key]) for key in ("pidfile", "name") if check.get(key))
    else:
        text = "%s %s" % (kind, _endpoint(check))
    if kind in EVENT_TYPES:
        # Event-driven: a failure withdraws at once (no fall); rise counts one per interval.
        return "%s [event-driven, rise %s every %s ms]" % (text, check.get("rise"), check.get("interval_ms"))
    timers = "every %s ms, rise %s, fall %s" % (check.get("interval_ms"), check.get("rise"), check.get("fall"))
    return "%s [%s]" % (text, timers)


def health_summary(health: Mapping[str, Any] | None) -> str:
    """A VIP's health section in one line: its checks (all must pass) and damping."""
    if not health:
        return NO_HEALTH
    checks = [check_summary(c) for c in health.get("checks") or ()]
    damping = health.get("damping") or {}
    text = " + ".join(checks) or "no checks"
    if damping and not damping.get("enabled", True):
        text += "; no damping"
    return text


# Edge --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Upstream:
    spine: Intent
    peer: Peer


def upstreams(intents: Mapping[str, Intent]) -> list[Upstream]:
    out = []
    for intent in ordered(intents):
        for peer in sorted(intent.peers_of("upstream"), key=lambda p: (natural(p.name), p.family, address_key(p.address))):
            out.append(Upstream(intent, peer))
    return out


def weighting(entry: SiteExport) -> str:
    parts = []
    if entry.prepend:
        parts.append("prepend %d" % entry.prepend)
    if entry.med is not None:
        parts.append("MED %d" % entry.med)
    return ", ".join(parts) or "plain"


def announcements(peer: Peer) -> str:
    """What a spine sends an upstream, by weighting."""
    by_weighting: dict[str, list[str]] = {}
    for entry in peer.export_policy:
        by_weighting.setdefault(weighting(entry), []).extend(entry.prefixes)
    parts = ["%s: %s" % (name, shorten(sorted(set(prefixes), key=address_key))) for name, prefixes in by_weighting.items()]
    return "; ".join(parts) or "nothing"


# BGP policy ------------------------------------------------------------------------------


def bgp_policies(intents: Mapping[str, Intent]) -> list[tuple[Bgp, int]]:
    """The distinct BGP policies and how many hosts have each (one, when fabric_bgp is fabric-wide)."""
    counts: dict[str, tuple[Bgp, int]] = {}
    for intent in ordered(intents):
        key = json.dumps(intent.bgp.to_dict(), sort_keys=True)
        bgp, count = counts.get(key, (intent.bgp, 0))
        counts[key] = (bgp, count + 1)
    return sorted(counts.values(), key=lambda item: -item[1])


# CSV ---------------------------------------------------------------------------------------


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()
