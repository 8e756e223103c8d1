# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Weighted anycast: the link bandwidth each node announces, and how it is encoded.

With `fabric_bgp.weighted_ecmp`, a node announces its VIPs with the BGP
link-bandwidth extended community (transitive, type 0x00 subtype 0x04: a
2-octet ASN and the bandwidth in bytes per second as an IEEE float). A ToR
installs weighted ECMP over its nodes in proportion, and announces each VIP to
its spines with the sum over its ECMP set (FRR `set extcommunity bandwidth
cumulative`); a spine weights its ToRs by those sums.

A rack with two ToRs has its traffic split over both at the spine, and each
ToR announces the sum of the WHOLE rack: the rack would count twice. So a node
announces weight x its unit, where the unit is the fabric's least common
multiple of ToR counts divided by its own rack's ToR count: each ToR of a pair
then announces half of what the single ToR of an equal rack announces, in whole
Mbps (FRR sets integers only). The units are the same for every node of a
rack and change only when a rack's ToR count does.
"""

from __future__ import annotations

import math
import struct

# FRR `set extcommunity bandwidth <1-25600>` (Mbps).
MAX_LINK_BANDWIDTH = 25600
# FRR carries a path's (and a ToR's cumulative) bandwidth in 32 bits of bytes per second.
MAX_CUMULATIVE_BANDWIDTH = (2**32 - 1) // 125000
MBPS_BYTES = 125000
# The 2-octet ASN field: a 4-octet ASN is written as AS_TRANS (RFC 6793), as FRR does.
AS_TRANS = 23456
LINK_BANDWIDTH_SUBTYPE = 0x04


def units(racks):
    """{(site, rack): the bandwidth unit of its nodes} for RACKS ({(site, rack): {"tors": [...]}})."""
    counts = {key: len(members["tors"]) for key, members in racks.items() if members["tors"]}
    common = 1
    for count in set(counts.values()):
        common = common * count // math.gcd(common, count)
    return {key: common // count for key, count in counts.items()}


def as_field(asn: int) -> int:
    """The community's ASN field for a router of ASN."""
    return asn if asn <= 65535 else AS_TRANS


def ieee_bits(mbps: int) -> int:
    """The community's value field for MBPS: bytes per second as an IEEE 754 single, read as an unsigned integer."""
    return int(struct.unpack(">I", struct.pack(">f", float(mbps * MBPS_BYTES)))[0])
