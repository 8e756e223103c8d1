# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology picture: spines, ToRs and nodes grouped by site and rack, BGP sessions as edges.

The graph is built with the `graphviz` Python binding (DOT text, deterministic)
and laid out by Graphviz's `dot` program (topology.svg). One box per host with
its ASN (nodes: also their VIP count), one Graphviz cluster per site and per
rack, one edge per pair of hosts with sessions (its families in the edge's
class and tooltip), upstream routers above their spines.

Large fabrics collapse so that the picture stays usable (`Limits`):

- a rack with more than `rack_nodes` nodes draws its nodes as one box
  ("20 nodes", their ASNs and VIP total), with one edge per ToR;
- a site with more than `site_racks` racks draws each rack as one box (its
  ToRs, nodes and VIPs) in rows of ROW_RACKS, and each spine with one edge to
  the site's racks (its session count in the tooltip).

`plan()` decides the collapsing without Graphviz (fabric.md says what was
collapsed, whether or not the picture could be drawn); `graph()` needs the
binding; `svg()` needs the `dot` program as well.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.anycast.fabric.plugins.plugin_utils.document.tables import Rack, Session, Site, natural, sessions, sites
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import Intent

try:
    import graphviz as _graphviz

    HAS_GRAPHVIZ = True
except ImportError:  # the picture is skipped, with a warning naming the package
    HAS_GRAPHVIZ = False

ROW_RACKS = 5
SITE_COLUMNS = 2
COLORS = {"spine": "#d6e4f5", "tor": "#dcefd5", "node": "#fdf1d2", "upstream": "#ececec", "rack": "#eef3e8", "nodes": "#fbe7b5"}
# Edge colours by the families of a link's sessions.
EDGE_STYLE = {
    ("ipv4", "ipv6"): {"color": "#333333"},
    ("ipv4",): {"color": "#2b6cb0"},
    ("ipv6",): {"color": "#8e44ad", "style": "dashed"},
}
LEGEND = "edges: BGP sessions (dark: IPv4 and IPv6, blue: IPv4 only, purple dashed: IPv6 only); dashed boxes: upstream routers"
# The live state (verify's state.svg): what a failed check turns red.
STATE_COLORS = {"down": "#c0392b", "failed": "#f5b7b1", "unknown": "#d5d8dc", "changed": "#fad7a0", "reset": "#d35400"}
STATE_LEGEND = (
    "live state: red edges: a session down at one end or both; red boxes: a check of this host failed; "
    "grey boxes: the host could not be read; a node's withdrawn VIPs are counted on its box"
)
DOT_HINT = "install Graphviz (Debian/Ubuntu: apt install graphviz; Fedora/RHEL: dnf install graphviz; macOS: brew install graphviz)"
BINDING_HINT = "pip install graphviz (into the Python that runs ansible-playbook), and Graphviz's dot program; " + DOT_HINT


class TopologyError(Exception):
    """The picture could not be drawn (no binding, no `dot`, or `dot` failed)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Beyond these sizes a rack's nodes (a site's racks) are drawn as one box (one box per rack)."""

    rack_nodes: int = 8
    site_racks: int = 8


@dataclass(frozen=True, slots=True)
class Layout:
    """What the picture shows: the sites, which racks and sites are collapsed, and the sessions."""

    limits: Limits
    sites: tuple[Site, ...]
    sessions: tuple[Session, ...]
    collapsed_sites: frozenset[str] = frozenset()
    collapsed_racks: frozenset[tuple[str, str]] = frozenset()  # (site, rack): nodes drawn as one box
    notes: tuple[str, ...] = field(default=())


