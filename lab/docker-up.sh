#!/usr/bin/env bash
# Make sure a Docker engine is running and debootstrap is installed; exit 0
# when both are ready.
# Why: no daemon runs at boot on our machines (see shared/ENVIRONMENT.md) and
# nothing is preinstalled, so every lab/test entry point calls this first. It
# is idempotent and returns in well under a second when all is already there.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
lab_name="docker-up"

log=/var/log/dockerd.log
wait_s=60

# Fast path: engine answers and the image builder is there.
if lab_docker_ready && lab_installed debootstrap; then
    exit 0
fi

lab_ensure_packages docker.io debootstrap

if lab_docker_ready; then
    exit 0
fi

# Not running: start it detached. setsid + </dev/null so the daemon does not
# belong to our caller's process group or hold its stdout/stderr pipes open
# (pytest's subprocess.run would otherwise wait for dockerd to exit). dockerd
# starts its own containerd when none is running.
if ! pgrep -x dockerd >/dev/null; then
    lab_say "starting dockerd (log: $log)"
    setsid dockerd </dev/null >"$log" 2>&1 &
fi
t0=$(lab_now)
if lab_wait_until "$wait_s" 0.25 lab_docker_ready; then
    lab_say "engine ready after $(lab_since "$t0") s"
    exit 0
fi
lab_log "engine not ready after ${wait_s} s; last lines of $log:"
tail -n 20 "$log" >&2 || true
exit 1
