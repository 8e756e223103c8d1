# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""anycast-resilient-ecmp: mirror the anycast routes of the main table into resilient next-hop groups.

Shipped by the anycast.fabric.tor role (tor_resilient_ecmp: true). Linux
multipath routes hash-threshold (RFC 2992): when one next hop leaves or
joins, flows of OTHER next hops move too, and their TCP connections are
reset by the node they land on. A resilient next-hop group (Linux 5.13+)
moves only the buckets of a next hop that leaves, and gives a next hop that
joins only buckets that have been idle for idle_timer seconds. FRR 8.4's
zebra installs BGP routes through plain multipath groups, so this agent
mirrors them:

  every route of the main table inside one of the configured pools (what
  zebra installed from BGP) -> a resilient group per prefix (ids from
  id_base), its members one nexthop object per (gateway, device), and a
  route "PREFIX nhid GROUP" in a table of its own, consulted before main by
  one `ip rule ... to POOL lookup TABLE` per pool.

Groups are changed in place (`ip nexthop replace`), so surviving next hops
keep their buckets. The agent reacts to `ip monitor route` events and
re-reads everything every `resync` seconds. Fail-safe: the table only
shadows main while the agent runs. On SIGTERM, and from systemd's
ExecStopPost after any exit (crash, SIGKILL, watchdog), `--flush` removes
the rules, the table's routes and the agent's nexthop objects: lookups then
fall through to the main table, as without the agent (a one-time rehash).
With nothing to mirror for a pool, lookups fall through as well.

Uses iproute2 (`ip -json`, `ip -batch`): Debian 12's pyroute2 0.7.2 has no
RTM_NEWNEXTHOP support. Standard library only.

    anycast-resilient-ecmp [--config FILE]          run (systemd: Type=notify, WatchdogSec)
    anycast-resilient-ecmp --config FILE --once     one sync, print what it did
    anycast-resilient-ecmp --config FILE --flush    remove everything the agent installed
    anycast-resilient-ecmp --config FILE --status   JSON: rules, routes, groups and their buckets
