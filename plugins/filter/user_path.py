# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A path the user gave, made absolute against the directory ansible-playbook runs in."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.anycast.fabric.plugins.plugin_utils.render.render_tree import resolve


def user_path(path):
    # os.getcwd() of the controller process: Ansible never changes it, and
    # forked workers inherit it. The environment's PWD is only what a shell
    # last set (a wrapper starting ansible-playbook in another directory
    # without a shell leaves its own PWD there), so it is not used.
    if path is None or str(path) == "":
        raise AnsibleFilterError("anycast.fabric.user_path: empty path")
    return resolve(str(path))


class FilterModule:
    def filters(self):
        return {"user_path": user_path}
