# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The intent: what the model hands on, as frozen, slotted, typed records.

Every stage after the model (daemon drivers and their templates, plan, drain,
rollout, the run folder) reads these attributes; nothing else defines what an
intent holds. The one dictionary form (`to_dict()` / `Intent.from_dict()`,
versioned by INTENT_SCHEMA) is what crosses a process boundary: the run
folder's JSON, the `fabric_intent` fact, host modules' arguments.

Per-VIP keys that an intent carries are declared here, once: a `carried()`
field holds the inventory key's `Field` (type, range, docs), so the VIP keys'
table (schema.VIP_TABLE, docs/data-model.md), the model's reader
(hosts._read_vip) and the export grouping (keys of `Announcement`) all come
from the attribute. A new per-VIP key is one attribute here, plus what each
daemon's view renders from it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from ansible_collections.anycast.fabric.plugins.module_utils._contract import DEFAULT_VIP_INTERFACE, FAMILIES, INTENT_SCHEMA, PEER_ROLES
from ansible_collections.anycast.fabric.plugins.module_utils._schema import NO_DEFAULT, Field
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.inputs import NAME_RULE
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.settings import DYNAMIC, FRR_LISTEN_LIMIT, NODE_PEERING

ROLES = ("node", "tor", "spine")
FAMILY_NAMES = tuple(name for _version, name in FAMILIES)

# Per VIP and kind (standard, large): FRR's `set community ... additive` line
# must stay within its 4,096-character line buffer and 256 words (measured
# with vtysh -C, FRR 8.4.4), with room for the graceful-shutdown community.
MAX_COMMUNITIES = 64
MAX_WEIGHT = 100

_INPUT = "input"  # metadata key of a carried field: the inventory key's Field
_ROLES = "roles"  # metadata key: the intent roles (or peer roles) that have this attribute
_PER_NODE = "per_node"  # metadata key: a carried key each node may set its own way


class IntentError(ValueError):
    """A dictionary is not an intent of this schema."""


def carried(declaration: Field, default: Any, per_node: bool = False) -> Any:
    """A record attribute read from the inventory key DECLARATION declares (same name).

    Every node that announces a VIP must give it the same value of each
    carried key (rules.py reports a difference), unless PER_NODE: such a key
    (the health checks) describes the node's own copy.
    """
    return field(default=default, metadata={_INPUT: declaration, _PER_NODE: per_node})  # pylint: disable=invalid-field-call


def only(roles: tuple[str, ...], default: Any = None, factory: Any = None) -> Any:
    """An attribute only records of ROLES have: to_dict() leaves it out for the others."""
    if factory is not None:
        return field(default_factory=factory, metadata={_ROLES: roles})  # pylint: disable=invalid-field-call
    return field(default=default, metadata={_ROLES: roles})  # pylint: disable=invalid-field-call


def carried_fields(record: type) -> tuple[Field, ...]:
    """The inventory keys RECORD's carried attributes are read from, in declaration order."""
    return tuple(f.metadata[_INPUT] for f in dataclasses.fields(record) if _INPUT in f.metadata)


def shared_keys(record: type) -> tuple[str, ...]:
    """The carried keys of RECORD every node must set alike (not per_node)."""
    return tuple(f.name for f in dataclasses.fields(record) if _INPUT in f.metadata and not f.metadata[_PER_NODE])


