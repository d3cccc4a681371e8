#!/usr/bin/env bash
# Prepares a fresh Debian/Ubuntu machine for kubeyard's development and tests: the packages the builds
# need, a running Docker engine, and the npm dependencies. Safe to run again; skips what is in place.
# With --hosts, also what the host matrix of test/hosts needs (QEMU, debootstrap, mkfs.ext4).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_pkgs+=(debootstrap)
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
command -v cc >/dev/null 2>&1 || need_pkgs+=(gcc libc6-dev)
command -v pkg-config >/dev/null 2>&1 || need_pkgs+=(pkg-config)
# runc is linked statically against libseccomp.
[ -e /usr/lib/x86_64-linux-gnu/libseccomp.a ] || [ -e /usr/lib/aarch64-linux-gnu/libseccomp.a ] || need_pkgs+=(libseccomp-dev)
command -v iptables >/dev/null 2>&1 || need_pkgs+=(iptables)
command -v wrk >/dev/null 2>&1 || need_pkgs+=(wrk) # load generator of the tunnel benchmark
command -v shellcheck >/dev/null 2>&1 || need_pkgs+=(shellcheck) # npm run lint:shell
# The dashboard addon's e2e test drives Debian's Chromium with Playwright (playwright-core, no browser download).
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
if [ "${1:-}" = --hosts ]; then
  command -v qemu-system-x86_64 >/dev/null 2>&1 || need_pkgs+=(qemu-system-x86)
  command -v qemu-img >/dev/null 2>&1 || need_pkgs+=(qemu-utils)
  [ -e /usr/share/seabios/bios-256k.bin ] || need_pkgs+=(seabios)
  command -v mkfs.ext4 >/dev/null 2>&1 || need_pkgs+=(e2fsprogs)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "setup: installing ${need_pkgs[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# Every node's kubelet, kube-proxy, containerd and control plane hold inotify instances (about 22 for a
# one-node cluster); the common default of 128 per user fits only about five clusters.
for kv in fs.inotify.max_user_instances=1024 fs.inotify.max_user_watches=524288; do
  key=${kv%%=*}; want=${kv#*=}
  have=$(sysctl -n "$key" 2>/dev/null || echo 0)
  [ "$have" -ge "$want" ] || as_root sysctl -qw "$kv" || echo "setup: could not raise $key to $want" >&2
done

command -v go >/dev/null 2>&1 || { echo "setup: Go is needed to build Kubernetes from source; install Go 1.26 or newer" >&2; exit 1; }

if ! docker info >/dev/null 2>&1; then
  echo "setup: starting the Docker engine"
  if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
    as_root systemctl start docker
  else
    # Without the caller's open files: a lock held on one (flock around a test run) would last as long as the engine.
    # shellcheck disable=SC2016 # the inner shell expands them
    as_root bash -c 'for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null
      nohup dockerd >/var/log/kubeyard-dockerd.log 2>&1 </dev/null &'
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "setup: the Docker engine did not start; see /var/log/kubeyard-dockerd.log" >&2; exit 1; }
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  # `npm install` rather than `npm ci`: npm 11 records only this platform's optional rollup packages
  # in the lock, and `npm ci` then refuses the lock as out of sync.
  npm install --no-audit --no-fund --loglevel=error
fi
npm run --silent build
echo "setup: ready"
