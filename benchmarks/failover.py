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
  ll-agent-kill    (not by default; --ecmp resilient) the agent on tor1 gets SIGKILL: the fail-safe's price

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
# Scenario failover: rack r1 has a ToR pair (tor1, tor1b) holding the nodes'
# gateway by VRRP (molecule/failover/prepare.yml), so spine1 has three paths.
PAIR = ("tor1", "tor1b")
GATEWAY = {"tor1": "10.90.1.254", "tor2": "10.90.2.2"}
UPLINK = {"tor1": "10.90.0.11", "tor1b": "10.90.0.13", "tor2": "10.90.0.12"}
SPINE_PATHS = 3
TARGETS = {"service": 1500, "silent": 1000, "drain": 0}
# Scenario longlived's extra vars (molecule/longlived/molecule.yml): BFD off there.
LL_EXTRA_VARS = dict(EXTRA_VARS, tor_resilient_ecmp=True, fabric_bgp={"password": "lab-md5-key", "bfd": False})


def sh(*args, check=True, **kwargs):
    proc = subprocess.run(list(args), capture_output=True, text=True, check=False, **kwargs)
    if check and proc.returncode != 0:
        sys.exit("failed: %s\n%s%s" % (" ".join(args), proc.stdout[-3000:], proc.stderr[-3000:]))
    return proc


def docker(*args, check=True):
    return sh("docker", *args, check=check)