def _plain(value: Any) -> Any:
    """VALUE as JSON-ready data: records to dicts, tuples to lists."""
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _frozen(value: Any) -> Any:
    """JSON data as it is kept in a record: lists to tuples (mappings stay mappings)."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, Mapping):
        return {k: _frozen(v) for k, v in value.items()}
    return value


T = TypeVar("T", bound="Record")


# How an attribute holds records: one, a tuple of them, or {family: tuple of them}.
ONE, MANY, BY_FAMILY = "one", "many", "by_family"


class Record:
    """What every intent record can do: become its dict, and be read back from one."""

    __slots__ = ()
    # Attributes that hold records, by name: (record type, ONE / MANY / BY_FAMILY).
    NESTED: ClassVar[Mapping[str, tuple[type[Record], str]]] = {}

    def _role(self) -> str | None:
        return None

    def to_dict(self) -> dict[str, Any]:
        role = self._role()
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            roles = f.metadata.get(_ROLES)
            if roles is not None and role not in roles:
                continue
            out[f.name] = _plain(getattr(self, f.name))
        return out

    @classmethod
    def from_dict(cls: type[T], data: Mapping[str, Any], where: str = "intent") -> T:
        if not isinstance(data, Mapping):
            raise IntentError("%s: must be a mapping, not %s" % (where, type(data).__name__))
        names = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        if "schema" in names and "schema" not in data:
            raise IntentError("%s: has no schema (an intent records INTENT_SCHEMA %d)" % (where, INTENT_SCHEMA))
        unknown = sorted(str(k) for k in data if k not in names)
        if unknown:
            raise IntentError("%s: unknown keys %s (an intent of another version of anycast.fabric?)" % (where, ", ".join(unknown)))
        values: dict[str, Any] = {}
        for name, value in data.items():
            nested = cls.NESTED.get(name)
            path = "%s.%s" % (where, name)
            if nested is None:
                values[name] = _frozen(value)
                continue
            record, shape = nested
            if shape == ONE:
                values[name] = record.from_dict(value, path)
            elif shape == MANY:
                values[name] = _many(record, value, path)
            else:
                if not isinstance(value, Mapping) or any(fam not in FAMILY_NAMES for fam in value):
                    raise IntentError("%s: must be a mapping of %s to lists, not %s" % (path, " or ".join(FAMILY_NAMES), _kind(value)))
                values[name] = {fam: _many(record, items, "%s.%s" % (path, fam)) for fam, items in value.items()}
        try:
            return cls(**values)
        except TypeError as exc:
            raise IntentError("%s: %s" % (where, exc)) from None


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _many(record: type[Record], value: object, path: str) -> tuple[Any, ...]:
    if not isinstance(value, (list, tuple)):
        raise IntentError("%s: must be a list, not %s" % (path, _kind(value)))
    return tuple(record.from_dict(v, "%s[%d]" % (path, n)) for n, v in enumerate(value))


# VIPs ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Announcement(Record):
    """The per-VIP keys that change how a VIP is announced.

    A node exports the VIPs whose announcements are equal in one policy entry
    (ExportEntry), so a key added here reaches every daemon's export policy.
    """

    communities: tuple[str, ...] = carried(
        Field(
            "communities",
            "list",
            "standard communities the VIP is announced with; de-duplicated and sorted numerically",
            default=[],
            items=Field("community", "community", doc_type="string `ASN:VALUE`"),
            restrictions="each part 0-65535; at most %d" % MAX_COMMUNITIES,
        ),
        (),
    )
    large_communities: tuple[str, ...] = carried(
        Field(
            "large_communities",
            "list",
            "large communities the VIP is announced with; de-duplicated and sorted numerically",
            default=[],
            items=Field("community", "community", doc_type="string `GLOBAL:LOCAL1:LOCAL2`"),
            restrictions="each part 0-4294967295; at most %d" % MAX_COMMUNITIES,
        ),
        (),
    )

    weight: int = carried(
        Field(
            "weight",
            "integer",
            "the node's share of this VIP's traffic against the other nodes announcing it (with "
            "`fabric_bgp.weighted_ecmp`): a node of weight 2 gets twice the share of a node of weight 1 at its ToRs, "
            "and adds 2 to its rack's weight at the spines",
            default=1,
            default_text="the node's `fabric_vip_weight` (1)",
            min=1,
            max=MAX_WEIGHT,
            restrictions="other than 1 only with `fabric_bgp.weighted_ecmp: true`",
        ),
        1,
        per_node=True,
    )

    def announcement(self) -> Announcement:
        """Only the announcement's keys (the export grouping's key)."""
        return Announcement(**{f.name: getattr(self, f.name) for f in dataclasses.fields(Announcement)})


@dataclass(frozen=True, slots=True, kw_only=True)
class Vip(Announcement):
    """One anycast VIP of a node."""

    address: str
    prefix: str  # the host route: address/32 or address/128
    family: str  # ipv4 or ipv6
    name: str | None = carried(Field("name", "name", "recorded in the intent; it is not rendered", default=NO_DEFAULT, rule=NAME_RULE), None)
    # The checks that gate the announcement, normalised by model/health.py (None: always announced).
    health: Mapping[str, Any] | None = carried(
        Field(
            "health",
            "mapping",
            "the checks that gate the VIP's announcement (see [health.md](health.md)); without it the VIP is always announced",
            default_text="none",
        ),
        None,
        per_node=True,
    )

    def __post_init__(self) -> None:
        # Kept as read back from its dict form (lists as tuples), so a record
        # the model built equals its own round trip.
        if self.health is not None:
            object.__setattr__(self, "health", _frozen(self.health))


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportEntry(Announcement):
    """A node's announcements of one family that carry the same announcement keys."""

    prefixes: tuple[str, ...]
    # The link bandwidth (Mbps) the node announces them with (weighted ECMP): weight x the
    # node's bandwidth unit (model/weights.py); 0: none.
    bandwidth: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class PodCidr(Record):
    prefix: str
    family: str


