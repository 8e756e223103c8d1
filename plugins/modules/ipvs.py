#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ipvs
short_description: Manage IPVS virtual services and their real servers declaratively
version_added: 0.1.0
description:
  - Declares Linux IPVS virtual services (TCP, UDP, SCTP or firewall-mark; IPv4 or IPv6) with their scheduler,
    persistence and real servers (weight and forwarding method), and makes the kernel's table match for the
    services this module owns, in one batch.
  - B(Backend.) The module reads the table with C(ipvsadm -S -n) and applies every change of a run with one
    C(ipvsadm -R) process (one netlink session), so a thousand services take a second or two. It does not use
    pyroute2's IPVS API because stock Debian 12 hosts have C(python3-pyroute2) 0.7.2, which has none (it appeared
    in 0.8.1), while C(ipvsadm) is a Debian package that IPVS nodes have anyway (kube-proxy's IPVS mode expects
    it, and the C(anycast.fabric.kube_proxy) role installs it in C(ipvs) mode).
  - B(Verification.) C(ipvsadm -R) is not transactional; it carries on after a failing line and its exit status
    reflects only the last one. The module therefore reads the table again after applying and fails, naming each
    service that is not as planned together with ipvsadm's messages, when anything differs.
  - B(Ownership.) The services this module created or adopted are listed in a JSON record,
    O(state_dir)C(/ipvs/<owner>.json). O(purge) and O(state=absent) remove only services in that record;
    services of others (kube-proxy's, hand-made ones) are never changed or removed. A listed service that already
    exists and is not in the record makes the module fail before changing anything, unless O(adopt=true).
    The record is written before the batch is applied (with every service the batch may create) and again after
    it, so an interrupted run never leaves a created service unrecorded.
  - The real servers of an owned service are exactly the listed ones; others are removed from it.
  - B(Draining.) A real server with O(services[].real_servers[].weight=0) is quiesced; the scheduler sends it no
    new connections while established ones continue until they end (persistence templates pointing at it expire
    when C(net.ipv4.vs.expire_quiescent_template=1), which the C(anycast.fabric.kube_proxy) role sets in C(ipvs) mode). To retire a backend
    gracefully, set its weight to 0, wait until C(ipvsadm -L -n) shows no active connections for it, then remove it
    from the list. Removing it at once breaks its established connections instead (with
    C(net.ipv4.vs.expire_nodest_conn=1) the next packet of each expires the connection at once, so clients notice
    quickly).
  - B(kube-proxy.) kube-proxy in IPVS mode deletes every virtual service of its IP family that it did not create,
    unless the service address lies in its C(ipvs.excludeCIDRs). List the addresses of the services managed here
    in that setting (the C(anycast.fabric.kube_proxy) role writes it from C(kube_proxy_ipvs_exclude_cidrs)). Firewall-mark services
    have no address, so C(excludeCIDRs) cannot protect them.
author:
  - anycast.fabric contributors (@anycast-fabric)
requirements:
  - C(ipvsadm) (Debian package C(ipvsadm), 1.31 on Debian 12) on the managed host
  - a kernel with IPVS (C(ip_vs) and the scheduler modules; the kernel loads them on demand)
options:
  services:
    description:
      - The virtual services.
      - With O(state=present) each is created or corrected, real servers included; with O(purge=true) they are the
        complete set this O(owner) wants.
      - With O(state=absent) only the fields that identify a service are used (O(services[].protocol),
        O(services[].address) and O(services[].port), or O(services[].fwmark) and O(services[].family)).
    type: list
    elements: dict
    default: []
    suboptions:
      protocol:
        description:
          - V(fwmark) services match packets by the firewall mark that nftables or iptables gave them.
        type: str
        choices: [tcp, udp, sctp, fwmark]
        default: tcp
      address:
        description:
          - The virtual IP address (IPv4 or IPv6). Required unless O(services[].protocol=fwmark).
        type: str
      port:
        description:
          - The virtual port. Required unless O(services[].protocol=fwmark).
          - V(0) means every port and is only possible for a persistent service.
        type: int
      fwmark:
        description:
          - The firewall mark (1 to 4294967295). Required for, and only for, O(services[].protocol=fwmark).
        type: int
      family:
        description:
          - Address family of a firewall-mark service. Other services take it from O(services[].address).
        type: str
        choices: [ipv4, ipv6]
      scheduler:
        description:
          - Scheduling algorithm, by its kernel name; the kernel loads C(ip_vs_<scheduler>) on demand.
          - C(rr) round robin, C(wrr) weighted round robin, C(lc) least connections, C(wlc) weighted least
            connections, C(sh) source hashing, C(mh) Maglev hashing, C(dh) destination hashing, C(sed) shortest
            expected delay, C(nq) never queue, C(lblc), C(lblcr), C(fo) weighted failover, C(ovf) weighted overflow.
        type: str
        default: wlc
      scheduler_flags:
        description:
          - Scheduler flags (C(ipvsadm -b)), for C(sh) and C(mh) mainly.
          - C(sh-fallback)/C(mh-fallback) pick another real server when the hashed one is unavailable (weight 0
            or over its threshold); C(sh-port)/C(mh-port) hash the source port too.
        type: list
        elements: str
        choices: [sh-fallback, sh-port, mh-fallback, mh-port, flag-1, flag-2, flag-3]
      persistence_timeout:
        description:
          - Seconds a client stays with the real server it was sent to first (C(ipvsadm -p)). V(0) turns persistence
            off.
        type: int
        default: 0
      persistence_netmask:
        description:
          - Clients whose addresses share this mask share persistence; an IPv4 netmask (V(255.255.255.0)) or prefix
            length (V(24)); an IPv6 prefix length. Needs O(services[].persistence_timeout).
        type: str
      persistence_engine:
        description:
          - Persistence engine (C(ipvsadm --pe)), for example V(sip).
        type: str
      one_packet:
        description:
          - One-packet scheduling (C(ipvsadm -o)) schedules every UDP datagram on its own. UDP services only.
        type: bool
        default: false
      forwarding:
        description:
          - Default forwarding method of this service's real servers.
        type: str
        choices: [direct, tunnel, masquerade]
        default: masquerade
      real_servers:
        description:
          - The real servers (backends). An owned service gets exactly these.
        type: list
        elements: dict
        default: []
        suboptions:
          address:
            description:
              - Real server IP address. It has the service's family, except through a tunnel.
            type: str
            required: true
          port:
            description:
              - Real server port. Defaults to the service's port.
              - Only V(masquerade) can change the port; V(direct) and V(tunnel) deliver to the service's port, and a
                different one is refused.
            type: int
          weight:
            description:
              - Relative weight for the weighted schedulers (0 to 65535).
              - V(0) drains the real server gracefully (see the description).
            type: int
            default: 1
          forwarding:
            description:
              - V(direct) (direct routing, C(-g)), the real server holds the VIP on a non-ARP interface and answers
                the client itself; V(tunnel) (C(-i)), the packet is encapsulated to the real server; V(masquerade)
                (NAT, C(-m)), the destination is rewritten and replies must return through this host.
              - Defaults to the service's O(services[].forwarding).
            type: str
            choices: [direct, tunnel, masquerade]
          tunnel_type:
            description:
              - Encapsulation for V(tunnel) forwarding (Linux 5.2 or later for V(gue) and V(gre)).
            type: str
            choices: [ipip, gue, gre]
          tunnel_port:
            description:
              - Destination UDP port of V(gue) encapsulation. Required for V(gue).
            type: int
          tunnel_checksum:
            description:
              - Checksum of V(gue) and V(gre) encapsulation.
            type: str
            choices: [none, csum, remcsum]
  state:
    description:
      - V(present) creates or corrects the listed services, V(absent) removes the listed services this owner owns.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present), also remove services this owner created earlier and that are no longer listed.
        Services that are not in the owner's record are never removed.
    type: bool
    default: false
  adopt:
    description:
      - Take over listed services that exist but are not in the record (made by hand, or by a run whose record
        was lost), instead of failing. With O(state=absent), remove them too.
      - Never adopt kube-proxy's services, or it would fight the module over them.
    type: bool
    default: false
  owner:
    description:
      - Name of the ownership record. Independent sets of services (different roles, different plays) use
        different owners, so that one's O(purge) never removes the other's services.
    type: str
    default: default
