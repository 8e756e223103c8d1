# -*- coding: utf-8 -*-
"""The failover benchmark's orchestration: the lab's layout, and driving it (containers, playbooks, faults).

Everything here changes or waits for the lab; failover_measure.py reads it,
failover_events.py combines both into the events, failover_report.py turns
their results into rows. The entry point is failover.py.
"""

import glob
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
VIP = "198.51.100.80"
PREFIX = VIP + "/32"
PROBE = os.path.join(REPO, "lab", "probe.py")
EXTRA_VARS = {"lab_dual_stack": False, "lab_health": True}
NODE_ADDRESS = {"n1": "10.90.1.11", "n2": "10.90.1.12", "n3": "10.90.2.11", "n4": "10.90.2.12"}
NODE_TOR = {"n1": "tor1", "n2": "tor1", "n3": "tor2", "n4": "tor2"}
# Scenario failover: rack r1 has a ToR pair (tor1, tor1b) holding the nodes'
# gateway by VRRP (molecule/failover/prepare.yml), so spine1 has three paths.
PAIR = ("tor1", "tor1b")
GATEWAY = {"tor1": "10.90.1.254", "tor2": "10.90.2.2"}
UPLINK = {"tor1": "10.90.0.11", "tor1b": "10.90.0.13", "tor2": "10.90.0.12"}
SPINE_PATHS = 3
TARGETS = {"service": 1500, "silent": 1000, "drain": 0}
# Scenario longlived's extra vars (molecule/longlived/molecule.yml): BFD off there.
LL_EXTRA_VARS = dict(EXTRA_VARS, tor_resilient_ecmp=True, fabric_bgp={"password": "lab-md5-key", "bfd": False})

# ---------------------------------------------------------------- faults of the daemons and the nodes (scenario failover)
MARKER = "64999:16"  # the harmless export community of apply_interrupted's candidate
CONFIRM_TIMEOUT = 15  # birdc configure ... timeout in apply_interrupted
DARK_S = 5  # how long tor_dark keeps the ToR's links down
QUIET_S = 65  # frr_kill_tor: seconds without a session error before the kill (> error_forget_time)
BIRD_CONF = "/etc/bird/bird.conf"
HEALTHD_CONFIG = "/etc/anycast-fabric/healthd.json"
UNIT_CHECK = '"unit": "lab-http.service"'  # lab_unit_health's check, as n1's agent configuration holds it
RESTART_S = 4  # service_unit: systemd restarts the killed lab-http this long after (RestartSec, a runtime drop-in)

# Two sites (scenario global): client-a, near site a, is measured.
SITE_A = ("a1", "a2")

# ---------------------------------------------------------------- long-lived connections (scenario longlived)
LL_NODES = {"n1": "10.90.1.11", "n2": "10.90.1.12", "n5": "10.90.1.13", "n3": "10.90.2.11", "n4": "10.90.2.12"}
LL_TOR = {"n1": "tor1", "n2": "tor1", "n5": "tor1", "n3": "tor2", "n4": "tor2"}
LL_ROUTERS = ["spine1", "tor1", "tor2"]
LL_AGENT = "anycast-resilient-ecmp"


def sh(*args, check=True, **kwargs):
    proc = subprocess.run(list(args), capture_output=True, text=True, check=False, **kwargs)
    if check and proc.returncode != 0:
        sys.exit("failed: %s\n%s%s" % (" ".join(args), proc.stdout[-3000:], proc.stderr[-3000:]))
    return proc


def docker(*args, check=True):
    return sh("docker", *args, check=check)


def env():
    out = dict(os.environ)
    # FABRIC_COLLECTIONS_PATH first, as in .config/molecule/config.yml.
    paths = [os.environ.get("FABRIC_COLLECTIONS_PATH"), os.path.join(REPO, ".build", "collections")]
    out["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(p for p in paths if p)
    out["PATH"] = os.path.join(REPO, ".venv", "bin") + os.pathsep + out["PATH"]
    out.setdefault("ANSIBLE_FORCE_COLOR", "false")
    return out


def inventory(scenario):
    found = sorted(glob.glob(os.path.expanduser("~/.ansible/tmp/molecule.*.%s/inventory" % scenario)), key=os.path.getmtime)
    if not found:
        sys.exit("no molecule inventory for scenario %s: run `molecule converge -s %s` first (make bench-failover does)" % (scenario, scenario))
    return found[-1]


def playbook(name, *extra, scenario="failover"):
    extra_vars = {"failover": EXTRA_VARS, "longlived": LL_EXTRA_VARS}.get(scenario, {})
    args = ["ansible-playbook", "-i", inventory(scenario), "--extra-vars", json.dumps(extra_vars)]
    for item in extra:
        args += ["--extra-vars", item]
    return sh(*(args + ["anycast.fabric." + name]), env=env())


def wait_for(what, condition, timeout=120):
    start = time.time()
    while time.time() - start < timeout:
        if condition():
            return time.time() - start
        time.sleep(0.2)
    sys.exit("gave up waiting for %s after %d s" % (what, timeout))


def restart_frr(host):
    """A fresh frr.service (and watchfrr) on HOST, past the unit's start limit (Debian: 3 starts in 3 min)."""
    docker("exec", host, "systemctl", "reset-failed", "frr")
    docker("exec", host, "systemctl", "restart", "frr")


def set_links(router, state):
    """Every link of ROUTER but lo down or up: from its peers' side, a power loss (no NOTIFICATION, no withdrawal)."""
    docker("exec", router, "sh", "-c", 'for l in $(ls /sys/class/net); do [ "$l" = lo ] || ip link set dev "$l" %s; done' % state)


def lab_boot(node):
    """What a real node's own configuration does at boot and a container lacks (molecule/shared/containers.yml)."""
    docker("exec", node, "mount", "-o", "remount,rw", "/proc/sys")
    docker("exec", node, "ip", "route", "replace", "10.90.100.0/24", "via", GATEWAY[NODE_TOR[node]])


def routing_config(node, content, *extra):
    """anycast.fabric.routing_config on NODE (ad hoc), the routing role's apply step."""
    params = dict(daemon="bird", content=content, backup=False, session_wait=12, settle_time=10, confirm_timeout=CONFIRM_TIMEOUT)
    return ["ansible", node, "-i", inventory("failover"), "-m", "anycast.fabric.routing_config", "-a", json.dumps(params)] + list(extra)


def ll_agent(running):
    """Start or stop the resilient ECMP agent on every router (its stop falls back to main)."""
    for router in LL_ROUTERS:
        docker("exec", router, "systemctl", "start" if running else "stop", LL_AGENT)
    if running:
        def mirrored():
            return all(json.loads(docker("exec", r, "ip", "-json", "route", "show", "table", "200").stdout or "[]") for r in LL_ROUTERS)
        wait_for("the agent's routes on every router", mirrored, 30)
