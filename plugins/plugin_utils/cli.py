# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render an inventory's configurations without ansible-playbook: for CI jobs that only need the files.

    python -m ansible_collections.anycast.fabric.plugins.plugin_utils.cli -i INVENTORY -o DIR [--limit HOST ...]

(with the folder holding ansible_collections/ on PYTHONPATH, e.g. the
collections path the collection is installed in). It reads the inventory
with Ansible's own inventory and variable code (group_vars, host_vars,
templates, vaulted values with --vault-password-file), validates the whole
fabric, renders every host (or the --limit ones) and writes them all or
none, exactly as the anycast.fabric.render playbook does, in one process.
Exit status: 0 written (or nothing to change), 1 invalid inventory or
failed write (the problems on standard error), 2 usage error.
"""

from __future__ import annotations

import argparse
import sys

from ansible_collections.anycast.fabric.plugins.plugin_utils.model import fabric_read
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render_tree
from ansible_collections.anycast.fabric.plugins.plugin_utils.render.render import RenderError, rendered_files


def _task_vars(inventory_paths, vault_password_file):
    """The `groups` and a hostvars-like mapping, as a play would see them."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    if vault_password_file:
        from ansible.parsing.vault import get_file_vault_secret

        secret = get_file_vault_secret(filename=vault_password_file, loader=loader)
        secret.load()
        loader.set_vault_secrets([("default", secret)])
    inventory = InventoryManager(loader=loader, sources=list(inventory_paths))
    variables = VariableManager(loader=loader, inventory=inventory)
    groups = {name: [h.name for h in group.get_hosts()] for name, group in inventory.groups.items()}
    return {"groups": groups, "hostvars": _HostVars(inventory, variables, loader)}


class _HostVars:
    """hostvars[name][var], templated: only what the model reads is computed."""

    def __init__(self, inventory, variables, loader):
        self._inventory, self._variables, self._loader = inventory, variables, loader

    def __getitem__(self, name):
        from ansible.template import Templar

        host = self._inventory.get_host(name)
        values = self._variables.get_vars(host=host, include_hostvars=False)
        return _Templated(values, Templar(loader=self._loader, variables=values))


class _Templated:
    def __init__(self, values, templar):
        self._values, self._templar = values, templar

    def __contains__(self, key):
        return key in self._values

    def __getitem__(self, key):
        return self._templar.template(self._values[key])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="anycast-fabric-render", description="Render the fabric's BIRD/FRR configurations to a folder.")
    parser.add_argument("-i", "--inventory", action="append", required=True, help="inventory source (repeatable), as for ansible-playbook -i")
    parser.add_argument("-o", "--output", required=True, help="render folder; relative to the current directory")
    parser.add_argument("--limit", action="append", default=[], help="render only these hosts (repeatable); the whole fabric is still validated")
    parser.add_argument("--vault-password-file", help="for vaulted variables (the BGP key)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 0 when nothing would change, 3 when files would change")
    args = parser.parse_args(argv)

    intents, hostvars, _groups, error = fabric_read.model(_task_vars(args.inventory, args.vault_password_file))
    if error:
        print(error, file=sys.stderr)
        return 1
    selected = sorted(intents) if not args.limit else sorted(set(args.limit) & set(intents))
    unknown = sorted(set(args.limit) - set(intents))
    if unknown or not selected:
        print("Not fabric hosts of this inventory: %s" % ", ".join(unknown or ["(none selected)"]), file=sys.stderr)
        return 1
    try:
        rendered = {
            name: rendered_files(intents[name], password=(hostvars[name].get("fabric_bgp") or {}).get("password"))
            for name in selected
        }
    except RenderError as exc:
        print("Rendering failed, nothing was written: %s" % exc, file=sys.stderr)
        return 1
    dest = render_tree.resolve(args.output)
    changed = [name for name, files in rendered.items() if not render_tree.unchanged(dest, name, files)]
    if args.check:
        print("%d of %d hosts would change%s" % (len(changed), len(selected), (": " + ", ".join(changed)) if changed else ""))
        return 3 if changed else 0
    if changed:
        try:
            dest = render_tree.write_tree(dest, rendered)
        except render_tree.TreeError as exc:
            print(str(exc), file=sys.stderr)
            return 1
    print("%d hosts rendered to %s (%d changed)" % (len(selected), dest, len(changed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
