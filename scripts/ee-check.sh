#!/usr/bin/env bash
# Check the collection's execution-environment metadata with ansible-builder,
# without building an image (no registry is reachable from CI).
#
# Steps, all local and quick:
#   1. the collection's own EE files parse (meta/execution-environment.yml,
#      requirements.txt, bindep.txt) and are in the built tarball;
#   2. `ansible-builder create` turns an EE definition that installs this
#      tarball into a build context (Containerfile, _build/requirements.yml,
#      the tarball copied into the context);
#   3. the context's galaxy stage is replayed offline (ansible-galaxy installs
#      _build/requirements.yml from the context, without dependencies, which
#      the real build fetches from Galaxy), then `ansible-builder introspect`
#      runs over the result, as the builder stage does, and must report exactly
#      the collection's requirements.txt and bindep.txt.
#
# Output goes to .build/ee (removed first). Expects ansible-builder,
# ansible-galaxy and python3 with PyYAML on PATH (the venv's bin; the Makefile
# puts it there). Exits non-zero, with an "ee-check: FAIL:" line, on any failure.
set -euo pipefail

fail() {
    echo "ee-check: FAIL: $*" >&2
    exit 1
}
on_error() {
    local rc=$?
    echo "ee-check: FAIL: command exited with status $rc (line $1): $2" >&2
    exit "$rc"
}
trap 'on_error "$LINENO" "$BASH_COMMAND"' ERR

repo=$(git rev-parse --show-toplevel)
out="$repo/.build/ee"
# Written into the generated Containerfile only; this check never pulls it.
base_image=${EE_BASE_IMAGE:-quay.io/fedora/fedora:latest}

for tool in ansible-builder ansible-galaxy python3; do
    command -v "$tool" >/dev/null || fail "$tool is not on PATH (activate .venv, or run: make setup)"
done
python3 -c 'import yaml' 2>/dev/null || fail "python3 on PATH has no PyYAML (use the venv's python3)"
echo "ee-check: $(ansible-builder --version | head -n 1 | sed 's/^/ansible-builder /')"

# ---------------------------------------------------------------- 1. the collection's EE files
cd "$repo"
for f in meta/execution-environment.yml requirements.txt bindep.txt; do
    [[ -f "$f" ]] || fail "$f is missing"
done

# The meta file must name both files, by paths relative to the collection root
# (ansible-builder refuses absolute ones), and they must exist.
python3 - <<'EOF' || fail "meta/execution-environment.yml is not what ansible-builder expects (see above)"
import os
import sys

import yaml

with open("meta/execution-environment.yml") as handle:
    meta = yaml.safe_load(handle)
errors = []
if not isinstance(meta, dict) or not isinstance(meta.get("dependencies"), dict):
    sys.exit("meta/execution-environment.yml: no 'dependencies' mapping")
if meta.get("version") != 3:
    errors.append("version is %r, expected 3" % (meta.get("version"),))
for entry, expected in (("python", "requirements.txt"), ("system", "bindep.txt")):
    value = meta["dependencies"].get(entry)
    if value != expected:
        errors.append("dependencies.%s is %r, expected %r" % (entry, value, expected))
    elif os.path.isabs(value) or not os.path.isfile(value):
        errors.append("dependencies.%s: %s is not a file relative to the collection root" % (entry, value))
