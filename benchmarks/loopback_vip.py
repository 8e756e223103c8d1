# -*- coding: utf-8 -*-
"""Benchmark: anycast.fabric.loopback_vip against an `ip addr add` command loop.

Runs in a private network namespace on this machine's kernel (root needed),
with the managed-host interpreter /usr/bin/python3 and Debian's pyroute2.
Writes benchmarks/results/loopback_vip.{json,md}.

    make bench-vips            # or: python3 benchmarks/loopback_vip.py --count 1000
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
ANSIBLE_BIN = os.path.join(REPO, ".venv", "bin")


def vip_list(count):
    return ["198.51.%d.%d" % (100 + i // 250, 1 + i % 250) for i in range(count)]


def playbook(path, tasks):
    with open(path, "w") as handle:
        json.dump([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}], handle)


def timed_run(netns, path):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"), ANSIBLE_NOCOLOR="1")
    cmd = ["ip", "netns", "exec", netns, os.path.join(ANSIBLE_BIN, "ansible-playbook"), path, "-i", "localhost,", "-c", "local"]
    cmd += ["-e", "ansible_python_interpreter=/usr/bin/python3"]
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit("benchmark step failed:\n" + proc.stdout[-3000:] + proc.stderr[-3000:])
    return elapsed, proc.stdout


def addresses_on_lo(netns):
    out = subprocess.run(["ip", "netns", "exec", netns, "ip", "-o", "addr", "show", "dev", "lo"], capture_output=True, text=True, check=True).stdout
    return len(out.splitlines())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    opts = parser.parse_args()
    vips = vip_list(opts.count)
    netns = "afab-bench-%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", netns], check=True)
    rows = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            state = os.path.join(tmp, "state")
            module = {"anycast.fabric.loopback_vip": {"addresses": vips, "purge": True, "state_dir": state}}
            path = os.path.join(tmp, "module.json")
            playbook(path, [module])
            rows["module: add %d" % opts.count] = timed_run(netns, path)[0]
            assert addresses_on_lo(netns) >= opts.count
            rows["module: re-run, no change"], out = timed_run(netns, path)
            assert "changed=0" in out, out
            playbook(path, [{"anycast.fabric.loopback_vip": {"addresses": [], "purge": True, "state_dir": state}}])
            rows["module: purge %d" % opts.count] = timed_run(netns, path)[0]

            # The hand-written alternative: one command task per address.
            loop = os.path.join(tmp, "loop.json")
            playbook(loop, [{"ansible.builtin.command": "ip addr add {{ item }}/32 dev lo", "loop": vips, "changed_when": True}])
            rows["command loop: add %d" % opts.count] = timed_run(netns, loop)[0]
    finally:
        subprocess.run(["ip", "netns", "delete", netns], check=False)

    add_key, loop_key = "module: add %d" % opts.count, "command loop: add %d" % opts.count
    result = {
        "benchmark": "loopback_vip",
        "count": opts.count,
        "seconds": {k: round(v, 2) for k, v in rows.items()},
        "speedup_add": round(rows[loop_key] / rows[add_key], 1),
        "machine": "%s, %d cores, Python %s, kernel %s" % (platform.node() or "host", os.cpu_count(), platform.python_version(), platform.release()),
        "measured": time.strftime("%Y-%m-%d"),
        "note": "wall time of a whole ansible-playbook run (start-up included), one run each",
    }
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "loopback_vip.json"), "w") as handle:
        json.dump(result, handle, indent=2)
        handle.write("\n")
    lines = ["# loopback_vip benchmark (%s)" % result["measured"], "", result["machine"] + "; " + result["note"] + ".", "", "| step | seconds |", "|---|---|"]
    lines += ["| %s | %.2f |" % (k, v) for k, v in result["seconds"].items()]
    lines += ["", "The module adds %d VIPs %.1fx faster than the `ansible.builtin.command` loop." % (opts.count, result["speedup_add"]), ""]
    with open(os.path.join(RESULTS, "loopback_vip.md"), "w") as handle:
        handle.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
