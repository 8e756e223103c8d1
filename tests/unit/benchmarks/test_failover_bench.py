# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""benchmarks/failover.py's measurement and reporting, without the lab.

The benchmark drives the lab (failover_lab.py, failover_events.py); what it
makes of what it sees is pure: the routers' and the journal's output read
(failover_measure.py), and the rows, tables and results files
(failover_report.py). Here they get recorded samples: probe results turned
into summaries by lab/probe.py itself, router and journal output as the lab
prints it, and the committed results in benchmarks/results.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO

BENCHMARKS = REPO / "benchmarks"
for folder in (BENCHMARKS, REPO / "lab"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import failover  # noqa: E402
import failover_measure as measure  # noqa: E402
import failover_report as report  # noqa: E402
import probe  # noqa: E402 (lab/probe.py: the summary the benchmark reads)

INTERVAL = 0.01


def summary(lost_at, resets_at=(), count=400, nodes=("n1", "n2", "n3", "n4")):
    """lab/probe.py's summary of COUNT probes 10 ms apart; those starting at LOST_AT (s) time out, at RESETS_AT are reset."""
    results = []
    for index in range(count):
        at = round(index * INTERVAL, 3)
        if at in lost_at:
            results.append((index, at, False, "timeout"))
        elif at in resets_at:
            results.append((index, at, False, "reset"))
        else:
            results.append((index, at, True, nodes[index % len(nodes)]))
    return probe.summarize(1000.0, results, INTERVAL)


def ms(*values):
    return tuple(round(v, 3) for v in values)


# ---------------------------------------------------------------- measurement


def test_probe_summaries_give_the_loss_window_the_rows_use():
    one = summary(ms(1.0, 1.01, 1.02, 1.5), resets_at=ms(2.0))
    assert (one["requests"], one["lost"], one["resets"], one["loss_window_ms"]) == (400, 5, 1, 510)
    assert one["first_lost_s"] == 1.0


def test_split_lost_cuts_unanswered_requests_at_the_moment_links_came_back():
    lost = summary(ms(0.5, 0.6, 1.2), resets_at=ms(0.7, 1.3))["lost_probes"]
    assert measure.split_lost(lost, 1.0) == (2, 1)
    assert measure.split_lost(lost, 0.6) == (1, 2)
    assert measure.split_lost([], 1.0) == (0, 0)


def test_route_next_hops_of_one_path_and_of_ecmp():
    one = [{"dst": "198.51.100.80", "gateway": "10.90.1.11", "dev": "eth1", "protocol": "bird"}]
    ecmp = [{"dst": "198.51.100.80", "protocol": "bgp", "nexthops": [
        {"gateway": "10.90.0.11", "dev": "eth1", "weight": 1},
        {"gateway": "10.90.0.13", "dev": "eth2", "weight": 1},
        {"dev": "eth9", "weight": 1},
    ]}]
    assert measure.route_next_hops(one) == ["10.90.1.11"]
    assert measure.route_next_hops(ecmp) == ["10.90.0.11", "10.90.0.13"]
    assert measure.route_next_hops([]) == []


def test_established_peers_of_an_frr_summary():
    summary_json = {
        "ipv4Unicast": {"routerId": "10.90.0.11", "peers": {
            "10.90.1.11": {"state": "Established", "connectionsDropped": 2},
            "10.90.1.12": {"state": "Active", "connectionsDropped": 1},
        }},
        "ipv6Unicast": {"peers": {"2001:db8::11": {"state": "Established"}}},
        "failedPeers": 1,
    }
    assert measure.established_peers(summary_json) == {"10.90.1.11", "2001:db8::11"}
    assert measure.sessions_dropped({k: v for k, v in summary_json.items() if isinstance(v, dict)}) == 3
    assert measure.established_peers({}) == set()


def test_bgp_protocols_of_birdc_show_protocols():
    out = """BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     12:00:01.000
direct1    Direct     ---        up     12:00:01.000
tor1       BGP        ---        up     12:00:03.000  Established
tor1b      BGP        ---        start  12:00:04.000  Active        Socket: Connection refused

"""
    assert measure.bgp_protocols(out) == (2, 1)
    assert measure.bgp_protocols("") == (0, 0)


def test_journal_times_first_check_up_and_first_announce_after_the_start():
    def entry(when, message):
        return json.dumps({"__REALTIME_TIMESTAMP": str(int(when * 1e6)), "MESSAGE": message})

    out = "\n".join([
        entry(99.0, "check http-1 is up"),  # an earlier run: before the start
        entry(101.0, "anycast-healthd starting"),
        "-- No entries --",
        json.dumps({"__REALTIME_TIMESTAMP": "101500000", "MESSAGE": [104, 105]}),  # binary message
        entry(102.25, "check http-1 is up"),
        entry(103.5, "198.51.100.80/32 ANNOUNCED on lo"),
        entry(104.0, "check http-1 is up"),
        entry(105.0, "198.51.100.80/32 ANNOUNCED on lo"),
    ])
    assert measure.journal_times(out, 100.0) == (102.25, 103.5)
    assert measure.journal_times(entry(99.0, "x is up"), 100.0) == (None, None)


# ---------------------------------------------------------------- reporting


def test_row_of_a_service_event_from_probe_summaries():
    runs = [summary(ms(1.0, 1.01, 1.02)), summary(ms(1.0, 1.5), resets_at=ms(2.0)), summary(())]
    row = report.row("service", "service stops on one node", "< 1500 ms", runs, "tor-pair")
    assert (row["event"], row["topology"], row["reps"]) == ("service", "tor-pair", 3)
    assert (row["window_ms_median"], row["window_ms_max"]) == (30, 510)
    # lost counts the reset requests too; the window leaves them out
    assert (row["lost_median"], row["lost_max"], row["resets_total"], row["requests_total"]) == (3, 3, 1, 1200)
    assert [r["loss_window_ms"] for r in row["runs"]] == [30, 510, 0]
    assert set(row["runs"][0]) == {"requests", "lost", "resets", "loss_window_ms", "first_lost_s", "nodes"}
    assert "timeline_s" not in row


def test_row_of_a_fault_gives_its_timeline_counts_and_states():
    runs = []
    for rep, (out_s, back_s) in enumerate([(0.6, 4.0), (None, 5.0), (0.8, 6.0)]):
        run = summary(ms(1.0))
        run.update(out_s=out_s, restarted_s=1.0 + rep, back_s=back_s, restarts=1, restart_policy="on-failure")
        runs.append(run)
    row = report.row("bird_kill", "BIRD killed", "back in ECMP", runs, "tor-pair")
    assert row["timeline_s"]["out_s"] == {"median": 0.7, "max": 0.8, "seen": 2}
    assert row["timeline_s"]["back_s"] == {"median": 5.0, "max": 6.0, "seen": 3}
    assert row["counts_total"] == {"restarts": 3} and row["states"] == {"restart_policy": ["on-failure"]}
    assert row["runs"][1]["out_s"] is None and row["runs"][2]["restarted_s"] == 3.0
    text = report.markdown({"date": "2026-12-05", "machine": "m", "interval_ms": 10, "probe_timeout_s": 0.5, "reps": 3,
                            "rows": [row]}, failover.ONE_SITE)
    assert "| BIRD killed | 3 | out_s 0.7 (0.8) seen 2; restarted_s 2.0 (3.0); back_s 5.0 (6.0) | restarts 3 | restart_policy: on-failure |" in text


def test_markdown_marks_one_site_rows_measured_before_the_tor_pair():
    old = report.row("service", "service stops", "< 1500 ms", [summary(ms(1.0))], "tor-pair")
    del old["topology"]
    far = report.row("site-drain", "drain of site a", "0 lost", [summary(())], "two-sites")
    del far["topology"]
    text = report.markdown({"date": "d", "machine": "m", "interval_ms": 10, "probe_timeout_s": 0.5, "reps": 1, "rows": [old, far]},
                           failover.ONE_SITE)
    assert "| service stops (one ToR per rack) | < 1500 ms | 10 | 10 | 1 | 1 | 0 of 400 requests |" in text
    assert "| drain of site a | 0 lost | 0 | 0 | 0 | 0 | 0 of 400 requests |" in text
    assert "## Fault rows" not in text


def test_merge_rows_replaces_this_runs_events_and_keeps_the_others_in_order():
    previous = [{"event": "service", "v": 1}, {"event": "drain", "v": 1}, {"event": "mystery", "v": 1}, {"event": "site-drain", "v": 1}]
    rows = [{"event": "drain", "v": 2}, {"event": "sigkill", "v": 2}]
    order = [k for k, _l, _f, _t in failover.EVENTS + failover.GLOBAL_EVENTS]
    merged = report.merge_rows(previous, rows, order)
    assert [(r["event"], r["v"]) for r in merged] == [("service", 1), ("sigkill", 2), ("drain", 2), ("site-drain", 1), ("mystery", 1)]


def test_ll_row_and_its_markdown_from_long_lived_reports():
    def ll(reset, collateral, drops):
        return {"connections": 200, "changed": ["n1"], "on_changed": {"connections": 40, "reset": reset, "stalled": 0},
                "collateral": {"connections": 160, "reset": collateral, "stalled": 1}, "per_node": {}, "outside_window": 0,
                "session_drops": drops}

    row = report.ll_row("ll-drain", "drain of one node", "resilient", [ll(40, 0, 0), ll(38, 2, 1), ll(40, 4, 0)], [0.5, 1.25])
    assert (row["event"], row["load"], row["session_drops_total"]) == ("ll-drain/resilient", "0.5-1.2", 1)
    assert row["changed_reset"] == {"median": 40, "max": 40} and row["collateral_reset"] == {"median": 2, "max": 4}
    text = report.ll_markdown({"date": "d", "machine": "m", "connections": 200, "buckets": 128, "idle_timer": 2, "hash_policy": "1",
                               "rows": [row]})
    assert "| drain of one node | resilient | %s | 3 | 0.5-1.2 | 200 | 40 (40) of 40 | 0 (0) | **2 (4)** of 160 | 1 (1) | 1 |" % row["measured"] in text
    assert "# long-lived connections through ECMP changes (%s)" % row["measured"] in text
    old = dict(row, event="ll-undrain/resilient", label="undrain")
    del old["measured"]
    text = report.ll_markdown({"date": "2000-01-01", "machine": "m", "connections": 200, "buckets": 128, "idle_timer": 2,
                               "hash_policy": "1", "rows": [old, row]})
    assert "| undrain | resilient | 2000-01-01 | 3 |" in text  # a row recorded without its day: the result's
    assert "# long-lived connections through ECMP changes (2000-01-01 to %s)" % row["measured"] in text


def test_ll_row_of_the_zero_reset_drain_adds_new_connections_closes_and_resets_after_a_death():
    def ll(**extra):
        return dict({"connections": 200, "changed": ["n1"], "on_changed": {"connections": 30, "reset": 0, "stalled": 0},
                     "collateral": {"connections": 170, "reset": 0, "stalled": 0}, "per_node": {}, "outside_window": 0,
                     "session_drops": 0}, **extra)

    keep_runs = [ll(new_per_node={"n2": 3, "n5": 2}, new_failed=0, closed_by_drain=1), ll(new_per_node={"n2": 1}, new_failed=0, closed_by_drain=0)]
    keep = report.ll_row("ll-drain-keep", "keep", "resilient", keep_runs, [1.0])
    assert keep["new_per_node_total"] == {"n2": 4, "n5": 2} and keep["closed_by_drain_total"] == 1
    assert keep["runs"][0]["new_per_node"] == {"n2": 3, "n5": 2}
    dies_runs = [ll(reset_after_death_s={"median": 3.0, "max": 3.5}, hung=0), ll(reset_after_death_s={"median": None, "max": None}, hung=2)]
    dies = report.ll_row("ll-drain-keep-dies", "dies", "resilient", dies_runs, [1.0])
    assert (dies["reset_after_death_s_max"], dies["hung_total"]) == (3.5, 2)
    text = report.ll_markdown({"date": "d", "machine": "m", "connections": 200, "buckets": 128, "idle_timer": 2, "hash_policy": "1",
                               "rows": [keep, dies]})
    assert "- keep: new connections per node n2 4, n5 2; closed by the drain 1" in text
    assert "- dies: hung 2; latest reset 3.5 s after the death" in text


def test_results_files_round_trip(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "RESULTS", str(tmp_path / "results"))
    assert report.previous_rows("failover") is None
    result = {"date": "d", "rows": [{"event": "service"}]}
    report.write("failover", result, "# text\n")
    assert (tmp_path / "results" / "failover.json").read_text() == json.dumps(result, indent=1) + "\n"
    assert (tmp_path / "results" / "failover.md").read_text() == "# text\n"
    assert report.previous_rows("failover") == [{"event": "service"}]


@pytest.mark.parametrize("name, make", [
    ("failover", lambda result: report.markdown(result, failover.ONE_SITE)),
    ("longlived", report.ll_markdown),
])
def test_the_committed_results_are_what_the_reporting_writes(name, make):
    """benchmarks/results/NAME.md is the Markdown of NAME.json: a change of the tables shows here first.

    After changing the table's text on purpose, write the .md again from the .json (report.markdown / ll_markdown).
    """
    result = json.loads((BENCHMARKS / "results" / (name + ".json")).read_text())
    assert make(result) == (BENCHMARKS / "results" / (name + ".md")).read_text()


def test_recorded_rows_are_recomputed_from_their_runs():
    """Every committed row's statistics follow from its runs (the measured date aside)."""
    rows = json.loads((BENCHMARKS / "results" / "failover.json").read_text())["rows"]
    for recorded in rows:
        topology = recorded.get("topology", "tor-pair" if recorded["event"] in failover.ONE_SITE else "two-sites")
        row = report.row(recorded["event"], recorded["label"], recorded["target"], recorded["runs"], topology)
        for key in ("measured", "topology"):  # the day it ran; rows measured before the ToR pair have no topology
            if key in recorded:
                row[key] = recorded[key]
            else:
                del row[key]
        assert row == recorded, recorded["event"]


def test_the_command_line_is_the_benchmarks():
    out = subprocess.run([sys.executable, str(BENCHMARKS / "failover.py"), "--help"], capture_output=True, text=True, check=True).stdout
    for option in ("--reps REPS", "--timeout TIMEOUT", "--lab {one-site,global,longlived}", "--events EVENTS",
                   "--ecmp {plain,resilient,both}", "--connections CONNECTIONS"):
        assert option in out
    assert "Benchmark: how long clients lose an anycast VIP when a node fails or is" in out


def test_service_unit_runs_in_the_one_site_lab_with_the_unit_check_switched_on():
    """service_unit: the event-driven row, after service in the table; its switch is found in n1's agent configuration."""
    import failover_lab as lab

    keys = [k for k, _l, _f, _t in failover.EVENTS]
    assert keys.index("service_unit") == keys.index("service") + 1 and "service_unit" in failover.ONE_SITE
    assert dict((k, t) for k, _l, _f, t in failover.EVENTS)["service_unit"] == "< 250 ms"
    # set_unit_health reads n1's healthd.json back through json.dumps: the check lab_unit_health adds is found,
    # the http check alone (lab_unit_health off) is not.
    vip = {"name": "web", "checks": [{"type": "systemd_unit", "unit": "lab-http.service", "rise": 3},
                                     {"type": "http", "port": 80, "path": "/"}]}
    assert lab.UNIT_CHECK in json.dumps({"vips": [vip]})
    assert lab.UNIT_CHECK not in json.dumps({"vips": [dict(vip, checks=vip["checks"][1:])]})
    assert "service_unit" in failover.__doc__
