# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Talking to BIRD (birdc) and FRR (vtysh, frr-reload.py) on a managed host.

Both classes offer the same verbs: running(), validate(), state(), and the
daemon-specific apply steps used by the routing_config module. Every call goes
through AnsibleModule.run_command with an argument list (never a shell).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.anycast.fabric.plugins.module_utils.bgp_state import (
    parse_bird_bfd,
    parse_bird_protocols,
    parse_bird_route_export,
    parse_frr_advertised,
    parse_frr_bfd,
    parse_frr_route,
    parse_frr_summary,
    with_bfd,
)

SECRET_RES = (
    re.compile(r'(\bpassword\s+")[^"]*(")'),  # BIRD: password "key";
    re.compile(r"(\bneighbor\s+\S+\s+password\s+)\S+()"),  # FRR: neighbor X password key
)
MASK = "********"


def find_secrets(text):
    """The BGP passwords written in config TEXT (BIRD or FRR syntax)."""
    found = set()
    for regex in SECRET_RES:
        for match in regex.finditer(text):
            secret = text[match.end(1) : match.start(2)] if match.group(2) else text[match.end(1) : match.end()]
            if secret:
                found.add(secret)
    return found


def mask_secrets(text):
    """Hide BGP passwords in config text, diffs and command lists."""
    for regex in SECRET_RES:
        text = regex.sub(lambda m: m.group(1) + MASK + m.group(2), text)
    return text


class DaemonError(Exception):
    pass


class State:
    def __init__(self, sessions, protocols=None):
        self.sessions = sessions
        self.protocols = protocols or {}


class Bird:
    name = "bird"
    default_dest = "/etc/bird/bird.conf"
    owner = group = "bird"

    def __init__(self, module, socket="/run/bird/bird.ctl"):
        self.module = module
        self.socket = socket
        self.bird = module.get_bin_path("bird", required=True, opt_dirs=["/usr/sbin", "/sbin"])
        self.birdc = module.get_bin_path("birdc", required=True, opt_dirs=["/usr/sbin", "/sbin"])

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


class Frr:
    name = "frr"
    default_dest = "/etc/frr/frr.conf"
    owner = group = "frr"

    def __init__(self, module, reload_path="/usr/lib/frr/frr-reload.py"):
        self.module = module
        self.vtysh = module.get_bin_path("vtysh", required=True)
        self.reload_path = reload_path

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
        family = "ipv6" if ":" in prefix else "ip"
        return parse_frr_route(self.show("show %s route %s json" % (family, prefix)) or "{}", prefix)

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
