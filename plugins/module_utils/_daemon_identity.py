# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who each routing daemon is: the one declaration the controller and the hosts both read.

The controller's driver (plugin_utils/daemons/<name>.py, registry DRIVERS)
and the host's daemon class (module_utils/_<name>.py, registry DAEMONS) each
name their record here (``identity = BIRD``) and read its fields through
IdentityField; neither spells a name, path, service or package of its own.
Standard library only: host modules import it (AnsiballZ ships it with them).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import posixpath
from typing import Any, FrozenSet, Generic, NamedTuple, Optional, Tuple, TypeVar, cast


class DaemonIdentity(NamedTuple):
    """One daemon: its name (the value of fabric_daemon), configuration file and its owner, unit, Debian packages, capabilities.

    capabilities: a subset of CAPABILITIES, what a fabric may ask of the daemon.
    """

    name: str
    config_path: str
    owner: str
    group: str
    service: str
    packages: Tuple[str, ...]
    capabilities: FrozenSet[str]

    @property
    def config_file(self) -> str:
        """The file's name (rendered/<host>/<config_file> on the controller)."""
        return posixpath.basename(self.config_path)


# Every capability a daemon may have (plugin_utils/daemons/base.py CAPABILITIES says what each lets a fabric use).
CAPABILITIES = frozenset(["bfd", "ttl_security", "graceful_restart", "password", "communities", "large_communities", "drain"])

BIRD = DaemonIdentity(
    name="bird",
    config_path="/etc/bird/bird.conf",
    owner="bird",
    group="bird",
    service="bird",
    packages=("bird2",),
    capabilities=CAPABILITIES,
)
FRR = DaemonIdentity(
    name="frr",
    config_path="/etc/frr/frr.conf",
    owner="frr",
    group="frr",
    service="frr",
    packages=("frr", "frr-pythontools"),
    capabilities=CAPABILITIES,
)
# gobgpd runs as the unit's user gobgpd (DynamicUser=yes uses the static
# system user of that name the routing role creates): it reads the file
# through its group, nobody else can (the file may hold the BGP key).
GOBGP = DaemonIdentity(
    name="gobgp",
    config_path="/etc/gobgpd.conf",
    owner="root",
    group="gobgpd",
    service="gobgpd",
    packages=("gobgpd",),
    # No BFD in GoBGP (and no health-checked VIPs: the driver's problems()).
    capabilities=CAPABILITIES - frozenset(["bfd"]),
)

# In the order the registries list them (the order of fabric_daemon's choices).
IDENTITIES = collections.OrderedDict((identity.name, identity) for identity in (BIRD, FRR, GOBGP))


T = TypeVar("T")


class IdentityField(Generic[T]):
    """A class attribute read from the class's ``identity`` record (on the class and on its instances).

    A subclass may still set the attribute itself (a test double without an
    identity); a class without an identity reads DEFAULT.
    T: the type of the record's field (and of DEFAULT).
    """

    def __init__(self, field: str, default: Optional[T] = None) -> None:
        self.field = field
        self.default = default

    def __get__(self, instance: Any, owner: type) -> T:
        identity = getattr(owner, "identity", None)
        return cast(T, self.default if identity is None else getattr(identity, self.field))
