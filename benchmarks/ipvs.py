# -*- coding: utf-8 -*-
"""Benchmark: anycast.fabric.ipvs with 1,000 virtual services, against a per-service command loop.

IPVS needs a real kernel with ip_vs, which this machine lacks, so the
benchmark boots the lab VM (lab/vm/start.sh: Debian 12's cloud kernel under
plain QEMU TCG, no KVM) and drives it over SSH like any managed host, with
Debian's own ipvsadm 1.31 and Python. TCG emulates the guest CPU, so every
number here is several times slower than on real hardware; the ratios hold.

Writes benchmarks/results/ipvs.{json,md}.

    python benchmarks/ipvs.py --count 1000      # (make bench-ipvs)
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
COLLECTIONS = os.path.join(REPO, ".build", "collections")
VM_TOOLS = os.path.join(REPO, "lab", "vm")


def services(count, weight=1):
    """count TCP services on distinct VIPs, two masqueraded real servers each."""
    out = []
    for i in range(count):
        vip = "198.51.%d.%d" % (100 + i // 250, 1 + i % 250)
        backends = ["10.%d.%d.%d" % (64 + i // 250, i % 250, n) for n in (2, 3)]
        out.append(
            {
                "protocol": "tcp",
                "address": vip,
                "port": 80,
                "scheduler": "wrr",
                "real_servers": [{"address": backends[0], "port": 8080, "weight": 1}, {"address": backends[1], "port": 8080, "weight": weight}],
            }
        )
    return out


class Vm(object):
    def __init__(self, state):
        self.state = state
        proc = subprocess.run([os.path.join(VM_TOOLS, "start.sh"), state, "--name", "ipvs-bench"], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.exit("cannot start the lab VM:\n" + proc.stderr[-3000:])
        self.info = json.loads(proc.stdout.strip().splitlines()[-1])
        self.inventory = os.path.join(state, "inventory.json")
        host = {
            "ansible_host": self.info["address"],
            "ansible_port": self.info["port"],
            "ansible_user": self.info["user"],
            "ansible_ssh_private_key_file": self.info["identity_file"],
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
            "ansible_python_interpreter": "/usr/bin/python3",
        }
        with open(self.inventory, "w") as handle:
            json.dump({"all": {"hosts": {"vm": host}}}, handle)

    def ssh(self, command, stdin=None):
        cmd = ["ssh", "-i", self.info["identity_file"], "-p", str(self.info["port"]), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
        cmd += ["-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "%s@%s" % (self.info["user"], self.info["address"]), command]
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.exit("%s failed in the VM:\n%s" % (command, proc.stderr[-3000:]))
        return proc.stdout

    def stop(self):
        subprocess.run([os.path.join(VM_TOOLS, "stop.sh"), self.state], check=False)


def playbook(path, tasks, extra_vars=None):
    play = {"hosts": "vm", "gather_facts": False, "tasks": tasks}
    if extra_vars:
        play["vars"] = extra_vars
    with open(path, "w") as handle:
        json.dump([play], handle)


def timed_run(vm, path, expect_changed=None):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_PIPELINING="1", ANSIBLE_HOST_KEY_CHECKING="0")
    env["PATH"] = ANSIBLE_BIN + os.pathsep + env.get("PATH", "")
    cmd = [os.path.join(ANSIBLE_BIN, "ansible-playbook"), path, "-i", vm.inventory]
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit("benchmark step failed:\n" + proc.stdout[-3000:] + proc.stderr[-3000:])
    if expect_changed is not None:
        assert ("changed=0" not in proc.stdout) == expect_changed, proc.stdout[-2000:]
    return elapsed


def plan_in_process(count):
    """The module's pure logic (validate, parse -S, plan, batch) for count services, natively on the controller."""
    sys.path.insert(0, COLLECTIONS)
    # These need the collections farm (.build/collections on sys.path).
    from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.desired import normalize_services
    from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.parse import parse_save
    from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.plan import plan
    from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.render import dump

    start = time.monotonic()
    desired = normalize_services(services(count))
    first = plan(desired, {}, [])
    current = parse_save(dump(desired))
    again = plan(normalize_services(services(count, weight=0)), current, list(desired))
    elapsed = time.monotonic() - start
    assert len(first.commands) == 3 * count and len(again.commands) == count
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--loop-count", type=int, default=20, help="services for the command-loop comparison (extrapolated to --count)")
    opts = parser.parse_args()
    count = opts.count
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        boot_start = time.monotonic()
        vm = Vm(os.path.join(tmp, "vm"))
        boot = time.monotonic() - boot_start
        try:
            vm.ssh("apt-get install -y -q --no-install-recommends ipvsadm >/dev/null")
            kernel = vm.ssh("uname -r").strip()
            module = os.path.join(tmp, "module.json")

            playbook(module, [{"ansible.builtin.ping": {}}])
            rows["baseline: one ping task (Ansible + SSH + Python start-up)"] = timed_run(vm, module)

            def ipvs_task(specs, **args):
                return [{"anycast.fabric.ipvs": dict(services="{{ bench_services }}", owner="bench", purge=True, **args)}], {"bench_services": specs}

            tasks, extra = ipvs_task(services(count))
            playbook(module, tasks, extra)
            rows["module: create %d services (%d real servers)" % (count, 2 * count)] = timed_run(vm, module, expect_changed=True)
            listed = vm.ssh("ipvsadm -S -n | grep -c '^-A'").strip()
            assert int(listed) == count, listed
            rows["module: re-run, no change"] = timed_run(vm, module, expect_changed=False)

            tasks, extra = ipvs_task(services(count, weight=0))
            playbook(module, tasks, extra)
            rows["module: drain one real server in every service (%d edits)" % count] = timed_run(vm, module, expect_changed=True)

            tasks, extra = ipvs_task([])
            playbook(module, tasks, extra)
            rows["module: purge %d services" % count] = timed_run(vm, module, expect_changed=True)
            assert vm.ssh("ipvsadm -S -n | grep -c '^-A' || true").strip() == "0"

            # What the module's batch costs the kernel and ipvsadm alone.
            batch = "".join(
                "-A -t %s:80 -s wrr\n" % s["address"] + "".join("-a -t %s:80 -r %s:8080 -m -w 1\n" % (s["address"], r["address"]) for r in s["real_servers"])
                for s in services(count)
            )
            out = vm.ssh("cat >/tmp/batch; s=$(date +%s.%N); ipvsadm -R </tmp/batch; m=$(date +%s.%N); ipvsadm -S -n >/dev/null; e=$(date +%s.%N); "
                         "echo $s $m $e; ipvsadm -C", stdin=batch)
            s, m, e = (float(x) for x in out.split())
            rows["ipvsadm -R of the %d-line batch, in the VM" % batch.count("\n")] = m - s
            rows["ipvsadm -S -n of %d services, in the VM" % count] = e - m

            # The hand-written alternative: one task iteration per service.
            loop = os.path.join(tmp, "loop.json")
            items = services(opts.loop_count)
            cmd = "ipvsadm -A -t {{ item.address }}:80 -s wrr && " + " && ".join(
                "ipvsadm -a -t {{ item.address }}:80 -r {{ item.real_servers[%d].address }}:8080 -m -w 1" % n for n in (0, 1)
            )
            playbook(loop, [{"ansible.builtin.shell": cmd, "loop": items, "changed_when": True}])
            loop_time = timed_run(vm, loop)
            vm.ssh("ipvsadm -C")
        finally:
            vm.stop()

    per_item = (loop_time - rows["baseline: one ping task (Ansible + SSH + Python start-up)"]) / opts.loop_count
    rows["command loop: %d services, one task iteration each" % opts.loop_count] = loop_time
    create_key = "module: create %d services (%d real servers)" % (count, 2 * count)
    extrapolated = per_item * count
    result = {
        "benchmark": "ipvs",
        "count": count,
        "seconds": {k: round(v, 3 if v < 1 else 2) for k, v in rows.items()},
        "module_logic_in_process_seconds": round(plan_in_process(count), 3),
        "command_loop_extrapolated_seconds": round(extrapolated, 1),
        "speedup_create": round(extrapolated / rows[create_key], 1),
        "vm_boot_seconds": round(boot, 1),
        "machine": "%s, %d cores, Python %s, controller kernel %s; managed host: QEMU TCG VM, Debian 12, kernel %s, ipvsadm 1.31"
        % (platform.node() or "host", os.cpu_count(), platform.python_version(), platform.release(), kernel),
        "measured": time.strftime("%Y-%m-%d"),
        "note": "wall time of a whole ansible-playbook run (start-up and SSH included), one run each; "
        "the VM is emulated (TCG), so absolute times are pessimistic",
    }
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "ipvs.json"), "w") as handle:
        json.dump(result, handle, indent=2)
        handle.write("\n")
    lines = ["# ipvs benchmark (%s)" % result["measured"], "", result["machine"] + ".", "", result["note"] + ".", "", "| step | seconds |", "|---|---|"]
    lines += ["| %s | %s |" % (k, v) for k, v in result["seconds"].items()]
    lines += [
        "",
        "The module's own logic (validate, parse `ipvsadm -S -n`, plan, build the batch) for %d services takes %.3f s natively on the controller."
        % (count, result["module_logic_in_process_seconds"]),
        "A command loop would need about %.0f s for %d services (%.2f s per service, measured over %d); the module creates them %.1fx faster, in one task."
        % (extrapolated, count, per_item, opts.loop_count, result["speedup_create"]),
        "",
    ]
    with open(os.path.join(RESULTS, "ipvs.md"), "w") as handle:
        handle.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
