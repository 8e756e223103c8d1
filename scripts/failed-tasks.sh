#!/usr/bin/env bash
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Usage: scripts/failed-tasks.sh LOG [WHAT]
# Prints, at the end of a failed run, the tasks of an Ansible/molecule LOG that
# failed (task header, the failure and the lines after it), so the cause is in
# the last lines of a CI log, where a truncated log still shows it.
set -euo pipefail
log=${1:?usage: failed-tasks.sh LOG [WHAT]}
what=${2:-$log}
echo
echo "==== $what failed; its failed tasks (from $log) ===="
sed -E 's/\x1b\[[0-9;]*[A-Za-z]//g; s/^[[:space:]]*[│|][[:space:]]?//' "$log" | awk '
    /^TASK \[|^PLAY \[/ { header = $0; next }
    /fatal: \[|failed: \[|FAILED! =>|^ERROR!|^ERROR  / && !/FAILED - RETRYING/ {
        if (shown++ < 6) { print "---- " header; left = 25 }
    }
    left > 0 { print; left-- }
' | cut -c1-400 | tail -n 150
echo "==== end of the failed tasks of $what ===="
