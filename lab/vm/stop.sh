#!/usr/bin/env bash
# Stop the lab VM started by lab/vm/start.sh STATE_DIR: by the pid QEMU wrote
# to STATE_DIR/qemu.pid, and only if that pid still is that QEMU (its command
# line names this state directory), so a recycled pid is never killed.
# Exits 0 when no VM of STATE_DIR runs afterwards.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$here/../lib.sh"
lab_name="vm-stop"

if (($# != 1)) || [[ -z $1 ]]; then
    lab_usage 2 5
fi
# The same absolute path start.sh gave QEMU (lab_qemu_pid compares it).
state=$(cd "$1" 2>/dev/null && pwd) || exit 0
pidfile=$state/qemu.pid

gone() { ! lab_qemu_pid "$pidfile" >/dev/null; }

if pid=$(lab_qemu_pid "$pidfile"); then
    kill -TERM "$pid"
    if ! lab_wait_until 5 0.1 gone; then
        kill -KILL "$pid"
        sleep 0.2
    fi
    lab_log "stopped QEMU pid $pid"
fi
rm -f "$pidfile" "$state/vm.json"
