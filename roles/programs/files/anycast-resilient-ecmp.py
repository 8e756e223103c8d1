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
re-reads everything every `resync` seconds.

Lifecycle: the agent's state lives in the kernel, not in the process, so a
restart costs no rehash.

  start      adopt what a previous run left (groups found through the table's
             routes, in the id range): same ids, same members, same buckets.
             An unchanged group is not touched; a group whose members differ
             from main is replaced in place (only the changed next hop's
             buckets move); new idle/unbalanced timers are set in place (the
             kernel keeps the buckets). A new bucket count cannot be changed in
             place: a new group, one deliberate rehash.
  SIGTERM    exit, leaving everything in place.
  stopped    systemd's ExecStopPost runs `--stopped UNIT`. A stop job
             (`systemctl stop`, the role switching the agent off, shutdown)
             flushes now. A restart job (`systemctl restart`: the role's
             config change or upgrade) leaves everything for the next start.
             Any other exit (crash, SIGKILL, watchdog, a failed start) leaves
             the groups and arms a transient timer (`systemd-run`): after
             `stale_sec` seconds, `--flush-stale` flushes unless the agent has
             synced since (it stamps `run_dir`/synced after every sync).
             stale_sec 0: flush at once after such an exit.

A flush removes the rules, the table's routes and the agent's nexthop
objects: lookups fall through to the main table, as without the agent (a
one-time rehash). With nothing to mirror for a pool, lookups fall through as
well. While stale groups are in place, a next hop whose device goes down is
removed from them by the kernel (its buckets go to the others); a gateway
that disappears behind a live link stays in them until the agent is back or
the stale timer flushes.

Uses iproute2 (`ip -json`, `ip -batch`): Debian 12's pyroute2 0.7.2 has no
RTM_NEWNEXTHOP support. Standard library only.

    anycast-resilient-ecmp [--config FILE]          run (systemd: Type=notify, WatchdogSec)
    anycast-resilient-ecmp --config FILE --once     one sync, print what it did
    anycast-resilient-ecmp --config FILE --flush    remove everything the agent installed
    anycast-resilient-ecmp --config FILE --status   JSON: rules, routes, groups and their buckets
    anycast-resilient-ecmp --config FILE --stopped UNIT       systemd ExecStopPost: flush, keep or arm the stale timer
    anycast-resilient-ecmp --config FILE --flush-stale SINCE  flush unless the agent synced after SINCE (CLOCK_BOOTTIME)
"""

import argparse
import contextlib
import fcntl
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
    "stale_sec": 30,  # after a crash, the groups stay this long unless the agent is back (0: flush at once)
    "run_dir": "/run/anycast-resilient-ecmp",  # the sync stamp and lock (systemd: RuntimeDirectory=, preserved)
}


class Failure(Exception):
    pass


def ip(*args, family=None, check=True, stdin=None):
    cmd = ["ip"] + (["-%d" % family] if family else []) + list(args)
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise Failure("%s: %s" % (" ".join(cmd), (proc.stderr or proc.stdout).strip()))
    return proc.stdout


def _gateway(hop):
    """A route's next-hop address: `gateway`, or `via` for an IPv4 route through an IPv6 next hop (unnumbered links, RFC 8950)."""
    return hop.get("gateway") or (hop.get("via") or {}).get("host")


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
    if int(config["stale_sec"]) < 0:
        raise Failure("stale_sec must be 0 or more, not %s" % config["stale_sec"])
    return config


