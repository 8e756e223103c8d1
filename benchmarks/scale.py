# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: how anycast.fabric's controller-side work grows with the size of the fabric.

Generates fabrics of the shape of issue 14 (tests/shapes.py: racks of 20 nodes,
2 ToRs per rack, 2 spines per site, 25 racks per site, 5 VIPs and a pod CIDR
per node, dual stack, FQDN host names) and times, per size:

  model          plugins/plugin_utils/model/model.build() alone, in this process
  renderer       render.render() of every intent, in this process
  inventory      `ansible-playbook anycast.fabric.render -i INV --list-hosts`: Ansible reading the inventory,
                 which every run pays before its first task
  render         `ansible-playbook anycast.fabric.render -i INV -e fabric_render_dir=DIR`, end to end
  noop           one `ansible.builtin.debug` task on every fabric host: the floor Ansible itself sets
  rack           the render playbook with `--limit` to one rack (its ToRs and nodes)
  document       `ansible-playbook anycast.fabric.document -i INV -e fabric_docs_dir=DIR`, end to end: fabric.md,
                 the CSV files and topology.svg (laid out by Graphviz's dot) of the whole fabric
  site           site.yml's controller-side overhead (see --site-sizes): every play of site.yml (and of
                 what it imports) kept as it is, except that the tasks of plays that configure hosts
                 (`become: true`) are replaced by one no-op task; run in check mode with a local
                 connection. What it measures: the intent computation, the rollout order and its
                 rack-by-rack batches, and Ansible's own per-host cost in every play.

Each series: min and median of --reps runs (wall time of the whole run, ansible-playbook start-up
included). Writes benchmarks/results/scale.{json,md}: the table, the growth exponent of each series
(least-squares slope of log time against log nodes) and the render/no-op ratio per size.

    make bench-scale                                  # what the README quotes
    python benchmarks/scale.py --sizes 100,500 --reps 1
    python benchmarks/scale.py --series noop --sizes 5000 --reps 1 --merge   # add one series to the last results

Heavy: run it alone (`make bench-scale` takes /tmp/anycast-heavy.lock).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
COLLECTIONS = os.path.join(REPO, ".build", "collections")
ANSIBLE_BIN = os.path.join(REPO, ".venv", "bin")
# benchmarks/ is not part of the built collection; the shape generator lives with the tests.
for path in (COLLECTIONS, os.path.join(REPO, "tests")):
    if path not in sys.path:
        sys.path.insert(0, path)

import yaml  # noqa: E402  (after the path set-up above)

import shapes  # noqa: E402
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model  # noqa: E402
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render  # noqa: E402

SERIES = ("model", "renderer", "inventory", "render", "noop", "rack", "document", "site")
LABELS = {
    "model": "model.build",
    "renderer": "render.render, all hosts",
    "inventory": "inventory load (--list-hosts)",
    "render": "render playbook",
    "noop": "no-op play",
    "rack": "render, one rack (--limit)",
    "document": "document playbook",
    "site": "site.yml skeleton (check, local)",
}
TARGETS = [
    "render of 2,000 nodes under 15 s end to end, of 5,000 under 40 s",
    "one rack (--limit) of a 5,000-node fabric under 10 s",
    "model growth exponent at most 1.2",
    "render/no-op ratio not growing with size",
    "document of 2,000 nodes in seconds (issue 27)",
]


class Failed(Exception):
    pass


def ansible_env():
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_HOST_KEY_CHECKING="false",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        PATH="%s:%s" % (ANSIBLE_BIN, env.get("PATH", "")),
    )
    return env


def run(cmd, cwd, timeout):
    """Wall time of one command; Failed when it fails or times out."""
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=ansible_env(), capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise Failed("timed out after %d s" % timeout) from None
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-12:]
        raise Failed("exit %d: %s" % (proc.returncode, " | ".join(tail)[-1500:]))
    return elapsed


def summary(times):
    return {"runs": [round(t, 3) for t in times], "min": round(min(times), 3), "median": round(statistics.median(times), 3)}


