# -*- coding: utf-8 -*-
"""The failover benchmark's reporting: rows from the events' summaries, the JSON and Markdown results.

Pure functions of the summaries (machine() aside, which describes this host),
so they are unit-tested with recorded summaries; the results files are
benchmarks/results/failover.{json,md} and longlived.{json,md}.
"""

import datetime
import json
import os
import platform
import statistics

from failover_lab import CONFIRM_TIMEOUT, DARK_S, HERE, MARKER, QUIET_S, VIP

RESULTS = os.path.join(HERE, "results")

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


def row(key, label, target, runs, topology):
    """The row of one event from its repetitions' summaries (TOPOLOGY: tor-pair for the one-site lab, two-sites)."""
    windows = [r["loss_window_ms"] for r in runs]
    lost = [r["lost"] for r in runs]
    resets = [r["resets"] for r in runs]
    out = {
        "event": key,
        "label": label,
        # Scenario failover gained rack r1's ToR pair on 2026-11-25; rows measured before lack this key.
        "topology": topology,
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


LL_EXTRAS = ("new_per_node", "new_failed", "closed_by_drain", "reset_after_death_s", "hung")


def ll_row(key, label, mode, runs, loads):
    """The row of one long-lived event in one ECMP mode from its repetitions' reports and the load before each."""
    def stat(side, what):
        values = [r[side][what] for r in runs]
        return {"median": statistics.median(values), "max": max(values)}

    row = {
        "event": "%s/%s" % (key, mode),
        "label": label,
        "ecmp": mode,
        "measured": datetime.date.today().isoformat(),
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
        "runs": [{k: r[k] for k in ("connections", "on_changed", "collateral", "per_node", "outside_window", "session_drops") + LL_EXTRAS
                  if k in r} for r in runs],
    }
    # The zero-reset drain's rows: where new connections went, what the drain closed, how soon a dead node's clients were reset.
    if any("new_per_node" in r for r in runs):
        row["new_per_node_total"] = {}
        for r in runs:
            for node, n in r.get("new_per_node", {}).items():
                row["new_per_node_total"][node] = row["new_per_node_total"].get(node, 0) + n
        row["closed_by_drain_total"] = sum(r.get("closed_by_drain", 0) for r in runs)
    if any("reset_after_death_s" in r for r in runs):
        values = [r["reset_after_death_s"]["max"] for r in runs if r["reset_after_death_s"]["max"] is not None]
        row["reset_after_death_s_max"] = max(values) if values else None
        row["hung_total"] = sum(r.get("hung", 0) for r in runs)
    return row


def machine():
    kernel = platform.release()
    cores = os.cpu_count()
    return "%s cores, kernel %s, lab containers on one host (Docker), BIRD 2.0.12 and FRR 8.4.4 from Debian 12" % (cores, kernel)


def markdown(result, one_site):
    """failover.md from failover.json's RESULT; ONE_SITE: the one-site lab's event keys (its rows without a topology predate the ToR pair)."""
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
            % (r["label"], " (one ToR per rack)" if r["event"] in one_site and not r.get("topology") else "", r["target"],
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


def ll_markdown(result):
    """longlived.md from longlived.json's RESULT."""
    # Each run replaces only its own rows, so the rows can be of different days (a row without "measured": the result's date).
    days = sorted(set(r.get("measured", result["date"]) for r in result["rows"])) or [result["date"]]
    lines = [
        "# long-lived connections through ECMP changes (%s)" % (days[0] if len(days) == 1 else "%s to %s" % (days[0], days[-1])),
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
        "| event | ECMP | measured | reps | load | connections | on the changed node: reset | stalled"
        " | collateral (other nodes): reset | stalled | BGP sessions dropped (all reps) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append("| %s | %s | %s | %s | %s | %s | %s (%s) of %s | %s (%s) | **%s (%s)** of %s | %s (%s) | %s |" % (
            r["label"], r["ecmp"], r.get("measured", result["date"]), r["reps"], r.get("load", "-"), r["connections_median"],
            r["changed_reset"]["median"], r["changed_reset"]["max"], r["changed_connections"]["median"],
            r["changed_stalled"]["median"], r["changed_stalled"]["max"],
            r["collateral_reset"]["median"], r["collateral_reset"]["max"], r["collateral_connections"]["median"],
            r["collateral_stalled"]["median"], r["collateral_stalled"]["max"], r["session_drops_total"]))
    keep = [r for r in result["rows"] if "new_per_node_total" in r or "hung_total" in r]
    if keep:
        lines += ["", "Zero-reset drain rows (all repetitions): new connections opened during the drain per node; connections"
                  " the drain closed at its deadline (not resets by the fabric); for a node dying mid-drain, its connections"
                  " that never got a reset (hung) and the latest reset after its death.", ""]
        for r in keep:
            if "new_per_node_total" in r:
                lines.append("- %s: new connections per node %s; closed by the drain %s" % (
                    r["label"], ", ".join("%s %s" % kv for kv in sorted(r["new_per_node_total"].items())), r["closed_by_drain_total"]))
            if "hung_total" in r:
                lines.append("- %s: hung %s; latest reset %s s after the death" % (r["label"], r["hung_total"], r["reset_after_death_s_max"]))
    lines += [
        "",
        "In a standard drain the connections on the node that leaves are reset whatever the ECMP scheme (their node is"
        " no longer reachable through the fabric; the zero-reset drain's rack-mates forward them to it); collateral"
        " resets are connections on nodes that did not change, moved by the rehash."
        " Undrain is measured as the node added to a rack: at the ToR both are one next hop joining the set."
        " The agent rows are the agent's own death (SIGKILL) and restart (as the tor role's handler does). An agent"
        " that adopts its groups (docs/ecmp.md, Lifecycle) leaves them in the kernel and should move no flow; a row"
        " measured before adoption (every exit flushed: one rehash to the main table, another back) shows two rehashes.",
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the results files


def previous_rows(name):
    """The rows of benchmarks/results/NAME.json, or None when there is none yet."""
    path = os.path.join(RESULTS, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle).get("rows", [])


def merge_rows(previous, rows, order):
    """This run's ROWS replace the PREVIOUS rows of their events; the others are kept, all sorted by ORDER (unknown last)."""
    keys = set(r["event"] for r in rows)
    merged = [r for r in previous if r["event"] not in keys] + rows
    return sorted(merged, key=lambda r: order.index(r["event"]) if r["event"] in order else 99)


def write(name, result, text):
    """benchmarks/results/NAME.json (RESULT) and NAME.md (TEXT)."""
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, name + ".json"), "w") as handle:
        json.dump(result, handle, indent=1)
        handle.write("\n")
    with open(os.path.join(RESULTS, name + ".md"), "w") as handle:
        handle.write(text)
