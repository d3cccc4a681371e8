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

collect_node_logs docker &
collector=$!
cd "$repo" || exit 12
# One start by hand first: its time and, when it fails, the nodes' logs, are what this leg is for.
timed kubeyard-start node dist/cmd/kubeyard.js start -p leg-probe -v >"$out/start.log" 2>&1
start_rc=$?
sleep 11
kill "$collector"
tail -5 "$out/start.log"
timed kubeyard-delete node dist/cmd/kubeyard.js delete -p leg-probe >"$out/delete.log" 2>&1
if [ "$start_rc" != 0 ]; then
  echo "kubeyard start failed: $(grep -m1 -o 'FAILED: .*' "$out/start.log" || tail -1 "$out/start.log")"
  exit 20
fi

timed vitest run_subset
rc=$?
tail -15 "$out/vitest.log"
exit "$rc"
