#!/usr/bin/env bash
# Boot the lab VM (lab/vm/build-image.sh) under QEMU and wait until root can
# log in over SSH.
#
#   lab/vm/start.sh STATE_DIR [--name NAME] [--memory MB] [--cpus N]
#                             [--port PORT] [--timeout SECONDS]
#
# STATE_DIR (created) receives the VM's SSH key pair (id_ed25519), QEMU's pid
# file (qemu.pid), the serial console log (console.log) and vm.json, which is
# also printed on stdout:
#   {"instance": NAME, "name": NAME, "address": "127.0.0.1", "port": ..., "user": "root",
#    "identity_file": ..., "pid": ..., "image": ..., "boot_seconds": ...}
#
# Plain TCG (nested KVM fails on our machines), user-mode networking: the
# guest is 10.0.2.15 and reaches the outside through QEMU's NAT; the host
# reaches the guest's sshd through a forwarded port on 127.0.0.1 only. The
# public key travels on the kernel command line (the image holds no key).
# Stop the VM with lab/vm/stop.sh STATE_DIR (by its pid, never by name).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$here/../lib.sh"
lab_name="vm-start"

usage() { lab_usage 2 18; }

(($# >= 1)) || usage
state=$1
shift
[[ $state != -* ]] || usage
name=ipvs-lab memory=2048 cpus=2 port='' timeout=180
while (($#)); do
    case $1 in
    --name) name=$(lab_optarg "$@"); shift 2 ;;
    --memory) memory=$(lab_optarg "$@"); shift 2 ;;
    --cpus) cpus=$(lab_optarg "$@"); shift 2 ;;
    --port) port=$(lab_optarg "$@"); shift 2 ;;
    --timeout) timeout=$(lab_optarg "$@"); shift 2 ;;
    *) usage ;;
    esac
done

image=$("$here/build-image.sh" | tail -n 1)
mkdir -p "$state"
state=$(cd "$state" && pwd)
pidfile=$state/qemu.pid

if running=$(lab_qemu_pid "$pidfile"); then
    lab_die "a VM from $state is already running (pid $running); stop it first: lab/vm/stop.sh $state"
fi
rm -f "$pidfile" "$state/vm.json"

key=$state/id_ed25519
[[ -s $key ]] || ssh-keygen -q -t ed25519 -N '' -C "anycast-fabric-lab-vm" -f "$key"
pubkey_b64=$(base64 -w0 <"$key.pub")

ssh_opts=(-i "$key" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
    -o LogLevel=ERROR -o ConnectTimeout=5 -o IdentitiesOnly=yes)

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

t0=$(lab_now)
started=
for attempt in 1 2 3; do
    p=${port:-$(free_port)}
    : >"$state/console.log"
    # -daemonize: QEMU detaches once the machine is set up and writes its pid
    # file; a port taken meanwhile makes it exit non-zero (then retry).
    if qemu-system-x86_64 \
        -name "afab-$name,process=afab-vm-$name" \
        -machine q35 -accel tcg,thread=multi -cpu "${AFAB_VM_CPU:-max}" -smp "$cpus" -m "$memory" \
        -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
        -append "console=ttyS0 panic=-1 quiet afab.hostname=$name afab.ssh_key=$pubkey_b64" \
        -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$p-:22" -device virtio-net-pci,netdev=n0 \
        -display none -serial "file:$state/console.log" -monitor none -no-reboot \
        -daemonize -pidfile "$pidfile" 2>"$state/qemu.err"; then
        started=$p
        break
    fi
    lab_log "qemu failed to start (attempt $attempt): $(cat "$state/qemu.err")"
    [[ -z $port ]] || break
done
[[ -n $started ]] || exit 1
port=$started
pid=$(cat "$pidfile")
lab_log "qemu pid $pid, ssh on 127.0.0.1:$port, waiting for sshd (timeout ${timeout}s)"

# 0: root logs in; 1: not yet; 2: QEMU is gone (see lab_wait_until).
sshd_up() {
    ssh "${ssh_opts[@]}" -p "$port" root@127.0.0.1 true 2>/dev/null && return 0
    lab_qemu_pid "$pidfile" >/dev/null || return 2
    return 1
}
rc=0
lab_wait_until "$timeout" 1 sshd_up || rc=$?
if ((rc == 2)); then
    lab_log "LAB/INFRASTRUCTURE FAILURE: QEMU exited during boot (the lab VM, not the collection); console:"
    tail -n 40 "$state/console.log" >&2
    exit 1
elif ((rc != 0)); then
    lab_log "LAB/INFRASTRUCTURE FAILURE: no SSH after ${timeout}s (the lab VM, not the collection); console:"
    tail -n 40 "$state/console.log" >&2
    "$here/stop.sh" "$state" >&2 || true
    exit 1
fi
boot=$(lab_since "$t0")
lab_log "VM up in $boot s"

python3 - "$state/vm.json" <<PY
import json, sys
info = {"instance": "$name", "name": "$name", "address": "127.0.0.1", "port": $port, "user": "root",
        "identity_file": "$key", "pid": $pid, "image": "$image", "boot_seconds": $boot}
with open(sys.argv[1], "w") as handle:
    json.dump(info, handle)
print(json.dumps(info))
PY
