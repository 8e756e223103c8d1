#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: bgp_info
short_description: Read BGP sessions, exports and ECMP next hops from the routing daemon, optionally waiting for a state
version_added: 0.1.0
description:
  - Reads the live BGP state of a host from its routing daemon, in one shape for every daemon (the notes say what
    each daemon is asked).
  - Per session it returns the peer, ASNs, state, when it was established, prefixes received and sent, and the
    BFD state. It also returns the prefixes this host exports and, on FRR routers (ToRs, spines), the next hops
    installed in the kernel for each prefix in O(prefixes), i.e. its ECMP paths.
  - With O(wait_for_established), O(min_paths) or O(max_paths) it polls until the condition holds or
    O(timeout) passes, so that playbooks and CI can gate on the live state; on timeout it fails saying what
    is missing.
  - Reads only, so it is always safe in check mode.
author:
  - anycast.fabric contributors (@anycast-fabric)
options:
  prefixes:
    description:
      - Prefixes whose installed next hops to report (FRR routers only).
    type: list
    elements: str
    default: []
  gather_exports:
    description: Also read, per Established session, the prefixes this host advertises to that peer.
    type: bool
    default: true
  wait_for_established:
    description: Wait until every configured session is Established.
    type: bool
    default: false
  peers:
    description:
      - Only these peers (addresses) count for O(wait_for_established). Default is every session.
    type: list
    elements: str
    default: []
  min_paths:
    description: Wait until every prefix in O(prefixes) has at least this many installed next hops.
    type: int
  expected_paths:
    description:
      - Wait until each prefix has at least the given number of installed next hops (FRR routers only);
        usually C(fabric_intent | anycast.fabric.expected_paths). Its prefixes are reported in RV(routes) too.
    type: dict
    default: {}
  max_paths:
    description:
      - Wait until every prefix in O(prefixes) has at most this many installed next hops (for example V(0) to
        see a withdrawn VIP gone).
    type: int
  with_next_hops:
    description:
      - Wait until every prefix in O(prefixes) has all of these addresses among its installed next hops (for
        example an undrained node's address, back in the ToR's ECMP set).
      - A link-local next hop is reported, and matched, as the peer that sent it (its session address), or as
        the interface of an unnumbered link (for example V(swp1)).
    type: list
    elements: str
    default: []
  without_next_hops:
    description:
      - Wait until no prefix in O(prefixes) has any of these addresses among its installed next hops (for
        example a draining node's address, gone from the ToR's ECMP set).
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds to wait for the conditions.
    type: int
    default: 60
extends_documentation_fragment:
  - anycast.fabric.daemon.info
  - anycast.fabric.daemon.options
  - anycast.fabric.attributes.info_module
attributes:
  platform:
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Read the BGP state of a node
  anycast.fabric.bgp_info:
  register: bgp

- name: Wait until every session of a ToR is up and a VIP has two ECMP paths
  anycast.fabric.bgp_info:
    wait_for_established: true
    prefixes: [198.51.100.53/32]
    min_paths: 2
    timeout: 90

- name: Wait until a drained node's VIP has left the ToR's FIB
  anycast.fabric.bgp_info:
    prefixes: [198.51.100.53/32]
    max_paths: 1

- name: Wait until the ToR no longer sends a VIP's traffic to node 10.11.1.11
  anycast.fabric.bgp_info:
    prefixes: [198.51.100.53/32]
    without_next_hops: [10.11.1.11]
"""

RETURN = r"""
daemon:
  description: The daemon that was read.
  returned: always
  type: str
  sample: frr