def boottime():
    """Seconds since boot, suspend included: one clock for the agent, ExecStopPost and the stale timer."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


class Agent(object):
    def __init__(self, config, log=None):
        self.c = config
        self.log = log or (lambda msg: sys.stderr.write(msg + "\n"))
        self.lo = int(config["id_base"])
        self.hi = self.lo + int(config["id_span"])
        self.no_run_dir = False

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
                    hops = [(_gateway(h), h.get("dev"), int(h.get("weight", 1))) for h in route["nexthops"]]
                elif route.get("nhid") is not None and not route.get("gateway") and not route.get("dev"):
                    if nexthops is None:
                        nexthops = {n["id"]: n for n in ip_json("nexthop", "show")}
                    hops = self._resolve(nexthops, route["nhid"])
                else:
                    hops = [(_gateway(route), route.get("dev"), 1)]
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
                res = nh.get("resilient_args") or {}
                groups[nh["id"]] = {
                    "members": sorted((m["id"], int(m.get("weight", 1))) for m in nh["group"]),
                    "buckets": res.get("buckets"),
                    "timers": (res.get("idle_timer"), res.get("unbalanced_timer")),
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
        # Adoption: a (gateway, device) is the nexthop object a group already uses, so an
        # adopted group's members compare equal (two objects for one key: the group's wins).
        in_use = {m for g in groups.values() for m, _w in g["members"]}
        by_key = {}
        for nhid, key in sorted(singles.items(), key=lambda item: (item[0] not in in_use, item[0])):
            by_key.setdefault(key, nhid)
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
                # New, or a new bucket count: the kernel cannot change it in place, a new group (a rehash).
                gid = next(free)
                group = None
            keep_groups.add(gid)
            spec = "/".join("%d,%d" % (m, w) if w != 1 else "%d" % m for m, w in members)
            timers = (self.c["idle_timer"], self.c["unbalanced_timer"])
            if group is None or group["members"] != members or group.get("timers") != timers:
                # replace keeps the buckets of every surviving member; with the same members
                # (an adopted group with new timers) it moves none. An unchanged group is not touched.
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

    # ------------------------------------------------------------ the sync stamp
    def _run_path(self, name):
        return os.path.join(self.c["run_dir"], name)

    @contextlib.contextmanager
    def locked(self):
        """Hold run_dir/lock: a sync and a flush never interleave (without run_dir: no lock, a note)."""
        try:
            os.makedirs(self.c["run_dir"], exist_ok=True)
            handle = open(self._run_path("lock"), "a")  # pylint: disable=consider-using-with
        except OSError as exc:
            if not self.no_run_dir:
                self.log("no %s (%s): no lock, no sync stamp" % (self.c["run_dir"], exc))
            self.no_run_dir = True
            yield
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            handle.close()

    def stamp(self):
        """Record a completed sync (CLOCK_BOOTTIME) in run_dir/synced."""
        path = self._run_path("synced")
        try:
            with open(path + ".tmp", "w") as handle:
                handle.write("%.3f\n" % boottime())
            os.replace(path + ".tmp", path)
        except OSError as exc:
            if not self.no_run_dir:
                self.log("cannot stamp %s: %s" % (path, exc))
            self.no_run_dir = True

    def synced(self):
        """The CLOCK_BOOTTIME of the last completed sync, None if there was none since boot."""
        try:
            with open(self._run_path("synced")) as handle:
                return float(handle.read().strip())
        except (OSError, ValueError):
            return None

    def flush_stale(self, since):
        """The stale timer: flush unless the agent completed a sync after `since`; returns (flushed, commands)."""
        with self.locked():
            last = self.synced()
            if last is not None and last > since:
                return False, []
            return True, self.flush()

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

    def sync():
        with agent.locked():
            done = agent.sync()
            agent.stamp()
            return done

    try:
        done = sync()
        agent.log("started: %d change(s) (what was in place is adopted)" % len(done))
        for line in done:
            agent.log(line)
        sd_notify("READY=1\nSTATUS=mirroring")
        last = time.monotonic()
        while not stopping:
            ready, _w, _x = select.select([monitor.stdout], [], [], 1.0)
            if monitor.poll() is not None:
                if stopping or monitor.returncode == -signal.SIGTERM:
                    # systemd's stop signals the whole cgroup: `ip monitor` may see its
                    # SIGTERM before this process handles its own. A stop, not a failure.
                    break
                raise Failure("ip monitor exited (%s)" % monitor.returncode)
            event = False
            if ready:
                event = bool(monitor.stdout.read())
                if event:
                    time.sleep(agent.c["debounce"])  # let zebra finish a burst
                    monitor.stdout.read()
            if event or time.monotonic() - last >= agent.c["resync"]:
                try:
                    done = sync()
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
    # The groups stay: ExecStopPost (--stopped) decides whether to flush.
    agent.log("stopped: rules, routes and groups left in place")
    return 0


# ---------------------------------------------------------------- ExecStopPost
RESTART_JOBS = ("restart", "try-restart", "reload-or-restart", "reload-or-try-restart")


def job_type(unit):
    """The type of the systemd job running on UNIT ("stop", "restart", "start"), None without one."""
    try:
        proc = subprocess.run(["systemctl", "list-jobs", "--no-legend", "--no-pager", "--full", unit],
                              capture_output=True, text=True, check=False, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in proc.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[1] == unit:
            return fields[2]
    return None


def arm_stale_timer(agent, config_path, since):
    """A transient timer: `--flush-stale SINCE` after stale_sec seconds. Returns the timer's unit, None on failure."""
    name = "anycast-resilient-ecmp-stale-%d" % int(since * 1000)
    cmd = ["systemd-run", "--quiet", "--collect", "--unit", name, "--on-active=%ds" % int(agent.c["stale_sec"]),
           "--timer-property=AccuracySec=1s", "--description",
           "anycast.fabric resilient ECMP: flush the groups if the agent is not back",
           sys.executable, "-I", os.path.abspath(__file__), "--config", os.path.abspath(config_path),
           "--flush-stale", "%.3f" % since]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        agent.log("cannot arm the stale timer: %s" % exc)
        return None
    if proc.returncode != 0:
        agent.log("cannot arm the stale timer: %s" % (proc.stderr or proc.stdout).strip())
        return None
    return name + ".timer"


