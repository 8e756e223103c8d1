# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A ToR or spine managed elsewhere (fabric_daemon: external): a hand-off instead of a configuration.

The collection never connects to such a router (the intent role puts it in
the group EXTERNAL_GROUP, which the plays leave out) and renders no file a
role would apply. It still uses the router's addresses and ASN for its peers'
configurations, and writes, in the router's render folder, what the router
must have for the fabric to work: handoff.md (sessions, listen ranges, what is
accepted and announced, the session policy) and handoff.frr.conf (the same as
the FRR configuration the collection would apply to it, with the BGP key left
as a placeholder: a hand-off document must not carry the secret).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from ansible_collections.anycast.fabric.plugins.module_utils._daemon_identity import FRR
from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons.frr import Frr, frr_view
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import Intent, Peer

if TYPE_CHECKING:
    from jinja2 import Environment

EXTERNAL = "external"
# The inventory group the intent role puts external routers in (plays exclude it).
EXTERNAL_GROUP = "fabric_external"
HANDOFF_CONFIG = "handoff.frr.conf"
HANDOFF_NOTES = "handoff.md"
# Stands for fabric_bgp.password in the hand-off (a word FRR's parser takes).
PASSWORD_PLACEHOLDER = "FABRIC_BGP_PASSWORD"


class External(Frr):
    identity = None
    name = EXTERNAL  # type: ignore[assignment]
    config_file = HANDOFF_CONFIG  # type: ignore[assignment]
    config_path = ""  # type: ignore[assignment]
    packages = ()  # type: ignore[assignment]
    service = ""  # type: ignore[assignment]
    # What the fabric may ask of it: what an FRR router does; the network team provides it.
    capabilities = FRR.capabilities  # type: ignore[assignment]
    roles = frozenset(["tor", "spine"])
    default_for = frozenset()
    commands_title = None

    def render(self, env: Environment, intent: Intent, password: Optional[str]) -> str:
        text = super().render(env, intent, PASSWORD_PLACEHOLDER if password else None)
        head = (
            "! HAND-OFF for %s: anycast.fabric does not configure this router (fabric_daemon: external).\n"
            "! This is the FRR 8.4+ configuration the fabric expects of it; see handoff.md for the same as a list.\n"
            % intent.hostname
        )
        if password:
            head += "! Replace %s with the fabric's BGP key (fabric_bgp.password), given to you apart.\n" % PASSWORD_PLACEHOLDER
        return head + text

    def files(self, env: Environment, intent: Intent, password: Optional[str]) -> dict[str, str]:
        return {HANDOFF_CONFIG: self.render(env, intent, password), HANDOFF_NOTES: handoff_notes(intent)}


def _row(*cells: Any) -> str:
    return "| %s |" % " | ".join(str(c).replace("|", "\\|") for c in cells)


def _prefixes(values: tuple[str, ...], limit: int = 8) -> str:
    if not values:
        return "nothing"
    shown = ", ".join("`%s`" % v for v in values[:limit])
    return shown + (" and %d more (see %s)" % (len(values) - limit, HANDOFF_CONFIG) if len(values) > limit else "")


