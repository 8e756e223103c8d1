#!/usr/bin/env bash
# The lab checks what it created: wait until the systemd (PID 1) of every
# named container has booted, and fail at once when one never will.
#
#   lab/check-booted.sh [--timeout SECONDS] NAME...
#
# Exits 0 when every container's `systemctl is-system-running` says running
# or degraded within SECONDS (default 120, for all of them together). A
# container that is gone, stopped, or whose systemd says maintenance,
# stopping or offline fails the check at once, as does a timeout: the script
# then prints that container's state, exit code and console (docker logs),
# and a line starting "LAB/INFRASTRUCTURE FAILURE" (scripts/failed-tasks.sh
# labels the run with it): the lab did not come up, the collection was not
# even run. Molecule runs it first in every container scenario's prepare
# (molecule/shared/containers.yml).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
lab_name="check-booted"

usage() { lab_usage 2 16; }

timeout=120
while (($#)); do
    case $1 in
    --timeout) timeout=$(lab_optarg "$@"); shift 2 ;;
    --) shift; break ;;
    -*) usage ;;
    *) break ;;
    esac
done
(($# >= 1)) || usage
lab_docker_ready || lab_die "LAB/INFRASTRUCTURE FAILURE: no Docker engine answers"

# One pass over the containers not yet booted; exits like lab_booted (all
# booted: 0, some still booting: 1, one never will: 2, naming it in $bad).
pending=("$@") bad='' bad_state=''
# shellcheck disable=SC2317 # (run through lab_wait_until)
all_booted() {
    local n rc still=()
    for n in "${pending[@]}"; do
        rc=0
        lab_booted "$n" || rc=$?
        case $rc in
        0) lab_say "$n: $lab_state" ;;
        1) still+=("$n") ;;
        *)
            bad=$n bad_state=$lab_state
            return 2
            ;;
        esac
    done
    pending=("${still[@]}")
    ((${#pending[@]} == 0)) || return 1
}

t0=$(lab_now)
rc=0
lab_wait_until "$timeout" 1 all_booted || rc=$?
((rc != 0)) || { lab_say "all $# booted after $(lab_since "$t0") s"; exit 0; }

if ((rc == 2)); then
    lab_post_mortem "$bad"
    lab_log "LAB/INFRASTRUCTURE FAILURE: container $bad did not boot (systemd: ${bad_state:-no answer})" \
        "after $(lab_since "$t0") s: the lab failed, not the collection (nothing of it ran yet)"
else
    for n in "${pending[@]}"; do lab_post_mortem "$n"; done
    lab_log "LAB/INFRASTRUCTURE FAILURE: container(s) ${pending[*]} not booted after ${timeout} s:" \
        "the lab failed, not the collection (nothing of it ran yet)"
fi
exit 1