"""

import argparse
import ipaddress
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

DEFAULTS = {
    "pools": [],
    "table": 200,
    "rule_priority": 1000,
    "buckets": 512,
    "idle_timer": 120,
    "unbalanced_timer": 0,
    "id_base": 1879048192,  # 0x70000000: above zebra's ids and below the protocol NHG range
    "id_span": 65536,
    "protocol": 250,
    "resync": 5.0,
    "debounce": 0.02,
}


class Failure(Exception):
    pass


def ip(*args, family=None, check=True, stdin=None):
    cmd = ["ip"] + (["-%d" % family] if family else []) + list(args)
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise Failure("%s: %s" % (" ".join(cmd), (proc.stderr or proc.stdout).strip()))
    return proc.stdout


def ip_json(*args, family=None):
    try:
        out = ip("-json", *args, family=family)
    except Failure as exc:
        # A routing table that holds no route yet "does not exist".
        if "table" in args and "does not exist" in str(exc):
            return []
        raise
    return json.loads(out) if out.strip() else []


def batch(lines, family=None):
    """Run iproute2 commands in one process (-force: report every failure, go on)."""
    if not lines:
        return
    proc = subprocess.run(["ip"] + (["-%d" % family] if family else []) + ["-force", "-batch", "-"], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise Failure("ip -batch: %s\n  in: %s" % (proc.stderr.strip(), "\n  in: ".join(lines)))


def load_config(path):
    config = dict(DEFAULTS)
    if path:
        with open(path) as handle:
            config.update(json.load(handle))
    pools = [ipaddress.ip_network(p, strict=False) for p in config["pools"]]
    if not pools:
        raise Failure("no pools configured: nothing to mirror")
    config["pools"] = pools
    if not 1 <= int(config["buckets"]) <= 65535:
        raise Failure("buckets must be 1..65535, not %s" % config["buckets"])
    return config


class Agent(object):
    def __init__(self, config, log=None):
        self.c = config
        self.log = log or (lambda msg: sys.stderr.write(msg + "\n"))
        self.lo = int(config["id_base"])
        self.hi = self.lo + int(config["id_span"])

    # ------------------------------------------------------------ reading
    def families(self):
        return sorted({p.version for p in self.c["pools"]})

    def in_pools(self, prefix):
        net = ipaddress.ip_network(prefix if "/" in prefix else prefix + ("/32" if ":" not in prefix else "/128"), strict=False)
        return any(net.version == p.version and net.subnet_of(p) for p in self.c["pools"])

    def ours(self, nhid):
        return self.lo <= int(nhid) < self.hi

    def main_routes(self):
        """{(family, prefix): [(gateway or None, dev, weight)]} for the pools' routes in main."""
        nexthops = None
        wanted = {}
        for family in self.families():
            for route in ip_json("route", "show", "table", "main", family=family):
                dst = route.get("dst")
                if not dst or dst == "default" or route.get("type", "unicast") != "unicast" or not self.in_pools(dst):
                    continue
                if "/" not in dst:
                    dst += "/32" if family == 4 else "/128"
                hops = []
                if route.get("nexthops"):
                    hops = [(h.get("gateway"), h.get("dev"), int(h.get("weight", 1))) for h in route["nexthops"]]
                elif route.get("nhid") is not None and not route.get("gateway") and not route.get("dev"):
                    if nexthops is None:
                        nexthops = {n["id"]: n for n in ip_json("nexthop", "show")}
                    hops = self._resolve(nexthops, route["nhid"])
                else:
                    hops = [(route.get("gateway"), route.get("dev"), 1)]
                hops = sorted(h for h in hops if h[1])
                if hops:
                    wanted[(family, dst)] = hops
        return wanted

    def _resolve(self, nexthops, nhid):
        nh = nexthops.get(nhid, {})
        if nh.get("group"):
            out = []
            for member in nh["group"]:
                sub = nexthops.get(member["id"], {})
                out.append((sub.get("gateway"), sub.get("dev"), int(member.get("weight", 1))))
            return out
        return [(nh.get("gateway"), nh.get("dev"), 1)]

    def state(self):
        """What the agent installed: singles, groups, table routes, rules."""
        singles, groups = {}, {}
        for nh in ip_json("nexthop", "show"):
            if not self.ours(nh["id"]):
                continue
            if nh.get("group"):
                groups[nh["id"]] = {
                    "members": sorted((m["id"], int(m.get("weight", 1))) for m in nh["group"]),
                    "buckets": (nh.get("resilient_args") or {}).get("buckets"),
                }
            else:
                # (gateway, device): the gateway's address says the family; a device-only next hop is shared
                singles[nh["id"]] = (nh.get("gateway"), nh.get("dev"))
        routes = {}
        for family in self.families():
            for route in ip_json("route", "show", "table", str(self.c["table"]), family=family):
                dst = route.get("dst")
                if dst and "/" not in dst:
                    dst += "/32" if family == 4 else "/128"
                routes[(family, dst)] = route.get("nhid")
        rules = set()
        for family in self.families():
            for rule in ip_json("rule", "show", family=family):
                if rule.get("priority") == self.c["rule_priority"] and str(rule.get("table")) == str(self.c["table"]):
                    rules.add((family, "%s/%s" % (rule.get("dst"), rule.get("dstlen")) if rule.get("dstlen") is not None else rule.get("dst")))
        return singles, groups, routes, rules

    # ------------------------------------------------------------ writing
    def sync(self):
        """Make the kernel match the main table; returns the commands run."""
        wanted = self.main_routes()
        singles, groups, routes, rules = self.state()
        by_key = {key: nhid for nhid, key in singles.items()}
        used = set(singles) | set(groups)
        free = (i for i in range(self.lo, self.hi) if i not in used)
        cmds, late = [], []

        def single(gateway, dev):
            key = (gateway, dev)
            if key not in by_key:
                nhid = next(free)
                by_key[key] = nhid
                cmds.append("nexthop replace id %d %sdev %s proto %d" % (
                    nhid, "via %s " % gateway if gateway else "", dev, self.c["protocol"]))
            return by_key[key]

        res = "type resilient buckets %d idle_timer %d unbalanced_timer %d" % (
            self.c["buckets"], self.c["idle_timer"], self.c["unbalanced_timer"])
        keep_groups, keep_singles = set(), set()
        for (family, prefix), hops in sorted(wanted.items()):
            members = sorted((single(gw, dev), weight) for gw, dev, weight in hops)
            keep_singles.update(m for m, _w in members)
            gid = routes.get((family, prefix))
            group = groups.get(gid) if gid is not None else None
            if group is None or group["buckets"] != self.c["buckets"]:
                gid = next(free)  # new group (or a new bucket count: a new group)
                group = None
            keep_groups.add(gid)
            spec = "/".join("%d,%d" % (m, w) if w != 1 else "%d" % m for m, w in members)
            if group is None or group["members"] != members:
                # replace keeps the buckets of every surviving member
                cmds.append("nexthop replace id %d group %s %s proto %d" % (gid, spec, res, self.c["protocol"]))
            if routes.get((family, prefix)) != gid:
                cmds.append("route replace %s nhid %d table %d proto %d" % (
                    prefix, gid, self.c["table"], self.c["protocol"]))
        for (family, prefix) in sorted(routes):
            if (family, prefix) not in wanted:
                late.append("route del %s table %d" % (prefix, self.c["table"]))
        late += ["nexthop del id %d" % g for g in sorted(groups) if g not in keep_groups]
        late += ["nexthop del id %d" % s for s in sorted(singles) if s not in keep_singles]
        batch(cmds + late)
        # The rules last: the table is complete before it is consulted.
        done = cmds + late
        for family in self.families():
            adds = ["rule add pref %d to %s lookup %d" % (self.c["rule_priority"], pool, self.c["table"])
                    for pool in self.c["pools"] if pool.version == family and (family, str(pool)) not in rules]
            batch(adds, family)
            done += ["-%d %s" % (family, line) for line in adds]
        return done

    def flush(self):
        """Remove the rules, then the routes, then the nexthop objects (lookups fall back to main)."""
        cmds = []
        for family in self.families():
            while True:
                proc = subprocess.run(["ip", "-%d" % family, "rule", "del", "pref", str(self.c["rule_priority"]),
                                       "lookup", str(self.c["table"])], capture_output=True, check=False)
                if proc.returncode != 0:
                    break
                cmds.append("-%d rule del pref %d lookup %d" % (family, self.c["rule_priority"], self.c["table"]))
        # One by one: `ip route flush` refuses routes that use nexthop objects (EINVAL).
        singles, groups, routes, _rules = self.state()
        dels = ["route del %s table %d" % (prefix, self.c["table"]) for _family, prefix in sorted(routes)]
        dels += ["nexthop del id %d" % g for g in sorted(groups)] + ["nexthop del id %d" % s for s in sorted(singles)]
        batch(dels)
        return cmds + dels

    def status(self):
        singles, groups, routes, rules = self.state()
        out = {"rules": sorted("%s" % r[1] for r in rules), "routes": {}, "groups": {}}
        for (_family, prefix), gid in sorted(routes.items()):
            out["routes"][prefix] = gid
        for gid, group in sorted(groups.items()):
            counts = {}
            for bucket in ip_json("nexthop", "bucket", "show", "id", str(gid)):
                member = bucket.get("bucket", {}).get("nhid")
                key = singles.get(member, (str(member), None))
                name = key[0] or key[1]
                counts[name] = counts.get(name, 0) + 1
            out["groups"][str(gid)] = {"buckets": group["buckets"], "members": [singles.get(m, (m,))[0] for m, _w in group["members"]],
                                       "buckets_per_member": counts}
        return out