def handoff_notes(intent: Intent) -> str:
    """handoff.md: what the external router INTENT must have, in words and tables."""
    bgp = intent.bgp
    view = frr_view(intent)
    where = "site %s" % intent.site + (", rack %s" % intent.rack if intent.rack else "")
    kind = "ToR" if intent.role == "tor" else "spine"
    intro = (
        "%s is a %s of %s, AS %d, router id %s, managed outside anycast.fabric (`fabric_daemon: external`). "
        "The collection never connects to it; the fabric's other hosts are configured to peer with it as below. "
        "`%s` in this folder is the same as an FRR configuration."
    )
    out = [
        "# Hand-off: %s" % intent.hostname,
        "",
        intro % (intent.hostname, kind, where, intent.asn, intent.router_id, HANDOFF_CONFIG),
        "",
        "## Sessions",
        "",
        "| peer | role | family | its address | its ASN | from (this router) | accept | announce |",
        "|---|---|---|---|---|---|---|---|",
    ]
    dynamic = [p for p in intent.peers if p.dynamic]
    for peer in intent.peers:
        if peer.dynamic:
            continue
        announced = _prefixes(_announced(intent, peer))
        if peer.interface:
            # An unnumbered link: the session runs over this router's interface, its IPv6 link-local address.
            its, mine = "link-local on its `%s`" % peer.remote_interface, "interface `%s` (unnumbered)" % peer.interface
        else:
            its, mine = peer.address, peer.local_address
        out.append(_row(peer.name, peer.role, peer.family, its, peer.asn, mine, _prefixes(peer.accept), announced))
    if intent.listen:
        out += ["", "## Listen ranges (dynamic node peering)", ""]
        out += ["- `%s` (%s): accept a session from any address in it, any ASN but %d (`remote-as external`), at most %d sessions"
                % (r.prefix, r.family, intent.asn, bgp.listen_limit) for r in intent.listen]
        out += ["- accept from them only: %s" % ", ".join("`%s ge %d le %d`" % (r.prefix, r.low, r.high) for r in intent.pool_ranges)]
        out += ["- %d node session(s) are expected through them now: %s" % (len(dynamic), ", ".join(sorted(set(p.name for p in dynamic))) or "none")]
    out += ["", "## Policy on every fabric session", ""]
    out.append("- TCP-MD5 key: %s" % ("the fabric's `fabric_bgp.password` (not written here)" if bgp.password else "none"))
    out.append("- BFD: %s" % ("on, %d ms, multiplier %d" % (bgp.bfd_interval_ms, bgp.bfd_multiplier) if bgp.bfd else "off"))
    out.append("- GTSM (TTL security, one hop): %s" % ("on" if bgp.ttl_security else "off"))
    out.append("- timers: keepalive %d s, hold %d s; graceful restart %s" % (bgp.keepalive_time, bgp.hold_time, "on" if bgp.graceful_restart else "off"))
    if intent.role == "tor":
        out.append("- prefix limit per session from below: %d" % bgp.max_prefixes)
    else:
        out.append("- prefix limit per ToR session: as in %s" % HANDOFF_CONFIG)
    out.append("- paths that carry the graceful-shutdown community (65535:0) from below: local preference 0 (a drained node leaves ECMP)")
    out.append("- ECMP: up to %d paths, `bgp bestpath as-path multipath-relax`; hashed on layer 4 (Linux: "
               "`net.ipv4.fib_multipath_hash_policy` and `net.ipv6.fib_multipath_hash_policy` 1)" % bgp.ecmp_paths)
    out.append("- forwarding on for IPv4 and IPv6 (Linux: `net.ipv4.ip_forward`, `net.ipv6.conf.all.forwarding`)")
    if any(peer.interface for peer in intent.peers):
        out.append("- unnumbered links (FRR `neighbor IFACE interface`): one session per link over IPv6 link-local addresses "
                   "(router advertisements on the link, IPv6 enabled on it), both families on it, IPv4 routes with an IPv6 next hop "
                   "(extended next hop, RFC 8950)")
    if bgp.weighted_ecmp:
        if intent.role == "tor":
            out.append("- weighted ECMP: weight next hops by the link-bandwidth extended community the nodes send, and announce each "
                       "prefix to the spines with the sum over its ECMP set (FRR `set extcommunity bandwidth cumulative`)")
        else:
            out.append("- weighted ECMP: weight the ToRs by the link-bandwidth extended community they send; "
                       "announce nothing of it upstream (FRR `set extcommunity none`)")
    else:
        out.append("- weighted ECMP off: split equally (FRR `bgp bestpath bandwidth ignore`)")
    aggregates = [a for fam in ("ipv4", "ipv6") for a in view["aggregates"].get(fam, [])]
    if aggregates:
        out.append("- aggregates announced upstream summary-only: %s" % ", ".join("`%s`" % a for a in aggregates))
    out += [
        "",
        "anycast.fabric cannot read this router's state: `verify` and the rollout gate check its sessions from the "
        "other end (the nodes' and spines' sessions Established, the spines' paths through it), and `drain` cannot see it "
        "route around a draining node (it waits `fabric_drain_linger` instead).",
        "",
    ]
    return "\n".join(out)


def _announced(intent: Intent, peer: Peer) -> tuple[str, ...]:
    if peer.export:
        return peer.export
    if peer.role == "spine" and intent.pool_ranges:
        return tuple("%s ge %d le %d" % (r.prefix, r.low, r.high) for r in intent.pool_ranges if r.family == peer.family)
    return ()
