# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent: one thread per check, one main loop that alone changes the interface; the state file.

A polling check's thread runs it every interval. An event-driven check's
thread (systemd_unit, process) waits on its follower's file descriptor (the
D-Bus socket, the pidfd) between intervals: a failure is recorded the moment
the kernel or systemd reports it, and the main loop is woken to withdraw.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time

from anycast_healthd import VERSION, events
from anycast_healthd._health_spec import EVENT_TYPES
from anycast_healthd.announcer import Interface, IpError
from anycast_healthd.checks import _hostport, exec_env, run_check
from anycast_healthd.notify import sd_notify
from anycast_healthd.state import Vip

STATE_SCHEMA = 1
TICK_S = 0.25  # main loop period: damping releases and hung checks are noticed this fast
RECONCILE_S = 1.0  # how often the interface is compared with what health says
STATE_EVERY_S = 1.0  # state file / textfile refresh when nothing changed
HUNG_GRACE_S = 0.5  # a check running this long past its timeout counts as failed
EVENT_WAIT_S = 0.5  # an event-driven check's thread notices a stop at least this often

LOG = logging.getLogger("anycast-healthd")


def write_atomic(path, text, mode=0o644):
    """Readers (the CLI, node-exporter) never see a half-written file."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    with open(tmp, "w") as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


class Agent:
    """Runs the checks (one thread per check, so a slow check never delays
    another VIP) and applies the result from one main loop, the only place
    that changes the interface."""

    def __init__(self, config, interface=None, clock=time.monotonic, wall=time.time):
        self.config = config
        self.clock = clock
        self.wall = wall
        self.interface = interface or Interface(config["interface"])
        self.vips = [Vip(spec, wall()) for spec in config["vips"]]
        self.lock = threading.Lock()  # check results vs. the main loop
        self.wake = threading.Event()  # a check changed state: act now, not at the next tick
        self.stopping = threading.Event()
        self.threads = []
        self.metrics = None
        self.started = wall()
        self.running = False
        self.last_reconcile = 0.0
        self.last_state = 0.0
        self.dirty = True
        self.events = 0  # failures reported by event-driven checks (tests count them)

    # Start and stop -------------------------------------------------------

    def start(self):
        """Withdraw everything, then start checking: nothing is announced before `rise` successes."""
        self.restore_damping()
        self.interface.ensure()
        for prefix in self.interface.withdraw([v.prefix for v in self.vips]):
            LOG.warning("vip %s: withdrawn at start (found on %s; announced again once its checks pass)", prefix, self.interface.name)
        self.running = True
        for vip in self.vips:
            for check in vip.checks:
                loop = self._event_loop if check.spec["type"] in EVENT_TYPES else self._check_loop
                thread = threading.Thread(target=loop, args=(vip, check), name="check %s %s" % (vip.prefix, check.name), daemon=True)
                thread.start()
                self.threads.append(thread)
        if self.config["metrics_listen"]:
            try:
                from anycast_healthd.metrics import MetricsServer  # prometheus_client: only where metrics are served

                self.metrics = MetricsServer(self.config["metrics_listen"], self.snapshot)
            except OSError as exc:
                # Metrics are not worth a restart loop that keeps every VIP down.
                LOG.error("metrics: cannot listen on %s: %s", _hostport(*self.config["metrics_listen"]), exc.strerror or exc)
            else:
                threading.Thread(target=self.metrics.serve_forever, name="metrics", daemon=True).start()
        LOG.info(
            "started: %d VIP(s), %d check(s) on %s; every VIP withdrawn until its checks pass",
            len(self.vips),
            sum(len(v.checks) for v in self.vips),
            self.interface.name,
        )
        self.publish(force=True)
        sd_notify("READY=1\nSTATUS=%s" % self.status_line())

    def stop(self):
        """Withdraw every managed VIP (systemd's ExecStopPost does it again, after any exit)."""
        self.stopping.set()
        sd_notify("STOPPING=1")
        try:
            removed = self.interface.withdraw([v.prefix for v in self.vips])
        except IpError as exc:
            LOG.error("stop: %s", exc)
            removed = []
        if self.metrics is not None:
            self.metrics.shutdown()  # after the withdrawal: this waits for the server's poll interval
            self.metrics.server_close()
        for vip in self.vips:
            if vip.announced:
                vip.announced, vip.last_change = False, self.wall()
                vip.transitions += 1
        for prefix in removed:
            LOG.info("vip %s: withdrawn (agent stopping)", prefix)
        self.running = False
        self.publish(force=True)

    # Checks ------------------------------------------------------------------

    def _check_loop(self, vip, check):
        """Run one check every interval (start to start); a late run is not made up for."""
        interval = check.spec["interval_ms"] / 1000.0
        env = exec_env(vip.spec)
        due = self.clock()
        while not self.stopping.is_set():
            with self.lock:
                check.running_since, check.hung = self.clock(), False
            ok, latency, error = run_check(check.spec, vip.spec, env)
            with self.lock:
                was_hung = check.hung
                check.running_since = None
                changed = check.record(ok, latency, error)
                if changed or was_hung:
                    LOG.info("vip %s: check %s is %s%s", vip.label, check.name, "up" if check.up else "down", "" if check.up else " (%s)" % error)
                    self.wake.set()
            now = self.clock()
            due = max(due + interval, now)
            self.stopping.wait(due - now)

    def _event_loop(self, vip, check, follower=None):
        """Follow a unit or a process: its state counts towards `rise` every interval; its failure withdraws at once."""
        interval = check.spec["interval_ms"] / 1000.0
        follower = follower or events.follower(check.spec)
        due = self.clock()
        try:
            while not self.stopping.is_set():
                try:
                    due = self._follow_once(vip, check, follower, due, interval)
                except Exception as exc:  # noqa: BLE001 (a follower's bug must not leave its check up)
                    LOG.exception("vip %s: check %s failed unexpectedly", vip.label, check.name)
                    follower.close()
                    self._event_result(vip, check, False, "internal error: %s" % (exc or exc.__class__.__name__), None, event=True)
                    self.stopping.wait(interval)
        finally:
            follower.close()

    def _follow_once(self, vip, check, follower, due, interval):
        """One turn of an event-driven check: the interval's refresh when due, then a wait on its file descriptor."""
        now = self.clock()
        if now >= due:
            ok, error = follower.refresh()
            self._event_result(vip, check, ok, error, self.clock() - now)
            due = max(due + interval, self.clock())
        wait = min(max(due - self.clock(), 0.0), EVENT_WAIT_S)
        if follower.fileno() is None:
            self.stopping.wait(wait)
            return due
        error = follower.wait(wait)
        if error is not None and not self.stopping.is_set():
            self._event_result(vip, check, False, error, None, event=True)
        return due

    def _event_result(self, vip, check, ok, error, latency, event=False):
        with self.lock:
            was_up = check.up
            changed = check.record(ok, latency, error)
            self.events += 1 if event else 0
            if changed:
                LOG.info("vip %s: check %s is %s%s", vip.label, check.name, "up" if check.up else "down", "" if check.up else " (%s)" % error)
                self.wake.set()
            elif event and not was_up:
                LOG.info("vip %s: check %s: %s", vip.label, check.name, error)

    def _hung_checks(self, now):
        """A run stuck far past its timeout (a wedged exec, a dribbling server) fails its check now."""
        for vip in self.vips:
            for check in vip.checks:
                started = check.running_since
                limit = check.spec["timeout_ms"] / 1000.0 + HUNG_GRACE_S
                if started is not None and not check.hung and now - started > limit:
                    was_up = check.force_down("still running after %d ms" % ((now - started) * 1000))
                    LOG.warning("vip %s: check %s hangs past its timeout; counted as failed%s", vip.label, check.name, " (down)" if was_up else "")

    # The main loop ------------------------------------------------------

    def step(self):
        """Evaluate every VIP once and make the interface match; called every tick and on every change."""
        now = self.clock()
        actions = []
        with self.lock:
            self._hung_checks(now)
            for vip in self.vips:
                changed, hold = vip.evaluate(now)
                if changed:
                    self.dirty = True
                    if vip.healthy:
                        LOG.info("vip %s: healthy (all %d check(s) up)", vip.label, len(vip.checks))
                    else:
                        LOG.warning("vip %s: sick: %s", vip.label, vip.failing())
                if hold:
                    LOG.warning(
                        "vip %s: flapping, held down for %.0f s (penalty %.0f >= suppress %d; fall %d)",
                        vip.label,
                        vip.damping.hold_left(now),
                        vip.damping.penalty(now),
                        vip.damping.spec["suppress"],
                        vip.falls,
                    )
                wanted = vip.wanted(now)
                if wanted != vip.announced and now >= vip.retry_at:
                    actions.append((vip, wanted))
        for vip, wanted in actions:
            self._apply(vip, wanted, now)
        if now - self.last_reconcile >= RECONCILE_S:
            self.last_reconcile = now
            self.reconcile()
        self.publish()

    def _apply(self, vip, wanted, now):
        try:
            if wanted:
                self.interface.add(vip.prefix)
            else:
                self.interface.delete(vip.prefix)
        except IpError as exc:
            vip.retry_at = now + RECONCILE_S
            LOG.error("vip %s: cannot %s: %s", vip.label, "announce" if wanted else "withdraw", exc)
            return
        with self.lock:
            vip.announced, vip.retry_at = wanted, 0.0
            vip.transitions += 1
            vip.last_change = self.wall()
            self.dirty = True
            if wanted:
                why = "checks pass"
            elif vip.healthy:
                why = "held down by flap damping for %.0f s" % vip.damping.hold_left(now)
            else:
                why = vip.failing()
        LOG.warning("vip %s: %s (%s)", vip.label, "ANNOUNCED" if wanted else "WITHDRAWN", why)

    def reconcile(self):
        """Put back what someone else changed: the interface follows health, nothing else."""
        try:
            present = self.interface.addresses()
        except IpError as exc:
            LOG.error("%s", exc)
            try:
                self.interface.ensure()  # a deleted dummy interface is recreated
            except IpError as again:
                LOG.error("%s", again)
            return
        for vip in self.vips:
            if vip.announced and vip.prefix not in present:
                LOG.warning("vip %s: was removed from %s behind the agent's back; adding it again", vip.label, self.interface.name)
                self._readd(vip)
            elif not vip.announced and vip.prefix in present:
                LOG.warning("vip %s: was added to %s behind the agent's back while withdrawn; removing it", vip.label, self.interface.name)
                try:
                    self.interface.delete(vip.prefix)
                except IpError as exc:
                    LOG.error("vip %s: cannot withdraw: %s", vip.label, exc)

    def _readd(self, vip):
        try:
            self.interface.add(vip.prefix)
        except IpError as exc:
            LOG.error("vip %s: cannot announce: %s", vip.label, exc)

    def run(self):
        """Until SIGTERM/SIGINT: act on every change at once, and tick for damping releases and reconciliation."""
        watchdog = "WATCHDOG_USEC" in os.environ
        while not self.stopping.is_set():
            # Cleared before the step: a change reported during it loops again at once.
            self.wake.clear()
            self.step()
            if watchdog:
                sd_notify("WATCHDOG=1")
            self.wake.wait(TICK_S)

    # State, metrics, status ----------------------------------------------------

    def snapshot(self):
        """Everything --status, the state file and the metrics show, as plain data."""
        now, wall = self.clock(), self.wall()
        with self.lock:
            return {
                "schema": STATE_SCHEMA,
                "version": VERSION,
                "pid": os.getpid(),
                "running": self.running,
                "started": self.started,
                "updated": wall,
                "interface": self.interface.name,
                "vips": [
                    {
                        "prefix": v.prefix,
                        "name": v.name,
                        "announced": v.announced,
                        "healthy": v.healthy,
                        "suppressed": v.damping.held(now),
                        "penalty": round(v.damping.penalty(now), 1),
                        "hold_left_s": round(v.damping.hold_left(now), 1),
                        "last_change": v.last_change,
                        "transitions": v.transitions,
                        "falls": v.falls,
                        "last_fall": v.last_fall,
                        "checks": [
                            {
                                "name": c.name,
                                "type": c.spec["type"],
                                "up": c.up,
                                "latency_ms": round(c.latency * 1000.0, 3) if c.latency is not None else None,
                                "runs": c.runs,
                                "failures": c.failed_runs,
                                "error": c.error,
                            }
                            for c in v.checks
                        ],
                    }
                    for v in self.vips
                ],
            }

    def status_line(self):
        announced = sum(1 for v in self.vips if v.announced)
        return "%d of %d VIP(s) announced" % (announced, len(self.vips))

    def publish(self, force=False):
        """Refresh the state file (and the textfile) on a change, and at least every STATE_EVERY_S."""
        now = self.clock()
        if not (force or self.dirty or now - self.last_state >= STATE_EVERY_S):
            return
        self.last_state, self.dirty = now, False
        snapshot = self.snapshot()
        publish_snapshot(self.config, snapshot)
        if self.running:
            sd_notify("STATUS=%s" % self.status_line())

    def restore_damping(self):
        """A restart must not launder a flapping VIP's penalty: carry it over from the last state file."""
        previous = read_state(self.config["state_file"])
        if not previous:
            return
        age = self.wall() - float(previous.get("updated") or 0)
        old = {v.get("prefix"): v for v in previous.get("vips", []) if isinstance(v, dict)}
        for vip in self.vips:
            saved = old.get(vip.prefix)
            if saved:
                vip.damping.restore(saved.get("penalty"), saved.get("suppressed"), age, self.clock())
                if vip.damping.held(self.clock()):
                    LOG.warning("vip %s: still held down by flap damping for %.0f s (from the previous run)", vip.label, vip.damping.hold_left(self.clock()))


def publish_snapshot(config, snapshot):
    try:
        write_atomic(config["state_file"], json.dumps(snapshot, indent=1, sort_keys=True) + "\n")
    except OSError as exc:
        LOG.error("cannot write the state file %s: %s", config["state_file"], exc)
    if config.get("metrics_textfile"):
        try:
            # Imported here: --withdraw-all (ExecStopPost) without a textfile loads no prometheus_client.
            from anycast_healthd.metrics import write_textfile

            write_textfile(config["metrics_textfile"], snapshot)
        except OSError as exc:
            LOG.error("cannot write the metrics textfile %s: %s", config["metrics_textfile"], exc)


def read_state(path):
    try:
        with open(path) as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("schema") != STATE_SCHEMA or not isinstance(state.get("vips"), list):
        return None
    return state