def plan(intents: Mapping[str, Intent], limits: Limits | None = None, found: list[Session] | None = None) -> Layout:
    """How INTENTS are drawn: which sites and racks collapse, and why (notes for fabric.md)."""
    limits = limits or Limits()
    all_sites = tuple(sites(intents))
    collapsed_sites = frozenset(s.name for s in all_sites if len(s.racks) > limits.site_racks)
    collapsed_racks = frozenset((s.name, r.name) for s in all_sites if s.name not in collapsed_sites for r in s.racks if len(r.nodes) > limits.rack_nodes)
    notes = []
    for site in all_sites:
        if site.name in collapsed_sites:
            notes.append(
                "site %s has %d racks (more than %d): each rack is one box (its ToRs, node count and VIP announcements), "
                "each spine has one edge to the site's racks" % (site.name, len(site.racks), limits.site_racks)
            )
    big = sorted(collapsed_racks, key=lambda key: (natural(key[0]), natural(key[1])))
    if big:
        names = ", ".join("%s/%s" % key for key in big)
        notes.append(
            "racks with more than %d nodes draw their nodes as one box (node count, ASNs, VIP announcements), one edge per ToR: %s" % (limits.rack_nodes, names)
        )
    return Layout(
        limits=limits,
        sites=all_sites,
        sessions=tuple(found if found is not None else sessions(intents)),
        collapsed_sites=collapsed_sites,
        collapsed_racks=collapsed_racks,
        notes=tuple(notes),
    )


# Names in the DOT graph. Host names are node names as they are; the boxes that
# stand for several hosts have names no host can have (they hold a '/').


def _upstream_name(site: str, name: str) -> str:
    return "upstream/%s/%s" % (site, name)


def _nodes_box(rack: Rack) -> str:
    return "nodes/%s/%s" % (rack.site, rack.name)


def _rack_box(rack: Rack) -> str:
    return "rack/%s/%s" % (rack.site, rack.name)


def _asns(values: list[int]) -> str:
    if len(values) == 1:
        return "AS %d" % values[0]
    if len(values) <= 3:
        return "AS " + ", ".join(str(v) for v in values)
    return "%d ASNs (%d-%d)" % (len(values), values[0], values[-1])


def _plural(count: int, word: str) -> str:
    return "%d %s%s" % (count, word, "" if count == 1 else "s")


def _host_label(intent: Intent) -> str:
    lines = [intent.hostname, "AS %d" % intent.asn]
    if intent.is_node:
        lines.append(_plural(len(intent.vips), "VIP"))
    return "\n".join(lines)


def _families(families: set[str]) -> tuple[str, ...]:
    return tuple(sorted(families))


