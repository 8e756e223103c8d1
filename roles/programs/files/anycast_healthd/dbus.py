# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A minimal D-Bus client on the bus's unix socket, standard library only.

Just what the systemd_unit check needs (and what its tests need to stand in
for systemd): SASL EXTERNAL authentication, Hello, method calls with their
replies, signals, and the wire format (little-endian marshalling of every
D-Bus type but unix fds) of the D-Bus specification. No new package on the
nodes (python3-dbus would need a GLib main loop for signals).

A variant is a (signature, value) pair both ways; a struct a tuple; an array
a list; a dict a dict.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import time
import urllib.parse

SYSTEM_BUS = "unix:path=/run/dbus/system_bus_socket"
MAX_MESSAGE = 128 * 1024 * 1024  # the specification's limit

METHOD_CALL, METHOD_RETURN, ERROR, SIGNAL = 1, 2, 3, 4
NO_REPLY_EXPECTED = 0x1

# Header field codes and their types.
FIELDS = {
    1: ("path", "o"),
    2: ("interface", "s"),
    3: ("member", "s"),
    4: ("error_name", "s"),
    5: ("reply_serial", "u"),
    6: ("destination", "s"),
    7: ("sender", "s"),
    8: ("signature", "g"),
    9: ("unix_fds", "u"),
}
FIELD_CODES = {name: (code, sig) for code, (name, sig) in FIELDS.items()}

_FIXED = {"y": "B", "b": "I", "n": "h", "q": "H", "i": "i", "u": "I", "x": "q", "t": "Q", "d": "d", "h": "I"}
_ALIGN = {"y": 1, "b": 4, "n": 2, "q": 2, "i": 4, "u": 4, "x": 8, "t": 8, "d": 8, "h": 4, "s": 4, "o": 4, "g": 1, "a": 4, "(": 8, "{": 8, "v": 1}


class DBusError(Exception):
    """An error reply (name and message), or a broken conversation."""

    def __init__(self, name, message=""):
        super().__init__("%s: %s" % (name, message) if message else name)
        self.name = name
        self.message = message


class BusClosed(DBusError):
    def __init__(self, message="the bus closed the connection"):
        super().__init__("org.freedesktop.DBus.Error.Disconnected", message)


def system_bus_address():
    """$DBUS_SYSTEM_BUS_ADDRESS, else the well-known socket."""
    return os.environ.get("DBUS_SYSTEM_BUS_ADDRESS") or SYSTEM_BUS


# Signatures ---------------------------------------------------------------


def _end(sig, i):
    """The index after the complete type starting at sig[i]."""
    c = sig[i]
    if c == "a":
        return _end(sig, i + 1)
    if c in "({":
        close = ")" if c == "(" else "}"
        i += 1
        while sig[i] != close:
            i = _end(sig, i)
        return i + 1
    if c not in _ALIGN or c in ")}":
        raise DBusError("org.freedesktop.DBus.Error.InvalidSignature", "bad signature %r" % sig)
    return i + 1


def split(sig):
    """'sa{sv}as' -> ['s', 'a{sv}', 'as']."""
    types, i = [], 0
    while i < len(sig):
        j = _end(sig, i)
        types.append(sig[i:j])
        i = j
    return types


# Marshalling --------------------------------------------------------------


class _Writer:
    def __init__(self, start=0):
        self.buf = bytearray()
        self.start = start  # where the buffer sits in the message: alignment is message-relative

    def pad(self, n):
        self.buf += b"\0" * (-(self.start + len(self.buf)) % n)

    def put(self, t, value):
        c = t[0]
        if c in _FIXED:
            self.pad(_ALIGN[c])
            self.buf += struct.pack("<" + _FIXED[c], int(bool(value)) if c == "b" else value)
        elif c in "so":
            data = value.encode("utf-8")
            self.pad(4)
            self.buf += struct.pack("<I", len(data)) + data + b"\0"
        elif c == "g":
            data = value.encode("ascii")
            self.buf += struct.pack("<B", len(data)) + data + b"\0"
        elif c == "v":
            inner, inner_value = value
            self.put("g", inner)
            self.put(inner, inner_value)
        elif c == "a":
            element = t[1:]
            self.pad(4)
            at = len(self.buf)
            self.buf += b"\0\0\0\0"
            self.pad(_ALIGN[element[0]])
            first = len(self.buf)
            items = value.items() if element[0] == "{" else value
            for item in items:
                self.put(element, item)
            struct.pack_into("<I", self.buf, at, len(self.buf) - first)
        elif c in "({":
            self.pad(8)
            for inner, item in zip(split(t[1:-1]), value):
                self.put(inner, item)
        else:
            raise DBusError("org.freedesktop.DBus.Error.InvalidSignature", "cannot write %r" % t)


