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
  - The intents are returned as the fact C(fabric_intents), a mapping from inventory host name to intent.
    It is usually followed by setting C(fabric_intent) on every host, which the role C(anycast.fabric.intent) does.
  - Intents never hold the BGP password; they only record whether one is set.
options: {}
author:
  - anycast.fabric contributors (@anycast-fabric)
attributes:
  action:
    support: full
    description: Implemented as an action plugin that runs on the controller.
  async:
    support: none
    description: Runs on the controller.
  bypass_host_loop:
    support: none
    description: Must be used with C(run_once=true) instead.
  check_mode:
    support: full
    description: Changes nothing anywhere; runs the same in check mode.
  diff_mode:
    support: none
    description: Produces no diff.
  platform:
    support: full
    platforms: all
    description: Runs on the controller.
"""

EXAMPLES = r"""
- name: Compute the fabric intent once for the whole play
  anycast.fabric.fabric_facts:
  run_once: true

- name: Give every host its own intent
  ansible.builtin.set_fact:
    fabric_intent: "{{ fabric_intents[inventory_hostname] }}"
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
    fabric_intents:
      description:
        - Mapping of inventory host name to that host's intent.
        - "An intent holds: C(schema), C(hostname), C(role) (node, tor or spine), C(daemon), C(site), C(rack),
          C(asn), C(router_id), C(ipv4), C(ipv6), C(bgp) (the effective policy, with C(password) a boolean),
          C(peers) (name, id, role, family, address, local_address, asn, accept, export, max_prefixes) and,
          for nodes, C(vip_interface), C(vips), C(pod_cidrs), C(exports) and C(export_policy);
          for ToRs, C(uplink_ipv4) and C(uplink_ipv6)."
      returned: success
      type: dict
"""
