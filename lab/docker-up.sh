#!/usr/bin/env bash
# Make sure a Docker engine is running and debootstrap is installed; exit 0
# when both are ready.
# Why: no daemon runs at boot on our machines (see shared/ENVIRONMENT.md) and
# nothing is preinstalled, so every lab/test entry point calls this first. It
# is idempotent and returns in well under a second when all is already there.
set -euo pipefail

log=/var/log/dockerd.log
wait_s=60

installed() {
    # `dpkg -s` also succeeds for removed-but-not-purged packages, so check
    # the real status (same rule as scripts/ensure-apt-packages.sh).
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}

# Fast path: engine answers and the image builder is there.
if docker info >/dev/null 2>&1 && installed debootstrap; then
    exit 0
fi

missing=()
for pkg in docker.io debootstrap; do
    installed "$pkg" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "docker-up: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # apt-get update is slow; only pay for it when the package lists do not
    # know the package yet (fresh machine) or the install fails on stale lists.
    if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
        apt-get update -qq
    fi
    if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

if docker info >/dev/null 2>&1; then
    exit 0
fi

# Not running: start it detached. setsid + </dev/null so the daemon does not
# belong to our caller's process group or hold its stdout/stderr pipes open
# (pytest's subprocess.run would otherwise wait for dockerd to exit). dockerd
# starts its own containerd when none is running.
if ! pgrep -x dockerd >/dev/null; then
    echo "docker-up: starting dockerd (log: $log)"
    setsid dockerd </dev/null >"$log" 2>&1 &
fi
for ((i = 0; i < wait_s * 4; i++)); do
    if docker info >/dev/null 2>&1; then
        echo "docker-up: engine ready after $((i / 4)) s"
        exit 0
    fi
    sleep 0.25
done
echo "docker-up: engine not ready after ${wait_s} s; last lines of $log:" >&2
tail -n 20 "$log" >&2 || true
exit 1
