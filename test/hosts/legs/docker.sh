#!/bin/bash
# Leg "docker": cgroup v2, systemd, Debian trixie's docker.io (systemd cgroup driver), kubeyard run as root.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=guest-lib.sh
. /mnt/share/guest-lib.sh

host_facts
for _ in $(seq 1 180); do docker info >/dev/null 2>&1 && break; sleep 1; done
timed docker-ready docker info >"$out/docker-info.txt" 2>&1 || { echo "docker does not answer"; exit 10; }
docker info --format 'docker {{.ServerVersion}}, cgroup {{.CgroupVersion}} driver {{.CgroupDriver}}, storage {{.Driver}}'
timed docker-load docker load -i "$share/images.tar" || exit 11
timed unpack unpack_repo || exit 12

start_then_subset docker
