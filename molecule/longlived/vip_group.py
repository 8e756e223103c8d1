# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""On a router of the lab: the VIP's next hops and weights in the main table and in the agent's resilient group.

Prints JSON: main ({gateway: weight}), group ({gateway: weight}, the group the
agent's table routes the VIP through), buckets ({gateway: buckets}) and
balanced (the group has main's next hops and weights and the kernel has
finished moving buckets to them: unbalanced_time 0). A resilient group moves a
bucket only after it has been idle for the group's idle timer, so after a
weight change traffic can keep it unbalanced for that long (shares.yml waits).
"""

import json
import subprocess
import sys

VIP = sys.argv[1] if len(sys.argv) > 1 else "198.51.100.80"
TABLE = sys.argv[2] if len(sys.argv) > 2 else "200"


def ip(*args):
    out = subprocess.run(["ip", "-json"] + list(args), capture_output=True, text=True, check=False).stdout
    return json.loads(out or "[]")


def main():
    main_hops = {}
    for route in ip("route", "show", VIP + "/32"):
        if "gateway" in route:
            main_hops[route["gateway"]] = 1
        for hop in route.get("nexthops", []):
            if "gateway" in hop:
                main_hops[hop["gateway"]] = int(hop.get("weight", 1))
    singles = {n["id"]: n["gateway"] for n in ip("nexthop", "show") if "gateway" in n}
    agent = ip("route", "show", "table", TABLE, VIP + "/32")
    nhid = agent[0].get("nhid") if agent else None
    group, buckets, unbalanced = {}, {}, None
    if nhid is not None:
        found = ip("-details", "nexthop", "show", "id", str(nhid))
        if found:
            group = {singles.get(m["id"]): int(m.get("weight", 1)) for m in found[0].get("group", [])}
            unbalanced = found[0].get("resilient_args", {}).get("unbalanced_time")
        for bucket in ip("nexthop", "bucket", "show", "id", str(nhid)):
            gateway = singles.get(bucket["bucket"]["nhid"])
            buckets[gateway] = buckets.get(gateway, 0) + 1
    print(json.dumps({"main": main_hops, "group": group, "buckets": buckets, "unbalanced_time": unbalanced,
                      "balanced": bool(main_hops) and group == main_hops and not unbalanced}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
