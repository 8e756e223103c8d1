# -*- coding: utf-8 -*-
"""Benchmark: how long clients lose an anycast VIP when a node fails or is drained.

Runs on the lab fabric in containers with health-checked VIPs (molecule
scenario `failover`, converged: `make bench-failover` does it all). The lab
client sends one HTTP request (a new TCP connection) to the VIP every 10 ms
(lab/probe.py); a request not answered within --timeout is lost. Per event,
at least five repetitions:

  service    the service behind the VIP stops on one node (the health agent withdraws the VIP)
  sigkill    the health agent on one node gets SIGKILL (systemd's ExecStopPost withdraws)
  silent     one node is frozen (docker pause), BFD on (100 ms x 3)
  silent-hold the same with BFD off: the BGP hold timer (9 s) finds it
  drain      anycast.fabric.drain on one node (then undrain, not measured)

With --lab global (scenario global, two sites), measured at client-a, near
site a, whose traffic moves to site b:

  site-failure  the service stops on both nodes of site a (health agents withdraw)
  site-drain    anycast.fabric.drain of site a (forced: site a alone serves a regional VIP)

The loss window is the time from the first unanswered request's start to the
last one's, plus one interval; open connections reset when a router moves
their flow (resets) are counted apart. ECMP spreads flows over four nodes, so during a
node failure only the flows hashed to that node are lost: the window is how
long that node's share of the traffic goes unanswered.

Writes benchmarks/results/failover.{json,md}.

    python benchmarks/failover.py --reps 5                 # (make bench-failover, lab converged first)
    python benchmarks/failover.py --reps 5 --lab global    # the two-site rows
"""

import argparse
import datetime
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
VIP = "198.51.100.80"
PREFIX = VIP + "/32"
PROBE = os.path.join(REPO, "lab", "probe.py")
EXTRA_VARS = {"lab_dual_stack": False, "lab_health": True}
NODE_ADDRESS = {"n1": "10.90.1.11", "n2": "10.90.1.12", "n3": "10.90.2.11", "n4": "10.90.2.12"}
NODE_TOR = {"n1": "tor1", "n2": "tor1", "n3": "tor2", "n4": "tor2"}
TARGETS = {"service": 1500, "silent": 1000, "drain": 0}


def sh(*args, check=True, **kwargs):
    proc = subprocess.run(list(args), capture_output=True, text=True, check=False, **kwargs)
    if check and proc.returncode != 0:
        sys.exit("failed: %s\n%s%s" % (" ".join(args), proc.stdout[-3000:], proc.stderr[-3000:]))
    return proc


def docker(*args, check=True):
    return sh("docker", *args, check=check)


def env():
    out = dict(os.environ)
    out["ANSIBLE_COLLECTIONS_PATH"] = os.path.join(REPO, ".build", "collections")
    out["PATH"] = os.path.join(REPO, ".venv", "bin") + os.pathsep + out["PATH"]
    out.setdefault("ANSIBLE_FORCE_COLOR", "false")
    return out


def inventory(scenario):
    found = sorted(glob.glob(os.path.expanduser("~/.ansible/tmp/molecule.*.%s/inventory" % scenario)), key=os.path.getmtime)
    if not found:
        sys.exit("no molecule inventory for scenario %s: run `molecule converge -s %s` first (make bench-failover does)" % (scenario, scenario))
    return found[-1]


def playbook(name, *extra, scenario="failover"):
    args = ["ansible-playbook", "-i", inventory(scenario), "--extra-vars", json.dumps(EXTRA_VARS if scenario == "failover" else {})]
    for item in extra:
        args += ["--extra-vars", item]
    return sh(*(args + ["anycast.fabric." + name]), env=env())


def next_hops(tor):
    out = docker("exec", tor, "ip", "-json", "route", "show", PREFIX).stdout
    routes = json.loads(out or "[]")
    hops = []
    for route in routes:
        if "gateway" in route:
            hops.append(route["gateway"])
        hops.extend(h["gateway"] for h in route.get("nexthops", []) if "gateway" in h)
    return hops


def wait_for(what, condition, timeout=120):
    start = time.time()
    while time.time() - start < timeout:
        if condition():
            return time.time() - start
        time.sleep(0.2)
    sys.exit("gave up waiting for %s after %d s" % (what, timeout))


def back_in_ecmp(node):
    wait_for("%s back in %s's ECMP" % (node, NODE_TOR[node]), lambda: NODE_ADDRESS[node] in next_hops(NODE_TOR[node]))
    wait_for("all four nodes serving", lambda: len(next_hops("tor1")) == 2 and len(next_hops("tor2")) == 2)
    time.sleep(2)


