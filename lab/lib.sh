# shellcheck shell=bash
# Shell shared by the lab's scripts (lab/*.sh, lab/vm/*.sh): logging, argument
# checks, timing, waiting loops, locks, package checks, the Docker engine
# check, QEMU pid checks, and the debootstrap steps both image builders take.
#
# Sourced, never run: each script does, before anything else that uses it,
#   here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
#   . "$here/lib.sh"          (lab/vm/*: "$here/../lib.sh")
#   lab_name=run-container    (the prefix of its messages)
# and keeps its own `set -euo pipefail`. Sourcing it only defines variables and
# functions (and puts the sbin directories on PATH); it runs nothing.
#
# Image recipes: both builders cache their image under a hash of what defines
# its content (lab_recipe_hash). From this file, only the parts listed in
# lab_recipe_vars and lab_recipe_funcs shape an image, so only those (their
# values and function bodies, as bash prints them) enter the hash: editing
# anything else here (messages, loops, comments) does not rebuild the images.
# A new helper that changes what goes into an image must be listed there.

# debootstrap, chroot, depmod and ip live in sbin, which a non-login root
# shell (sudo, cron, some CI runners) may not have on its PATH.
case ":$PATH:" in
*:/usr/sbin:*) ;;
*) PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH ;;
esac
export PATH

lab_name=${lab_name:-lab}

# The label on every lab container and network (lab/run-container.sh,
# lab/net.sh): lab/destroy.sh removes what carries it and nothing else.
# shellcheck disable=SC2034 # (constants here are for the sourcing scripts)
lab_label=anycast-fabric.lab=1
# The container image's repository; the tag is the recipe hash, plus latest.
# shellcheck disable=SC2034
lab_image_repo=anycast-fabric/debian12

