# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GoBGP (gobgpd 3.x) on a managed host: gobgpd -d, SIGHUP, the RIB of originated prefixes, and `gobgp neighbor -j`.

GoBGP's configuration has no static routes. The rendered file lists what the
node originates in the prefix-sets ORIGINATE-V4 / ORIGINATE-V6; after every
apply (and rollback) the global RIB is reconciled with them through the gobgp
CLI (which talks to gobgpd's gRPC API on 127.0.0.1:50051) by _gobgp_rib.py,
the same code the node runs when gobgpd starts (gobgp-originate). GoBGP re-reads its
file on SIGHUP, but applies a changed [global] section only when restarted,
and a changed export policy only reaches the peers after a soft reset out.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import re

from ansible_collections.anycast.fabric.plugins.module_utils._daemon_identity import GOBGP
from ansible_collections.anycast.fabric.plugins.module_utils._daemon import Daemon, DaemonError, State

# The RIB of originated prefixes, shared with the node program gobgp-originate.
# tomllib is None before Python 3.11 (Debian 12 nodes have 3.11): gobgpd -d alone checks the file then.
from ansible_collections.anycast.fabric.plugins.module_utils._gobgp_rib import load, parse_rib, prefix_sets, reconcile, tomllib

AFI = {1: "ipv4", 2: "ipv6"}
# apipb.SessionState
SESSION_STATES = {0: "Unknown", 1: "Idle", 2: "Connect", 3: "Active", 4: "OpenSent", 5: "OpenConfirm", 6: "Established"}
COMMUNITY_RE = re.compile(r"^\d+:\d+$")
LARGE_COMMUNITY_RE = re.compile(r"^\d+:\d+:\d+$")
RELOAD_WAIT = 15  # seconds for gobgpd to show the new file after SIGHUP or a restart


def session_changes(before_text, after_text):
    """(global changed, neighbor addresses whose settings changed) between two gobgpd.conf texts; None if unreadable.

    gobgpd applies defined-set and policy changes in place on SIGHUP and
    updates a changed neighbor (which may reconnect); a changed [global]
    section needs a restart, which resets every session.
    """
    before, after = load(before_text), load(after_text)
    if before is None or after is None:
        return None

    def neighbors(config):
        return dict((item.get("config", {}).get("neighbor-address"), item) for item in config.get("neighbors", []))

    old, new = neighbors(before), neighbors(after)
    changed = set(address for address in old if address in new and old[address] != new[address])
    return before.get("global", {}).get("config") != after.get("global", {}).get("config"), changed


def semantic_problems(config):
    """What gobgpd -d does not check but gobgpd would only log at runtime: dangling names, bad prefixes, bad communities."""
    problems = []
    sets = prefix_sets(config)
    for name, prefixes in sets.items():
        for prefix in prefixes:
            try:
                ipaddress.ip_network(prefix)
            except ValueError:
                problems.append("prefix-set %s: %r is not a network" % (name, prefix))
    policies = set()
    for policy in config.get("policy-definitions", []):
        policies.add(policy.get("name"))
        for statement in policy.get("statements", []):
            conditions = statement.get("conditions", {})
            wanted = conditions.get("match-prefix-set", {}).get("prefix-set")
            if wanted is not None and wanted not in sets:
                problems.append("policy %s: prefix-set %s is not defined" % (policy.get("name"), wanted))
            actions = statement.get("actions", {}).get("bgp-actions", {})
            for key, regex in (("set-community", COMMUNITY_RE), ("set-large-community", LARGE_COMMUNITY_RE)):
                method = actions.get(key, {}).get("%s-method" % key, {})
                for value in method.get("communities-list", []):
                    if not regex.match(str(value)):
                        problems.append("policy %s: %s %r is not a community" % (policy.get("name"), key, value))
    applied = config.get("global", {}).get("apply-policy", {}).get("config", {})
    for key in ("import-policy-list", "export-policy-list"):
        for name in applied.get(key, []):
            if name not in policies:
                problems.append("global %s: policy %s is not defined" % (key, name))
    return problems


def export_view(config):
    """The file's global export policies: [(policy, [(statement, prefix-set, communities, large communities)])]."""
    definitions = dict((p.get("name"), p) for p in config.get("policy-definitions", []))
    view = []
    for name in config.get("global", {}).get("apply-policy", {}).get("config", {}).get("export-policy-list", []):
        statements = []
        for statement in definitions.get(name, {}).get("statements", []):
            actions = statement.get("actions", {}).get("bgp-actions", {})
            statements.append(
                (
                    statement.get("name"),
                    statement.get("conditions", {}).get("match-prefix-set", {}).get("prefix-set"),
                    sorted(actions.get("set-community", {}).get("set-community-method", {}).get("communities-list", [])),
                    sorted(actions.get("set-large-community", {}).get("set-large-community-method", {}).get("communities-list", [])),
                )
            )
        view.append((name, statements))
    return view


def parse_export_policy(text):
    """`gobgp global policy export -j` -> the same shape as export_view()."""
    data = json.loads(text) if isinstance(text, str) and text.strip() else {}
    view = []
    for policy in (data or {}).get("policies") or []:
        statements = []
        for statement in policy.get("statements") or []:
            actions = statement.get("actions") or {}
            statements.append(
                (
                    statement.get("name"),
                    ((statement.get("conditions") or {}).get("prefix_set") or {}).get("name"),
                    sorted((actions.get("community") or {}).get("communities") or []),
                    sorted((actions.get("large_community") or {}).get("communities") or []),
                )
            )
        view.append((policy.get("name"), statements))
    return view


def _dry_run_message(text):
    """gobgpd -d logs JSON lines; keep their errors in words."""
    messages = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            if line.strip():
                messages.append(line.strip())
            continue
        if isinstance(entry, dict) and entry.get("level") in ("fatal", "error", "warning"):
            messages.append(("%s: %s" % (entry.get("msg", ""), entry.get("Error", ""))).strip(": "))
    return "\n".join(messages)


def parse_neighbors(text):
    """`gobgp neighbor -j` -> sessions (bgp_state's shape), one per neighbor and enabled family."""
    data = json.loads(text) if isinstance(text, str) else text
    sessions = []
    for neighbor in data or []:
        conf, state = neighbor.get("conf") or {}, neighbor.get("state") or {}
        code = state.get("session_state", 0)
        established = code == 6
        uptime = ((neighbor.get("timers") or {}).get("state") or {}).get("uptime", {}).get("seconds")
        opens = ((state.get("messages") or {}).get("received") or {}).get("open", 0)
        families = []
        for afi_safi in neighbor.get("afi_safis") or []:
            family = (afi_safi.get("config") or afi_safi.get("state") or {}).get("family") or {}
            if family.get("safi", 1) == 1 and family.get("afi") in AFI:
                families.append(AFI[family["afi"]])
        address = conf.get("neighbor_address") or state.get("neighbor_address")
        for family in families or ["ipv6" if ":" in (address or "") else "ipv4"]:
            sessions.append(
                dict(
                    name=conf.get("description") or address,
                    peer=address,
                    peer_as=conf.get("peer_asn") or state.get("peer_asn"),
                    local_as=conf.get("local_asn"),
                    family=family,
                    state=SESSION_STATES.get(code, str(code)),
                    established=established,
                    since=str(uptime) if established and uptime is not None else None,
                    # The time it was established and how many OPENs came in:
                    # both change when the session re-establishes.
                    generation="%s/%s" % (uptime, opens),
                    prefixes_received=None,
                    prefixes_sent=None,
                    bfd=None,
                    last_error=None,
                )
            )
    return sorted(sessions, key=lambda s: (s["peer"] or "", s["family"]))


class GoBGP(Daemon):
    identity = GOBGP
    secret_res = (re.compile(r'(\bauth-password\s*=\s*")[^"]*(")'),)  # auth-password = "key"
    options = {}

    def __init__(self, module):
        super(GoBGP, self).__init__(module)
        # Both may be missing on a node being planned before its first run
        # (check mode): validate() and running() say so instead of failing here.
        self.gobgp = module.get_bin_path("gobgp")
        self.gobgpd = module.get_bin_path("gobgpd", opt_dirs=["/usr/sbin", "/sbin"])

    @classmethod
    def present(cls, module):
        return module.get_bin_path("gobgpd", opt_dirs=["/usr/sbin", "/sbin"]) is not None

    def cli(self, *words):
        if self.gobgp is None:
            raise DaemonError("gobgp (the CLI of Debian package gobgpd) is not installed")
        rc, out, err = self.module.run_command([self.gobgp] + list(words))
        if rc != 0:
            raise DaemonError("gobgp %s failed: %s" % (" ".join(words), (err or out).strip()))
        return out

    # Reading -------------------------------------------------------------

    def running(self):
        if self.gobgp is None:
            return False
        rc, out, _err = self.module.run_command([self.gobgp, "global", "-j"])
        return rc == 0 and out.strip().startswith("{")

    def validate(self, path):
        if self.gobgpd is None:
            if self.module.check_mode:
                # A new node being planned: the routing role installs gobgpd first.
                self.module.warn("gobgpd is not installed yet: the configuration was not validated")
                return True, ""
            return False, "gobgpd is not installed (Debian package gobgpd)"
        rc, out, err = self.module.run_command([self.gobgpd, "-f", path, "-d"])
        if rc != 0:
            return False, _dry_run_message(out + "\n" + err) or (out + err).strip()
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
        config = load(text)
        if config is None:
            return True, "" if tomllib is None else "gobgpd -d accepted the file, but it is not TOML Python can read"
        problems = semantic_problems(config)
        return not problems, "\n".join(problems)

    def state(self):
        return State(parse_neighbors(self.cli("neighbor", "-j") or "[]"))

    def exports(self, session):
        return parse_rib(self.cli("neighbor", session["peer"], "adj-out", "-a", session["family"], "-j"))

    # Applying ------------------------------------------------------------

    def signal_reload(self):
        """SIGHUP to gobgpd's main process: it re-reads its file (Debian's ExecReload runs `gobgpd -r`, which does not)."""
        systemctl = self.module.get_bin_path("systemctl", required=True)
        rc, out, err = self.module.run_command([systemctl, "kill", "--kill-whom=main", "--signal=SIGHUP", self.service])
        if rc != 0:
            raise DaemonError("systemctl kill --signal=SIGHUP %s failed: %s" % (self.service, (err or out).strip()))

    def restart(self):
        systemctl = self.module.get_bin_path("systemctl", required=True)
        rc, out, err = self.module.run_command([systemctl, "restart", self.service])
        if rc != 0:
            raise DaemonError("systemctl restart %s failed: %s" % (self.service, (err or out).strip()))

    def loaded(self, config):
        """Whether gobgpd shows CONFIG's neighbors, prefix-sets and export policies (a SIGHUP is handled asynchronously)."""
        try:
            live_sets = json.loads(self.cli("policy", "prefix", "-j") or "[]") or []
            live_neighbors = json.loads(self.cli("neighbor", "-j") or "[]") or []
            live_export = parse_export_policy(self.cli("global", "policy", "export", "-j"))
        except (DaemonError, ValueError):
            return False
        if live_export != export_view(config):
            return False
        have = dict((s.get("name"), sorted(p.get("ip_prefix") for p in s.get("prefixes") or [])) for s in live_sets)
        want = dict((name, sorted(prefixes)) for name, prefixes in prefix_sets(config).items())
        addresses = set((n.get("conf") or {}).get("neighbor_address") for n in live_neighbors)
        wanted = set(item.get("config", {}).get("neighbor-address") for item in config.get("neighbors", []))
        return have == want and addresses == wanted

    def wait_loaded(self, config):
        import time

        deadline = time.time() + RELOAD_WAIT
        while time.time() < deadline:
            if self.running() and self.loaded(config):
                return
            time.sleep(0.5)
        raise DaemonError("gobgpd did not show the new configuration within %ds (see journalctl -u %s)" % (RELOAD_WAIT, self.service))

    def reconcile(self, config):
        """Make the global RIB hold exactly the ORIGINATE prefixes of CONFIG (_gobgp_rib.reconcile); return the commands run."""
        return reconcile(config, self.cli)

    def push(self, text, old_text):
        """Make the running gobgpd match TEXT (the file now in place): SIGHUP or restart, RIB, soft reset out."""
        config = load(text)
        if config is None:
            raise DaemonError("cannot read the configuration as TOML (Python 3.11's tomllib is needed on the host)")
        changes = session_changes(old_text, text)
        if changes is None or changes[0]:
            # A new [global] (ASN, router id, policy assignment) is only read at start.
            self.restart()
        else:
            self.signal_reload()
        self.wait_loaded(config)
        commands = self.reconcile(config)
        # A changed export policy (communities, GSHUT) reaches the peers only
        # with a soft reset out; it does not reset the session.
        for neighbor in config.get("neighbors", []):
            self.cli("neighbor", neighbor["config"]["neighbor-address"], "softresetout")
        return commands

    def apply(self, tx, candidate, old, before):
        """Install, SIGHUP (or restart), reconcile the RIB, post-check; on failure restore the previous file the same way."""
        with open(candidate, "rb") as handle:
            text = handle.read().decode("utf-8")
        tx.install(candidate, old)
        try:
            tx.result["commands"] = self.push(text, old)
        except DaemonError as exc:
            broken, after = [str(exc)], None
        else:
            tx.result["reloaded"] = True
            broken, after = tx.post_check(before)
        if broken and tx.params["rollback"]:
            tx.restore_file(old)
            if old is not None:
                self.push(old, text)
            _ignored, after = tx.post_check(before, settle=0)
            tx.finish(before, after)
            tx.fail("apply failed, restored %s and reloaded gobgpd with it: %s" % (tx.dest, "; ".join(broken)), broken=broken, rolled_back=True)
        if after is None:
            after = self.state()
        tx.finish(before, after)
        if broken:
            tx.fail("apply failed (rollback disabled): %s" % "; ".join(broken), broken=broken)