for error in errors:
    print("meta/execution-environment.yml: " + error, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF

# Every requirements.txt line must be a valid PEP 508 requirement.
python3 - <<'EOF' || fail "requirements.txt has invalid lines (see above)"
import sys

from packaging.requirements import InvalidRequirement, Requirement

bad = 0
with open("requirements.txt") as handle:
    for number, line in enumerate(handle, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            Requirement(line)
        except InvalidRequirement as exc:
            print("requirements.txt:%d: %s" % (number, exc), file=sys.stderr)
            bad += 1
sys.exit(1 if bad else 0)
EOF

# bindep parses the whole file to list its profiles, and fails on a syntax error.
if command -v bindep >/dev/null; then
    bindep --file bindep.txt --profiles >/dev/null || fail "bindep cannot parse bindep.txt"
    echo "ee-check: bindep.txt on this platform: $(bindep --file bindep.txt --list_all csv)"
fi

# The non-comment lines of a requirements file, as ansible-builder reads them.
entries() {
    grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$1" || true
}
expected_pip=$(entries requirements.txt)
expected_bindep=$(entries bindep.txt)

# ---------------------------------------------------------------- build the tarball
rm -rf "$out"
mkdir -p "$out/dist"
ansible-galaxy collection build --force --output-path "$out/dist" "$repo" >/dev/null
tarballs=("$out"/dist/anycast-fabric-*.tar.gz)
tarball=${tarballs[0]}
[[ -f "$tarball" ]] || fail "ansible-galaxy collection build left no tarball in $out/dist"
tarball_name=$(basename "$tarball")
echo "ee-check: built $tarball_name"

listing=$(tar -tzf "$tarball")
for f in meta/execution-environment.yml requirements.txt bindep.txt; do
    grep -qx -- "$f" <<<"$listing" || fail "$f is not in $tarball_name (galaxy.yml build_ignore?)"
done

# ---------------------------------------------------------------- 2. ansible-builder create
core_version=$(python3 -c 'from ansible.release import __version__; print(__version__)')
cat >"$out/execution-environment.yml" <<EOF
---
# Generated by scripts/ee-check.sh: an EE with this build of anycast.fabric.
version: 3
images:
  base_image:
    name: $base_image
dependencies:
  ansible_core:
    package_pip: ansible-core==$core_version
  ansible_runner:
    package_pip: ansible-runner
  galaxy:
    collections:
      - name: collections/$tarball_name
        type: file
additional_build_files:
  - src: dist/$tarball_name
    dest: collections
EOF

context="$out/context"
ansible-builder create --file "$out/execution-environment.yml" --context "$context" \
    --output-filename Containerfile >"$out/create.log" 2>&1 ||
    { cat "$out/create.log" >&2; fail "ansible-builder create failed"; }

[[ -s "$context/Containerfile" ]] || fail "ansible-builder create wrote no $context/Containerfile"
[[ -f "$context/_build/requirements.yml" ]] || fail "no _build/requirements.yml in the context: the galaxy dependencies were dropped"
cmp -s "$tarball" "$context/_build/collections/$tarball_name" ||
    fail "the context does not hold the built tarball at _build/collections/$tarball_name"
grep -q "collections/$tarball_name" "$context/_build/requirements.yml" ||
    fail "_build/requirements.yml does not install collections/$tarball_name"
grep -q 'ansible-galaxy collection install .*-r requirements.yml' "$context/Containerfile" ||
    fail "the Containerfile has no galaxy collection install step"
grep -q 'introspect.py introspect' "$context/Containerfile" ||
    fail "the Containerfile has no introspect step: the collection's requirements would be ignored"
echo "ee-check: build context in $context (Containerfile, _build/requirements.yml, _build/collections/$tarball_name)"

# ---------------------------------------------------------------- 3. galaxy stage + introspection
# The Containerfile runs `ansible-galaxy collection install -r requirements.yml`
# in _build; do the same, offline and without dependencies (ansible.posix
# comes from Galaxy in a real build), into a directory of our own.
installed="$out/collections"
(
    cd "$context/_build"
    ANSIBLE_COLLECTIONS_PATH="$installed" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
        ansible-galaxy collection install --offline --no-deps -r requirements.yml \
        --collections-path "$installed" >"$out/galaxy-install.log" 2>&1
) || { cat "$out/galaxy-install.log" >&2; fail "ansible-galaxy could not install _build/requirements.yml from the context"; }
[[ -f "$installed/ansible_collections/anycast/fabric/meta/execution-environment.yml" ]] ||
    fail "the installed collection has no meta/execution-environment.yml"

# The files it writes are what the builder stage hands to pip and to bindep
# (it writes none for an empty list).
mkdir -p "$out/introspect"
ansible-builder introspect "$installed" \
    --write-pip "$out/introspect/requirements.txt" \
    --write-bindep "$out/introspect/bindep.txt" >"$out/introspect.log" 2>&1 ||
    { cat "$out/introspect.log" >&2; fail "ansible-builder introspect failed on the installed collection"; }

# introspect writes each line as "<line>  # from collection anycast.fabric".
# Lines of other collections would fail the comparison too (there are none:
# only this collection is installed here).
python3 - "$out/introspect" "$expected_pip" "$expected_bindep" <<'EOF' || { cat "$out/introspect.log" >&2; fail "ansible-builder introspect does not report the collection's requirements.txt / bindep.txt"; }
import os
import sys

suffix = "  # from collection anycast.fabric"
errors = []
for name, expected in (("requirements.txt", sys.argv[2]), ("bindep.txt", sys.argv[3])):
    path = os.path.join(sys.argv[1], name)
    lines = []
    if os.path.exists(path):
        with open(path) as handle:
            lines = [line.rstrip("\n") for line in handle if line.strip()]
    want = [line.strip() for line in expected.splitlines() if line.strip()]
    got = []
    for line in lines:
        if not line.endswith(suffix):
            errors.append("%s: %r does not come from anycast.fabric" % (name, line))
        got.append(line[: -len(suffix)] if line.endswith(suffix) else line)
    if sorted(got) != sorted(want):
        errors.append("introspected %s: %r, but the collection declares %r" % (name, got, want))
for error in errors:
    print(error, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF

echo "ee-check: ansible-builder introspect of the installed collection:"
sed 's/^/  /' "$out/introspect.log"
echo "ee-check: OK"
