#!/usr/bin/env bash
# Create and destroy a scenario's lab containers in a loop and count the ones
# that die on their own (issue 21: a systemd PID 1 exiting a few seconds after
# start, before any task touched its container).
#
#   lab/churn.sh [options] [-- DOCKER-CREATE-ARGS...]
#     --rounds N       rounds of create, settle, check, destroy (default 20)
#     --scenario S     molecule scenario whose platforms are used (global)
#     --mode M         docker (default): `docker create`/`start` of every
#                      platform at once, with exactly the options the
#                      scenario's molecule.yml (merged over
#                      .config/molecule/config.yml) gives them; molecule:
#                      `molecule create` / `molecule destroy` (slower: about
#                      a minute a round)
#     --settle S       seconds to watch the containers after they all started
#                      (default 20; the deaths seen took 4 to 6 s)
#     --out DIR        results (default .build/churn/<date>)
#     --decoy          before each create, start a "decoy" container whose ID
#                      starts with the name of one of the scenario's platforms
#                      that is a valid hex ID prefix (global: a1, a2, b1, b2);
#                      a decoy stopped or removed by the create, or a platform
#                      missing after it, counts as lost (issue 21's cause, at
#                      will instead of by chance: see molecule/shared/create.yml)
#     -- ARGS...       docker mode only: extra `docker create` arguments, e.g.
#                      -e SYSTEMD_LOG_LEVEL=debug -e SYSTEMD_LOG_TARGET=console
#                      to get PID 1's own reasons in `docker logs`
#
# For every round it records docker's die events (with exit codes) in
# DIR/events.txt. A container that dies before the round's destroy is LOST: its
# `docker logs` and state are saved in
# DIR/lost/ROUND-NAME.* before anything removes it, and a container that is
# alive but whose systemd is not running/degraded after the settle time counts
# as NOT BOOTED. DIR/cgroups.txt holds, from round 1, PID 1's /proc/1/cgroup in
# each container and what the host's shared hierarchies hold. The summary
# (last line: "churn: R rounds, C container starts, L lost, B not booted") goes
# to stdout and DIR/summary.txt. Exits 0 when nothing was lost, 1 otherwise.
#
# CPU: one round starts 12 systemd containers at once on a 2-core machine;
# between rounds the script sleeps 2 s so other work is not starved.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
lab_name="churn"
root=$(cd "$here/.." && pwd)

usage() { lab_usage 2 29; }

rounds=20 scenario=global mode=docker settle=20 out='' decoy='' extra=()
while (($#)); do
    case $1 in
    --rounds) rounds=$(lab_optarg "$@"); shift 2 ;;
    --scenario) scenario=$(lab_optarg "$@"); shift 2 ;;
    --mode) mode=$(lab_optarg "$@"); shift 2 ;;
    --settle) settle=$(lab_optarg "$@"); shift 2 ;;
    --out) out=$(lab_optarg "$@"); shift 2 ;;
    --decoy) decoy=1; shift ;;
    --) shift; extra=("$@"); break ;;
    *) usage ;;
    esac
