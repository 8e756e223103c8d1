#!/usr/bin/env bash
# Build the collection tarball, install it the way a user would, and run the
# render playbook from the installed copy, from a directory outside the repo.
# Why: this catches what in-repo runs cannot: files left out by build_ignore,
# paths that only resolve relative to the checkout, and a playbook that does
# not work under its fully qualified name (anycast.fabric.render).
# Expects the venv's bin on PATH (the Makefile does that).
set -euo pipefail

repo=$(git rev-parse --show-toplevel)
inventory="$repo/inventories/example"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/anycast-build-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

"$repo/scripts/install-built.sh" "$tmp/collections"

# Only the installed copy may be used, from here on: point every collection
# search path at the temp dir (the Makefile's points at the work tree).
export ANSIBLE_COLLECTIONS_PATH="$tmp/collections"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false

if [[ ! -d "$inventory" && ! -f "$inventory" ]]; then
    echo "build-test: FAIL: example inventory $inventory is missing" >&2
    exit 1
fi

# Run from a directory that is not the checkout, with a RELATIVE render
# folder, as a user would: it must land in $tmp/work/out, not next to the
# installed playbook.
mkdir -p "$tmp/work"
cd "$tmp/work"

ansible-playbook anycast.fabric.render -i "$inventory" -e "fabric_render_dir=out"
if [[ -e "$tmp/collections/ansible_collections/anycast/fabric/playbooks/out" ]]; then
    echo "build-test: FAIL: the relative render folder resolved against the installed playbooks/" >&2
    exit 1
fi

# One output directory per host of the example inventory.
# Hosts are the union over every group's "hosts" (hostvars alone would miss
# hosts that have no variables).
expected=$(ansible-inventory -i "$inventory" --list | python3 -c '
import json, sys
inv = json.load(sys.stdin)
hosts = set(inv.get("_meta", {}).get("hostvars", {}))
for name, group in inv.items():
    if name != "_meta":
        hosts.update(group.get("hosts", []))
print(len(hosts))
')
actual=$(find "$tmp/work/out" -mindepth 1 -maxdepth 1 -type d | wc -l)
echo "build-test: inventory hosts: $expected, rendered host directories: $actual"
if [[ "$expected" -eq 0 || "$expected" -ne "$actual" ]]; then
    echo "build-test: FAIL: expected one directory per host under $tmp/work/out" >&2
    ls -la "$tmp/work/out" >&2
    exit 1
fi