def repeat(reps, step):
    return summary([step() for _rep in range(reps)])


def count_dirs(path):
    return sum(1 for entry in os.scandir(path) if entry.is_dir()) if os.path.isdir(path) else 0


def playbook_cmd(name, inventory, *extra, forks=None):
    cmd = [os.path.join(ANSIBLE_BIN, "ansible-playbook"), name, "-i", inventory, *extra]
    if forks:
        cmd += ["--forks", str(forks)]
    return cmd


# The site.yml skeleton ---------------------------------------------------------

NOOP_TASK = {"name": "Stand-in for the play's work on the host", "ansible.builtin.debug": {"msg": "stand-in"}}
HOST_WORK = ("tasks", "pre_tasks", "post_tasks", "roles", "handlers")


def _playbook_path(reference, base):
    if reference.startswith("anycast.fabric."):
        return os.path.join(REPO, "playbooks", reference.split(".", 2)[2] + ".yml")
    return reference if os.path.isabs(reference) else os.path.join(base, reference)


def site_skeleton(path=None, seen=None):
    """The plays of site.yml (imports flattened) with every host-configuring play's work replaced by a no-op."""
    path = path or os.path.join(REPO, "playbooks", "site.yml")
    seen = seen or []
    if path in seen or len(seen) > 10:
        raise Failed("import loop at %s" % path)
    with open(path) as handle:
        plays = yaml.safe_load(handle) or []
    out = []
    for play in plays:
        if "import_playbook" in play or "ansible.builtin.import_playbook" in play:
            target = play.get("import_playbook") or play.get("ansible.builtin.import_playbook")
            out += site_skeleton(_playbook_path(target, os.path.dirname(path)), seen + [path])
            continue
        play = copy.deepcopy(play)
        if play.get("become"):
            for key in HOST_WORK:
                play.pop(key, None)
            play["tasks"] = [NOOP_TASK]
        out.append(play)
    return out


# One size ----------------------------------------------------------------------


