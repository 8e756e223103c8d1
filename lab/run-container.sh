#!/usr/bin/env bash
# Start a lab container running systemd as PID 1 and wait until it has booted.
#
#   lab/run-container.sh NAME [options]
#     --network NET --ip ADDR [--ip6 ADDR6]   attach to a lab network (made
#                                             with lab/net.sh) with fixed
#                                             addresses; repeat for more
#                                             networks (the first one given
#                                             carries the default route)
#     --image IMAGE      default anycast-fabric/debian12:latest
#     --sysctl KEY=VAL   extra per-container net.* sysctl (repeatable)
#     --rw-sysctl        remount /proc/sys read-write after boot (see below)
#     --replace          remove an existing container NAME first
#     --timeout SECONDS  boot wait, default 90
#     -- ARGS...         anything else for `docker create`
#
# Prints the boot time; exits 0 when `systemctl is-system-running` says
# running, or degraded (then it lists the failed units), non-zero otherwise.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
lab_name="run-container"

usage() { lab_usage 2 18; }

(($# >= 1)) || usage
name=$1
shift
[[ $name != -* ]] || usage

image=$lab_image_repo:latest
timeout=90
replace=
rw_sysctl=
nets=() ips=() ip6s=() sysctls=() extra=()
while (($#)); do
    case $1 in
    --network)
        nets+=("$(lab_optarg "$@")") ips+=("") ip6s+=("")
        shift 2
        ;;
    --ip | --ip6)
        ((${#nets[@]})) || { lab_log "$1 must follow --network"; exit 2; }
        value=$(lab_optarg "$@")
        if [[ $1 == --ip ]]; then ips[-1]=$value; else ip6s[-1]=$value; fi
        shift 2
        ;;
    --image) image=$(lab_optarg "$@"); shift 2 ;;
    --sysctl) sysctls+=(--sysctl "$(lab_optarg "$@")"); shift 2 ;;
    --rw-sysctl) rw_sysctl=1; shift ;;
    --replace) replace=1; shift ;;
    --timeout) timeout=$(lab_optarg "$@"); shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) usage ;;
    esac
done

if docker container inspect "$name" >/dev/null 2>&1; then
    if [[ -z $replace ]]; then
        lab_die "container $name exists (use --replace, or lab/destroy.sh)"
    fi
    docker rm -f "$name" >/dev/null
fi

# The run options systemd needs here (shared/ENVIRONMENT.md; --privileged
# fails on this VM because it lacks CAP_SYS_RESOURCE):
#  - SYS_ADMIN: systemd mounts its own filesystems, and FRR's frrinit.sh
#    does not get bgpd running without it.
#  - NET_ADMIN, NET_RAW: addresses, routes, ping, BFD/BGP sockets.
#  - NET_BROADCAST: BIRD runs as user bird (Debian's /etc/bird/envvars) and
#    keeps NET_BIND_SERVICE, NET_BROADCAST, NET_ADMIN and NET_RAW across the
#    uid switch; NET_BROADCAST is not in Docker's default set, so without it
#    bird exits at start with "capset: Operation not permitted" (measured).
#  - seccomp/apparmor unconfined: systemd's own sandboxing syscalls.
#  - cgroupns host + /sys/fs/cgroup rw: systemd manages its cgroup tree.
#  - tmpfs /run, /run/lock: systemd expects them to be fresh tmpfs.
run=(
    --name "$name" --hostname "$name" --label "$lab_label"
    --cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add NET_RAW --cap-add NET_BROADCAST
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined
    --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw
    --tmpfs /run --tmpfs /run/lock
    # Docker turns IPv6 off in a container (all/default.disable_ipv6=1)
    # unless its first network has IPv6; the lab wants IPv6 on lo (VIPs) and
    # on interfaces made later, so keep it on everywhere.
    --sysctl net.ipv6.conf.all.disable_ipv6=0
    --sysctl net.ipv6.conf.default.disable_ipv6=0
)
run+=("${sysctls[@]}")
if ((${#nets[@]})); then
    run+=(--network "${nets[0]}")
    [[ -z ${ips[0]} ]] || run+=(--ip "${ips[0]}")
    [[ -z ${ip6s[0]} ]] || run+=(--ip6 "${ip6s[0]}")
fi

t0=$(lab_now)
# The 20.10 engine (API 1.41) takes one network at create time; the others
# are connected before start so every interface exists when systemd boots.
docker create "${run[@]}" "${extra[@]}" "$image" >/dev/null
for ((i = 1; i < ${#nets[@]}; i++)); do
    conn=()
    [[ -z ${ips[i]} ]] || conn+=(--ip "${ips[i]}")
    [[ -z ${ip6s[i]} ]] || conn+=(--ip6 "${ip6s[i]}")
    docker network connect "${conn[@]}" "${nets[i]}" "$name"
done
docker start "$name" >/dev/null

# Waits for systemd (lab_booted sets lab_state).
lab_state=
lab_wait_until "$timeout" 0.2 lab_booted "$name" || true
state=$lab_state
took=$(lab_since "$t0")

case $state in
running)
    lab_say "$name running after $took s"
    ;;
degraded)
    lab_say "$name degraded after $took s; failed units:"
    docker exec "$name" systemctl --failed --no-legend --plain | sed 's/^/  /'
    ;;
*)
    lab_log "$name not booted after $took s (state: ${state:-no answer})"
    lab_post_mortem "$name"
    exit 1
    ;;
esac

# Docker mounts /proc/sys read-only, so sysctl writes inside the container
# (ansible.posix.sysctl, systemd-sysctl) fail with "permission denied". With
# SYS_ADMIN the container may remount it read-write. Careful: only net.* keys
# are per network namespace; anything else written there changes the host.
# Lost on container restart (rerun with --replace).
if [[ -n $rw_sysctl ]]; then
    docker exec "$name" mount -o remount,rw /proc/sys
fi