def graph(layout: Layout, state: Mapping[str, Any] | None = None) -> Any:
    """The graphviz.Graph of LAYOUT (TopologyError without the graphviz binding).

    STATE (verify.live_state(): {"sessions": {(host, peer): up}, "hosts": {host: "ok" | "failed" |
    "unknown"}, "vips": {node: {"withdrawn": [prefix, ...]}}}) colours the picture by the live state:
    each edge gets the class "up" or "down", each box whose host failed a check the class "failed"
    or "unknown".
    """
    if not HAS_GRAPHVIZ:
        raise TopologyError("the Python package graphviz is not installed on the controller: " + BINDING_HINT)
    hosts = sum(len(s.spines) + s.tors + s.nodes for s in layout.sites)
    g = _graphviz.Graph("fabric", strict=False)
    g.attr(
        "graph",
        rankdir="TB",
        newrank="true",
        ordering="out",
        compound="true",
        fontname="Helvetica",
        fontsize="12",
        nodesep="0.2",
        ranksep="0.7",
        label="anycast.fabric %s: %s, %s, %s\n%s"
        % (
            "topology" if state is None else str(state.get("title") or "live state"),
            _plural(len(layout.sites), "site"),
            _plural(hosts, "host"),
            _plural(len(layout.sessions), "BGP session"),
            LEGEND if state is None else LEGEND + "\n" + str(state.get("legend") or STATE_LEGEND),
        ),
        labelloc="t",
        id="fabric",
    )
    g.attr("node", shape="box", style="rounded,filled", fontname="Helvetica", fontsize="10", margin="0.08,0.04")
    g.attr("edge", color="#555555")

    # Which box stands for each host (a collapsed rack's nodes share one).
    box: dict[str, str] = {}
    for site in layout.sites:
        for spine in site.spines:
            box[spine.hostname] = spine.hostname
        for rack in site.racks:
            for host in rack.tors + rack.nodes:
                if site.name in layout.collapsed_sites:
                    box[host.hostname] = _rack_box(rack)
                elif (site.name, rack.name) in layout.collapsed_racks and host.role == "node":
                    box[host.hostname] = _nodes_box(rack)
                else:
                    box[host.hostname] = host.hostname

    site_of = {spine.hostname: site.name for site in layout.sites for spine in site.spines}

    for index, site in enumerate(layout.sites):
        with g.subgraph(name="cluster_site_%d" % index) as sg:
            sg.attr(label="site %s" % site.name, id="site-%s" % site.name, style="rounded", color="#7a8ca5", fontsize="12")
            for spine in site.spines:
                sg.node(spine.hostname, _host_label(spine), id="host-%s" % spine.hostname, fillcolor=COLORS["spine"], tooltip="spine %s" % spine.hostname)
            if site.name in layout.collapsed_sites:
                _collapsed_site(sg, site, index)
            else:
                for rindex, rack in enumerate(site.racks):
                    _rack(sg, layout, site, rack, "cluster_rack_%d_%d" % (index, rindex))

    # Upstream routers: outside the fabric, above their spines.
    # An upstream router is one box per site (the same name at two sites: two routers).
    drawn_upstreams: set[str] = set()
    for session in layout.sessions:
        if session.b.role == "upstream":
            where = site_of.get(session.a.host, "")
            name = _upstream_name(where, session.b.host)
            if name not in drawn_upstreams:
                drawn_upstreams.add(name)
                g.node(
                    name,
                    "%s\nAS %d\n(upstream)" % (session.b.host, session.b.asn),
                    id="upstream-%s-%s" % (where, session.b.host),
                    fillcolor=COLORS["upstream"],
                    style="rounded,filled,dashed",
                    tooltip="upstream %s of site %s" % (session.b.host, where),
                )

    # One edge per pair of boxes: a link's sessions (families), or many links' once collapsed.
    links: dict[tuple[str, str], dict[str, Any]] = {}
    for session in layout.sessions:
        a: str | None = box.get(session.a.host)
        b: str | None
        if session.b.role == "upstream":
            # The upstream first: dot ranks an edge's tail above its head.
            a, b = _upstream_name(site_of.get(session.a.host, ""), session.b.host), a
        else:
            b = box.get(session.b.host)
        if a is None or b is None or a == b:
            continue
        link = links.setdefault((a, b), {"families": set(), "sessions": 0, "pairs": set()})
        link["families"].add(session.family)
        link["sessions"] += 1
        link["pairs"].add((session.a.host, session.b.host))
    spines = layout_spines(layout)
    for (a, b), link in links.items():
        if a in spines and b.startswith("rack/"):
            continue  # a spine's edges into a collapsed site: one per spine, below
        families = _families(link["families"])
        attrs = dict(EDGE_STYLE.get(families, {}))
        pairs = sorted(link["pairs"])
        if len(pairs) == 1:
            edge_id = "link-%s--%s" % pairs[0]
            tooltip = "%s -- %s: %s" % (pairs[0][0], pairs[0][1], ", ".join(families))
        else:
            edge_id = "links-%s--%s" % (a, b)
            tooltip = "%s -- %s: %d sessions (%s) of %d host pairs" % (a, b, link["sessions"], ", ".join(families), len(pairs))
            attrs["penwidth"] = "2"
        attrs.update({"id": edge_id, "class": "session " + " ".join(families), "tooltip": tooltip})
        if state is not None:
            _edge_state(attrs, state, pairs)
        g.edge(a, b, **attrs)
    _spine_to_collapsed_racks(g, layout, links, state)
    _site_grid(g, layout, box)
    if state is not None:
        _box_state(g, state, box)
    return g


def _session_down(state: Mapping[str, Any], a: str, b: str) -> bool:
    sessions = state.get("sessions") or {}
    return sessions.get((a, b)) is False or sessions.get((b, a)) is False


