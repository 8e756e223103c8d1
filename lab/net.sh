#!/usr/bin/env bash
# Lab networks: one user-defined Docker bridge per rack segment.
#
#   lab/net.sh create NAME SUBNET4 [SUBNET6]   create (idempotent)
#   lab/net.sh rm NAME                         remove one network
#   lab/net.sh ls                              list the lab's networks
#
# Every network gets the label anycast-fabric.lab=1 so lab/destroy.sh finds it.
#
# IPv6 (measured with the docker.io 20.10.24 engine on Debian 12): a
# per-network `--ipv6 --subnet <v6 prefix>` is enough. Nothing is needed in
# /etc/docker/daemon.json: its "ipv6": true / "fixed-cidr-v6" only concern the
# default `bridge` network, which the lab does not use. Containers on such a
# network get their --ip6 address on eth0 and reach each other over IPv6. The
# engine sets up no ip6tables NAT (that needs "experimental" + "ip6tables"
# in daemon.json): fine, lab IPv6 traffic stays between lab containers.
# Use ULA prefixes (fd00::/8) for lab subnets.
#
# Networks are normal (not --internal) bridges: their gateway NATs to the
# outside, which containers need for `apt-get install` from Debian's archive.
# Test traffic itself only goes between the lab's containers.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
lab_name="net"

usage() { lab_usage 2 7; }

# Subnets of an existing network, space separated, in the order Docker keeps.
subnets_of() {
    docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' "$1"
}

cmd=${1:-}
shift || true
case $cmd in
create)
    (($# == 2 || $# == 3)) || usage
    name=$1 v4=$2 v6=${3:-}
    want="$v4${v6:+ $v6}"
    if docker network inspect "$name" >/dev/null 2>&1; then
        have=$(subnets_of "$name")
        have=${have% }
        # An existing network with other subnets would silently give wrong
        # addresses; refuse instead of guessing.
        [[ $have == "$want" ]] || lab_die "network $name exists with subnets '$have', wanted '$want'"
        lab_say "$name exists ($have)"
        exit 0
    fi
    args=(--driver bridge --label "$lab_label" --subnet "$v4")
    if [[ -n $v6 ]]; then
        args+=(--ipv6 --subnet "$v6")
    fi
    docker network create "${args[@]}" "$name" >/dev/null
    lab_say "created $name ($want)"
    ;;
rm)
    (($# == 1)) || usage
    docker network rm "$1" >/dev/null
    lab_say "removed $1"
    ;;
ls)
    docker network ls --filter "label=$lab_label"
    ;;
*)
    usage
    ;;
esac
