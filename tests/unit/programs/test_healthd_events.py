# -*- coding: utf-8 -*-
"""The health agent's event-driven checks (systemd_unit, process), with real processes and a real D-Bus daemon.

process: real `sleep` processes followed by pidfd; the VIP must be withdrawn
by the exit event itself, long before the check's next (10 s) interval, so the
assertions count events and transitions, not milliseconds.

systemd_unit: the D-Bus client (anycast_healthd.dbus) against a private
dbus-daemon, where a stand-in answers as systemd does (org.freedesktop.systemd1:
LoadUnit, Subscribe, Properties.Get, PropertiesChanged signals). Skipped
without dbus-daemon. The real systemd is exercised in the lab (benchmarks/failover.py).
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import threading
import time

import pytest

from healthd_package import load

healthd = load()
events = __import__("anycast_healthd.events", fromlist=["events"])
dbus = __import__("anycast_healthd.dbus", fromlist=["dbus"])

DAMPING = {"enabled": False, "penalty": 1000, "suppress": 2000, "reuse": 750, "half_life_s": 30, "max_hold_s": 300}
BOUND_S = 5.0  # generous: every wait below ends on an event, this only stops a broken test


class FakeInterface:
    def __init__(self):
        self.name = "lo"
        self.present = set()
        self.calls = []

    def ensure(self):
        pass

    def addresses(self):
        return set(self.present)

    def add(self, prefix):
        self.calls.append(("add", prefix, time.monotonic()))
        self.present.add(prefix)

    def delete(self, prefix):
        self.calls.append(("delete", prefix, time.monotonic()))
        self.present.discard(prefix)

    def withdraw(self, prefixes):
        gone = sorted(set(prefixes) & self.present)
        self.present -= set(gone)
        return gone


def wait_for(predicate, bound=BOUND_S):
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def running_agent(tmp_path, check):
    """An agent with one VIP gated by CHECK, its main loop in a thread; stopped by the caller."""
    health = healthd.parse_health("health", {"checks": [check], "damping": DAMPING})
    config = {
        "interface": "lo",
        "state_file": str(tmp_path / "state.json"),
        "metrics_listen": None,
        "metrics_textfile": None,
        "vips": [{"prefix": "198.51.100.10/32", "name": "web", "checks": health["checks"], "damping": health["damping"]}],
    }
    agent = healthd.Agent(config, interface=FakeInterface())
    agent.start()
    thread = threading.Thread(target=agent.run, daemon=True)
    thread.start()
    return agent


def announced(agent):
    return "198.51.100.10/32" in agent.interface.present


@pytest.fixture
def sleeper(tmp_path):
    """Start `sleep` copies (a name of their own, so no other process matches it); all killed at the end."""
    program = tmp_path / ("hd-sleep-%d" % (os.getpid() % 100000))
    shutil.copy("/bin/sleep", program)
    started = []

    def start():
        proc = subprocess.Popen([str(program), "300"])
        started.append(proc)
        return proc

    start.name = program.name[:15]
    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def kill(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait()


# The spec, as the agent reads it -----------------------------------------------------


def test_event_checks_have_no_fall_and_describe_themselves():
    check = healthd.parse_check("c", {"type": "process", "pidfile": "/run/nginx.pid", "name": "nginx"})
    assert check == {"type": "process", "pidfile": "/run/nginx.pid", "name": "nginx", "interval_ms": 300, "timeout_ms": 250, "rise": 3}
    assert healthd.describe(check) == "process /run/nginx.pid nginx"
    unit = healthd.parse_check("c", {"type": "systemd_unit", "unit": "nginx.service"})
    assert healthd.describe(unit) == "systemd_unit nginx.service"
    with pytest.raises(healthd.ConfigError, match=r"c.fall: does not apply to a systemd_unit check: it goes down at once"):
        healthd.parse_check("c", {"type": "systemd_unit", "unit": "nginx.service", "fall": 3})
    # A failure of an event-driven check brings it down at once; rise still counts the recovery.
    state = healthd.CheckState(dict(unit), "u")
    for _run in range(3):
        state.record(True)
    assert state.up
    assert state.record(False, None, "unit nginx.service is failed (failed)") and not state.up
    assert not state.record(True) and not state.record(True) and state.record(True) and state.up


# process -----------------------------------------------------------------------------


def test_process_follower_by_pidfile_and_name(tmp_path, sleeper):
    pidfile = tmp_path / "svc.pid"
    follower = events.ProcessFollower({"pidfile": str(pidfile), "name": sleeper.name})
    assert follower.refresh() == (False, "cannot read pidfile %s: No such file or directory" % pidfile)
    pidfile.write_text("garbage\n")
    assert follower.refresh() == (False, "pidfile %s holds no PID" % pidfile)
    # A stale pidfile naming another program (PID reuse) is not the service.
    pidfile.write_text("%d\n" % os.getpid())
    ok, error = follower.refresh()
    assert (
        not ok and error.startswith("process %d of pidfile %s is '" % (os.getpid(), pidfile)) and error.endswith(", not %r (a stale pidfile?)" % sleeper.name)
    )
    first = sleeper()
    pidfile.write_text("%d\n" % first.pid)
    assert follower.refresh() == (True, "")
    assert follower.fileno() is not None and follower.pid == first.pid
    assert follower.wait(0.01) is None  # alive: no event
    kill(first)
    assert follower.wait(BOUND_S) == "process %d (%s) exited" % (first.pid, sleeper.name)
    assert follower.fileno() is None
    assert follower.refresh() == (False, "process %d of pidfile %s is gone" % (first.pid, pidfile))
    # Restarted: the pidfile names the new process, which is followed.
    second = sleeper()
    pidfile.write_text("%d\n" % second.pid)
    assert follower.refresh() == (True, "") and follower.pid == second.pid
    # The pidfile names a third process while the second lives: the follower moves on.
    third = sleeper()
    pidfile.write_text("%d\n" % third.pid)
    assert follower.refresh() == (True, "") and follower.pid == third.pid
    kill(second)
    assert follower.wait(0.2) is None  # no longer the one followed
    follower.close()


def test_a_thread_id_is_no_process_and_a_dead_new_pid_keeps_the_old_one(tmp_path, sleeper):
    pidfile = tmp_path / "svc.pid"
    follower = events.ProcessFollower({"pidfile": str(pidfile), "name": None})
    parked = threading.Event()
    thread = threading.Thread(target=parked.wait, args=(BOUND_S,))
    thread.start()
    try:
        pidfile.write_text("%d\n" % thread.native_id)
        assert follower.refresh() == (False, "%d is not a process id (a thread's?)" % thread.native_id)
    finally:
        parked.set()
        thread.join()
    first = sleeper()
    pidfile.write_text("%d\n" % first.pid)
    assert follower.refresh() == (True, "") and follower.pid == first.pid
    # The pidfile names a process that is gone already: the live one stays followed.
    gone = sleeper()
    kill(gone)
    pidfile.write_text("%d\n" % gone.pid)
    assert follower.refresh() == (True, "") and follower.pid == first.pid and follower.fileno() is not None
    follower.close()


def test_process_follower_by_name_follows_the_oldest(sleeper):
    follower = events.ProcessFollower({"pidfile": None, "name": sleeper.name})
    assert follower.refresh() == (False, "no process named %r" % sleeper.name)
    first, second = sleeper(), sleeper()
    assert wait_for(lambda: events.proc_stat(second.pid) and events.proc_stat(second.pid)[0] == sleeper.name)
    assert follower.refresh() == (True, "") and follower.pid == first.pid
    kill(first)
    assert follower.wait(BOUND_S) == "process %d (%s) exited" % (first.pid, sleeper.name)
    assert follower.refresh() == (True, "") and follower.pid == second.pid
    follower.close()


def test_without_pidfd_the_process_is_polled(tmp_path, sleeper, monkeypatch):
    monkeypatch.delattr(os, "pidfd_open")
    proc = sleeper()
    pidfile = tmp_path / "svc.pid"
    pidfile.write_text("%d" % proc.pid)
    follower = events.ProcessFollower({"pidfile": str(pidfile), "name": None})
    assert follower.refresh() == (True, "") and follower.fileno() is None and follower.polling
    kill(proc)
    assert follower.refresh() == (False, "process %d exited" % proc.pid)


def test_a_dead_process_withdraws_its_vip_at_once(tmp_path, sleeper):
    """The VIP leaves on the pidfd's event, not at the check's next run (10 s away)."""
    pidfile = tmp_path / "svc.pid"
    proc = sleeper()
    pidfile.write_text("%d\n" % proc.pid)
    check = {"type": "process", "pidfile": str(pidfile), "name": sleeper.name, "interval_ms": 10000, "timeout_ms": 100, "rise": 1}
    agent = running_agent(tmp_path, check)
    try:
        assert wait_for(lambda: announced(agent))
        runs = agent.vips[0].checks[0].runs
        killed = time.monotonic()
        kill(proc)
        assert wait_for(lambda: not announced(agent))
        withdrawn = [at for what, _prefix, at in agent.interface.calls if what == "delete"]
        # Exactly one event, one failed run, no interval run in between: the event withdrew it.
        assert agent.events == 1
        assert agent.vips[0].checks[0].runs == runs + 1
        assert agent.vips[0].checks[0].error == "process %d (%s) exited" % (proc.pid, sleeper.name)
        assert withdrawn and withdrawn[0] - killed < 2.0  # far below the 10 s interval
        assert agent.snapshot()["vips"][0]["checks"][0]["type"] == "process"
    finally:
        agent.stop()


def test_rise_still_counts_the_recovery(tmp_path, sleeper):
    pidfile = tmp_path / "svc.pid"
    proc = sleeper()
    pidfile.write_text("%d\n" % proc.pid)
    check = {"type": "process", "pidfile": str(pidfile), "interval_ms": 50, "timeout_ms": 10, "rise": 3}
    agent = running_agent(tmp_path, check)
    try:
        assert wait_for(lambda: announced(agent))
        state = agent.vips[0].checks[0]
        assert state.runs >= 3
        kill(proc)
        assert wait_for(lambda: not announced(agent))
        assert agent.events == 1
        again = sleeper()
        pidfile.write_text("%d\n" % again.pid)
        assert wait_for(lambda: announced(agent))
        assert state.successes >= 3 and state.up
    finally:
        agent.stop()


# systemd_unit over D-Bus ---------------------------------------------------------------

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@pytest.fixture
def bus(tmp_path):
    """A private dbus-daemon: its address."""
    daemon = shutil.which("dbus-daemon")
    if daemon is None:
        pytest.skip("dbus-daemon is not installed (Debian package dbus): the D-Bus protocol layer cannot be tested against a real bus")
    socket_path = tmp_path / "bus"
    (tmp_path / "bus.conf").write_text(BUS_CONFIG % socket_path)
    proc = subprocess.Popen([daemon, "--nofork", "--nopidfile", "--config-file=%s" % (tmp_path / "bus.conf")])
    try:
        assert wait_for(socket_path.exists)
        yield "unix:path=%s" % socket_path
    finally:
        proc.terminate()
        proc.wait()


def unit_path(name):
    return "/org/freedesktop/systemd1/unit/" + "".join(c if c.isalnum() else "_%02x" % ord(c) for c in name)


class FakeSystemd:
    """org.freedesktop.systemd1 as the agent uses it; units as {name: properties}."""

    def __init__(self, address, units, stale=()):
        self.units = units
        self.stale = stale
        self.conn = dbus.Connection(address)
        self.conn.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName", "su", ("org.freedesktop.systemd1", 4))
        self.todo = queue.Queue()
        self.subscribed = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def props(self, path):
        for name, props in self.units.items():
            if unit_path(name) == path:
                return props
        return None

    def serve(self):
        while not self.stopping.is_set():
            while not self.todo.empty():
                self.todo.get()()
            for msg in self.conn.receive(0.02):
                if msg.kind != dbus.METHOD_CALL:
                    continue
                if msg.member == "LoadUnit":
                    name = msg.body[0]
                    self.units.setdefault(name, {"LoadState": "not-found", "ActiveState": "inactive", "SubState": "dead", events.ENTERED: 0})
                    self.conn.reply(msg, "o", (unit_path(name),))
                elif msg.member == "Subscribe":
                    self.subscribed += 1
                    for name in self.stale:
                        # A change signalled before the client reads the state: older than what GetAll returns.
                        body = (events.UNIT, {"ActiveState": ("s", "failed"), "SubState": ("s", "failed")}, [])
                        self.conn.signal(unit_path(name), events.PROPERTIES, "PropertiesChanged", "sa{sv}as", body)
                    self.conn.reply(msg)
                elif msg.member == "GetAll":
                    props = self.props(msg.path) or {}
                    values = {k: ("t" if isinstance(v, int) else "s", v) for k, v in props.items()}
                    # Unit objects carry many more properties, of every shape: the client must read past them.
                    values["Conditions"] = ("a(sbbsi)", [("ConditionPathExists", False, False, "/x", 0)])
                    values["Names"] = ("as", [msg.path.rsplit("/", 1)[-1]])
                    values["Job"] = ("(uo)", (0, "/"))
                    self.conn.reply(msg, "a{sv}", (values,))
                elif msg.member == "Get":
                    props = self.props(msg.path)
                    value = props.get(msg.body[1]) if props else None
                    if value is None:
                        self.conn.error(msg, "org.freedesktop.DBus.Error.UnknownProperty", "no %s" % msg.body[1])
                    else:
                        self.conn.reply(msg, "v", (("t" if isinstance(value, int) else "s", value),))
                else:
                    self.conn.error(msg, "org.freedesktop.DBus.Error.UnknownMethod", msg.member)

    def change(self, name, invalidate=(), **changed):
        """Set properties of NAME and signal them (changed with values, or only invalidated)."""

        def emit():
            self.units[name].update(changed)
            values = {k: ("t" if isinstance(v, int) else "s", v) for k, v in changed.items() if k not in invalidate}
            body = (events.UNIT, values, list(invalidate))
            self.conn.signal(unit_path(name), events.PROPERTIES, "PropertiesChanged", "sa{sv}as", body)

        self.todo.put(emit)

    def close(self):
        self.stopping.set()
        self.thread.join(2)
        self.conn.close()


def active(entered=1000):
    return {"LoadState": "loaded", "ActiveState": "active", "SubState": "running", events.ENTERED: entered}


UNIT_CHECK = {"type": "systemd_unit", "unit": "web@a-b.service", "interval_ms": 300, "timeout_ms": 250, "rise": 3}


def test_marshalling_round_trips_every_type_the_checks_use():
    body = ("s", "/o/p", True, {"a": ("s", "x"), "b": ("t", 2**40)}, ["i", "j"], (1, "z"), [(3, ("as", ["q"]))])
    sig = "soba{sv}as(ys)a(yv)"
    data = dbus.encode(dbus.SIGNAL, 5, {"path": "/x", "interface": "i.f", "member": "M"}, sig, body)
    message, used = dbus.decode(data + b"rest")
    assert used == len(data) and message.serial == 5 and message.member == "M" and message.path == "/x"
    assert message.body == ["s", "/o/p", True, {"a": ("s", "x"), "b": ("t", 2**40)}, ["i", "j"], (1, "z"), [(3, ("as", ["q"]))]]
    assert dbus.decode(data[:-1]) == (None, 0)
    assert dbus.split("sa{sv}as(ia(yv))") == ["s", "a{sv}", "as", "(ia(yv))"]


def test_unit_follower_reads_the_state_then_follows_signals(bus):
    systemd = FakeSystemd(bus, {"web@a-b.service": active()})
    follower = events.UnitFollower(UNIT_CHECK, bus)
    try:
        assert follower.refresh() == (True, "")
        assert systemd.subscribed == 1 and follower.path == unit_path("web@a-b.service")
        assert follower.wait(0.05) is None
        # A reload keeps it up; the end of the reload too.
        systemd.change("web@a-b.service", ActiveState="reloading", SubState="reload")
        assert follower.wait(BOUND_S) is None and follower.refresh() == (True, "")
        systemd.change("web@a-b.service", ActiveState="active", SubState="running")
        assert follower.wait(BOUND_S) is None
        # The main process dies: systemd restarts it (activating, auto-restart): down at once.
        systemd.change("web@a-b.service", ActiveState="activating", SubState="auto-restart")
        assert follower.wait(BOUND_S) == "unit web@a-b.service is activating (auto-restart)"
        assert follower.refresh() == (False, "unit web@a-b.service is activating (auto-restart)")
        # Active again: up, counted by refresh() (rise); an invalidated property is read back.
        systemd.change("web@a-b.service", invalidate=("ActiveState",), ActiveState="active", SubState="running", **{events.ENTERED: 2000})
        assert follower.wait(BOUND_S) is None
        assert follower.refresh() == (True, "")
        # A restart systemd coalesced into one signal (active -> active, newly entered): a failure all the same.
        systemd.change("web@a-b.service", **{events.ENTERED: 3000})
        assert follower.wait(BOUND_S) == "unit web@a-b.service was restarted"
        systemd.change("web@a-b.service", ActiveState="failed", SubState="failed")
        assert follower.wait(BOUND_S) == "unit web@a-b.service is failed (failed)"
    finally:
        follower.close()
        systemd.close()


def test_signals_older_than_the_state_read_are_dropped(bus):
    systemd = FakeSystemd(bus, {"web@a-b.service": active()}, stale=("web@a-b.service",))
    follower = events.UnitFollower(UNIT_CHECK, bus)
    try:
        assert follower.refresh() == (True, "")
        assert follower.wait(0.1) is None and follower.refresh() == (True, "")
    finally:
        follower.close()
        systemd.close()


def test_a_missing_unit_and_a_missing_bus_are_down(bus, tmp_path):
    systemd = FakeSystemd(bus, {})
    follower = events.UnitFollower(dict(UNIT_CHECK, unit="nope.service"), bus)
    try:
        assert follower.refresh() == (False, "unit nope.service does not exist (LoadState not-found)")
    finally:
        follower.close()
        systemd.close()
    nobus = events.UnitFollower(UNIT_CHECK, "unix:path=%s" % (tmp_path / "no-such-socket"))
    ok, error = nobus.refresh()
    assert not ok and error.startswith("cannot follow unit web@a-b.service on the system bus: cannot connect to the bus (")
    assert nobus.fileno() is None


def test_a_failed_unit_withdraws_its_vip_at_once(bus, tmp_path, monkeypatch):
    """Through the whole agent: the signal withdraws the VIP, long before the next 10 s interval."""
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", bus)
    systemd = FakeSystemd(bus, {"web@a-b.service": active()})
    agent = running_agent(tmp_path, dict(UNIT_CHECK, interval_ms=10000, timeout_ms=1000, rise=1))
    try:
        assert wait_for(lambda: announced(agent))
        runs = agent.vips[0].checks[0].runs
        systemd.change("web@a-b.service", ActiveState="deactivating", SubState="stop-sigterm")
        assert wait_for(lambda: not announced(agent))
        assert agent.events == 1 and agent.vips[0].checks[0].runs == runs + 1
        assert agent.vips[0].checks[0].error == "unit web@a-b.service is deactivating (stop-sigterm)"
    finally:
        agent.stop()
        systemd.close()


def test_losing_the_bus_withdraws(bus, tmp_path):
    systemd = FakeSystemd(bus, {"web@a-b.service": active()})
    follower = events.UnitFollower(UNIT_CHECK, bus)
    assert follower.refresh() == (True, "")
    systemd.close()
    # The connection breaks (here: closed under it); reconnecting finds no systemd.
    follower.bus.sock.shutdown(2)
    # (Messages already read, such as the bus's NameAcquired, come first.)
    errors = [follower.wait(0.1) for _attempt in range(3)]
    assert [e for e in errors if e] == [
        "lost the system bus (org.freedesktop.DBus.Error.Disconnected: the bus closed the connection) and cannot reconnect: "
        "org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.systemd1 was not provided by any .service files"
    ]
    follower.close()


def test_a_follower_that_breaks_fails_its_check(tmp_path, monkeypatch):
    """An unexpected error in a follower brings its check down (fail-closed), and the thread carries on."""
    calls = []

    def broken(self):
        calls.append(1)
        if len(calls) == 1:
            return True, ""
        raise ValueError("boom")

    monkeypatch.setattr(events.ProcessFollower, "refresh", broken)
    agent = running_agent(tmp_path, {"type": "process", "name": "x", "interval_ms": 50, "timeout_ms": 10, "rise": 1})
    try:
        assert wait_for(lambda: len(calls) >= 3)
        state = agent.vips[0].checks[0]
        assert not state.up and state.error == "internal error: boom"
        assert not announced(agent)
    finally:
        agent.stop()
