# shellcheck shell=bash
# Steps every leg runs inside the guest, as root: the share holds what run-leg.sh put there.
share=/mnt/share
out=$share/out
repo=/root/kubeyard
kubeyard_cache=/root/.cache/kubeyard
# The command prefix that runs kubeyard, its engine's CLI and the tests as the leg's user (empty: root).
run_as=()
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

# Makes the leg run as the guest's user kyuser (subordinate ids, lingering, controllers delegated to its
# user@.service): its checkout and kubeyard cache, run_as for its commands; the system's Docker is stopped and its
# socket removed, so nothing but the user's engine answers. Adds the user's facts to host-facts.txt and waits for
# the user's session bus (systemctl --user).
rootless_user() {
  user=kyuser
  uid=$(id -u "$user")
  home=$(getent passwd "$user" | cut -d: -f6)
  runtime=/run/user/$uid
  run_as=(runuser -u "$user" -- env HOME="$home" XDG_RUNTIME_DIR="$runtime" DBUS_SESSION_BUS_ADDRESS="unix:path=$runtime/bus")
  repo=$home/kubeyard
  kubeyard_cache=$home/.cache/kubeyard
  systemctl stop docker.socket docker.service containerd.service
  rm -f /var/run/docker.sock
  {
    echo "user $user ($uid): $(grep "^$user:" /etc/subuid)"
    echo "delegated: $(cat "/sys/fs/cgroup/user.slice/user-$uid.slice/user@$uid.service/cgroup.controllers" 2>&1)"
    echo "ip_unprivileged_port_start: $(sysctl -n net.ipv4.ip_unprivileged_port_start)"
  } | tee -a "$out/host-facts.txt"
  for _ in $(seq 1 120); do [ -S "$runtime/bus" ] && break; sleep 1; done
}

# Unpacks the checkout (with its dist/), its node_modules and kubeyard's artifact cache onto the guest's disk.
unpack_repo() {
  mkdir -p "$repo/node_modules" "$kubeyard_cache"
  tar -xf "$share/repo.tar" -C "$repo"
  tar -xf "$share/node_modules.tar" -C "$repo/node_modules"
  tar -xf "$share/artifacts.tar" -C "$kubeyard_cache"
}

# `podman load` names an image saved by Docker under a short name (busybox:1.35.0, rancher/...) localhost/...,
# where a pull would have named it docker.io/...: the tests ask for the docker.io names, so they get them too.
# kubeyard's own images (kubeyard/...) keep localhost/, as on a host that built them with Podman.
podman_docker_names() {
  local ref
  for ref in $("${run_as[@]}" podman images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/' | grep -v '^localhost/kubeyard/'); do
    "${run_as[@]}" podman tag "$ref" "docker.io/${ref#localhost/}" || return
  done
}

# Copies every kubeyard node's container log and component logs to out/nodes/ every INTERVAL seconds (default 10),
# so a failed start (whose half-made cluster kubeyard removes) leaves its last logs behind.
collect_node_logs() {
  local cli=("${run_as[@]}" "$1") interval=${2:-10} c
  while :; do
    for c in $("${cli[@]}" ps -a --filter label=dev.kubeyard.cluster --format '{{.Names}}' 2>/dev/null); do
      mkdir -p "$out/nodes/$c"
      "${cli[@]}" logs "$c" >"$out/nodes/$c/container.log" 2>&1 || true
      "${cli[@]}" inspect "$c" >"$out/nodes/$c/inspect.json" 2>&1 || true
      "${cli[@]}" exec "$c" tar -C /var/log/kubeyard -cf - . 2>/dev/null | tar -xf - -C "$out/nodes/$c" 2>/dev/null || true
      "${cli[@]}" exec "$c" sh -c 'cat /proc/self/cgroup; echo; findmnt -R /sys/fs/cgroup; echo;
        cat /sys/fs/cgroup/cgroup.controllers /sys/fs/cgroup/cgroup.subtree_control 2>&1' >"$out/nodes/$c/cgroups.txt" 2>&1 || true
    done
    sleep "$interval"
  done
}

# Runs the e2e files named in the share's subset.txt with vitest, as `npm test` would, output in out/vitest.log
# (plain text: the host reads its summary). The verbose reporter writes each test as it ends, so a run stopped
# by the VM's bound still says how far it got; the nodes' logs are copied each minute meanwhile (more often
# would slow the emulated guest).
# A leg may set subset_env (VAR=value ...) for the tests alone.
subset_env=()
run_subset() {
  local engine=$1 files collector rc=0
  mapfile -t files <"$share/subset.txt"
  collect_node_logs "$engine" 60 &
  collector=$!
  (cd "$repo" && "${run_as[@]}" env CI=true NO_COLOR=1 "${subset_env[@]}" node node_modules/vitest/vitest.mjs run \
    --project system --reporter=verbose "${files[@]}") >"$out/vitest.log" 2>&1 || rc=$?
  kill "$collector"
  return "$rc"
}

# One `kubeyard start` by hand, timed, with the nodes' logs collected (what a leg is for when it fails).
hand_start() {
  local engine=$1 collector start_rc
  collect_node_logs "$engine" &
  collector=$!
  timed kubeyard-start "${run_as[@]}" node dist/cmd/kubeyard.js start -p leg-probe -v >"$out/start.log" 2>&1
  start_rc=$?
  sleep 11
  kill "$collector"
  tail -5 "$out/start.log"
  timed kubeyard-delete "${run_as[@]}" node dist/cmd/kubeyard.js delete -p leg-probe >"$out/delete.log" 2>&1
  if [ "$start_rc" != 0 ]; then
    echo "kubeyard start failed: $(grep -m1 -o 'FAILED: .*' "$out/start.log" || tail -1 "$out/start.log")"
    return 1
  fi
}

# `npm run bench` (the start suite, N runs), its table in out/bench.log and its figures in out/bench.json. The leg's
# tests environment (subset_env) applies: the bench's docker calls need it too. The figures are written in the
# checkout and copied by root: a rootless leg's user may not write the share.
run_bench() {
  local rc=0
  (cd "$repo" && "${run_as[@]}" env CI=true NO_COLOR=1 "${subset_env[@]}" node scripts/bench.mjs --runs "$1" --out bench.json) >"$out/bench.log" 2>&1 || rc=$?
  cp "$repo/bench.json" "$out/bench.json" || rc=1
  return "$rc"
}

# The start by hand (unless the host said not to), the e2e subset, then the start bench when the host asked for one
# (in the same guest, which spares a second image load). ENGINE is the CLI that lists the nodes for their logs.
# Exits with the leg's status: the subset's, or the bench's when the subset passed.
start_then_subset() {
  local engine=$1 rc bench_runs bench_rc
  cd "$repo" || exit 12
  if [ "$(cat "$share/hand-start")" != 0 ]; then hand_start "$engine" || exit 20; fi
  timed vitest run_subset "$engine"
  rc=$?
  tail -15 "$out/vitest.log"
  bench_runs=$(cat "$share/bench-runs" 2>/dev/null || echo 0)
  if [ "$bench_runs" != 0 ]; then
    timed bench run_bench "$bench_runs"
    bench_rc=$?
    [ "$rc" != 0 ] || rc=$bench_rc
    tail -12 "$out/bench.log"
  fi
  exit "$rc"
}