def env():
    out = dict(os.environ)
    # FABRIC_COLLECTIONS_PATH first, as in .config/molecule/config.yml.
    paths = [os.environ.get("FABRIC_COLLECTIONS_PATH"), os.path.join(REPO, ".build", "collections")]
    out["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(p for p in paths if p)
    out["PATH"] = os.path.join(REPO, ".venv", "bin") + os.pathsep + out["PATH"]
    out.setdefault("ANSIBLE_FORCE_COLOR", "false")
    return out


def inventory(scenario):
    found = sorted(glob.glob(os.path.expanduser("~/.ansible/tmp/molecule.*.%s/inventory" % scenario)), key=os.path.getmtime)
    if not found:
        sys.exit("no molecule inventory for scenario %s: run `molecule converge -s %s` first (make bench-failover does)" % (scenario, scenario))
    return found[-1]


def playbook(name, *extra, scenario="failover"):
    extra_vars = {"failover": EXTRA_VARS, "longlived": LL_EXTRA_VARS}.get(scenario, {})
    args = ["ansible-playbook", "-i", inventory(scenario), "--extra-vars", json.dumps(extra_vars)]
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
    wait_for("all four nodes serving", lambda: len(next_hops("tor1")) == 2 and len(next_hops("tor2")) == 2
             and len(next_hops("spine1")) == SPINE_PATHS)
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


# ---------------------------------------------------------------- faults of the daemons and the nodes (scenario failover)
# Times in the fault rows are seconds from the fault (the kill, the restart,
# the start of the apply); None when the state was not seen (polls every
# 0.2 s plus a docker exec, so a state shorter than that can be missed).
MARKER = "64999:16"  # the harmless export community of apply_interrupted's candidate
CONFIRM_TIMEOUT = 15  # birdc configure ... timeout in apply_interrupted
DARK_S = 5  # how long tor_dark keeps the ToR's links down
QUIET_S = 65  # frr_kill_tor: seconds without a session error before the kill (> error_forget_time)
BIRD_CONF = "/etc/bird/bird.conf"
HEALTHD_CONFIG = "/etc/anycast-fabric/healthd.json"


def unit_property(host, unit, prop):
    return docker("exec", host, "systemctl", "show", unit, "--property", prop, "--value").stdout.strip()


def seen_within(condition, timeout, start):
    """Seconds from START until CONDITION held (polled), or None after TIMEOUT seconds."""
    while time.time() - start < timeout:
        if condition():
            return round(time.time() - start, 2)
        time.sleep(0.2)
    return None


def since(start):
    return round(time.time() - start, 2)


def frr_established(router):
    """Peers of ROUTER's bgpd with an Established session (empty while bgpd is down)."""
    out = docker("exec", router, "vtysh", "-c", "show bgp vrf default summary json", check=False)
    try:
        summary = json.loads(out.stdout or "{}") if out.returncode == 0 else {}
    except ValueError:
        return set()
    return set(addr for family in summary.values() if isinstance(family, dict)
               for addr, peer in family.get("peers", {}).items() if peer.get("state") == "Established")


def bird_sessions(node):
    """(BGP protocols, of which Established) on a BIRD node."""
    out = docker("exec", node, "birdc", "-r", "show", "protocols", check=False).stdout
    bgp = [line for line in out.splitlines() if line.split()[1:2] == ["BGP"]]
    return len(bgp), sum(1 for line in bgp if "Established" in line)


def event_bird_kill(probe_timeout):
    """BIRD on n1 gets SIGKILL; systemd restarts it (Restart= of bird.service and the routing role's drop-in)."""
    node, tor = "n1", NODE_TOR["n1"]
    restarts = int(unit_property(node, "bird", "NRestarts") or 0)
    pid = unit_property(node, "bird", "MainPID")
    with Probe(probe_timeout) as probe:
        start = time.time()
        docker("exec", node, "kill", "-KILL", pid)
        out_s = seen_within(lambda: NODE_ADDRESS[node] not in next_hops(tor), 20, start)
        wait_for("BIRD restarted on %s" % node, lambda: unit_property(node, "bird", "MainPID") not in ("0", pid)
                 and unit_property(node, "bird", "ActiveState") == "active", 60)
        restarted_s = since(start)
        wait_for("%s back in %s's ECMP" % (node, tor), lambda: NODE_ADDRESS[node] in next_hops(tor), 120)
        back_s = since(start)
        time.sleep(1)
    summary = probe.summary
    summary.update(out_s=out_s, restarted_s=restarted_s, back_s=back_s,
                   restarts=int(unit_property(node, "bird", "NRestarts") or 0) - restarts,
                   restart_policy=unit_property(node, "bird", "Restart"))
    back_in_ecmp(node)
    return summary


def bgpd_pid(router):
    return docker("exec", router, "cat", "/run/frr/bgpd.pid", check=False).stdout.strip()


def restart_frr(host):
    """A fresh frr.service (and watchfrr) on HOST, past the unit's start limit (Debian: 3 starts in 3 min)."""
    docker("exec", host, "systemctl", "reset-failed", "frr")
    docker("exec", host, "systemctl", "restart", "frr")


def event_frr_kill_tor(probe_timeout):
    """bgpd on tor1 gets SIGKILL; watchfrr restarts it and its sessions come back.

    watchfrr waits --min-restart-interval (60 s, doubling up to 600 s) before it
    restarts a daemon again that it restarted less than that ago, so each
    repetition starts from a fresh frr.service (restarted outside the measurement).
    And each starts QUIET_S after that restart, more than the nodes' `error
    forget time` (fabric_bgp.error_forget_time, 60 s): BIRD doubles its error
    wait over errors closer together than that, so a kill right after the
    previous repetition would measure a sequence of crashes, not one.
    """
    tor = "tor1"
    time.sleep(QUIET_S)
    peers = frr_established(tor)
    pid = bgpd_pid(tor)
    with Probe(probe_timeout) as probe:
        start = time.time()
        docker("exec", tor, "kill", "-KILL", pid)
        spine_out_s = seen_within(lambda: len(next_hops("spine1")) < SPINE_PATHS, 10, start)
        wait_for("bgpd restarted on %s" % tor, lambda: bgpd_pid(tor) not in ("", pid)
                 and docker("exec", tor, "kill", "-0", bgpd_pid(tor), check=False).returncode == 0, 120)
        restarted_s = since(start)
        wait_for("every session of %s back" % tor, lambda: frr_established(tor) >= peers, 120)
        sessions_s = since(start)
        wait_for("%s back in spine1's ECMP" % tor, lambda: len(next_hops("spine1")) == SPINE_PATHS and len(next_hops(tor)) == 2, 120)
        back_s = since(start)
        time.sleep(1)
    summary = probe.summary
    summary.update(spine_out_s=spine_out_s, restarted_s=restarted_s, sessions_s=sessions_s, back_s=back_s,
                   sessions=len(peers), sessions_back=len(frr_established(tor) & peers))
    # A fresh watchfrr for the next repetition (see the docstring).
    restart_frr(tor)
    wait_for("every session of %s back after the frr restart" % tor, lambda: frr_established(tor) >= peers, 120)
    wait_for("%s back in spine1's ECMP after the frr restart" % tor, lambda: len(next_hops("spine1")) == SPINE_PATHS, 120)
    back_in_ecmp("n1")
    return summary


def event_frr_kill_node(probe_timeout):
    """bgpd on n4 (an FRR node) gets SIGKILL; watchfrr restarts it and tor2 routes the VIP to n4 again.

    As in frr_kill_tor, each repetition starts from a fresh frr.service
    (watchfrr's restart back-off), restarted outside the measurement.
    """
    node, tor = "n4", NODE_TOR["n4"]
    address = NODE_ADDRESS[node]
    pid = bgpd_pid(node)
    with Probe(probe_timeout) as probe:
        start = time.time()
        docker("exec", node, "kill", "-KILL", pid)
        out_s = seen_within(lambda: address not in next_hops(tor), 20, start)
        wait_for("bgpd restarted on %s" % node, lambda: bgpd_pid(node) not in ("", pid)
                 and docker("exec", node, "kill", "-0", bgpd_pid(node), check=False).returncode == 0, 120)
        restarted_s = since(start)
        wait_for("%s's session at %s" % (node, tor), lambda: address in frr_established(tor), 120)
        session_s = since(start)
        wait_for("%s back in %s's ECMP" % (node, tor), lambda: address in next_hops(tor), 120)
        back_s = since(start)
        time.sleep(1)
    summary = probe.summary
    summary.update(out_s=out_s, restarted_s=restarted_s, session_s=session_s, back_s=back_s)
    restart_frr(node)
    back_in_ecmp(node)
    return summary


def holds_gateway(tor):
    return GATEWAY["tor1"] in docker("exec", tor, "ip", "-o", "-4", "addr", "show", "to", GATEWAY["tor1"], check=False).stdout


def set_links(router, state):
    """Every link of ROUTER but lo down or up: from its peers' side, a power loss (no NOTIFICATION, no withdrawal)."""
    docker("exec", router, "sh", "-c", 'for l in $(ls /sys/class/net); do [ "$l" = lo ] || ip link set dev "$l" %s; done' % state)


def event_tor_dark(probe_timeout):
    """The VRRP master of rack r1's ToR pair goes dark for DARK_S seconds, then its links come back.

    Both directions move: spine1 (BFD) stops sending the rack's share to it,
    and the other ToR takes the nodes' gateway (VRRP, advertisements every
    100 ms). Lost requests are split at the moment the links came back.
    """
    masters = [tor for tor in PAIR if holds_gateway(tor)]
    if len(masters) != 1:
        sys.exit("expected one VRRP master in %s, found %s" % (PAIR, masters))
    dark = masters[0]
    other = [tor for tor in PAIR if tor != dark][0]
    peers = frr_established(dark)
    with Probe(probe_timeout) as probe:
        start = time.time()
        set_links(dark, "down")
        spine_out_s = seen_within(lambda: UPLINK[dark] not in next_hops("spine1"), 20, start)
        gateway_s = seen_within(lambda: holds_gateway(other), 20, start)
        time.sleep(max(0.0, DARK_S - since(start)))
        restored = time.time()
        set_links(dark, "up")
        # The lab's static route went with its link (molecule/shared/containers.yml adds it).
        docker("exec", dark, "ip", "route", "replace", "10.90.100.0/24", "via", "10.90.0.2")
        wait_for("every session of %s back" % dark, lambda: frr_established(dark) >= peers, 120)
        sessions_s = since(start)
        wait_for("%s back in spine1's ECMP" % dark, lambda: UPLINK[dark] in next_hops("spine1") and len(next_hops("spine1")) == SPINE_PATHS, 120)
        back_s = since(start)
        time.sleep(2)
    summary = probe.summary
    cut = restored - summary["started"]
    unanswered = [p for p in summary["lost_probes"] if p["why"] != "reset"]
    summary.update(spine_out_s=spine_out_s, gateway_s=gateway_s, restored_s=round(restored - start, 2), sessions_s=sessions_s,
                   back_s=back_s, lost_dark=sum(1 for p in unanswered if p["at_s"] < cut),
                   lost_return=sum(1 for p in unanswered if p["at_s"] >= cut), sessions=len(peers),
                   gateway_moved=int(holds_gateway(other)), dark=dark)
    return summary


def lab_boot(node):
    """What a real node's own configuration does at boot and a container lacks (molecule/shared/containers.yml)."""
    docker("exec", node, "mount", "-o", "remount,rw", "/proc/sys")
    docker("exec", node, "ip", "route", "replace", "10.90.100.0/24", "via", GATEWAY[NODE_TOR[node]])


def healthd_journal(node, start):
    """(first check up, first ANNOUNCED) of the health agent after START, as epoch seconds, from the journal.

    A container shares the host's boot id, so `journalctl --boot` would also show the earlier runs.
    """
    out = docker("exec", node, "journalctl", "--since", "@%d" % int(start), "--unit", "anycast-healthd", "--output", "json",
                 "--no-pager", check=False).stdout
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


def event_reboot(probe_timeout):
    """n1 restarted (docker restart: systemd shuts down and boots); the agent announces after `rise` checks."""
    node, tor = "n1", NODE_TOR["n1"]
    address = NODE_ADDRESS[node]
    with Probe(probe_timeout) as probe:
        start = time.time()
        docker("restart", node)
        booted_s = since(start)
        gone = address not in next_hops(tor)
        lab_boot(node)
        lab_s = since(start)
        session_s = path_s = None
        while time.time() - start < 180 and path_s is None:
            if session_s is None and address in frr_established(tor):
                session_s = since(start)
            if address in next_hops(tor):
                path_s = since(start)
            time.sleep(0.1)
        if path_s is None:
            sys.exit("%s never came back in %s's ECMP after its reboot" % (node, tor))
        time.sleep(1)
    up, announced = healthd_journal(node, start)
    summary = probe.summary
    summary.update(restart_returned_s=booted_s, out_of_ecmp_at_boot=gone, lab_routes_s=lab_s, session_s=session_s,
                   check_up_s=round(up - start, 2) if up else None, announced_s=round(announced - start, 2) if announced else None,
                   path_s=path_s, announced_before_healthy=int(bool(announced is None or path_s < announced - start)))
    back_in_ecmp(node)
    return summary


def marker_at(tor):
    out = docker("exec", tor, "vtysh", "-c", "show bgp ipv4 unicast %s json" % PREFIX).stdout
    return MARKER in out


def routing_config(node, content, *extra):
    """anycast.fabric.routing_config on NODE (ad hoc), the routing role's apply step."""
    params = dict(daemon="bird", content=content, backup=False, session_wait=12, settle_time=10, confirm_timeout=CONFIRM_TIMEOUT)
    return ["ansible", node, "-i", inventory("failover"), "-m", "anycast.fabric.routing_config", "-a", json.dumps(params)] + list(extra)


def event_apply_interrupted(probe_timeout):
    """The apply of a harmless change on n1 is SIGKILLed between `birdc configure ... timeout` and `confirm`.

    The controller (ansible) and the module on the node are both killed: with
    the docker connection the module would otherwise run on and confirm (over
    SSH, the dead controller's session takes it down). BIRD undoes the change by
    itself after CONFIRM_TIMEOUT seconds.
    """
    node, tor = "n1", NODE_TOR["n1"]
    old = docker("exec", node, "cat", BIRD_CONF).stdout
    new = old.replace("filter export_ipv4 {\n", "filter export_ipv4 {\n  bgp_community.add((%s));\n" % MARKER.replace(":", ","), 1)
    if new == old:
        sys.exit("no `filter export_ipv4 {` in %s's %s" % (node, BIRD_CONF))
    if marker_at(tor):
        sys.exit("%s already sees %s before the apply" % (tor, MARKER))
    not_established = polls = 0
    with Probe(probe_timeout) as probe:
        start = time.time()
        controller = subprocess.Popen(routing_config(node, new), env=env(), stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True)

        def reconfigured():
            if controller.poll() is not None:
                sys.exit("the apply on %s ended (exit %s) before BIRD was seen reconfigured" % (node, controller.returncode))
            # The candidate's community at the ToR: BIRD runs it (a changed
            # `Last reconfiguration` alone once came from the previous repetition).
            return marker_at(tor)

        try:
            wait_for("BIRD running the candidate on %s" % node, reconfigured, 120)
            configured_s = since(start)
        finally:
            os.killpg(controller.pid, 9)
            controller.wait()
        modules = docker("exec", node, "pgrep", "-f", "AnsiballZ_routing_config", check=False).stdout.split()
        for pid in modules:
            docker("exec", node, "kill", "-KILL", pid, check=False)
        killed_s = since(start)
        new_s = old_s = None
        while time.time() - start < CONFIRM_TIMEOUT + 40:
            sessions, established = bird_sessions(node)
            polls += 1
            not_established += int(established < sessions or sessions == 0)
            if marker_at(tor):
                new_s = new_s or since(start)
            elif new_s is not None:
                old_s = since(start)
                break
            time.sleep(0.2)
        time.sleep(1)
    sessions, established = bird_sessions(node)
    disk = docker("exec", node, "cat", BIRD_CONF).stdout
    summary = probe.summary
    summary.update(
        configured_s=configured_s, killed_s=killed_s, new_seen_s=new_s, rolled_back_s=old_s, modules_killed=len(modules),
        polls=polls, polls_not_established=not_established, sessions=sessions, established=established,
        running="new" if marker_at(tor) else "old", disk="new" if disk == new else "old" if disk == old else "other")
    # The same apply again: does it notice that BIRD runs the old configuration?
    again = sh(*routing_config(node, new), env=env())
    summary["reapply_changed"] = int("| CHANGED" in again.stdout)
    summary["running_after_reapply"] = "new" if marker_at(tor) else "old"
    # Put the old file back (a real apply: configure, post-check, confirm).
    sh(*routing_config(node, old), env=env())
    wait_for("the old export community at %s" % tor, lambda: not marker_at(tor), 60)
    back_in_ecmp(node)
    return summary


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


# ---------------------------------------------------------------- long-lived connections (scenario longlived)
LL_NODES = {"n1": "10.90.1.11", "n2": "10.90.1.12", "n5": "10.90.1.13", "n3": "10.90.2.11", "n4": "10.90.2.12"}
LL_TOR = {"n1": "tor1", "n2": "tor1", "n5": "tor1", "n3": "tor2", "n4": "tor2"}
LL_ROUTERS = ["spine1", "tor1", "tor2"]
LL_AGENT = "anycast-resilient-ecmp"


def ll_all_serving():
    return len(next_hops("tor1")) == 3 and len(next_hops("tor2")) == 2 and len(next_hops("spine1")) == 2


def ll_agent(running):
    """Start or stop the resilient ECMP agent on every router (its stop falls back to main)."""
    for router in LL_ROUTERS:
        docker("exec", router, "systemctl", "start" if running else "stop", LL_AGENT)
    if running:
        def mirrored():
            return all(json.loads(docker("exec", r, "ip", "-json", "route", "show", "table", "200").stdout or "[]") for r in LL_ROUTERS)
        wait_for("the agent's routes on every router", mirrored, 30)


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


def ll_session_drops():
    """BGP sessions dropped so far, summed over the routers (a flap moves every flow of its node)."""
    total = 0
    for router in LL_ROUTERS:
        summary = json.loads(docker("exec", router, "vtysh", "-c", "show bgp vrf default summary json").stdout or "{}")
        total += sum(peer.get("connectionsDropped", 0) for family in summary.values() for peer in family.get("peers", {}).values())
    return total


def ll_event(action, changed, settle, connections):
    with LongLived(connections) as ll:
        drops = ll_session_drops()
        action()
        settle()
        time.sleep(2)
        drops = ll_session_drops() - drops
    out = ll_report(ll.data, changed, ll.event_start)
    out["session_drops"] = drops
    return out


def ll_drain(connections):
    return ll_event(lambda: playbook("drain", "fabric_drain=n1", "fabric_drain_linger=2", scenario="longlived"), "n1",
                    lambda: None, connections)


def ll_undrain(connections):
    return ll_event(lambda: playbook("undrain", "fabric_drain=n1", scenario="longlived"), "n1",
                    lambda: wait_for("n1 back in tor1's ECMP", lambda: LL_NODES["n1"] in next_hops("tor1")), connections)


def ll_service_down(connections):
    return ll_event(lambda: docker("exec", "n2", "systemctl", "stop", "lab-http"), "n2",
                    lambda: wait_for("n2 out of tor1's ECMP", lambda: LL_NODES["n2"] not in next_hops("tor1")), connections)


def ll_service_back(connections):
    return ll_event(lambda: docker("exec", "n2", "systemctl", "start", "lab-http"), "n2",
                    lambda: wait_for("n2 back in tor1's ECMP", lambda: LL_NODES["n2"] in next_hops("tor1")), connections)


def ll_agent_kill(connections):
    """The agent on tor1 gets SIGKILL: ExecStopPost falls back to main, systemd restarts it (resilient mode only)."""
    def kill():
        docker("exec", "tor1", "systemctl", "kill", "--signal=KILL", LL_AGENT)
        time.sleep(1)

    def restarted():
        return json.loads(docker("exec", "tor1", "ip", "-json", "route", "show", "table", "200").stdout or "[]")

    return ll_event(kill, "none", lambda: wait_for("the agent's routes back on tor1", restarted, 60), connections)


# Events in pairs: the second puts back what the first changed.
LL_EVENTS = [
    ("ll-drain", "drain of one node (n1; rack of 3)", ll_drain),
    ("ll-undrain", "undrain of that node (= a node added to a rack)", ll_undrain),
    ("ll-service-down", "another node's service fails (n2; health agent withdraws)", ll_service_down),
    ("ll-service-back", "that service comes back (n2)", ll_service_back),
    # Not a fabric event: what the agent's own death costs (resilient mode only, not run by default).
    ("ll-agent-kill", "the agent on tor1 killed (SIGKILL) and restarted by systemd", ll_agent_kill),
]
LL_DEFAULT = ("ll-drain", "ll-undrain", "ll-service-down", "ll-service-back")


LL_FIRST = ("ll-drain", "ll-service-down")


def ll_row(key, label, mode, runs, loads):
    def stat(side, what):
        values = [r[side][what] for r in runs]
        return {"median": statistics.median(values), "max": max(values)}

    return {
        "event": "%s/%s" % (key, mode),
        "label": label,
        "ecmp": mode,
        "reps": len(runs),
        "load": "%.1f-%.1f" % (min(loads), max(loads)) if loads else "-",
        "connections_median": statistics.median(r["connections"] for r in runs),
        "changed_reset": stat("on_changed", "reset"),
        "changed_stalled": stat("on_changed", "stalled"),
        "changed_connections": stat("on_changed", "connections"),
        "collateral_reset": stat("collateral", "reset"),
        "collateral_stalled": stat("collateral", "stalled"),
        "collateral_connections": stat("collateral", "connections"),
        "session_drops_total": sum(r["session_drops"] for r in runs),
        "runs": [{k: r[k] for k in ("connections", "on_changed", "collateral", "per_node", "outside_window", "session_drops")} for r in runs],
    }


def ll_markdown(result):
    lines = [
        "# long-lived connections through ECMP changes (%s)" % result["date"],
        "",
        "%s. The lab client holds %d TCP connections to %s (lab/longlived.py), each sending a"
        " line every 100 ms; a connection is reset (RST, EOF, error) or stalled (no answer for > 1 s). Nodes: n1, n2, n5"
        " behind tor1, n3, n4 behind tor2; spine1 spreads over the two ToRs. `plain` = the main table's multipath routes"
        " (hash-threshold, the agent stopped); `resilient` = anycast-resilient-ecmp running on spine1, tor1, tor2"
        " (resilient groups, %s buckets, idle timer %s s). Hash policy on the routers: fib_multipath_hash_policy=%s."
        " BFD off in this scenario (at 100 ms it flaps on this loaded machine); a BGP session that drops during an"
        " event moves all of its node's flows, so the last column says whether a row is clean."
        " Median (max) over the repetitions of each row; load = the 1-min load average (2 cores) before each repetition."
        % (result["machine"], result["connections"], VIP, result["buckets"], result["idle_timer"],
           result["hash_policy"]),
        "",
        "| event | ECMP | reps | load | connections | on the changed node: reset | stalled"
        " | collateral (other nodes): reset | stalled | BGP sessions dropped (all reps) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append("| %s | %s | %s | %s | %s | %s (%s) of %s | %s (%s) | **%s (%s)** of %s | %s (%s) | %s |" % (
            r["label"], r["ecmp"], r["reps"], r.get("load", "-"), r["connections_median"],
            r["changed_reset"]["median"], r["changed_reset"]["max"], r["changed_connections"]["median"],
            r["changed_stalled"]["median"], r["changed_stalled"]["max"],
            r["collateral_reset"]["median"], r["collateral_reset"]["max"], r["collateral_connections"]["median"],
            r["collateral_stalled"]["median"], r["collateral_stalled"]["max"], r["session_drops_total"]))
    lines += [
        "",
        "Connections on the node that leaves are reset whatever the ECMP scheme (their node is no longer reachable"
        " through the fabric); collateral resets are connections on nodes that did not change, moved by the rehash."
        " Undrain is measured as the node added to a rack: at the ToR both are one next hop joining the set."
        " The agent-kill row is the price of the agent's fail-safe: its routes fall back to the main table"
        " (one rehash) and come back when systemd restarts it (another).",
    ]
    return "\n".join(lines) + "\n"


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
    rows = [ll_row(key, label, mode, runs[(key, mode)], loads_of[(key, mode)]) for key, label, _f in LL_EVENTS for mode in modes if (key, mode) in runs]
    config = json.loads(docker("exec", "tor1", "cat", "/etc/anycast-fabric/resilient-ecmp.json").stdout)
    result = {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "load": "1-min load average %.1f to %.1f (2 cores)" % (min(loads), max(loads)) if loads else "-",
        "connections": args.connections,
        "buckets": config.get("buckets"),
        "idle_timer": config.get("idle_timer"),
        "hash_policy": policy,
        "reps": args.reps,
        "rows": rows,
    }
    # Each run replaces its own rows (event and ECMP mode) and keeps the others.
    path = os.path.join(RESULTS, "longlived.json")
    if os.path.exists(path):
        with open(path) as handle:
            previous = json.load(handle).get("rows", [])
        keys = set(r["event"] for r in rows)
        rows = [r for r in previous if r["event"] not in keys] + rows
        order = ["%s/%s" % (k, m) for k, _l, _f in LL_EVENTS for m in ("plain", "resilient")]
        result["rows"] = sorted(rows, key=lambda r: order.index(r["event"]) if r["event"] in order else 99)
    os.makedirs(RESULTS, exist_ok=True)
    with open(path, "w") as handle:
        json.dump(result, handle, indent=1)
        handle.write("\n")
    text = ll_markdown(result)
    with open(os.path.join(RESULTS, "longlived.md"), "w") as handle:
        handle.write(text)
    print(text)


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
    ("bird_kill", "BIRD on a node killed (SIGKILL), restarted by systemd", event_bird_kill, "back in ECMP"),
    ("frr_kill_tor", "bgpd on a ToR killed (SIGKILL), restarted by watchfrr", event_frr_kill_tor, "every session back"),
    ("frr_kill_node", "bgpd on an FRR node killed (SIGKILL), restarted by watchfrr", event_frr_kill_node, "back in ECMP"),
    ("tor_dark", "one ToR of a pair goes dark (every link down), 5 s", event_tor_dark, "rack keeps serving"),
    ("reboot", "a node rebooted (VIP announced after its checks pass)", event_reboot, "announced after healthy"),
    ("apply_interrupted", "apply SIGKILLed inside BIRD's configure timeout", event_apply_interrupted, "sessions kept; old or new"),
]

