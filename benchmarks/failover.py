# -*- coding: utf-8 -*-
"""Benchmark: how long clients lose an anycast VIP when a node fails or is drained.

Runs on the lab fabric in containers with health-checked VIPs (molecule
scenario `failover`, converged: `make bench-failover` does it all). The lab
client sends one HTTP request (a new TCP connection) to the VIP every 10 ms
(lab/probe.py); a request not answered within --timeout is lost. Per event,
at least five repetitions:

  service    the service behind the VIP stops on one node (the health agent withdraws the VIP)
  service_unit the service's systemd unit gets SIGKILL on one node (systemd restarts it 4 s
             later); the lab runs with lab_unit_health (re-converged when it is off): the VIP
             also has an event-driven systemd_unit check, which withdraws at once
  sigkill    the health agent on one node gets SIGKILL (systemd's ExecStopPost withdraws)
  silent     one node is frozen (docker pause), BFD on (100 ms x 3)
  silent-hold the same with BFD off: the BGP hold timer (9 s) finds it
  drain      anycast.fabric.drain on one node (then undrain, not measured)

Faults of the daemons and the nodes (same lab; each row also gives when
things happened, see FAULTS and the Markdown's second table):

  bird_kill          BIRD on n1 gets SIGKILL; systemd restarts it
  frr_kill_tor       bgpd on tor1 gets SIGKILL; watchfrr restarts it
  frr_kill_node      bgpd on n4 (an FRR node) gets SIGKILL; watchfrr restarts it
  tor_dark           the VRRP master of rack r1's ToR pair (tor1, tor1b) loses
                     every link at once (a power loss, as its peers see it):
                     spine1's BFD drops its paths, the other ToR takes the
                     nodes' gateway; 5 s later the links come back
  reboot             n1 restarted (docker restart: systemd shuts down, boots);
                     the health agent announces the VIP after `rise` checks
  apply_interrupted  routing_config applying a harmless change on n1 (one more
                     export community) SIGKILLed, with the controller, right
                     after `birdc configure ... timeout` returned: BIRD undoes
                     the change by itself; sessions, running and on-disk
                     configuration are recorded

With --lab global (scenario global, two sites), measured at client-a, near
site a, whose traffic moves to site b:

  site-failure  the service stops on both nodes of site a (health agents withdraw)
  site-drain    anycast.fabric.drain of site a (forced: site a alone serves a regional VIP)

With --lab longlived (scenario longlived: the lab plus n5, a third node in
rack r1, and the resilient ECMP agent on every router), the lab client holds
200 long-lived TCP connections to the VIP (lab/longlived.py, one message
every 100 ms each) through each event, and counts the connections reset or
stalled (> 1 s without an answer) on the node that changed and on the nodes
that did not (collateral). Each event runs with the agent stopped (plain
multipath: hash-threshold) and running (resilient next-hop groups):

  ll-drain         anycast.fabric.drain of n1 (rack r1: n1, n2, n5)
  ll-undrain       anycast.fabric.undrain of n1; a node added to a rack is the
                   same event at the ToR (a next hop joins the set)
  ll-service-down  another node's service fails: lab-http stops on n2, the health agent withdraws
  ll-service-back  the service on n2 comes back
  ll-agent-kill    (not by default; --ecmp resilient) the agent on tor1 gets SIGKILL, systemd restarts it
  ll-agent-restart (not by default; --ecmp resilient) systemctl restart of the agent on tor1 (the role's handler)
  ll-weight-change (not by default; --ecmp resilient) n3's fabric_vip_weight 2 -> 1 by a site run, weighted
                   ECMP on (n3 at weight 2 first, outside the measurement; issue 25)

The loss window is the time from the first unanswered request's start to the
last one's, plus one interval; open connections reset when a router moves
their flow (resets) are counted apart. ECMP spreads flows over four nodes, so during a
node failure only the flows hashed to that node are lost: the window is how
long that node's share of the traffic goes unanswered.

Writes benchmarks/results/failover.{json,md}.

    python benchmarks/failover.py --reps 5                 # (make bench-failover, lab converged first)
    python benchmarks/failover.py --reps 5 --lab global    # the two-site rows
    python benchmarks/failover.py --reps 5 --lab longlived # the long-lived rows
    python benchmarks/failover.py --reps 5 --events bird_kill,frr_kill_tor,apply_interrupted,reboot

The code, by job: this file is the command line and the loops over events
and repetitions; failover_lab.py drives the lab (containers, playbooks,
faults), failover_measure.py runs the probes and reads the lab's state,
failover_events.py combines them into the events above, and
failover_report.py makes the rows and writes the results
(tests/unit/benchmarks tests measurement and reporting without the lab).
"""

import argparse
import datetime
import json
import os

import failover_report as report
from failover_events import EVENTS, GLOBAL_EVENTS, LL_DEFAULT, LL_EVENTS, LL_FIRST, ll_all_serving, set_bfd, set_unit_health
from failover_lab import PROBE, REPO, docker, ll_agent, wait_for
from failover_measure import answered_by_site, next_hops

# The one-site lab's events (scenario failover): their rows are measured with rack r1's ToR pair.
ONE_SITE = frozenset(key for key, _l, _f, _t in EVENTS)