# Peers ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteExport(Record):
    """What a spine announces to an upstream with one weighting (AS-path prepends, MED)."""

    prefixes: tuple[str, ...]
    prepend: int = 0
    med: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Peer(Record):
    """One BGP session of a host, in one address family."""

    NESTED: ClassVar[Mapping[str, tuple[type[Record], str]]] = {"export_policy": (SiteExport, MANY)}

    name: str  # the peer's inventory host name (upstreams: their name)
    id: str  # a unique identifier on this host that BIRD and FRR accept
    role: str  # one of PEER_ROLES
    family: str
    address: str
    local_address: str
    asn: int
    accept: tuple[str, ...] = ()  # prefixes accepted from the peer
    export: tuple[str, ...] = ()  # prefixes announced to the peer
    max_prefixes: int | None = None
    # Nodes at a ToR with dynamic node peering: the model knows the session, the ToR's configuration does not name it.
    dynamic: bool = only(("node",), False)
    # An unnumbered ToR-spine link (fabric_uplinks): the session runs over this host's interface
    # (IPv6 link-local; IPv4 with extended next hop), one session for both families. address and
    # local_address are then that interface's name (daemons key the session, and the routes
    # through it, by the interface); remote_interface is the other end's.
    interface: str | None = only(("tor", "spine"))
    remote_interface: str | None = only(("tor", "spine"))
    # Upstreams only: the announcements grouped by weighting, and the aggregates among them.
    export_policy: tuple[SiteExport, ...] = only(("upstream",), ())
    aggregates: tuple[str, ...] = only(("upstream",), ())

    def _role(self) -> str | None:
        return self.role

    @property
    def far_address(self) -> str:
        """The other end's own address for this session: its address, or its interface on an unnumbered link."""
        return self.remote_interface if self.interface and self.remote_interface else self.address

    def __post_init__(self) -> None:
        if self.role not in PEER_ROLES:
            raise TypeError("peer role %r is not one of %s" % (self.role, ", ".join(PEER_ROLES)))


@dataclass(frozen=True, slots=True, kw_only=True)
class PrefixRange(Record):
    """Prefixes inside PREFIX whose length lies in LOW..HIGH (a prefix-list entry with ge/le)."""

    prefix: str
    family: str
    low: int
    high: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ListenRange(Record):
    """A ToR's rack segment: any node peering from an address in it is accepted (dynamic node peering)."""

    prefix: str
    family: str


