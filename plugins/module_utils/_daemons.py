# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry of routing daemons on managed hosts (routing_config, bgp_info).

Adding a daemon: write module_utils/_<name>.py (a _daemon.Daemon subclass),
import it here and add it to DAEMONS; document its name and options in the
doc fragment anycast.fabric.daemon. Imports stay explicit and absolute:
AnsiballZ ships only the module_utils a module imports statically.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.anycast.fabric.plugins.module_utils._bird import Bird
from ansible_collections.anycast.fabric.plugins.module_utils._daemon import DaemonError, find_secrets_with, mask_secrets_with
from ansible_collections.anycast.fabric.plugins.module_utils._frr import Frr
from ansible_collections.anycast.fabric.plugins.module_utils._gobgp import GoBGP

DAEMONS = {
    "bird": Bird,
    "frr": Frr,
    "gobgp": GoBGP,
}
# bgp_info's daemon=auto falls back to this one when none is present (its error then names what is missing).
AUTO_FALLBACK = "frr"

__all__ = ["DAEMONS", "DaemonError", "auto", "create", "find_secrets", "mask_secrets", "option_specs"]

_SECRET_RES = tuple(regex for cls in DAEMONS.values() for regex in cls.secret_res)


def option_specs():
    """The argument spec entries of every daemon's own options (bird_socket, frr_reload_path, ...)."""
    specs = {}
    for cls in DAEMONS.values():
        specs.update(cls.options)
    return specs


def create(module, name):
    """The daemon NAME, configured from the module's parameters."""
    return DAEMONS[name].from_params(module)


def auto(module):
    """The name of the first daemon present on the host, in DAEMONS order."""
    return next((name for name, cls in DAEMONS.items() if cls.present(module)), AUTO_FALLBACK)


def find_secrets(text):
    """The BGP passwords written in config TEXT, in any registered daemon's syntax."""
    return find_secrets_with(_SECRET_RES, text)


def mask_secrets(text):
    """Hide BGP passwords in config text, diffs and command lists (any registered daemon's syntax)."""
    return mask_secrets_with(_SECRET_RES, text)