class Probe(object):
    """lab/probe.py on a client, in the background, until stopped."""

    def __init__(self, timeout, client="client"):
        self.timeout = timeout
        self.client = client
        self.summary = None

    def __enter__(self):
        client = self.client
        docker("exec", client, "rm", "-f", "/run/bench-probe.stop", "/run/bench-probe.json", "/run/bench-probe.ready")
        probe = ["python3", "/usr/local/bin/lab-probe", "--target", VIP, "--interval", "0.01", "--timeout", str(self.timeout), "--duration", "600"]
        files = ["--stop-file", "/run/bench-probe.stop", "--ready-file", "/run/bench-probe.ready", "--out", "/run/bench-probe.json"]
        docker("exec", "-d", client, *(probe + files))
        wait_for("the probe to start", lambda: docker("exec", client, "test", "-e", "/run/bench-probe.ready", check=False).returncode == 0, 30)
        time.sleep(1)  # a second of clean traffic before the event
        return self

    def __exit__(self, *exc):
        client = self.client
        docker("exec", client, "touch", "/run/bench-probe.stop")
        wait_for("the probe's summary", lambda: docker("exec", client, "test", "-e", "/run/bench-probe.json", check=False).returncode == 0, 60)
        self.summary = json.loads(docker("exec", client, "cat", "/run/bench-probe.json").stdout)
        return False


def event_service(probe_timeout):
    with Probe(probe_timeout) as probe:
        docker("exec", "n1", "systemctl", "stop", "lab-http")
        time.sleep(4)
    docker("exec", "n1", "systemctl", "start", "lab-http")
    back_in_ecmp("n1")
    return probe.summary


def event_sigkill(probe_timeout):
    with Probe(probe_timeout) as probe:
        docker("exec", "n2", "systemctl", "kill", "--signal=KILL", "anycast-healthd")
        time.sleep(5)
    back_in_ecmp("n2")
    return probe.summary


def _freeze(seconds, probe_timeout):
    with Probe(probe_timeout) as probe:
        docker("pause", "n3")
        try:
            time.sleep(seconds)
        finally:
            docker("unpause", "n3")
        time.sleep(1)
    back_in_ecmp("n3")
    return probe.summary


def event_silent(probe_timeout):
    return _freeze(3, probe_timeout)


def event_silent_hold(probe_timeout):
    return _freeze(13, probe_timeout)


def event_drain(probe_timeout):
    with Probe(probe_timeout) as probe:
        playbook("drain", "fabric_drain=n4", "fabric_drain_linger=2")
    playbook("undrain", "fabric_drain=n4")
    back_in_ecmp("n4")
    return probe.summary


# Two sites (scenario global): client-a, near site a, is measured.
SITE_A = ("a1", "a2")


def answered_by_site(site):
    """Whether client-a's last 10 requests were all answered by SITE's nodes."""
    script = "for i in $(seq 10); do curl -s --max-time 1 http://%s/ || echo FAILED; done" % VIP
    out = docker("exec", "client-a", "bash", "-c", script, check=False).stdout.split()
    return len(out) == 10 and all(name.startswith(site) for name in out)


def event_site_failure(probe_timeout):
    with Probe(probe_timeout, "client-a") as probe:
        for node in SITE_A:
            docker("exec", node, "systemctl", "stop", "lab-http")
        time.sleep(5)
    for node in SITE_A:
        docker("exec", node, "systemctl", "start", "lab-http")
    wait_for("client-a answered by site a again", lambda: answered_by_site("a"), 300)
    return probe.summary


def event_site_drain(probe_timeout):
    with Probe(probe_timeout, "client-a") as probe:
        playbook("drain", "fabric_drain=site_a_nodes", "fabric_drain_force=true", "fabric_drain_linger=2", scenario="global")
    playbook("undrain", "fabric_drain=site_a_nodes", scenario="global")
    wait_for("client-a answered by site a again", lambda: answered_by_site("a"), 120)
    return probe.summary


GLOBAL_EVENTS = [
    ("site-failure", "site a's service stops on both nodes (far client, two sites)", event_site_failure, "< 1500 ms + one upstream update"),
    ("site-drain", "anycast.fabric.drain of site a (far client, two sites)", event_site_drain, "0 lost"),
]