def _edge_state(attrs: dict[str, str], state: Mapping[str, Any], pairs: list[tuple[str, str]]) -> None:
    """Mark an edge up or down (down: some session of its host pairs is down at one end).

    With state["marks"] ({(host, peer): mark}, e.g. "reset" for a plan), an edge with a marked
    session gets the mark as its class instead.
    """
    marks = state.get("marks")
    if marks is not None:
        marked = sorted({str(marks.get(pair) or marks.get((pair[1], pair[0]))) for pair in pairs if marks.get(pair) or marks.get((pair[1], pair[0]))})
        if marked:
            attrs["class"] += " " + " ".join(marked)
            attrs.update(color=STATE_COLORS.get(marked[0], STATE_COLORS["reset"]), penwidth="3", style="bold")
            attrs["tooltip"] += " - %s" % ", ".join(marked)
        return
    down = [pair for pair in pairs if _session_down(state, *pair)]
    attrs["class"] += " down" if down else " up"
    if down:
        attrs.update(color=STATE_COLORS["down"], penwidth="3", style="bold")
        attrs["tooltip"] += " - DOWN: %s" % ", ".join("%s -- %s" % pair for pair in down)


def _box_state(g: Any, state: Mapping[str, Any], box: Mapping[str, str]) -> None:
    """Colour the boxes of hosts that failed a check (a box of several hosts: the worst of them)."""
    rank = {"ok": 0, "changed": 1, "failed": 2, "unknown": 3}
    worst: dict[str, str] = {}
    withdrawn: dict[str, int] = {}
    for host, verdict in (state.get("hosts") or {}).items():
        name = box.get(host)
        if name is None:
            continue
        if rank.get(verdict, 0) > rank.get(worst.get(name, "ok"), 0):
            worst[name] = verdict
        withdrawn[name] = withdrawn.get(name, 0) + len(((state.get("vips") or {}).get(host) or {}).get("withdrawn") or ())
    for name in sorted(set(box.values())):
        verdict = worst.get(name, "ok")
        attrs = {"class": "host " + verdict}
        if verdict != "ok":
            attrs["fillcolor"] = STATE_COLORS.get(verdict, STATE_COLORS["failed"])
        if withdrawn.get(name):
            attrs["xlabel"] = "%d withdrawn" % withdrawn[name]
        # A node statement again: DOT merges its attributes into the box drawn in its cluster.
        g.node(name, **attrs)


def _site_grid(g: Any, layout: Layout, box: Mapping[str, str]) -> None:
    """Sites in rows of SITE_COLUMNS: an invisible edge puts each site below the one SITE_COLUMNS before it."""

    def boxes(site: Site) -> list[str]:
        hosts = [h.hostname for h in site.spines] + [h.hostname for r in site.racks for h in r.tors + r.nodes]
        return list(dict.fromkeys(box[h] for h in hosts if h in box))

    for upper, lower in zip(layout.sites, layout.sites[SITE_COLUMNS:]):
        above, below = boxes(upper), boxes(lower)
        if above and below:
            g.edge(above[-1], below[0], style="invis")


def layout_spines(layout: Layout) -> set[str]:
    return {s.hostname for site in layout.sites for s in site.spines}


def _rack(sg: Any, layout: Layout, site: Site, rack: Rack, name: str) -> None:
    with sg.subgraph(name=name) as rg:
        rg.attr(
            label="rack %s" % rack.name, id="rack-%s-%s" % (site.name, rack.name), style="rounded,filled", fillcolor="#f7f7f7", color="#9aa88f", fontsize="11"
        )
        for tor in rack.tors:
            rg.node(tor.hostname, _host_label(tor), id="host-%s" % tor.hostname, fillcolor=COLORS["tor"], tooltip="ToR %s" % tor.hostname)
        if (site.name, rack.name) in layout.collapsed_racks:
            vips = rack.vips
            label = "%s\n%s\n%s" % (_plural(len(rack.nodes), "node"), _asns(rack.node_asns()), _plural(vips, "VIP") + " announced")
            rg.node(
                _nodes_box(rack),
                label,
                id="nodes-%s-%s" % (site.name, rack.name),
                fillcolor=COLORS["nodes"],
                tooltip="%s: %s" % (rack.label, " ".join(n.hostname for n in rack.nodes)),
            )
        else:
            for node in rack.nodes:
                rg.node(node.hostname, _host_label(node), id="host-%s" % node.hostname, fillcolor=COLORS["node"], tooltip="node %s" % node.hostname)


