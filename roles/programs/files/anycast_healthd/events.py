# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Event-driven checks: a systemd unit followed by D-Bus signal, a process followed by a pidfd.

A follower has three methods the agent's check thread drives
(agent.Agent._event_loop):

- refresh(): every interval, (ok, error) now; it (re)connects, (re)resolves
  and counts towards `rise`;
- fileno(): the file descriptor the thread waits on (None: nothing to wait on);
- wait(timeout): waits on it; returns an error text when the unit or process
  has just failed (the check goes down at once), else None.
"""

from __future__ import annotations

import errno
import logging
import os
import select

from anycast_healthd import dbus

LOG = logging.getLogger("anycast-healthd")

SYSTEMD = "org.freedesktop.systemd1"
MANAGER_PATH = "/org/freedesktop/systemd1"
MANAGER = "org.freedesktop.systemd1.Manager"
UNIT = "org.freedesktop.systemd1.Unit"
PROPERTIES = "org.freedesktop.DBus.Properties"
BUS = ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus")
# A unit serves while active; `reloading` is an active unit re-reading its
# configuration (systemctl reload). activating (a start, or a restart's
# auto-restart), deactivating, inactive and failed are down.
UP_STATES = ("active", "reloading")
ENTERED = "ActiveEnterTimestampMonotonic"
WATCHED = ("LoadState", "ActiveState", "SubState", ENTERED)


def follower(check, bus_address=None):
    """The follower of an event-driven check."""
    if check["type"] == "systemd_unit":
        return UnitFollower(check, bus_address)
    return ProcessFollower(check)


# systemd units ------------------------------------------------------------------


class UnitFollower:
    """A unit's ActiveState, read once per connection and then followed by PropertiesChanged signals.

    Without the bus (no socket, refused, systemd not answering) the check is
    down: the unit's state cannot be known, and an announced VIP must not
    outlive a service nobody watches. The connection is retried every interval.
    """

    def __init__(self, check, address=None):
        self.unit = check["unit"]
        self.timeout = check["timeout_ms"] / 1000.0
        self.address = address
        self.bus = None
        self.path = None
        self.props = {}

    def fileno(self):
        return self.bus.fileno() if self.bus is not None else None

    def close(self):
        if self.bus is not None:
            self.bus.close()
            self.bus = None

    def _open(self):
        bus = dbus.Connection(self.address or dbus.system_bus_address(), self.timeout)
        try:
            # LoadUnit: the unit's object, loaded when it is not (a missing unit is LoadState not-found).
            (path,) = bus.call(SYSTEMD, MANAGER_PATH, MANAGER, "LoadUnit", "s", (self.unit,))
            # The match first, the state second: no change falls between the two.
            rule = "type='signal',sender='%s',path='%s',interface='%s',member='PropertiesChanged'" % (SYSTEMD, path, PROPERTIES)
            bus.call(*BUS, "AddMatch", "s", (rule,))
            # systemd emits unit signals only while a client is subscribed.
            bus.call(SYSTEMD, MANAGER_PATH, MANAGER, "Subscribe")
            # One GetAll: the properties of one moment (four Gets could mix two states).
            found = bus.call(SYSTEMD, path, PROPERTIES, "GetAll", "s", (UNIT,))[0]
            props = {name: found[name][1] for name in WATCHED if name in found}
        except BaseException:
            bus.close()
            raise
        # Signals that came before GetAll's reply are older than what it read.
        bus.queue = []
        self.bus, self.path, self.props = bus, path, props

    def verdict(self):
        load, active = self.props.get("LoadState"), self.props.get("ActiveState")
        if load != "loaded":
            if load == "not-found":
                return False, "unit %s does not exist (LoadState not-found)" % self.unit
            return False, "unit %s is not loaded (LoadState %s)" % (self.unit, load)
        if active in UP_STATES:
            return True, ""
        return False, "unit %s is %s (%s)" % (self.unit, active, self.props.get("SubState"))

    def refresh(self):
        if self.bus is None:
            try:
                self._open()
            except (OSError, dbus.DBusError) as exc:
                self.close()
                return False, "cannot follow unit %s on the system bus: %s" % (self.unit, exc)
        return self.verdict()

    def wait(self, timeout):
        if self.bus is None:
            return None  # the agent waits on fileno(): None means no bus to wait on
        was_up = self.verdict()[0]
        entered = self.props.get(ENTERED)
        try:
            messages = self.bus.receive(timeout)
        except dbus.DBusError as exc:
            # The bus went away (dbus restarted, connection dropped): reconnect at
            # once; the unit's state cannot be vouched for without it.
            self.close()
            try:
                self._open()
            except (OSError, dbus.DBusError) as again:
                return "lost the system bus (%s) and cannot reconnect: %s" % (exc, again) if was_up else None
            ok, error = self.verdict()
            return error if was_up and not ok else None
        try:
            for message in messages:
                self._apply(message)
        except (OSError, dbus.DBusError) as exc:
            self.close()
            return "cannot re-read unit %s on the system bus: %s" % (self.unit, exc) if was_up else None
        ok, error = self.verdict()
        if was_up and not ok:
            return error
        if was_up and self.props.get(ENTERED) != entered:
            # Down and up again between two signals (systemd coalesces a unit's
            # changes): a restart all the same.
            return "unit %s was restarted" % self.unit
        return None

    def _apply(self, message):
        if message.kind != dbus.SIGNAL or message.member != "PropertiesChanged" or message.path != self.path:
            return
        if len(message.body) < 3 or message.body[0] != UNIT:
            return
        changed, invalidated = message.body[1], message.body[2]
        for name, (_sig, value) in changed.items():
            if name in WATCHED:
                self.props[name] = value
        for name in invalidated:
            if name in WATCHED:
                self.props[name] = self.bus.call(SYSTEMD, self.path, PROPERTIES, "Get", "ss", (UNIT, name))[0][1]


# Processes ------------------------------------------------------------------------


def _readable(fd, timeout):
    """Whether FD is readable within TIMEOUT seconds (poll: any fd number, unlike select)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(timeout * 1000.0))


