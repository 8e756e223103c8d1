#!/usr/bin/env bash
# Stop the lab VM started by lab/vm/start.sh STATE_DIR: by the pid QEMU wrote
# to STATE_DIR/qemu.pid, and only if that pid still is that QEMU (its command
# line names this state directory), so a recycled pid is never killed.
# Exits 0 when no VM of STATE_DIR runs afterwards.
set -euo pipefail

state=${1:?usage: lab/vm/stop.sh STATE_DIR}
pidfile=$state/qemu.pid
[[ -s $pidfile ]] || exit 0
pid=$(cat "$pidfile")

ours() {
    [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "qemu-system.*$pidfile"
}

if ours; then
    kill -TERM "$pid"
    for _ in $(seq 50); do
        ours || break
        sleep 0.1
    done
    if ours; then
        kill -KILL "$pid"
        sleep 0.2
    fi
    echo "vm-stop: stopped QEMU pid $pid" >&2
fi
rm -f "$pidfile" "$state/vm.json"
