#!/usr/bin/env bash
# Build the collection tarball and install it, the way a user would, into
# DIR (a collections path: DIR/ansible_collections/anycast/fabric).
#
#   scripts/install-built.sh DIR
#
# Used by build-test.sh and by `make molecule`, which runs the default lab
# scenario against this installed copy instead of the work tree. Expects the
# venv's bin on PATH (the Makefile puts it there).
set -euo pipefail

target=${1:?usage: install-built.sh DIR}
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
dist="$repo/.build/dist"

# Remove old tarballs first so the glob below finds exactly this build.
rm -rf "$dist"
mkdir -p "$dist" "$target"
ansible-galaxy collection build --force --output-path "$dist" "$repo" >/dev/null
tarballs=("$dist"/anycast-fabric-*.tar.gz)
tarball=${tarballs[0]}

# Only this copy may be found: galaxy would otherwise see the work tree's
# (through the Makefile's collections path) and call it "already installed".
ANSIBLE_COLLECTIONS_PATH="$target" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
    ansible-galaxy collection install --offline --no-deps --force -p "$target" "$tarball" >/dev/null
if [[ ! -f "$target/ansible_collections/anycast/fabric/MANIFEST.json" ]]; then
    echo "install-built: FAIL: $tarball did not install into $target" >&2
    exit 1
fi
echo "install-built: $tarball installed into $target"
