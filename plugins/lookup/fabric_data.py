# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fabric_data
short_description: Read what anycast.fabric.fabric_facts computed for this run
version_added: 0.2.0
author: anycast.fabric contributors (@anycast-fabric)
description:
  - M(anycast.fabric.fabric_facts) computes the fabric model once per run and writes it to a private run folder
    (mode 0700, inside Ansible's local temporary folder of the running C(ansible-playbook), removed when it exits);
    the only fact it sets is C(fabric_run), the folder's path. This lookup reads from that folder only what the
    caller needs, so that no host carries the whole fabric in its facts.
  - V(intent) returns one host's intent (what the C(anycast.fabric.intent) role sets as C(fabric_intent)),
    V(expected_paths) a ToR's or spine's expected ECMP paths, V(rollout) hosts of one role in rack order with the
    batch sizes for C(serial), V(undrain_waits) the routers an undrained node must be routed through again,
    V(rack_mates) the other nodes of a node's rack with their addresses (the zero-reset drain's peers).
    These read one small record each, whatever the size of the fabric.
  - V(daemon) returns what the controller knows of a host's routing daemon (its driver) with the keys C(name), C(roles),
    C(config_file), C(config_path), C(packages), C(service) and C(capabilities). The routing role installs and
    runs the daemon from it. With O(daemon) it needs no run folder.
  - V(intents) returns every host's intent, for controller-side uses that need the whole fabric once per play
    (drain checks, the plan report). Do not store its result in facts.
  - The run folder is found in O(run), else in the variable C(fabric_run), else in C(hostvars['localhost'].fabric_run).
options:
  _terms:
    description: What to read.
    type: list
    elements: str
    required: true
    choices: [intent, expected_paths, rollout, undrain_waits, rack_mates, intents, daemon]
  host:
    description:
      - The host for V(intent), V(expected_paths), V(undrain_waits), V(rack_mates) and V(daemon).
      - Defaults to the current host (C(inventory_hostname)).
    type: str
  drained:
    description: For V(expected_paths), nodes whose VIPs are out of ECMP (draining or drained).
    type: list
    elements: str
    default: []
  present:
    description: For V(undrain_waits), the VIPs now on the node's VIP interface.
    type: list
    elements: str
    default: []
  role:
    description: For V(rollout), the fabric role to order.
    type: str
    default: node
    choices: [node, tor, spine]
  daemon:
    description:
      - For V(daemon), the daemon's name (usually C(fabric_intent.daemon)). Without it, the daemon of the host's
        intent is read from the run folder.
    type: str
  run:
    description: The run folder (the fact C(fabric_run)). Found in the variables when not given.
    type: str
  missing:
    description: For V(intent), what to do when the host has no intent (it is in no fabric group).
    type: str
    default: error
    choices: [error, none]
notes:
  - The run folder only exists while the C(ansible-playbook) run that computed it lasts.
seealso:
  - module: anycast.fabric.fabric_facts
"""

EXAMPLES = r"""
- name: Give every fabric host its own intent (what the anycast.fabric.intent role does)
  ansible.builtin.set_fact:
    fabric_intent: "{{ lookup('anycast.fabric.fabric_data', 'intent') }}"

- name: Nodes, one rack at a time
  hosts: "{{ lookup('anycast.fabric.fabric_data', 'rollout').hosts }}"
  serial: "{{ lookup('anycast.fabric.fabric_data', 'rollout').batches }}"
  tasks: []

- name: Install the host's routing daemon
  ansible.builtin.apt:
    name: "{{ lookup('anycast.fabric.fabric_data', 'daemon', daemon=fabric_intent.daemon).packages }}"

- name: What this ToR should have installed
  ansible.builtin.debug:
    msg: "{{ lookup('anycast.fabric.fabric_data', 'expected_paths', host='tor1', drained=['n3']) }}"
"""

RETURN = r"""
_raw:
  description:
    - One element, the requested data.
    - V(intent) an intent (a dict), V(expected_paths) a mapping of prefix to the number of paths,
      V(rollout) a dict with C(hosts) and C(batches), V(undrain_waits) a list of dicts with C(router),
      C(prefixes) and C(with), V(rack_mates) a list of dicts with C(name), C(ipv4) and C(ipv6), V(intents) a mapping of host name to intent, V(daemon) a dict.
  type: list
  elements: raw
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.anycast.fabric.plugins.plugin_utils import daemons
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import IntentError, as_intent
from ansible_collections.anycast.fabric.plugins.plugin_utils.ops import drain
from ansible_collections.anycast.fabric.plugins.plugin_utils.run import fabric_run

WHAT = ("intent", "expected_paths", "rollout", "undrain_waits", "rack_mates", "intents", "daemon")


def find_run(variables):
    """The run folder from the variables (fabric_run.find_run), as a lookup error when there is none."""
    try:
        return fabric_run.find_run(variables)
    except fabric_run.RunError as exc:
        raise AnsibleLookupError("anycast.fabric.fabric_data: %s" % exc) from None


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if len(terms) != 1 or terms[0] not in WHAT:
            raise AnsibleLookupError("anycast.fabric.fabric_data takes one term, one of: %s" % ", ".join(WHAT))
        what = terms[0]
        if what == "daemon" and self.get_option("daemon") is not None:
            return [self._daemon(self.get_option("daemon"))]
        run = self.get_option("run") or find_run(variables)
        host = self.get_option("host") or (variables or {}).get("inventory_hostname")
        try:
            return [self._read(what, str(run), host)]
        except (fabric_run.RunError, IntentError) as exc:
            raise AnsibleLookupError("anycast.fabric.fabric_data: %s" % exc) from None

    def _read(self, what, run, host):
        if what == "rollout":
            return fabric_run.rollout_of(run, self.get_option("role"))
        if what == "intents":
            return fabric_run.intents(run)
        if not host:
            raise AnsibleLookupError("anycast.fabric.fabric_data: %s needs host=" % what)
        host = str(host)
        if what == "expected_paths":
            return fabric_run.expected_paths(run, host, [str(n) for n in self.get_option("drained") or []])
        if what == "rack_mates":
            return fabric_run.node_rack_mates(run, host)
        intent = fabric_run.intent(run, host)
        if intent is None:
            if what == "intent" and self.get_option("missing") == "none":
                return None
            raise AnsibleLookupError("anycast.fabric.fabric_data: %s is not a fabric host (in no fabric group)" % host)
        if what == "intent":
            return intent
        intent = as_intent(intent, "intent of %s" % host)
        if what == "daemon":
            return self._daemon(intent.daemon)
        if intent.role != "node":
            raise AnsibleLookupError("anycast.fabric.fabric_data: undrain_waits: %s is not a fabric node" % host)
        present = [str(p) for p in self.get_option("present") or []]
        return drain.undrain_waits_for(intent, present, lambda tor: fabric_run.tor_uplinks(run, tor))

    @staticmethod
    def _daemon(name):
        if name not in daemons.DRIVERS:
            raise AnsibleLookupError("anycast.fabric.fabric_data: daemon %r is not one of %s" % (name, ", ".join(daemons.DRIVERS)))
        return daemons.driver(name).facts()
