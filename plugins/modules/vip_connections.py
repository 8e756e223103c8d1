#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vip_connections
short_description: Count a node's established TCP connections to its anycast VIPs, optionally waiting for them to end
version_added: 0.2.0
description:
  - Counts the TCP connections in state ESTABLISHED whose local address is one of O(vips) (and, with O(ports), whose
    local port is one of them), read from C(/proc/net/tcp) and C(/proc/net/tcp6) of the node's network namespace.
    Connections to IPv4 VIPs accepted by dual-stack sockets (IPv4-mapped IPv6 addresses) count as IPv4.
  - With O(timeout), waits until at most O(max_remaining) such connections are left, or the timeout passes, and
    reports how many were still open. Meant for a drain, between the node leaving ECMP (its established flows still
    reach it) and its VIPs being withdrawn (those flows break), so that long-lived connections whose application
    closes them can finish first.
  - Changes nothing, unless O(close) is set (then the connections still open after the wait are closed).
author:
  - anycast.fabric contributors (@anycast-fabric)
options:
  vips:
    description:
      - The VIP addresses (a prefix length is ignored).
    type: list
    elements: str
    required: true
  ports:
    description:
      - Only count connections to these local ports. Default, every port.
    type: list
    elements: int
    default: []
  timeout:
    description:
      - Seconds to wait for the count to drop to O(max_remaining). V(0) counts once.
    type: int
    default: 0
  max_remaining:
    description:
      - The count to wait for.
    type: int
    default: 0
  poll:
    description:
      - Seconds between counts while waiting.
    type: float
    default: 1.0
  close:
    description:
      - After the wait, close the connections to the VIPs that are still established (C(ss -K), the kernel aborts
        them, the clients get a reset) and report how many in RV(closed). The zero-reset drain
        (C(fabric_drain_mode=keep)) does it at its deadline, before the VIPs are withdrawn. Nothing is closed in
        check mode.
    type: bool
    default: false
  proc_dir:
    description:
      - Where the kernel's C(net/tcp) and C(net/tcp6) tables are read (for tests).
    type: path
    default: /proc
extends_documentation_fragment:
  - anycast.fabric.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
notes:
  - Linux only (it reads C(/proc/net/tcp)). A connection is counted on the node that holds the socket, so connections
    that an ECMP change already moved elsewhere (and that were reset) are not counted.
"""

EXAMPLES = r"""
- name: Wait up to 5 minutes for the connections to the node's VIPs to end (at most 10 may stay)
  anycast.fabric.vip_connections:
    vips: "{{ fabric_intent.vips | map(attribute='prefix') | list }}"
    timeout: 300
    max_remaining: 10
  register: drain_connections

- name: Say how many were still open when the VIPs were withdrawn
  ansible.builtin.debug:
    msg: "{{ drain_connections.connections }} connections still open after {{ drain_connections.waited }} s"
"""

RETURN = r"""
connections:
  description: Established connections to the VIPs at the last count.
  returned: always
  type: int
  sample: 3
initial:
  description: Established connections to the VIPs at the first count.
  returned: always
  type: int
  sample: 41
per_vip:
  description: The last count per VIP address (every VIP of O(vips), zero included).
  returned: always
  type: dict
  sample: {"198.51.100.80": 3}
waited:
  description: Seconds spent waiting (0 without O(timeout)).
  returned: always
  type: float
  sample: 12.5
timed_out:
  description: Whether the timeout passed with more than O(max_remaining) connections left.
  returned: always
  type: bool
  sample: false
closed:
  description: Connections closed by O(close) (C(ss -K)); V(0) without it.
  returned: always
  type: int
  sample: 3
closed_at:
  description: When they were closed (seconds since the epoch), or V(null).
  returned: always
  type: float
  sample: 1764931200.5