EVENT_KEYS = frozenset(key for key, _l, _f, _t in EVENTS)

# Per fault row: the timeline (seconds from the fault; median and max) and the
# counts or states summed or listed over the repetitions.
FAULTS = {
    "bird_kill": (("out_s", "restarted_s", "back_s"), ("restarts",), ("restart_policy",)),
    "frr_kill_tor": (("spine_out_s", "restarted_s", "sessions_s", "back_s"), ("sessions", "sessions_back"), ()),
    "frr_kill_node": (("out_s", "restarted_s", "session_s", "back_s"), (), ()),
    "tor_dark": (("spine_out_s", "gateway_s", "restored_s", "sessions_s", "back_s"),
                 ("lost_dark", "lost_return", "sessions", "gateway_moved"), ("dark",)),
    "reboot": (("restart_returned_s", "lab_routes_s", "session_s", "check_up_s", "announced_s", "path_s"),
               ("announced_before_healthy",), ()),
    "apply_interrupted": (("configured_s", "killed_s", "new_seen_s", "rolled_back_s"),
                          ("modules_killed", "polls", "polls_not_established", "reapply_changed"),
                          ("running", "disk", "running_after_reapply")),
}


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
    out = {
        "event": key,
        "label": label,
        # Scenario failover gained rack r1's ToR pair on 2026-11-25; rows measured before lack this key.
        "topology": "tor-pair" if key in EVENT_KEYS else "two-sites",
        "target": target,
        "measured": datetime.date.today().isoformat(),
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
    if key in FAULTS:
        timeline, counts, states = FAULTS[key]
        out["timeline_s"] = {}
        for name in timeline:
            values = [r.get(name) for r in runs if r.get(name) is not None]
            out["timeline_s"][name] = {"median": statistics.median(values) if values else None,
                                       "max": max(values) if values else None, "seen": len(values)}
        out["counts_total"] = {name: sum(r.get(name) or 0 for r in runs) for name in counts}
        out["states"] = {name: sorted(set(str(r.get(name)) for r in runs)) for name in states}
        for run, r in zip(out["runs"], runs):
            run.update((name, r.get(name)) for name in timeline + counts + states)
    return out


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
            "| %s%s | %s | %s | %s | %s | %s | %s of %s requests |"
            % (r["label"], " (one ToR per rack)" if r["event"] in EVENT_KEYS and not r.get("topology") else "", r["target"],
               r["window_ms_median"], r["window_ms_max"], r["lost_median"], r["lost_max"], r["resets_total"], r["requests_total"])
        )
    lines += [
        "",
        "Four nodes share the VIP through ECMP, so a failing node costs only the requests hashed to it"
        " (about a quarter): the lost-request columns count those, the window says for how long.",
        "The two-site rows (`--lab global`) are measured at client a, near site a: when site a fails or drains,"
        " all of client a's traffic moves to site b, through both upstream routers.",
        "Resets are connections that were open when a router moved their flow to another node (stateless ECMP"
        " cannot keep an open flow on a node leaving the ECMP set); every other loss is a request nobody answered.",
        "Rows marked (one ToR per rack) were measured before the one-site lab gained rack r1's ToR pair (tor1, tor1b):"
        " then spine1 had two paths for the VIP, not three, and the nodes of r1 a static gateway on tor1.",
    ]
    faults = [r for r in result["rows"] if "timeline_s" in r]
    if faults:
        lines += [
            "",
            "## Fault rows: what happened when",
            "",
            "Seconds from the fault (the kill, `docker restart`, the start of the apply), median (max) over the"
            " repetitions, polled every 0.2 s plus a `docker exec` (about 0.1-0.3 s each); `seen` counts the"
            " repetitions in which the state was observed. Counts are summed over the repetitions.",
            "",
            "| event | reps | timeline: median (max) s | counts (all reps) | states |",
            "|---|---|---|---|---|",
        ]
        for r in faults:
            timeline = "; ".join("%s %s (%s)%s" % (name, t["median"], t["max"], "" if t["seen"] == r["reps"] else " seen %d" % t["seen"])
                                 for name, t in r["timeline_s"].items())
            counts = "; ".join("%s %s" % item for item in r["counts_total"].items()) or "-"
            states = "; ".join("%s: %s" % (name, "/".join(v)) for name, v in r["states"].items()) or "-"
            lines.append("| %s | %s | %s | %s | %s |" % (r["label"], r["reps"], timeline, counts, states))
        lines += [
            "",
            "bird_kill: out_s = n1's path gone at tor1, restarted_s = systemd's new BIRD active, back_s = n1 back in"
            " tor1's ECMP. frr_kill_tor: spine_out_s = spine1 down to one path, restarted_s = watchfrr's new bgpd,"
            " sessions_s = every session of tor1 Established again, back_s = spine1 at three paths and tor1 at two again"
            " (each repetition starts from a fresh frr.service: watchfrr waits at least 60 s before restarting"
            " a daemon it restarted less than 60 s ago; and %d s after it, more than the nodes' BIRD error forget time)."
            " frr_kill_node: out_s = n4's path gone at tor2, restarted_s = watchfrr's new bgpd on n4, session_s ="
            " tor2's session to n4 Established, back_s = tor2 routes the VIP to n4 again."
            " tor_dark: the VRRP master of rack r1's pair (tor1, tor1b) loses every link for %d s; spine_out_s = spine1"
            " no longer routes through it, gateway_s = the other ToR holds the nodes' gateway, restored_s = links"
            " up, sessions_s / back_s = its sessions Established / spine1 at three paths again; lost_dark and"
            " lost_return split the unanswered requests at restored_s; gateway_moved counts repetitions where"
            " the other ToR kept the gateway (VRRP nopreempt). reboot: restart_returned_s = `docker restart` returned"
            " (shutdown and start), lab_routes_s = the lab's static route put back (a container loses it),"
            " session_s = tor1's session to n1 Established, check_up_s / announced_s = the health agent's first"
            " check up / VIP ANNOUNCED (its journal), path_s = tor1 routes the VIP to n1; announced_before_healthy"
            " counts repetitions where tor1 had the path before the agent announced. apply_interrupted:"
            " configured_s = the candidate seen live (its community at tor1), killed_s = the controller and the module on n1"
            " SIGKILLed after that, before the module's post-check (at least 10 s) ends with `confirm` (`timeout %d`),"
            " new_seen_s / rolled_back_s = tor1 sees the candidate's export community %s / no longer sees it (BIRD's"
            " own undo); running = the configuration BIRD ran at the end, disk = the file left on disk;"
            " reapply_changed = the same apply run again reported a change." % (QUIET_S, DARK_S, CONFIRM_TIMEOUT, MARKER),
        ]
    return "\n".join(lines) + "\n"


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
