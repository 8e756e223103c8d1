#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fabric_facts
short_description: Validate the fabric inventory and compute every host's intent
version_added: 0.1.0
description:
  - Reads the fabric variables of every host in the C(fabric_nodes), C(fabric_tors) and C(fabric_spines)
    inventory groups, validates the whole fabric at once and computes the intent of every host
    (ASN, router id, BGP peers, accepted and exported prefixes, VIPs, BFD and policy).
  - Runs on the controller only and never contacts a host. Must run with C(run_once=true).
  - All problems of the inventory are reported together, each naming the host, the variable path and the
    offending value. Nothing is rendered or applied when any problem is found.
  - The variables it reads are described in the collection's C(docs/data-model.md).
  - The intents are written to a private run folder (mode 0700, inside Ansible's local temporary folder of the
    running C(ansible-playbook), removed when it exits; never the BGP key). The only fact returned is C(fabric_run),
    that folder's path; facts the size of the whole fabric would make Ansible's cost per task grow with the fabric.
  - The lookup P(anycast.fabric.fabric_data#lookup) reads from the run folder one host's intent (what the role
    C(anycast.fabric.intent) sets as C(fabric_intent) on every host), a router's expected paths, the rollout order,
    or every intent for controller-side uses.
  - Intents never hold the BGP password; they only record whether one is set.
options: {}
seealso:
  - plugin: anycast.fabric.fabric_data
    plugin_type: lookup
  - module: anycast.fabric.fabric_render
author:
  - anycast.fabric contributors (@anycast-fabric)
extends_documentation_fragment:
  - anycast.fabric.attributes.CONTROLLER
attributes:
  check_mode:
    support: full
    description: Changes nothing anywhere; runs the same in check mode.
  diff_mode:
    support: none
    description: Produces no diff.
"""

EXAMPLES = r"""
- name: Compute the fabric intent once for the whole play
  anycast.fabric.fabric_facts:
  run_once: true

- name: Give every host its own intent
  ansible.builtin.set_fact:
    fabric_intent: "{{ lookup('anycast.fabric.fabric_data', 'intent') }}"
"""

RETURN = r"""
hosts:
  description: Number of fabric hosts whose intent was computed.
  returned: success
  type: int
  sample: 12
roles:
  description: Number of hosts per fabric role.
  returned: success
  type: dict
  sample: {"node": 6, "tor": 4, "spine": 2}
ansible_facts:
  description: Facts set on every host of the play.
  returned: success
  type: complex
  contains:
    fabric_run:
      description:
        - Path of the run folder holding every host's intent and the fabric-wide data derived from them.
        - "An intent holds: C(schema), C(hostname), C(role) (node, tor or spine), C(daemon), C(site), C(rack),
          C(asn), C(router_id), C(ipv4), C(ipv6), C(bgp) (the effective policy, with C(password) a boolean),
          C(peers) (name, id, role, family, address, local_address, asn, accept, export, max_prefixes; ToR and spine
          peers also C(interface) and C(remote_interface), set on unnumbered links, where address is the interface) and,
          for nodes, C(vip_interface), C(vips), C(pod_cidrs), C(exports) and C(export_policy);
          for ToRs, C(uplink_ipv4) and C(uplink_ipv6)."
      returned: success
      type: str
"""
