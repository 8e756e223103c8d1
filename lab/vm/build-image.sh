#!/usr/bin/env bash
# Build the lab VM image: Debian 12's cloud kernel plus an initramfs that is a
# whole Debian 12 root filesystem (what the molecule scenario molecule/ipvs and
# benchmarks/ipvs.py boot with QEMU).
#
# Why a VM: this machine's kernel has no IPVS and no dummy interfaces, and
# containers share it (shared/ENVIRONMENT.md); Debian's cloud kernel has both
# as modules. Why an initramfs root: no disk image tooling, no partitioning,
# no bootloader; QEMU boots it directly with -kernel/-initrd, under plain TCG
# (nested KVM fails here) in about 15 s.
#
# The image is cached in a directory named after a hash of the recipe (this
# script, the guest's /init and the recipe parts of lab/lib.sh): an unchanged
# recipe reuses it at once, a changed one builds a new directory. Cache root:
# $AFAB_VM_CACHE, default /var/cache/anycast-fabric/vm (outside the checkout,
# so fresh clones and `make clean` keep it).
#
# Usage: lab/vm/build-image.sh        prints the image directory (stdout, last
#                                     line) holding vmlinuz, initrd.img and
#                                     kernel-release; progress goes to stderr.
#        FORCE=1 lab/vm/build-image.sh   rebuild even when it exists.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$here/../lib.sh"
lab_name="vm-image"
cache=${AFAB_VM_CACHE:-/var/cache/anycast-fabric/vm}

# Files whose content defines the image.
recipe_files=("$here/build-image.sh" "$here/init")

# Packages on top of debootstrap's minbase:
#  - kmod: modprobe/depmod (the role loads modules; /init loads virtio).
#  - iproute2, iputils-ping, procps, curl, netbase: networking, sysctl, and
#    the HTTP client the scenario sends requests to the VIP with.
#  - openssh-server: Ansible's way in (port-forwarded by QEMU).
#  - python3, python3-apt: Ansible's interpreter and its apt module.
#  - python3-pyroute2: Debian's 0.7.2, exactly what real nodes get (no IPVS
#    API: the ipvs module must not need it; loopback_vip does).
#  - systemd: not as init (see init), but for systemd-modules-load, which
#    the scenario runs to prove the persisted module list loads.
packages=(
    kmod iproute2 iputils-ping procps curl netbase
    openssh-server python3 python3-apt python3-pyroute2 systemd
)
# Downloaded into the image's apt cache but NOT installed: the role installs
# them (so the scenario tests that path for real) without needing the
# network from inside the VM.
role_packages=(ipvsadm ipset)
# The kernel: whatever bookworm's cloud-kernel meta package points at.
kernel_meta=linux-image-cloud-amd64

lab_ensure_packages debootstrap qemu-system-x86 zstd cpio >&2

hash=$(lab_recipe_hash "${recipe_files[@]}")
dir=$cache/$hash

mkdir -p "$cache"
# Concurrent builds (molecule and the benchmark at once) would both
# debootstrap: serialise them; the second finds the first one's image.
lab_lock "$cache/.lock"

if [[ -z ${FORCE:-} && -s $dir/initrd.img && -s $dir/vmlinuz && -s $dir/kernel-release ]]; then
    lab_log "image $dir exists (recipe unchanged), nothing to build"
    echo "$dir"
    exit 0
fi

t0=$(lab_now)
root=$(mktemp -d /var/tmp/anycast-fabric-vm.XXXXXX)
cleanup() {
    lab_remove_root "$root"
    rm -rf "$dir.tmp"
}
trap cleanup EXIT

lab_log "debootstrap $lab_suite into $root (${packages[*]})"
t=$(lab_now)
lab_debootstrap "$root" "${packages[@]}" || exit 1
lab_log "debootstrap: $(lab_since "$t") s"

