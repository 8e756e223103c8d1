# -*- coding: utf-8 -*-
"""The failover benchmark's events: each drives one fault through the lab and returns what was measured.

An event function takes the probe timeout (or, for the long-lived events,
the number of connections) and returns the probe's summary, with the event's
own timeline and counts added. The tables at the end list them per lab.
"""

import json
import os
import subprocess
import sys
import time

from failover_lab import (
    BIRD_CONF,
    CONFIRM_TIMEOUT,
    DARK_S,
    HEALTHD_CONFIG,
    LL_AGENT,
    LL_NODES,
    MARKER,
    NODE_ADDRESS,
    NODE_TOR,
    PAIR,
    QUIET_S,
    REPO,
    RESTART_S,
    SITE_A,
    SPINE_PATHS,
    UNIT_CHECK,
    UPLINK,
    docker,
    LL_EXTRA_VARS,
    VIP,
    env,
    inventory,
    lab_boot,
    playbook,
    restart_frr,
    routing_config,
    set_links,
    sh,
    wait_for,
)
from failover_measure import (
    LongLived,
    Probe,
    answered_by_site,
    bgpd_pid,
    bird_sessions,
    frr_established,
    healthd_journal,
    holds_gateway,
    ll_report,
    ll_session_drops,
    marker_at,
    next_hops,
    seen_within,
    since,
    split_lost,
    unit_property,
)


# ---------------------------------------------------------------- putting the lab back between repetitions


def back_in_ecmp(node):
    wait_for("%s back in %s's ECMP" % (node, NODE_TOR[node]), lambda: NODE_ADDRESS[node] in next_hops(NODE_TOR[node]))
    wait_for("all four nodes serving", lambda: len(next_hops("tor1")) == 2 and len(next_hops("tor2")) == 2
             and len(next_hops("spine1")) == SPINE_PATHS)
    time.sleep(2)


def ll_all_serving():
    return len(next_hops("tor1")) == 3 and len(next_hops("tor2")) == 2 and len(next_hops("spine1")) == 2


def set_bfd(enabled):
    """Re-converge the lab with BFD on or off (the fabric's own site.yml)."""
    bgp = {"password": "lab-md5-key", "bfd": enabled}
    path = os.path.join(REPO, ".build", "bench-failover-bgp.json")
    with open(path, "w") as handle:
        json.dump({"fabric_bgp": bgp}, handle)
    sh("molecule", "converge", "-s", "failover", "--", "--extra-vars", "@" + path, env=env(), cwd=REPO)
    wait_for("all four nodes serving", lambda: len(next_hops("tor1")) == 2 and len(next_hops("tor2")) == 2)


# ---------------------------------------------------------------- one site: a node's service, agent, freeze, drain


def event_service(probe_timeout):
    with Probe(probe_timeout) as probe:
        docker("exec", "n1", "systemctl", "stop", "lab-http")
        time.sleep(4)
    docker("exec", "n1", "systemctl", "start", "lab-http")
    back_in_ecmp("n1")
    return probe.summary


def unit_health():
    """Whether the lab's VIP follows lab-http.service (lab_unit_health): its check in n1's agent configuration."""
    config = json.loads(docker("exec", "n1", "cat", HEALTHD_CONFIG).stdout)
    return UNIT_CHECK in json.dumps(config)


def set_unit_health(enabled):
    """Re-converge the lab with lab_unit_health on or off (the fabric's own site.yml), unless it already is."""
    if unit_health() == enabled:
        return
    path = os.path.join(REPO, ".build", "bench-failover-unit.json")
    with open(path, "w") as handle:
        json.dump({"lab_unit_health": enabled}, handle)
    sh("molecule", "converge", "-s", "failover", "--", "--extra-vars", "@" + path, env=env(), cwd=REPO)
    if unit_health() != enabled:
        sys.exit("lab_unit_health=%s did not reach n1's %s" % (enabled, HEALTHD_CONFIG))
    wait_for("all four nodes serving", lambda: len(next_hops("tor1")) == 2 and len(next_hops("tor2")) == 2)


