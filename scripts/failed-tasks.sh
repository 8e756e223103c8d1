#!/usr/bin/env bash
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Usage: scripts/failed-tasks.sh LOG [WHAT]
# Prints, at the end of a failed run, the tasks of an Ansible/molecule LOG that
# failed (task header, the failure and the lines after it), so the cause is in
# the last lines of a CI log, where a truncated log still shows it.
#
# It also says what failed, on its last line:
#   "KIND: LAB/INFRASTRUCTURE": the lab failed, not the collection: the lab
#     check (lab/check-booted.sh, first task of every container scenario's
#     prepare) found a container that did not boot, or a failed task says a
#     container or the engine went away under it ("No such container",
#     "is not running", "Module result deserialization failed", docker
#     daemon errors). Then it also prints the dead containers' post-mortems
#     (state, exit code, console) the lab check wrote.
#   "KIND: ASSERTION/COLLECTION": anything else, an assertion or a task of the
#     collection that failed. Never retried blindly.
# Exit status 0 either way (it only reports); KIND tells callers which it was.
set -euo pipefail
log=${1:?usage: failed-tasks.sh LOG [WHAT]}
what=${2:-$log}
clean() { sed -E 's/\x1b\[[0-9;]*[A-Za-z]//g; s/^[[:space:]]*[│|][[:space:]]?//' "$log"; }
blocks=$(clean | awk '
    /^TASK \[|^PLAY \[/ { header = $0; next }
    /fatal: \[|failed: \[|FAILED! =>|^ERROR!|^ERROR  / && !/FAILED - RETRYING/ {
        if (shown++ < 6) { print "---- " header; left = 25 }
    }
    left > 0 { print; left-- }
')
failed=$(cut -c1-400 <<<"$blocks" | tail -n 150)
echo
echo "==== $what failed; its failed tasks (from $log) ===="
printf '%s\n' "$failed"
# What says the lab, not the collection, failed. The task name of the lab
# check and its message carry "LAB/INFRASTRUCTURE"; the others are what the
# docker connection and the engine say when a container vanished mid-run.
infra='LAB/INFRASTRUCTURE|No such container|is not running|deserialization failed|Error response from daemon|Cannot connect to the Docker daemon|docker daemon'
# (Searched in the whole failed-task lines: a long JSON result may carry it
# beyond the 400 characters shown.)
if grep -Eq "$infra" <<<"$blocks"; then
    # The lab check's post-mortems: one block per dead container, as the
    # debug task printed them (one JSON string per line).
    clean | sed -n '/"---- container .*: state"/,/"---- end of container /p' |
        sed -E 's/^[[:space:]]*"(.*)",?$/\1/' | cut -c1-400 | tail -n 120
    echo "==== end of the failed tasks of $what"
    echo "KIND: LAB/INFRASTRUCTURE: $what failed because the lab (containers, Docker engine) did," \
        "not because of an assertion of the collection: $(grep -Eo "$infra" <<<"$blocks" | sort -u | paste -sd, -)"
else
    echo "==== end of the failed tasks of $what"
    echo "KIND: ASSERTION/COLLECTION: a task or an assertion of $what failed (not the lab)"
fi
