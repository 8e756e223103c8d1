#!/usr/bin/env bash
# Build the systemd-capable Debian 12 base image for the lab and the
# integration tests: anycast-fabric/debian12:<recipe hash> (+ :latest).
#
# Why this way: no container registry is reachable here, so nothing can be
# pulled; the image is made from Debian's archive with debootstrap and turned
# into an image with `docker import` (shared/ENVIRONMENT.md). That takes about
# a minute, so the image is cached under a tag that is a hash of the recipe
# (this script, every file listed in recipe_files, and the recipe parts of
# lab/lib.sh): an unchanged recipe reuses the image in well under a second, a
# changed one builds a new tag.
#
# Usage: lab/build-image.sh        prints the image name (stdout, last line);
#                                  progress and timings go to stderr.
#        FORCE=1 lab/build-image.sh   rebuild even when the tag exists.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
lab_name="build-image"
repo_name=$lab_image_repo

# Files whose content defines the image. Add any file the build starts to use
# (config snippets, unit files...), so that changing it changes the tag.
recipe_files=("$here/build-image.sh")

# Packages on top of debootstrap's minbase (required priority + apt).
#  - systemd, systemd-sysv, dbus: systemd as PID 1 (molecule/Ansible manage
#    services with systemctl, as on the real nodes).
#  - iproute2, iputils-ping, procps, tcpdump: networking and debugging.
#  - netbase: /etc/protocols and /etc/services (not in minbase).
#  - python3, python3-apt: Ansible's interpreter and its apt module.
#  - python3-pyroute2, python3-netaddr: the collection's modules on managed
#    hosts (Debian's 0.7.2 / 0.8.0, exactly what real nodes get).
#  - python3-prometheus-client, python3-systemd: the health agent's metrics
#    and sd_notify (roles/healthcheck installs them when missing).
#  - bird2, frr, frr-pythontools, gobgpd: the routing daemons; frr-pythontools
#    is the Debian 12 package that ships /usr/lib/frr/frr-reload.py (`dpkg -S`).
#  - curl, ca-certificates: health checks and HTTPS from roles.
#  - keepalived: the lab's first-hop gateway of a ToR pair (VRRP, scenario
#    failover); a lab concern, not the collection's.
#  - sudo: Ansible `become`.
packages=(
    systemd systemd-sysv dbus
    iproute2 iputils-ping procps tcpdump netbase
    python3 python3-apt python3-pyroute2 python3-netaddr
    python3-prometheus-client python3-systemd
    bird2 frr frr-pythontools gobgpd
    curl ca-certificates sudo keepalived
    nftables
)

# Units that either hang or fail in a container with no consoles, udev or
# writable kernel interfaces; masking them keeps `systemctl
# is-system-running` at "running" instead of "degraded"/"starting".
mask_units=(
    console-getty.service getty@.service serial-getty@.service getty.target
    # Periodic jobs that would only add noise (and apt traffic) to test runs.
    apt-daily.timer apt-daily-upgrade.timer
)

# The routing daemons are installed but not started at boot: each test or
# role starts exactly what it needs (bird OR frr on a node, frr on ToRs,
# keepalived on the ToR pair of scenario failover).
disable_units=(bird.service frr.service keepalived.service)

"$here/docker-up.sh" >&2

# The package list lives in this file, so it counts.
hash=$(lab_recipe_hash "${recipe_files[@]}")
image=$repo_name:$hash

# Two builds at once (parallel test runs, molecule) would both debootstrap;
# serialise them, and let the second find the first one's image.
lab_lock /var/lock/anycast-fabric-build-image.lock

if [[ -z ${FORCE:-} ]] && docker image inspect "$image" >/dev/null 2>&1; then
    docker tag "$image" "$repo_name:latest"
    lab_log "image $image exists (recipe unchanged), nothing to build"
    echo "$image"
    exit 0
fi

t0=$(lab_now)
root=$(mktemp -d /var/tmp/anycast-fabric-image.XXXXXX)
trap 'lab_remove_root "$root"' EXIT

lab_log "debootstrap $lab_suite into $root"
lab_log "packages: ${packages[*]}"
t=$(lab_now)
lab_debootstrap "$root" "${packages[@]}" || exit 1
lab_log "debootstrap: $(lab_since "$t") s"

t=$(lab_now)
# Updates and security suites too: roles run apt-get install in containers.
lab_apt_sources "$root"

chroot "$root" systemctl disable "${disable_units[@]}" 2>/dev/null
chroot "$root" systemctl mask "${mask_units[@]}" 2>/dev/null
# Boot to multi-user, never graphical/rescue.
chroot "$root" systemctl set-default multi-user.target 2>/dev/null

# machine-id: an EMPTY file (not a missing one) makes systemd generate a fresh
# id in every container at boot, so containers from one image never share an
# id (journald, DHCP DUIDs and dbus key off it). dbus's copy follows it.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
ln -s /etc/machine-id "$root/var/lib/dbus/machine-id"

# Docker bind-mounts its own /etc/hosts, /etc/hostname and /etc/resolv.conf
# into every container (the names and addresses we give with --hostname and
# --ip). The image's copies are only what a bare `docker run` without those
# would see, so keep them generic and free of the build host's data.
cat >"$root/etc/hosts" <<'HOSTS'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
HOSTS
echo localhost >"$root/etc/hostname"
: >"$root/etc/resolv.conf"

# Keep the image small: downloaded .debs, logs of the build.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
    "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/* "$root"/var/tmp/*
# Sanity: the things tests rely on are there.
lab_require_files "$root" usr/bin/python3 sbin/init usr/sbin/bird usr/lib/frr/frrinit.sh \
    usr/lib/frr/frr-reload.py usr/bin/vtysh
lab_log "configure: $(lab_since "$t") s"

t=$(lab_now)
# container=docker tells systemd it runs in a container; SIGRTMIN+3 is what
# makes systemd (PID 1) shut down cleanly on `docker stop`.
# Docker 20.10's `import --change` refuses STOPSIGNAL ("stopsignal is not a
# valid change command"; it only takes CMD ENTRYPOINT ENV EXPOSE LABEL ONBUILD
# USER VOLUME WORKDIR HEALTHCHECK), so import the bare root filesystem and
# set the image config with a one-line Dockerfile on top of it. The legacy
# builder (DOCKER_BUILDKIT=0) never looks for FROM images in a registry and
# adds no layer for these config-only instructions.
rootfs=$repo_name:$hash-rootfs
tar --numeric-owner -C "$root" -c . | docker import - "$rootfs" >/dev/null
lab_log "import: $(lab_since "$t") s"
t=$(lab_now)
lab_run_logged "$root.build.log" env DOCKER_BUILDKIT=0 docker build -q -t "$image" - <<DOCKERFILE || exit 1
FROM $rootfs
ENV container=docker
STOPSIGNAL SIGRTMIN+3
LABEL anycast-fabric.image-recipe=$hash
CMD ["/sbin/init"]
DOCKERFILE
# Drop the intermediate tag (the layer stays: the final image uses it).
docker rmi "$rootfs" >/dev/null
docker tag "$image" "$repo_name:latest"
lab_log "image config: $(lab_since "$t") s"
lab_log "built $image in $(lab_since "$t0") s ($(docker image inspect -f '{{.Size}}' "$image" | awk '{ printf "%d MB", $1 / 1e6 }'))"
echo "$image"
