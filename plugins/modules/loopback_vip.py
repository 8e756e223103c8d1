#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: loopback_vip
short_description: Manage the anycast VIP addresses held on a loopback or dummy interface
version_added: 0.1.0
description:
  - Declaratively manages anycast service addresses (IPv4 C(/32), IPv6 C(/128)) on C(lo) or on a dummy
    interface, which the node's BGP speaker announces while they are configured.
  - Uses one netlink session (pyroute2) for the whole set, so a thousand VIPs take a fraction of a second.
  - B(Ownership.) The module records every VIP it manages in a JSON file,
    O(state_dir)C(/loopback_vip/<interface>.json). A purge removes only addresses listed in that record and
    never loopback (C(127.0.0.0/8), C(::1)), link-local or unspecified addresses, nor any other address of the
    host. The record lives on persistent storage, so it survives reboots (the addresses themselves do not, and
    the next run adds them again). It carries a schema version; newer releases of the module read older
    records, and an older module refuses a record written by a newer one rather than guess.
  - Addresses listed in O(addresses) that already exist on the interface are adopted into the record.
author:
  - anycast.fabric contributors (@anycast-fabric)
requirements:
  - pyroute2 (Debian 12 C(python3-pyroute2) 0.7.2 or later) on the managed host
options:
  addresses:
    description:
      - The VIPs, as addresses (C(198.51.100.10)) or host routes (C(198.51.100.10/32), C(2001:db8::10/128)).
      - With O(state=present) these are ensured on the interface; with O(purge=true) they are the complete set.
      - With O(state=absent) these are removed.
    type: list
    elements: str
    default: []
  interface:
    description:
      - Interface that holds the VIPs. C(lo) or a dummy interface such as C(anycast0).
    type: str
    default: lo
  create_interface:
    description:
      - Create O(interface) as a dummy interface when it does not exist (never applies to C(lo)).
      - The interface is brought up when it is down.
    type: bool
    default: true
  state:
    description:
      - V(present) adds missing VIPs, V(absent) removes the listed ones.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present), also remove VIPs that this module added earlier and that are no longer listed.
    type: bool
    default: false
  exclude:
    description:
      - VIPs managed by something else, typically the health agent of the C(anycast.fabric.healthcheck) role,
        which adds and removes them as their service's health changes.
      - They are never added or removed by this module and leave its ownership record, so a purge never
        withdraws them.
    type: list
    elements: str
    default: []
  arp_sysctls:
    description:
      - Set C(net.ipv4.conf.all.arp_ignore=1) and C(net.ipv4.conf.all.arp_announce=2), so that the host never
        answers ARP for VIPs held on C(lo) from its other interfaces (what direct server return and kube-proxy
        strictARP need). Applied at once and persisted in O(sysctl_file).
    type: bool
    default: false
  sysctl_file:
    description:
      - File that persists the ARP settings across reboots when O(arp_sysctls=true).
    type: path
    default: /etc/sysctl.d/90-anycast-fabric-vip-arp.conf
extends_documentation_fragment:
  - anycast.fabric.attributes
  - anycast.fabric.state_dir
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    support: full
    platforms: posix
notes:
  - A VIP on a dummy interface gets IPv6 C(nodad), so it is usable at once.
"""

EXAMPLES = r"""
- name: Hold this node's anycast VIPs on lo, removing ones dropped from the list
  anycast.fabric.loopback_vip:
    addresses:
      - 198.51.100.53
      - 2001:db8:ac::53
    purge: true
    arp_sysctls: true

- name: Hold VIPs on a dummy interface, created when missing
  anycast.fabric.loopback_vip:
    interface: anycast0
    addresses: "{{ fabric_intent.vips | map(attribute='prefix') | list }}"

- name: Withdraw one VIP by removing its address
  anycast.fabric.loopback_vip:
    addresses: [198.51.100.80]
    state: absent