# ---------------------------------------------------------------- daemon
def sd_notify(message):
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return
    if path.startswith("@"):
        path = "\0" + path[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(message.encode(), path)
        except OSError:
            pass


def run(agent):
    stopping = []

    def stop(_signum, _frame):
        stopping.append(True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    monitor = subprocess.Popen(["ip", "monitor", "route"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    os.set_blocking(monitor.stdout.fileno(), False)
    try:
        done = agent.sync()
        agent.log("started: %d change(s)" % len(done))
        sd_notify("READY=1\nSTATUS=mirroring")
        last = time.monotonic()
        while not stopping:
            ready, _w, _x = select.select([monitor.stdout], [], [], 1.0)
            if monitor.poll() is not None:
                raise Failure("ip monitor exited (%s)" % monitor.returncode)
            event = False
            if ready:
                event = bool(monitor.stdout.read())
                if event:
                    time.sleep(agent.c["debounce"])  # let zebra finish a burst
                    monitor.stdout.read()
            if event or time.monotonic() - last >= agent.c["resync"]:
                try:
                    done = agent.sync()
                except Failure as exc:
                    agent.log("sync failed (retrying): %s" % exc)
                    done = []
                for line in done:
                    agent.log(line)
                last = time.monotonic()
            sd_notify("WATCHDOG=1")
    finally:
        monitor.terminate()
        sd_notify("STOPPING=1")
        for line in agent.flush():
            agent.log("flush: " + line)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--config", default="/etc/anycast-fabric/resilient-ecmp.json")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="sync once and exit (the rules stay)")
    mode.add_argument("--flush", action="store_true", help="remove the rules, routes and nexthops the agent installed")
    mode.add_argument("--status", action="store_true", help="print the installed state as JSON")
    args = parser.parse_args(argv)
    try:
        agent = Agent(load_config(args.config))
        if args.flush:
            for line in agent.flush():
                print(line)
            return 0
        if args.status:
            print(json.dumps(agent.status(), indent=1))
            return 0
        if args.once:
            for line in agent.sync():
                print(line)
            return 0
        return run(agent)
    except (Failure, OSError, ValueError) as exc:
        sys.stderr.write("anycast-resilient-ecmp: %s\n" % exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