def measure_size(nodes, opts, series, workdir, result=None):
    """Measure SERIES at NODES nodes into RESULT (a size's entry; a new one when None); return it."""
    shape = shapes.scale_shape(nodes)
    fabric = shapes.generate(shape)
    inventory = os.path.join(workdir, "inventory")
    # Stand-ins: nothing in these runs may reach a real host.
    fabric.write(inventory, all_vars={"ansible_connection": "local", "ansible_python_interpreter": sys.executable})
    hostvars, groups = fabric.hostvars, fabric.groups
    hosts = len(hostvars)
    rack = next(iter(fabric.racks()))
    if result is None:
        result = {"nodes": nodes, "hosts": hosts, "shape": shape.describe(), "rack": rack, "rack_hosts": len(fabric.racks()[rack]), "series": {}, "failed": {}}
    print("== %d nodes (%d hosts): %s" % (nodes, hosts, shape.describe()), flush=True)

    def record(name, reps, step):
        try:
            result["series"][name] = repeat(reps, step)
            print("   %-34s %s" % (LABELS[name], result["series"][name]), flush=True)
        except Failed as error:
            result["failed"][name] = str(error)
            print("   %-34s FAILED: %s" % (LABELS[name], error), flush=True)

    intents = {}

    def step_model():
        start = time.monotonic()
        built, problems = model.build(copy.deepcopy(hostvars), groups)
        elapsed = time.monotonic() - start
        if problems:
            raise Failed("the generated fabric is invalid: %s" % "; ".join(problems.messages()[:5]))
        intents.update(built)
        return elapsed

    def step_renderer():
        if not intents:
            step_model()
        start = time.monotonic()
        for intent in intents.values():
            render.render(intent, password=shape.password)
        return time.monotonic() - start

    def step_render(limit=None):
        out = os.path.join(workdir, "rendered")
        shutil.rmtree(out, ignore_errors=True)
        extra = ["-e", "fabric_render_dir=./rendered"] + (["--limit", limit] if limit else [])
        elapsed = run(playbook_cmd("anycast.fabric.render", "inventory", *extra, forks=opts.forks), workdir, opts.timeout)
        want = result["rack_hosts"] if limit else hosts
        if count_dirs(out) < want:
            raise Failed("rendered %d host directories into ./rendered, expected %d" % (count_dirs(out), want))
        return elapsed

    def step_document():
        out = os.path.join(workdir, "docs")
        shutil.rmtree(out, ignore_errors=True)
        elapsed = run(playbook_cmd("anycast.fabric.document", "inventory", "-e", "fabric_docs_dir=./docs", forks=opts.forks), workdir, opts.timeout)
        try:
            with open(os.path.join(out, "hosts.csv")) as handle:
                listed = sum(1 for _line in handle) - 1
        except OSError as error:
            raise Failed("no hosts.csv in ./docs: %s" % error) from None
        picture = os.path.isfile(os.path.join(out, "topology.svg"))
        if listed != hosts or not picture:
            raise Failed("documented %d of %d hosts into ./docs%s" % (listed, hosts, "" if picture else ", no topology.svg"))
        return elapsed

    def step_inventory():
        return run(playbook_cmd("anycast.fabric.render", "inventory", "--list-hosts"), workdir, opts.timeout)

    def step_noop():
        return run(playbook_cmd(os.path.join(workdir, "noop.yml"), "inventory", forks=opts.forks), workdir, opts.timeout)

    def step_site():
        return run(playbook_cmd(os.path.join(workdir, "site-skeleton.yml"), "inventory", "--check", forks=opts.forks), workdir, opts.timeout)

    with open(os.path.join(workdir, "noop.yml"), "w") as handle:
        yaml.safe_dump([{"name": "No-op", "hosts": "fabric_nodes:fabric_tors:fabric_spines", "gather_facts": False, "tasks": [NOOP_TASK]}], handle)

    if "model" in series:
        record("model", opts.reps, step_model)
    if "renderer" in series:
        record("renderer", opts.reps, step_renderer)
    if "inventory" in series:
        record("inventory", opts.reps, step_inventory)
    if "render" in series:
        record("render", opts.reps, step_render)
    if "noop" in series and nodes <= opts.noop_max_nodes:
        record("noop", opts.noop_reps or opts.reps, step_noop)
    if "rack" in series:
        record("rack", opts.reps, lambda: step_render(limit=rack))
    if "document" in series:
        record("document", opts.reps, step_document)
    if "site" in series and nodes in opts.site_sizes:
        try:
            skeleton = site_skeleton()
        except (Failed, OSError, yaml.YAMLError) as error:
            result["failed"]["site"] = "cannot read playbooks/site.yml: %s" % error
        else:
            with open(os.path.join(workdir, "site-skeleton.yml"), "w") as handle:
                yaml.safe_dump(skeleton, handle, sort_keys=False)
            result["site_plays"] = len(skeleton)
            record("site", opts.site_reps, step_site)
    return result


# Results -----------------------------------------------------------------------