done
[[ $mode == docker || $mode == molecule ]] || usage
out=${out:-$root/.build/churn/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out/lost"
lab_docker_ready || lab_die "no Docker engine (lab/docker-up.sh starts one)"
export PATH=$root/.venv/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$root/.build/collections

# The scenario's platforms, as shell: one function per container that creates
# it (first network at create time, the others connected before start, as the
# 20.10 engine wants), one that creates the networks, and the name list.
gen=$out/platforms.sh
"$root/.venv/bin/python" - "$root" "$scenario" >"$gen" <<'PY'
import shlex, sys, yaml
root, scenario = sys.argv[1:]
base = yaml.safe_load(open(f"{root}/.config/molecule/config.yml"))
own = yaml.safe_load(open(f"{root}/molecule/{scenario}/molecule.yml"))
platforms = own.get("platforms", base["platforms"])
q = shlex.quote
names, nets = [], {}
for p in platforms:
    for n in p.get("docker_networks", []):
        nets[n["name"]] = n
    args = ["docker", "create", "--name", p["name"], "--hostname", p.get("hostname", p["name"]),
            "--label", "owner=churn"]
    for k, v in (p.get("labels") or {}).items():
        args += ["--label", f"{k}={v}"]
    for c in p.get("capabilities", []):
        args += ["--cap-add", c]
    for s in p.get("security_opts", []):
        args += ["--security-opt", s]
    if p.get("cgroupns_mode"):
        args += ["--cgroupns", p["cgroupns_mode"]]
    if p.get("cgroup_parent"):
        args += ["--cgroup-parent", p["cgroup_parent"]]
    for v in p.get("volumes", []):
        args += ["-v", v]
    for t in p.get("tmpfs", []):
        args += ["--tmpfs", t]
    for k, v in (p.get("sysctls") or {}).items():
        args += ["--sysctl", f"{k}={v}"]
    for k, v in (p.get("env") or {}).items():
        args += ["-e", f"{k}={v}"]
    first, *rest = p.get("networks", [])
    def addr(n):
        a = []
        if n.get("ipv4_address"):
            a += ["--ip", n["ipv4_address"]]
        if n.get("ipv6_address"):
            a += ["--ip6", n["ipv6_address"]]
        return a
    args += ["--network", first["name"]] + addr(first)
    name = p["name"]
    names.append(name)
    print(f"make_{name.replace('-', '_')}() {{")
    print("    " + " ".join(q(a) for a in args) + ' "${extra[@]}" ' + q(p["image"]) + " "
          + q(p.get("command", "")) + " >/dev/null")
    for n in rest:
        print("    docker network connect " + " ".join(q(a) for a in addr(n) + [n["name"], name]))
    print(f"    docker start {q(name)} >/dev/null")
    print("}")
print("make_networks() {")
for n in nets.values():
    args = ["docker", "network", "create", "--driver", n.get("driver", "bridge"), "--label", "owner=churn"]
    for k, v in (n.get("labels") or {}).items():
        args += ["--label", f"{k}={v}"]
    if n.get("enable_ipv6"):
        args += ["--ipv6"]
    for s in n.get("ipam_config", []):
        args += ["--subnet", s["subnet"]]
    print(f"    docker network inspect {q(n['name'])} >/dev/null 2>&1 || "
          + " ".join(q(a) for a in args + [n["name"]]) + " >/dev/null")
print("}")
print("names=(" + " ".join(q(n) for n in names) + ")")
PY
names=()
# shellcheck source=/dev/null
. "$gen"

# Die events of this run's containers (molecule labels its own owner=molecule),
# kept for the whole run; the watcher saves a lost container's
# logs and state at once (phase "up": no destroy under way).
owner=churn
[[ $mode == docker ]] || owner=molecule
: >"$out/lost.txt"
phase=$out/phase
echo idle >"$phase"
events=$out/events.txt
round_file=$out/round
echo 0 >"$round_file"
watch_dies() {
    docker events --filter event=die --filter "label=owner=$owner" \
        --format '{{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}' |
        while read -r name code; do
            r=$(<"$round_file") p=$(<"$phase")
            echo "$(date +%T.%3N) round=$r phase=$p name=$name exitCode=$code" >>"$events"
            [[ $p == up ]] || continue
            base=$out/lost/$(printf '%02d' "$r")-$name
            docker logs -t "$name" >"$base.log" 2>&1 || true
            docker inspect -f '{{json .State}}' "$name" >"$base.state" 2>&1 || true
            echo "$name" >>"$out/lost.txt"
        done
}
watch_dies &
watcher=$!
# The watcher is a pipeline in a subshell: end its docker events (a child of
# that subshell) by its own pid, then the subshell.
cleanup() {
    local pid
    for pid in $(pgrep -P "$watcher" 2>/dev/null); do
        pkill -P "$pid" 2>/dev/null || true
        kill "$pid" 2>/dev/null || true
    done
    kill "$watcher" 2>/dev/null || true
}
trap cleanup EXIT

destroy() {
    echo down >"$phase"
    if [[ $mode == molecule ]]; then
        (cd "$root" && molecule destroy -s "$scenario") >>"$out/molecule.log" 2>&1 || true
    else
        local ids
        mapfile -t ids < <(docker ps -aq --filter label=owner=churn)
        ((${#ids[@]} == 0)) || docker rm -f "${ids[@]}" >/dev/null
    fi
}

create() {
    if [[ $mode == molecule ]]; then
        (cd "$root" && molecule create -s "$scenario") >>"$out/molecule.log" 2>&1 || true
        return
    fi
    make_networks
    local n pids=()
    for n in "${names[@]}"; do
        "make_${n//-/_}" &
        pids+=($!)
    done
    for n in "${pids[@]}"; do wait "$n" || true; done
}

# make_decoy: create containers until one's ID starts with the name of a
# platform that is a hex string, keep and start that one (label churn-decoy=1),
# print "ID NAME"; nothing when no platform name is hex.
make_decoy() {
    local hex=() n id
    for n in "${names[@]}"; do [[ ! $n =~ ^[0-9a-f]+$ ]] || hex+=("$n"); done
    ((${#hex[@]})) || return 0
    while :; do
        id=$(docker create --label churn-decoy=1 "$lab_image_repo:latest" sleep 3600)
        for n in "${hex[@]}"; do
            if [[ $id == "$n"* ]]; then
                docker start "$id" >/dev/null
                echo "$id $n"
                return 0
            fi
        done
        docker rm "$id" >/dev/null
    done
}

# check_decoy ID NAME: the decoy still runs and container NAME is another one.
check_decoy() {
    local running
    running=$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null) || running=gone
    echo "round $r: decoy ${1:0:12} (ID prefix of $2): $running;" \
        "container $2: $(docker ps -aq --filter "name=^$2\$" | head -1)" >>"$out/decoys.txt"
    if [[ $running != true ]]; then
        echo "decoy-of-$2" >>"$out/lost.txt"
    elif ! docker ps -q --filter "name=^$2\$" | grep -q .; then
        echo "$2 (decoy taken for it)" >>"$out/lost.txt"
    fi
    docker rm -f "$1" >/dev/null 2>&1 || true
}

systemd_state() {
    docker exec "$1" systemctl is-system-running 2>/dev/null || true
}

record_cgroups() {
    {
        local n
        for n in "${names[@]}"; do
            echo "== $n: /proc/1/cgroup"
            docker exec "$n" cat /proc/1/cgroup 2>&1 | grep -E 'name=systemd|^0::|memory' || true
        done
        echo "== host: /sys/fs/cgroup/systemd"
        ls /sys/fs/cgroup/systemd
        echo "== host: /sys/fs/cgroup/unified"
        ls /sys/fs/cgroup/unified
        echo "== host: /sys/fs/cgroup/systemd/init.scope/cgroup.procs (PIDs, host view)"
        cat /sys/fs/cgroup/systemd/init.scope/cgroup.procs 2>&1 || true
        echo "== host: /sys/fs/cgroup/unified/init.scope/cgroup.procs (PIDs, host view)"
        cat /sys/fs/cgroup/unified/init.scope/cgroup.procs 2>&1 || true
        echo "== host: container PIDs 1"
        for n in "${names[@]}"; do
            echo "$n $(docker inspect -f '{{.State.Pid}}' "$n" 2>/dev/null)"
        done
    } >"$out/cgroups.txt" 2>&1
}

destroy
starts=0 notbooted=0
t0=$(lab_now)
for ((r = 1; r <= rounds; r++)); do
    echo "$r" >"$round_file"
    echo up >"$phase"
    decoy_of=''
    [[ -z $decoy ]] || decoy_of=$(make_decoy)
    create
    if [[ -n $decoy_of ]]; then
        read -r decoy_id decoy_name <<<"$decoy_of"
        check_decoy "$decoy_id" "$decoy_name"
    fi
    starts=$((starts + ${#names[@]}))
    sleep "$settle"
    ((r > 1)) || record_cgroups
    for n in "${names[@]}"; do
        state=$(systemd_state "$n")
        case $state in
        running | degraded) ;;
        *)
            if [[ $(docker inspect -f '{{.State.Running}}' "$n" 2>/dev/null) == true ]]; then
                notbooted=$((notbooted + 1))
                echo "round $r: $n alive but systemd says '${state:-nothing}'" >>"$out/notbooted.txt"
                docker logs -t "$n" >"$out/lost/$(printf '%02d' "$r")-$n.notbooted.log" 2>&1 || true
            fi
            ;;
        esac
    done
    lost_now=$(wc -l <"$out/lost.txt")
    lab_say "round $r/$rounds: lost so far $lost_now, not booted so far $notbooted ($(lab_since "$t0") s)"
    destroy
    sleep 2
done
sleep 1
lost=$(wc -l <"$out/lost.txt")
{
    echo "options: mode=$mode scenario=$scenario settle=${settle}s decoy=${decoy:-no} extra=${extra[*]:-none}"
    echo "died while up (name, exit code):"
    grep 'phase=up' "$events" | sed 's/^/  /' || true
    [[ ! -s $out/decoys.txt ]] || { echo "decoys:"; sed 's/^/  /' "$out/decoys.txt"; }
    echo "churn: $rounds rounds, $starts container starts, $lost lost, $notbooted not booted" \
        "($(lab_since "$t0") s, results in $out)"
} | tee "$out/summary.txt"
((lost == 0 && notbooted == 0))
