# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja2 filters exposing the pure renderer to playbooks and roles."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.anycast.fabric.plugins.plugin_utils.render.render import RenderError, config_filename, render


def render_config(intent, password=None, drain="in_service"):
    try:
        return render(intent, password=password, drain=drain)
    except (RenderError, KeyError, TypeError) as exc:
        raise AnsibleFilterError("anycast.fabric.render_config: %s" % exc) from exc


def config_file(intent):
    try:
        return config_filename(intent)
    except KeyError as exc:
        raise AnsibleFilterError("anycast.fabric.config_file: not an intent (missing %s)" % exc) from exc


class FilterModule:
    def filters(self):
        return {"render_config": render_config, "config_file": config_file}