t=$(lab_now)
lab_apt_sources "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# Package lists stay in the image (the role's apt task needs them) but
# gzip-compressed: a quarter of the size, and every MB costs boot time.
cat >"$root/etc/apt/apt.conf.d/90-lab-vm" <<'APT'
Acquire::GzipIndexes "true";
Acquire::CompressionTypes::Order:: "gz";
Acquire::Languages "none";
APT
rm -rf "$root"/var/lib/apt/lists/*
apt=(apt-get -qq -o APT::Sandbox::User=root)
chroot "$root" "${apt[@]}" update >&2
# The kernel package is unpacked, not installed: its postinst would build an
# initramfs we do not use. Its modules are all the root needs.
kernel_pkg=$(chroot "$root" apt-cache depends "$kernel_meta" | awk '/Depends: linux-image-/ { print $2; exit }')
[[ -n $kernel_pkg ]] || lab_die "cannot resolve $kernel_meta"
chroot "$root" sh -c "cd /var/tmp && ${apt[*]} download $kernel_pkg" >&2
# Unpacked beside the root, not into it: dpkg -x would replace the root's
# merged-/usr symlink /lib with the package's lib/ directory.
release=${kernel_pkg#linux-image-}
dpkg -x "$root"/var/tmp/"$kernel_pkg"_*.deb "$root.kernel"
rm -f "$root"/var/tmp/*.deb
mkdir -p "$root/usr/lib/modules"
mv "$root.kernel/lib/modules/$release" "$root/usr/lib/modules/"
mv "$root.kernel/boot/vmlinuz-$release" "$root/boot/"
rm -rf "$root.kernel"
# debootstrap leaves every .deb it installed in the cache: drop them first.
chroot "$root" apt-get clean
chroot "$root" "${apt[@]}" install --download-only --no-install-recommends "${role_packages[@]}" >&2
rm -f "$root"/var/cache/apt/*.bin
# Modules for a network lab only: no disks, file systems or hardware beyond
# QEMU's virtio devices.
moddir=$root/usr/lib/modules/$release/kernel
find "$moddir/drivers" -mindepth 1 -maxdepth 1 -not -name net -not -name virtio \
    -not -name char -not -name firmware -exec rm -rf {} +
rm -rf "$moddir/fs" "$moddir/sound"
chroot "$root" /sbin/depmod "$release"
lab_log "kernel $release, apt cache: $(lab_since "$t") s"

t=$(lab_now)
install -m 0755 "$here/init" "$root/init"
echo ipvs-lab >"$root/etc/hostname"
cat >"$root/etc/hosts" <<'HOSTS'
127.0.0.1	localhost ipvs-lab
::1	localhost ip6-localhost ip6-loopback
HOSTS
: >"$root/etc/resolv.conf"
# Root logs in with the key given on the kernel command line only.
cat >"$root/etc/ssh/sshd_config.d/lab.conf" <<'SSHD'
PermitRootLogin prohibit-password
PasswordAuthentication no
UseDNS no
SSHD
# Host keys are made at every boot; none ship in the image.
rm -f "$root"/etc/ssh/ssh_host_*
# Smaller image, faster boot: documentation, locales, logs.
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
    "$root"/usr/share/locale/* "$root"/var/log/*.log "$root"/var/log/apt/* \
    "$root"/tmp/* "$root"/boot/System.map-*
lab_require_files "$root" init usr/bin/python3 usr/sbin/sshd usr/bin/kmod usr/bin/curl \
    "lib/modules/$release/kernel/net/netfilter/ipvs/ip_vs.ko" \
    "lib/modules/$release/modules.dep" "boot/vmlinuz-$release"
ls "$root"/var/cache/apt/archives/ipvsadm_*.deb "$root"/var/cache/apt/archives/ipset_*.deb >/dev/null

rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
mv "$root/boot/vmlinuz-$release" "$dir.tmp/vmlinuz"
# zstd (the kernel has CONFIG_RD_ZSTD): smaller than gzip and quick to unpack.
(cd "$root" && find . -xdev -print0 | cpio --null -o -H newc --quiet | zstd -q -T0 -6 >"$dir.tmp/initrd.img")
echo "$release" >"$dir.tmp/kernel-release"
echo "$hash" >"$dir.tmp/recipe-hash"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
# Images of older recipes are never used again: keep the cache to one.
find "$cache" -mindepth 1 -maxdepth 1 -type d -regextype egrep -regex '.*/[0-9a-f]{12}' \
    -not -name "$hash" -exec rm -rf {} +
lab_log "initramfs: $(lab_since "$t") s"
lab_log "built $dir in $(lab_since "$t0") s (initrd $(du -m "$dir/initrd.img" | cut -f1) MB, kernel $release)"
echo "$dir"
