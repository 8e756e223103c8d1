#!/usr/bin/env bash
# Remove every lab container and network: all that carries the label
# anycast-fabric.lab=1 (lab/run-container.sh and lab/net.sh put it there).
# Images are kept: rebuilding one takes a minute and they are cached by recipe.
# Why by label: other work (molecule, other engineers' runs) shares this
# engine; the label is what tells the lab's objects from theirs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
lab_name="destroy"

# No engine, nothing to remove (and nothing to start just for that).
lab_docker_ready || exit 0

mapfile -t containers < <(docker ps -aq --filter "label=$lab_label")
if ((${#containers[@]})); then
    # -f: kill running ones; -v: their anonymous volumes (none today) too.
    docker rm -f -v "${containers[@]}" >/dev/null
    lab_say "removed ${#containers[@]} container(s)"
fi

# After the containers, or the networks would still have endpoints.
mapfile -t networks < <(docker network ls -q --filter "label=$lab_label")
if ((${#networks[@]})); then
    docker network rm "${networks[@]}" >/dev/null
    lab_say "removed ${#networks[@]} network(s)"
fi