def event_service_unit(probe_timeout):
    """lab-http's unit on n1 killed (SIGKILL); with lab_unit_health, its systemd_unit check withdraws at once.

    systemd restarts it (Restart=on-failure) after RESTART_S, set for the
    event by a runtime drop-in: as in event_service, the service stays away
    for seconds, so the window measures the agent, not systemd's restart.
    """
    node = "n1"
    dropin = "/run/systemd/system/lab-http.service.d/bench-restart.conf"
    docker("exec", node, "sh", "-c", "mkdir -p %s && printf '[Service]\\nRestartSec=%d\\n' > %s && systemctl daemon-reload"
           % (os.path.dirname(dropin), RESTART_S, dropin))
    restarts = int(unit_property(node, "lab-http", "NRestarts") or 0)

    def restarted():
        return (int(unit_property(node, "lab-http", "NRestarts") or 0) > restarts
                and unit_property(node, "lab-http", "ActiveState") == "active")

    try:
        with Probe(probe_timeout) as probe:
            start = time.time()
            docker("exec", node, "systemctl", "kill", "--signal=KILL", "lab-http")
            out_s = seen_within(lambda: NODE_ADDRESS[node] not in next_hops(NODE_TOR[node]), 10, start)
            wait_for("lab-http restarted on %s" % node, restarted, 30)
            restarted_s = since(start)
            time.sleep(1)
    finally:
        docker("exec", node, "sh", "-c", "rm -f %s && systemctl daemon-reload" % dropin)
    summary = probe.summary
    summary.update(out_s=out_s, restarted_s=restarted_s,
                   restarts=int(unit_property(node, "lab-http", "NRestarts") or 0) - restarts,
                   restart_policy=unit_property(node, "lab-http", "Restart"))
    print("service_unit: n1 out of tor1's ECMP %ss after the kill, lab-http restarted %ss after it (%d restart(s), Restart=%s)"
          % (out_s, restarted_s, summary["restarts"], summary["restart_policy"]), flush=True)
    back_in_ecmp(node)
    return summary


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
    lost_dark, lost_return = split_lost(summary["lost_probes"], restored - summary["started"])
    summary.update(spine_out_s=spine_out_s, gateway_s=gateway_s, restored_s=round(restored - start, 2), sessions_s=sessions_s,
                   back_s=back_s, lost_dark=lost_dark, lost_return=lost_return, sessions=len(peers),
                   gateway_moved=int(holds_gateway(other)), dark=dark)
    return summary


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


# ---------------------------------------------------------------- two sites (scenario global)


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


KEEP_RECORD = "/var/lib/anycast-fabric/drain-keep.json"  # what a keep-mode drain leaves on the node (playbooks/drain.yml)


