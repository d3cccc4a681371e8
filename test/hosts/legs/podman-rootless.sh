#!/bin/bash
# Leg "podman-rootless": cgroup v2, systemd, Debian trixie's podman run by the user kyuser (subordinate ids,
# lingering, cpu cpuset io memory pids delegated to user@.service), its user podman.socket; kubeyard and the
# tests run as kyuser too. Docker is stopped and its socket removed, so kubeyard must find the user's Podman.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=guest-lib.sh
. /mnt/share/guest-lib.sh

user=kyuser
uid=$(id -u "$user")
home=$(getent passwd "$user" | cut -d: -f6)
runtime=/run/user/$uid
podman_sock=$runtime/podman/podman.sock
run_as=(runuser -u "$user" -- env HOME="$home" XDG_RUNTIME_DIR="$runtime" DBUS_SESSION_BUS_ADDRESS="unix:path=$runtime/bus")
repo=$home/kubeyard
kubeyard_cache=$home/.cache/kubeyard

host_facts
systemctl stop docker.socket docker.service containerd.service
rm -f /var/run/docker.sock
{
  echo "user $user ($uid): $(grep "^$user:" /etc/subuid)"
  echo "delegated: $(cat "/sys/fs/cgroup/user.slice/user-$uid.slice/user@$uid.service/cgroup.controllers" 2>&1)"
  echo "ip_unprivileged_port_start: $(sysctl -n net.ipv4.ip_unprivileged_port_start)"
} | tee -a "$out/host-facts.txt"
for _ in $(seq 1 120); do [ -S "$runtime/bus" ] && break; sleep 1; done
timed podman-ready "${run_as[@]}" systemctl --user start podman.socket || { echo "the user's podman.socket does not start"; exit 10; }
"${run_as[@]}" podman info >"$out/podman-info.txt" 2>&1 || { echo "podman info fails"; exit 10; }
docker -H "unix://$podman_sock" info --format '{{json .}}' >"$out/compat-info.json" 2>&1
docker -H "unix://$podman_sock" version --format '{{json .}}' >"$out/compat-version.json" 2>&1
# The share's files may be readable by root alone: the load reads the tarball from a stream root opens.
timed podman-load "${run_as[@]}" podman load <"$share/images.tar" || exit 11
podman_docker_names || exit 11
timed unpack unpack_repo || exit 12
chown -R "$user:" "$repo" "$home/.cache"

# The hand start finds the user's Podman by itself. The tests get DOCKER_HOST on its socket, which their own docker
# CLI calls and kubeyard both follow (and which tests that point DOCKER_HOST elsewhere can still override).
subset_env=("DOCKER_HOST=unix://$podman_sock")
start_then_subset podman
