#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: routing_config
short_description: Apply a routing daemon's configuration safely, with validation, post-check and rollback
version_added: 0.1.0
description:
  - Writes a rendered routing daemon configuration and applies it to the running daemon the way a careful
    operator would, without ever restarting the daemon.
  - B(Unchanged content) changes nothing and makes no daemon call that could reset a session.
  - B(Changed content) is first validated with the daemon's own checker (for example C(bird -p -c), C(vtysh -C -f)); a
    rejected candidate fails the task with the checker's message and leaves the file and the daemon untouched.
  - B(The daemon applies the file in its own way), then the module waits for the sessions that were Established
    to be Established again, and the daemon rolls the change back when they are not. The notes say how each
    daemon does it.
  - When the daemon is not running, the validated file is written and nothing else happens; the daemon reads it
    when it starts.
  - The file is written atomically (temporary file and rename) with O(owner), O(group) and O(mode); it is never
    world-readable because it may hold BGP passwords. Passwords are masked in the diff and in RV(commands).
author:
  - anycast.fabric contributors (@anycast-fabric)
options:
  content:
    description:
      - The complete configuration text, usually C(fabric_intent | anycast.fabric.render_config(...)).
      - The BGP passwords written in it (in the daemon's syntax, for example BIRD C(password "..."), FRR
        C(neighbor ... password ...)) are never shown.
        They are masked in the diff, in RV(commands) and in the logged invocation; the rest of the text is shown.
    type: str
    required: true
  dest:
    description:
      - The daemon's configuration file. Defaults to C(/etc/bird/bird.conf) for BIRD and C(/etc/frr/frr.conf) for FRR.
    type: path
  validate:
    description: Check the candidate with the daemon's own parser before writing it.
    type: bool
    default: true
  reload:
    description: Apply the written file to the running daemon. With V(false) only the file is written.
    type: bool
    default: true
  backup:
    description: Keep a timestamped copy of the previous file next to it, returned as RV(backup_file).
    type: bool
    default: true
  owner:
    description: Owner of the file. Defaults to C(bird) or C(frr).
    type: str
  group:
    description: Group of the file. Defaults to C(bird) or C(frr).
    type: str
  mode:
    description: Mode of the file; readable by the daemon, never by others.
    type: raw
    default: "0640"
  session_wait:
    description:
      - Seconds to wait, after applying, for every session that was Established before to be Established again.
    type: int
    default: 30
  settle_time:
    description:
      - Seconds the post-check observes the sessions at least, so that a change that drops a session a moment
        after the reload is still caught.
    type: int
    default: 3
  confirm_timeout:
    description:
      - BIRD only. BIRD reverts the reconfiguration by itself unless it is confirmed within this many seconds
        (C(birdc configure ... timeout)). Must exceed O(session_wait). Defaults to O(session_wait) + 30.
    type: int
  rollback:
    description:
      - Roll back when the post-check fails. With V(false) a failed post-check only fails the task (BIRD's
        change is still confirmed).
    type: bool
    default: true
extends_documentation_fragment:
  - anycast.fabric.daemon
  - anycast.fabric.daemon.options
  - anycast.fabric.attributes
attributes:
  check_mode:
    support: full
    details:
      - Validates the candidate and returns the diff and, for a running FRR, the commands C(frr-reload.py) would run.
  diff_mode:
    support: full
  platform:
    support: full
    platforms: posix
notes:
  - Never restarts a daemon.
seealso:
  - module: anycast.fabric.bgp_info
"""

EXAMPLES = r"""
- name: Apply the node's rendered BIRD configuration
  anycast.fabric.routing_config:
    daemon: bird
    content: "{{ fabric_intent | anycast.fabric.render_config(password=fabric_bgp.password | default(none)) }}"

- name: Apply a ToR's FRR configuration, waiting up to a minute for its sessions
  anycast.fabric.routing_config:
    daemon: frr
    content: "{{ lookup('ansible.builtin.file', 'rendered/' ~ inventory_hostname ~ '/frr.conf') }}"
    session_wait: 60
  register: applied

- name: Show what frr-reload changed
  ansible.builtin.debug:
    var: applied.commands
"""

RETURN = r"""
before:
  description: SHA-256 of the file before the run (V(null) when there was none).
  returned: always
  type: str
  sample: 0b8e1c7b5e3e4f0e9b7d6c1a2f3e4d5c6b7a8e9f0a1b2c3d4e5f6a7b8c9d0e1f
after:
  description: SHA-256 of the requested content.
  returned: always
  type: str
commands:
  description:
    - When the daemon runs and can preview a change, the commands applying the file runs (or would run, in check
      mode), passwords masked. For FRR the vtysh commands of C(frr-reload.py). Empty for BIRD, which cannot preview
      a reconfiguration.
  returned: always
  type: list
  elements: str
  sample: ["router bgp 65101", " neighbor 10.1.1.13 remote-as 4200000001"]
validated:
  description:
    - V(false) in check mode on a host where the daemon is not installed yet (no configuration directory). The
      whole file is then reported as new, without validation.
  returned: in that case
  type: bool
reloaded:
  description: Whether the running daemon was reconfigured.
  returned: always
  type: bool