class _Reader:
    def __init__(self, data, offset=0):
        self.data = data
        self.pos = offset

    def align(self, n):
        self.pos += -self.pos % n

    def take(self, n):
        if self.pos + n > len(self.data):
            raise DBusError("org.freedesktop.DBus.Error.InvalidArgs", "truncated message")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def get(self, t):
        c = t[0]
        if c in _FIXED:
            self.align(_ALIGN[c])
            size = struct.calcsize("<" + _FIXED[c])
            value = struct.unpack("<" + _FIXED[c], self.take(size))[0]
            return bool(value) if c == "b" else value
        if c in "so":
            self.align(4)
            (length,) = struct.unpack("<I", self.take(4))
            text = self.take(length + 1)[:-1]
            return text.decode("utf-8", "replace")
        if c == "g":
            (length,) = struct.unpack("<B", self.take(1))
            return self.take(length + 1)[:-1].decode("ascii", "replace")
        if c == "v":
            inner = self.get("g")
            if len(split(inner)) != 1:
                raise DBusError("org.freedesktop.DBus.Error.InvalidSignature", "variant of %r" % inner)
            return (inner, self.get(inner))
        if c == "a":
            element = t[1:]
            self.align(4)
            (length,) = struct.unpack("<I", self.take(4))
            self.align(_ALIGN[element[0]])
            end = self.pos + length
            if end > len(self.data):
                raise DBusError("org.freedesktop.DBus.Error.InvalidArgs", "truncated array")
            items = []
            while self.pos < end:
                items.append(self.get(element))
            return dict(items) if element[0] == "{" else items
        if c in "({":
            self.align(8)
            return tuple(self.get(inner) for inner in split(t[1:-1]))
        raise DBusError("org.freedesktop.DBus.Error.InvalidSignature", "cannot read %r" % t)


def encode(kind, serial, fields, signature="", body=(), flags=0):
    """One message: header (with its fields) and body."""
    writer = _Writer(16)
    for value, t in zip(body, split(signature)):
        writer.put(t, value)
    body_bytes = bytes(writer.buf)
    header_fields = [(FIELD_CODES[name][0], (FIELD_CODES[name][1], value)) for name, value in fields.items() if value is not None]
    if signature:
        header_fields.append((8, ("g", signature)))
    head = _Writer()
    head.buf += struct.pack("<cBBBII", b"l", kind, flags, 1, len(body_bytes), serial)
    head.put("a(yv)", header_fields)
    head.pad(8)
    return bytes(head.buf) + body_bytes


class Message:
    def __init__(self, kind, serial, flags, fields, body):
        self.kind = kind
        self.serial = serial
        self.flags = flags
        self.fields = fields
        self.body = body

    def __getattr__(self, name):
        if name in FIELD_CODES:
            return self.fields.get(name)
        raise AttributeError(name)

    def __repr__(self):
        return "Message(%d, %r, %r)" % (self.kind, self.fields, self.body)


def decode(data):
    """(Message, bytes used) of the first complete message in DATA, or (None, 0) when it is incomplete."""
    if len(data) < 16:
        return None, 0
    if data[0:1] != b"l":
        # Every bus speaks to a little-endian client in its own order only when
        # it is big-endian itself; systemd and dbus-daemon on Linux send "l".
        if data[0:1] != b"B":
            raise DBusError("org.freedesktop.DBus.Error.InvalidArgs", "not a D-Bus message")
        raise DBusError("org.freedesktop.DBus.Error.NotSupported", "big-endian messages are not supported")
    kind, flags, _version, body_length, serial, fields_length = struct.unpack_from("<BBBIII", data, 1)
    header_end = 16 + fields_length
    header_end += -header_end % 8
    total = header_end + body_length
    if total > MAX_MESSAGE:
        raise DBusError("org.freedesktop.DBus.Error.LimitsExceeded", "message of %d bytes" % total)
    if len(data) < total:
        return None, 0
    reader = _Reader(data[:header_end], 12)
    fields = {}
    for code, (_sig, value) in reader.get("a(yv)"):
        if code in FIELDS:
            fields[FIELDS[code][0]] = value
    body_reader = _Reader(data[:total], header_end)
    body = [body_reader.get(t) for t in split(fields.get("signature") or "")]
    return Message(kind, serial, flags, fields, body), total


# The connection -----------------------------------------------------------


