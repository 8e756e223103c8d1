# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every part of the IPVS logic shares: its error and ipvsadm's vocabulary."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class IpvsError(ValueError):
    pass


PROTOCOLS = ("tcp", "udp", "sctp", "fwmark")
PROTOCOL_OPTION = {"tcp": "-t", "udp": "-u", "sctp": "--sctp-service"}
FORWARDING_OPTION = {"direct": "-g", "tunnel": "-i", "masquerade": "-m"}
# Scheduler flags (-b): generic names by bit, and the names sh and mh give
# bits 1 and 2 (ipvsadm prints those for sh and mh services).
FLAG_BITS = {"flag-1": 1, "flag-2": 2, "flag-3": 4}
SCHEDULER_FLAG_NAMES = {
    "sh": {1: "sh-fallback", 2: "sh-port"},
    "mh": {1: "mh-fallback", 2: "mh-port"},
}
NAMED_FLAG_BITS = {name: bit for names in SCHEDULER_FLAG_NAMES.values() for bit, name in names.items()}


def flag_names(bits, scheduler):
    named = SCHEDULER_FLAG_NAMES.get(scheduler, {})
    names = []
    for name, bit in sorted(FLAG_BITS.items(), key=lambda item: item[1]):
        if bits & bit:
            names.append(named.get(bit, name))
    return names
