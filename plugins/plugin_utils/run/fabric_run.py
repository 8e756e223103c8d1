# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run folder: one model computation shared by every task of a playbook run.

Ansible copies facts into every host's variables and walks all of them for
every task of every host, so fabric-sized facts make a run quadratic in the
number of hosts. Instead, anycast.fabric.fabric_facts (run once) computes the
model and writes it here, once:

    <run>/manifest.json         schema, host count, roles
    <run>/hosts/<key>.json      one host's intent, Intent.to_dict() (what fabric_intent is set from)
    <run>/paths/<key>.json      a ToR's or spine's expected-paths entry (rollout.path_entry)
    <run>/uplinks/<key>.json    a ToR's address at each spine (undrain waits)
    <run>/rack_mates/<key>.json a node's rack-mates and their addresses (zero-reset drain)
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
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, Optional

from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import ROLES as INTENT_ROLES
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import Intent

from ansible_collections.anycast.fabric.plugins.plugin_utils.ops.rollout import count_paths, path_index, rollout

RUN_SCHEMA = 1
RUN_PREFIX = "anycast-fabric-run-"
ROLES = INTENT_ROLES  # the run folder counts hosts per fabric role


class RunError(Exception):
    """The run folder is missing, stale or malformed."""


def host_key(name: str) -> str:
    """A file name for host NAME: a digest, so no host name can reach a path."""
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()


# Derived data -------------------------------------------------------------------


def uplinks(intents: Mapping[str, Intent]) -> dict[str, dict[str, list[list[str]]]]:
    """{tor: {family: [[spine, the spine's address for that ToR], ...]}}."""
    out: defaultdict[str, defaultdict[str, list[list[str]]]] = defaultdict(lambda: defaultdict(list))
    for name, intent in sorted(intents.items()):
        if intent.role != "spine":
            continue
        for peer in intent.peers_of("tor"):
            out[peer.name][peer.family].append([name, peer.address])
    return dict((tor, dict(families)) for tor, families in out.items())


def rack_mates(intents: Mapping[str, Intent | Mapping[str, Any]]) -> dict[str, list[dict[str, str]]]:
    """{node: [{name, ipv4, ipv6}, ...]}: the other nodes of its site and rack, by name, addresses without length.

    One pass over the nodes (grouped by rack), then each node's list: the zero-reset
    drain's tables (module drain_keep) forward to, and hear heartbeats from, these.
    INTENTS: records or their dict form (the drain_keep_peers filter's input).
    """

    def get(intent: Intent | Mapping[str, Any], key: str) -> Any:
        return intent.get(key) if isinstance(intent, Mapping) else getattr(intent, key)

    racks: defaultdict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for name, intent in sorted(intents.items()):
        if get(intent, "role") == "node" and get(intent, "rack"):
            address4, address6 = get(intent, "ipv4") or "", get(intent, "ipv6") or ""
            racks[(get(intent, "site"), get(intent, "rack"))].append(
                {"name": name, "ipv4": str(address4).split("/", 1)[0], "ipv6": str(address6).split("/", 1)[0]}
            )
    out: dict[str, list[dict[str, str]]] = {}
    for members in racks.values():
        for member in members:
            out[member["name"]] = [m for m in members if m["name"] != member["name"]]
    return out


# Writing -----------------------------------------------------------------------


def _dump(path: str, data: object) -> None:
    # O_EXCL: never follow or overwrite anything already there.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        # One write: json.dump would issue one per token.
        handle.write(json.dumps(data, sort_keys=True, separators=(",", ":")))


def write_run(intents: Mapping[str, Intent], base: str) -> str:
    """Write a new run folder under BASE for INTENTS ({host: model.intent.Intent}); return its path."""
    run = tempfile.mkdtemp(prefix=RUN_PREFIX, dir=base)  # mode 0700
    for sub in ("hosts", "paths", "uplinks", "rack_mates"):
        os.mkdir(os.path.join(run, sub), 0o700)
    plain = dict((name, intent.to_dict()) for name, intent in intents.items())
    for name, intent in plain.items():
        _dump(os.path.join(run, "hosts", host_key(name) + ".json"), intent)
    for name, entry in path_index(intents).items():
        _dump(os.path.join(run, "paths", host_key(name) + ".json"), entry)
    for name, entry in uplinks(intents).items():
        _dump(os.path.join(run, "uplinks", host_key(name) + ".json"), entry)
    for name, mates in rack_mates(intents).items():
        _dump(os.path.join(run, "rack_mates", host_key(name) + ".json"), mates)
    _dump(os.path.join(run, "rollout.json"), dict((role, rollout(intents, role)) for role in ROLES))
    _dump(os.path.join(run, "intents.json"), plain)
    roles = dict((role, sum(1 for i in intents.values() if i.role == role)) for role in ROLES)
    # Last: a folder without its manifest is incomplete and never read.
    _dump(os.path.join(run, "manifest.json"), {"schema": RUN_SCHEMA, "hosts": len(intents), "roles": roles})
    return run


# Reading -----------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _load(path: str) -> Any:
    with open(path) as handle:
        return json.load(handle)


def find_run(variables: Optional[Mapping[str, Any]]) -> str:
    """The run folder from a task's variables: the host's fabric_run, else localhost's."""
    variables = variables or {}
    run = variables.get("fabric_run")
    if not run:
        try:
            run = variables["hostvars"]["localhost"]["fabric_run"]
        except (KeyError, TypeError):
            run = None
    if not run:
        raise RunError("no fabric_run: run the anycast.fabric.intent role (or anycast.fabric.fabric_facts) first")
    return str(run)


def check_run(run: object) -> dict[str, Any]:
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
    if not isinstance(manifest, dict) or manifest.get("schema") != RUN_SCHEMA:
        shown = manifest.get("schema") if isinstance(manifest, dict) else manifest
        raise RunError("the run folder %s has schema %r, not %d" % (run, shown, RUN_SCHEMA))
    return manifest


def _record(run: str, kind: str, name: str, default: Any = None) -> Any:
    check_run(run)
    path = os.path.join(run, kind, host_key(name) + ".json")
    try:
        return _load(path)
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as exc:
        raise RunError("cannot read %s: %s" % (path, exc)) from None


def intent(run: str, name: str) -> Optional[dict[str, Any]]:
    """Host NAME's intent (its dict form: what fabric_intent is set from), or None when NAME is not a fabric host."""
    record: Optional[dict[str, Any]] = _record(run, "hosts", name)
    return record


def expected_paths(run: str, name: str, drained: Iterable[str] = ()) -> dict[str, int]:
    """What router NAME should have installed: {prefix: paths} ({} for nodes).

    The same count as the expected_paths filter (rollout.count_paths), from
    the router's entry that write_run stored (rollout.path_index).
    """
    return count_paths(_record(run, "paths", name, default={}), drained)


def rollout_of(run: str, role: str = "node") -> Any:
    check_run(run)
    return _load(os.path.join(run, "rollout.json"))[role]


def tor_uplinks(run: str, tor: str) -> Any:
    return _record(run, "uplinks", tor, default={})


def node_rack_mates(run: str, node: str) -> Any:
    """Node NODE's rack-mates as rack_mates() listed them ([] for a node alone in its rack, or not a node)."""
    return _record(run, "rack_mates", node, default=[])


def intents(run: str) -> Any:
    """Every intent: for controller-side, once-per-play uses only."""
    check_run(run)
    return _load(os.path.join(run, "intents.json"))