def proc_stat(pid, proc="/proc"):
    """(comm, state, start time in clock ticks) of process PID, or None when there is none."""
    try:
        with open("%s/%d/stat" % (proc, pid), "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return None
    # pid (comm) state ppid ... field 22 starttime; comm may hold spaces and parentheses.
    head, _sep, rest = text.rpartition(")")
    comm = head.partition("(")[2]
    fields = rest.split()
    if len(fields) < 20:
        return None
    return comm, fields[0], int(fields[19])


class ProcessFollower:
    """A process found by pidfile and/or name, followed by a pidfd (it becomes readable when the process exits).

    Every interval the pidfile is read again: a daemon restarted under a new
    PID is followed once its pidfile names it. Without pidfd_open (a kernel
    before 5.3, a seccomp filter refusing it) the process is polled every
    interval instead, with a warning.
    """

    def __init__(self, check, proc="/proc"):
        self.pidfile = check.get("pidfile")
        self.name = check.get("name")
        self.proc = proc
        self.pid = None
        self.started = None
        self.fd = None
        self.polling = False

    def fileno(self):
        return self.fd

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        self.pid = self.started = None

    def label(self, pid):
        return "process %d%s" % (pid, " (%s)" % self.name if self.name else "")

    def _resolve(self):
        """(pid, start time) of the process to follow, or the reason there is none."""
        if self.pidfile:
            try:
                with open(self.pidfile, "rb") as handle:
                    text = handle.read(64).decode("ascii", "replace")
            except OSError as exc:
                return "cannot read pidfile %s: %s" % (self.pidfile, exc.strerror or exc)
            first = text.strip().split("\n", 1)[0].strip()
            if not first.isdigit() or not 0 < int(first) < 2**22 + 1:
                return "pidfile %s holds no PID" % self.pidfile
            pid = int(first)
            stat = proc_stat(pid, self.proc)
            if stat is None or stat[1] in ("Z", "X"):
                return "process %d of pidfile %s is gone" % (pid, self.pidfile)
            if self.name and stat[0] != self.name:
                return "process %d of pidfile %s is %r, not %r (a stale pidfile?)" % (pid, self.pidfile, stat[0], self.name)
            return pid, stat[2]
        best = None
        for entry in os.listdir(self.proc):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            stat = proc_stat(int(entry), self.proc)
            if stat is not None and stat[0] == self.name and stat[1] not in ("Z", "X") and (best is None or stat[2] < best[1]):
                best = (int(entry), stat[2])
        return best or "no process named %r" % self.name

    def _open(self, pid, started):
        """A pidfd of PID (None when polling), or the reason it cannot be followed."""
        fd = None
        if not self.polling:
            try:
                fd = os.pidfd_open(pid)
            except ProcessLookupError:
                return "%s exited" % self.label(pid)
            except AttributeError as exc:
                self._fall_back(exc)
            except OSError as exc:
                if exc.errno in (errno.EINVAL, errno.ENOENT):
                    # Not a thread group leader: a thread's id in the pidfile
                    # (EINVAL before Linux 6.9, ENOENT since).
                    return "%d is not a process id (a thread's?)" % pid
                if exc.errno not in (errno.ENOSYS, errno.EPERM, errno.EACCES):
                    raise
                self._fall_back(exc)
        # The PID read before the pidfd was opened may have been reused in between.
        stat = proc_stat(pid, self.proc)
        if stat is None or stat[2] != started or stat[1] in ("Z", "X"):
            if fd is not None:
                os.close(fd)
            return "%s exited" % self.label(pid)
        return fd

    def _fall_back(self, exc):
        self.polling = True
        LOG.warning("pidfd_open is not available (%s): following processes by polling every interval", getattr(exc, "strerror", None) or exc)

    def _follow(self, pid, started):
        """Follow PID instead of the process followed so far; None, or why not (the old one stays followed)."""
        fd = self._open(pid, started)
        if isinstance(fd, str):
            return fd
        self.close()
        self.pid, self.started, self.fd = pid, started, fd
        return None

    def _alive(self):
        if self.fd is not None:
            return not _readable(self.fd, 0)
        stat = proc_stat(self.pid, self.proc)
        return stat is not None and stat[2] == self.started and stat[1] not in ("Z", "X")

    def refresh(self):
        if self.pid is not None:
            if self._alive():
                if self.pidfile:
                    found = self._resolve()
                    if isinstance(found, tuple) and found[0] != self.pid and self._follow(*found) is None:
                        LOG.info("pidfile %s names process %d now: following it", self.pidfile, found[0])
                return True, ""
            error = "%s exited" % self.label(self.pid)
            self.close()
            return False, error
        found = self._resolve()
        if isinstance(found, str):
            return False, found
        error = self._follow(*found)
        return (False, error) if error else (True, "")

    def wait(self, timeout):
        if self.fd is None:
            return None
        if not _readable(self.fd, timeout):
            return None
        error = "%s exited" % self.label(self.pid)
        self.close()
        return error