daemon_running:
  description: Whether the daemon was running.
  returned: always
  type: bool
sessions_before:
  description: BGP sessions before the change, as returned by M(anycast.fabric.bgp_info).
  returned: when the daemon runs
  type: list
  elements: dict
sessions_after:
  description: BGP sessions after the change (or after the rollback).
  returned: when the daemon runs
  type: list
  elements: dict
sessions_reset:
  description: Peers whose session was Established before and re-established during the apply.
  returned: when the daemon runs
  type: list
  elements: str
broken:
  description: Sessions (and BIRD protocols) that failed the post-check.
  returned: on post-check failure
  type: list
  elements: str
rolled_back:
  description: Whether a failed apply was rolled back.
  returned: always
  type: bool
backup_file:
  description: The copy of the previous file.
  returned: when a backup was made
  type: str
  sample: /etc/bird/bird.conf.12345.2026-11-22@10:00:00~
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.anycast.fabric.plugins.module_utils._daemon import Transaction, read_file, sha256, write_temp
from ansible_collections.anycast.fabric.plugins.module_utils._daemons import DAEMONS, DaemonError, create, find_secrets, mask_secrets, option_specs


class Apply:
    """One run of the module: holds the module, the daemon and the result."""

    def __init__(self, module):
        self.module = module
        self.daemon = create(module, module.params["daemon"])
        self.dest = module.params["dest"] or self.daemon.default_dest
        self.result = dict(changed=False, commands=[], reloaded=False, daemon_running=False, rolled_back=False, dest=self.dest)
        self.tx = Transaction(module, self.daemon, self.dest, self.result)
        self.fail = self.tx.fail

    def run(self):
        params, module = self.module.params, self.module
        content = params["content"]
        old = read_file(self.dest)
        self.result.update(before=sha256(old), after=sha256(content))
        running = params["reload"] and self.daemon.running()
        self.result["daemon_running"] = running
        if running:
            self.result["sessions_before"] = self.daemon.state().sessions

        if old == content:
            # Nothing to apply: at most ownership or mode to mend (check mode
            # only reports it), never a reload.
            self.result["changed"] = module.set_fs_attributes_if_different(self.tx.file_args(self.dest), False)
            self.result["sessions_after"] = self.result.get("sessions_before", [])
            self.result["sessions_reset"] = []
            return self.result

        directory = os.path.dirname(self.dest) or "."
        if not os.path.isdir(directory):
            if module.check_mode:
                # A new host (a new rack being planned): the role installs the
                # daemon before this task, so check mode shows the whole file.
                module.warn("%s does not exist (%s not installed yet): the configuration was not validated" % (directory, params["daemon"]))
                self.result.update(changed=True, commands=[], validated=False)
                if module._diff:
                    self.result["diff"] = dict(before="", after=mask_secrets(content), before_header=self.dest, after_header=self.dest)
                return self.result
            self.fail("%s does not exist: is %s installed?" % (directory, params["daemon"]))
        candidate = write_temp(directory, content)
        try:
            os.chmod(candidate, 0o600)
            if params["validate"]:
                ok, message = self.daemon.validate(candidate)
                if not ok:
                    self.fail("%s rejected the new configuration; %s and the daemon were left untouched:\n%s"
                              % (params["daemon"], self.dest, mask_secrets(message.replace(candidate, self.dest))))
            if module._diff:
                self.result["diff"] = dict(
                    before=mask_secrets(old or ""),
                    after=mask_secrets(content),
                    before_header=self.dest,
                    after_header=self.dest,
                )
            if running:
                self.result["commands"] = [mask_secrets(c) for c in self.daemon.delta(candidate)]
            self.result["changed"] = True
            if module.check_mode:
                return self.result
            self.apply(candidate, old, running)
        except DaemonError as exc:
            self.fail(str(exc))
        finally:
            if os.path.exists(candidate):
                os.unlink(candidate)
        return self.result

    def apply(self, candidate, old, running):
        if not running:
            self.tx.install(candidate, old)
            return
        self.daemon.apply(self.tx, candidate, old, self.daemon.state())


def main():
    module = AnsibleModule(
        argument_spec=dict(
            daemon=dict(type="str", choices=sorted(DAEMONS), required=True),
            content=dict(type="str", required=True, no_log=True),
            dest=dict(type="path"),
            validate=dict(type="bool", default=True),
            reload=dict(type="bool", default=True),
            backup=dict(type="bool", default=True),
            owner=dict(type="str"),
            group=dict(type="str"),
            mode=dict(type="raw", default="0640"),
            session_wait=dict(type="int", default=30),
            settle_time=dict(type="int", default=3),
            confirm_timeout=dict(type="int"),
            rollback=dict(type="bool", default=True),
            **option_specs()
        ),
        supports_check_mode=True,
    )
    # Only the keys inside the content are secret. Left as a whole no_log
    # value, the content would also hide every diff whose new side is the
    # whole file (a new host, any host of a fabric without a key); instead
    # the keys themselves are masked wherever they appear (diffs and
    # commands are masked by syntax too, see mask_secrets).
    module.no_log_values.discard(module.params["content"])
    module.no_log_values.update(find_secrets(module.params["content"]))
    try:
        result = Apply(module).run()
    except DaemonError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
