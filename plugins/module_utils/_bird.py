# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""BIRD 2 on a managed host: birdc, bird -p, and the configure timeout / confirm / undo transaction."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.anycast.fabric.plugins.module_utils._daemon_identity import BIRD
from ansible_collections.anycast.fabric.plugins.module_utils._daemon import Daemon, DaemonError, State
from ansible_collections.anycast.fabric.plugins.module_utils._bgp_state import parse_bird_bfd, parse_bird_protocols, parse_bird_route_export, with_bfd

DEFAULT_SOCKET = "/run/bird/bird.ctl"


class Bird(Daemon):
    identity = BIRD
    secret_res = (re.compile(r'(\bpassword\s+")[^"]*(")'),)  # password "key";
    options = {"bird_socket": dict(type="path", default=DEFAULT_SOCKET)}

    def __init__(self, module, socket=DEFAULT_SOCKET):
        super(Bird, self).__init__(module)
        self.socket = socket
        self.bird = module.get_bin_path("bird", required=True, opt_dirs=["/usr/sbin", "/sbin"])
        self.birdc = module.get_bin_path("birdc", required=True, opt_dirs=["/usr/sbin", "/sbin"])

    @classmethod
    def from_params(cls, module):
        return cls(module, module.params.get("bird_socket") or DEFAULT_SOCKET)

    @classmethod
    def present(cls, module):
        return os.path.exists(module.params.get("bird_socket") or DEFAULT_SOCKET)

    def birdc_cmd(self, *words):
        return self.module.run_command([self.birdc, "-s", self.socket] + list(words))

    def running(self):
        if not os.path.exists(self.socket):
            return False
        rc, out, _err = self.birdc_cmd("show", "status")
        return rc == 0 and "Daemon is up and running" in out

    def validate(self, path):
        rc, out, err = self.module.run_command([self.bird, "-p", "-c", path])
        return rc == 0, (out + err).strip()

    def state(self):
        rc, out, err = self.birdc_cmd("show", "protocols", "all")
        if rc != 0:
            raise DaemonError("birdc show protocols all failed: %s" % (err or out).strip())
        sessions, protocols = parse_bird_protocols(out)
        rc, bfd_out, _err = self.birdc_cmd("show", "bfd", "sessions")
        return State(with_bfd(sessions, parse_bird_bfd(bfd_out) if rc == 0 else {}), protocols)

    def exports(self, session):
        rc, out, _err = self.birdc_cmd("show", "route", "export", session["name"])
        return parse_bird_route_export(out) if rc == 0 else []

    def route_next_hops(self, prefix):
        raise DaemonError("next hops of a prefix are read from FRR routers (ToRs, spines); BIRD nodes import nothing")

    def delta(self, path):
        # BIRD has no dry run that lists what a reconfiguration would change.
        return []

    def _reply(self, words, ok_codes):
        """Run a birdc command with numeric replies (-v); return its text or raise."""
        rc, out, err = self.birdc_cmd("-v", *words)
        codes = re.findall(r"^(\d{4})[ -]", out, re.M)
        text = " ".join(line[5:].strip() for line in out.splitlines() if re.match(r"^\d{4}[ -]", line) and not line.startswith("0001"))
        # 8xxx / 9xxx are errors; exit status is meaningful since BIRD 2.0.10.
        if rc != 0 or any(c[0] in "89" for c in codes) or not set(codes) & set(ok_codes):
            raise DaemonError("birdc %s: %s" % (" ".join(words), (text or err or out).strip()))
        return text

    def configure(self, path, timeout):
        # 0003 Reconfigured, 0004 Reconfiguration in progress, 0019 Nothing to do.
        return self._reply(["configure", '"%s"' % path, "timeout", str(timeout)], ("0003", "0004", "0019"))

    def confirm(self):
        return self._reply(["configure", "confirm"], ("0018",))

    def undo(self):
        return self._reply(["configure", "undo"], ("0003", "0004", "0019"))

    def apply(self, tx, candidate, old, before):
        """birdc configure "CANDIDATE" timeout N, post-check, then confirm and install the file, or undo.

        The file is replaced only once BIRD has confirmed the candidate. A
        controller that dies inside the timeout window leaves BIRD (which
        undoes the change on its own) and the file both on the previous
        configuration, so the next run sees the change again and applies it.
        """
        params = tx.params
        timeout = params["confirm_timeout"] or params["session_wait"] + 30
        if timeout <= params["session_wait"]:
            tx.fail("confirm_timeout (%d) must exceed session_wait (%d), or BIRD would undo the change while it is being checked"
                    % (timeout, params["session_wait"]))
        # BIRD reads the candidate as its own user: the file's owner, group and mode.
        tx.module.set_fs_attributes_if_different(tx.file_args(candidate), True)
        try:
            self.configure(candidate, timeout)
        except DaemonError as exc:
            tx.fail("BIRD refused the reconfiguration; %s was not changed: %s" % (tx.dest, str(exc).replace(candidate, tx.dest)), rolled_back=True)
        tx.result["reloaded"] = True
        broken, after = tx.post_check(before)
        if broken and params["rollback"]:
            self.undo()
            _ignored, after = tx.post_check(before, settle=0)
            tx.finish(before, after)
            tx.fail("post-check failed, rolled back (birdc configure undo); %s was not changed: %s" % (tx.dest, "; ".join(broken)),
                    broken=broken, rolled_back=True)
        self.confirm()
        tx.install(candidate, old)
        tx.finish(before, after)
        if broken:
            tx.fail("post-check failed (rollback disabled): %s" % "; ".join(broken), broken=broken)
