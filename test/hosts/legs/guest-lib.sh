# shellcheck shell=bash
# Steps every leg runs inside the guest, as root: the share holds what run-leg.sh put there.
share=/mnt/share
out=$share/out
repo=/root/kubeyard
mkdir -p "$out"

# Records "name seconds" in out/timings.txt around a command; returns the command's status.
timed() {
  local name=$1 start=$SECONDS rc=0
  shift
  "$@" || rc=$?
  printf '%s %ss rc=%s\n' "$name" "$((SECONDS - start))" "$rc" | tee -a "$out/timings.txt"
  return "$rc"
}

host_facts() {
  {
    echo "kernel: $(uname -r)"
    echo "cgroup fs: $(stat -fc %T /sys/fs/cgroup)"
    echo "cgroup controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
    echo "systemd: $(systemctl --version | head -1)"
    echo "node: $(node --version)"
    echo "nproc: $(nproc), memory: $(free -m | awk '/Mem:/ {print $2}') MiB"
  } >"$out/host-facts.txt"
  cat "$out/host-facts.txt"
}

# Unpacks the checkout (with its dist/), its node_modules and kubeyard's artifact cache onto the guest's disk.
unpack_repo() {
  mkdir -p "$repo/node_modules" /root/.cache/kubeyard
  tar -xf "$share/repo.tar" -C "$repo"
  tar -xf "$share/node_modules.tar" -C "$repo/node_modules"
  tar -xf "$share/artifacts.tar" -C /root/.cache/kubeyard
}

# Copies every kubeyard node's container log and component logs to out/nodes/ every few seconds, so a
# failed start (whose half-made cluster kubeyard removes) leaves its last logs behind.
collect_node_logs() {
  local engine=$1 c
  while :; do
    for c in $("$engine" ps -a --filter label=dev.kubeyard.cluster --format '{{.Names}}' 2>/dev/null); do
      mkdir -p "$out/nodes/$c"
      "$engine" logs "$c" >"$out/nodes/$c/container.log" 2>&1 || true
      "$engine" inspect "$c" >"$out/nodes/$c/inspect.json" 2>&1 || true
      "$engine" exec "$c" tar -C /var/log/kubeyard -cf - . 2>/dev/null | tar -xf - -C "$out/nodes/$c" 2>/dev/null || true
      "$engine" exec "$c" sh -c 'cat /proc/self/cgroup; echo; findmnt -R /sys/fs/cgroup; echo;
        cat /sys/fs/cgroup/cgroup.controllers /sys/fs/cgroup/cgroup.subtree_control 2>&1' >"$out/nodes/$c/cgroups.txt" 2>&1 || true
    done
    sleep 10
  done
}

# Runs the e2e files named in the share's subset.txt with vitest, as `npm test` would, output in out/vitest.log.
run_subset() {
  local files
  mapfile -t files <"$share/subset.txt"
  (cd "$repo" && CI=true node node_modules/vitest/vitest.mjs run --project system "${files[@]}") >"$out/vitest.log" 2>&1
}
