# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""FRR on a managed host: vtysh, frr-reload.py, and the snapshot / reload / restore transaction."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.anycast.fabric.plugins.module_utils._daemon_identity import FRR
from ansible_collections.anycast.fabric.plugins.module_utils._daemon import Daemon, DaemonError, State
from ansible_collections.anycast.fabric.plugins.module_utils._bgp_state import (
    name_link_local_hops,
    parse_frr_advertised,
    parse_frr_bgp_peers,
    parse_frr_bfd,
    parse_frr_route,
    parse_frr_summary,
    with_bfd,
)

DEFAULT_RELOAD = "/usr/lib/frr/frr-reload.py"


class Frr(Daemon):
    identity = FRR
    secret_res = (re.compile(r"(\bneighbor\s+\S+\s+password\s+)\S+()"),)  # neighbor X password key
    options = {"frr_reload_path": dict(type="path", default=DEFAULT_RELOAD)}

    def __init__(self, module, reload_path=DEFAULT_RELOAD):
        super(Frr, self).__init__(module)
        self.vtysh = module.get_bin_path("vtysh", required=True)
        self.reload_path = reload_path

    @classmethod
    def from_params(cls, module):
        return cls(module, module.params.get("frr_reload_path") or DEFAULT_RELOAD)

    @classmethod
    def present(cls, module):
        return module.get_bin_path("vtysh") is not None

    def show(self, command):
        rc, out, err = self.module.run_command([self.vtysh, "-c", command])
        if rc != 0:
            raise DaemonError("vtysh -c '%s' failed: %s" % (command, (err or out).strip()))
        return out

    def running(self):
        rc, out, _err = self.module.run_command([self.vtysh, "-c", "show bgp vrf default summary json"])
        return rc == 0 and out.strip().startswith("{")

    def validate(self, path):
        rc, out, err = self.module.run_command([self.vtysh, "-C", "-f", path])
        return rc == 0, (out + err).strip()

    def state(self):
        sessions = parse_frr_summary(self.show("show bgp vrf default summary json") or "{}")
        try:
            bfd = parse_frr_bfd(self.show("show bfd peers json") or "[]")
        except (DaemonError, ValueError):
            bfd = {}  # bfdd not running: no BFD state to report
        return State(with_bfd(sessions, bfd))

    def exports(self, session):
        family = "ipv6" if session["family"] == "ipv6" else "ipv4"
        return parse_frr_advertised(self.show("show bgp %s unicast neighbors %s advertised-routes json" % (family, session["peer"])))

    def route_next_hops(self, prefix):
        """The FIB's next hops for PREFIX, each named as the fabric knows its peer.

        A link-local next hop (IPv6 routes from a shared segment, every route over an
        unnumbered link) is named by the BGP path that installed it: the peer's address,
        or the interface of an unnumbered link.
        """
        family = "ipv6" if ":" in prefix else "ip"
        hops = parse_frr_route(self.show("show %s route %s json" % (family, prefix)) or "{}", prefix)
        if any("%" in hop for hop in hops):
            bgp = self.show("show bgp %s unicast %s json" % ("ipv6" if family == "ipv6" else "ipv4", prefix)) or "{}"
            hops = name_link_local_hops(hops, parse_frr_bgp_peers(bgp))
        return hops

    def _frr_reload(self, *args):
        if not os.path.exists(self.reload_path):
            raise DaemonError("%s is missing (Debian package frr-pythontools)" % self.reload_path)
        return self.module.run_command([self.module.get_bin_path("python3", required=True), self.reload_path] + list(args))

    def delta(self, path):
        """The vtysh commands frr-reload.py would run to turn the running config into PATH."""
        rc, out, err = self._frr_reload("--test", "--stdout", path)
        if rc != 0:
            raise DaemonError("frr-reload.py --test failed: %s" % (err or out).strip()[-2000:])
        commands, section = [], None
        for line in out.splitlines():
            if line.startswith("Lines To Delete"):
                section = "delete"
            elif line.startswith("Lines To Add"):
                section = "add"
            elif section and line.strip() and not line.startswith("====") and " INFO: " not in line:
                commands.append(line.rstrip())
        return commands

    def running_config(self):
        text = self.show("show running-config")
        lines = text.splitlines()
        while lines and (not lines[0].strip() or lines[0].startswith(("Building configuration", "Current configuration"))):
            lines.pop(0)
        return "\n".join(lines) + "\n"

    def reload(self, path):
        rc, out, err = self._frr_reload("--reload", "--stdout", path)
        if rc != 0:
            raise DaemonError("frr-reload.py --reload failed: %s" % (err or out).strip()[-2000:])

    def apply(self, tx, candidate, old, before):
        """Snapshot the running config, frr-reload.py the candidate, install it, post-check; on failure reload the snapshot and restore the file.

        The file is put in place only after frr-reload.py has applied the
        candidate: an apply killed during the reload (Ctrl-C, a dead
        controller) leaves the old file (or frr-reload.py's dump of the
        running config), so the next run sees the change again and completes
        it, instead of finding the file up to date while FRR runs part of it.
        """
        params = tx.params
        snapshot = tx.snapshot(self.running_config())
        try:
            # frr-reload.py writes the running config over frr.conf when it
            # loads another file: keep the backup of the file as it was.
            tx.backup(old)
            try:
                self.reload(candidate)
            except DaemonError as exc:
                broken, after = [str(exc)], self.state()
            else:
                tx.result["reloaded"] = True
                tx.install(candidate, old)
                broken, after = tx.post_check(before)
            if broken and params["rollback"]:
                # frr-reload.py saves the running config over frr.conf ("write")
                # whenever it loads another file, so the snapshot goes first and
                # the previous file is put back afterwards.
                self.reload(snapshot)
                tx.restore_file(old)
                _ignored, after = tx.post_check(before, settle=0)
                tx.finish(before, after)
                tx.fail("apply failed, restored %s and reloaded the previous running configuration: %s" % (tx.dest, "; ".join(broken)),
                        broken=broken, rolled_back=True)
            tx.finish(before, after)
            if broken:
                tx.fail("apply failed (rollback disabled): %s" % "; ".join(broken), broken=broken)
        finally:
            os.unlink(snapshot)
