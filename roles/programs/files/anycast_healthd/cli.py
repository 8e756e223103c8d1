# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The command line: run the agent, --status, --withdraw-all, --withdraw, --check-config."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time

from anycast_healthd import VERSION
from anycast_healthd.agent import Agent, publish_snapshot, read_state
from anycast_healthd.announcer import Interface, IpError
from anycast_healthd.config import DEFAULT_CONFIG, DEFAULT_STATE_FILE, ConfigError, host_route, load_config

LOG = logging.getLogger("anycast-healthd")


def format_age(seconds):
    seconds = int(max(seconds, 0))
    if seconds < 60:
        return "%ds" % seconds
    if seconds < 3600:
        return "%dm%02ds" % divmod(seconds, 60)
    hours, rest = divmod(seconds, 3600)
    return "%dh%02dm" % (hours, rest // 60)


def pid_alive(pid):
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        # A killed agent whose parent has not reaped it yet is a zombie: dead.
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def format_status(state, now, present=None):
    """The per-VIP table `--status` prints."""
    alive = state.get("running") and pid_alive(state.get("pid"))
    age = format_age(now - state["updated"])
    if alive:
        head = "anycast-healthd %s: running (pid %s) on %s, updated %s ago" % (state.get("version"), state.get("pid"), state.get("interface"), age)
    elif state.get("running"):
        head = "anycast-healthd: NOT running (pid %s is gone; state from %s ago; systemd withdraws its VIPs)" % (state.get("pid"), age)
    else:
        head = "anycast-healthd: stopped %s ago; its VIPs were withdrawn" % age
    rows = [("VIP", "NAME", "STATE", "SINCE", "FALLS", "PENALTY", "CHECKS")]
    for vip in state["vips"]:
        if vip["announced"]:
            status = "announced"
        elif vip["healthy"] and vip["suppressed"]:
            status = "held down (%s left)" % format_age(vip["hold_left_s"])
        else:
            status = "withdrawn"
        if present is not None and (vip["prefix"] in present) != vip["announced"]:
            status += " [on %s: %s]" % (state.get("interface"), "yes" if vip["prefix"] in present else "no")
        checks = "; ".join(_check_summary(c) for c in vip["checks"])
        since = format_age(now - vip["last_change"]) + " ago"
        rows.append((vip["prefix"], vip.get("name") or "-", status, since, str(vip["falls"]), "%.0f" % vip["penalty"], checks))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = [head] + ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1] for row in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _check_summary(check):
    if check["up"]:
        latency = " (%.1f ms)" % check["latency_ms"] if check["latency_ms"] is not None else ""
        return "%s up%s" % (check["name"], latency)
    return "%s DOWN (%s)" % (check["name"], check["error"] or "?")


def withdraw_all(config_path, interface=None):
    """What systemd's ExecStopPost runs after every exit of the agent, SIGKILL included.

    The VIPs come from the configuration; if that is unreadable, from the last
    state file, so that a broken configuration cannot leave a VIP announced.
    """
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        LOG.error("withdraw-all: %s; falling back to the state file %s", exc, DEFAULT_STATE_FILE)
        state = read_state(DEFAULT_STATE_FILE) or {"vips": []}
        config = {"interface": state.get("interface") or "lo", "state_file": DEFAULT_STATE_FILE, "metrics_textfile": None, "vips": []}
        prefixes = [v.get("prefix") for v in state["vips"] if isinstance(v, dict) and v.get("prefix")]
    else:
        prefixes = [v["prefix"] for v in config["vips"]]
    iface = Interface(interface or config["interface"])
    try:
        removed = iface.withdraw(prefixes)
    except IpError as exc:
        LOG.error("withdraw-all: %s", exc)
        return 1
    for prefix in removed:
        LOG.warning("vip %s: WITHDRAWN (agent stopped)", prefix)
    LOG.info("withdraw-all: %d of %d managed VIP(s) were on %s and are withdrawn", len(removed), len(prefixes), iface.name)
    # Say so in the state file and the textfile: a dead agent must not look healthy.
    state = read_state(config["state_file"])
    if state is not None:
        state["running"], state["updated"] = False, time.time()
        for vip in state["vips"]:
            if vip.get("announced"):
                vip["announced"], vip["last_change"] = False, time.time()
                vip["transitions"] = vip.get("transitions", 0) + 1
        publish_snapshot(config, state)
    return 0


def setup_logging(verbose=False):
    handler = logging.StreamHandler(sys.stdout)
    if os.environ.get("JOURNAL_STREAM"):
        # journald adds the time; a <N> prefix sets the syslog priority.
        priorities = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}

        class Journal(logging.Formatter):
            def format(self, record):
                return "<%d>%s" % (priorities.get(record.levelno, 6), super().format(record))

        handler.setFormatter(Journal("%(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    LOG.handlers[:] = [handler]
    LOG.setLevel(logging.DEBUG if verbose else logging.INFO)
    LOG.propagate = False


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="anycast-healthd", description="Announce anycast VIPs only while their health checks pass.")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="JSON configuration (default: %(default)s)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--status", action="store_true", help="print the per-VIP state of the running agent")
    mode.add_argument("--withdraw-all", action="store_true", help="withdraw every configured VIP (systemd ExecStopPost)")
    mode.add_argument("--withdraw", nargs="+", metavar="PREFIX", help="withdraw these VIPs (ones that left the configuration)")
    mode.add_argument("--check-config", action="store_true", help="validate the configuration and exit")
    parser.add_argument("--interface", help="with --withdraw/--withdraw-all: the interface (default: the configuration's)")
    parser.add_argument("--json", action="store_true", help="with --status: print the state as JSON")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--version", action="version", version="anycast-healthd " + VERSION)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging(args.verbose)
    if args.withdraw_all:
        return withdraw_all(args.config, args.interface)
    if args.withdraw:
        try:
            prefixes = [host_route(p) for p in args.withdraw]
            removed = Interface(args.interface or "lo").withdraw(prefixes)
        except (ConfigError, IpError) as exc:
            LOG.error("withdraw: %s", exc)
            return 1
        for prefix in removed:
            print("withdrew %s" % prefix)
        return 0
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        LOG.error("configuration: %s", exc)
        return 2
    if args.check_config:
        print("%s: %d VIP(s), %d check(s) on %s" % (args.config, len(config["vips"]), sum(len(v["checks"]) for v in config["vips"]), config["interface"]))
        return 0
    if args.status:
        return show_status(config, args.json)
    return serve(config)


def show_status(config, as_json):
    state = read_state(config["state_file"])
    if state is None:
        print("anycast-healthd: no state in %s (not running?)" % config["state_file"])
        return 3
    if as_json:
        print(json.dumps(state, indent=2, sort_keys=True))
    else:
        try:
            present = Interface(state.get("interface") or config["interface"]).addresses()
        except IpError:
            present = None
        sys.stdout.write(format_status(state, time.time(), present))
    return 0 if state.get("running") and pid_alive(state.get("pid")) else 3


def serve(config):
    agent = Agent(config)

    def on_signal(signum, _frame):
        LOG.info("signal %d: stopping", signum)
        agent.stopping.set()
        agent.wake.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        agent.start()
        agent.run()
    except IpError as exc:
        LOG.error("%s", exc)
        agent.stop()
        return 1
    except BaseException:
        # Whatever went wrong, leave nothing announced behind.
        agent.stop()
        raise
    agent.stop()
    LOG.info("stopped; every managed VIP is withdrawn")
    return 0


def run():
    """The zipapp's entry point (python3 -m zipapp -m anycast_healthd.cli:run)."""
    sys.exit(main())
