# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning and ownership records for anycast VIP addresses on an interface.

Pure logic (no netlink): which addresses to add and remove, and the record of
which addresses this collection added, so that a purge never touches anything
else on the interface.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os

from ansible_collections.anycast.fabric.plugins.module_utils import _records as records

RECORD_SCHEMA = 1
RECORD_SUBDIR = "loopback_vip"


class VipError(ValueError):
    pass


def normalize(address):
    """'198.51.100.10' or '198.51.100.10/32' -> '198.51.100.10/32'; refuses non-VIPs."""
    text = str(address).strip()
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError:
        raise VipError("%r is not an IP address" % text) from None
    if iface.network.prefixlen != iface.max_prefixlen:
        raise VipError("%r is not a host address: anycast VIPs are /32 or /128" % text)
    ip = iface.ip
    if ip.is_loopback or ip.is_unspecified or ip.is_multicast or ip.is_link_local:
        raise VipError("%r cannot be a VIP (loopback, unspecified, multicast or link-local)" % text)
    return "%s/%d" % (ip.compressed, iface.max_prefixlen)


def sort_key(vip):
    iface = ipaddress.ip_interface(vip)
    return (iface.version, iface.ip)


def is_protected(vip):
    """Addresses a purge or removal must never touch, whatever the record says."""
    ip = ipaddress.ip_interface(vip).ip
    return ip.is_loopback or ip.is_link_local or ip.is_unspecified


def plan(desired, current, owned, state, purge, exclude=()):
    """Return (to_add, to_remove, new_owned) as sorted lists.

    desired: VIPs asked for; current: host routes on the interface now;
    owned: VIPs this module added before (its record); exclude: VIPs another
    manager (the health agent) owns: never added, never removed, and dropped
    from the record so that no later purge touches them.
    """
    exclude = set(exclude)
    desired, current, owned = set(desired) - exclude, set(current), set(owned) - exclude
    if state == "present":
        to_add = desired - current
        to_remove = (owned - desired) & current if purge else set()
        # Listed VIPs are adopted into the record, even if someone added them
        # by hand first, so that a later purge can remove them.
        new_owned = desired if purge else owned | desired
    else:
        to_add = set()
        to_remove = desired & current
        new_owned = owned - desired
    to_remove = {v for v in to_remove if not is_protected(v)}
    return sorted(to_add, key=sort_key), sorted(to_remove, key=sort_key), sorted(new_owned, key=sort_key)


def record_path(state_dir, interface):
    return os.path.join(state_dir, RECORD_SUBDIR, "%s.json" % interface)


def read_record(path):
    """The VIPs recorded as ours, or [] when there is no record yet."""
    data = records.load(path, RECORD_SCHEMA, VipError)
    # Older schemas would be upgraded here; schema 1 is the first.
    return [normalize(a) for a in (data or {}).get("addresses", [])]


def write_record(path, interface, addresses):
    records.store(path, {"schema": RECORD_SCHEMA, "interface": interface, "addresses": list(addresses)})
