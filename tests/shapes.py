# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generated fabrics of any shape: the inventory a user would write, and what the model reads from it.

One `Shape` (sites, racks, nodes, ToRs per rack, spines per site, upstreams,
daemons, address families, ASN scheme, VIPs and pod CIDRs per node, long
FQDN host names) gives one `Fabric`:

- `Fabric.write(directory)` writes an Ansible inventory as users write them:
  `hosts.yml` (the role groups with each host's own addresses and ASNs, and
  `site_*` / `rack_*` groups) and `group_vars/` (fabric-wide settings in
  `all/fabric.yml`, the services every node serves in `fabric_nodes.yml`,
  `fabric_site` and `fabric_rack` in the site and rack groups);
- `Fabric.hostvars` and `Fabric.groups` are the (hostvars, groups) pair that
  `plugins/plugin_utils/model/model.build()` takes, exactly what Ansible makes of
  that inventory (tests/unit/test_shapes.py checks it with ansible-inventory).

Used by the tests (tests/ is on pytest's path: `import shapes`) and by
benchmarks/scale.py. Pure Python, no Ansible import, deterministic: the same
shape always gives the same fabric.

Addressing (documentation and private ranges only), with g the rack's number
across the fabric, s the site's, k the node's:
  rack segment    10.(64+g/256).(g%256).0/24, 2001:db8:(1000+g)::/64
                  ToRs .1 and .2, nodes .11 upwards (at most 240 per rack)
  site core       172.(16+s).0.0/16, 2001:db8:ff:s::/64: spines .0.1/.0.2,
                  ToR uplinks 172.(16+s).(1+r).(1+t) (at most 15 sites)
  upstream links  100.64.s.(4i)/30 and 2001:db8:ee:s:i::/64
  pod CIDRs       10.128.0.0/9 in /24s, fd00:244::/32 in /64s
  VIPs            198.51.100.0/24, 203.0.113.0/24, 2001:db8:ac::/48
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

SITE_NAMES = ("ams", "fra", "lon", "par", "mad", "waw", "nyc", "sfo", "sin", "syd", "tyo", "gru", "jnb", "bom", "yul")
DAEMONS = ("bird", "frr", "mixed")
FAMILIES = ("ipv4", "dual", "ipv6_vips")
UPSTREAMS = ("none", "ipv4", "ipv6", "both")
ASN_SCHEMES = ("per_rack", "per_node")
NODE_PEERING = ("static", "dynamic")
# The pod CIDRs' cluster CIDRs (see Addressing above), as fabric_pod_pools.
POD_POOLS = ["10.128.0.0/9", {"prefix": "fd00:244::/32", "node_prefix_length": 64}]
POOLS = ["198.51.100.0/24", "203.0.113.0/24", "2001:db8:ac::/48"]
PASSWORD = "s3cret-md5"
DOMAIN = "dc.example.corp.internal"
MAX_NODES_PER_RACK = 240
MAX_SITES = 15


@dataclass(frozen=True)
class Shape:
    """What a fabric looks like.

    spines: per site, an int for every site or a tuple with one int per site
    (e.g. (2, 0): two sites, the second without spines). A fabric with no
    spine at all has no fabric_spines group.
    family: ipv4 (no IPv6 anywhere), dual (every host dual stack, VIPs and
    pod CIDRs of both families) or ipv6_vips (every host dual stack, every
    VIP and pod CIDR IPv6: the IPv4 sessions carry nothing).
    upstreams: the upstream routers of every spine: none, ipv4, ipv6 or both
    (one session per family). Spines with upstreams also tag their site
    (fabric_site_community).
    vips: VIPs per node; in dual stack they alternate IPv4, IPv6, IPv4...
    regional_vip: one more VIP served only by the first site's nodes.
    long_names: FQDN host names (node-0042.rack-17.site-ams.dc.example.corp.internal)
    and integer rack names.
    """

    sites: int = 1
    racks: int = 1
    nodes: int = 2
    tors: int = 2
    spines: object = 2
    upstreams: str = "none"
    daemons: str = "bird"
    family: str = "ipv4"
    asn_scheme: str = "per_rack"
    vips: int = 2
    pod_cidrs: int = 1
    regional_vip: bool = False
    long_names: bool = False
    password: object = PASSWORD
    # static or dynamic (fabric_bgp.node_peering); dynamic also sets fabric_pod_pools.
    node_peering: str = "static"
    # The second ToR of every rack and the second spine of every site are managed elsewhere (fabric_daemon: external).
    external: bool = False
    # Every ToR declares unnumbered links to its site's spines (fabric_uplinks) instead of uplink addresses.
    unnumbered: bool = False

    def __post_init__(self):
        if not 1 <= self.sites <= MAX_SITES:
            raise ValueError("sites must be 1-%d" % MAX_SITES)
        if not 1 <= self.nodes <= MAX_NODES_PER_RACK or self.racks < 1 or self.tors not in (1, 2):
            raise ValueError("need 1-%d nodes and 1-2 ToRs per rack, and at least one rack" % MAX_NODES_PER_RACK)
        if len(self.spines_per_site()) != self.sites or any(n not in (0, 1, 2) for n in self.spines_per_site()):
            raise ValueError("spines: 0, 1 or 2 per site")
        choices = (
            (self.upstreams, UPSTREAMS),
            (self.daemons, DAEMONS),
            (self.family, FAMILIES),
            (self.asn_scheme, ASN_SCHEMES),
            (self.node_peering, NODE_PEERING),
        )
        for value, allowed in choices:
            if value not in allowed:
                raise ValueError("%r is not one of %s" % (value, ", ".join(allowed)))

    def spines_per_site(self):
        if isinstance(self.spines, int):
            return (self.spines,) * self.sites
        return tuple(self.spines)

    @property
    def hosts(self):
        return self.sites * self.racks * (self.nodes + self.tors) + sum(self.spines_per_site())

    def describe(self):
        return "%d site(s) x %d rack(s) x %d node(s), %d ToR(s)/rack, spines %s, upstreams %s, %s, %s, %s, %d VIP(s)/node, %d pod CIDR(s)/node%s" % (
            self.sites,
            self.racks,
            self.nodes,
            self.tors,
            "/".join(map(str, self.spines_per_site())),
            self.upstreams,
            self.daemons,
            self.family,
            self.asn_scheme,
            self.vips,
            self.pod_cidrs,
            (", FQDN names" if self.long_names else "") + (", dynamic node peering" if self.node_peering == "dynamic" else "")
            + (", second ToRs and spines external" if self.external else "")
            + (", unnumbered ToR-spine links" if self.unnumbered else ""),
        )


def scale_shape(nodes, **overrides):
    """The benchmark's shape (issue 14) for NODES nodes: racks of 20, 25 racks per site, 2 ToRs per rack,
    2 spines per site, 5 VIPs and a pod CIDR per node, dual stack; FQDN host names.

    2,000 nodes: 4 sites, 100 racks, 2,208 hosts. 5,000 nodes: 10 sites, 5,520 hosts.
    NODES must be a multiple of 20 (of 500 above 500).
    """
    racks = max(1, nodes // 20)
    sites = max(1, math.ceil(racks / 25))
    if racks * 20 != nodes or racks % sites:
        raise ValueError("%d nodes do not make whole racks of 20 and sites of 25 racks" % nodes)
    shape = Shape(sites=sites, racks=racks // sites, nodes=20, tors=2, spines=2, family="dual", vips=5, pod_cidrs=1, daemons="mixed", long_names=True)
    return replace(shape, **overrides)


@dataclass
class Fabric:
    shape: Shape
    group_vars: dict = field(default_factory=dict)  # group -> variables (as in group_vars/<group>.yml)
    host_vars: dict = field(default_factory=dict)  # host -> its own variables (as in hosts.yml)
    groups: dict = field(default_factory=dict)  # the fabric role groups -> hosts (what model.build takes)
    tree: dict = field(default_factory=dict)  # site group -> {"hosts": [spines], "racks": {rack group: [hosts]}}
    host_groups: dict = field(default_factory=dict)  # host -> its groups, least specific first

    @property
    def hostvars(self):
        """Every host's variables as Ansible merges them: all, then its groups, then its own."""
        merged = {}
        for name, own in self.host_vars.items():
            variables = copy.deepcopy(self.group_vars.get("all", {}))
            for group in self.host_groups[name]:
                variables.update(copy.deepcopy(self.group_vars.get(group, {})))
            variables.update(copy.deepcopy(own))
            merged[name] = variables
        return merged

    @property
    def nodes(self):
        return list(self.groups.get("fabric_nodes", []))

    @property
    def tors(self):
        return list(self.groups.get("fabric_tors", []))

    @property
    def spines(self):
        return list(self.groups.get("fabric_spines", []))

    def racks(self):
        """{rack group: [hosts]} over all sites, in order."""
        return {rack: members for site in self.tree.values() for rack, members in site["racks"].items()}

    def write(self, directory, all_vars=None, host_extra=None):
        """Write the inventory into DIRECTORY (hosts.yml and group_vars/); return DIRECTORY.

        all_vars: more variables for group_vars/all (e.g. ansible_connection: local).
        host_extra: {host: {variable: value}} added to those hosts in hosts.yml.
        """
        directory = Path(directory)
        (directory / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
        _write_yaml(directory / "group_vars" / "all" / "fabric.yml", self.group_vars["all"], "Fabric-wide settings: the same for every host.")
        if all_vars:
            _write_yaml(directory / "group_vars" / "all" / "connection.yml", all_vars, "How the playbooks reach the hosts.")
        for group, variables in self.group_vars.items():
            if group != "all":
                _write_yaml(directory / "group_vars" / ("%s.yml" % group), variables)
        _write_yaml(directory / "hosts.yml", self.inventory(host_extra), "Generated by tests/shapes.py: %s." % self.shape.describe())
        return directory

    def inventory(self, host_extra=None):
        """The hosts.yml document."""
        host_extra = host_extra or {}
        children = {}
        for group in ("fabric_spines", "fabric_tors", "fabric_nodes"):
            if group in self.groups:
                children[group] = {"hosts": {name: dict(self.host_vars[name], **host_extra.get(name, {})) for name in self.groups[group]}}
        for site, content in self.tree.items():
            entry = {}
            if content["hosts"]:
                entry["hosts"] = {name: None for name in content["hosts"]}
            entry["children"] = {rack: {"hosts": {name: None for name in members}} for rack, members in content["racks"].items()}
            children[site] = entry
        return {"all": {"children": children}}


def generate(shape):
    """The Fabric of SHAPE."""
    fabric = Fabric(shape=shape)
    dual = shape.family != "ipv4"
    bgp = {"max_prefixes": max(100, shape.vips + shape.pod_cidrs * 2 + 2)}
    if shape.password is not None:
        bgp["password"] = shape.password
    fabric.group_vars["all"] = {
        "fabric_anycast_pools": list(POOLS),
        "fabric_bgp": bgp,
        "fabric_node_asn_scheme": shape.asn_scheme,
    }
    if shape.node_peering == "dynamic":
        bgp["node_peering"] = "dynamic"
        fabric.group_vars["all"]["fabric_pod_pools"] = copy.deepcopy(POD_POOLS)
    fabric.group_vars["fabric_nodes"] = {"fabric_vips": _vips(shape)}
    groups = {"fabric_spines": [], "fabric_tors": [], "fabric_nodes": []}
    node_index = 0
    for s in range(shape.sites):
        site = _site_name(s)
        site_group = "site_%s" % site
        fabric.group_vars[site_group] = {"fabric_site": site}
        fabric.tree[site_group] = {"hosts": [], "racks": {}}
        spines = shape.spines_per_site()[s]
        spine_names = []
        for k in range(spines):
            name = ("spine-%d.site-%s.%s" % (k + 1, site, DOMAIN)) if shape.long_names else "%s-spine%d" % (site, k + 1)
            own = {"fabric_asn": 65000 + s, "fabric_ipv4": "172.%d.0.%d/16" % (16 + s, k + 1)}
            if dual:
                own["fabric_ipv6"] = "2001:db8:ff:%x::%x/64" % (s, k + 1)
            if shape.external and k == 1:
                own["fabric_daemon"] = "external"
            upstreams = _upstreams(shape, s, k)
            if upstreams:
                own["fabric_upstreams"] = upstreams
                own["fabric_site_community"] = "65000:%d" % (s + 1)
            groups["fabric_spines"].append(name)
            spine_names.append(name)
            fabric.host_vars[name] = own
            fabric.host_groups[name] = ["fabric_spines", site_group]
            fabric.tree[site_group]["hosts"].append(name)
        for r in range(shape.racks):
            g = s * shape.racks + r
            rack = (r + 1) if shape.long_names else "r%d" % (r + 1)
            rack_group = "rack_%s_%s" % (site, rack if isinstance(rack, str) else "r%d" % rack)
            fabric.group_vars[rack_group] = {"fabric_rack": rack}
            members = fabric.tree[site_group]["racks"].setdefault(rack_group, [])
            v4_segment = "10.%d.%d" % (64 + g // 256, g % 256)
            v6_segment = "2001:db8:%x:" % (0x1000 + g)
            for t in range(shape.tors):
                name = ("tor-%d.rack-%02d.site-%s.%s" % (t + 1, r + 1, site, DOMAIN)) if shape.long_names else "%s-r%d-tor%d" % (site, r + 1, t + 1)
                own = {"fabric_asn": 4100000000 + g, "fabric_ipv4": "%s.%d/24" % (v4_segment, t + 1)}
                if shape.external and t == 1:
                    own["fabric_daemon"] = "external"
                if dual:
                    own["fabric_ipv6"] = "%s:%x/64" % (v6_segment, t + 1)
                if spines and shape.unnumbered:
                    # One link to each spine: the ToR's swpN, the spine's port per rack and ToR.
                    own["fabric_uplinks"] = [
                        {"interface": "swp%d" % (51 + k), "spine": spine, "spine_interface": "p%d-%d" % (r + 1, t + 1)} for k, spine in enumerate(spine_names)
                    ]
                elif spines:
                    own["fabric_uplink_ipv4"] = "172.%d.%d.%d/16" % (16 + s, 1 + r // 250, 1 + (r % 250) * 2 + t)
                    if dual:
                        own["fabric_uplink_ipv6"] = "2001:db8:ff:%x::%x/64" % (s, 0x100 + r * 2 + t)
                groups["fabric_tors"].append(name)
                fabric.host_vars[name] = own
                fabric.host_groups[name] = ["fabric_tors", site_group, rack_group]
                members.append(name)
            for n in range(shape.nodes):
                k = node_index
                node_index += 1
                name = ("node-%04d.rack-%02d.site-%s.%s" % (k + 1, r + 1, site, DOMAIN)) if shape.long_names else "%s-r%d-n%d" % (site, r + 1, n + 1)
                own = {"fabric_ipv4": "%s.%d/24" % (v4_segment, 11 + n)}
                if dual:
                    own["fabric_ipv6"] = "%s:%x/64" % (v6_segment, 0x11 + n)
                if _daemon(shape, k) == "frr":
                    own["fabric_daemon"] = "frr"
                pods = _pod_cidrs(shape, k)
                if pods:
                    own["fabric_pod_cidrs"] = pods
                groups["fabric_nodes"].append(name)
                fabric.host_vars[name] = own
                fabric.host_groups[name] = ["fabric_nodes", site_group, rack_group]
                members.append(name)
    fabric.groups = {group: names for group, names in groups.items() if names}
    return fabric


def _site_name(index):
    return SITE_NAMES[index]


def _daemon(shape, index):
    if shape.daemons == "mixed":
        return "frr" if index % 3 == 2 else "bird"
    return shape.daemons


def _vip_families(shape, count):
    if shape.family == "ipv4":
        return [4] * count
    if shape.family == "ipv6_vips":
        return [6] * count
    return [4 if i % 2 == 0 else 6 for i in range(count)]


def _vips(shape):
    vips = []
    for i, version in enumerate(_vip_families(shape, shape.vips)):
        if version == 4:
            address = "198.51.100.%d" % (10 + i) if i < 200 else "203.0.113.%d" % (i - 190)
        else:
            address = "2001:db8:ac::%x" % (0x10 + i)
        if i % 2:
            vips.append(address)  # the short form: a bare address
        else:
            vips.append({"address": address, "name": "svc-%d" % i, "communities": ["65000:%d" % (100 + i)]})
    if shape.regional_vip:
        address = "2001:db8:ac::ff" if shape.family == "ipv6_vips" else "198.51.100.250"
        vips.append({"address": address, "name": "regional", "sites": [_site_name(0)]})
    return vips


def _pod_cidrs(shape, k):
    cidrs = []
    for j in range(shape.pod_cidrs):
        index = k * shape.pod_cidrs + j
        if shape.family != "ipv6_vips":
            cidrs.append("10.%d.%d.0/24" % (128 + index // 256, index % 256))
        if shape.family != "ipv4":
            cidrs.append("fd00:244:%x:%x::/64" % (index // 65536, index % 65536))
    return cidrs


def _upstreams(shape, s, k):
    out = []
    if shape.upstreams in ("ipv4", "both"):
        base = 4 * (2 * k)
        out.append(
            {
                "name": "transit-%d-v4" % (k + 1),
                "address": "100.64.%d.%d" % (s, base + 2),
                "asn": 64600 + s,
                "local_address": "100.64.%d.%d/30" % (s, base + 1),
                "import": "default",
            }
        )
    if shape.upstreams in ("ipv6", "both"):
        out.append(
            {
                "name": "transit-%d-v6" % (k + 1),
                "address": "2001:db8:ee:%x:%x::2" % (s, k),
                "asn": 64600 + s,
                "local_address": "2001:db8:ee:%x:%x::1/64" % (s, k),
                "import": "none",
            }
        )
    return out


# YAML, written by hand so that this module needs nothing but the standard library ------------


def _write_yaml(path, data, comment=None):
    lines = ["---"]
    if comment:
        lines.insert(1, "# %s" % comment)
    lines += _yaml(data, 0)
    path.write_text("\n".join(lines) + "\n")


def _scalar(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    # JSON strings are valid YAML (double-quoted) strings; quote everything so
    # that nothing is read back as a number, a date or a boolean.
    text = str(value)
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


def _flow(value):
    if isinstance(value, dict):
        return "{%s}" % ", ".join("%s: %s" % (_scalar(k) if not _plain_key(k) else k, _flow(v)) for k, v in value.items())
    if isinstance(value, list):
        return "[%s]" % ", ".join(_flow(v) for v in value)
    return _scalar(value) or "null"


def _plain_key(key):
    return isinstance(key, str) and key.replace("_", "").replace("-", "").replace(".", "").isalnum() and not key[0].isdigit()


def _yaml(data, indent):
    pad = " " * indent
    lines = []
    for key, value in data.items():
        label = key if _plain_key(key) else _scalar(key)
        if isinstance(value, dict) and value:
            lines.append("%s%s:" % (pad, label))
            lines += _yaml(value, indent + 2)
        elif isinstance(value, list) and value and any(isinstance(v, dict) for v in value):
            lines.append("%s%s:" % (pad, label))
            lines += ["%s  - %s" % (pad, _flow(v)) for v in value]
        elif value is None:
            lines.append("%s%s:" % (pad, label))
        else:
            lines.append("%s%s: %s" % (pad, label, _flow(value)))
    return lines
