#!/usr/bin/env bash
# Mirror the collection's source files into DEST (an
# .../ansible_collections/<namespace>/<name> directory) for ansible-test.
# Why: ansible-test must run from inside an ansible_collections/NS/NAME path,
# and, outside a git checkout, it scans every file it finds there. Copying only
# what git would ship (tracked + untracked-but-not-ignored) keeps .venv, .build,
# caches and test output out of the sanity run, and pruning files that are no
# longer in the list stops deleted files from producing stale findings.
#
# DEST gets its own (empty) git repository: ansible-test looks for version
# control from the collection root upwards, and would otherwise find this
# checkout's .git, in which .build/ is ignored, and skip every target. With a
# .git at DEST it lists DEST's files via `git ls-files --others
# --exclude-standard`, i.e. exactly the files copied here.
set -euo pipefail

dest=$(realpath -m "${1:?usage: sync-sanity-tree.sh DEST}")
cd "$(git rev-parse --show-toplevel)"
mkdir -p "$dest"
if [[ ! -d "$dest/.git" ]]; then
    git -C "$dest" init -q
fi

list=$(mktemp)
trap 'rm -f "$list" "$list.dest"' EXIT

# -z keeps odd file names intact. Files deleted in the work tree but still
# tracked are listed by `git ls-files -c`; skip them or rsync would fail.
git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
    if [[ -e "$f" || -L "$f" ]]; then
        printf '%s\0' "$f"
    fi
done | sort -z -u >"$list"

rsync -a --from0 --files-from="$list" ./ "$dest"/

# Remove whatever is in DEST but no longer in the list (files and symlinks),
# then the directories left empty.
(cd "$dest" && find . -path ./.git -prune -o \( -type f -o -type l \) -printf '%P\0' | sort -z) >"$list.dest"
comm -z -23 "$list.dest" "$list" | (cd "$dest" && xargs -0 -r rm -f --)
find "$dest" -mindepth 1 -type d -empty -not -path "$dest/.git/*" -delete