def exponent(points):
    """Least-squares slope of log(seconds) against log(nodes); None with fewer than two sizes."""
    points = [(n, t) for n, t in points if t and t > 0]
    if len(points) < 2:
        return None
    xs = [math.log(n) for n, _t in points]
    ys = [math.log(t) for _n, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return round(sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx, 2) if sxx else None


def analyse(result):
    sizes = sorted(result["sizes"].values(), key=lambda s: s["nodes"])
    result["exponents"] = {}
    result["measured_at_sizes"] = {}
    for name in SERIES:
        points = [(s["nodes"], s["series"][name]["median"]) for s in sizes if name in s["series"]]
        result["measured_at_sizes"][name] = [n for n, _t in points]
        result["exponents"][name] = exponent(points)
    result["render_noop_ratio"] = {
        str(s["nodes"]): round(s["series"]["render"]["median"] / s["series"]["noop"]["median"], 2)
        for s in sizes
        if "render" in s["series"] and "noop" in s["series"]
    }
    return result


def merge(old, new):
    """NEW's measurements, plus OLD's for the sizes and series NEW did not measure."""
    merged = copy.deepcopy(old)
    for key, size in new["sizes"].items():
        target = merged["sizes"].setdefault(key, {k: v for k, v in size.items() if k not in ("series", "failed")})
        target.setdefault("series", {}).update(copy.deepcopy(size["series"]))
        target.setdefault("failed", {})
        for name in size["series"]:
            target["failed"].pop(name, None)
            target.setdefault("measured", {})[name] = new["measured"]
        for name, why in size["failed"].items():
            if name not in target["series"]:
                target["failed"][name] = why
    for key in ("measured", "machine", "commit", "forks", "reps"):
        merged[key] = new[key]
    merged.setdefault("runs", []).append({k: new[k] for k in ("measured", "commit", "command")})
    return merged


def fmt(value):
    return "-" if value is None else ("%.2f" % value if value < 100 else "%.0f" % value)


def markdown(result):
    lines = [
        "# Scale benchmark (%s)" % result["measured"],
        "",
        "%s; ansible-playbook with %s forks; commit %s. Seconds, median of %s runs (min in parentheses);"
        % (result["machine"], result["forks"] or "default (5)", result["commit"], result["reps"]),
        "a whole ansible-playbook run each, start-up included. Shape (`tests/shapes.py`, `scale_shape`): racks of 20",
        "nodes, 25 racks per site, 2 ToRs per rack, 2 spines per site, 5 VIPs (3 IPv4, 2 IPv6) and a dual-stack pod",
        "CIDR pair per node, dual-stack sessions, BIRD and FRR nodes, FQDN host names.",
        "",
        "| nodes | hosts | %s | render / no-op |" % " | ".join(LABELS[s] for s in SERIES),
        "|---|---|%s---|" % ("---|" * len(SERIES)),
    ]
    for size in sorted(result["sizes"].values(), key=lambda s: s["nodes"]):
        cells = []
        for name in SERIES:
            entry = size["series"].get(name)
            if entry:
                cells.append("%s (%s)" % (fmt(entry["median"]), fmt(entry["min"])))
            elif name in size.get("failed", {}):
                cells.append("failed")
            else:
                cells.append("not run")
        ratio = result["render_noop_ratio"].get(str(size["nodes"]))
        lines.append("| %d | %d | %s | %s |" % (size["nodes"], size["hosts"], " | ".join(cells), fmt(ratio)))
    lines.append("| growth exponent | | %s | |" % " | ".join(fmt(result["exponents"].get(s)) for s in SERIES))
    lines += ["", "Measured at these sizes (nodes):", ""]
    for name in SERIES:
        at = result["measured_at_sizes"][name]
        lines.append("- %s: %s" % (LABELS[name], ", ".join(str(n) for n in at) if at else "not measured"))
    notes = []
    for size in sorted(result["sizes"].values(), key=lambda s: s["nodes"]):
        for name, why in sorted(size.get("failed", {}).items()):
            notes.append("- %s at %d nodes failed: %s" % (LABELS[name], size["nodes"], why[:600]))
        for name, when in sorted(size.get("measured", {}).items()):
            if when != result["measured"]:
                notes.append("- %s at %d nodes: measured %s (an earlier run, merged)" % (LABELS[name], size["nodes"], when))
    if notes:
        lines += ["", "Notes:", ""] + notes
    lines += [
        "",
        "One rack is the first rack of the first site (its 2 ToRs and 20 nodes). The site.yml skeleton keeps every",
        "play of site.yml and of what it imports but replaces the tasks of each play that configures hosts",
        "(`become: true`) with one no-op task; it runs in check mode against the same stand-in hosts",
        "(`ansible_connection: local`), once per size listed. The document playbook writes fabric.md, the CSV files and",
        "topology.svg (racks collapsed into boxes, laid out by Graphviz's dot) of the whole fabric.",
        "The growth exponent is the least-squares slope of log(median seconds) against log(nodes): 1 is linear.",
        "",
        "Targets (issue 14): " + "; ".join(TARGETS) + ".",
        "",
    ]
    return "\n".join(lines)


def git_commit():
    proc = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, check=False)
    return proc.stdout.strip() + ("+uncommitted changes" if dirty.stdout.strip() else "")