# Where both images come from (part of both recipes).
lab_suite=bookworm
# The Debian mirrors come from this machine's own apt sources (deb822
# *.sources, or one-line *.list files): the repository names no mirror.
# LAB_MIRROR and LAB_SECURITY_MIRROR override them.
# lab_apt_mirror KIND [FILE...]: the first URI of this machine's apt sources
# (or of FILEs) that serves Debian's suites (KIND main) or its security suites
# (KIND security); any suite will do, the mirror serves $lab_suite too.
lab_apt_mirror() {
    local kind=$1
    shift
    (($#)) || set -- /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list
    awk -v kind="$kind" '
        function pick(uri, suite) {
            if ((suite ~ /-security$/) == (kind == "security")) { print uri; exit }
        }
        FNR == 1 { uris = ""; suite = "" }
        FILENAME ~ /\.sources$/ {
            if ($0 ~ /^[ \t]*$/) { uris = ""; suite = ""; next }
            if (tolower($1) == "uris:") uris = $2
            if (tolower($1) == "suites:") suite = $2
            if (uris != "" && suite != "") pick(uris, suite)
            next
        }
        $1 == "deb" {
            i = 2
            if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
            pick($i, $(i + 1))
        }
    ' "$@" 2>/dev/null
}
lab_mirror=${LAB_MIRROR:-$(lab_apt_mirror main)}
lab_security_mirror=${LAB_SECURITY_MIRROR:-$(lab_apt_mirror security)}
lab_recipe_vars=(lab_suite lab_mirror lab_security_mirror)
lab_recipe_funcs=(lab_debootstrap lab_apt_sources)

# ---------------------------------------------------------------- messages
# lab_say MSG...: a progress line on stdout; lab_log MSG...: the same on
# stderr (scripts whose stdout is a result: an image name, a JSON document);
# lab_die MSG...: lab_log, then exit 1.
lab_say() { echo "$lab_name: $*"; }
lab_log() { echo "$lab_name: $*" >&2; }
lab_die() {
    lab_log "$@"
    exit 1
}

# lab_usage FIRST LAST: print lines FIRST..LAST of the running script (its
# header comment, without the leading "# ") on stderr and exit 2.
lab_usage() {
    sed -n "$1,$2p" "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# lab_optarg "$@": the value of the option in $1, which must follow it and not
# be empty; dies with exit 2 otherwise. Use as `x=$(lab_optarg "$@"); shift 2`
# (a failed command substitution in an assignment stops a `set -e` script).
lab_optarg() {
    if (($# < 2)) || [[ -z $2 ]]; then
        lab_log "$1 needs a value"
        exit 2
    fi
    printf '%s\n' "$2"
}

# ---------------------------------------------------------------- timing
# lab_now: a timestamp for lab_since; lab_since T: seconds since T, "12.3".
lab_now() { date +%s.%N; }
lab_since() { awk -v a="$1" -v b="$(lab_now)" 'BEGIN { printf "%.1f", b - a }'; }

# lab_wait_until SECONDS STEP COMMAND [ARG...]: run COMMAND every STEP seconds
# until it exits 0 (returns 0). COMMAND exiting 1 means "not yet"; any other
# status means "give up": lab_wait_until returns it at once. Returns 1 when
# COMMAND still says "not yet" after SECONDS (a whole number). COMMAND runs in
# this shell, so it may set variables the caller reads afterwards.
lab_wait_until() {
    local timeout=$1 step=$2 deadline rc
    shift 2
    deadline=$(($(date +%s%3N) + timeout * 1000))
    while :; do
        if "$@"; then
            return 0
        else
            rc=$?
        fi
        ((rc == 1)) || return "$rc"
        (($(date +%s%3N) < deadline)) || return 1
        sleep "$step"
    done
}

# ---------------------------------------------------------------- locks, hashes
# lab_lock FILE: hold an exclusive lock on FILE (fd 9) until the script exits;
# waits while another process holds it.
lab_lock() {
    exec 9>"$1"
    flock 9
}

# lab_recipe_hash FILE...: 12 hex digits naming an image built from FILEs
# (their content, not their paths or mtimes, which differ between checkouts)
# and from this file's recipe parts (see the top of this file).
lab_recipe_hash() {
    [[ -n $lab_mirror && -n $lab_security_mirror ]] ||
        lab_die "no Debian mirror for $lab_suite (and $lab_suite-security) in this machine's apt sources; set LAB_MIRROR and LAB_SECURITY_MIRROR"
    {
        cat "$@"
        declare -p "${lab_recipe_vars[@]}"
        declare -f "${lab_recipe_funcs[@]}"
    } | sha256sum | cut -c1-12
}

# ---------------------------------------------------------------- packages
# lab_installed PKG: the Debian package is installed (`dpkg -s` also succeeds
# for removed-but-not-purged ones, so read the real status).
lab_installed() {
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}

# lab_ensure_packages PKG...: install the packages that are missing (says so
# on stdout). apt-get update is slow: only paid when the package lists do not
# know a package yet (fresh machine) or the install fails on stale lists.
lab_ensure_packages() {
    local pkg missing=() sudo=()
    for pkg in "$@"; do
        lab_installed "$pkg" || missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    lab_say "installing ${missing[*]}"
    [[ $(id -u) == 0 ]] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
        "${sudo[@]}" apt-get update -qq
    fi
    if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
        "${sudo[@]}" apt-get update -qq
        "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# ---------------------------------------------------------------- docker, qemu
# lab_docker_ready: a Docker engine answers.
lab_docker_ready() { docker info >/dev/null 2>&1; }

# lab_booted NAME: one look at the systemd (PID 1) of container NAME, for
# lab_wait_until. Sets lab_state (what `systemctl is-system-running` said, or
# "exited"); returns 0 when booted (running or degraded), 1 while booting (the
# exec itself fails until systemd's bus is up), 2 when it never will
# (maintenance, stopping, offline, or the container is not running at all).
#
# Containers are looked up by exact name ("/NAME"): Docker takes a plain NAME
# that no container has for an ID prefix, so `docker exec a1` after a1 was
# lost could run in another container whose ID starts with a1 (issue 21).
lab_booted() {
    local id
    if ! id=$(docker container inspect -f '{{.Id}}' "/$1" 2>/dev/null); then
        lab_state=gone
        return 2
    fi
    lab_state=$(docker exec "$id" systemctl is-system-running 2>/dev/null || true)
    case $lab_state in
    running | degraded) return 0 ;;
    maintenance | stopping | offline) return 2 ;;
    esac
    if [[ $(docker container inspect -f '{{.State.Running}}' "$id" 2>/dev/null) != true ]]; then
        lab_state=exited
        return 2
    fi
    return 1
}

# lab_post_mortem NAME: what the engine knows about container NAME (state,
# exit code, start and end times, engine error) and its console's last lines,
# on stderr: for a lab container that died or never booted.
lab_post_mortem() {
    local id
    {
        echo "---- container $1: state"
        docker container inspect -f \
            'status={{.State.Status}} exitCode={{.State.ExitCode}} oomKilled={{.State.OOMKilled}} startedAt={{.State.StartedAt}} finishedAt={{.State.FinishedAt}} error={{printf "%q" .State.Error}}' \
            "/$1" 2>&1 || true
        echo "---- container $1: docker logs (last 40 lines)"
        if id=$(docker container inspect -f '{{.Id}}' "/$1" 2>/dev/null); then
            docker logs --tail 40 "$id" 2>&1 || true
        else
            echo "(container $1 is gone: its console went with it)"
        fi
        echo "---- end of container $1"
    } >&2
}

# lab_qemu_pid PIDFILE: print the pid in PIDFILE and succeed only if that
# process is alive and is the QEMU started with that pid file (a qemu-system
# command line with PIDFILE as one of its arguments), so a recycled pid is
# never taken for the VM.
lab_qemu_pid() {
    local pidfile=$1 pid cmdline
    [[ -s $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
    [[ $cmdline == *qemu-system* && $cmdline == *" $pidfile "* ]] || return 1
    echo "$pid"
}

# ---------------------------------------------------------------- image builds
# lab_run_logged LOG COMMAND [ARG...]: run COMMAND with its output in LOG; on
# failure show LOG's last 30 lines on stderr. LOG is removed either way.
lab_run_logged() {
    local log=$1 rc=0
    shift
    "$@" >"$log" 2>&1 || rc=$?
    ((rc == 0)) || tail -n 30 "$log" >&2
    rm -f "$log"
    return "$rc"
}

# lab_debootstrap ROOT PKG...: a minbase Debian root in ROOT with PKGs on top
# (debootstrap's output goes to ROOT.debootstrap.log, shown on failure).
lab_debootstrap() {
    local root=$1 include
    shift
    include=$(IFS=,; echo "$*")
    lab_run_logged "$root.debootstrap.log" \
        debootstrap --variant=minbase --include="$include" "$lab_suite" "$root" "$lab_mirror"
}

# lab_apt_sources ROOT: the suite, its updates and its security suite, so
# `apt-get update && apt-get install` in the image gets current packages.
lab_apt_sources() {
    cat >"$1/etc/apt/sources.list" <<SOURCES
deb $lab_mirror $lab_suite main
deb $lab_mirror $lab_suite-updates main
deb $lab_security_mirror $lab_suite-security main
SOURCES
}

# lab_remove_root ROOT: remove a build root and its ROOT.* siblings (logs,
# unpacked packages). debootstrap mounts proc/sys (and may bind /dev nodes)
# inside the target; after an interrupted build they can still be mounted:
# unmount them first, and never let rm cross into another filesystem.
lab_remove_root() {
    local root=$1 m
    [[ -n $root && $root != / ]] || return 0
    awk -v r="$root" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$root" "$root".*
}

# lab_require_files ROOT PATH...: every PATH (relative to ROOT) exists in the
# built root; dies naming the first one missing.
lab_require_files() {
    local root=$1 f
    shift
    for f in "$@"; do
        [[ -e $root/$f ]] || lab_die "missing /$f in the image root"
    done
}