def _collapsed_site(sg: Any, site: Site, index: int) -> None:
    with sg.subgraph(name="cluster_racks_%d" % index) as rg:
        rg.attr(label="%s (one box each)" % _plural(len(site.racks), "rack"), id="racks-%s" % site.name, style="rounded,dashed", color="#9aa88f", fontsize="11")
        for rack in site.racks:
            tor_asns = sorted({t.asn for t in rack.tors})
            lines = [
                "rack %s" % rack.name,
                "%s (%s)" % (_plural(len(rack.tors), "ToR"), _asns(tor_asns)) if tor_asns else "no ToR",
                "%s, %s" % (_plural(len(rack.nodes), "node"), _plural(rack.vips, "VIP")),
            ]
            tooltip = "%s: %s" % (rack.label, " ".join(h.hostname for h in rack.tors + rack.nodes))
            rg.node(_rack_box(rack), "\n".join(lines), id="rack-%s-%s" % (site.name, rack.name), fillcolor=COLORS["rack"], tooltip=tooltip)
        # Rows of ROW_RACKS boxes: each box sits below the one ROW_RACKS before it.
        boxes = [_rack_box(r) for r in site.racks]
        for start in range(0, len(boxes), ROW_RACKS):
            with rg.subgraph() as row:
                row.attr(rank="same")
                members = boxes[start : start + ROW_RACKS]
                for name in members:
                    row.node(name)
                # Flat edges keep their tail left of their head: the racks in order.
                for left, right in zip(members, members[1:]):
                    row.edge(left, right, style="invis")
        for upper, lower in zip(boxes, boxes[ROW_RACKS:]):
            rg.edge(upper, lower, style="invis")


def _spine_to_collapsed_racks(
    g: Any, layout: Layout, links: Mapping[tuple[str, str], Mapping[str, Any]], state: Mapping[str, Any] | None = None
) -> None:
    for index, site in enumerate(layout.sites):
        if site.name not in layout.collapsed_sites or not site.racks:
            continue
        boxes = {_rack_box(r) for r in site.racks}
        head = _rack_box(site.racks[min(len(site.racks), ROW_RACKS) // 2])
        for spine in site.spines:
            mine = [link for (a, b), link in links.items() if a == spine.hostname and b in boxes]
            if not mine:
                continue
            count = sum(int(link["sessions"]) for link in mine)
            families = _families(set().union(*(link["families"] for link in mine)))
            attrs = dict(EDGE_STYLE.get(families, {}))
            attrs.update(
                {
                    "id": "links-%s--racks-%s" % (spine.hostname, site.name),
                    "class": "session " + " ".join(families),
                    "tooltip": "%s -- the ToRs of %s: %d sessions (%s)" % (spine.hostname, _plural(len(mine), "rack"), count, ", ".join(families)),
                    "penwidth": "2",
                    "lhead": "cluster_racks_%d" % index,
                }
            )
            if state is not None:
                _edge_state(attrs, state, sorted(pair for link in mine for pair in link["pairs"]))
            g.edge(spine.hostname, head, **attrs)


def source(layout: Layout, state: Mapping[str, Any] | None = None) -> str:
    """The DOT text of LAYOUT, coloured by STATE when given (deterministic; TopologyError without the binding)."""
    text: str = graph(layout, state).source
    return text


def dot_program() -> str | None:
    """The path of Graphviz's `dot`, or None."""
    return shutil.which("dot")


def svg(dot_source: str, timeout: int = 600) -> str:
    """DOT_SOURCE laid out by `dot` as SVG text (TopologyError when `dot` is missing or fails)."""
    program = dot_program()
    if program is None:
        raise TopologyError("Graphviz's dot program is not on the controller's PATH: " + DOT_HINT)
    try:
        proc = subprocess.run([program, "-Tsvg"], input=dot_source.encode("utf-8"), capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TopologyError("dot failed: %s" % exc) from None
    if proc.returncode != 0:
        raise TopologyError("dot failed (exit %d): %s" % (proc.returncode, proc.stderr.decode("utf-8", "replace").strip()[-2000:]))
    return proc.stdout.decode("utf-8")