def sizes_arg(text):
    return [int(n) for n in text.split(",") if n.strip()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=sizes_arg, default=[100, 500, 2000, 5000], help="node counts, comma-separated (default 100,500,2000,5000)")
    parser.add_argument("--reps", type=int, default=3, help="runs per series and size (default 3)")
    parser.add_argument("--series", default=",".join(SERIES), help="which series, comma-separated (default all: %s)" % ",".join(SERIES))
    parser.add_argument("--noop-max-nodes", type=int, default=5000, help="skip the no-op play above this many nodes (it takes minutes)")
    parser.add_argument("--noop-reps", type=int, default=0, help="runs of the no-op play (default: --reps)")
    parser.add_argument("--site-sizes", type=sizes_arg, default=[2000], help="sizes at which to run the site.yml skeleton (default 2000; '' for none)")
    parser.add_argument("--site-reps", type=int, default=1, help="runs of the site.yml skeleton (default 1)")
    parser.add_argument("--forks", type=int, default=0, help="ansible-playbook --forks (default: Ansible's, 5)")
    parser.add_argument("--timeout", type=int, default=1800, help="give up on one ansible-playbook run after this many seconds")
    parser.add_argument("--merge", action="store_true", help="keep the earlier results for sizes and series not measured now")
    parser.add_argument("--results", default=RESULTS, help="where scale.json and scale.md go")
    opts = parser.parse_args()
    series = [s for s in opts.series.split(",") if s]
    unknown = set(series) - set(SERIES)
    if unknown:
        parser.error("unknown series: %s" % ", ".join(sorted(unknown)))

    result = {
        "benchmark": "scale",
        "measured": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": "%s, %d cores, Python %s, kernel %s" % (platform.node() or "host", os.cpu_count(), platform.python_version(), platform.release()),
        "commit": git_commit(),
        "forks": opts.forks or None,
        "reps": opts.reps,
        "command": " ".join(sys.argv),
        "targets": TARGETS,
        "sizes": {},
    }
    os.makedirs(opts.results, exist_ok=True)
    path = os.path.join(opts.results, "scale.json")
    earlier = None
    if opts.merge and os.path.exists(path):
        with open(path) as handle:
            earlier = json.load(handle)

    def save():
        current = copy.deepcopy(result)
        for size in current["sizes"].values():
            size["measured"] = {name: current["measured"] for name in size["series"]}
        if earlier is not None:
            current = merge(earlier, current)
        analyse(current)
        with open(path, "w") as handle:
            json.dump(current, handle, indent=2, sort_keys=True)
            handle.write("\n")
        text = markdown(current)
        with open(os.path.join(opts.results, "scale.md"), "w") as handle:
            handle.write(text)
        return text

    # The quick series at every size first, then the slow ones (the no-op play, the site.yml
    # skeleton): the results are saved after each step, so a run cut short still leaves them.
    phases = [[s for s in series if s not in ("noop", "site")], [s for s in series if s == "noop"], [s for s in series if s == "site"]]
    with tempfile.TemporaryDirectory(prefix="anycast-scale-") as workdir:
        for index, phase in enumerate(phases):
            for nodes in opts.sizes:
                if not phase or (phase == ["noop"] and nodes > opts.noop_max_nodes) or (phase == ["site"] and nodes not in opts.site_sizes):
                    continue
                folder = os.path.join(workdir, "%d-%d" % (nodes, index))
                os.makedirs(folder)
                result["sizes"][str(nodes)] = measure_size(nodes, opts, phase, folder, result["sizes"].get(str(nodes)))
                text = save()
    print(text)


if __name__ == "__main__":
    main()
