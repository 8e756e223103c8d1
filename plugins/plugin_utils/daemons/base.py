# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a routing daemon driver provides on the controller.

A driver is everything the model, the renderer, the plan and the routing
role need to know about one daemon: which fabric roles may run it, its
configuration file, packages and service, its capabilities, how an intent
becomes its configuration text, and which configuration changes reset a
session. The registry (daemons/__init__.py) lists the drivers.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional

from ansible_collections.anycast.fabric.plugins.module_utils._daemon_identity import DaemonIdentity, IdentityField
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.inputs import HIDDEN
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import Intent

if TYPE_CHECKING:  # the model imports the drivers: only the checker reads these
    from jinja2 import Environment

    from ansible_collections.anycast.fabric.plugins.plugin_utils.model.hosts import Host
    from ansible_collections.anycast.fabric.plugins.plugin_utils.model.model import Fabric

# (capability, variable path, value): what a host's configuration needs (Driver.requirements).
Requirement = tuple[str, str, Any]
# (variable path, value, reason): a capability the daemon lacks (Driver.problems).
Problem = tuple[str, Any, str]

# Capabilities a driver may declare, and what each lets a fabric use.
CAPABILITIES = {
    "bfd": "BFD",
    "ttl_security": "GTSM (TTL security)",
    "graceful_restart": "graceful restart",
    "password": "TCP-MD5 keys",
    "communities": "communities",
    "large_communities": "large communities",
    "drain": "draining (the graceful-shutdown community)",
}


def diff_lines(diff: Optional[Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """Added and removed lines of a routing_config diff ({before, after} texts)."""
    if not diff:
        return [], []
    before = (diff.get("before") or "").splitlines()
    after = (diff.get("after") or "").splitlines()
    added: list[str] = []
    removed: list[str] = []
    for line in difflib.unified_diff(before, after, lineterm="", n=0):
        if line.startswith(("+++", "---", "@@")):
            continue
        (added if line.startswith("+") else removed).append(line[1:])
    return added, removed


class Driver:
    """One routing daemon, controller side. Subclasses set identity and the attributes, and implement view()."""

    # The daemon's record in module_utils/_daemon_identity.py, which the host's
    # daemon class reads too: name, configuration file, packages, service, capabilities.
    identity: Optional[DaemonIdentity] = None
    name: IdentityField[str] = IdentityField("name", "")
    config_file: IdentityField[str] = IdentityField("config_file", "")  # the rendered file's name (rendered/<host>/<config_file>)
    config_path: IdentityField[str] = IdentityField("config_path", "")  # where it lives on the host
    packages: IdentityField[tuple[str, ...]] = IdentityField("packages", ())  # Debian packages the routing role installs
    service: IdentityField[str] = IdentityField("service", "")  # the systemd unit the routing role keeps running
    capabilities: IdentityField[frozenset[str]] = IdentityField("capabilities", frozenset())  # keys of CAPABILITIES
    # Fabric roles (node, tor, spine) that may run this daemon, and those it is the default for.
    roles: frozenset[str] = frozenset()
    default_for: frozenset[str] = frozenset()
    template = ""  # the Jinja2 template in plugin_utils/render/templates
    # How the plan report introduces RV(commands) of routing_config (None: the daemon has no preview).
    commands_title: Optional[str] = None

    def view(self, intent: Intent) -> dict[str, Any]:
        """The daemon-specific decisions for INTENT, as a dict the template lays out."""
        raise NotImplementedError

    def render(self, env: Environment, intent: Intent, password: Optional[str]) -> str:
        """The configuration text. ENV: the renderer's Jinja2 environment; PASSWORD: the key or None."""
        return env.get_template(self.template).render(i=intent, v=self.view(intent), password=password)

    def files(self, env: Environment, intent: Intent, password: Optional[str]) -> dict[str, str]:
        """{file name: text} the host's render folder gets: its configuration file."""
        return {self.config_file: self.render(env, intent, password)}

    def resets(self, intent: Intent, observed: Mapping[str, Any]) -> set[str]:
        """Peer addresses of live sessions that the observed change would re-establish.

        OBSERVED: {"config": routing_config result, "bgp": bgp_info result}.
        The default is conservative: any change resets every live session.
        """
        sessions = (observed.get("bgp") or {}).get("sessions") or []
        return set(s["peer"] for s in sessions)

    def requirements(self, host: Host, fabric: Fabric) -> list[Requirement]:
        """(capability, variable path, value) for everything HOST's configuration would need."""
        bgp = fabric.bgp
        needs: list[Requirement] = []
        for key in ("bfd", "ttl_security", "graceful_restart"):
            if bgp.get(key):
                needs.append((key, "fabric_bgp.%s" % key, True))
        if bgp.get("password") is not None:
            needs.append(("password", "fabric_bgp.password", HIDDEN))
        for vip in getattr(host, "vips", None) or ():
            if vip.communities:
                needs.append(("communities", vip.path + ".communities", list(vip.communities)))
            if vip.large_communities:
                needs.append(("large_communities", vip.path + ".large_communities", list(vip.large_communities)))
        if host.role == "node":
            needs.append(("drain", "fabric_daemon", self.name))
        return needs

    def problems(self, host: Host, fabric: Fabric) -> list[Problem]:
        """(variable path, value, reason) for each capability HOST would need that this daemon lacks."""
        found: list[Problem] = []
        seen: set[tuple[str, str]] = set()
        for capability, path, value in self.requirements(host, fabric):
            if capability in self.capabilities or (capability, path) in seen:
                continue
            seen.add((capability, path))
            what = CAPABILITIES.get(capability, capability)
            if path == "fabric_daemon":
                reason = "%s cannot do %s, which every node needs" % (self.name, what)
            else:
                reason = "fabric_daemon %s cannot do %s: change this setting, or run another daemon on this host" % (self.name, what)
            found.append((path, value, reason))
        return found

    def facts(self) -> dict[str, Any]:
        """What the routing role needs (lookup('anycast.fabric.fabric_data', 'daemon'))."""
        return {
            "name": self.name,
            "roles": sorted(self.roles),
            "config_file": self.config_file,
            "config_path": self.config_path,
            "packages": list(self.packages),
            "service": self.service,
            "capabilities": sorted(self.capabilities),
        }
