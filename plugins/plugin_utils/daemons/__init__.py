# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry of routing daemon drivers (controller side).

Adding a daemon: write daemons/<name>.py (a Driver subclass), import it here
and add it to DRIVERS. The order of DRIVERS is the order in which the model
lists the choices of fabric_daemon.
"""

from __future__ import annotations

from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons.base import Driver
from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons.bird import Bird
from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons.external import External
from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons.frr import Frr
from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons.gobgp import GoBGP

DRIVERS: dict[str, Driver] = {
    driver.name: driver
    for driver in (
        Bird(),
        Frr(),
        GoBGP(),
        External(),
    )
}

__all__ = ["DRIVERS", "Driver", "default_for", "driver", "names", "names_for"]


def driver(name: str) -> Driver:
    """The driver of daemon NAME; KeyError when there is none."""
    return DRIVERS[name]


def names() -> tuple[str, ...]:
    return tuple(DRIVERS)


def names_for(role: str) -> tuple[str, ...]:
    """The daemons a host of fabric ROLE may run, in registry order."""
    return tuple(name for name, drv in DRIVERS.items() if role in drv.roles)


def default_for(role: str) -> str:
    """The daemon a host of fabric ROLE runs when fabric_daemon is not set."""
    return next(name for name, drv in DRIVERS.items() if role in drv.default_for)
