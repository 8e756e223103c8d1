# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation and normalisation of a VIP's `health` (the checks that gate its announcement).

A VIP with a `health` section is announced by the node's health agent
(roles/healthcheck, agent roles/programs/files/anycast_healthd) exactly while all its checks pass;
a VIP without one is held permanently by the vips role. The normalised form
written into the intent carries every default explicitly, so the agent's
configuration is a plain copy of it and `fabric_intent` shows what will run.

The spec itself (check types, the keys as _schema.Field tables, the reading
function) is plugins/module_utils/_health_spec.py, the one file the agent
runs too: scripts/build-node-programs.py copies it into the agent's package
(roles/programs/files/anycast_healthd). This module is the controller's door
to it: read_health() with the model's problem reader, and SCHEMA_TABLES for
the generated docs.
"""

from __future__ import annotations

from ansible_collections.anycast.fabric.plugins.module_utils import _health_spec as spec
from ansible_collections.anycast.fabric.plugins.module_utils._health_spec import (
    CHECK_TYPES,
    DAMPING_DEFAULTS,
    SERVICE_RE,
    TIMER_DEFAULTS,
    TYPE_KEYS,
)

# The keys of a `health` section, as _schema.Table objects declared in the
# spec: schema.tables() collects them and scripts/data-model.py writes them
# into docs/health.md (the generated tables health, health_checks, health_damping).
SCHEMA_TABLES = spec.SCHEMA_TABLES

# The spec's names the model's users read here; everything else: the spec itself.
__all__ = ["CHECK_TYPES", "DAMPING_DEFAULTS", "SCHEMA_TABLES", "SERVICE_RE", "TIMER_DEFAULTS", "TYPE_KEYS", "read_health"]


def read_health(reader, path, raw):
    """The VIP's normalised health configuration, or None when it has none.

    Records problems on `reader` (the model's Reader: host, path, value,
    reason) like every other input reader; returns None for a VIP without
    health checks, and None too when a problem was found (the VIP is then
    left out of the intent).
    """
    return spec.read_health(reader, path, raw)