"""

RETURN = r"""
added:
  description: VIPs added by this run (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["198.51.100.53/32"]
removed:
  description: VIPs removed by this run (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["198.51.100.80/32"]
vips:
  description: The VIPs this module owns on the interface after the run.
  returned: always
  type: list
  elements: str
  sample: ["198.51.100.53/32", "2001:db8:ac::53/128"]
interface_created:
  description: Whether the dummy interface was created.
  returned: always
  type: bool
sysctls_changed:
  description: ARP sysctls that were (or would be) changed, as C(name=value).
  returned: always
  type: list
  elements: str
  sample: ["net.ipv4.conf.all.arp_ignore=1"]
record:
  description: Path of the ownership record.
  returned: always
  type: str
  sample: /var/lib/anycast-fabric/loopback_vip/lo.json
"""

import errno
import os
import socket
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.anycast.fabric.plugins.module_utils import _records as records
from ansible_collections.anycast.fabric.plugins.module_utils._contract import DEFAULT_STATE_DIR, DEFAULT_VIP_INTERFACE
from ansible_collections.anycast.fabric.plugins.module_utils._vips import VipError, normalize, plan, read_record, record_path, sort_key, write_record

try:
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError
except ImportError:
    IPRoute = None
    NetlinkError = Exception
    PYROUTE2_ERROR = traceback.format_exc()
else:
    PYROUTE2_ERROR = None

IFA_F_NODAD = 0x02
ARP_SYSCTLS = (("net.ipv4.conf.all.arp_ignore", "1"), ("net.ipv4.conf.all.arp_announce", "2"))


def host_routes(ipr, index):
    """Host-route addresses (/32, /128) on the interface: the only ones a VIP can be."""
    found = []
    for msg in ipr.get_addr(index=index):
        address = msg.get_attr("IFA_ADDRESS")
        full = 32 if msg["family"] == socket.AF_INET else 128
        if address and msg["prefixlen"] == full:
            try:
                found.append(normalize(address))
            except VipError:
                continue  # 127.0.0.1/32, ::1/128 and the like are never ours
    return found


def ensure_interface(module, ipr, name, result):
    links = ipr.link_lookup(ifname=name)
    if links:
        index = links[0]
    elif name == "lo" or not module.params["create_interface"]:
        module.fail_json(msg="interface %s does not exist (create_interface=%s)" % (name, module.params["create_interface"]), **result)
    elif module.check_mode:
        result["interface_created"] = True
        return None
    else:
        try:
            ipr.link("add", ifname=name, kind="dummy")
        except NetlinkError as exc:
            module.fail_json(msg="cannot create dummy interface %s: %s (is the dummy kernel module available?)" % (name, exc), **result)
        index = ipr.link_lookup(ifname=name)[0]
        result["interface_created"] = True
    if not ipr.get_links(index)[0]["flags"] & 1:  # IFF_UP
        if not module.check_mode:
            ipr.link("set", index=index, state="up")
        result["interface_up"] = True
    return index


def sysctl_path(name):
    return "/proc/sys/" + name.replace(".", "/")


def ensure_arp_sysctls(module, result):
    changed = []
    for name, value in ARP_SYSCTLS:
        with open(sysctl_path(name)) as handle:
            current = handle.read().strip()
        if current != value:
            changed.append("%s=%s" % (name, value))
            if not module.check_mode:
                with open(sysctl_path(name), "w") as handle:
                    handle.write(value)
    path = module.params["sysctl_file"]
    body = "# Managed by anycast.fabric.loopback_vip: VIPs on lo must not be answered for by ARP elsewhere.\n"
    body += "".join("%s = %s\n" % item for item in ARP_SYSCTLS)
    try:
        with open(path) as handle:
            persisted = handle.read() == body
    except (IOError, OSError):
        persisted = False
    if not persisted:
        changed.append(path)
        if not module.check_mode:
            with open(path + ".tmp", "w") as handle:
                handle.write(body)
            os.chmod(path + ".tmp", 0o644)
            os.rename(path + ".tmp", path)
    result["sysctls_changed"] = changed
    return bool(changed)


def apply_addresses(module, ipr, index, to_add, to_remove, is_dummy, result):
    done = []
    # A change made concurrently by someone else (address already there, or
    # already gone) leaves the interface as we want it: not an error.
    benign = {"add": errno.EEXIST, "del": errno.EADDRNOTAVAIL}
    for verb, vips in (("del", to_remove), ("add", to_add)):
        for vip in vips:
            address, prefixlen = vip.split("/")
            extra = {"IFA_FLAGS": IFA_F_NODAD} if verb == "add" and is_dummy and ":" in address else {}
            try:
                ipr.addr(verb, index=index, address=address, prefixlen=int(prefixlen), **extra)
            except NetlinkError as exc:
                if getattr(exc, "code", None) != benign[verb]:
                    module.fail_json(
                        msg="netlink refused to %s %s on %s after %d of %d changes: %s"
                        % (verb, vip, module.params["interface"], len(done), len(to_add) + len(to_remove), exc),
                        **result
                    )
            done.append(vip)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            addresses=dict(type="list", elements="str", default=[]),
            interface=dict(type="str", default=DEFAULT_VIP_INTERFACE),
            create_interface=dict(type="bool", default=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            purge=dict(type="bool", default=False),
            exclude=dict(type="list", elements="str", default=[]),
            arp_sysctls=dict(type="bool", default=False),
            sysctl_file=dict(type="path", default="/etc/sysctl.d/90-anycast-fabric-vip-arp.conf"),
            state_dir=dict(type="path", default=DEFAULT_STATE_DIR),
        ),
        supports_check_mode=True,
    )
    records.check_state_dir(module)
    if IPRoute is None:
        module.fail_json(msg=missing_required_lib("pyroute2 (Debian: python3-pyroute2)"), exception=PYROUTE2_ERROR)

    params = module.params
    interface = params["interface"]
    result = dict(changed=False, added=[], removed=[], vips=[], interface_created=False, sysctls_changed=[], record=record_path(params["state_dir"], interface))
    try:
        desired = sorted({normalize(a) for a in params["addresses"]}, key=sort_key)
        exclude = [normalize(a) for a in params["exclude"]]
        owned = read_record(result["record"])
    except VipError as exc:
        module.fail_json(msg=str(exc), **result)

    with IPRoute() as ipr:
        index = ensure_interface(module, ipr, interface, result)
        current = host_routes(ipr, index) if index is not None else []
        to_add, to_remove, new_owned = plan(desired, current, owned, params["state"], params["purge"], exclude)
        if not module.check_mode and (to_add or to_remove):
            apply_addresses(module, ipr, index, to_add, to_remove, interface != "lo", result)

    record_changed = new_owned != owned
    if record_changed and not module.check_mode:
        write_record(result["record"], interface, new_owned)
    sysctls = ensure_arp_sysctls(module, result) if params["arp_sysctls"] else False

    after = sorted((set(current) | set(to_add)) - set(to_remove), key=sort_key)
    result.update(
        added=to_add,
        removed=to_remove,
        vips=[v for v in new_owned if v in after],
        changed=bool(to_add or to_remove or record_changed or sysctls or result["interface_created"] or result.get("interface_up")),
    )
    if module._diff:
        result["diff"] = dict(
            before="".join("%s %s\n" % (interface, v) for v in sorted(current, key=sort_key)),
            after="".join("%s %s\n" % (interface, v) for v in after),
            before_header="%s host routes" % interface,
            after_header="%s host routes" % interface,
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
