# -*- coding: utf-8 -*-
"""Benchmark: each node's share of new connections to an anycast VIP, with weighted ECMP on and off (issue 25).

Runs on the lab fabric of scenario longlived, converged (`make bench-weighted`
brings it up): spine1 spreads the VIP 198.51.100.80 over tor1 (rack r1: n1,
n2, n5) and tor2 (rack r2: n3, n4), each ToR over its rack's nodes, every
router through the resilient ECMP agent's groups (tor_resilient_ecmp: true).
The lab client opens --samples short TCP connections to the VIP's line-echo
service (`lab/longlived.py sample`: one line each, the answer names the node,
then a reset) and counts the node that answered each. Rows:

  racks-3-2          every node weight 1: expected 1/5 each
  racks-3-1-drained  n4 drained (anycast.fabric.drain): expected 1/4 for n1, n2, n5, n3; 0 for n4
  weight-2           n3 with fabric_vip_weight 2: expected 2/6 for n3, 1/6 for the others

each with fabric_bgp.weighted_ecmp true and, as `EVENT/off`, false (today's
equal split at every router; the expected share stays the fair one, so the
/off rows show the error weighting removes). Each setting is applied with the
collection's site playbook, the scenario's inventory and extra vars, plus an
inventory file of this benchmark's own with the nodes' fabric_vip_weight.
Before sampling, the benchmark waits until spine1's and the ToRs' routes to
the VIP carry the weights the setting should give (FRR: 100 x bandwidth /
total, truncated) and the agent's resilient groups have them too, balanced
(a resilient group moves a bucket to another next hop only once the bucket
has been idle for the agent's idle timer, 120 s here: a weight change takes
up to that long to reach the buckets that earlier traffic used). The row
racks-3-1-drained/busy (--busy, not by default) drains n4 while the client
keeps opening connections: no bucket is ever idle, so the groups keep the
old proportion (tor2 2 of 5 at spine1 where 1 of 4 is fair).

The share of a node answered by n of N connections is n/N, with a sampling
standard deviation of sqrt(p(1-p)/N) (0.004 for p = 1/5 and N = 10,000);
max_abs_error is the largest |share - expected| over the nodes; target with
weighting on: at most 0.03.

Writes benchmarks/results/weighted.{json,md} (a run replaces its own rows
and keeps the others).

    python benchmarks/weighted.py                                    # every row (make bench-weighted)
    python benchmarks/weighted.py --rows racks-3-2/off,weight-2/off   # some rows
    python benchmarks/weighted.py --busy     # racks-3-1-drained/busy: the drain under a steady stream of connections
"""

import argparse
import datetime
import json
import math
import os
import sys
import time

import failover_report as report
from failover_lab import LL_EXTRA_VARS, LL_NODES, REPO, VIP, docker, env, inventory, sh

RESULTS_NAME = "weighted"
TARGET = 0.03
PORT = 7000
RACKS = {"tor1": ["n1", "n2", "n5"], "tor2": ["n3", "n4"]}
UPLINK = {"tor1": "10.90.0.11", "tor2": "10.90.0.12"}
ROUTERS = ("spine1", "tor1", "tor2")
WORK = os.path.join(REPO, ".build", "bench-weighted")

# (event, label, the nodes' weights (default 1), the drained nodes); each also as EVENT/off.
SETTINGS = [
    ("racks-3-2", "racks of 3 and 2 nodes, every weight 1", {}, ()),
    ("racks-3-1-drained", "n4 drained: racks of 3 and 1", {}, ("n4",)),
    ("weight-2", "n3 of weight 2", {"n3": 2}, ()),
]
ORDER = [key + suffix for key, _l, _w, _d in SETTINGS for suffix in ("", "/off")]
# Not in the default rows (--busy): n4 drained, weighting on, while the client keeps every resilient bucket busy.
BUSY = "racks-3-1-drained/busy"
ORDER.append(BUSY)


# ---------------------------------------------------------------- pure: shares, expectations, rows


def node_weights(weights, nodes=None):
    """Every node's weight: WEIGHTS ({node: weight}) over the default 1 (NODES: the lab's by default)."""
    nodes = LL_NODES if nodes is None else nodes
    return {node: int(weights.get(node, 1)) for node in nodes}


def expected_share(weights, drained=()):
    """The fair share of each node: its weight over the total weight of the nodes in service (0 for a drained node)."""
    serving = {node: w for node, w in weights.items() if node not in drained}
    total = sum(serving.values())
    return {node: (serving[node] / total if node in serving and total else 0.0) for node in sorted(weights)}


