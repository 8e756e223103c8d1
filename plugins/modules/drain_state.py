#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: drain_state
short_description: Read or set a node's drain state, which the routing role renders into its BGP export policy
version_added: 0.1.0
description:
  - A node is V(in_service) (its VIPs announced normally), V(draining) (its VIPs announced with the graceful
    shutdown community C(65535:0), so ToRs and spines lower them to local-preference 0 and take the node out of
    ECMP while keeping it as a backup path) or V(drained) (its VIPs withdrawn). Pod CIDRs are announced in every
    state.
  - The state is kept on the node, in O(state_dir)C(/drain.json), so that it survives reboots and every later
    run of the C(anycast.fabric.routing) role (and so C(anycast.fabric.site)) renders it. A drained node stays
    drained until it is undrained on purpose.
  - This module only records the state. The C(anycast.fabric.drain) and C(anycast.fabric.undrain) playbooks
    record it, apply the configuration and verify the result at the ToRs.
  - Without O(state) it only reads.
author:
  - anycast.fabric contributors (@anycast-fabric)
options:
  state:
    description:
      - The drain state to record. Omit it to read the current state.
    type: str
    choices: [in_service, draining, drained]
  reason:
    description: Why the node is drained (kept in the record and returned, for whoever looks later).
    type: str
extends_documentation_fragment:
  - anycast.fabric.attributes
  - anycast.fabric.state_dir
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Read the drain state of a node
  anycast.fabric.drain_state:
  register: drain

- name: Take a node out of ECMP (then apply the routing configuration)
  anycast.fabric.drain_state:
    state: draining
    reason: kernel upgrade, CHG-1234
"""

RETURN = r"""
state:
  description: The drain state after the module ran (in check mode, the state it would record).
  returned: always
  type: str
  sample: draining
previous:
  description: The drain state before the module ran.
  returned: always
  type: str
  sample: in_service
since:
  description: When the current state was recorded (UTC, ISO 8601), or V(null) for a node never drained.
  returned: always
  type: str
  sample: "2026-11-22T17:05:12Z"
reason:
  description: The reason recorded with the state.
  returned: always
  type: str
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.anycast.fabric.plugins.module_utils import _records as records
from ansible_collections.anycast.fabric.plugins.module_utils._contract import DEFAULT_STATE_DIR, DRAIN_STATES, IN_SERVICE

SCHEMA = 1
STATES = DRAIN_STATES


class RecordError(Exception):
    pass


def read(path):
    data = records.load(path, SCHEMA, RecordError, hint="remove it to mark the node in service")
    if data is None:
        return {"state": IN_SERVICE, "since": None, "reason": None}
    if data.get("state") not in STATES:
        raise RecordError("drain record %s holds state %r, not one of %s" % (path, data.get("state"), ", ".join(STATES)))
    return {"state": data["state"], "since": data.get("since"), "reason": data.get("reason")}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=list(STATES)),
            reason=dict(type="str"),
            state_dir=dict(type="path", default=DEFAULT_STATE_DIR),
        ),
        supports_check_mode=True,
    )
    records.check_state_dir(module)
    path = os.path.join(module.params["state_dir"], "drain.json")
    try:
        before = read(path)
    except RecordError as exc:
        module.fail_json(msg=str(exc))
    wanted = module.params["state"]
    after = dict(before)
    if wanted is not None and (wanted != before["state"] or (module.params["reason"] or None) != before["reason"]):
        since = before["since"] if wanted == before["state"] else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        after = {"state": wanted, "since": since, "reason": module.params["reason"]}
    changed = after != before
    if changed and not module.check_mode:
        records.store(path, dict(after, schema=SCHEMA))
    result = dict(changed=changed, state=after["state"], previous=before["state"], since=after["since"], reason=after["reason"])
    if module._diff:
        result["diff"] = dict(before="drain: %s\n" % before["state"], after="drain: %s\n" % after["state"], before_header=path, after_header=path)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
