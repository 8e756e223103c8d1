# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The prefixes a GoBGP node originates, put into gobgpd's global RIB: the one reconcile of the module and the unit.

GoBGP's configuration has no static routes: anycast.fabric renders them as
the prefix-sets ORIGINATE-V4 / ORIGINATE-V6 of /etc/gobgpd.conf, and
reconcile() makes the global RIB hold exactly those, through the gobgp CLI
(which talks to gobgpd's gRPC API on 127.0.0.1:50051). Two callers:

- the routing_config module (_gobgp.py GoBGP.push), after every apply and
  rollback, with its own CLI runner (AnsibleModule.run_command);
- the node program roles/programs/files/gobgp-originate (installed by the
  routing role), the ExecStartPost of gobgpd.service: main() after every
  start (boot, crash, restart), when the RIB is empty. That program is this
  file plus a __main__ guard, built by scripts/build-node-programs.py; a unit
  test fails when it is stale.

Standard library only and no import from the collection: the node runs this
file on its own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import subprocess
import sys
import time

try:
    import tomllib
except ImportError:  # Python < 3.11 (Debian 12 nodes have 3.11)
    tomllib = None

ORIGINATE_SETS = {"ipv4": "ORIGINATE-V4", "ipv6": "ORIGINATE-V6"}
DEFAULT_CONFIG = "/etc/gobgpd.conf"
API_WAIT = 30  # seconds for a starting gobgpd's API to answer
CLI_TIMEOUT = 30  # seconds for one gobgp command


class RibError(Exception):
    pass


def load(text):
    """The TOML TEXT as a dict, or None when it cannot be read (or tomllib is missing)."""
    if tomllib is None or not text:
        return None
    try:
        return tomllib.loads(text)
    except ValueError:
        return None


def prefix_sets(config):
    """{name: [prefix, ...]} of the file's prefix-sets."""
    sets = config.get("defined-sets", {}).get("prefix-sets", [])
    return dict((s.get("prefix-set-name"), [p.get("ip-prefix") for p in s.get("prefix-list", [])]) for s in sets)


def originated(config):
    """{family: [prefix, ...]} the file says the node originates."""
    sets = prefix_sets(config)
    return dict((fam, sets.get(name, [])) for fam, name in ORIGINATE_SETS.items())


def parse_rib(text):
    """`gobgp global rib -a FAMILY -j` or `... adj-out -j` -> the prefixes in it, sorted."""
    data = json.loads(text) if isinstance(text, str) and text.strip() else {}
    return sorted(data.keys()) if isinstance(data, dict) else []


def reconcile(config, cli):
    """Make the global RIB hold exactly the ORIGINATE prefixes of CONFIG; return the commands run.

    CLI(*words) runs `gobgp WORDS...` and returns its standard output, or
    raises (the caller's error) when the command fails: a failure stops the
    reconcile there.
    """
    commands = []
    for family, wanted in sorted(originated(config).items()):
        present = parse_rib(cli("global", "rib", "-a", family, "-j"))
        for prefix in sorted(set(wanted) - set(present)):
            cli("global", "rib", "-a", family, "add", prefix, "origin", "igp")
            commands.append("gobgp global rib -a %s add %s origin igp" % (family, prefix))
        for prefix in sorted(set(present) - set(wanted)):
            cli("global", "rib", "-a", family, "del", prefix)
            commands.append("gobgp global rib -a %s del %s" % (family, prefix))
    return commands


def wait_for_api(cli, timeout=API_WAIT, sleep=time.sleep, clock=time.time):
    """Wait until `gobgp global -j` answers (a starting gobgpd opens its API a moment after the unit started)."""
    deadline = clock() + timeout
    while True:
        try:
            cli("global", "-j")
            return
        except RibError:
            pass
        if clock() > deadline:
            raise RibError("gobgpd's API did not answer within %d s" % timeout)
        sleep(0.5)


def run_gobgp(*words):
    """The node's CLI runner: `gobgp WORDS...` (found on PATH), its standard output; RibError when it fails."""
    command = ["gobgp"] + list(words)
    proc = failure = None
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        failure = "%s: %s" % (" ".join(command), exc)
    if failure is not None:
        raise RibError(failure)
    if proc.returncode != 0:
        raise RibError("%s failed: %s" % (" ".join(command), (proc.stderr or proc.stdout).strip()))
    return proc.stdout


def main(argv, cli=run_gobgp, wait=wait_for_api):
    """The node program: reconcile the RIB with the file ARGV[0] (default /etc/gobgpd.conf); 0 or the error's text."""
    path = argv[0] if argv else DEFAULT_CONFIG
    try:
        with open(path, "rb") as handle:
            config = load(handle.read().decode("utf-8"))
        if config is None:
            raise RibError("cannot read %s as TOML (Python 3.11's tomllib is needed)" % path)
        wait(cli)
        for command in reconcile(config, cli):
            sys.stdout.write(command + "\n")  # to the journal
    except (RibError, IOError, OSError, UnicodeDecodeError) as exc:
        return "gobgp-originate: %s" % exc
    return 0
