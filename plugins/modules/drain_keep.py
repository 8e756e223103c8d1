#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: drain_keep
short_description: Keep a draining node's open connections alive through its rack-mates (zero-reset drain)
version_added: 0.3.0
description:
  - When a drain takes a node out of its ToRs' ECMP, the ToRs hand its flows to its rack-mates, which have no
    socket for them and answer with a reset. With this module a rack-mate forwards such a packet (TCP to one of its
    VIPs, no SYN, no connection of its own) unchanged, destination still the VIP, to the draining node over the rack
    segment; the draining node answers the client directly. New connections stay on the rack-mate.
  - V(ready), on every node (the C(anycast.fabric.vips) role does it when the node is configured), loads the nftables tables
    C(ip anycast_fabric_keep) and C(ip6 anycast_fabric_keep) (the file O(config_dir)C(/keep.nft), loaded at boot by
    C(anycast-fabric-keep.service)). They forward nothing while no rack-mate sends heartbeats. A rule of the
    prerouting chain (priority C(mangle), after conntrack, before kube-proxy's DNAT) takes TCP packets to O(vips)
    without SYN that start no tracked connection (conntrack C(new), or C(invalid) with FIN or RST) and, while a
    rack-mate of O(peers) is alive, duplicates them to it (C(dup to ADDRESS), which sends the copy to that next hop) and drops the original.
  - A rack-mate is alive while its heartbeats (UDP to O(port), from its address of O(peers)) arrive; each one
    refreshes an element of a set with a timeout of O(timeout) seconds. When the draining node dies or its
    heartbeat stops, the rack-mates stop forwarding within O(timeout) seconds and answer its clients with resets,
    as without this module; never a black hole.
  - V(heartbeat), on the draining node, starts a transient systemd unit C(anycast-fabric-keep-heartbeat) that sends a heartbeat
    every O(interval) seconds from O(source) to every address of O(peers). V(stopped) stops it. V(absent) stops it
    and removes the tables, their file and their boot unit.
  - One draining node per rack at a time. With two, orphans go to the first alive one in O(peers) order, and the
    other's clients get resets (the C(anycast.fabric.drain) playbook refuses a second one).
author:
  - anycast.fabric contributors (@anycast-fabric)
options:
  state:
    description:
      - V(ready) installs the tables, V(heartbeat) starts the heartbeat, V(stopped) stops it, V(absent) removes both.
    type: str
    choices: [ready, heartbeat, stopped, absent]
    default: ready
  vips:
    description:
      - V(ready) the node's VIPs (a prefix length is ignored); only packets to them are forwarded.
    type: list
    elements: str
    default: []
  peers:
    description:
      - The node's rack-mates (not the node itself), each with C(name) and its addresses on the rack segment,
        C(ipv4) and C(ipv6) (either may be empty; a prefix length is ignored).
      - V(ready) the rack-mates it may forward to (each must be on a segment of the node, not behind a router),
        in order of preference; V(heartbeat) the rack-mates the heartbeats go to.
    type: list
    elements: dict
    default: []
  source:
    description:
      - V(heartbeat) this node's own addresses on the rack segment, C(ipv4) and C(ipv6), the heartbeats' sources.
    type: dict
    default: {}
  port:
    description: The heartbeats' UDP port.
    type: int
    default: 4787
  interval:
    description: V(heartbeat) seconds between heartbeats.
    type: float
    default: 0.5
  timeout:
    description:
      - V(ready) seconds a rack-mate stays alive after its last heartbeat (then its clients get resets, as without
        this module). More than twice O(interval).
    type: int
    default: 2
  config_dir:
    description: Where the tables' file is kept (C(keep.nft)).
    type: path
    default: /etc/anycast-fabric
extends_documentation_fragment:
  - anycast.fabric.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    support: full
    platforms: posix
requirements:
  - nftables (C(nft)) 0.9+ and a kernel with C(nft_dup_ipv4), C(nft_dup_ipv6), C(nft_ct) and conntrack
  - systemd (the heartbeat's transient unit, the tables' boot unit)
notes:
  - Connection tracking must see a rack-mate's own connections before a heartbeat arrives, or their packets would
    look like orphans. The tables (their C(ct) expressions turn conntrack on in the network namespace) are
    therefore installed when the node is configured, not at drain time; RV(created) says they were not there.
"""

EXAMPLES = r"""
- name: Let the node's rack-mates hand it their orphans while they drain (every node, when configured)
  anycast.fabric.drain_keep:
    state: ready
    vips: "{{ fabric_intent.vips | map(attribute='address') | list }}"
    peers: "{{ lookup('anycast.fabric.fabric_data', 'rack_mates') }}"

- name: Draining, keep the open connections alive through the rack-mates
  anycast.fabric.drain_keep:
    state: heartbeat
    source: { ipv4: "{{ fabric_intent.ipv4 }}", ipv6: "{{ fabric_intent.ipv6 }}" }
    peers: "{{ lookup('anycast.fabric.fabric_data', 'rack_mates') }}"

- name: Drained, stop it
  anycast.fabric.drain_keep:
    state: stopped
"""

RETURN = r"""
created:
  description: V(ready) the tables were not loaded before (connections the node already held are not tracked yet).
  returned: always
  type: bool
  sample: false
rules:
  description: V(ready) the tables as loaded (nft syntax).
  returned: when O(state=ready)
  type: str
devices:
  description: V(ready) the interface through which each rack-mate's address is reached.
  returned: when O(state=ready)
  type: dict
  sample: {"10.90.1.12": "eth1"}
heartbeat:
  description: The heartbeat's command line (V(heartbeat)), or V(null).
  returned: always
  type: list
  elements: str
"""

import hashlib
import ipaddress
import json
import os
import re
import sys

from ansible.module_utils.basic import AnsibleModule

# The one place these names are defined.
TABLE = "anycast_fabric_keep"
FAMILIES = (("ip", 4), ("ip6", 6))
BOOT_UNIT = "anycast-fabric-keep.service"
HEARTBEAT_UNIT = "anycast-fabric-keep-heartbeat"
CONFIG_FILE = "keep.nft"
HEARTBEAT_STATE = "/run/anycast-fabric/keep-heartbeat.json"
UNIT_DIR = "/etc/systemd/system"

# The heartbeat (the transient unit runs it with the node's Python): one datagram per rack-mate address every interval.
HEARTBEAT_PROGRAM = r"""
import socket, sys, time
port, interval = int(sys.argv[1]), float(sys.argv[2])
socks = []
for pair in sys.argv[3:]:
    src, dst = pair.split(">")
    sock = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((src, 0))
    socks.append((sock, dst))
while True:
    for sock, dst in socks:
        try:
            sock.sendto(b"anycast-fabric keep", (dst, port))
        except OSError:
            pass
    time.sleep(interval)
""".strip()


def _address(value):
    return ipaddress.ip_interface(str(value).strip()).ip


# How much of a rack-mate's name its set name keeps (nft allows 255 characters).
SET_NAME_KEEP = 40


def set_name(peer):
    """The alive set of a rack-mate: alive_ and its name where nft takes it as it is; else a cut of it and a digest of the whole.

    Names that differ only in punctuation (n-1, n_1) or share a long prefix (FQDNs) get distinct, short set names.
    """
    name = peer["name"]
    plain = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if plain == name and len(name) <= SET_NAME_KEEP:
        return "alive_" + name
    return "alive_%s_%s" % (plain[:SET_NAME_KEEP], hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12])


def normalise_peers(peers):
    """[{name, 4: address or None, 6: address or None}] from O(peers); ValueError on a bad entry."""
    out = []
    for peer in peers:
        if not isinstance(peer, dict) or not peer.get("name"):
            raise ValueError("peers: every entry needs a name, got %r" % (peer,))
        entry = {"name": str(peer["name"]), 4: None, 6: None}
        for key, version in (("ipv4", 4), ("ipv6", 6)):
            if peer.get(key):
                addr = _address(peer[key])
                if addr.version != version:
                    raise ValueError("peers: %s's %s %s is not an IPv%d address" % (peer["name"], key, peer[key], version))
                entry[version] = str(addr)
        out.append(entry)
    return out


def render(vips, peers, port, timeout):
    """The tables' nft text: vips (addresses), peers (normalised).

    The copies go to the rack-mate's address as next hop without naming an interface (nft would bind its index at
    load time, and at boot the interface may not have its name yet); ready checks that the address is on-link.
    """
    lines = []
    for family, version in FAMILIES:
        addr_type = "ipv4_addr" if version == 4 else "ipv6_addr"
        mine = sorted((str(v) for v in vips if v.version == version), key=ipaddress.ip_address)
        reachable = [p for p in peers if p[version]]
        lines.append("table %s %s {" % (family, TABLE))
        lines.append("\tset vips {")
        lines.append("\t\ttype %s" % addr_type)
        if mine:
            lines.append("\t\telements = { %s }" % ", ".join(mine))
        lines.append("\t}")
        for peer in reachable:
            lines.append("\tset %s {" % set_name(peer))
            lines.append("\t\ttype pkt_type")
            lines.append("\t\tflags timeout")
            lines.append("\t}")
        lines.append("\tchain prerouting {")
        lines.append("\t\ttype filter hook prerouting priority mangle; policy accept;")
        lines.append("\t\tudp dport %d jump heartbeat" % port)
        lines.append("\t\t%s daddr @vips tcp flags & syn == 0 ct state new jump orphan" % family)
        lines.append("\t\t%s daddr @vips tcp flags & (fin | rst) != 0 ct state invalid jump orphan" % family)
        lines.append("\t}")
        lines.append("\tchain heartbeat {")
        for peer in reachable:
            lines.append("\t\t%s saddr %s update @%s { meta pkttype timeout %ds } drop" % (family, peer[version], set_name(peer), timeout))
        lines.append("\t}")
        lines.append("\tchain orphan {")
        for peer in reachable:
            lines.append("\t\tmeta pkttype @%s dup to %s drop" % (set_name(peer), peer[version]))
        lines.append("\t}")
        lines.append("}")
    return "\n".join(lines) + "\n"


def load_script(text):
    """What nft -f gets: the tables replaced in one transaction (created first, so the delete never fails)."""
    head = []
    for family, _version in FAMILIES:
        head += ["table %s %s" % (family, TABLE), "delete table %s %s" % (family, TABLE)]
    return "\n".join(head) + "\n" + text


def boot_unit(nft, path):
    return (
        "[Unit]\n"
        "Description=anycast.fabric: rack-mates' orphan forwarding for zero-reset drains (nftables %s)\n"
        "DefaultDependencies=no\n"
        "Before=network-pre.target\n"
        "Wants=network-pre.target\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        "RemainAfterExit=yes\n"
        "ExecStart=%s -f %s\n"
        "\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n" % (TABLE, nft, path)
    )


class Keep(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params

    def run(self, argv, check=True, data=None):
        rc, out, err = self.module.run_command(argv, data=data, binary_data=True)
        if check and rc != 0:
            self.module.fail_json(msg="%s failed (%d): %s" % (" ".join(argv), rc, (err or out).strip()[-2000:]))
        return rc, out, err

    def nft(self):
        return self.module.get_bin_path("nft", required=True)

    def tables_loaded(self):
        nft = self.nft()
        return all(self.run([nft, "list", "table", family, TABLE], check=False)[0] == 0 for family, _v in FAMILIES)

    def device_of(self, address):
        """The interface a rack-mate's address is reached through; fails when a router is on the way."""
        ip = self.module.get_bin_path("ip", required=True)
        rc, out, err = self.run([ip, "-json", "route", "get", address], check=False)
        try:
            route = json.loads(out)[0] if rc == 0 else None
        except (ValueError, IndexError):
            route = None
        if route is None:
            self.module.fail_json(msg="no route to rack-mate address %s: %s" % (address, err.strip()))
        if route.get("gateway"):
            self.module.fail_json(
                msg="rack-mate address %s is reached through the router %s, not on a segment of this node: orphans must go"
                " to the draining node directly (peers: the rack-mates' addresses on the rack segment)" % (address, route["gateway"]))
        if route.get("type", "unicast") != "unicast" or not route.get("dev") or route.get("dev") == "lo":
            self.module.fail_json(msg="rack-mate address %s is not another host on a segment of this node (%s)" % (address, route))
        return route["dev"]

    def ready(self):
        params = self.params
        try:
            vips = [_address(v) for v in params["vips"]]
            peers = normalise_peers(params["peers"])
        except ValueError as exc:
            self.module.fail_json(msg="vips/peers: %s" % exc)
        if params["timeout"] < 1 or params["timeout"] <= 2 * params["interval"]:
            self.module.fail_json(msg="timeout %s must be at least 1 and more than twice interval %s" % (params["timeout"], params["interval"]))
        devices = {}
        for peer in peers:
            for version in (4, 6):
                if peer[version]:
                    devices[peer[version]] = self.device_of(peer[version])
        text = render(vips, peers, params["port"], params["timeout"])
        path = os.path.join(params["config_dir"], CONFIG_FILE)
        if not self.module.get_bin_path("nft"):
            if self.module.check_mode:  # a new node, nftables not installed yet: everything is to do
                return dict(changed=True, created=True, rules=text, devices=devices, heartbeat=None,
                            diff=dict(before="", after=text, before_header=path, after_header=path))
            self.module.fail_json(msg="nft not found: the zero-reset drain's tables need nftables (Debian: nftables)")
        before = ""
        if os.path.exists(path):
            with open(path) as handle:
                before = handle.read()
        loaded = self.tables_loaded()
        nft = self.nft()
        unit_path = os.path.join(UNIT_DIR, BOOT_UNIT)
        unit = boot_unit(nft, path)
        unit_before = ""
        if os.path.exists(unit_path):
            with open(unit_path) as handle:
                unit_before = handle.read()
        changed = before != text or not loaded or unit_before != unit
        result = dict(changed=changed, created=not loaded, rules=text, devices=devices, heartbeat=None,
                      diff=dict(before=before if loaded else "", after=text, before_header=path, after_header=path))
        if changed and not self.module.check_mode:
            # Check first, then load: an nft that rejects the text leaves the old tables as they are.
            self.run([nft, "-c", "-f", "-"], data=load_script(text))
            if before != text or not loaded:
                self.run([nft, "-f", "-"], data=load_script(text))
            if before != text:
                os.makedirs(params["config_dir"], exist_ok=True)
                self.module.atomic_move(self._temp(text), path)
            if unit_before != unit and os.path.isdir(UNIT_DIR):
                self.module.atomic_move(self._temp(unit), unit_path)
                systemctl = self.module.get_bin_path("systemctl")
                if systemctl:
                    self.run([systemctl, "daemon-reload"])
                    self.run([systemctl, "enable", BOOT_UNIT])
        return result

    def _temp(self, text):
        path = os.path.join(self.module.tmpdir, "keep.tmp")
        with open(path, "w") as handle:
            handle.write(text)
        os.chmod(path, 0o644)
        return path

    def _active(self, systemctl):
        return self.run([systemctl, "is-active", "--quiet", HEARTBEAT_UNIT + ".service"], check=False)[0] == 0

    def heartbeat(self):
        params = self.params
        try:
            peers = normalise_peers(params["peers"])
            source = {}
            for key, version in (("ipv4", 4), ("ipv6", 6)):
                if params["source"].get(key):
                    source[version] = str(_address(params["source"][key]))
        except ValueError as exc:
            self.module.fail_json(msg="peers/source: %s" % exc)
        pairs = ["%s>%s" % (source[v], p[v]) for p in peers for v in (4, 6) if p[v] and v in source]
        if not pairs:
            self.module.fail_json(msg="no rack-mate to send heartbeats to: peers %s and source %s share no address family"
                                  % (params["peers"], params["source"]))
        argv = [sys.executable, "-c", HEARTBEAT_PROGRAM, str(params["port"]), str(params["interval"])] + pairs
        systemctl = self.module.get_bin_path("systemctl", required=True)
        running = None
        if os.path.exists(HEARTBEAT_STATE):
            with open(HEARTBEAT_STATE) as handle:
                running = json.load(handle)
        active = self._active(systemctl)
        changed = not (active and running == argv)
        if changed and not self.module.check_mode:
            if active:
                self.run([systemctl, "stop", HEARTBEAT_UNIT + ".service"])
            self.run([systemctl, "reset-failed", HEARTBEAT_UNIT + ".service"], check=False)
            run = self.module.get_bin_path("systemd-run", required=True)
            self.run([run, "--unit", HEARTBEAT_UNIT, "--collect", "--description",
                      "anycast.fabric: this draining node's heartbeat to its rack-mates (zero-reset drain)",
                      "-p", "Restart=always", "-p", "RestartSec=1", "--"] + argv)
            os.makedirs(os.path.dirname(HEARTBEAT_STATE), exist_ok=True)
            with open(HEARTBEAT_STATE, "w") as handle:
                json.dump(argv, handle)
            if not self._active(systemctl):
                _rc, out, _err = self.run(["journalctl", "-u", HEARTBEAT_UNIT, "-n", "5", "--no-pager"], check=False)
                self.module.fail_json(msg="the heartbeat unit %s did not start: %s" % (HEARTBEAT_UNIT, out.strip()[-1000:]))
        return dict(changed=changed, created=False, heartbeat=argv,
                    diff=dict(before=" ".join(running or []) + "\n" if active else "", after=" ".join(argv) + "\n"))

    def stopped(self):
        systemctl = self.module.get_bin_path("systemctl")
        active = bool(systemctl) and self._active(systemctl)
        changed = active or os.path.exists(HEARTBEAT_STATE)
        if changed and not self.module.check_mode:
            if active:
                self.run([systemctl, "stop", HEARTBEAT_UNIT + ".service"])
            self.run([systemctl, "reset-failed", HEARTBEAT_UNIT + ".service"], check=False)
            if os.path.exists(HEARTBEAT_STATE):
                os.unlink(HEARTBEAT_STATE)
        return dict(changed=changed, created=False, heartbeat=None,
                    diff=dict(before="heartbeat running\n" if active else "", after=""))

    def absent(self):
        result = self.stopped()
        path = os.path.join(self.params["config_dir"], CONFIG_FILE)
        unit_path = os.path.join(UNIT_DIR, BOOT_UNIT)
        nft = self.module.get_bin_path("nft")
        loaded = bool(nft) and self.tables_loaded()
        changed = loaded or os.path.exists(path) or os.path.exists(unit_path)
        if changed and not self.module.check_mode:
            if loaded:
                self.run([nft, "-f", "-"], data="".join("delete table %s %s\n" % (f, TABLE) for f, _v in FAMILIES))
            systemctl = self.module.get_bin_path("systemctl")
            if os.path.exists(unit_path):
                if systemctl:
                    self.run([systemctl, "disable", BOOT_UNIT], check=False)
                os.unlink(unit_path)
                if systemctl:
                    self.run([systemctl, "daemon-reload"], check=False)
            if os.path.exists(path):
                os.unlink(path)
        result["changed"] = result["changed"] or changed
        return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", default="ready", choices=["ready", "heartbeat", "stopped", "absent"]),
            vips=dict(type="list", elements="str", default=[]),
            peers=dict(type="list", elements="dict", default=[]),
            source=dict(type="dict", default={}),
            port=dict(type="int", default=4787),
            interval=dict(type="float", default=0.5),
            timeout=dict(type="int", default=2),
            config_dir=dict(type="path", default="/etc/anycast-fabric"),
        ),
        supports_check_mode=True,
    )
    if not 0 < module.params["port"] < 65536 or module.params["interval"] <= 0:
        module.fail_json(msg="port %s must be 1-65535 and interval %s > 0" % (module.params["port"], module.params["interval"]))
    keep = Keep(module)
    result = getattr(keep, module.params["state"])()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
