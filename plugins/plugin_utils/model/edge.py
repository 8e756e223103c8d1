# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A site's edge: the upstream routers its spines peer with, and what crosses that border.

Read from the spines' variables (`fabric_upstreams`, `fabric_site_community`,
`fabric_pod_aggregates`) and from the VIPs' scope keys (`sites`, `prepend`,
`med`). Nothing from outside the fabric is accepted but what an upstream's
`import` allows (nothing, or the default route), and nothing leaves it but
the site's VIP host routes and pod prefixes (aggregated where asked).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Optional

from ansible_collections.anycast.fabric.plugins.module_utils._schema import REQUIRED, Field, Table, default_value
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.inputs import NAME_RULE, community, parse_ip, unusable_address
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.problems import key_text
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.settings import MAX_ASN, asn_problem

IMPORTS = ("none", "default")
DEFAULT_ROUTES = {4: ipaddress.ip_network("0.0.0.0/0"), 6: ipaddress.ip_network("::/0")}
MAX_PREPEND = 10
MAX_MED = 4294967295

# One entry of `fabric_upstreams`: one eBGP session of a spine.
UPSTREAM_TABLE = Table(
    "fabric_upstreams",
    (
        Field("name", "name", "the upstream's name (BGP description); unique per spine", default=REQUIRED, rule=NAME_RULE),
        Field("address", "address", "the upstream router's address; its family is the session's", default=REQUIRED),
        Field(
            "asn",
            "integer",
            "the upstream's ASN",
            default=REQUIRED,
            min=1,
            max=MAX_ASN - 1,
            restrictions="not 23456 or 65535 (reserved); must differ from the spine's",
        ),
        Field(
            "local_address",
            "interface",
            "the spine's own address on that link",
            default=REQUIRED,
            doc_type="IP address with `/len`",
            restrictions="needs the link's `/len`; `address` must lie in it",
        ),
        Field(
            "import",
            "string",
            "what is accepted from the upstream: nothing, or only the default route (`0.0.0.0/0`, `::/0`)",
            default="none",
            choices=IMPORTS,
        ),
        Field("max_prefixes", "integer", "the session drops when the upstream sends more", default=10, min=1, max=4294967295),
    ),
    key="Key",
)
UPSTREAM_KEYS = UPSTREAM_TABLE.names()
SCHEMA_TABLES = (UPSTREAM_TABLE,)
_UPSTREAM = dict((f.name, f) for f in UPSTREAM_TABLE.fields)

# The values of a VIP's per-site maps (`prepend: {site: times}`, `med: {site: med}`).
PREPEND_TIMES = Field("times", "integer", min=1, max=MAX_PREPEND)
MED_VALUE = Field("med", "integer", min=0, max=MAX_MED)

# The VIP keys that scope it to sites and weigh it at each site's edge.
SCOPE_FIELDS = (
    Field(
        "sites",
        "list",
        "a regional VIP: only the nodes of these sites announce it. Fabric-wide VIP lists can list it; nodes of other sites leave it out",
        default_text="all sites (a global VIP)",
        items=Field("site", "name"),
        restrictions="at least one site; every site named must have nodes",
    ),
    Field(
        "prepend",
        "mapping",
        "at that site's edge, the VIP is announced with the spine's ASN prepended that many times (active/standby designs)",
        default_text="none",
        restrictions="`{site: %d-%d}`" % (PREPEND_TIMES.min, PREPEND_TIMES.max),
    ),
    Field(
        "med",
        "mapping",
        "at that site's edge, the VIP is announced with this MED",
        default_text="none",
        restrictions="`{site: %d-%d}`" % (MED_VALUE.min, MED_VALUE.max),
    ),
)


@dataclass
class Upstream:
    name: str
    path: str
    address: object
    asn: int
    local: object  # the spine's own address on the link
    local_net: object
    imports: str = "none"
    max_prefixes: int = 10


@dataclass
class Edge:
    upstreams: list = field(default_factory=list)
    site_community: Optional[str] = None
    pod_aggregates: list = field(default_factory=list)  # (network, path)


