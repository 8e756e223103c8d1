# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""benchmarks/weighted.py's pure parts, without the lab (issue 25).

The shares and their expected values, the error and its sampling deviation,
the weights the routers' routes should carry, the rows and the table; the
sampler itself (lab/longlived.py sample) against a local echo server.
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
import subprocess
import sys
import threading

import pytest

from conftest import REPO

BENCHMARKS = REPO / "benchmarks"
for folder in (BENCHMARKS, REPO / "lab"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import longlived  # noqa: E402 (lab/longlived.py)
import weighted  # noqa: E402

ALL_ONE = weighted.node_weights({})
N3_TWO = weighted.node_weights({"n3": 2})


def test_node_weights_default_to_one():
    assert ALL_ONE == {"n1": 1, "n2": 1, "n5": 1, "n3": 1, "n4": 1}
    assert N3_TWO["n3"] == 2 and sum(N3_TWO.values()) == 6


def test_expected_share_is_the_weight_over_the_serving_total():
    assert weighted.expected_share(ALL_ONE) == {n: pytest.approx(0.2) for n in ALL_ONE}
    drained = weighted.expected_share(ALL_ONE, ("n4",))
    assert drained["n4"] == 0.0
    assert all(drained[n] == pytest.approx(0.25) for n in ("n1", "n2", "n5", "n3"))
    two = weighted.expected_share(N3_TWO)
    assert two["n3"] == pytest.approx(2 / 6) and two["n1"] == pytest.approx(1 / 6)
    assert sum(two.values()) == pytest.approx(1.0)


def test_equal_split_share_is_what_unweighted_ecmp_gives():
    today = weighted.equal_split_share(ALL_ONE)
    assert today["n1"] == pytest.approx(1 / 6) and today["n3"] == pytest.approx(1 / 4)
    drained = weighted.equal_split_share(ALL_ONE, ("n4",))
    assert drained["n3"] == pytest.approx(1 / 2) and drained["n4"] == 0.0 and drained["n5"] == pytest.approx(1 / 6)
    # weights are ignored without weighting
    assert weighted.equal_split_share(N3_TWO) == today


def test_frr_weights_truncate_100_times_bandwidth_over_total():
    assert weighted.frr_weights({"a": 1, "b": 1, "c": 1}) == {"a": 33, "b": 33, "c": 33}
    assert weighted.frr_weights({"a": 2, "b": 1}) == {"a": 66, "b": 33}
    assert weighted.frr_weights({"a": 3, "b": 1}) == {"a": 75, "b": 25}
    assert weighted.frr_weights({"a": 3, "b": 2}) == {"a": 60, "b": 40}


def test_expected_route_weights_per_router():
    on = weighted.expected_route_weights(N3_TWO, (), True)
    assert on["tor2"] == {"10.90.2.11": 66, "10.90.2.12": 33}
    assert on["tor1"] == {"10.90.1.11": 33, "10.90.1.12": 33, "10.90.1.13": 33}
    assert on["spine1"] == {"10.90.0.11": 50, "10.90.0.12": 50}
    drained = weighted.expected_route_weights(ALL_ONE, ("n4",), True)
    assert drained["tor2"] == {"10.90.2.11": 100}
    assert drained["spine1"] == {"10.90.0.11": 75, "10.90.0.12": 25}
    off = weighted.expected_route_weights(N3_TWO, ("n4",), False)
    assert off["spine1"] == {"10.90.0.11": 1, "10.90.0.12": 1} and off["tor2"] == {"10.90.2.11": 1}


def test_weights_match_compares_proportions_and_next_hops():
    assert weighted.weights_match({"a": 1, "b": 1}, {"a": 50, "b": 50})
    assert weighted.weights_match({"a": 66, "b": 33}, {"a": 2, "b": 1})
    assert not weighted.weights_match({"a": 1, "b": 1}, {"a": 60, "b": 40})
    assert not weighted.weights_match({"a": 1}, {"a": 1, "b": 1})
    assert not weighted.weights_match({}, {"a": 1})
    assert weighted.weights_match({}, {})


def test_shares_and_max_abs_error():
    share = weighted.shares({"n1": 30, "n2": 20, "n3": 50})
    assert share == {"n1": 0.3, "n2": 0.2, "n3": 0.5}
    assert weighted.shares({}) == {}
    assert weighted.max_abs_error(share, {"n1": 0.25, "n2": 0.25, "n3": 0.5}) == pytest.approx(0.05)
    # a node missing on one side counts 0 there: a drained node that still answers, a node never answering
    assert weighted.max_abs_error({"n1": 0.9, "n4": 0.1}, {"n1": 1.0, "n4": 0.0}) == pytest.approx(0.1)
    assert weighted.max_abs_error({"n1": 1.0}, {"n1": 0.5, "n2": 0.5}) == pytest.approx(0.5)
    assert weighted.max_abs_error({}, {}) == 0.0


def test_sampling_sigma_is_the_largest_binomial_deviation():
    assert weighted.sampling_sigma({"a": 0.2, "b": 0.8}, 10000) == pytest.approx(0.004)
    assert weighted.sampling_sigma({"a": 0.5, "b": 0.0}, 2500) == pytest.approx(0.01)
    assert math.isinf(weighted.sampling_sigma({"a": 0.5}, 0))


def sample_of(counts, failed=0):
    return {"answered": sum(counts.values()), "failed": failed, "seconds": 3.5, "per_node": counts}


def test_row_format():
    counts = {"n1": 1010, "n2": 990, "n5": 1000, "n3": 2050, "n4": 950}
    r = weighted.row("weight-2", "n3 of weight 2", True, N3_TWO, (), sample_of(counts), {"spine1": {}}, 4.0)
    for key in ("event", "samples", "per_node_share", "expected_share", "max_abs_error", "date"):
        assert key in r
    assert r["samples"] == 6000
    assert r["per_node_share"]["n3"] == pytest.approx(2050 / 6000, abs=1e-4)
    assert r["expected_share"]["n3"] == pytest.approx(0.3333)
    assert r["max_abs_error"] == pytest.approx(abs(950 / 6000 - 1 / 6), abs=1e-4)
    assert r["within_target"] and r["target"] == weighted.TARGET
    assert r["weights"] == {"n3": 2} and r["drained"] == []
    assert r["routes"] == {"spine1": {}} and r["settled_s"] == 4.0
    json.dumps(r)


def test_row_of_a_drained_node_and_of_weighting_off():
    counts = {"n1": 800, "n2": 800, "n5": 800, "n3": 2400}  # n4 never answered: counted as 0
    r = weighted.row("racks-3-1-drained/off", "n4 drained", False, ALL_ONE, ("n4",), sample_of(counts))
    assert r["per_node_count"]["n4"] == 0 and r["per_node_share"]["n4"] == 0.0
    assert r["expected_share"]["n3"] == 0.25 and r["expected_share"]["n4"] == 0.0
    assert r["max_abs_error"] == pytest.approx(0.25)
    assert "within_target" not in r and "routes" not in r


def test_plan_orders_rows_to_change_the_setting_least():
    events = [p[0] for p in weighted.plan(weighted.ORDER)]
    assert events == ["racks-3-2/off", "weight-2/off", "racks-3-1-drained/off", "racks-3-1-drained", "racks-3-2", "weight-2"]
    assert sorted(weighted.PLAN + [weighted.BUSY]) == sorted(weighted.ORDER)
    assert weighted.plan(["weight-2/off"]) == [("weight-2/off", "n3 of weight 2", False, {"n3": 2}, ())]
    assert [p[0] for p in weighted.plan(["racks-3-2", "racks-3-2/off"])] == ["racks-3-2/off", "racks-3-2"]


def test_extra_vars_keep_the_scenarios_bgp_keys():
    on = weighted.extra_vars(True)
    assert on["fabric_bgp"] == {"password": "lab-md5-key", "bfd": False, "weighted_ecmp": True}
    assert "weighted_ecmp" not in weighted.extra_vars(None)["fabric_bgp"]
    assert on["tor_resilient_ecmp"] is True


def test_weights_inventory_sets_only_weights_other_than_one(tmp_path, monkeypatch):
    monkeypatch.setattr(weighted, "WORK", str(tmp_path))
    path = weighted.weights_inventory(N3_TWO)
    assert json.loads(open(path).read()) == {"all": {"children": {"fabric_nodes": {"hosts": {"n3": {"fabric_vip_weight": 2}}}}}}


def test_markdown_has_a_line_per_row():
    rows = [
        weighted.row("racks-3-2", "l", True, ALL_ONE, (), sample_of({"n1": 2000, "n2": 2000, "n5": 2000, "n3": 2000, "n4": 2000}),
                     {"spine1": {"10.90.0.11": {"weight": 60, "buckets": 307}}}),
        weighted.row("racks-3-2/off", "l", False, ALL_ONE, (), sample_of({"n1": 1667, "n2": 1667, "n5": 1666, "n3": 2500, "n4": 2500})),
    ]
    text = weighted.markdown({"date": "d", "machine": "m", "ecmp": "e", "parallel": 32, "rows": rows})
    assert "| racks-3-2 | on | 10000 | n1 0.200 n2 0.200 n5 0.200 n3 0.200 n4 0.200 |" in text
    assert "| racks-3-2/off | off | 10000 |" in text and "| 0.050 |" in text
    assert "10.90.0.11 w60 b307" in text


def test_the_committed_results_are_what_the_reporting_writes():
    path = BENCHMARKS / "results" / "weighted.json"
    if not path.exists():
        pytest.skip("no weighted results yet")
    result = json.loads(path.read_text())
    assert weighted.markdown(result) == (BENCHMARKS / "results" / "weighted.md").read_text()
    for r in result["rows"]:
        assert r["samples"] >= 2000, r["event"]
        assert r["max_abs_error"] == pytest.approx(weighted.max_abs_error(r["per_node_share"], r["expected_share"]), abs=2e-4)


# ---------------------------------------------------------------- the sampler


def echo_server(names):
    """lab/longlived.py's serve on two local ports, answering as NAMES; returns the ports."""
    loop = asyncio.new_event_loop()
    ports = []
    ready = threading.Event()

    async def start():
        for name in names:
            server = await asyncio.start_server(lambda r, w, n=name: longlived._serve_one(n.encode(), r, w), "127.0.0.1", 0)
            ports.append(server.sockets[0].getsockname()[1])
        ready.set()

    def run():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    ready.wait(10)
    return ports


def test_sample_counts_the_answering_node_and_leaves_no_time_wait():
    port = echo_server(["n9"])[0]
    out = subprocess.run([sys.executable, str(REPO / "lab" / "longlived.py"), "sample", "--target", "127.0.0.1",
                          "--port", str(port), "--count", "300", "--parallel", "8"], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    assert data["answered"] == 300 and data["failed"] == 0 and data["per_node"] == {"n9": 300}


def test_sample_counts_refused_connections_as_failed():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refused
        out = subprocess.run([sys.executable, str(REPO / "lab" / "longlived.py"), "sample", "--target", "127.0.0.1",
                              "--port", str(port), "--count", "5", "--parallel", "2"], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    assert data["answered"] == 0 and data["failed"] == 5 and data["per_node"] == {}
