#!/usr/bin/env bash
# Build the collection tarball, install it the way a user would, and run the
# render playbook from the installed copy, from a directory outside the repo.
# Why: this catches what in-repo runs cannot: files left out by build_ignore,
# paths that only resolve relative to the checkout, and a playbook that does
# not work under its fully qualified name (anycast.fabric.render).
# Expects the venv's bin on PATH (the Makefile does that).
set -euo pipefail

repo=$(git rev-parse --show-toplevel)
dist="$repo/.build/dist"
inventory="$repo/inventories/example"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/anycast-build-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Remove old tarballs first so the glob below finds exactly this build.
rm -rf "$dist"
mkdir -p "$dist"
ansible-galaxy collection build --force --output-path "$dist" "$repo"
tarballs=("$dist"/anycast-fabric-*.tar.gz)
tarball=${tarballs[0]}
echo "build-test: built $tarball"

# Only the installed copy may be used, from here on: point every collection
# search path at the temp dir (the Makefile's points at the work tree, and
# with it galaxy would even say the collection is "already installed").
export ANSIBLE_COLLECTIONS_PATH="$tmp/collections"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
ansible-galaxy collection install --offline --no-deps -p "$tmp/collections" "$tarball"
if [[ ! -f "$tmp/collections/ansible_collections/anycast/fabric/MANIFEST.json" ]]; then
    echo "build-test: FAIL: $tarball did not install into $tmp/collections" >&2
    exit 1
fi

if [[ ! -d "$inventory" && ! -f "$inventory" ]]; then
    echo "build-test: FAIL: example inventory $inventory is missing" >&2
    exit 1
fi

# Run from a directory that is not the checkout.
mkdir -p "$tmp/work" "$tmp/out"
cd "$tmp/work"

ansible-playbook anycast.fabric.render -i "$inventory" -e "fabric_render_dir=$tmp/out"

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
actual=$(find "$tmp/out" -mindepth 1 -maxdepth 1 -type d | wc -l)
echo "build-test: inventory hosts: $expected, rendered host directories: $actual"
if [[ "$expected" -eq 0 || "$expected" -ne "$actual" ]]; then
    echo "build-test: FAIL: expected one directory per host under $tmp/out" >&2
    ls -la "$tmp/out" >&2
    exit 1
fi
