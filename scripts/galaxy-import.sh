#!/usr/bin/env bash
# Run Galaxy's own import checks (galaxy-importer, the tool Galaxy runs on
# every upload) on the collection tarball, offline, and fail on any ERROR or
# WARNING it reports.
#
#   scripts/galaxy-import.sh [OUTDIR]      (default: .build/galaxy-import)
#
# Builds the tarball the way users get it (ansible-galaxy collection build,
# honouring galaxy.yml's build_ignore), then imports it with a config file
# (GALAXY_IMPORTER_CONFIG) that keeps everything local: no container image,
# no ansible-test run, ansible-lint in --offline mode. What still runs is what
# Galaxy checks without a container: MANIFEST/FILES checksums, galaxy.yml
# schema (license, tags, version), role READMEs and argument specs, every
# plugin's documentation through ansible-doc, the changelog's presence,
# ansible-lint's production profile, ansible-test ignore files.
# The full log and the importer's JSON result stay in OUTDIR.
# Expects the venv's bin on PATH (the Makefile puts it there).
set -euo pipefail

repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
out=$(realpath -m "${1:-$repo/.build/galaxy-import}")

if ! python -c 'import galaxy_importer' 2>/dev/null; then
    echo "galaxy-import: FAIL: galaxy-importer is not installed (make setup installs requirements-dev.txt)" >&2
    exit 1
fi

rm -rf "$out"
mkdir -p "$out/dist" "$out/tmp" "$out/ansible-tmp"
ansible-galaxy collection build --force --output-path "$out/dist" "$repo" >/dev/null
tarballs=("$out"/dist/anycast-fabric-*.tar.gz)
tarball=${tarballs[0]}

# Every key of galaxy_importer.config.Config, set explicitly.
cat >"$out/galaxy-importer.cfg" <<EOF
[galaxy-importer]
log_level_main = INFO
# no ansible-test at all (it would need a container or a network)
run_ansible_test = False
ansible_test_local_image = False
local_image_docker = False
infra_osd = False
# what Galaxy checks without a container
run_ansible_doc = True
run_ansible_lint = True
offline_ansible_lint = True
run_flake8 = False
check_changelog = True
check_required_tags = True
require_v1_or_greater = False
tmp_root_dir = $out/tmp
ansible_local_tmp = $out/ansible-tmp
EOF

# The importer must see only the extracted tarball: it sets the collections
# path of its own ansible-doc and ansible-lint calls, but drop the work
# tree's (the Makefile's) anyway. It writes importer_result.json to its cwd.
log=$out/galaxy-importer.log
rc=0
(
    cd "$out"
    env -u ANSIBLE_COLLECTIONS_PATH GALAXY_IMPORTER_CONFIG="$out/galaxy-importer.cfg" \
        python -m galaxy_importer.main "$tarball"
) >"$log" 2>&1 || rc=$?
cat "$log"

errors=$(grep -c -E '^(ERROR|CRITICAL):' "$log" || true)
warnings=$(grep -c -E '^WARNING:' "$log" || true)
completed=$(grep -c '^Importer processing completed successfully' "$log" || true)
echo "galaxy-import: $(basename "$tarball"): exit $rc, $errors error(s), $warnings warning(s) (log: $log)"
if ((errors + warnings > 0)); then
    echo "galaxy-import: FAIL: the findings:" >&2
    grep -E '^(ERROR|CRITICAL|WARNING):' "$log" >&2
fi
if ((rc != 0 || completed == 0)); then
    echo "galaxy-import: FAIL: the import did not complete" >&2
fi
if ((rc != 0 || completed == 0 || errors + warnings > 0)); then
    exit 1
fi
echo "galaxy-import: OK"