"""

import ipaddress
import os
import time

from ansible.module_utils.basic import AnsibleModule

ESTABLISHED = "01"


def _address(hexaddr):
    """The address of a /proc/net/tcp{,6} entry (IPv4-mapped IPv6 addresses as IPv4)."""
    raw = bytes.fromhex(hexaddr)
    if len(raw) == 4:
        return ipaddress.IPv4Address(raw[::-1])
    # tcp6: four 32-bit words, each in host (little-endian) order
    addr = ipaddress.IPv6Address(b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
    return addr.ipv4_mapped or addr


def established(proc_dir):
    """[(local address, local port)] of every ESTABLISHED TCP socket."""
    out = []
    for name in ("tcp", "tcp6"):
        path = os.path.join(proc_dir, "net", name)
        if not os.path.exists(path):
            continue
        with open(path) as handle:
            next(handle, None)  # header
            for line in handle:
                fields = line.split()
                if len(fields) < 4 or fields[3] != ESTABLISHED:
                    continue
                hexaddr, _sep, hexport = fields[1].partition(":")
                out.append((_address(hexaddr), int(hexport, 16)))
    return out


def count(vips, ports, proc_dir):
    per_vip = dict((str(vip), 0) for vip in vips)
    for address, port in established(proc_dir):
        if address in vips and (not ports or port in ports):
            per_vip[str(address)] += 1
    return sum(per_vip.values()), per_vip


def ss_filter(vips, ports):
    """The ss filter of established sockets whose local address is a VIP (IPv4 ones also as IPv4-mapped IPv6)."""
    addrs = []
    for vip in sorted(vips, key=str):
        if vip.version == 4:
            addrs += ["src %s" % vip, "src [::ffff:%s]" % vip]
        else:
            addrs.append("src [%s]" % vip)
    expr = "( %s )" % " or ".join(addrs)
    if ports:
        expr += " and ( %s )" % " or ".join("sport = :%d" % p for p in sorted(ports))
    return expr


def close(module, vips, ports):
    """Abort the established connections to VIPS (ss -K); how many ss reported closed."""
    if not vips:
        return 0
    ss = module.get_bin_path("ss", required=True)
    rc, out, err = module.run_command([ss, "-K", "-H", "-t", "-n", "state", "established", ss_filter(vips, ports)])
    if rc != 0:
        module.fail_json(msg="ss -K failed (%d): %s (the kernel needs CONFIG_INET_DIAG_DESTROY)" % (rc, (err or out).strip()))
    return sum(1 for line in out.splitlines() if line.strip())


def main():
    module = AnsibleModule(
        argument_spec=dict(
            vips=dict(type="list", elements="str", required=True),
            ports=dict(type="list", elements="int", default=[]),
            timeout=dict(type="int", default=0),
            max_remaining=dict(type="int", default=0),
            poll=dict(type="float", default=1.0),
            close=dict(type="bool", default=False),
            proc_dir=dict(type="path", default="/proc"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        vips = set(ipaddress.ip_interface(v.strip()).ip for v in params["vips"])
    except ValueError as exc:
        module.fail_json(msg="vips: %s" % exc)
    if params["timeout"] < 0 or params["max_remaining"] < 0 or params["poll"] <= 0:
        module.fail_json(msg="timeout and max_remaining must be >= 0, poll > 0")
    ports = set(params["ports"])
    start = time.monotonic()
    try:
        total, per_vip = count(vips, ports, params["proc_dir"])
        initial = total
        while total > params["max_remaining"] and time.monotonic() - start < params["timeout"]:
            time.sleep(min(params["poll"], max(0.0, params["timeout"] - (time.monotonic() - start))))
            total, per_vip = count(vips, ports, params["proc_dir"])
    except (IOError, OSError, ValueError) as exc:
        module.fail_json(msg="cannot read the TCP tables under %s: %s" % (params["proc_dir"], exc))
    closed, closed_at = 0, None
    if params["close"] and total > 0 and not module.check_mode:
        closed_at = time.time()
        closed = close(module, vips, ports)
    module.exit_json(
        changed=closed > 0,
        closed=closed,
        closed_at=closed_at,
        connections=total,
        initial=initial,
        per_vip=per_vip,
        waited=round(time.monotonic() - start, 1) if params["timeout"] else 0.0,
        timed_out=total > params["max_remaining"],
    )


if __name__ == "__main__":
    main()
