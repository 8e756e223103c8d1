"""Summarise the running lab fabric (make lab): BGP sessions, ECMP, traffic.

Reads the live state from the containers with `docker exec`:
  - BGP sessions at the spine and each ToR (vtysh `show bgp vrf default
    summary json`), per address family;
  - the ECMP next hops of every anycast VIP at the spine and each ToR
    (`show ip route VIP json` / `show ipv6 route VIP json`), named after the
    container that owns each next-hop address;
  - a traffic check from the client, as molecule's verify does it: REQUESTS
    HTTP requests per VIP, one curl (new connection, new source port) each,
    and how many answers came from each node.
The IPv6 VIP is included when the spine has a BGP route for it (dual-stack).
Exits 1 when a session is down, a router has no path to a VIP, a node never
answered or a request failed.
Standard library only.
"""

import json
import subprocess
import sys
from collections import Counter

ROUTERS = ["spine1", "tor1", "tor2"]
NODES = ["n1", "n2", "n3", "n4"]
CLIENT = "client"
VIPS = [("ip", "198.51.100.80"), ("ipv6", "2001:db8:ac::80")]
REQUESTS = 60


def docker_exec(container, *cmd):
    proc = subprocess.run(["docker", "exec", container, *cmd], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit("summary: `%s` in %s failed: %s" % (" ".join(cmd), container, proc.stderr.strip()))
    return proc.stdout


def vtysh_json(router, command):
    return json.loads(docker_exec(router, "vtysh", "-c", command) or "{}")


def owners():
    """Every address of every lab container (link-local included) -> its name."""
    names = {}
    for name in ROUTERS + NODES + [CLIENT]:
        for link in json.loads(docker_exec(name, "ip", "-json", "address", "show")):
            for addr in link.get("addr_info", []):
                names[addr["local"]] = name
    return names


def bgp_next_hops(router, family, vip, names):
    """Names of the installed next hops of the router's BGP route to vip, or None."""
    routes = vtysh_json(router, "show %s route %s json" % (family, vip))
    # vtysh answers with the longest match, possibly the default route.
    entries = [e for route in routes.values() for e in route if e.get("protocol") == "bgp" and e.get("selected")]
    if not entries:
        return None
    return sorted(names.get(hop.get("ip"), hop.get("ip", hop.get("interfaceName", "?")))
                  for entry in entries for hop in entry.get("nexthops", []) if hop.get("fib"))


def traffic(vip):
    url = "http://[%s]/" % vip if ":" in vip else "http://%s/" % vip
    script = 'for _ in $(seq %d); do curl -g -s --max-time 2 "%s" || echo FAILED; done' % (REQUESTS, url)
    return Counter(docker_exec(CLIENT, "bash", "-c", script).split())


def main():
    ok = True
    print("BGP sessions (Established/configured)")
    for router in ROUTERS:
        summary = vtysh_json(router, "show bgp vrf default summary json")
        cells = []
        for afi, data in sorted(summary.items()):
            peers = data.get("peers", {})
            up = [p for p in peers.values() if p.get("state") == "Established"]
            ok &= len(up) == len(peers)
            cells.append("%s %d/%d" % (afi, len(up), len(peers)))
        print("  %-7s %s" % (router, "   ".join(cells) or "no BGP"))

    names = owners()
    vips = [(family, vip) for family, vip in VIPS if bgp_next_hops(ROUTERS[0], family, vip, names) is not None]
    print("ECMP next hops per VIP")
    for family, vip in vips:
        for router in ROUTERS:
            hops = bgp_next_hops(router, family, vip, names) or []
            ok &= len(hops) > 0
            print("  %-16s at %-7s %d path(s): %s" % (vip, router, len(hops), ", ".join(hops) or "-"))

    print("Traffic from %s (%d requests per VIP)" % (CLIENT, REQUESTS))
    for _family, vip in vips:
        counts = traffic(vip)
        failed = counts.pop("FAILED", 0)
        silent = [node for node in NODES if not counts.get(node)]
        ok &= not failed and not silent
        print("  %-16s %s failed=%d%s" % (
            vip, " ".join("%s=%d" % (node, counts.get(node, 0)) for node in NODES), failed,
            "  NEVER ANSWERED: " + ", ".join(silent) if silent else ""))
    print("summary: %s" % ("OK" if ok else "PROBLEMS (see above)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
