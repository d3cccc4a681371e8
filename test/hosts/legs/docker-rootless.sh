#!/bin/bash
# Leg "docker-rootless": cgroup v2, systemd, Debian trixie's docker.io run by the user kyuser through rootlesskit
# (subordinate ids, lingering, cpu cpuset io memory pids delegated to user@.service), set up the way Docker's
# documentation says: dockerd-rootless-setuptool.sh, which installs a user docker.service and selects a CLI context
# "rootless" instead of setting DOCKER_HOST. The system's Docker is stopped and its socket removed, and nothing
# sets DOCKER_HOST: kubeyard, and the tests' own docker CLI calls, must find the user's engine through the context.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=guest-lib.sh
. /mnt/share/guest-lib.sh

contrib=/usr/share/docker.io/contrib

host_facts
rootless_user
rootlesskit --version | tee -a "$out/host-facts.txt"
# Debian ships both scripts outside PATH, and the tool expects docker and rootlesskit beside dockerd-rootless.sh:
# linked into /usr/bin, where Debian puts those, the tool finds them all.
ln -sf "$contrib/dockerd-rootless.sh" "$contrib/dockerd-rootless-setuptool.sh" /usr/bin/
timed docker-setup "${run_as[@]}" dockerd-rootless-setuptool.sh install >"$out/setuptool.log" 2>&1 ||
  { tail -20 "$out/setuptool.log"; echo "dockerd-rootless-setuptool.sh install fails"; exit 10; }
for _ in $(seq 1 120); do "${run_as[@]}" docker info >/dev/null 2>&1 && break; sleep 1; done
"${run_as[@]}" docker context ls >"$out/docker-contexts.txt" 2>&1
timed docker-ready "${run_as[@]}" docker info >"$out/docker-info.txt" 2>&1 || { echo "the user's docker does not answer"; exit 10; }
"${run_as[@]}" docker info --format 'docker {{.ServerVersion}}, cgroup {{.CgroupVersion}} driver {{.CgroupDriver}}, {{.SecurityOptions}}'
# The share's files may be readable by root alone: the load reads the tarball from a stream root opens.
timed docker-load "${run_as[@]}" docker load <"$share/images.tar" || exit 11
timed unpack unpack_repo || exit 12
chown -R "$user:" "$repo" "$home/.cache"

start_then_subset docker