def _connect(address, timeout):
    """A connected, authenticated socket to the first reachable unix address of ADDRESS."""
    errors = []
    for entry in address.split(";"):
        transport, _sep, params = entry.partition(":")
        options = dict(part.split("=", 1) for part in params.split(",") if "=" in part)
        if transport != "unix":
            errors.append("%s: only unix transports are supported" % entry)
            continue
        if "path" in options:
            target = _unescape(options["path"])
        elif "abstract" in options:
            target = "\0" + _unescape(options["abstract"])
        else:
            errors.append("%s: no path" % entry)
            continue
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        sock.settimeout(timeout)
        try:
            sock.connect(target)
        except OSError as exc:
            sock.close()
            errors.append("%s: %s" % (target.replace("\0", "@"), exc.strerror or exc))
            continue
        return sock
    raise OSError("cannot connect to the bus (%s)" % "; ".join(errors))


def _unescape(text):
    return urllib.parse.unquote(text)


class Connection:
    """One authenticated connection to a message bus (blocking calls, a queue of other messages)."""

    def __init__(self, address=None, timeout=1.0):
        self.timeout = timeout
        self.sock = _connect(address or system_bus_address(), timeout)
        self.buffer = b""
        self.serial = 0
        self.queue = []  # messages read while waiting for a reply
        self.unique_name = None
        try:
            self._authenticate()
            self.unique_name = self.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello")[0]
        except BaseException:
            self.close()
            raise

    def fileno(self):
        return self.sock.fileno()

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _authenticate(self):
        uid = str(os.geteuid()).encode("ascii").hex().encode("ascii")
        self.sock.sendall(b"\0AUTH EXTERNAL " + uid + b"\r\n")
        line = self._line()
        if not line.startswith(b"OK "):
            raise DBusError("org.freedesktop.DBus.Error.AuthFailed", "the bus refused EXTERNAL authentication: %s" % line.decode("ascii", "replace"))
        self.sock.sendall(b"BEGIN\r\n")

    def _line(self):
        deadline = time.monotonic() + self.timeout
        while b"\r\n" not in self.buffer:
            self._recv(deadline)
        line, _sep, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def _recv(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise DBusError("org.freedesktop.DBus.Error.Timeout", "no answer from the bus within %d ms" % (self.timeout * 1000))
        if self.sock is None:
            raise BusClosed("the connection is closed")
        ready, _w, _x = select.select([self.sock], [], [], left)
        if not ready:
            raise DBusError("org.freedesktop.DBus.Error.Timeout", "no answer from the bus within %d ms" % (self.timeout * 1000))
        try:
            chunk = self.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError as exc:
            raise BusClosed("reading from the bus: %s" % (exc.strerror or exc)) from None
        if not chunk:
            raise BusClosed()
        self.buffer += chunk

    def _pop(self):
        message, used = decode(self.buffer)
        if message is not None:
            self.buffer = self.buffer[used:]
        return message

    def send(self, kind, signature="", body=(), flags=0, **fields):
        """Send one message; returns its serial."""
        if self.sock is None:
            raise BusClosed("the connection is closed")
        self.serial += 1
        try:
            self.sock.sendall(encode(kind, self.serial, fields, signature, body, flags))
        except OSError as exc:
            raise BusClosed("writing to the bus: %s" % (exc.strerror or exc)) from None
        return self.serial

    def call(self, destination, path, interface, member, signature="", body=(), timeout=None):
        """A method call's reply body (a list); an error reply raises DBusError."""
        serial = self.send(METHOD_CALL, signature, body, destination=destination, path=path, interface=interface, member=member)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            message = self._pop()
            if message is None:
                self._recv(deadline)
                continue
            if message.kind in (METHOD_RETURN, ERROR) and message.reply_serial == serial:
                if message.kind == ERROR:
                    text = message.body[0] if message.body and isinstance(message.body[0], str) else ""
                    raise DBusError(message.error_name or "org.freedesktop.DBus.Error.Failed", text)
                return message.body
            self.queue.append(message)

    def receive(self, timeout):
        """The messages that arrive within TIMEOUT seconds (those queued first; at least one unless the time runs out)."""
        messages, self.queue = self.queue, []
        while True:
            message = self._pop()
            if message is None:
                break
            messages.append(message)
        if messages:
            return messages
        deadline = time.monotonic() + timeout
        try:
            self._recv(deadline)
        except DBusError as exc:
            if isinstance(exc, BusClosed):
                raise
            return []
        while True:
            message = self._pop()
            if message is None:
                return messages
            messages.append(message)

    def reply(self, call, signature="", body=()):
        """Answer a method call (for a service on the bus, such as a test's stand-in for systemd)."""
        self.send(METHOD_RETURN, signature, body, reply_serial=call.serial, destination=call.sender)

    def error(self, call, name, text=""):
        self.send(ERROR, "s", (text,), error_name=name, reply_serial=call.serial, destination=call.sender)

    def signal(self, path, interface, member, signature="", body=()):
        self.send(SIGNAL, signature, body, path=path, interface=interface, member=member)
