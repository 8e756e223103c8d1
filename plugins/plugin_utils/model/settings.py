# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fabric-wide settings: the BGP policy (`fabric_bgp`) and the node ASN scheme."""

from __future__ import annotations

from ansible_collections.anycast.fabric.plugins.module_utils._schema import REQUIRED, Field, Table

ASN_SCHEMES = ("per_rack", "per_node")
# How ToRs peer with their nodes: every node named in its ToRs' configs, or any
# address of the rack segment accepted into the node peer-group.
NODE_PEERING = ("static", "dynamic")
DYNAMIC = "dynamic"
# FRR's `bgp listen limit` without the line: 100 dynamic neighbours per ToR.
FRR_LISTEN_LIMIT = 100
# Kubernetes' node-cidr-mask-size defaults (kube-controller-manager).
POD_NODE_PREFIX_LENGTHS = {4: 24, 6: 64}
PRIVATE_ASN_BASE = 4200000000
RESERVED_ASNS = {0: "reserved (RFC 7607)", 23456: "AS_TRANS (RFC 6793)", 65535: "reserved (RFC 7300)", 4294967295: "reserved (RFC 7300)"}
MAX_ASN = 4294967295
PASSWORD_MAX = 80  # TCP-MD5 keys are at most 80 bytes (Linux TCP_MD5SIG_MAXKEYLEN)

_SECONDS = Field("seconds", "integer", min=1, max=65535, unit="s")

# `fabric_bgp`: every key, its check and its safe default, declared once. The
# reasons behind the defaults are in docs/rendering.md.
BGP_FIELDS = (
    # Data-center timers: a dead peer without BFD is dropped after 9 s, not
    # the 180-240 s of the daemons' own defaults.
    Field(
        "keepalive_time",
        "integer",
        "BGP keepalive interval of all sessions",
        default=3,
        min=1,
        max=21845,
        unit="s",
        restrictions="must be lower than `hold_time`",
    ),
    Field("hold_time", "integer", "BGP hold time of all sessions", default=9, min=3, max=65535, unit="s"),
    # BFD removes a silently dead node from ECMP in about 0.3 s; the same
    # explicit timers are rendered on both ends so detection is symmetric.
    Field("bfd", "boolean", "BFD on all sessions", default=True),
    Field("bfd_interval_ms", "integer", "BFD transmit and receive interval of all BFD sessions (min rx = min tx)", default=100, min=10, max=60000, unit="ms"),
    Field("bfd_multiplier", "integer", "BFD detection multiplier of all BFD sessions", default=3, min=2, max=255),
    # Off: a ToR acting as graceful-restart helper keeps a dead node's routes
    # as stale for the restart time, which defeats BFD.
    Field("graceful_restart", "boolean", "BGP graceful restart on all hosts", default=False),
    # FRR takes the key as one word; BIRD and GoBGP (a TOML string) quote
    # it, BIRD without escapes, so quotes and backslashes are refused. The
    # kernel's limit is in bytes: a key of 41 two-byte characters is 82
    # bytes, too long.
    Field(
        "password",
        "string",
        "TCP-MD5 key of every fabric session (the kernel's limit counts bytes)",
        default=None,
        nullable=True,
        secret=True,
        min_length=1,
        max_length=PASSWORD_MAX,
        length_unit="bytes",
        charset="word",
    ),
    # GTSM makes FRR run multihop BFD, which BIRD's single-hop BFD never
    # answers; the model refuses the combination with BFD.
    Field(
        "ttl_security",
        "boolean",
        "GTSM (TTL security, one hop) on all sessions",
        default=False,
        restrictions="cannot be `true` while `bfd` is `true`",
    ),
    Field(
        "node_peering",
        "string",
        "how ToRs peer with their nodes: `static` names every node in its ToRs' configs (exact per-node filters); "
        "`dynamic` accepts any node of the rack segment (FRR `bgp listen range`), so adding or removing a node changes "
        "no ToR or spine configuration (see [Dynamic node peering](#dynamic-node-peering))",
        default="static",
        choices=NODE_PEERING,
    ),
    Field(
        "listen_limit",
        "integer",
        "dynamic node peering: at most this many dynamic sessions per ToR (FRR `bgp listen limit`; a node of both "
        "IP versions counts twice); the spine's per ToR prefix limit is `max_prefixes` × `listen_limit`",
        default=FRR_LISTEN_LIMIT,
        min=1,
        max=65535,
    ),
    Field(
        "weighted_ecmp",
        "boolean",
        "weighted anycast: nodes announce their VIPs with the link-bandwidth extended community (their weight), ToRs "
        "announce each VIP to their spines with the sum of their nodes' weights, and ToRs and spines spread traffic in "
        "proportion (see [Weighted anycast](#weighted-anycast)); `false`: every ECMP path gets an equal share",
        default=True,
    ),
    Field(
        "max_prefixes",
        "integer",
        "prefix limit: the ToR's per node session; the spine's per ToR session is `max_prefixes` × nodes in that ToR's rack "
        "(with dynamic node peering `max_prefixes` × `listen_limit`). "
        "A node that would announce more prefixes of one family (VIPs plus pod CIDRs) is refused at validation, "
        "since its ToRs would drop the session",
        default=100,
        min=1,
        max=4294967295,
    ),
    Field("ecmp_paths", "integer", "ECMP paths of ToRs and spines (`maximum-paths`)", default=64, min=1, max=256),
    # BIRD only: after a session error, BIRD waits `error wait time` before it
    # reconnects (60-300 s by default), doubling on every error of a sequence
    # (errors less than `error forget time` apart, 300 s by default); these
    # bring a node back within seconds. A ToR's bgpd restarting costs a node
    # two or three errors in a row (BFD down, connection reset by the new
    # bgpd, BFD down again): with a 30 s maximum and a 300 s memory the
    # sessions took up to 62 s to come back, with 10 s and 60 s about 10 s
    # (benchmarks/failover.py, frr_kill_tor).
    Field("connect_retry_time", "integer", "BIRD only: `connect retry time`", default=2, min=1, max=65535, unit="s"),
    Field(
        "error_wait_time",
        "list",
        "BIRD only: `error wait time` after a session error",
        default=[1, 10],
        items=_SECONDS,
        length=2,
        message="must be a list of two integers [min, max] in seconds",
        restrictions="`[min, max]`, min ≤ max",
    ),
    Field(
        "error_forget_time",
        "integer",
        "BIRD only: `error forget time`: errors closer together than this make `error wait time` double",
        default=60,
        min=1,
        max=65535,
        unit="s",
    ),
)
BGP_TABLE = Table("fabric_bgp", BGP_FIELDS, key="Key", columns=("type", "default", "restrictions", "description"))
BGP_DEFAULTS = BGP_TABLE.defaults()

