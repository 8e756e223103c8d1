# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GoBGP (Debian's gobgpd 3.x) on nodes: its TOML view, what it cannot do, and the changes that reset a session.

GoBGP's configuration file has no static routes, so the prefixes a node
originates are listed in prefix-sets named ORIGINATE-V4 / ORIGINATE-V6; the
host side (module_utils/_gobgp_rib.py) adds exactly those to gobgpd's global RIB
after every apply and on every start of the unit. What each ToR is sent, with
which communities, is the export policy, so a drain is a policy change
(GSHUT added, or the VIPs left out) like on BIRD and FRR.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Union

from ansible_collections.anycast.fabric.plugins.module_utils._contract import FAMILY_TAG
from ansible_collections.anycast.fabric.plugins.module_utils._daemon_identity import GOBGP
from ansible_collections.anycast.fabric.plugins.module_utils._gobgp import session_changes
from ansible_collections.anycast.fabric.plugins.module_utils._gobgp_rib import ORIGINATE_SETS
from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons.base import Driver, Problem, Requirement
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import weights
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import Intent

if TYPE_CHECKING:  # the model imports the drivers: only the checker reads these
    from ansible_collections.anycast.fabric.plugins.plugin_utils.model.hosts import Host
    from ansible_collections.anycast.fabric.plugins.plugin_utils.model.model import Fabric

AFI_SAFI = {"ipv4": "ipv4-unicast", "ipv6": "ipv6-unicast"}


def gobgp_view(intent: Intent) -> dict[str, Any]:
    """Prefix-sets, export policies and neighbors of a GoBGP node.

    A node originates exactly what its export policy sends: GoBGP does not
    withdraw a path that a changed export policy now rejects (measured with
    3.10: a soft reset out only re-sends what is accepted), so a drained
    VIP leaves the RIB instead, which withdraws it.
    """
    prefix_sets: list[dict[str, Any]] = []
    policies: list[dict[str, Any]] = []
    for fam, tag in FAMILY_TAG.items():
        originate: list[str] = []
        statements: list[dict[str, Any]] = []
        for index, entry in enumerate(intent.export_policy.get(fam, ()), start=1):
            name = "EXPORT-%s-%d" % (tag, index)
            prefix_sets.append({"name": name, "prefixes": list(entry.prefixes)})
            originate += [p for p in entry.prefixes if p not in originate]
            statements.append(
                {
                    "name": name,
                    "prefix_set": name,
                    "communities": list(entry.communities),
                    "large_communities": list(entry.large_communities),
                    # Weighted ECMP: GoBGP's link-bandwidth form is ASN:bytes per second (model/weights.py).
                    "ext_communities": ["lb:%d:%d" % (weights.as_field(intent.asn), entry.bandwidth * weights.MBPS_BYTES)] if entry.bandwidth else [],
                }
            )
        if originate:
            prefix_sets.insert(0, {"name": ORIGINATE_SETS[fam], "prefixes": sorted(originate, key=_network_key)})
        if statements:
            policies.append({"name": "EXPORT-%s" % tag, "statements": statements})
    neighbors = [
        {
            "address": peer.address,
            "asn": peer.asn,
            "description": peer.name,
            "local_address": peer.local_address,
            "afi_safi": AFI_SAFI[peer.family],
        }
        for peer in intent.peers
    ]
    return {"prefix_sets": sorted(prefix_sets, key=lambda s: s["name"]), "policies": policies, "neighbors": neighbors}


def _network_key(prefix: str) -> tuple[int, Union[ipaddress.IPv4Address, ipaddress.IPv6Address], int]:
    net = ipaddress.ip_network(prefix)
    return (net.version, net.network_address, net.prefixlen)


class GoBGP(Driver):
    identity = GOBGP
    roles = frozenset(["node"])
    default_for = frozenset()
    template = "gobgp.toml.j2"
    # No BFD in GoBGP; and no VIP that follows its address on the VIP
    # interface (health-checked VIPs): see problems().
    commands_title = None

    def view(self, intent: Intent) -> dict[str, Any]:
        return gobgp_view(intent)

    def requirements(self, host: Host, fabric: Fabric) -> list[Requirement]:
        needs = super().requirements(host, fabric)
        for vip in getattr(host, "vips", None) or ():
            if vip.health is not None:
                kinds = [c.get("type") for c in (vip.health.get("checks") or []) if isinstance(c, dict)] if isinstance(vip.health, dict) else []
                needs.append(("health_vips", vip.path + ".health", "checks: %s" % ", ".join(map(str, kinds)) if kinds else "a health check"))
        return needs

    def problems(self, host: Host, fabric: Fabric) -> list[Problem]:
        found: list[Problem] = []
        for capability, path, value in self.requirements(host, fabric):
            if capability in self.capabilities:
                continue
            if capability == "bfd":
                reason = (
                    "fabric_daemon gobgp (GoBGP) has no BFD; set fabric_bgp.bfd: false in a fabric with GoBGP nodes "
                    "(a dead node is then dropped after fabric_bgp.hold_time)"
                )
            elif capability == "health_vips":
                reason = (
                    "is not supported with fabric_daemon: gobgp: GoBGP announces the VIPs of its configuration and does not "
                    "follow the address on %s, so the health agent could not withdraw this VIP; remove the check or run bird or frr on %s"
                    % (host.vip_interface, host.name)
                )
            else:
                reason = "fabric_daemon gobgp cannot do %s; change this setting or run another daemon on %s" % (capability, host.name)
            found.append((path, value, reason))
        return found

    def resets(self, intent: Intent, observed: Mapping[str, Any]) -> set[str]:
        sessions = (observed.get("bgp") or {}).get("sessions") or []
        diff = (observed.get("config") or {}).get("diff") or {}
        changes = session_changes(diff.get("before"), diff.get("after"))  # type: ignore[no-untyped-call]  # _gobgp: not annotated yet
        if changes is None:
            return super().resets(intent, observed)
        global_changed, neighbors = changes
        if global_changed:
            return set(s["peer"] for s in sessions)
        return set(s["peer"] for s in sessions if s["peer"] in neighbors)
