# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every routing daemon offers on a managed host, and the apply transaction around it.

A daemon class (one module_utils file per daemon, _bird.py, _frr.py, ...)
subclasses Daemon and implements its verbs; _daemons.py lists the classes.
The routing_config module drives a Transaction: it validates the candidate
with the daemon, then hands the transaction to Daemon.apply(), which
installs the file, reconfigures the daemon, runs the post-check and rolls
back in the daemon's own way. Every command goes through
AnsibleModule.run_command with an argument list (never a shell).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import tempfile
import time

from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.anycast.fabric.plugins.module_utils._daemon_identity import IdentityField
from ansible_collections.anycast.fabric.plugins.module_utils._bgp_state import broken_sessions, describe, protocols_gone_down, reset_sessions

MASK = "********"
POLL_INTERVAL = 0.5


class DaemonError(Exception):
    pass


class State:
    """A snapshot of the daemon: sessions (bgp_state's shape) and, where the daemon has them, protocols by name."""

    def __init__(self, sessions, protocols=None):
        self.sessions = sessions
        self.protocols = protocols or {}


def find_secrets_with(regexes, text):
    """The secrets REGEXES find in TEXT. Each regex has two groups around the secret: (prefix)secret(suffix)."""
    found = set()
    for regex in regexes:
        for match in regex.finditer(text):
            secret = text[match.end(1) : match.start(2)] if match.group(2) else text[match.end(1) : match.end()]
            if secret:
                found.add(secret)
    return found


def mask_secrets_with(regexes, text):
    for regex in regexes:
        text = regex.sub(lambda m: m.group(1) + MASK + m.group(2), text)
    return text


class Daemon:
    """One routing daemon on the host. Subclasses set the attributes and implement the verbs."""

    # The daemon's record in _daemon_identity.py, which the controller's driver reads too.
    identity = None
    name = IdentityField("name", "")
    default_dest = IdentityField("config_path", "")  # its configuration file
    owner = IdentityField("owner", "root")  # of that file
    group = IdentityField("group", "root")
    service = IdentityField("service", "")  # its systemd unit
    # Regexes (prefix)(suffix) around each BGP password in the daemon's configuration syntax.
    secret_res = ()
    # Module options of this daemon (routing_config and bgp_info): name -> argument spec entry.
    # Document them in the doc fragment anycast.fabric.daemon (OPTIONS).
    options = {}

    def __init__(self, module):
        self.module = module

    @classmethod
    def from_params(cls, module):
        """The daemon, configured from the module's parameters (its own options)."""
        return cls(module)

    @classmethod
    def present(cls, module):
        """Whether the daemon is installed or runs here (bgp_info's daemon=auto picks the first present one)."""
        return False

    # Reading -------------------------------------------------------------

    def running(self):
        """Whether the daemon runs and answers on its control interface."""
        raise NotImplementedError

    def validate(self, path):
        """Check the configuration file PATH with the daemon's own parser: (ok, message)."""
        raise NotImplementedError

    def state(self):
        """The sessions (and protocols) now: a State. Raises DaemonError."""
        raise NotImplementedError

    def exports(self, session):
        """The prefixes advertised to SESSION's peer."""
        raise NotImplementedError

    def route_next_hops(self, prefix):
        """The next hops installed in the kernel for PREFIX (routers)."""
        raise DaemonError("%s does not report installed next hops" % self.name)

    def delta(self, path):
        """The commands applying PATH would run (RV(commands)); empty when the daemon cannot preview."""
        return []

    # Applying ------------------------------------------------------------

    def apply(self, tx, candidate, old, before):
        """Install CANDIDATE (a validated file) and reconfigure the running daemon, or roll back.

        TX: the Transaction (file steps, post-check, result, fail); OLD: the previous
        file's text or None; BEFORE: the State before. Fails through tx.fail().
        """
        raise NotImplementedError


def sha256(text):
    return None if text is None else hashlib.sha256(to_bytes(text)).hexdigest()


def read_file(path):
    try:
        with open(path, "rb") as handle:
            return to_text(handle.read())
    except (IOError, OSError):
        return None


def write_temp(directory, content):
    fd, path = tempfile.mkstemp(dir=directory, prefix=".anycast-fabric-", suffix=".conf")
    with os.fdopen(fd, "wb") as handle:
        handle.write(to_bytes(content))
    return path


def post_check(daemon, before, wait, settle):
    """Wait until nothing that worked before is broken; return (what is broken, the State now)."""
    start = time.time()
    while True:
        now = daemon.state()
        broken = [describe(s) for s in broken_sessions(before.sessions, now.sessions)]
        broken += ["protocol %s is down" % name for name in protocols_gone_down(before.protocols, now.protocols, now.sessions)]
        elapsed = time.time() - start
        if not broken and elapsed >= settle:
            return [], now
        if elapsed >= wait:
            return broken, now
        time.sleep(POLL_INTERVAL)


def session_names(sessions):
    return sorted("%s (%s)" % (s["name"], s["peer"]) for s in sessions)


class Transaction:
    """One apply of one file: the steps a daemon's apply() composes, and the module's result."""

    def __init__(self, module, daemon, dest, result):
        self.module = module
        self.params = module.params
        self.daemon = daemon
        self.dest = dest
        self.result = result

    def fail(self, msg, **extra):
        self.result.update(extra)
        self.module.fail_json(msg=msg, **self.result)

    def file_args(self, path):
        params = self.params
        return self.module.load_file_common_arguments(
            dict(path=path, owner=params["owner"] or self.daemon.owner, group=params["group"] or self.daemon.group, mode=params["mode"])
        )

    def backup(self, old):
        """Keep a copy of the file as it is now (holding OLD), when asked and not done yet."""
        if self.params["backup"] and old is not None and "backup_file" not in self.result:
            self.result["backup_file"] = self.module.backup_local(self.dest)

    def install(self, candidate, old):
        """Put CANDIDATE in place of the file (keeping a backup of OLD when asked)."""
        self.backup(old)
        self.module.atomic_move(candidate, self.dest)
        self.module.set_fs_attributes_if_different(self.file_args(self.dest), True)

    def restore_file(self, old):
        """Put the previous text back (remove the file if there was none, and if something wrote one since)."""
        if old is None:
            if os.path.lexists(self.dest):
                os.unlink(self.dest)
            return
        restored = write_temp(os.path.dirname(self.dest) or ".", old)
        self.module.atomic_move(restored, self.dest)
        self.module.set_fs_attributes_if_different(self.file_args(self.dest), True)

    def snapshot(self, text):
        """A private temporary file holding TEXT next to the configuration (the caller removes it)."""
        path = write_temp(os.path.dirname(self.dest) or ".", text)
        os.chmod(path, 0o600)
        return path

    def post_check(self, before, settle=None):
        """(broken, State now) after waiting up to session_wait; SETTLE defaults to settle_time."""
        return post_check(self.daemon, before, self.params["session_wait"], self.params["settle_time"] if settle is None else settle)

    def finish(self, before, after):
        self.result["sessions_after"] = after.sessions
        self.result["sessions_reset"] = session_names(reset_sessions(before.sessions, after.sessions))
