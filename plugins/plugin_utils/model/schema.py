# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory's input schema: per-host variables and VIP keys, and the registry of every table.

The field format is plugins/module_utils/_schema.py. Each module that reads
inputs declares its tables next to its reader and lists them in a
module-level `SCHEMA_TABLES`:

- settings.py: `fabric_bgp` keys and the fabric-wide variables;
- edge.py: the keys of a `fabric_upstreams` entry (and the VIP scope keys);
- uplinks.py: the keys of a `fabric_uplinks` entry (a ToR's unnumbered links);
- this file: the per-host variables and the keys of a `fabric_vips` entry (the keys the intent carries are declared on intent.Vip);
- health.py: the keys of a `health` section (its checks and damping).

`tables()` collects them by name; scripts/data-model.py writes each one between
its markers in docs/*.md and `--check` fails when a generated table is stale.
"""

from __future__ import annotations

from ansible_collections.anycast.fabric.plugins.module_utils import _net_rules, _schema
from ansible_collections.anycast.fabric.plugins.module_utils._contract import DEFAULT_STATE_DIR, DEFAULT_VIP_INTERFACE
from ansible_collections.anycast.fabric.plugins.module_utils._schema import REQUIRED, Field, Table
from ansible_collections.anycast.fabric.plugins.plugin_utils import daemons
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import edge, health, intent, settings, uplinks
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.inputs import NAME_RULE

ROLES = intent.ROLES
DEFAULT_SITE = "default"
# A Linux interface name (at most 15 characters), one word for BIRD and FRR:
# module_utils/_net_rules.py's rule, the health agent's too.
INTERFACE_RE = _net_rules.INTERFACE_RE
INTERFACE_RULE = _net_rules.INTERFACE_RULE
_RESERVED = "not 23456 or 65535 (reserved)"


def _daemon_field():
    """`fabric_daemon`: its choices and defaults come from the daemon registry."""
    names = []
    for role in ROLES:
        names.extend(n for n in daemons.names_for(role) if n not in names)
    by_role = "; ".join("%s: %s" % (role, ", ".join("`%s`" % n for n in daemons.names_for(role))) for role in ROLES)
    defaults = "; ".join("%s `%s`" % (role, daemons.default_for(role)) for role in ROLES)
    return Field(
        "fabric_daemon",
        "string",
        "the routing daemon the host runs; `external`: a ToR or spine managed elsewhere, which the collection never "
        "connects to (see [Routers managed elsewhere](#routers-managed-elsewhere))",
        default_text=defaults,
        choices=tuple(names),
        restrictions="per role: %s" % by_role,
        example="`frr`",
    )


def _daemons_text(role):
    default = daemons.default_for(role)
    names = ["`%s`%s" % (n, " (default)" if n == default else "") for n in daemons.names_for(role)]
    return "daemon: " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1])


# The inventory groups that give a host its role (the role's daemons come from the registry).
GROUP_FIELDS = (
    Field("fabric_nodes", "list", "node: a Kubernetes node or service host that announces VIPs and pod CIDRs", restrictions=_daemons_text("node")),
    Field("fabric_tors", "list", "tor: a top-of-rack switch", restrictions=_daemons_text("tor")),
    Field("fabric_spines", "list", "spine: the site's border, peering with its ToRs and its upstreams", restrictions=_daemons_text("spine")),
)
GROUP_TABLE = Table("inventory_groups", GROUP_FIELDS, key="Group", columns=("description", "restrictions"))

HOST_FIELDS = (
    Field(
        "fabric_rack",
        "name",
        "the host's rack within its site; an integer is the same rack as its digits",
        default_text="required for nodes and ToRs",
        doc_type="name (string or integer)",
        rule=NAME_RULE,
        roles=("node", "tor", "spine (optional, unused)"),
        example="`r1`, `12`",
    ),
    Field("fabric_site", "name", "the host's site", default=DEFAULT_SITE, rule=NAME_RULE, example="`ams`"),
    Field(
        "fabric_ipv4",
        "interface",
        "the IPv4 address this host peers from",
        default=REQUIRED,
        doc_type="IPv4 address, optional `/len`",
        example="`10.11.1.11/24`",
    ),
    Field(
        "fabric_ipv6",
        "interface",
        "the IPv6 address this host peers from",
        default_text="optional, but required in some cases (see below)",
        doc_type="IPv6 address, optional `/len`",
        example="`2001:db8:11:1::11/64`",
    ),
    Field(
        "fabric_uplink_ipv4",
        "interface",
        "the ToR's IPv4 address towards its spines",
        default_text="required on a ToR when its site has spines",
        doc_type="IPv4 address, optional `/len`",
        roles=("tor",),
        example="`10.10.0.11/24`",
    ),
    Field(
        "fabric_uplink_ipv6",
        "interface",
        "the ToR's IPv6 address towards its spines",
        default_text="required on a ToR when its rack announces IPv6 prefixes and its site has spines",
        doc_type="IPv6 address, optional `/len`",
        roles=("tor",),
        example="`2001:db8:10::11/64`",
    ),
    Field(
        "fabric_uplinks",
        "list",
        "the ToR's unnumbered links to its spines, instead of uplink addresses (see [Unnumbered links](#unnumbered-links))",
        default=[],
        doc_type="list of links",
        restrictions="not with `fabric_uplink_ipv4`/`fabric_uplink_ipv6`; every spine of the site linked",
        roles=("tor",),
        example="`[{interface: swp51, spine: spine1, spine_interface: swp1}]`",
    ),
    Field(
        "fabric_asn",
        "integer",
        "the host's ASN; an explicit node ASN overrides the derived one",
        default_text="required for ToRs and spines; nodes: derived (see [Node ASNs](#node-asns))",
        min=1,
        max=settings.MAX_ASN - 1,
        restrictions=_RESERVED,
        example="`65101`",
    ),
    Field(
        "fabric_router_id",
        "address",
        "the BGP identifier",
        default_text="the address of `fabric_ipv4`",
        doc_type="IPv4 address",
        rule="a non-zero IPv4 address (a 32-bit BGP identifier)",
        example="`10.255.0.1`",
    ),
    _daemon_field(),
    Field(
        "fabric_vips",
        "list",
        "the node's anycast VIPs (see below)",
        default=[],
        doc_type="list of addresses or mappings",
        roles=("node",),
        example="see below",
    ),
    Field(
        "fabric_vip_interface",
        "string",
        "the interface that holds the VIPs",
        default=DEFAULT_VIP_INTERFACE,
        pattern=INTERFACE_RE,
        rule=INTERFACE_RULE,
        roles=("node",),
        example="`lo`",
    ),
    Field(
        "fabric_vip_weight",
        "integer",
        "the node's weight: the default `weight` of its VIPs (see [Weighted anycast](#weighted-anycast))",
        default=1,
        min=1,
        max=intent.MAX_WEIGHT,
        restrictions="other than 1 only with `fabric_bgp.weighted_ecmp: true`",
        roles=("node",),
        example="`2`",
    ),
    Field(
        "fabric_state_dir",
        "string",
        "where the node keeps its drain state and VIP record; it never reaches a rendered file",
        default=DEFAULT_STATE_DIR,
        pattern=_schema.ABS_PATH_RE,
        rule=_schema.ABS_PATH_RULE,
        max_length=_schema.ABS_PATH_MAX,
        doc_type="absolute path on the node",
        roles=("node",),
        example="`/srv/anycast-fabric`",
    ),
    Field(
        "fabric_pod_cidrs",
        "list",
        "the node's pod CIDRs, announced with its VIPs",
        default=[],
        items=Field("prefix", "prefix"),
        roles=("node",),
        example="`[10.244.1.0/24, fd00:244:1::/64]`",
    ),
    Field(
        "fabric_upstreams",
        "list",
        "the spine's upstream routers (see [The site's edge](#the-sites-edge))",
        default=[],
        doc_type="list of upstream routers",
        roles=("spine",),
        example="`[{name: transit-a, address: 10.93.1.3, asn: 64601, local_address: 10.93.1.2/24, import: default}]`",
    ),
    Field(
        "fabric_site_community",
        "community",
        "the community every route leaving the site carries (origin tagging per site)",
        doc_type="string `A:B`",
        restrictions="the same on every spine of a site",
        roles=("spine",),
        example='`"65000:1"`',
    ),
    Field(
        "fabric_pod_aggregates",
        "list",
        "prefixes announced upstream `summary-only` instead of the pod CIDRs they cover",
        default=[],
        items=Field("prefix", "prefix"),
        roles=("spine",),
        example="`[10.244.16.0/21]`",
    ),
)
HOST_TABLE = Table("host_variables", HOST_FIELDS, key="Variable", columns=("type", "default", "roles", "restrictions", "description", "example"))

# A VIP's keys: its address, the keys the intent carries (declared on
# intent.Vip, once), and where it is announced (edge.SCOPE_FIELDS).
VIP_FIELDS = (
    (
        Field(
            "address",
            "address",
            "the VIP",
            default=REQUIRED,
            rule="a host route: no length, `/32` (IPv4) or `/128` (IPv6); not unspecified, loopback, multicast or link-local",
        ),
    )
    + intent.carried_fields(intent.Vip)
) + edge.SCOPE_FIELDS
VIP_TABLE = Table("vip_keys", VIP_FIELDS, key="Key", columns=("type", "default", "restrictions", "description"))

SCHEMA_TABLES = (GROUP_TABLE, HOST_TABLE, VIP_TABLE)

# Every module that declares SCHEMA_TABLES, in documentation order.
PROVIDERS = (settings, edge, uplinks, health)


def tables():
    """{name: Table} of every registered table."""
    out = {}
    for group in [getattr(source, "SCHEMA_TABLES", ()) for source in PROVIDERS] + [SCHEMA_TABLES]:
        for table in group:
            if table.name in out:
                raise ValueError("two schema tables are named %s" % table.name)
            out[table.name] = table
    return out


# The tables whose fields are inventory variables (not keys of a mapping).
VARIABLE_TABLES = ("host_variables", "fabric_variables")


def secret_variables():
    """The inventory variables declared secret: an error inside one never shows Ansible's message."""
    every = tables()
    return frozenset(f.name for name in VARIABLE_TABLES for f in every[name].fields if f.secret)
