#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fabric_document
short_description: Validate the fabric and write its documentation, tables and topology picture to a folder
version_added: 0.3.0
description:
  - Reads the fabric variables of every host in the C(fabric_nodes), C(fabric_tors) and C(fabric_spines) groups,
    validates the whole fabric (whatever C(--limit) says) and writes its documentation into O(dest), in one step
    on the controller. Never contacts a host. Must run with C(run_once=true). The playbook
    C(anycast.fabric.document) wraps it.
  - C(fabric.md) describes the sites, racks, every host (role, daemon, ASN, router id, addresses), every BGP
    session once with both ends and its family, every VIP with the nodes and sites that announce it and its
    health checks, the edge (upstreams, aggregates, AS-path prepends and MEDs) and how the picture was collapsed.
  - C(hosts.csv), C(sessions.csv) (each session once, not once per end) and C(vips.csv) hold the same tables for
    spreadsheets and scripts.
  - C(topology.svg) draws spines, ToRs and nodes grouped by site and rack, the BGP sessions as edges, each box's
    ASN and each node's VIP count. A rack with more than O(collapse_rack_nodes) nodes draws its nodes as one box;
    a site with more than O(collapse_site_racks) racks draws one box per rack. C(topology.dot) is its Graphviz
    source.
  - The picture needs the Python package C(graphviz) and Graphviz's C(dot) program on the controller (Debian and
    Ubuntu package C(graphviz)). Without them every other file is written, the task warns and says what to
    install, and a C(topology.svg) left from an earlier run is removed.
  - The files are generated from the intents only, sorted and without a timestamp, so the same inventory always
    gives the same C(fabric.md), CSV files and C(topology.dot). No BGP key reaches them (C(fabric.md) says only
    whether sessions have one), nor the arguments of an C(exec) health check (only its program).
  - All or nothing. The files are written to a staging folder inside O(dest) first and then renamed into place;
    a failure on the way puts back the files already replaced. Other files in O(dest) are left alone.
    Files that are already exactly the generated ones are not rewritten (the task then reports no change).
options:
  dest:
    description:
      - The folder to write into. Created when missing.
      - A relative path is relative to the directory C(ansible-playbook) runs in (its working directory),
        not to the playbook's directory.
    type: str
    required: true
  picture:
    description:
      - Whether to lay out C(topology.svg) with Graphviz's C(dot). When false, C(topology.dot) is still written.
    type: bool
    default: true
  collapse_rack_nodes:
    description:
      - A rack with more nodes than this is drawn with its nodes as one box (node count, ASNs, VIP announcements),
        one edge per ToR.
    type: int
    default: 8
  collapse_site_racks:
    description:
      - A site with more racks than this is drawn with one box per rack (its ToRs, node count and VIP
        announcements), in rows of five, and one edge from each spine to the site's racks.
    type: int
    default: 8
author:
  - anycast.fabric contributors (@anycast-fabric)
extends_documentation_fragment:
  - anycast.fabric.attributes.CONTROLLER
attributes:
  check_mode:
    support: full
    description: Reports which files would change, writes nothing.
  diff_mode:
    support: none
    description: Never shows a diff.
notes:
  - The picture's layout and fonts depend on the controller's Graphviz version, so C(topology.svg) may differ
    between machines; compare C(topology.dot) instead.
seealso:
  - module: anycast.fabric.fabric_render
  - module: anycast.fabric.fabric_facts
"""

EXAMPLES = r"""
- name: Document the whole fabric into ./fabric-docs (relative to where ansible-playbook runs)
  hosts: all:localhost
  gather_facts: false
  tasks:
    - name: Document
      anycast.fabric.fabric_document:
        dest: fabric-docs
      run_once: true

- name: Tables and Markdown only, racks of more than 20 nodes collapsed
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Document without the picture
      anycast.fabric.fabric_document:
        dest: /srv/docs/fabric
        picture: false
        collapse_rack_nodes: 20
      run_once: true
"""

RETURN = r"""
dest:
  description: The real, absolute path of the documentation folder.
  returned: success
  type: str
  sample: /home/user/fabric/fabric-docs
files:
  description: The files generated this run (without C(topology.svg) when the picture was not drawn).
  returned: success
  type: list
  elements: str
  sample: [fabric.md, hosts.csv, sessions.csv, topology.dot, topology.svg, vips.csv]
files_changed:
  description: The files that were (or, in check mode, would be) written or removed.
  returned: success
  type: list
  elements: str
  sample: [fabric.md, sessions.csv]
hosts:
  description: Number of fabric hosts documented.
  returned: success
  type: int
  sample: 16
sessions:
  description: Number of BGP sessions documented (each once).
  returned: success
  type: int
  sample: 42
collapsed:
  description: How the picture was collapsed (empty when every host has its own box).
  returned: success
  type: list
  elements: str
  sample: ["site ams has 25 racks (more than 8): each rack is one box"]
picture:
  description: Whether C(topology.svg) was drawn.
  returned: success
  type: bool
  sample: true
"""