def equal_split_share(weights, drained=(), racks=None):
    """What equal-cost multipath at every router gives (weighting off): half per ToR, then equal per node of the rack."""
    racks = RACKS if racks is None else racks
    racks_serving = {tor: [n for n in nodes if n not in drained] for tor, nodes in racks.items()}
    racks_serving = {tor: nodes for tor, nodes in racks_serving.items() if nodes}
    out = {node: 0.0 for node in sorted(weights)}
    for nodes in racks_serving.values():
        for node in nodes:
            out[node] = 1.0 / len(racks_serving) / len(nodes)
    return out


def frr_weights(bandwidths):
    """FRR's next-hop weights from link bandwidths (bgp_zebra_use_nhop_weighted): 100 x bw / total, truncated."""
    total = sum(bandwidths.values())
    return {key: (100 * bw) // total for key, bw in bandwidths.items()}


def expected_route_weights(weights, drained, weighted, racks=None, addresses=None, uplinks=None):
    """{router: {gateway: weight}} the routes to the VIP should carry; weighting off: every weight 1 (defaults: the lab's)."""
    racks = RACKS if racks is None else racks
    addresses = LL_NODES if addresses is None else addresses
    uplinks = UPLINK if uplinks is None else uplinks
    out = {}
    rack_bw = {}
    for tor, nodes in racks.items():
        serving = {addresses[n]: weights[n] for n in nodes if n not in drained}
        if serving:
            rack_bw[uplinks[tor]] = sum(serving.values())
            out[tor] = frr_weights(serving) if weighted else {gw: 1 for gw in serving}
    out["spine1"] = frr_weights(rack_bw) if weighted else {gw: 1 for gw in rack_bw}
    return out


def proportions(weights):
    """{key: weight / total}."""
    total = sum(weights.values())
    return {key: (w / total if total else 0.0) for key, w in weights.items()}


def weights_match(seen, wanted, tolerance=0.02):
    """Whether SEEN's weights ({gateway: weight}) have WANTED's next hops in WANTED's proportions (within TOLERANCE)."""
    if set(seen) != set(wanted):
        return False
    have, want = proportions(seen), proportions(wanted)
    return all(abs(have[key] - want[key]) <= tolerance for key in want)


def shares(counts):
    """{node: fraction of the answered connections}."""
    total = sum(counts.values())
    return {node: (n / total if total else 0.0) for node, n in sorted(counts.items())}


def max_abs_error(share, expected):
    """The largest |share - expected| over the nodes of either (a node missing from one counts 0 there)."""
    nodes = set(share) | set(expected)
    return max((abs(share.get(n, 0.0) - expected.get(n, 0.0)) for n in nodes), default=0.0)


def sampling_sigma(expected, samples):
    """The largest standard deviation sqrt(p(1-p)/N) of a node's share over the expected shares P."""
    if samples <= 0:
        return float("inf")
    return max((math.sqrt(p * (1 - p) / samples) for p in expected.values()), default=0.0)


def row(event, label, weighted, weights, drained, sample, routes=None, settled=None, applied=None):
    """The row of one measurement: SAMPLE is `lab-longlived sample`'s JSON; ROUTES what the routers held.

    WEIGHTS give the expected shares; APPLIED, when not the same, are the weights the lab ran with (the /off rows:
    every weight 1, since the model takes a fabric_vip_weight other than 1 only with weighting on).
    """
    counts = {node: sample["per_node"].get(node, 0) for node in sorted(set(weights) | set(sample["per_node"]))}
    share = shares(counts)
    expected = expected_share(weights, drained)
    out = {
        "event": event,
        "label": label,
        "weighted_ecmp": weighted,
        "weights": {n: w for n, w in sorted(weights.items()) if w != 1},
        "drained": sorted(drained),
        "samples": sample["answered"],
        "failed": sample["failed"],
        "seconds": sample["seconds"],
        "per_node_count": counts,
        "per_node_share": {n: round(v, 4) for n, v in share.items()},
        "expected_share": {n: round(v, 4) for n, v in expected.items()},
        "equal_split_share": {n: round(v, 4) for n, v in equal_split_share(weights, drained).items()},
        "max_abs_error": round(max_abs_error(share, expected), 4),
        "sigma": round(sampling_sigma(expected, sample["answered"]), 4),
        "date": datetime.date.today().isoformat(),
    }
    if weighted:
        out["target"] = TARGET
        out["within_target"] = out["max_abs_error"] <= TARGET
    if applied is not None and applied != weights:
        out["weights_applied"] = {n: w for n, w in sorted(applied.items()) if w != 1}
    if routes is not None:
        out["routes"] = routes
    if settled is not None:
        out["settled_s"] = settled
    return out


def fmt_shares(share, nodes):
    return " ".join("%s %.3f" % (n, share.get(n, 0.0)) for n in nodes)


def markdown(result):
    nodes = ["n1", "n2", "n5", "n3", "n4"]
    days = sorted(set(r["date"] for r in result["rows"])) or [result["date"]]
    lines = [
        "# Weighted anycast: each node's share of new connections (%s)" % (days[0] if len(days) == 1 else "%s to %s" % (days[0], days[-1])),
        "",
        "%s. Scenario longlived: spine1 over tor1 (rack r1: n1, n2, n5) and tor2 (rack r2: n3, n4), every router"
        " through the resilient ECMP agent's groups (%s). The lab client opens short TCP connections to %s:%d"
        " (`lab/longlived.py sample`, %d at a time), one line each, and counts the node answering each."
        " `/off` = fabric_bgp.weighted_ecmp false (equal split at every router); the expected share is the fair one"
        " in both: the node's weight over the total weight of the nodes in service. max_abs_error = the largest"
        " |share - expected| over the nodes (target with weighting on: <= %.2f); sigma = the largest sampling"
        " standard deviation sqrt(p(1-p)/N)."
        % (result["machine"], result["ecmp"], VIP, PORT, result["parallel"], TARGET),
        "",
        "| event | weighted_ecmp | samples | share (%s) | expected | max_abs_error | sigma | date |" % ", ".join(nodes),
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        error = "**%.3f**" % r["max_abs_error"] if r["weighted_ecmp"] else "%.3f" % r["max_abs_error"]
        lines.append("| %s | %s | %d | %s | %s | %s | %.4f | %s |" % (
            r["event"], "on" if r["weighted_ecmp"] else "off", r["samples"], fmt_shares(r["per_node_share"], nodes),
            fmt_shares(r["expected_share"], nodes), error, r["sigma"], r["date"]))
    lines += [""]
    with_routes = [r for r in result["rows"] if r.get("routes")]
    if with_routes:
        lines += [
            "Next-hop weights (main table) and the agent's resilient buckets per next hop when sampled:",
            "",
            "| event | spine1 | tor1 | tor2 |",
            "|---|---|---|---|",
        ]
        for r in with_routes:
            cells = []
            for router in ROUTERS:
                hops = r["routes"].get(router, {})
                cells.append(", ".join("%s w%s b%s" % (gw, h.get("weight"), h.get("buckets", "-")) for gw, h in sorted(hops.items())) or "-")
            lines.append("| %s | %s |" % (r["event"], " | ".join(cells)))
        lines += [""]
    notes = ["- %s: %s" % (r["event"], "; ".join(
        ([r["note"]] if r.get("note") else [])
        + (["run with every weight 1 (weights applied: %s): weighting off ignores fabric_vip_weight and the model"
            " refuses one other than 1 without it; the expected shares are those of the weights %s" % (r["weights_applied"] or "none", r["weights"])]
           if "weights_applied" in r else [])))
        for r in result["rows"] if r.get("note") or "weights_applied" in r]
    if notes:
        lines += ["Notes:", ""] + notes + [""]
    lines += [
        "The sigma column assumes independent samples. The lab has one client address, and a row's connections"
        " take most of its ephemeral source ports (32768-60999), so every row samples nearly the same 5-tuples:"
        " how the routers' hash happens to spread this one population is the same in every row (n2 a little"
        " below its share at tor1 in each), a fixed deviation of a few thousandths rather than fresh noise.",
        "",
        "Nodes: n1 10.90.1.11, n2 10.90.1.12, n5 10.90.1.13 (tor1, uplink 10.90.0.11); n3 10.90.2.11, n4 10.90.2.12"
        " (tor2, uplink 10.90.0.12). `python benchmarks/weighted.py` (`make bench-weighted`) reproduces the table.",
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the lab


def collection_root():
    """The anycast.fabric the playbooks run: the first on FABRIC_COLLECTIONS_PATH (as failover_lab.env()), else this checkout."""
    first = os.environ.get("FABRIC_COLLECTIONS_PATH")
    if first and os.path.isdir(os.path.join(first, "ansible_collections", "anycast", "fabric")):
        return os.path.join(first, "ansible_collections", "anycast", "fabric")
    return REPO


def collection_knows_weighted():
    """Whether the collection run has fabric_bgp.weighted_ecmp (issue 25); before it, the key is not passed."""
    for root in ("plugins",):
        for folder, _dirs, files in os.walk(os.path.join(collection_root(), root)):
            for name in files:
                if name.endswith((".py", ".yml", ".j2")):
                    with open(os.path.join(folder, name), errors="replace") as handle:
                        if "weighted_ecmp" in handle.read():
                            return True
    return False


def collection_version():
    """The commit of the collection run (its .bench-commit file, or this checkout's HEAD)."""
    stamp = os.path.join(collection_root(), ".bench-commit")
    if os.path.exists(stamp):
        with open(stamp) as handle:
            return "commit " + handle.read().strip()[:12]
    return "commit %s%s" % (sh("git", "-C", REPO, "rev-parse", "--short=12", "HEAD").stdout.strip(),
                            " + work tree changes" if sh("git", "-C", REPO, "status", "--porcelain", "plugins", "roles").stdout.strip() else "")


def extra_vars(weighted):
    """The scenario's extra vars with fabric_bgp.weighted_ecmp (extra vars replace the whole dict: password and bfd kept)."""
    out = json.loads(json.dumps(LL_EXTRA_VARS))
    if weighted is not None:
        out["fabric_bgp"]["weighted_ecmp"] = weighted
    return out


def weights_inventory(weights):
    """An inventory file giving the nodes their fabric_vip_weight (only those other than 1)."""
    os.makedirs(WORK, exist_ok=True)
    path = os.path.join(WORK, "weights.json")
    hosts = {node: {"fabric_vip_weight": w} for node, w in sorted(weights.items()) if w != 1}
    with open(path, "w") as handle:
        json.dump({"all": {"children": {"fabric_nodes": {"hosts": hosts}}}}, handle, indent=1)
    return path


def run_playbook(name, weighted, weights, *extra):
    """anycast.fabric.NAME with the scenario's inventory and extra vars, the weights' inventory and EXTRA (key=value)."""
    args = ["ansible-playbook", "-i", inventory("longlived"), "-i", weights_inventory(weights),
            "--extra-vars", json.dumps(extra_vars(weighted))]
    for item in extra:
        args += ["--extra-vars", item]
    start = time.time()
    sh(*(args + ["anycast.fabric." + name]), env=env())
    return round(time.time() - start, 1)


def router_state(router):
    """{gateway: {weight (main table), buckets (the agent's resilient group)}}, and whether the group matches and is balanced."""
    main = json.loads(docker("exec", router, "ip", "-json", "route", "show", VIP + "/32").stdout or "[]")
    hops = {}
    for route in main:
        if "gateway" in route:
            hops[route["gateway"]] = {"weight": 1}
        for hop in route.get("nexthops", []):
            if "gateway" in hop:
                hops[hop["gateway"]] = {"weight": int(hop.get("weight", 1))}
    agent = json.loads(docker("exec", router, "ip", "-json", "route", "show", "table", "200", VIP + "/32").stdout or "[]")
    nhid = agent[0].get("nhid") if agent else None
    synced = balanced = False
    if nhid is not None:
        group = json.loads(docker("exec", router, "ip", "-json", "-details", "nexthop", "show", "id", str(nhid)).stdout or "[]")
        singles = {}
        for item in json.loads(docker("exec", router, "ip", "-json", "nexthop", "show").stdout or "[]"):
            if "gateway" in item:
                singles[item["id"]] = item["gateway"]
        buckets = {}
        for bucket in json.loads(docker("exec", router, "ip", "-json", "nexthop", "bucket", "show", "id", str(nhid)).stdout or "[]"):
            gw = singles.get(bucket.get("bucket", {}).get("nhid"))
            buckets[gw] = buckets.get(gw, 0) + 1
        members = {singles.get(m["id"]): int(m.get("weight", 1)) for m in (group[0].get("group", []) if group else [])}
        synced = members == {gw: h["weight"] for gw, h in hops.items()}
        resilient = group[0].get("resilient_args", {}) if group else {}
        balanced = synced and not resilient.get("unbalanced_time")
        for gw, hop in hops.items():
            hop["buckets"] = buckets.get(gw, 0)
    return hops, synced, balanced


def settle(weights, drained, weighted, balanced=True, timeout=300):
    """Wait until every router's VIP route has the weights the setting gives, mirrored by the agent (balanced if BALANCED).

    Returns (seconds waited or None if it never settled, {router: hops}).
    Weighting on: the weights FRR should install; off: all equal (1).
    Stable: the same state in three polls in a row, a second apart.
    """
    wanted = expected_route_weights(weights, drained, bool(weighted))
    start = time.time()
    last, same = None, 0
    state = {}
    while time.time() - start < timeout:
        state, ok = {}, True
        for router in ROUTERS:
            hops, synced, is_balanced = router_state(router)
            state[router] = hops
            ok = ok and weights_match({gw: h["weight"] for gw, h in hops.items()}, wanted.get(router, {})) and synced
            ok = ok and (is_balanced or not balanced)
        same = same + 1 if ok and state == last else (1 if ok else 0)
        last = state
        if same >= 3:
            return round(time.time() - start, 1), state
        time.sleep(1)
    print("not settled after %d s: wanted %s, have %s" % (timeout, wanted, state), file=sys.stderr, flush=True)
    return None, state


def sample(count, parallel):
    out = docker("exec", "client", "python3", "/usr/local/bin/lab-longlived", "sample", "--target", VIP, "--port", str(PORT),
                 "--count", str(count), "--parallel", str(parallel))
    return json.loads(out.stdout)


def apply(weighted, weights, drained, state):
    """Bring the lab to the setting (site run when weights or weighting change; drain / undrain n4); STATE: what it is now."""
    if state.get("config") != (weighted, tuple(sorted(weights.items()))):
        print("site: weighted_ecmp %s, weights %s" % (weighted, weights or "all 1"), flush=True)
        took = run_playbook("site", weighted, weights)
        print("  site took %.0f s" % took, flush=True)
        state["config"] = (weighted, tuple(sorted(weights.items())))
        state["drained"] = state.get("drained", ())  # a site run keeps a drained node drained
    for node in sorted(set(state.get("drained", ())) - set(drained)):
        run_playbook("undrain", weighted, weights, "fabric_drain=%s" % node)
    for node in sorted(set(drained) - set(state.get("drained", ()))):
        run_playbook("drain", weighted, weights, "fabric_drain=%s" % node, "fabric_drain_linger=2")
    state["drained"] = tuple(sorted(drained))


# The order that changes the lab least: weighting off (every weight 1 there) with n4 drained last, then on
# from n4 drained, undrained, to n3 of weight 2.
PLAN = ["racks-3-2/off", "weight-2/off", "racks-3-1-drained/off", "racks-3-1-drained", "racks-3-2", "weight-2"]


def plan(wanted):
    """The rows of WANTED in PLAN's order: (event, label, weighted, weights, drained)."""
    settings = {key: (label, weights, drained) for key, label, weights, drained in SETTINGS}
    rows = []
    for event in PLAN:
        if event in wanted:
            key, _sep, off = event.partition("/")
            label, weights, drained = settings[key]
            rows.append((event, label, not off, weights, drained))
    return rows


def measure_busy(samples, parallel, settle_timeout, state):
    """The drained row again, n4 drained while the client keeps opening connections to the VIP.

    A resilient group gives a next hop whose weight grew only buckets idle for
    the idle timer (120 s); the client's stream (thousands of connections a
    second, every bucket used every second) keeps them all busy, so spine1 keeps
    tor2's old share (2 of 5) after tor2's weight fell to 1 of 4. Returns the row.
    """
    ones = node_weights({})
    apply(True, ones, (), state)
    settled, _routes = settle(ones, (), True, timeout=settle_timeout)
    if settled is None:
        sys.exit("the routers never settled before the busy row")
    busy_s = 600  # at most; stopped (by its pid) once the row is sampled
    pid = docker("exec", "client", "sh", "-c", "nohup python3 /usr/local/bin/lab-longlived sample --target %s --port %d"
                 " --count 100000000 --parallel 8 --duration %d > /run/bench-busy.json 2>&1 & echo $!" % (VIP, PORT, busy_s)).stdout.strip()
    time.sleep(5)
    run_playbook("drain", True, ones, "fabric_drain=n4", "fabric_drain_linger=2")
    state["drained"] = ("n4",)
    settled, routes = settle(ones, ("n4",), True, balanced=False, timeout=settle_timeout)
    time.sleep(5)
    data = sample(samples, parallel)
    _hops, _synced, balanced = router_state("spine1")
    r = row(BUSY, "n4 drained under a steady stream of new connections", True, ones, ("n4",), data, routes, settled)
    docker("exec", "client", "kill", pid, check=False)
    r["note"] = ("n4 drained while the client kept opening new connections (8 at a time, from 5 s before the drain to the end"
                 " of the sample): the groups moved only idle buckets; spine1's group balanced when sampled: %s" % balanced)
    return r


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--rows", help="comma-separated rows (default: all): %s" % ", ".join(ORDER))
    parser.add_argument("--samples", type=int, default=20000, help="connections per row (default 20000)")
    parser.add_argument("--parallel", type=int, default=32, help="connections open at a time (default 32)")
    parser.add_argument("--settle-timeout", type=int, default=300, help="seconds to wait for the routers' weights")
    parser.add_argument("--no-restore", action="store_true", help="leave the lab in the last row's setting")
    parser.add_argument("--busy", action="store_true", help="measure the %s row (only it)" % BUSY)
    args = parser.parse_args()
    wanted = [BUSY] if args.busy else args.rows.split(",") if args.rows else [e for e in ORDER if e != BUSY]
    unknown = set(wanted) - set(PLAN) - ({BUSY} if args.busy else set())
    if unknown:
        sys.exit("unknown rows: %s (rows: %s; %s with --busy)" % (", ".join(sorted(unknown)), ", ".join(PLAN), BUSY))
    knows = collection_knows_weighted()
    if not knows and any(not e.endswith("/off") for e in wanted):
        sys.exit("this collection has no fabric_bgp.weighted_ecmp yet: only the /off rows can be measured")
    docker("cp", os.path.join(REPO, "lab", "longlived.py"), "client:/usr/local/bin/lab-longlived")
    policy = docker("exec", "spine1", "sysctl", "-n", "net.ipv4.fib_multipath_hash_policy").stdout.strip()
    config = json.loads(docker("exec", "tor1", "cat", "/etc/anycast-fabric/resilient-ecmp.json").stdout)
    state = {}
    rows = []
    if args.busy:
        rows.append(measure_busy(args.samples, args.parallel, args.settle_timeout, state))
    for event, label, weighted, weights, drained in plan(wanted):
        all_weights = node_weights(weights)
        # Weighting off ignores the weights (and the model refuses a fabric_vip_weight other than 1 without it):
        # the /off rows run with every weight 1, their expected shares are still the weighted ones.
        applied = all_weights if weighted else node_weights({})
        # Before the collection has the key, the /off rows run today's code without it.
        apply(weighted if knows else None, applied, drained, state)
        settled, routes = settle(applied, drained, weighted, timeout=args.settle_timeout)
        print("%s: routes settled after %s s" % (event, settled), flush=True)
        data = sample(args.samples, args.parallel)
        r = row(event, label, weighted, all_weights, drained, data, routes, settled, applied)
        if not knows:
            r["weighted_ecmp"] = False
            r["note"] = "measured with the collection before fabric_bgp.weighted_ecmp (%s): the key not passed" % collection_version()
        rows.append(r)
        print("%-22s %d samples (%d failed, %.1f s): %s; expected %s; max_abs_error %.4f (sigma %.4f)"
              % (event, r["samples"], r["failed"], r["seconds"], r["per_node_share"], r["expected_share"],
                 r["max_abs_error"], r["sigma"]), flush=True)
    if not args.no_restore and state:
        # The scenario's own setting: every weight 1, nothing drained, weighting as the collection defaults it.
        apply(None if not knows else True, node_weights({}), (), state)
    result = {
        "date": datetime.date.today().isoformat(),
        "machine": report.machine(),
        "vip": VIP,
        "port": PORT,
        "parallel": args.parallel,
        "ecmp": "%s buckets, idle timer %s s, unbalanced timer %s; fib_multipath_hash_policy=%s" % (
            config.get("buckets"), config.get("idle_timer"), config.get("unbalanced_timer"), policy),
        "target": TARGET,
        "rows": rows,
    }
    previous = report.previous_rows(RESULTS_NAME)
    if previous is not None:
        result["rows"] = report.merge_rows(previous, rows, ORDER)
    else:
        result["rows"] = sorted(rows, key=lambda r: ORDER.index(r["event"]))
    text = markdown(result)
    report.write(RESULTS_NAME, result, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