def stopped(agent, unit, config_path, env=None):
    """ExecStopPost: flush on a deliberate stop, keep for a restart, keep and arm the stale timer after a crash.

    Returns (decision, commands): decision is "flush", "keep" or "stale TIMER".
    """
    env = os.environ if env is None else env
    job = job_type(unit)
    result = [env.get(key, "?") for key in ("SERVICE_RESULT", "EXIT_CODE", "EXIT_STATUS")]
    why = "job %s, result %s, %s %s" % tuple([job or "none"] + result)
    if job == "stop":
        agent.log("deliberate stop (%s): flushing, lookups fall back to the main table" % why)
        with agent.locked():
            return "flush", agent.flush()
    if job in RESTART_JOBS:
        agent.log("restart (%s): groups left for the next start to adopt" % why)
        return "keep", []
    # Crash, SIGKILL, watchdog, a failed start: no job, or a start job.
    if int(agent.c["stale_sec"]) <= 0:
        agent.log("exit (%s), stale_sec 0: flushing" % why)
        with agent.locked():
            return "flush", agent.flush()
    timer = arm_stale_timer(agent, config_path, boottime())
    if timer is None:
        agent.log("exit (%s) and no stale timer: flushing (fail-safe)" % why)
        with agent.locked():
            return "flush", agent.flush()
    agent.log("exit (%s): groups left in place; %s flushes them in %d s unless the agent is back" % (
        why, timer, int(agent.c["stale_sec"])))
    return "stale " + timer, []


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--config", default="/etc/anycast-fabric/resilient-ecmp.json")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="sync once and exit (the rules stay)")
    mode.add_argument("--flush", action="store_true", help="remove the rules, routes and nexthops the agent installed")
    mode.add_argument("--status", action="store_true", help="print the installed state as JSON")
    mode.add_argument("--stopped", metavar="UNIT", help="systemd ExecStopPost: flush on a stop job, keep on a restart, arm the stale timer otherwise")
    mode.add_argument("--flush-stale", metavar="SINCE", type=float,
                      help="flush unless the agent completed a sync after SINCE (CLOCK_BOOTTIME seconds)")
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
        if args.stopped:
            _decision, done = stopped(agent, args.stopped, args.config)
            for line in done:
                print("flush: " + line)
            return 0
        if args.flush_stale is not None:
            flushed, done = agent.flush_stale(args.flush_stale)
            print("the agent did not come back: flushed" if flushed else "the agent is back: nothing to flush")
            for line in done:
                print("flush: " + line)
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