extends_documentation_fragment:
  - anycast.fabric.attributes
  - anycast.fabric.state_dir
attributes:
  check_mode:
    support: full
    details:
      - Reports the exact C(ipvsadm -R) batch in RV(commands) without applying it.
      - When the C(ip_vs) module is not loaded yet, the table is taken as empty rather than loading the module.
  diff_mode:
    support: full
    details:
      - The diff shows the services this owner manages or lists, in C(ipvsadm -S -n) form.
  platform:
    support: full
    platforms: posix
notes:
  - Upper and lower connection thresholds (C(ipvsadm -x)/C(-y)) are not managed, as C(ipvsadm -S) does not show
    them; an edit of a real server resets them.
  - The IPVS table is per network namespace; the module manages the namespace it runs in.
seealso:
  - name: ipvsadm(8)
    description: The IPVS administration tool and its save/restore format.
    link: https://manpages.debian.org/bookworm/ipvsadm/ipvsadm.8.en.html
  - name: IPVS on Kubernetes nodes (docs/ipvs.md)
    description: The role, this module and kube-proxy side by side.
    link: https://github.com/anycast-fabric/anycast.fabric/blob/main/docs/ipvs.md
"""

EXAMPLES = r"""
- name: A VIP spread over two backends by NAT, weighted
  anycast.fabric.ipvs:
    services:
      - protocol: tcp
        address: 198.51.100.80
        port: 80
        scheduler: wrr
        real_servers:
          - { address: 10.10.0.2, port: 8080, weight: 2 }
          - { address: 10.10.0.3, port: 8080, weight: 1 }

