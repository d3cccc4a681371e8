#!/usr/bin/env bash
# Makes the host-matrix VM image once: Debian trixie with systemd (cgroup v2), Docker, Podman and Node.js,
# cached under ~/.cache/kubeyard-hosts/trixie-<recipe hash>/ and made again only when this recipe changes.
# Prints the image's folder. The guest runs /mnt/share/run.sh from a 9p share at boot and powers off.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

mirror=${KUBEYARD_HOSTS_MIRROR:-http://deb.debian.org/debian}
disk_size=${KUBEYARD_HOSTS_DISK:-32G}
guest_user=kyuser
packages=(
  linux-image-amd64 systemd-resolved dbus dbus-user-session kmod iproute2 procps iptables ca-certificates
  docker.io docker-cli rootlesskit podman uidmap passt slirp4netns fuse-overlayfs catatonit nftables aardvark-dns nodejs
)

out=$(image_dir)
if [ -e "$out/ready" ]; then echo "$out"; exit 0; fi
[ "$(id -u)" = 0 ] || die "making the VM image needs root (debootstrap and chroot)"
need debootstrap:debootstrap mkfs.ext4:e2fsprogs chroot:coreutils

work="$out.tmp-$$"
root="$work/root"
unmount_all() {
  local m
  for m in dev/pts dev proc sys; do mountpoint -q "$root/$m" && umount -l "$root/$m"; done
  return 0
}
# --one-file-system: should an unmount fail, rm must not walk into the host's /dev, /proc or /sys.
cleanup() { unmount_all; rm -rf --one-file-system "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work"
started=$SECONDS

say "debootstrap trixie into $root"
debootstrap --variant=minbase --include=systemd-sysv,udev trixie "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  die "debootstrap failed; last lines:"$'\n'"$(tail -20 "$work/debootstrap.log")"

mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
# No service starts inside the chroot; units are only enabled.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
rm -f "$root/etc/resolv.conf"
cp /etc/resolv.conf "$root/etc/resolv.conf"

say "installing ${packages[*]}"
in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
{
  in_root apt-get update -q
  in_root apt-get install -y -q --no-install-recommends "${packages[@]}"
  in_root apt-get clean
} >"$work/apt.log" 2>&1 || die "installing packages in the image failed; last lines:"$'\n'"$(tail -20 "$work/apt.log")"
rm -f "$root/usr/sbin/policy-rc.d"

say "configuring the guest"
guest="$hosts_dir/guest"
echo kubeyard-host >"$root/etc/hostname"
printf '127.0.1.1 kubeyard-host\n' >>"$root/etc/hosts"
cat >"$root/etc/fstab" <<'FSTAB'
/dev/vda / ext4 rw,errors=remount-ro 0 1
share /mnt/share 9p trans=virtio,version=9p2000.L,msize=524288,nofail 0 0
FSTAB
mkdir -p "$root/mnt/share"
install -m 0644 "$guest/20-wired.network" "$root/etc/systemd/network/20-wired.network"
install -m 0755 "$guest/kubeyard-run" "$root/usr/local/sbin/kubeyard-run"
install -m 0644 "$guest/kubeyard-run.service" "$root/etc/systemd/system/kubeyard-run.service"
install -D -m 0644 "$guest/delegate.conf" "$root/etc/systemd/system/user@.service.d/delegate.conf"
# As scripts/setup.sh does on a development machine: room for the inotify instances of several nodes.
printf 'fs.inotify.max_user_instances=1024\nfs.inotify.max_user_watches=524288\n' >"$root/etc/sysctl.d/90-kubeyard.conf"
ln -sf ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
in_root passwd -d root >/dev/null
# The rootless legs' user: subordinate ids, and a user manager that runs from boot (lingering).
in_root useradd -m -s /bin/bash "$guest_user"
grep -q "^$guest_user:" "$root/etc/subuid" || echo "$guest_user:100000:65536" >>"$root/etc/subuid"
grep -q "^$guest_user:" "$root/etc/subgid" || echo "$guest_user:100000:65536" >>"$root/etc/subgid"
mkdir -p "$root/var/lib/systemd/linger"
touch "$root/var/lib/systemd/linger/$guest_user"
in_root systemctl enable systemd-networkd systemd-resolved docker.service kubeyard-run.service >/dev/null 2>&1
# Periodic jobs would only compete with the leg for the emulated CPUs.
in_root systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer dpkg-db-backup.timer >/dev/null 2>&1
unmount_all

say "making the disk ($disk_size, sparse)"
kernel=$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' | sort | tail -1)
initrd=$(find "$root/boot" -maxdepth 1 -name 'initrd.img-*' | sort | tail -1)
if [ -z "$kernel" ] || [ -z "$initrd" ]; then die "the image has no kernel or initrd in /boot"; fi
cp "$kernel" "$work/vmlinuz"
cp "$initrd" "$work/initrd.img"
# shellcheck disable=SC2016 # dpkg-query's own format, not the shell's
chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' docker.io podman nodejs systemd linux-image-amd64 >"$work/versions.txt"
# mke2fs says "Creating regular file" on stdout even with -q; stdout is the image path alone.
mkfs.ext4 -q -L kyroot -d "$root" "$work/disk.img" "$disk_size" >&2 || die "mkfs.ext4 -d failed"
rm -rf "$root"
printf 'built in %ss\n' "$((SECONDS - started))" >"$work/ready"
rm -rf "$out"
mv "$work" "$out"
trap - EXIT
# Images of earlier recipes are not used again.
find "$cache_root" -maxdepth 1 -name 'trixie-*' ! -name "$(basename "$out")" ! -name '*.tmp-*' -exec rm -rf {} +
say "image ready in $((SECONDS - started))s: $out"
echo "$out"