# The intent ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Bgp(Record):
    """The fabric's BGP policy as the renderer sees it (settings.BGP_TABLE's keys; the key itself never)."""

    keepalive_time: int
    hold_time: int
    bfd: bool
    bfd_interval_ms: int
    bfd_multiplier: int
    graceful_restart: bool
    password: bool  # whether sessions have a TCP-MD5 key; the key goes to the renderer apart
    ttl_security: bool
    max_prefixes: int
    ecmp_paths: int
    connect_retry_time: int
    error_wait_time: tuple[int, int]
    error_forget_time: int
    node_peering: str = NODE_PEERING[0]
    listen_limit: int = FRR_LISTEN_LIMIT
    weighted_ecmp: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Intent(Record):
    """Everything one host's configuration depends on, normalised and sorted."""

    NESTED: ClassVar[Mapping[str, tuple[type[Record], str]]] = {
        "bgp": (Bgp, ONE),
        "peers": (Peer, MANY),
        "vips": (Vip, MANY),
        "pod_cidrs": (PodCidr, MANY),
        "export_policy": (ExportEntry, BY_FAMILY),
        "listen": (ListenRange, MANY),
        "pool_ranges": (PrefixRange, MANY),
    }

    schema: int = INTENT_SCHEMA
    hostname: str
    role: str
    daemon: str
    site: str
    rack: str | None
    asn: int
    router_id: str
    ipv4: str
    ipv6: str | None
    bgp: Bgp
    peers: tuple[Peer, ...] = ()
    # Nodes.
    vip_interface: str = only(("node",), DEFAULT_VIP_INTERFACE)
    vips: tuple[Vip, ...] = only(("node",), ())
    pod_cidrs: tuple[PodCidr, ...] = only(("node",), ())
    exports: Mapping[str, tuple[str, ...]] = only(("node",), factory=dict)
    export_policy: Mapping[str, tuple[ExportEntry, ...]] = only(("node",), factory=dict)
    # ToRs.
    uplink_ipv4: str | None = only(("tor",))
    uplink_ipv6: str | None = only(("tor",))
    # ToRs with dynamic node peering: the rack segments nodes are accepted from.
    listen: tuple[ListenRange, ...] = only(("tor",), ())
    # ToRs and spines with dynamic node peering: what is accepted from below
    # (and a ToR announces up), by the pools instead of per node.
    pool_ranges: tuple[PrefixRange, ...] = only(("tor", "spine"), ())
    # Spines.
    site_community: str | None = only(("spine",))

    def _role(self) -> str | None:
        return self.role

    def __post_init__(self) -> None:
        if self.schema != INTENT_SCHEMA:
            raise TypeError("intent schema %r is not %d: the intent comes from another version of anycast.fabric" % (self.schema, INTENT_SCHEMA))
        if self.role not in ROLES:
            raise TypeError("role %r is not one of %s" % (self.role, ", ".join(ROLES)))

    @property
    def is_node(self) -> bool:
        return self.role == "node"

    def vip_prefixes(self) -> list[str]:
        """The node's VIPs as prefixes, in intent order ([] for routers)."""
        return [v.prefix for v in self.vips]

    def peers_of(self, role: str) -> tuple[Peer, ...]:
        return tuple(p for p in self.peers if p.role == role)

    @property
    def dynamic(self) -> bool:
        """Whether the fabric peers ToRs with their nodes dynamically (listen ranges)."""
        return self.bgp.node_peering == DYNAMIC


def as_intent(value: Intent | Mapping[str, Any], where: str = "intent") -> Intent:
    """VALUE as an Intent: the record itself, or one read back from its dict form."""
    if isinstance(value, Intent):
        return value
    return Intent.from_dict(value, where)


def as_intents(values: Mapping[str, Intent | Mapping[str, Any]]) -> dict[str, Intent]:
    """{host: Intent} from {host: Intent or dict}."""
    return {name: as_intent(value, "intent of %s" % name) for name, value in values.items()}
