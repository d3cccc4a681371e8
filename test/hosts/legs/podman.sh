#!/bin/bash
# Leg "podman": cgroup v2, systemd, Debian trixie's podman (rootful, netavark), its Docker-compatible socket
# (podman.socket), kubeyard run as root. Docker is stopped and its socket removed, so kubeyard must find
# Podman by itself (--driver auto); the e2e files' own docker CLI calls go to Podman's socket too.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=guest-lib.sh
. /mnt/share/guest-lib.sh

podman_sock=/run/podman/podman.sock
host_facts
systemctl stop docker.socket docker.service containerd.service
rm -f /var/run/docker.sock
timed podman-ready systemctl start podman.socket || { echo "podman.socket does not start"; exit 10; }
podman info >"$out/podman-info.txt" 2>&1 || { echo "podman info fails"; exit 10; }
podman info --format 'podman {{.Version.Version}}, cgroup {{.Host.CgroupsVersion}} manager {{.Host.CgroupManager}},
  network {{.Host.NetworkBackend}}, storage {{.Store.GraphDriverName}}, rootless {{.Host.Security.Rootless}}'
# What kubeyard reads through the compatible API (engine-info.ts): cgroup version and driver, rootless, the version.
docker -H "unix://$podman_sock" info --format '{{json .}}' >"$out/compat-info.json" 2>&1
docker -H "unix://$podman_sock" version --format '{{json .}}' >"$out/compat-version.json" 2>&1
timed podman-load podman load -i "$share/images.tar" || exit 11
podman_docker_names || exit 11
podman images >"$out/podman-images.txt" 2>&1
timed unpack unpack_repo || exit 12

# The hand start finds Podman by itself; the e2e files name it (--driver through the environment), and their
# own docker CLI calls (engineObjects and the like) go to Podman's socket.
subset_env=(KUBEYARD_DRIVER=podman "DOCKER_HOST=unix://$podman_sock")
start_then_subset podman