EVENTS = [
    ("service", "service stops on one node (health agent withdraws)", event_service, "< 1500 ms"),
    ("sigkill", "health agent killed with SIGKILL (ExecStopPost withdraws)", event_sigkill, "-"),
    ("silent", "node frozen (docker pause), BFD 100 ms x 3", event_silent, "< 1000 ms"),
    ("silent-hold", "node frozen, BFD off (hold timer 9 s)", event_silent_hold, "(comparison)"),
    ("drain", "anycast.fabric.drain of one node", event_drain, "0 lost"),
]


def set_bfd(enabled):
    """Re-converge the lab with BFD on or off (the fabric's own site.yml)."""
    bgp = {"password": "lab-md5-key", "bfd": enabled}
    path = os.path.join(REPO, ".build", "bench-failover-bgp.json")
    with open(path, "w") as handle:
        json.dump({"fabric_bgp": bgp}, handle)
    sh("molecule", "converge", "-s", "failover", "--", "--extra-vars", "@" + path, env=env(), cwd=REPO)
    wait_for("all four nodes serving", lambda: len(next_hops("tor1")) == 2 and len(next_hops("tor2")) == 2)


def row(key, label, target, runs):
    windows = [r["loss_window_ms"] for r in runs]
    lost = [r["lost"] for r in runs]
    resets = [r["resets"] for r in runs]
    return {
        "event": key,
        "label": label,
        "target": target,
        "reps": len(runs),
        "window_ms_median": statistics.median(windows),
        "window_ms_max": max(windows),
        "lost_median": statistics.median(lost),
        "lost_max": max(lost),
        "resets_median": statistics.median(resets),
        "resets_max": max(resets),
        "resets_total": sum(resets),
        "requests_total": sum(r["requests"] for r in runs),
        "requests_median": statistics.median(r["requests"] for r in runs),
        "runs": [{k: r[k] for k in ("requests", "lost", "resets", "loss_window_ms", "first_lost_s", "nodes")} for r in runs],
    }


def machine():
    kernel = platform.release()
    cores = os.cpu_count()
    return "%s cores, kernel %s, lab containers on one host (Docker), BIRD 2.0.12 and FRR 8.4.4 from Debian 12" % (cores, kernel)


def markdown(result):
    lines = [
        "# failover benchmark (%s)" % result["date"],
        "",
        "%s. One HTTP request (new TCP connection) every %d ms from the lab client (two-site lab: client a) to %s;"
        " a request not answered within %.1f s is lost. Loss window: first unanswered request to last, plus one interval. %d repetitions per event."
        % (result["machine"], result["interval_ms"], VIP, result["probe_timeout_s"], result["reps"]),
        "",
        "| event | target | loss window median (ms) | max (ms) | lost requests median | max | of which resets (all reps) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append(
            "| %s | %s | %s | %s | %s | %s | %s of %s requests |"
            % (r["label"], r["target"], r["window_ms_median"], r["window_ms_max"], r["lost_median"], r["lost_max"], r["resets_total"], r["requests_total"])
        )
    lines += [
        "",
        "Four nodes share the VIP through ECMP, so a failing node costs only the requests hashed to it"
        " (about a quarter): the lost-request columns count those, the window says for how long.",
        "The two-site rows (`--lab global`) are measured at client a, near site a: when site a fails or drains,"
        " all of client a's traffic moves to site b, through both upstream routers.",
        "Resets are connections that were open when a router moved their flow to another node (stateless ECMP"
        " cannot keep an open flow on a node leaving the ECMP set); every other loss is a request nobody answered.",
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=0.5, help="seconds a request may take before it counts as lost")
    parser.add_argument("--lab", choices=["one-site", "global"], default="one-site", help="global: the two-site rows (scenario global)")
    parser.add_argument("--events", help="comma-separated events to run (default: all of the lab's)")
    args = parser.parse_args()
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
        rows.append(row(key, label, target, runs))

    # Each lab run replaces its own rows and keeps the other lab's.
    path = os.path.join(RESULTS, "failover.json")
    if os.path.exists(path):
        with open(path) as handle:
            previous = json.load(handle).get("rows", [])
        keys = set(r["event"] for r in rows)
        order = [k for k, _l, _f, _t in EVENTS + GLOBAL_EVENTS]
        rows = sorted([r for r in previous if r["event"] not in keys] + rows, key=lambda r: order.index(r["event"]) if r["event"] in order else 99)
    result = {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "interval_ms": 10,
        "probe_timeout_s": args.timeout,
        "reps": args.reps,
        "rows": rows,
    }
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "failover.json"), "w") as handle:
        json.dump(result, handle, indent=1)
        handle.write("\n")
    text = markdown(result)
    with open(os.path.join(RESULTS, "failover.md"), "w") as handle:
        handle.write(text)
    print(text)


if __name__ == "__main__":
    main()
