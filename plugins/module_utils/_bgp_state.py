# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsing BIRD and FRR state into one session shape, and comparing snapshots.

Pure functions over the daemons' own output (`birdc show protocols all`,
`birdc show bfd sessions`, vtysh JSON), so they are tested against output
captured from the real daemons.

A session is a dict:
  name, peer, peer_as, local_as, family, state, established, since,
  generation, prefixes_received, prefixes_sent, bfd, last_error
`generation` changes exactly when the session re-establishes (BIRD: the time
stamp of its last state change; FRR: its count of established connections,
since FRR's epoch is recomputed from the uptime and jitters by a second);
comparing it across two snapshots tells whether an apply reset the session.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

BIRD_HEADER_RE = re.compile(
    r"^(?P<name>\S+)\s+(?P<proto>\S+)\s+(?P<table>\S+)\s+(?P<state>\S+)\s+"
    r"(?P<since>\d{4}-\d\d-\d\d(?: \d\d:\d\d:\d\d(?:\.\d+)?)?|\d\d:\d\d:\d\d(?:\.\d+)?)\s*(?P<info>.*)$"
)
BIRD_DETAIL_RE = re.compile(r"^\s+(?P<key>[A-Za-z][A-Za-z0-9 -]*):\s*(?P<value>.*)$")


def _session(**fields):
    session = dict(
        name=None,
        peer=None,
        peer_as=None,
        local_as=None,
        family=None,
        state=None,
        established=False,
        since=None,
        generation=None,
        prefixes_received=None,
        prefixes_sent=None,
        bfd=None,
        last_error=None,
        # FRR: accepted through a listen range (dynamic node peering); such a
        # session is not in the configuration and vanishes when it drops.
        dynamic=False,
    )
    session.update(fields)
    return session


def _int(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def parse_bird_protocols(text):
    """`birdc show protocols all` -> (sessions, protocols).

    protocols: {name: state} for every protocol (device, direct, bfd, ...),
    used to notice a protocol that went down during an apply.
    """
    sessions, protocols = [], {}
    current = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("BIRD ") or line.startswith("Name "):
            continue
        header = BIRD_HEADER_RE.match(line)
        if header and not line[0].isspace():
            protocols[header.group("name")] = header.group("state")
            current = None
            if header.group("proto") == "BGP":
                info = header.group("info").strip()
                since = header.group("since")
                current = _session(name=header.group("name"), state=info or header.group("state"), since=since, generation=since)
                sessions.append(current)
            continue
        if current is None:
            continue
        stripped = line.strip()
        if stripped.startswith("Channel "):
            current["family"] = stripped.split()[1]
            continue
        detail = BIRD_DETAIL_RE.match(line)
        if not detail:
            continue
        key, value = detail.group("key"), detail.group("value").strip()
        if key == "BGP state":
            current["state"] = value
        elif key == "Neighbor address":
            current["peer"] = value.split("%")[0]
        elif key == "Neighbor AS":
            current["peer_as"] = _int(value)
        elif key == "Local AS":
            current["local_as"] = _int(value)
        elif key == "Last error":
            current["last_error"] = value
        elif key == "Routes":
            imported = re.search(r"(\d+) imported", value)
            exported = re.search(r"(\d+) exported", value)
            current["prefixes_received"] = int(imported.group(1)) if imported else None
            current["prefixes_sent"] = int(exported.group(1)) if exported else None
    for session in sessions:
        session["established"] = session["state"] == "Established"
    return sessions, protocols


def parse_bird_bfd(text):
    """`birdc show bfd sessions` -> {peer address: 'up'|'down'|...}."""
    states = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3 and re.match(r"^[0-9a-fA-F:.]+$", fields[0]) and ("." in fields[0] or ":" in fields[0]):
            states[fields[0].split("%")[0]] = fields[2].lower()
    return states


FRR_FAMILIES = {"ipv4Unicast": "ipv4", "ipv6Unicast": "ipv6"}


def parse_frr_summary(text):
    """`show bgp vrf default summary json` -> sessions (one per peer and address family)."""
    data = json.loads(text) if isinstance(text, str) else text
    sessions = []
    for section, family in FRR_FAMILIES.items():
        block = data.get(section) or {}
        for peer, info in sorted((block.get("peers") or {}).items()):
            state = info.get("state")
            sessions.append(
                _session(
                    name=info.get("desc") or info.get("hostname") or peer,
                    peer=peer,
                    peer_as=info.get("remoteAs"),
                    local_as=info.get("localAs", block.get("as")),
                    family=family,
                    state=state,
                    established=state == "Established",
                    since=str(info["peerUptimeEstablishedEpoch"]) if state == "Established" and "peerUptimeEstablishedEpoch" in info else None,
                    generation=str(info.get("connectionsEstablished")),
                    prefixes_received=info.get("pfxRcd"),
                    prefixes_sent=info.get("pfxSnt"),
                    dynamic=bool(info.get("dynamicPeer")),
                )
            )
    return sessions


def _link_local(address):
    """Whether ADDRESS is an IPv6 link-local address (fe80::/10), as FRR prints it."""
    return isinstance(address, str) and re.match(r"(?i)fe[89ab][0-9a-f]:", address) is not None


def parse_frr_bfd(text):
    """`show bfd peers json` -> {peer address: 'up'|'down'|...}.

    The BFD peer of an unnumbered session is its link-local address: it is
    keyed by its interface, as the session is.
    """
    data = json.loads(text) if isinstance(text, str) else text
    out = {}
    for item in data or []:
        peer = item.get("peer")
        if peer:
            out[item["interface"] if _link_local(peer) and item.get("interface") else peer] = item.get("status")
    return out


def parse_frr_route(text, prefix):
    """`show ip[v6] route PREFIX json` -> the next hops installed in the FIB for PREFIX (link-local ones scoped: fe80::1%eth1)."""
    data = json.loads(text) if isinstance(text, str) else text
    hops = []
    for entry in data.get(prefix, []) if isinstance(data, dict) else []:
        if not entry.get("installed") and not entry.get("selected"):
            continue
        for hop in entry.get("nexthops", []):
            if hop.get("fib") and hop.get("ip"):
                # A link-local next hop means nothing without its interface: scoped (fe80::1%eth1).
                hops.append("%s%%%s" % (hop["ip"], hop["interfaceName"]) if _link_local(hop["ip"]) and hop.get("interfaceName") else hop["ip"])
    return sorted(set(hops))


def parse_frr_bgp_peers(text):
    """`show bgp ipv4|ipv6 unicast PREFIX json` -> {link-local next hop: the peer that sent it}.

    FRR installs an IPv6 route (and an IPv4 route over an unnumbered link) via
    the peer's link-local address. The fabric knows a peer by its session: its
    address, or the interface of an unnumbered link.
    """
    data = json.loads(text) if isinstance(text, str) else text
    out = {}
    for path in (data or {}).get("paths") or [] if isinstance(data, dict) else []:
        peer = path.get("peer") or {}
        who = peer.get("interface") if _link_local(peer.get("peerId")) else peer.get("peerId")
        if not who:
            continue
        for hop in path.get("nexthops") or []:
            if _link_local(hop.get("ip")):
                out[hop["ip"].lower()] = who
    return out


def name_link_local_hops(hops, peers):
    """HOPS (parse_frr_route) with each link-local one replaced by its peer (parse_frr_bgp_peers), where known."""
    named = []
    for hop in hops:
        address = hop.split("%", 1)[0].lower()
        named.append(peers.get(address, hop) if "%" in hop else hop)
    return sorted(set(named))


def with_bfd(sessions, bfd_states):
    for session in sessions:
        session["bfd"] = bfd_states.get(session["peer"])
    return sessions


def _key(session):
    return (session["peer"], session["family"])


def broken_sessions(before, after):
    """Sessions Established before the change, still configured, and not Established now."""
    now = dict((_key(s), s) for s in after)
    broken = []
    for session in before:
        current = now.get(_key(session))
        if session["established"] and current is not None and not current["established"]:
            broken.append(current)
    return broken


# BIRD shows a protocol's "since" by converting the monotonic time of its last
# state change to wall-clock time with the real time it reads lazily, later in
# its event loop: on a loaded host the same, unchanged state change is shown
# tens of milliseconds apart from one `show protocols` to the next (measured:
# 26 ms under a CPU-bound neighbour, every protocol shifted alike). A real
# re-establishment is at least `error wait time` (1 s) plus a new OPEN
# exchange later, so stamps closer than this are the same event.
BIRD_SINCE_JITTER = 0.5
_BIRD_TIME_RE = re.compile(r"(?:\d{4}-\d\d-\d\d )?(\d\d):(\d\d):(\d\d(?:\.\d+)?)\Z")


def _bird_seconds(stamp):
    match = _BIRD_TIME_RE.match(stamp) if isinstance(stamp, str) else None
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def same_generation(first, second):
    """Whether two generations of one session name the same establishment.

    FRR and GoBGP generations are counters and compare exactly; BIRD's are
    time stamps, equal within BIRD_SINCE_JITTER (across midnight too).
    """
    if first == second:
        return True
    a, b = _bird_seconds(first), _bird_seconds(second)
    if a is None or b is None:
        return False
    # Time of day only: two snapshots of one apply are never a day apart.
    delta = abs(a - b) % 86400
    return min(delta, 86400 - delta) < BIRD_SINCE_JITTER


def reset_sessions(before, after):
    """Sessions that were Established before and have been re-established since."""
    now = dict((_key(s), s) for s in after)
    return [
        now[_key(s)]
        for s in before
        if s["established"] and _key(s) in now and now[_key(s)]["established"] and not same_generation(now[_key(s)]["generation"], s["generation"])
    ]


def protocols_gone_down(before, after, sessions=()):
    """BIRD protocols (device, direct, bfd, static) that were up and are not any more.

    BGP protocols given in `sessions` are left out: broken_sessions() reports
    them with their state and last error.
    """
    skip = set(s["name"] for s in sessions)
    return sorted(name for name, state in before.items() if state == "up" and name in after and after[name] != "up" and name not in skip)


def describe(session):
    text = "%s (%s, AS %s) is %s" % (session["name"], session["peer"], session["peer_as"], session["state"])
    if session.get("last_error"):
        text += ": %s" % session["last_error"]
    return text


ROUTE_LINE_RE = re.compile(r"^([0-9a-fA-F:.]+/\d+)\s")


def parse_bird_route_export(text):
    """`birdc show route export PROTO` -> the prefixes exported to that session."""
    return sorted(set(m.group(1) for m in (ROUTE_LINE_RE.match(line) for line in text.splitlines()) if m))


def parse_frr_advertised(text):
    """`show bgp ... neighbors X advertised-routes json` -> the prefixes advertised to X."""
    data = json.loads(text) if isinstance(text, str) and text.strip() else {}
    return sorted((data.get("advertisedRoutes") or {}).keys())