def _keep_drain(wait):
    """anycast.fabric.drain of n1 in keep mode (deadline WAIT s), started in the background: the Popen."""
    args = ["ansible-playbook", "-i", inventory("longlived"), "--extra-vars", json.dumps(LL_EXTRA_VARS)]
    for item in ("fabric_drain=n1", "fabric_drain_mode=keep", "fabric_drain_linger=2", "fabric_drain_connection_wait=%d" % wait):
        args += ["--extra-vars", item]
    docker("exec", "n1", "rm", "-f", KEEP_RECORD, check=False)
    return subprocess.Popen(args + ["anycast.fabric.drain"], env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def _sample_new(count, duration):
    """lab/longlived.py sample on the client: the nodes answering COUNT new connections (at most DURATION s)."""
    out = docker("exec", "client", "python3", "/usr/local/bin/lab-longlived", "sample", "--target", VIP, "--count", str(count),
                 "--parallel", "16", "--duration", str(duration)).stdout
    return json.loads(out)


def _undrain_n1():
    playbook("undrain", "fabric_drain=n1", "fabric_drain_timeout=180", scenario="longlived")
    wait_for("n1 back in tor1's ECMP", lambda: LL_NODES["n1"] in next_hops("tor1"))
    wait_for("all five nodes serving", ll_all_serving)


def ll_drain_keep(connections):
    """anycast.fabric.drain of n1 with fabric_drain_mode=keep, its deadline (600 s) longer than the run.

    Under the client's connections: once tor1 has taken n1 out of ECMP, 10 s of traffic through the rack-mates'
    forwarding and 500 new connections (which must land on the rack-mates), then the client stops (its
    connections end by themselves: the drain sees none left and withdraws). Then undrain, not measured.
    """
    extra = {}

    def action():
        drain = _keep_drain(600)
        wait_for("n1 out of tor1's ECMP", lambda: LL_NODES["n1"] not in next_hops("tor1"), 120)
        time.sleep(5)
        extra["new"] = _sample_new(500, 20)
        time.sleep(5)
        extra["drain"] = drain

    out = ll_event(action, "n1", lambda: None, connections)
    drain = extra["drain"]
    output, _err = drain.communicate(timeout=300)
    if drain.returncode != 0:
        sys.exit("the keep drain failed:\n%s" % output[-4000:])
    record = json.loads(docker("exec", "n1", "cat", KEEP_RECORD).stdout)
    out["new_per_node"] = extra["new"]["per_node"]
    out["new_failed"] = extra["new"]["failed"]
    out["closed_by_drain"] = int(record["closed"])
    _undrain_n1()
    return out


def ll_drain_keep_dies(connections):
    """A keep-mode drain of n1 during which n1 dies: its clients must get resets, not hang.

    The death is a power loss as the fabric sees it: n1's link goes down (its kernel no longer answers, its
    heartbeat stops) for 15 s. The rack-mates stop forwarding after the heartbeat's timeout (2 s) and answer
    the retransmissions of n1's flows with resets. reset_after_death_s: from the link cut to each reset of n1's
    connections; hung: n1's connections that got none. Then n1's link and routes come back, the drain (stuck on
    n1) is killed and n1 undrained, not measured. (docker pause would freeze n1's processes but not its TCP
    stack, which keeps acknowledging: the lab client, waiting for an echo, then sends nothing that could be reset.)
    """
    extra = {}

    def action():
        extra["drain"] = _keep_drain(600)
        wait_for("n1 out of tor1's ECMP", lambda: LL_NODES["n1"] not in next_hops("tor1"), 120)
        time.sleep(3)
        extra["death"] = time.time()
        set_links("n1", "down")
        time.sleep(15)

    try:
        out = ll_event(action, "n1", lambda: None, connections)
    finally:
        set_links("n1", "up")
        docker("exec", "n1", "ip", "route", "replace", "default", "via", "10.90.1.1")
        docker("exec", "n1", "ip", "route", "replace", "10.90.100.0/24", "via", "10.90.1.2")
        # Its BGP sessions timed out while it was gone: a fresh BIRD reconnects at once (not after its error wait).
        docker("exec", "n1", "systemctl", "restart", "bird", check=False)
        if "drain" in extra:
            try:
                os.killpg(extra["drain"].pid, 9)
            except ProcessLookupError:
                pass
            extra["drain"].wait()
    death = extra["death"] - out["window"][0]
    after = sorted(round(b["reset_s"] - death, 3) for b in out["broken"] if b["node"] == "n1" and b["reset_s"] is not None)
    out["reset_after_death_s"] = {"median": after[len(after) // 2] if after else None, "max": after[-1] if after else None}
    out["hung"] = out["on_changed"]["connections"] - out["on_changed"]["reset"]
    _undrain_n1()
    return out


def _ll_agent_pid():
    return docker("exec", "tor1", "systemctl", "show", "-p", "MainPID", "--value", LL_AGENT).stdout.strip()


def _ll_agent_back(before):
    """Settle: a new agent process on tor1, active (it has synced: Type=notify), its routes in table 200."""
    def back():
        if _ll_agent_pid() in ("", "0", before):
            return False
        if docker("exec", "tor1", "systemctl", "is-active", LL_AGENT, check=False).stdout.strip() != "active":
            return False
        return bool(json.loads(docker("exec", "tor1", "ip", "-json", "route", "show", "table", "200").stdout or "[]"))

    wait_for("the agent back on tor1", back, 60)


def ll_agent_kill(connections):
    """The agent on tor1 gets SIGKILL; systemd restarts it a second later, which adopts its groups (resilient mode only)."""
    before = []

    def kill():
        before.append(_ll_agent_pid())
        docker("exec", "tor1", "systemctl", "kill", "--signal=KILL", LL_AGENT)

    return ll_event(kill, "none", lambda: _ll_agent_back(before[0]), connections)


def ll_agent_restart(connections):
    """systemctl restart of the agent on tor1, as the role's handler does after a new configuration or version."""
    before = []

    def restart():
        before.append(_ll_agent_pid())
        docker("exec", "tor1", "systemctl", "restart", LL_AGENT)

    return ll_event(restart, "none", lambda: _ll_agent_back(before[0]), connections)


def ll_weight_change(connections):
    """n3's fabric_vip_weight changed 2 -> 1 by a site run, weighted ECMP on (issue 25).

    Outside the measurement, a site run first gives n3 weight 2 and the
    routers' groups settle (balanced); the event is the site run back to
    weight 1, settled when every router's route has the new weights and the
    agent's groups carry them (tor2's n3:n4 goes 2:1 -> 1:1, spine1's
    tor1:tor2 3:3 -> 3:2). The resilient groups move only idle buckets.
    """
    import weighted  # noqa: E402 (benchmarks/weighted.py: the weights' inventory, the routers' settling)

    two, one = weighted.node_weights({"n3": 2}), weighted.node_weights({})
    weighted.run_playbook("site", True, two)
    settled, _routes = weighted.settle(two, (), True)
    if settled is None:
        sys.exit("the routers never settled with n3 at weight 2")
    out = ll_event(lambda: weighted.run_playbook("site", True, one), "n3",
                   lambda: weighted.settle(one, (), True, balanced=False), connections)
    # With the connections gone: how far the groups got (only idle buckets move, unbalanced_timer 0).
    for router in ("spine1", "tor2"):
        hops, _synced, balanced = weighted.router_state(router)
        print("ll-weight-change: %s after the event: %s, balanced: %s" % (router, hops, balanced), flush=True)
    return out


# ---------------------------------------------------------------- the events of each lab
GLOBAL_EVENTS = [
    ("site-failure", "site a's service stops on both nodes (far client, two sites)", event_site_failure, "< 1500 ms + one upstream update"),
    ("site-drain", "anycast.fabric.drain of site a (far client, two sites)", event_site_drain, "0 lost"),
]

EVENTS = [
    ("service", "service stops on one node (health agent withdraws)", event_service, "< 1500 ms"),
    ("service_unit", "service's unit killed (SIGKILL) on one node, event-driven check (systemd_unit) withdraws", event_service_unit, "< 250 ms"),
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

# Events in pairs: the second puts back what the first changed.
LL_EVENTS = [
    ("ll-drain", "drain of one node (n1; rack of 3)", ll_drain),
    ("ll-undrain", "undrain of that node (= a node added to a rack)", ll_undrain),
    ("ll-service-down", "another node's service fails (n2; health agent withdraws)", ll_service_down),
    ("ll-service-back", "that service comes back (n2)", ll_service_back),
    # Not a fabric event: what the agent's own death costs (resilient mode only, not run by default).
    ("ll-agent-kill", "the agent on tor1 killed (SIGKILL) and restarted by systemd", ll_agent_kill),
    ("ll-agent-restart", "the agent on tor1 restarted (systemctl restart, as the role's handler)", ll_agent_restart),
    # Weighted ECMP (issue 25; not run by default; --ecmp resilient): a node's weight changed by a site run.
    ("ll-weight-change", "a node's weight changed 2 -> 1 (n3; site run, weighted ECMP)", ll_weight_change),
    # The zero-reset drain (issue 26; not run by default; --ecmp resilient): fabric_drain_mode=keep, then undrain.
    ("ll-drain-keep", "zero-reset drain of one node (n1; fabric_drain_mode=keep, deadline after the run)", ll_drain_keep),
    ("ll-drain-keep-dies", "zero-reset drain of n1, n1 dies during it (its link cut)", ll_drain_keep_dies),
]
LL_DEFAULT = ("ll-drain", "ll-undrain", "ll-service-down", "ll-service-back")


LL_FIRST = ("ll-drain", "ll-service-down")
