#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fabric_verify
short_description: Write verify's reports (JUnit XML, Markdown, a state picture) and fail when the live fabric differs from its intent
version_added: 0.3.0
description:
  - Compares what every verified host read back (the registered result of M(anycast.fabric.bgp_info) and of
    M(anycast.fabric.drain_state)) with the fabric's intent and expected ECMP paths (from the run folder that
    C(anycast.fabric.intent) wrote), one test case per expected session (at each end), per expected ECMP path set at
    each ToR and spine, and per VIP of each node (announced, withdrawn by a drain, or withdrawn by its health checks).
  - Writes O(dest)C(/junit.xml) (one testsuite per kind of check, one testcase per check; a failure names host, peer
    or prefix, what was expected and what was found), C(report.md) (the verdict, counts, what differs from the
    intent), C(report.json), and C(state.svg) (the topology picture of C(anycast.fabric.document) coloured by the live
    state) with its Graphviz source C(state.dot). All files are written or none.
  - Runs once on the controller (C(run_once=true)) and never contacts a host. The playbook C(anycast.fabric.verify)
    runs it after reading every host.
  - C(state.svg) needs Graphviz (the C(dot) program and the Python package C(graphviz)); without it the other files
    are written and a warning says what to install.
options:
  dest:
    description:
      - The folder to write the reports into (created when missing).
      - A relative path is relative to the directory C(ansible-playbook) runs in.
    type: str
    default: verify
  hosts:
    description: The hosts that were verified (C(ansible_play_hosts_all)); hosts outside the fabric are ignored.
    type: list
    elements: str
    required: true
  results:
    description: The variable each host registered M(anycast.fabric.bgp_info)'s result in.
    type: str
    default: verify_bgp
  drain:
    description: The variable each node registered M(anycast.fabric.drain_state)'s result in.
    type: str
    default: verify_drain
  picture:
    description: Draw C(state.svg).
    type: bool
    default: true
  fail:
    description: Fail when a check differs from the intent (after writing the reports).
    type: bool
    default: true
author:
  - anycast.fabric contributors (@anycast-fabric)
extends_documentation_fragment:
  - anycast.fabric.attributes.CONTROLLER
attributes:
  check_mode:
    support: full
    description: Compares and reports which files would change; writes nothing.
  diff_mode:
    support: none
    description: Shows no diff; report.md says what differs from the intent.
seealso:
  - module: anycast.fabric.bgp_info
"""

EXAMPLES = r"""
- name: Report on the fabric (after registering verify_bgp on every host)
  anycast.fabric.fabric_verify:
    dest: verify
    hosts: "{{ ansible_play_hosts_all }}"
  run_once: true
"""

RETURN = r"""
dest:
  description: The real, absolute path of the report folder.
  returned: always
  type: str
  sample: /home/user/fabric/verify
files:
  description: The files the report consists of.
  returned: always
  type: list
  elements: str
  sample: [junit.xml, report.json, report.md, state.dot, state.svg]
report:
  description: The summary.
  returned: always
  type: dict
  contains:
    result:
      description: V(passed) or V(failed).
      type: str
    cases:
      description: Number of checks.
      type: int
    failures:
      description: Number of checks that differ from the intent.
      type: int
    by_kind:
      description: Per kind (V(sessions), V(paths), V(vips)), the counts of checks, failures and skipped checks.
      type: dict
    failed:
      description: One line per failed check.
      type: list
      elements: str
"""