# The variables that must be the same on every fabric host.
FABRIC_FIELDS = (
    Field(
        "fabric_anycast_pools",
        "list",
        "the prefixes every VIP must lie in; prefixes with no host bits set, disjoint within an IP version",
        default=REQUIRED,
        default_text="**required** (may be `[]`, but then no VIP is valid)",
        items=Field("prefix", "prefix"),
        example="`[198.51.100.0/24, 2001:db8:ac::/48]`",
    ),
    Field(
        "fabric_bgp",
        "mapping",
        "the BGP policy of every fabric session, keys below; `null` or `{}` means all defaults",
        default_text="every key has a default",
        secret=True,
        example='`{password: "{{ vault_key }}", max_prefixes: 50}`',
    ),
    Field(
        "fabric_node_asn_scheme",
        "string",
        "how nodes without `fabric_asn` get their ASN (see [Node ASNs](#node-asns))",
        default="per_rack",
        choices=ASN_SCHEMES,
        example="`per_node`",
    ),
    Field(
        "fabric_node_asn_base",
        "integer",
        "the first ASN of the derived node ASNs",
        default=PRIVATE_ASN_BASE,
        min=1,
        max=MAX_ASN - 1,
        restrictions="not 23456 or 65535 (reserved)",
        example="`64512`",
    ),
    Field(
        "fabric_pod_pools",
        "list",
        "the cluster's pod CIDRs (what `--cluster-cidr` says): every node's pod CIDR must lie in one, at its node prefix length. "
        "Required with dynamic node peering when nodes announce pod CIDRs: ToRs and spines then accept exactly such prefixes "
        "(see [Dynamic node peering](#dynamic-node-peering))",
        default=[],
        doc_type="list of prefixes or mappings `{prefix, node_prefix_length}`",
        restrictions="disjoint, outside `fabric_anycast_pools`; `node_prefix_length` (default %d for IPv4, %d for IPv6, "
        "Kubernetes' `--node-cidr-mask-size`) at least the pool's length" % (POD_NODE_PREFIX_LENGTHS[4], POD_NODE_PREFIX_LENGTHS[6]),
        example="`[10.244.0.0/16, {prefix: fd00:244::/56, node_prefix_length: 64}]`",
    ),
)
FABRIC_TABLE = Table("fabric_variables", FABRIC_FIELDS, key="Variable", columns=("type", "default", "restrictions", "description", "example"))
# Defaults of the fabric-wide variables that have one.
FABRIC_DEFAULTS = FABRIC_TABLE.defaults()

SCHEMA_TABLES = (BGP_TABLE, FABRIC_TABLE)


def read_bgp(reader, value):
    """Validate `fabric_bgp` and merge it over the defaults."""
    path = "fabric_bgp"
    # Never echoes a value, not even a wrong one: fabric_bgp holds the key.
    bgp = reader.fields(path, BGP_TABLE, value, secret=True)
    if bgp is None:
        return dict(BGP_DEFAULTS)
    low_high = bgp["error_wait_time"]
    if low_high is not None and low_high[0] > low_high[1]:
        reader.fail(path + ".error_wait_time", value["error_wait_time"], "the first value (min) must not exceed the second (max)")
        bgp["error_wait_time"] = None
    _cross_check(reader, bgp)
    return bgp


def _cross_check(reader, bgp):
    keepalive, hold = bgp["keepalive_time"], bgp["hold_time"]
    if keepalive is not None and hold is not None and keepalive >= hold:
        reader.fail("fabric_bgp.keepalive_time", keepalive, "must be lower than fabric_bgp.hold_time (%s)" % hold)
    if bgp["ttl_security"] and bgp["bfd"]:
        reader.fail(
            "fabric_bgp.ttl_security",
            True,
            "cannot be combined with fabric_bgp.bfd: with ttl-security FRR runs multihop BFD while BIRD runs single-hop BFD, "
            "so BFD never comes up; disable one of them",
        )


def read_asn_scheme(reader, scheme, base):
    scheme = reader.field("fabric_node_asn_scheme", FABRIC_TABLE.field("fabric_node_asn_scheme"), scheme)
    base = reader.field("fabric_node_asn_base", FABRIC_TABLE.field("fabric_node_asn_base"), base)
    if base is not None and base in RESERVED_ASNS:
        reader.fail("fabric_node_asn_base", base, "is %s" % RESERVED_ASNS[base])
        base = None
    return scheme, base


def asn_problem(value):
    """Why an ASN cannot be used, or None."""
    if value in RESERVED_ASNS:
        return "is %s and cannot be used" % RESERVED_ASNS[value]
    return None
