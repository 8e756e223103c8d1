#!/usr/bin/env bash
# Install the given Debian packages, but only those not already installed.
# Why: `make setup` runs on every `make test`; a no-op must cost milliseconds,
# and `apt-get update` (slow, network) is only worth paying when something is
# actually missing.
set -euo pipefail

missing=()
for pkg in "$@"; do
    # dpkg -s alone also succeeds for removed-but-not-purged packages
    # ("deinstall ok config-files"), so look at the real status.
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]} == 0)); then
    exit 0
fi

echo "setup: installing missing Debian packages: ${missing[*]}"
# Not root (a developer laptop)? Use sudo rather than failing outright.
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