- name: Drain one backend (no new connections; established ones continue)
  anycast.fabric.ipvs:
    services:
      - protocol: tcp
        address: 198.51.100.80
        port: 80
        scheduler: wrr
        real_servers:
          - { address: 10.10.0.2, port: 8080, weight: 2 }
          - { address: 10.10.0.3, port: 8080, weight: 0 }

- name: Direct server return for DNS over IPv6, Maglev hashing, and a fwmark service
  anycast.fabric.ipvs:
    owner: dns
    purge: true
    services:
      - protocol: udp
        address: 2001:db8:53::53
        port: 53
        scheduler: mh
        scheduler_flags: [mh-port]
        forwarding: direct
        real_servers:
          - address: 2001:db8:1::11
          - address: 2001:db8:1::12
      - protocol: fwmark
        fwmark: 53
        family: ipv4
        scheduler: sh
        persistence_timeout: 300
        persistence_netmask: 255.255.255.0
        real_servers:
          - { address: 192.0.2.21, forwarding: tunnel, tunnel_type: gue, tunnel_port: 6080 }

- name: Remove every service this owner made
  anycast.fabric.ipvs:
    owner: dns
    services: []
    purge: true
"""

RETURN = r"""
created:
  description: Keys of the services created (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["tcp 198.51.100.80:80", "fwmark 53"]
modified:
  description: Keys of existing services whose settings or real servers changed.
  returned: always
  type: list
  elements: str
  sample: ["udp [2001:db8:53::53]:53"]
removed:
  description: Keys of the services removed.
  returned: always
  type: list
  elements: str
  sample: ["tcp 198.51.100.81:443"]
not_owned:
  description:
    - With O(state=absent), listed services that exist but are not this owner's, left alone.
    - Not named C(skipped), a key Ansible reserves for skipped tasks (it would disable C(failed_when)).
  returned: always
  type: list
  elements: str
  sample: ["tcp 10.96.0.1:443"]
services:
  description: Keys of the services this owner owns after the run (its record).
  returned: always
  type: list
  elements: str
  sample: ["tcp 198.51.100.80:80"]
commands:
  description: The C(ipvsadm -R) batch of this run (planned only, in check mode), one command per line.
  returned: always
  type: list
  elements: str
  sample: ["-A -t 198.51.100.80:80 -s wrr", "-a -t 198.51.100.80:80 -r 10.10.0.2:8080 -m -w 2"]
record:
  description: Path of the ownership record.
  returned: always
  type: str
  sample: /var/lib/anycast-fabric/ipvs/default.json
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.anycast.fabric.plugins.module_utils import _records as records
from ansible_collections.anycast.fabric.plugins.module_utils._contract import DEFAULT_STATE_DIR
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.common import IpvsError
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.desired import normalize_services
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.parse import parse_save
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.plan import mismatches, plan
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.record import check_owner, read_record, record_path, write_record
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.render import dump

REAL_SERVER_SPEC = dict(
    address=dict(type="str", required=True),
    port=dict(type="int"),
    weight=dict(type="int", default=1),
    forwarding=dict(type="str", choices=["direct", "tunnel", "masquerade"]),
    tunnel_type=dict(type="str", choices=["ipip", "gue", "gre"]),
    tunnel_port=dict(type="int"),
    tunnel_checksum=dict(type="str", choices=["none", "csum", "remcsum"]),
)

SERVICE_SPEC = dict(
    protocol=dict(type="str", choices=["tcp", "udp", "sctp", "fwmark"], default="tcp"),
    address=dict(type="str"),
    port=dict(type="int"),
    fwmark=dict(type="int"),
    family=dict(type="str", choices=["ipv4", "ipv6"]),
    scheduler=dict(type="str", default="wlc"),
    scheduler_flags=dict(type="list", elements="str", choices=["sh-fallback", "sh-port", "mh-fallback", "mh-port", "flag-1", "flag-2", "flag-3"]),
    persistence_timeout=dict(type="int", default=0),
    persistence_netmask=dict(type="str"),
    persistence_engine=dict(type="str"),
    one_packet=dict(type="bool", default=False),
    forwarding=dict(type="str", choices=["direct", "tunnel", "masquerade"], default="masquerade"),
    real_servers=dict(type="list", elements="dict", default=[], options=REAL_SERVER_SPEC),
)

# /proc/net/ip_vs exists (in every network namespace) once ip_vs is loaded.
IPVS_PROC = "/proc/net/ip_vs"


def read_table(module, ipvsadm, result):
    rc, out, err = module.run_command([ipvsadm, "-S", "-n"])
    if rc != 0:
        module.fail_json(
            msg="ipvsadm -S -n failed (rc %d): %s (does this kernel have IPVS? `modprobe ip_vs`)" % (rc, (err or out).strip()),
            **result
        )
    try:
        return parse_save(out)
    except IpvsError as exc:
        module.fail_json(msg="cannot read the IPVS table: %s" % exc, **result)


def save_record(module, result, owner, keys):
    try:
        write_record(result["record"], owner, keys)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot write the ownership record %s: %s" % (result["record"], exc), **result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            services=dict(type="list", elements="dict", default=[], options=SERVICE_SPEC),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            purge=dict(type="bool", default=False),
            adopt=dict(type="bool", default=False),
            owner=dict(type="str", default="default"),
            state_dir=dict(type="path", default=DEFAULT_STATE_DIR),
        ),
        supports_check_mode=True,
    )
    records.check_state_dir(module)
    params = module.params
    result = dict(changed=False, created=[], modified=[], removed=[], not_owned=[], services=[], commands=[], record="")
    try:
        owner = check_owner(params["owner"])
        result["record"] = record_path(params["state_dir"], owner)
        desired = normalize_services(params["services"])
        owned = read_record(result["record"])
    except IpvsError as exc:
        module.fail_json(msg=str(exc), **result)

    ipvsadm = None
    if module.check_mode and not os.path.exists(IPVS_PROC):
        # ip_vs is not loaded, so no service can exist: plan against an empty
        # table without loading the module (or needing ipvsadm yet, on a node
        # the role has not prepared).
        current = {}
    else:
        ipvsadm = module.get_bin_path("ipvsadm", required=False, opt_dirs=["/usr/sbin", "/sbin"])
        if ipvsadm is None:
            msg = "ipvsadm is not installed (Debian: apt install ipvsadm; the anycast.fabric.kube_proxy role installs it in ipvs mode)"
            module.fail_json(msg=msg, **result)
        current = read_table(module, ipvsadm, result)

    the_plan = plan(desired, current, owned, params["state"], params["purge"], params["adopt"])
    if the_plan.conflicts:
        module.fail_json(
            msg="these services exist but are not recorded as owned by %r (made by hand, by kube-proxy, or by another owner); "
            "set adopt: true to take them over: %s" % (owner, ", ".join(the_plan.conflicts)),
            conflicts=the_plan.conflicts,
            **result
        )
    if the_plan.not_owned:
        module.warn("left alone (they exist but are not recorded as owned by %r): %s" % (owner, ", ".join(the_plan.not_owned)))

    result.update(
        created=the_plan.created,
        modified=the_plan.modified,
        removed=the_plan.removed,
        not_owned=the_plan.not_owned,
        services=the_plan.owned,
        commands=the_plan.commands,
    )
    record_changed = the_plan.owned != owned
    result["changed"] = the_plan.changed or record_changed

    after = dict(current)
    for key, svc in the_plan.expected.items():
        if svc is None:
            after.pop(key, None)
        else:
            after[key] = svc
    if module._diff:
        shown = set(owned) | set(the_plan.owned) | set(the_plan.expected)
        result["diff"] = dict(
            before=dump(current, shown),
            after=dump(after, shown),
            before_header="IPVS services of owner %s" % owner,
            after_header="IPVS services of owner %s" % owner,
        )

    if module.check_mode or not result["changed"]:
        module.exit_json(**result)

    if the_plan.changed:
        # Write-ahead: the record lists every service the batch may create
        # before it runs, so a failure half-way leaves none unrecorded.
        save_record(module, result, owner, set(owned) | set(the_plan.owned))
        rc, out, err = module.run_command([ipvsadm, "-R"], data=the_plan.batch(), binary_data=True)
        problems = mismatches(the_plan.expected, read_table(module, ipvsadm, result))
        if problems:
            module.fail_json(
                msg="the IPVS table is not as planned after ipvsadm -R (rc %d): %s; ipvsadm said: %s"
                % (rc, "; ".join(problems), (err or out).strip() or "nothing"),
                problems=problems,
                **result
            )
    save_record(module, result, owner, the_plan.owned)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
