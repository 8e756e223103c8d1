# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure rendering of a host intent into its routing daemon's configuration text.

The decisions (names, grouping, which lines differ from the daemon's defaults)
are made in Python by each daemon's driver (plugin_utils/daemons/), where they
are unit-tested; the templates only lay the result out. No host is contacted
and nothing but the intent is read.
"""

from __future__ import annotations

import os

import dataclasses
from collections.abc import Mapping
from typing import Any, Optional, Union

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ansible_collections.anycast.fabric.plugins.module_utils._contract import DRAIN_STATES, GSHUT, IN_SERVICE, INTENT_SCHEMA
from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons import DRIVERS, driver
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import ExportEntry, Intent, IntentError

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")


def config_filename(intent: Union[Intent, Mapping[str, Any]]) -> str:
    """The rendered file's name for INTENT's daemon (KeyError when it is not an intent)."""
    return driver(intent.daemon if isinstance(intent, Intent) else intent["daemon"]).config_file


class RenderError(ValueError):
    pass


def render(intent: Union[Intent, Mapping[str, Any]], password: Optional[str] = None, drain: str = IN_SERVICE) -> str:
    """The configuration text for one host.

    password: the BGP TCP-MD5 key (fabric_bgp.password). Intents only record
    whether a key is set, so that facts never carry it.
    drain: the node's drain state (DRAIN_STATES); routers ignore it.
    """
    typed, secret = _checked(intent, password, drain)
    return driver(typed.daemon).render(_environment(), typed, secret)


def rendered_files(intent: Union[Intent, Mapping[str, Any]], password: Optional[str] = None) -> dict[str, str]:
    """{file name: text} of one host's render folder: its configuration (a router managed elsewhere: its hand-off)."""
    typed, secret = _checked(intent, password, IN_SERVICE)
    return driver(typed.daemon).files(_environment(), typed, secret)


def _checked(intent: Union[Intent, Mapping[str, Any]], password: Optional[str], drain: str) -> tuple[Intent, Optional[str]]:
    """INTENT as a record (drain applied to a node's export policy) and the key it is rendered with; RenderError when it cannot be."""
    if not isinstance(intent, Intent):
        if not isinstance(intent, Mapping) or intent.get("schema") != INTENT_SCHEMA:
            why = "%s: intent schema %r is not %d: recompute it with anycast.fabric.fabric_facts"
            shown = intent if isinstance(intent, Mapping) else {}
            raise RenderError(why % (shown.get("hostname"), shown.get("schema"), INTENT_SCHEMA))
        try:
            intent = Intent.from_dict(intent, "intent of %s" % intent.get("hostname"))
        except IntentError as exc:
            raise RenderError(str(exc)) from None
    if intent.bgp.password and not password:
        raise RenderError("%s: the fabric uses a BGP password (fabric_bgp.password) but none was given to the renderer" % intent.hostname)
    if intent.daemon not in DRIVERS:
        raise RenderError("%s: daemon %r is not one of %s" % (intent.hostname, intent.daemon, ", ".join(DRIVERS)))
    if drain not in DRAIN_STATES:
        raise RenderError("%s: drain state %r is not one of %s" % (intent.hostname, drain, ", ".join(DRAIN_STATES)))
    secret = password if intent.bgp.password else None
    if intent.role == "node" and drain != IN_SERVICE:
        intent = dataclasses.replace(intent, export_policy=drained_export_policy(intent, drain))
    return intent, secret


_ENV: Optional[Environment] = None


def _environment() -> Environment:
    global _ENV
    if _ENV is None:
        _ENV = Environment(
            loader=FileSystemLoader(TEMPLATES),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            autoescape=False,  # configuration text, not HTML
        )
    return _ENV


def drained_export_policy(intent: Intent, drain: str) -> dict[str, tuple[ExportEntry, ...]]:
    """The node's export policy in a drain state: VIPs tagged or left out.

    Each entry is split into its VIPs and its other prefixes (pod CIDRs), so a
    drain never touches pod routes.
    """
    vips = set(intent.vip_prefixes())
    policy: dict[str, tuple[ExportEntry, ...]] = {}
    for fam, entries in intent.export_policy.items():
        changed: list[ExportEntry] = []
        for entry in entries:
            others = tuple(p for p in entry.prefixes if p not in vips)
            mine = tuple(p for p in entry.prefixes if p in vips)
            if others:
                changed.append(dataclasses.replace(entry, prefixes=others))
            if mine and drain == "draining":
                communities = entry.communities + ((GSHUT,) if GSHUT not in entry.communities else ())
                changed.append(dataclasses.replace(entry, prefixes=mine, communities=communities))
        policy[fam] = tuple(changed)
    return policy
