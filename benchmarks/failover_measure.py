# -*- coding: utf-8 -*-
"""The failover benchmark's measurement: the probes on the client, the lab's state as it is read, and the timing.

The probes (lab/probe.py, lab/longlived.py) compute the loss windows, lost
requests and resets; this module runs them around an event and reads what the
routers and nodes show. The pure parts (what a router's or journal's output
means) take text or data, so they are unit-tested without the lab.
"""

import json
import os
import sys
import time

from failover_lab import GATEWAY, LL_ROUTERS, MARKER, PREFIX, REPO, VIP, docker, wait_for

# Times in the fault rows are seconds from the fault (the kill, the restart,
# the start of the apply); None when the state was not seen (polls every
# 0.2 s plus a docker exec, so a state shorter than that can be missed).


# ---------------------------------------------------------------- timing


def seen_within(condition, timeout, start):
    """Seconds from START until CONDITION held (polled), or None after TIMEOUT seconds."""
    while time.time() - start < timeout:
        if condition():
            return round(time.time() - start, 2)
        time.sleep(0.2)
    return None


def since(start):
    return round(time.time() - start, 2)


# ---------------------------------------------------------------- the probes on the client


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


class LongLived(object):
    """lab/longlived.py run on the client, in the background, until stopped."""

    def __init__(self, connections):
        self.connections = connections
        self.data = None
        self.event_start = None

    def __enter__(self):
        docker("exec", "client", "rm", "-f", "/run/bench-ll.stop", "/run/bench-ll.json", "/run/bench-ll.ready")
        docker("exec", "-d", "client", "python3", "/usr/local/bin/lab-longlived", "run", "--target", VIP,
               "--connections", str(self.connections), "--stop-file", "/run/bench-ll.stop",
               "--ready-file", "/run/bench-ll.ready", "--out", "/run/bench-ll.json")
        wait_for("the long-lived connections", lambda: docker("exec", "client", "test", "-e", "/run/bench-ll.ready", check=False).returncode == 0, 60)
        time.sleep(1)
        self.event_start = time.time()
        return self

    def __exit__(self, *exc):
        docker("exec", "client", "touch", "/run/bench-ll.stop")
        wait_for("the long-lived summary", lambda: docker("exec", "client", "test", "-e", "/run/bench-ll.json", check=False).returncode == 0, 60)
        self.data = json.loads(docker("exec", "client", "cat", "/run/bench-ll.json").stdout)
        return False


def ll_report(data, changed, start):
    sys.path.insert(0, os.path.join(REPO, "lab"))
    import longlived  # noqa: E402 (lab/longlived.py, standard library only)
    return longlived.report(data, [changed], start, None)


# ---------------------------------------------------------------- the lab's state, as read


def next_hops(tor):
    out = docker("exec", tor, "ip", "-json", "route", "show", PREFIX).stdout
    return route_next_hops(json.loads(out or "[]"))


def route_next_hops(routes):
    """The gateways of `ip -json route show PREFIX` (one route, or one with several nexthops)."""
    hops = []
    for route in routes:
        if "gateway" in route:
            hops.append(route["gateway"])
        hops.extend(h["gateway"] for h in route.get("nexthops", []) if "gateway" in h)
    return hops


def unit_property(host, unit, prop):
    return docker("exec", host, "systemctl", "show", unit, "--property", prop, "--value").stdout.strip()


def frr_established(router):
    """Peers of ROUTER's bgpd with an Established session (empty while bgpd is down)."""
    out = docker("exec", router, "vtysh", "-c", "show bgp vrf default summary json", check=False)
    try:
        summary = json.loads(out.stdout or "{}") if out.returncode == 0 else {}
    except ValueError:
        return set()
    return established_peers(summary)


def established_peers(summary):
    """The peers with an Established session in `show bgp vrf default summary json`."""
    return set(addr for family in summary.values() if isinstance(family, dict)
               for addr, peer in family.get("peers", {}).items() if peer.get("state") == "Established")


def bird_sessions(node):
    """(BGP protocols, of which Established) on a BIRD node."""
    return bgp_protocols(docker("exec", node, "birdc", "-r", "show", "protocols", check=False).stdout)


def bgp_protocols(out):
    """(BGP protocols, of which Established) in `birdc show protocols` output."""
    bgp = [line for line in out.splitlines() if line.split()[1:2] == ["BGP"]]
    return len(bgp), sum(1 for line in bgp if "Established" in line)


def bgpd_pid(router):
    return docker("exec", router, "cat", "/run/frr/bgpd.pid", check=False).stdout.strip()


def holds_gateway(tor):
    return GATEWAY["tor1"] in docker("exec", tor, "ip", "-o", "-4", "addr", "show", "to", GATEWAY["tor1"], check=False).stdout


def healthd_journal(node, start):
    """(first check up, first ANNOUNCED) of the health agent after START, as epoch seconds, from the journal.

    A container shares the host's boot id, so `journalctl --boot` would also show the earlier runs.
    """
    out = docker("exec", node, "journalctl", "--since", "@%d" % int(start), "--unit", "anycast-healthd", "--output", "json",
                 "--no-pager", check=False).stdout
    return journal_times(out, start)


def journal_times(out, start):
    """(first check up, first ANNOUNCED) after START in `journalctl --output json` lines, as epoch seconds or None."""
    up = announced = None
    for line in out.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        message = entry.get("MESSAGE")
        if not isinstance(message, str):
            continue
        when = int(entry["__REALTIME_TIMESTAMP"]) / 1e6
        if when < start:
            continue
        if up is None and " is up" in message:
            up = when
        if announced is None and "ANNOUNCED" in message:
            announced = when
    return up, announced


def marker_at(tor):
    out = docker("exec", tor, "vtysh", "-c", "show bgp ipv4 unicast %s json" % PREFIX).stdout
    return MARKER in out


def answered_by_site(site):
    """Whether client-a's last 10 requests were all answered by SITE's nodes."""
    script = "for i in $(seq 10); do curl -s --max-time 1 http://%s/ || echo FAILED; done" % VIP
    out = docker("exec", "client-a", "bash", "-c", script, check=False).stdout.split()
    return len(out) == 10 and all(name.startswith(site) for name in out)


def ll_session_drops():
    """BGP sessions dropped so far, summed over the routers (a flap moves every flow of its node)."""
    total = 0
    for router in LL_ROUTERS:
        summary = json.loads(docker("exec", router, "vtysh", "-c", "show bgp vrf default summary json").stdout or "{}")
        total += sessions_dropped(summary)
    return total


def sessions_dropped(summary):
    """BGP sessions dropped so far in one router's `show bgp vrf default summary json`."""
    return sum(peer.get("connectionsDropped", 0) for family in summary.values() for peer in family.get("peers", {}).values())


# ---------------------------------------------------------------- what the probes' summaries say


def split_lost(lost_probes, cut):
    """Unanswered requests (resets aside) before and from CUT seconds after the probe started: (before, after)."""
    unanswered = [p for p in lost_probes if p["why"] != "reset"]
    return sum(1 for p in unanswered if p["at_s"] < cut), sum(1 for p in unanswered if p["at_s"] >= cut)
