# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""drain_keep against the real kernel: a rack in network namespaces (root, nft, Linux with nft_dup).

    client ── tor ──┬── r (rack-mate: drain_keep's tables)
                    └── d (draining: drain_keep's heartbeat)

Both r and d hold the VIP (IPv4 and IPv6) and run a line-echo service
answering with their name. The client opens a connection to d; the tor moves
the VIP's route to r (as a ToR moves a drained node's flows): while d's
heartbeat runs, every line is still answered by d (r forwards the flow's
packets, destination unchanged) and a new connection is answered by r. When
the heartbeat stops, r stops forwarding within the timeout and the old
connection is reset (as without the tables), not left hanging. Skipped
without root, network namespaces, nft or a writable /proc/sys.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import sys
import time

import pytest

from ansible_collections.anycast.fabric.plugins.modules import drain_keep as module

P = "dk%d" % os.getpid()
NS = {name: "%s-%s" % (P, name) for name in ("cl", "tor", "r", "d")}
VIP4, VIP6 = "198.51.100.80", "2001:db8::80"
ADDR = {"r": ("10.0.1.11", "fd00:1::11"), "d": ("10.0.1.12", "fd00:1::12")}

ECHO = r"""
import socket, sys, threading
name = sys.argv[1].encode()
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 7000)); s.listen(64)
def serve(c):
    while True:
        try:
            data = c.recv(100)
        except OSError:
            return
        if not data:
            c.close(); return
        c.send(name + b" " + data)
while True:
    c, _a = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""

# Connects, then every 0.1 s sends a line and prints the answering node, or RESET/TIMEOUT and stops; until killed.
CLIENT = r"""
import socket, sys, time
target = sys.argv[1]
c = socket.socket(socket.AF_INET6 if ":" in target else socket.AF_INET)
c.settimeout(8); c.connect((target, 7000))
i = 0
while True:
    i += 1
    try:
        c.send(b"%d" % i)
        data = c.recv(100)
        print(data.split()[0].decode() if data else "EOF", flush=True)
        if not data:
            break
    except socket.timeout:
        print("TIMEOUT", flush=True); break
    except OSError:
        print("RESET %.2f" % time.time(), flush=True); break
    time.sleep(0.1)
"""


def sh(*args, check=True):
    return subprocess.run(list(args), capture_output=True, text=True, check=check)


def nsx(ns, *args, check=True):
    return sh("ip", "netns", "exec", NS[ns], *args, check=check)


def _usable():
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("nft"):
        return "needs root, iproute2 and nft"
    probe = "%s-probe" % P
    if sh("ip", "netns", "add", probe, check=False).returncode != 0:
        return "no network namespaces here"
    try:
        if sh("ip", "netns", "exec", probe, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward", check=False).returncode:
            return "/proc/sys is read-only here"
        text = "table ip t { chain c { type filter hook prerouting priority mangle; ct state new dup to 10.0.0.1; }; }"
        if sh("ip", "netns", "exec", probe, "nft", text, check=False).returncode:
            return "no nft_dup / nft_ct in this kernel"
    finally:
        sh("ip", "netns", "del", probe, check=False)
    return None


SKIP = _usable()
pytestmark = pytest.mark.skipif(SKIP is not None, reason=SKIP or "")


@pytest.fixture
def rack():
    procs = []
    try:
        for ns in NS.values():
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", "c0", "netns", NS["cl"], "type", "veth", "peer", "name", "t0", "netns", NS["tor"])
        for cmd in (["addr", "add", "10.0.100.10/24", "dev", "c0"], ["addr", "add", "fd00:100::10/64", "dev", "c0", "nodad"],
                    ["link", "set", "c0", "up"], ["route", "add", "default", "via", "10.0.100.1"],
                    ["-6", "route", "add", "default", "via", "fd00:100::1"]):
            sh("ip", "-n", NS["cl"], *cmd)
        for cmd in (["addr", "add", "10.0.100.1/24", "dev", "t0"], ["addr", "add", "fd00:100::1/64", "dev", "t0", "nodad"],
                    ["link", "set", "t0", "up"], ["link", "add", "br0", "type", "bridge"], ["link", "set", "br0", "up"],
                    ["addr", "add", "10.0.1.1/24", "dev", "br0"], ["addr", "add", "fd00:1::1/64", "dev", "br0", "nodad"]):
            sh("ip", "-n", NS["tor"], *cmd)
        nsx("tor", "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/ipv6/conf/all/forwarding")
        for name in ("r", "d"):
            v4, v6 = ADDR[name]
            sh("ip", "link", "add", "e" + name, "netns", NS[name], "type", "veth", "peer", "name", "p" + name, "netns", NS["tor"])
            sh("ip", "-n", NS["tor"], "link", "set", "p" + name, "master", "br0", "up")
            for cmd in (["addr", "add", v4 + "/24", "dev", "e" + name], ["addr", "add", v6 + "/64", "dev", "e" + name, "nodad"],
                        ["link", "set", "e" + name, "up"], ["route", "add", "default", "via", "10.0.1.1"],
                        ["-6", "route", "add", "default", "via", "fd00:1::1"],
                        ["addr", "add", VIP4 + "/32", "dev", "lo"], ["addr", "add", VIP6 + "/128", "dev", "lo"]):
                sh("ip", "-n", NS[name], *cmd)
            procs.append(subprocess.Popen(["ip", "netns", "exec", NS[name], sys.executable, "-c", ECHO, name]))
        # r: the tables as drain_keep renders them, d its only rack-mate.
        peers = module.normalise_peers([{"name": "d", "ipv4": ADDR["d"][0], "ipv6": ADDR["d"][1]}])
        text = module.render([ipaddress.ip_address(VIP4), ipaddress.ip_address(VIP6)], peers, 4787, 2)
        subprocess.run(["ip", "netns", "exec", NS["r"], "nft", "-f", "-"], input=module.load_script(text), text=True, check=True)
        route("d")
        time.sleep(1.5)  # the echo services, IPv6 neighbours
        yield procs
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        for ns in NS.values():
            sh("ip", "netns", "del", ns, check=False)


def route(node):
    sh("ip", "-n", NS["tor"], "route", "replace", VIP4 + "/32", "via", ADDR[node][0])
    sh("ip", "-n", NS["tor"], "-6", "route", "replace", VIP6 + "/128", "via", ADDR[node][1])


def client(target):
    return subprocess.Popen(["ip", "netns", "exec", NS["cl"], sys.executable, "-c", CLIENT, target], stdout=subprocess.PIPE, text=True)


def lines(proc):
    proc.kill()
    return proc.communicate()[0].split("\n")


def test_open_connections_stay_on_the_draining_node_new_ones_go_to_the_rack_mate_and_its_death_resets(rack):
    old = [client(VIP4), client(VIP6)]
    time.sleep(1)
    pairs = ["%s>%s" % (ADDR["d"][i], ADDR["r"][i]) for i in (0, 1)]
    heartbeat = subprocess.Popen(["ip", "netns", "exec", NS["d"], sys.executable, "-c", module.HEARTBEAT_PROGRAM, "4787", "0.2"] + pairs)
    rack.append(heartbeat)
    try:
        time.sleep(0.6)
        route("r")
        time.sleep(2)
        new = [client(VIP4), client(VIP6)]
        time.sleep(1)
        answers = [lines(proc) for proc in new]
        assert all(a[0] == "r" and "RESET" not in " ".join(a) for a in answers), answers
    finally:
        heartbeat.kill()
        heartbeat.wait()
    died = time.time()
    time.sleep(4)
    for proc in old:
        out = [line for line in lines(proc) if line]
        # Only d answered until the heartbeat stopped; then r's reset, within the timeout and a retransmission.
        assert out[:-1] and set(out[:-1]) == {"d"}, out
        assert out[-1].startswith("RESET"), out
        assert float(out[-1].split()[1]) - died < 3.5, out
