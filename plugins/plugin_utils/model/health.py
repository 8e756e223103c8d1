# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation and normalisation of a VIP's `health` (the checks that gate its announcement).

A VIP with a `health` section is announced by the node's health agent
(roles/healthcheck, files/anycast_healthd) exactly while all its checks pass;
a VIP without one is held permanently by the vips role. The normalised form
written into the intent carries every default explicitly, so the agent's
configuration is a plain copy of it and `fabric_intent` shows what will run.

The spec itself (check types, keys, ranges, defaults, the reading function)
is plugins/module_utils/_health_spec.py, the one file the agent runs too:
the role ships it inside the agent's zipapp. This module is the controller's
door to it: read_health() with the model's problem reader.
"""

from __future__ import annotations

from ansible_collections.anycast.fabric.plugins.module_utils import _health_spec as spec
from ansible_collections.anycast.fabric.plugins.module_utils._health_spec import (
    CHECK_TYPES,
    DAMPING_DEFAULTS,
    SERVICE_RE,
    TIMER_DEFAULTS,
    TYPE_KEYS,
    doc_rows,
)

# The spec's names the model's users read here; everything else: the spec itself.
__all__ = ["CHECK_TYPES", "DAMPING_DEFAULTS", "SERVICE_RE", "TIMER_DEFAULTS", "TYPE_KEYS", "doc_rows", "doc_table", "read_health"]


def read_health(reader, path, raw):
    """The VIP's normalised health configuration, or None when it has none.

    Records problems on `reader` (the model's Reader: host, path, value,
    reason) like every other input reader; returns None for a VIP without
    health checks, and None too when a problem was found (the VIP is then
    left out of the intent).
    """
    return spec.read_health(reader, path, raw)


def doc_table():
    """The markdown table of every key of a `health` section (docs/health.md, section "Every key")."""

    def cell(value):
        if value is None:
            return "none"
        if isinstance(value, bool):
            return "`%s`" % str(value).lower()
        if isinstance(value, list):
            return "`[%s]`" % ", ".join(str(v) for v in value)
        return "`%s`" % value

    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for row in doc_rows():
        lines.append("| `%s` | %s | %s | %s |" % (row["key"], row["type"], cell(row["default"]), row["meaning"].replace("|", "\\|") or "-"))
    return "\n".join(lines)
