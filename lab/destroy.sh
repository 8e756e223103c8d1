#!/usr/bin/env bash
# Remove every lab container and network: all that carries the label
# anycast-fabric.lab=1 (lab/run-container.sh and lab/net.sh put it there).
# Images are kept: rebuilding one takes a minute and they are cached by recipe.
# Why by label: other work (molecule, other engineers' runs) shares this
# engine; the label is what tells the lab's objects from theirs.
set -euo pipefail

label=anycast-fabric.lab=1

# No engine, nothing to remove (and nothing to start just for that).
if ! docker info >/dev/null 2>&1; then
    exit 0
fi

mapfile -t containers < <(docker ps -aq --filter "label=$label")
if ((${#containers[@]})); then
    # -f: kill running ones; -v: their anonymous volumes (none today) too.
    docker rm -f -v "${containers[@]}" >/dev/null
    echo "destroy: removed ${#containers[@]} container(s)"
fi

# After the containers, or the networks would still have endpoints.
mapfile -t networks < <(docker network ls -q --filter "label=$label")
if ((${#networks[@]})); then
    docker network rm "${networks[@]}" >/dev/null
    echo "destroy: removed ${#networks[@]} network(s)"
fi
