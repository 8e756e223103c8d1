# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Overlap and containment of prefixes and addresses, by sorting: no pairwise loops.

Every function takes ipaddress objects and runs in O(n log n) for n inputs,
so fabric-wide checks cost the same per prefix for 10 or 10,000 nodes.
"""

from __future__ import annotations

from bisect import bisect_right


def _span(net):
    return int(net.network_address), int(net.broadcast_address)


def overlapping(items):
    """Pairs of overlapping prefixes among ITEMS, a list of (network, payload).

    Yields (later, earlier) pairs of items, "later" being the one that comes
    later in ITEMS (the one to blame, so that the first owner keeps it).
    Each item overlapping another is yielded at least once.
    O(n log n): a sweep over the prefixes sorted by start, keeping the
    prefix that reaches furthest so far.
    """
    order = sorted(range(len(items)), key=lambda i: (items[i][0].version, _span(items[i][0])[0], -_span(items[i][0])[1], i))
    reach = None  # (version, end, index) of the prefix reaching furthest so far
    for index in order:
        net = items[index][0]
        start, end = _span(net)
        if reach is not None and reach[0] == net.version and start <= reach[1]:
            other = reach[2]
            later, earlier = (index, other) if index > other else (other, index)
            yield items[later], items[earlier]
            if end > reach[1]:
                reach = (net.version, end, index)
        else:
            reach = (net.version, end, index)


class Index:
    """Disjoint prefixes (e.g. the anycast pools), queried by address or prefix in O(log n)."""

    def __init__(self, networks):
        self._by_version = {}
        for net in networks:
            self._by_version.setdefault(net.version, []).append((_span(net)[0], _span(net)[1], net))
        for spans in self._by_version.values():
            spans.sort(key=lambda s: s[0])
        self._starts = {v: [s[0] for s in spans] for v, spans in self._by_version.items()}

    def overlap(self, net):
        """A prefix of the index that overlaps NET (an address counts as a host route), or None."""
        spans = self._by_version.get(net.version)
        if not spans:
            return None
        if hasattr(net, "network_address"):
            start, end = _span(net)
        else:
            start = end = int(net)
        # Disjoint and sorted by start, hence by end: only the last prefix
        # starting at or before END can reach back to START.
        position = bisect_right(self._starts[net.version], end) - 1
        if position >= 0 and spans[position][1] >= start:
            return spans[position][2]
        return None


def covered(networks, addresses, skip=None):
    """For each (network, payload) in NETWORKS, the (address, payload) items of ADDRESSES inside it.

    Yields ((network, payload), (address, payload)) pairs, at most one per
    network (the lowest address inside it for which SKIP(network payload,
    address payload) is false). O((n + m) log m), plus the skipped addresses.
    """
    by_version = {}
    for address, payload in addresses:
        by_version.setdefault(address.version, []).append((int(address), address, payload))
    for spans in by_version.values():
        spans.sort(key=lambda s: s[0])
    starts = {v: [s[0] for s in spans] for v, spans in by_version.items()}
    for item in networks:
        net = item[0]
        spans = by_version.get(net.version)
        if not spans:
            continue
        start, end = _span(net)
        position = bisect_right(starts[net.version], start - 1)
        while position < len(spans) and spans[position][0] <= end:
            if skip is None or not skip(item[1], spans[position][2]):
                yield item, (spans[position][1], spans[position][2])
                break
            position += 1
