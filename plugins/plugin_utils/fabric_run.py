# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run folder: one model computation shared by every task of a playbook run.

Ansible copies facts into every host's variables and walks all of them for
every task of every host, so fabric-sized facts make a run quadratic in the
number of hosts. Instead, anycast.fabric.fabric_facts (run once) computes the
model and writes it here, once:

    <run>/manifest.json         schema, host count, roles
    <run>/hosts/<key>.json      one host's intent (what fabric_intent is set from)
    <run>/paths/<key>.json      a ToR's or spine's expected-paths index
    <run>/uplinks/<key>.json    a ToR's address at each spine (undrain waits)
    <run>/rollout.json          hosts of each role in rack order, batch sizes
    <run>/intents.json          every intent (drain checks, plan report: once per play)

<key> is a digest of the host name, never the name itself. The folder is
made with mode 0700 inside Ansible's own local temporary folder for this
ansible-playbook process (DEFAULT_LOCAL_TMP, itself 0700), which the main
process removes at exit: a run keeps nothing behind, and a stale path (a
fact cache) fails with a clear message. Intents never hold the BGP key, and
nothing here writes it.

Action plugins, lookups and templating of task arguments run in forked worker
processes, so nothing they cache in memory survives to the next task: every
reader loads only the file it needs (one host's record for per-host uses,
which keeps per-host cost independent of the fabric's size). The small
in-process cache below only helps readers in one process (the main process
templating a play's hosts/serial, a loop in one worker); it is keyed by the
file's path, and files are never rewritten.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections import OrderedDict, defaultdict

from ansible_collections.anycast.fabric.plugins.plugin_utils.rollout import rollout

RUN_SCHEMA = 1
RUN_PREFIX = "anycast-fabric-run-"
ROLES = ("node", "tor", "spine")


class RunError(Exception):
    """The run folder is missing, stale or malformed."""


def host_key(name):
    """A file name for host NAME: a digest, so no host name can reach a path."""
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()


# Derived data -------------------------------------------------------------------


def path_index(intents):
    """{router: {prefix: [[peer, withdrawn_by or None], ...]}} for every ToR and spine.

    A path from PEER for PREFIX is expected unless every node of WITHDRAWN_BY
    is drained: for a node, its own VIPs; for a ToR, a VIP that only nodes
    holding it announce behind that ToR. Linear in the size of the intents:
    the ToR-side sets come from one pass over the nodes.
    """
    behind = defaultdict(list)  # (tor, prefix) -> nodes exporting it to the tor
    holders = defaultdict(list)  # (tor, prefix) -> those of them holding it as a VIP
    for name, intent in intents.items():
        if intent.get("role") != "node":
            continue
        vips = set(v["prefix"] for v in intent.get("vips", []))
        for peer in intent.get("peers", []):
            for prefix in peer.get("export", []):
                key = (peer["name"], prefix)
                if name not in behind[key]:
                    behind[key].append(name)
                    if prefix in vips:
                        holders[key].append(name)
    index = {}
    for name, intent in intents.items():
        if intent.get("role") not in ("tor", "spine"):
            continue
        entries = OrderedDict()
        for peer in intent.get("peers", []):
            if peer.get("role") == "upstream":
                continue  # outside the fabric: its routes are not the fabric's to count
            peer_intent = intents.get(peer["name"], {})
            node_vips = set(v["prefix"] for v in peer_intent.get("vips", [])) if peer.get("role") == "node" else set()
            for prefix in peer.get("accept", []):
                if peer.get("role") == "node":
                    withdrawn_by = [peer["name"]] if prefix in node_vips else None
                elif peer.get("role") == "tor":
                    key = (peer["name"], prefix)
                    vip_holders = holders.get(key, [])
                    withdrawn_by = sorted(vip_holders) if vip_holders and len(vip_holders) == len(behind[key]) else None
                else:
                    withdrawn_by = None
                slot = entries.setdefault(prefix, OrderedDict())
                if peer["name"] not in slot:
                    slot[peer["name"]] = withdrawn_by
        index[name] = dict((prefix, [[peer, by] for peer, by in slot.items()]) for prefix, slot in sorted(entries.items()))
    return index


def expected_from_index(index, drained=()):
    """{prefix: paths} for one router from its path_index entry and the drained nodes."""
    drained = set(drained)
    out = {}
    for prefix, entries in sorted(index.items()):
        count = sum(1 for _peer, by in entries if not (by and set(by) <= drained))
        if count:
            out[prefix] = count
    return out


def uplinks(intents):
    """{tor: {family: [[spine, the spine's address for that ToR], ...]}}."""
    out = defaultdict(lambda: defaultdict(list))
    for name, intent in sorted(intents.items()):
        if intent.get("role") != "spine":
            continue
        for peer in intent.get("peers", []):
            if peer.get("role") == "tor" and peer.get("address"):
                out[peer["name"]][peer["family"]].append([name, peer["address"]])
    return dict((tor, dict(families)) for tor, families in out.items())


# Writing -----------------------------------------------------------------------


def _dump(path, data):
    # O_EXCL: never follow or overwrite anything already there.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        # One write: json.dump would issue one per token.
        handle.write(json.dumps(data, sort_keys=True, separators=(",", ":")))


def write_run(intents, base):
    """Write a new run folder under BASE for INTENTS; return its path."""
    run = tempfile.mkdtemp(prefix=RUN_PREFIX, dir=base)  # mode 0700
    for sub in ("hosts", "paths", "uplinks"):
        os.mkdir(os.path.join(run, sub), 0o700)
    for name, intent in intents.items():
        _dump(os.path.join(run, "hosts", host_key(name) + ".json"), intent)
    for name, entry in path_index(intents).items():
        _dump(os.path.join(run, "paths", host_key(name) + ".json"), entry)
    for name, entry in uplinks(intents).items():
        _dump(os.path.join(run, "uplinks", host_key(name) + ".json"), entry)
    _dump(os.path.join(run, "rollout.json"), dict((role, rollout(intents, role)) for role in ROLES))
    _dump(os.path.join(run, "intents.json"), intents)
    roles = dict((role, sum(1 for i in intents.values() if i.get("role") == role)) for role in ROLES)
    # Last: a folder without its manifest is incomplete and never read.
    _dump(os.path.join(run, "manifest.json"), {"schema": RUN_SCHEMA, "hosts": len(intents), "roles": roles})
    return run


# Reading -----------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _load(path):
    with open(path) as handle:
        return json.load(handle)


def check_run(run):
    """Raise RunError unless RUN is a complete run folder of this schema."""
    if not isinstance(run, str) or not os.path.basename(os.path.normpath(run)).startswith(RUN_PREFIX):
        raise RunError("%r is not an anycast.fabric run folder: run the anycast.fabric.intent role first" % (run,))
    try:
        manifest = _load(os.path.join(run, "manifest.json"))
    except (OSError, ValueError):
        raise RunError(
            "the run folder %s is gone or incomplete: the fabric model is only kept while the ansible-playbook run"
            " that computed it lasts; run the anycast.fabric.intent role in this run" % run
        ) from None
    if manifest.get("schema") != RUN_SCHEMA:
        raise RunError("the run folder %s has schema %r, not %d" % (run, manifest.get("schema"), RUN_SCHEMA))
    return manifest


def _record(run, kind, name, default=None):
    check_run(run)
    path = os.path.join(run, kind, host_key(name) + ".json")
    try:
        return _load(path)
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as exc:
        raise RunError("cannot read %s: %s" % (path, exc)) from None


def intent(run, name):
    """Host NAME's intent, or None when NAME is not a fabric host."""
    return _record(run, "hosts", name)


def expected_paths(run, name, drained=()):
    """What router NAME should have installed: {prefix: paths} ({} for nodes)."""
    return expected_from_index(_record(run, "paths", name, default={}), drained)


def rollout_of(run, role="node"):
    check_run(run)
    return _load(os.path.join(run, "rollout.json"))[role]


def tor_uplinks(run, tor):
    return _record(run, "uplinks", tor, default={})


def intents(run):
    """Every intent: for controller-side, once-per-play uses only."""
    check_run(run)
    return _load(os.path.join(run, "intents.json"))