sessions:
  description: One entry per BGP session (and address family).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: BIRD protocol name, or the FRR neighbor description.
      type: str
    peer:
      description: Peer address.
      type: str
    peer_as:
      description: Peer ASN.
      type: int
    local_as:
      description: Local ASN.
      type: int
    family:
      description: V(ipv4) or V(ipv6).
      type: str
    state:
      description: BGP state (V(Established), V(Active), V(Idle), ...).
      type: str
    established:
      description: Whether the session is Established.
      type: bool
    since:
      description: When the session was established (BIRD time stamp, FRR epoch computed from the uptime).
      type: str
    generation:
      description:
        - Changes exactly when the session re-establishes (BIRD's time stamp, FRR's count of established
          connections). Compare two reads to tell whether a session was reset in between.
        - BIRD's time stamp of one unchanged establishment can differ by tens of milliseconds between two reads on a
          loaded host (BIRD converts its monotonic clock with a real time it reads lazily); stamps less than 0.5 s
          apart name the same establishment (what M(anycast.fabric.routing_config)'s post-check assumes).
      type: str
    prefixes_received:
      description: Prefixes accepted from the peer.
      type: int
    prefixes_sent:
      description: Prefixes sent to the peer.
      type: int
    bfd:
      description: BFD session state (V(up), V(down), ...), or V(null) without BFD.
      type: str
    last_error:
      description: BIRD's last error for the session.
      type: str
    dynamic:
      description:
        - "FRR on a ToR with dynamic node peering (C(fabric_bgp.node_peering=dynamic)): the session was accepted through
          a listen range. It is in no configuration, and FRR drops it from its lists when it goes down (a missing
          session, not an Idle one)."
      type: bool
    exports:
      description: Prefixes advertised to the peer (with O(gather_exports)).
      type: list
      elements: str
  sample:
    - name: ams-r1-tor1
      peer: 10.11.1.1
      peer_as: 65101
      local_as: 4276126532
      family: ipv4
      state: Established
      established: true
      since: "13:54:40.114"
      generation: "13:54:40.114"
      prefixes_received: 0
      prefixes_sent: 3
      bfd: up
      last_error: null
      dynamic: false
      exports: ["10.244.1.0/24", "198.51.100.53/32", "198.51.100.80/32"]
established:
  description: Number of Established sessions.
  returned: always
  type: int
exports:
  description: Every prefix this host advertises to at least one peer.
  returned: when O(gather_exports=true)
  type: list
  elements: str
routes:
  description: For each prefix in O(prefixes), the next hops installed in the kernel.
  returned: always
  type: dict
  sample: {"198.51.100.53/32": {"next_hops": ["10.11.1.11", "10.11.1.12"], "paths": 2}}
waited:
  description: Seconds spent waiting for the conditions.
  returned: always
  type: float
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.anycast.fabric.plugins.module_utils._daemons import DAEMONS, DaemonError, auto, create, option_specs

POLL_INTERVAL = 0.5


def pick_daemon(module):
    choice = module.params["daemon"]
    return create(module, auto(module) if choice == "auto" else choice)


def unmet(params, sessions, routes):
    """What the wait conditions still miss, in words; empty when all hold."""
    missing = []
    if params["wait_for_established"]:
        wanted = set(params["peers"])
        for session in sessions:
            if (not wanted or session["peer"] in wanted) and not session["established"]:
                missing.append("session %s (%s) is %s" % (session["name"], session["peer"], session["state"]))
        for peer in sorted(wanted - set(s["peer"] for s in sessions)):
            missing.append("no session with %s is configured" % peer)
    for prefix, route in sorted(routes.items()):
        wanted = params["expected_paths"].get(prefix)
        if wanted is not None and route["paths"] < int(wanted):
            missing.append("%s has %d path(s), expected %s" % (prefix, route["paths"], wanted))
        if params["min_paths"] is not None and route["paths"] < params["min_paths"]:
            missing.append("%s has %d path(s), expected at least %d" % (prefix, route["paths"], params["min_paths"]))
        if params["max_paths"] is not None and route["paths"] > params["max_paths"]:
            missing.append("%s has %d path(s), expected at most %d" % (prefix, route["paths"], params["max_paths"]))
        if prefix in params["prefixes"]:
            for hop in params["with_next_hops"]:
                if not _routed_via(route["next_hops"], hop):
                    missing.append("%s is not routed via %s" % (prefix, hop))
            for hop in params["without_next_hops"]:
                if _routed_via(route["next_hops"], hop):
                    missing.append("%s is still routed via %s" % (prefix, hop))
    return missing


def _routed_via(next_hops, wanted):
    """Whether WANTED (an address, or the interface of an unnumbered link) is among NEXT_HOPS.

    A link-local next hop the daemon could not name by its peer stays scoped
    (fe80::1%swp1): it is the link of its interface.
    """
    return wanted in next_hops or any(hop.endswith("%" + wanted) for hop in next_hops)


def read(daemon, prefixes):
    sessions = daemon.state().sessions
    routes = {}
    for prefix in prefixes:
        hops = daemon.route_next_hops(prefix)
        routes[prefix] = dict(next_hops=hops, paths=len(hops))
    return sessions, routes


def main():
    module = AnsibleModule(
        argument_spec=dict(
            daemon=dict(type="str", choices=["auto"] + sorted(DAEMONS), default="auto"),
            prefixes=dict(type="list", elements="str", default=[]),
            gather_exports=dict(type="bool", default=True),
            wait_for_established=dict(type="bool", default=False),
            peers=dict(type="list", elements="str", default=[]),
            min_paths=dict(type="int"),
            expected_paths=dict(type="dict", default={}),
            max_paths=dict(type="int"),
            with_next_hops=dict(type="list", elements="str", default=[]),
            without_next_hops=dict(type="list", elements="str", default=[]),
            timeout=dict(type="int", default=60),
            **option_specs()
        ),
        supports_check_mode=True,
    )
    params = module.params
    path_conditions = params["min_paths"] is not None or params["max_paths"] is not None or params["with_next_hops"] or params["without_next_hops"]
    if path_conditions and not params["prefixes"]:
        module.fail_json(msg="min_paths, max_paths, with_next_hops and without_next_hops apply to prefixes; list the prefixes to check")
    daemon = pick_daemon(module)
    result = dict(changed=False, daemon=daemon.name)
    start = time.time()
    try:
        if not daemon.running():
            module.fail_json(msg="%s is not running (or its control interface is unreachable)" % daemon.name, **result)
        while True:
            sessions, routes = read(daemon, sorted(set(params["prefixes"]) | set(params["expected_paths"])))
            missing = unmet(params, sessions, routes)
            if not missing or time.time() - start >= params["timeout"]:
                break
            time.sleep(POLL_INTERVAL)
        if params["gather_exports"]:
            exported = set()
            for session in sessions:
                session["exports"] = daemon.exports(session) if session["established"] else []
                exported.update(session["exports"])
            result["exports"] = sorted(exported)
    except DaemonError as exc:
        module.fail_json(msg=str(exc), **result)
    result.update(sessions=sessions, routes=routes, established=sum(1 for s in sessions if s["established"]), waited=round(time.time() - start, 1))
    if missing:
        module.fail_json(msg="gave up after %ds: %s" % (params["timeout"], "; ".join(missing)), missing=missing, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
