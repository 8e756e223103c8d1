# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unnumbered ToR-spine links: a ToR's `fabric_uplinks`, read and cross-checked.

A ToR that declares its links (its interface, the spine, the spine's
interface) peers with its spines over them without any address plan: one
session per link over IPv6 link-local addresses, carrying IPv4 with an IPv6
next hop (extended next hop, RFC 8950) and IPv6. The spine's side of every
link is derived from its ToRs' declarations, so each link is declared once.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.anycast.fabric.plugins.module_utils import _net_rules
from ansible_collections.anycast.fabric.plugins.module_utils._schema import REQUIRED, Field, Table
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.inputs import HOSTNAME_MAX

UPLINK_TABLE = Table(
    "fabric_uplinks",
    (
        Field(
            "interface",
            "string",
            "the ToR's interface on the link",
            default=REQUIRED,
            pattern=_net_rules.INTERFACE_RE,
            rule=_net_rules.INTERFACE_RULE,
            restrictions="one link per interface of the ToR",
        ),
        Field(
            "spine",
            "string",
            "the spine at the other end: a host of `fabric_spines` in the ToR's site",
            default=REQUIRED,
            max_length=HOSTNAME_MAX,
        ),
        Field(
            "spine_interface",
            "string",
            "the spine's interface on the link",
            default=REQUIRED,
            pattern=_net_rules.INTERFACE_RE,
            rule=_net_rules.INTERFACE_RULE,
            restrictions="one link per interface of the spine, over all of its ToRs",
        ),
    ),
    key="Key",
)
SCHEMA_TABLES = (UPLINK_TABLE,)


@dataclass(frozen=True)
class Uplink:
    """One declared ToR-spine link."""

    interface: str
    spine: str
    spine_interface: str
    path: str  # fabric_uplinks[N], for messages


def read_uplinks(reader, role):
    """The links a host declares in `fabric_uplinks` (only ToRs may), in the order given."""
    raw = reader.get("fabric_uplinks")
    if raw is None or raw == []:
        return ()
    if role != "tor":
        reader.fail("fabric_uplinks", raw, "only applies to ToRs (fabric_tors): a spine's side of each link comes from its ToRs' declarations")
        return ()
    links = []
    seen = {}
    for index, item in enumerate(reader.list_of("fabric_uplinks", raw)):
        path = "fabric_uplinks[%d]" % index
        before = len(reader.problems)
        given = reader.fields(path, UPLINK_TABLE, item)
        if given is None or len(reader.problems) != before:
            continue
        if given["interface"] in seen:
            why = "is also the interface of %s; a ToR interface carries one link" % seen[given["interface"]]
            reader.fail(path + ".interface", given["interface"], why)
            continue
        seen[given["interface"]] = path
        links.append(Uplink(interface=given["interface"], spine=given["spine"], spine_interface=given["spine_interface"], path=path))
    return tuple(links)


def link_problems(layout, problems):
    """Cross-host checks of the declared links.

    Each link names a spine of the ToR's site, a spine interface carries one
    link over all ToRs, every spine of the site is linked (as a numbered ToR
    peers with all of them), and a ToR either declares links or gives uplink
    addresses, not both.
    """
    owners = {}
    for name in sorted(layout.hosts):
        tor = layout.hosts[name]
        if tor.role != "tor" or not tor.uplinks:
            continue
        for var in ("fabric_uplink_ipv4", "fabric_uplink_ipv6"):
            if getattr(tor, var[len("fabric_") :]) is not None:
                problems.add(name, var, str(getattr(tor, var[len("fabric_") :])), "cannot be combined with fabric_uplinks: the ToR's links are unnumbered")
        site_spines = sorted(s.name for s in layout.spines.get(tor.site, []))
        linked = set()
        for link in tor.uplinks:
            if link.spine not in site_spines:
                where = ("its spines: %s" % ", ".join(site_spines)) if site_spines else "it has no spines"
                problems.add(name, link.path + ".spine", link.spine, "names no spine of site '%s' (%s)" % (tor.site, where))
                continue
            linked.add(link.spine)
            key = (link.spine, link.spine_interface)
            if key in owners:
                other, other_path = owners[key]
                why = "is already the link of %s %s on %s; a spine interface carries one link" % (other, other_path, link.spine)
                problems.add(name, link.path + ".spine_interface", link.spine_interface, why)
                continue
            owners[key] = (name, link.path)
        missing = [s for s in site_spines if s not in linked]
        if missing and linked:
            why = "links no interface to %s: a ToR peers with every spine of its site (site '%s')" % (", ".join(missing), tor.site)
            problems.add(name, "fabric_uplinks", [link.interface for link in tor.uplinks], why)