def ll_main(args):
    docker("cp", os.path.join(REPO, "lab", "longlived.py"), "client:/usr/local/bin/lab-longlived")
    wait_for("all five nodes serving", ll_all_serving)
    wanted = args.events.split(",") if args.events else list(LL_DEFAULT)
    modes = ["plain", "resilient"] if args.ecmp == "both" else [args.ecmp]
    policy = docker("exec", "tor1", "sysctl", "-n", "net.ipv4.fib_multipath_hash_policy").stdout.strip()
    loads = []
    loads_of = {}
    runs = {}
    for mode in modes:
        ll_agent(mode == "resilient")
        for rep in range(args.reps):
            for key, _label, func in LL_EVENTS:
                if key not in wanted:
                    continue
                if key in LL_FIRST:
                    wait_for("all five nodes serving", ll_all_serving)
                with open("/proc/loadavg") as handle:
                    loads.append(float(handle.read().split()[0]))
                loads_of.setdefault((key, mode), []).append(loads[-1])
                out = func(args.connections)
                runs.setdefault((key, mode), []).append(out)
                print("%-16s %-9s rep %d: changed %s: %d reset %d stalled of %d; collateral: %d reset %d stalled of %d; sessions dropped: %d"
                      % (key, mode, rep + 1, out["changed"], out["on_changed"]["reset"], out["on_changed"]["stalled"],
                         out["on_changed"]["connections"], out["collateral"]["reset"], out["collateral"]["stalled"],
                         out["collateral"]["connections"], out["session_drops"]), flush=True)
    ll_agent(True)
    rows = [report.ll_row(key, label, mode, runs[(key, mode)], loads_of[(key, mode)]) for key, label, _f in LL_EVENTS for mode in modes if (key, mode) in runs]
    config = json.loads(docker("exec", "tor1", "cat", "/etc/anycast-fabric/resilient-ecmp.json").stdout)
    result = {
        "date": datetime.date.today().isoformat(),
        "machine": report.machine(),
        "load": "1-min load average %.1f to %.1f (2 cores)" % (min(loads), max(loads)) if loads else "-",
        "connections": args.connections,
        "buckets": config.get("buckets"),
        "idle_timer": config.get("idle_timer"),
        "hash_policy": policy,
        "reps": args.reps,
        "rows": rows,
    }
    # Each run replaces its own rows (event and ECMP mode) and keeps the others, with the day they were measured
    # (rows recorded before rows had one: the day of the result they were in).
    previous = report.previous_rows("longlived")
    if previous is not None:
        with open(os.path.join(report.RESULTS, "longlived.json")) as handle:
            previous_date = json.load(handle).get("date", "-")
        previous = [dict(r, measured=r.get("measured", previous_date)) for r in previous]
        result["rows"] = report.merge_rows(previous, rows, ["%s/%s" % (k, m) for k, _l, _f in LL_EVENTS for m in ("plain", "resilient")])
    text = report.ll_markdown(result)
    report.write("longlived", result, text)
    print(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=0.5, help="seconds a request may take before it counts as lost")
    parser.add_argument("--lab", choices=["one-site", "global", "longlived"], default="one-site",
                        help="global: the two-site rows (scenario global); longlived: the long-lived connection rows (scenario longlived)")
    parser.add_argument("--events", help="comma-separated events to run (default: all of the lab's)")
    parser.add_argument("--ecmp", choices=["plain", "resilient", "both"], default="both",
                        help="longlived: with the resilient ECMP agent stopped, running or both")
    parser.add_argument("--connections", type=int, default=200, help="longlived: connections held by the client")
    args = parser.parse_args()
    if args.lab == "longlived":
        return ll_main(args)
    events = GLOBAL_EVENTS if args.lab == "global" else EVENTS
    wanted = args.events.split(",") if args.events else [key for key, _l, _f, _t in events]

    if args.lab == "global":
        docker("cp", PROBE, "client-a:/usr/local/bin/lab-probe")
        wait_for("client-a answered by site a", lambda: answered_by_site("a"), 120)
    else:
        docker("cp", PROBE, "client:/usr/local/bin/lab-probe")
        wait_for("all four nodes serving", lambda: len(next_hops("tor1")) == 2 and len(next_hops("tor2")) == 2)
    rows = []
    for key, label, func, target in events:
        if key not in wanted:
            continue
        if key in ONE_SITE:
            # Only service_unit runs with the lab's unit check (lab_unit_health);
            # re-converges only when the lab is not as the event needs it.
            set_unit_health(key == "service_unit")
        if key == "silent-hold":
            set_bfd(False)
        try:
            runs = []
            for rep in range(args.reps):
                summary = func(args.timeout)
                runs.append(summary)
                print(
                    "%-12s rep %d: %d/%d lost (%d resets), window %d ms"
                    % (key, rep + 1, summary["lost"], summary["requests"], summary["resets"], summary["loss_window_ms"]),
                    flush=True,
                )
        finally:
            if key == "silent-hold":
                set_bfd(True)
        rows.append(report.row(key, label, target, runs, "tor-pair" if key in ONE_SITE else "two-sites"))

    # Each lab run replaces its own rows and keeps the other lab's.
    previous = report.previous_rows("failover")
    if previous is not None:
        rows = report.merge_rows(previous, rows, [k for k, _l, _f, _t in EVENTS + GLOBAL_EVENTS])
    result = {
        "date": datetime.date.today().isoformat(),
        "machine": report.machine(),
        "interval_ms": 10,
        "probe_timeout_s": args.timeout,
        "reps": args.reps,
        "rows": rows,
    }
    text = report.markdown(result, ONE_SITE)
    report.write("failover", result, text)
    print(text)


if __name__ == "__main__":
    main()
