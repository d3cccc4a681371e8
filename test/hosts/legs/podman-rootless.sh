#!/bin/bash
# Leg "podman-rootless": cgroup v2, systemd, Debian trixie's podman run by the user kyuser (subordinate ids,
# lingering, cpu cpuset io memory pids delegated to user@.service), its user podman.socket; kubeyard and the
# tests run as kyuser too. Docker is stopped and its socket removed, so kubeyard must find the user's Podman.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=guest-lib.sh
. /mnt/share/guest-lib.sh

host_facts
rootless_user
podman_sock=$runtime/podman/podman.sock
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
