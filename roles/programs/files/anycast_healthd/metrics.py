# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus metrics with prometheus_client (Debian's python3-prometheus-client).

The agent's state snapshot (the same data as the state file and --status) is
the only source: a collector turns it into metric families, served over HTTP
(the agent's listener) and written to a textfile for node-exporter.
"""

from __future__ import annotations

import http.server
import os
import socket

from prometheus_client import CollectorRegistry, generate_latest, write_to_textfile
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import MetricsHandler as _PrometheusHandler

from anycast_healthd import VERSION

VIP_LABELS = ("vip", "name")
CHECK_LABELS = ("vip", "name", "check", "type")

METRICS = (
    # name, type, help, (scope, field)
    ("anycast_healthd_vip_announced", "gauge", "1 while the VIP is on its interface (announced), 0 while withdrawn.", ("vip", "announced")),
    ("anycast_healthd_vip_healthy", "gauge", "1 while every check of the VIP is up.", ("vip", "healthy")),
    ("anycast_healthd_vip_suppressed", "gauge", "1 while flap damping holds the VIP down.", ("vip", "suppressed")),
    ("anycast_healthd_vip_penalty", "gauge", "Current flap-damping penalty of the VIP.", ("vip", "penalty")),
    ("anycast_healthd_vip_last_change_timestamp_seconds", "gauge", "Unix time of the VIP's last announce or withdrawal.", ("vip", "last_change")),
    ("anycast_healthd_vip_transitions_total", "counter", "Announcements and withdrawals of the VIP since the agent started.", ("vip", "transitions")),
    ("anycast_healthd_vip_falls_total", "counter", "Times the VIP's health fell (each adds a damping penalty).", ("vip", "falls")),
    ("anycast_healthd_check_up", "gauge", "1 while the check is up (after rise/fall).", ("check", "up")),
    ("anycast_healthd_check_latency_seconds", "gauge", "Duration of the check's last run.", ("check", "latency")),
    ("anycast_healthd_check_runs_total", "counter", "Runs of the check.", ("check", "runs")),
    ("anycast_healthd_check_failures_total", "counter", "Failed runs of the check.", ("check", "failures")),
)


def _number(value):
    return float("nan") if value is None else float(value)


def _check_value(check, field):
    if field == "latency":
        return None if check["latency_ms"] is None else check["latency_ms"] / 1000.0
    return check[field]


class SnapshotCollector:
    """The metric families of one state snapshot; `source` returns it (a dict, or a callable that makes one)."""

    def __init__(self, source):
        self.source = source

    def collect(self):
        snapshot = self.source() if callable(self.source) else self.source
        running = GaugeMetricFamily("anycast_healthd_running", "1 while the agent runs; 0 once it stopped and withdrew its VIPs.")
        running.add_metric([], 1 if snapshot.get("running") else 0)
        yield running
        yield GaugeMetricFamily("anycast_healthd_start_time_seconds", "Unix time the agent started.", value=_number(snapshot.get("started")))
        for name, kind, text, (scope, field) in METRICS:
            if kind == "counter":
                family = CounterMetricFamily(name, text, labels=VIP_LABELS if scope == "vip" else CHECK_LABELS)
            else:
                family = GaugeMetricFamily(name, text, labels=VIP_LABELS if scope == "vip" else CHECK_LABELS)
            for vip in snapshot["vips"]:
                labels = [str(vip["prefix"]), str(vip.get("name") or "")]
                if scope == "vip":
                    family.add_metric(labels, _number(vip[field]))
                    continue
                for check in vip["checks"]:
                    family.add_metric(labels + [str(check["name"]), str(check["type"])], _number(_check_value(check, field)))
            yield family


def registry_for(source):
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(source))
    return registry


def render_metrics(snapshot):
    """Prometheus text exposition (version 0.0.4) of a state snapshot."""
    return generate_latest(registry_for(snapshot)).decode("utf-8")


def write_textfile(path, snapshot):
    """For node-exporter's textfile collector: written to a temporary file, then renamed."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    write_to_textfile(path, registry_for(snapshot))


class MetricsServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, snapshot):
        host, port = address
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        handler = type("Handler", (MetricsHandler,), {"registry": registry_for(snapshot)})
        super().__init__((host, port), handler)


class MetricsHandler(_PrometheusHandler):
    server_version = "anycast-healthd/" + VERSION

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.path.split("?")[0] not in ("/metrics", "/"):
            self.send_error(404, "only /metrics is served")
            return
        super().do_GET()

    def log_message(self, *args):
        pass  # scrapes every few seconds would drown the transitions in the journal
