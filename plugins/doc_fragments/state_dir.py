# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Host modules that keep a record on the node (ownership records, the drain state).
    DOCUMENTATION = r"""
options:
  state_dir:
    description:
      - Directory of anycast.fabric's records on the node (ownership records of VIPs and IPVS services, the drain state).
      - An absolute, normalised path (no C(.), C(..), C(//) or trailing C(/)) of letters, digits, C(_), C(@), C(+), C(.),
        C(-) and C(/); the module fails on any other value (a relative path would put the records wherever the module
        happens to run).
      - Keep it on persistent storage. A record outlives reboots, the kernel state it describes does not, and the next
        run recreates that state from the record.
    type: path
    default: /var/lib/anycast-fabric
"""
