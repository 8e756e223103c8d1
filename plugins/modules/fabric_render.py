#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fabric_render
short_description: Validate the fabric and render every host's routing configuration to a folder
version_added: 0.2.0
description:
  - Reads the fabric variables of every host in the C(fabric_nodes), C(fabric_tors) and C(fabric_spines) groups,
    validates the whole fabric (whatever C(--limit) says) and renders the configuration of the hosts in O(hosts)
    to O(dest)C(/<inventory_hostname>/bird.conf) or C(frr.conf), in one step on the controller.
  - Never contacts a host. Must run with C(run_once=true). The playbook C(anycast.fabric.render) wraps it.
  - All or nothing. Every configuration is rendered and written to a staging folder inside O(dest) first; the host
    folders are then moved into place one by one, and a failure on the way puts back the folders already replaced.
    A failure leaves the previous files as they were. Host folders not rendered this time are left alone.
  - A render killed outright (C(kill -9), a dead controller) leaves its staging folder, and during the swap some host
    folders moved aside. The next render into O(dest) that finds no other render running there (it holds a lock on
    O(dest)) puts those host folders back and removes the staging folder.
  - Host folders are created with mode 0700 and files with mode 0600, as they hold the BGP key.
    The task never shows a diff.
  - Never writes outside O(dest). Each host's folder must be a plain name whose real path is directly inside
    O(dest); a symbolic link there is refused.
  - A host folder whose files are already exactly the rendered ones is not rewritten (the task then reports
    no change).
options:
  dest:
    description:
      - The folder to render into. Created (mode 0700) when missing.
      - A relative path is relative to the directory C(ansible-playbook) runs in (its working directory),
        not to the playbook's directory.
    type: str
    required: true
  hosts:
    description:
      - Render only these hosts (others are ignored when not fabric hosts). The playbook passes
        C(ansible_play_hosts_all), so C(--limit) renders only the limited hosts.
      - Default is every fabric host.
      - Fails when none of them is a fabric host.
    type: list
    elements: str
author:
  - anycast.fabric contributors (@anycast-fabric)
extends_documentation_fragment:
  - anycast.fabric.attributes.CONTROLLER
attributes:
  check_mode:
    support: full
    description: Reports which hosts' files would change, writes nothing.
  diff_mode:
    support: none
    description: Never shows a diff (the files hold the BGP key).
seealso:
  - module: anycast.fabric.fabric_facts
"""

EXAMPLES = r"""
- name: Render the whole fabric into ./rendered (relative to where ansible-playbook runs)
  hosts: all:localhost
  gather_facts: false
  tasks:
    - name: Render
      anycast.fabric.fabric_render:
        dest: rendered
        hosts: "{{ ansible_play_hosts_all }}"
      run_once: true
"""

RETURN = r"""
dest:
  description: The real, absolute path of the render folder.
  returned: success
  type: str
  sample: /home/user/fabric/rendered
hosts:
  description: Number of hosts rendered.
  returned: success
  type: int
  sample: 16
hosts_changed:
  description: Hosts whose files were (or, in check mode, would be) written.
  returned: success
  type: list
  elements: str
  sample: [n1, tor1]
"""