def read_edge(reader, role):
    """The edge settings of one host (only spines may have them)."""
    edge = Edge()
    if role != "spine":
        for var in ("fabric_upstreams", "fabric_site_community", "fabric_pod_aggregates"):
            if reader.get(var):
                reader.fail(var, reader.get(var), "only applies to spines (fabric_spines): the site's edge peers with its upstreams")
        return edge
    names, addresses = {}, {}
    for index, item in enumerate(reader.list_of("fabric_upstreams", reader.get("fabric_upstreams"))):
        upstream = _read_upstream(reader, "fabric_upstreams[%d]" % index, item)
        if upstream is None:
            continue
        if upstream.name in names:
            reader.fail(upstream.path + ".name", upstream.name, "is also the name of %s; upstream names must be unique" % names[upstream.name])
            continue
        if upstream.address in addresses:
            why = "is also the address of %s; a spine has one session per upstream address" % addresses[upstream.address]
            reader.fail(upstream.path + ".address", str(upstream.address), why)
            continue
        names[upstream.name] = upstream.path
        addresses[upstream.address] = upstream.path
        edge.upstreams.append(upstream)
    raw = reader.get("fabric_site_community")
    if raw is not None:
        edge.site_community = community(reader, "fabric_site_community", raw, 2)
    for index, raw in enumerate(reader.list_of("fabric_pod_aggregates", reader.get("fabric_pod_aggregates"))):
        path = "fabric_pod_aggregates[%d]" % index
        net = reader.prefix(path, raw, "a pod aggregate", not_default="an aggregate must cover pod CIDRs, not everything")
        if net is not None:
            edge.pod_aggregates.append((net, path))
    return edge


def _read_upstream(reader, path, item):
    given = reader.dict_of(path, item, UPSTREAM_KEYS)
    if given is None:
        return None
    before = len(reader.problems)
    for spec in UPSTREAM_TABLE.fields:
        if spec.required and given.get(spec.name) is None:
            reader.fail("%s.%s" % (path, spec.name), None, "is required")
    if len(reader.problems) != before:
        return None
    name = reader.name(path + ".name", given["name"], "an upstream name")
    asn = reader.field(path + ".asn", _UPSTREAM["asn"], given["asn"])
    if asn is not None and asn_problem(asn):
        reader.fail(path + ".asn", asn, asn_problem(asn))
    address, reason = parse_ip(given["address"], "address")
    if address is None:
        reader.fail(path + ".address", given["address"], "must be the upstream router's IP address; it %s" % reason)
    elif unusable_address(address):
        reader.fail(path + ".address", given["address"], "cannot be used to peer: it %s" % unusable_address(address))
        address = None
    local = local_net = None
    if address is not None:
        local, local_net = reader.interface(path + ".local_address", given["local_address"], address.version)
        if local is not None and local_net is None:
            reader.fail(path + ".local_address", given["local_address"], "needs the link's prefix length (address/length)")
        if local_net is not None and address not in local_net:
            reader.fail(path + ".address", str(address), "is not on the link of local_address (%s)" % local_net)
        if local is not None and local == address:
            reader.fail(path + ".local_address", given["local_address"], "is the upstream's own address")
    imports = reader.field(path + ".import", _UPSTREAM["import"], given.get("import", default_value(_UPSTREAM["import"])))
    cap = reader.field(path + ".max_prefixes", _UPSTREAM["max_prefixes"], given.get("max_prefixes", default_value(_UPSTREAM["max_prefixes"])))
    if len(reader.problems) != before:
        return None
    return Upstream(name=name, path=path, address=address, asn=asn, local=local, local_net=local_net, imports=imports, max_prefixes=cap)


# The VIP scope keys -----------------------------------------------------------


def read_scope(reader, path, item):
    """(sites, prepend, med) of one VIP: where it is announced and how each site's edge weighs it."""
    sites = None
    if item.get("sites") is not None:
        raw = item["sites"]
        values = [reader.name("%s.sites[%d]" % (path, i), s, "a site name") for i, s in enumerate(reader.list_of(path + ".sites", raw))]
        sites = tuple(sorted(set(v for v in values if v is not None)))
        if not sites and isinstance(raw, list):
            reader.fail(path + ".sites", raw, "must list at least one site (leave it out for a global VIP)")
    prepend = _per_site(reader, path + ".prepend", item.get("prepend"), PREPEND_TIMES)
    med = _per_site(reader, path + ".med", item.get("med"), MED_VALUE)
    return sites, prepend, med


def _per_site(reader, path, raw, number_field):
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        reader.fail(path, raw, "must map site names to numbers, e.g. {ams: 2}")
        return ()
    out = []
    for site, value in sorted(raw.items(), key=lambda kv: key_text(kv[0])):
        name = reader.name("%s.%s" % (path, key_text(site)), site, "a site name")
        number = reader.field("%s.%s" % (path, key_text(site)), number_field, value)
        if name is not None and number is not None:
            out.append((name, number))
    return tuple(out)
