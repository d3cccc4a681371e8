#!/usr/bin/env bash
# Runs one leg of the host matrix: boots the trixie VM of image.sh with this checkout, kubeyard's
# artifacts and its images on a 9p share; inside, legs/LEG.sh readies the engine and runs the e2e files
# given (default: cluster-workloads and host-essentials). Prints a summary line; exits with the leg's status.
# Without arguments it runs every leg, one VM after the other.
#   test/hosts/run-leg.sh [LEG [test/e2e/FILE.test.ts ...]]
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

leg=${1:-}
shift || true
legs=$(cd "$hosts_dir/legs" && find . -name '*.sh' ! -name 'guest-lib.sh' -printf '%f\n' | sed 's/\.sh$//' | sort)
if [ -z "$leg" ]; then
  failed=()
  for l in $legs; do "$0" "$l" || failed+=("$l"); done
  [ ${#failed[@]} = 0 ] || die "legs failed: ${failed[*]}"
  exit 0
fi
if [ -z "$leg" ] || [ ! -f "$hosts_dir/legs/$leg.sh" ]; then die "usage: run-leg.sh [LEG [e2e test files]]; legs: ${legs//$'\n'/ }"; fi
subset=("$@")
[ ${#subset[@]} -gt 0 ] || subset=(test/e2e/cluster-workloads.test.ts test/e2e/host-essentials.test.ts)
repo=$(cd "$hosts_dir/../.." && pwd)
for f in "${subset[@]}"; do [ -f "$repo/$f" ] || die "no test file $f in $repo"; done

need qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils docker:docker.io node:nodejs tar:tar flock:util-linux
[ -e /usr/share/seabios/bios-256k.bin ] || [ -e /usr/share/qemu/bios-256k.bin ] || die "QEMU's BIOS is missing (install seabios)"
vm_timeout=${KUBEYARD_HOSTS_TIMEOUT:-5400}
started=$SECONDS

image=$("$hosts_dir/image.sh")
run="$cache_root/runs/$leg"
share="$run/share"
rm -rf "$run"
mkdir -p "$share" "$cache_root/payload"

# KUBEYARD_HOSTS_PREBUILT=1: dist is built already (the suite's own run, which built it before its tests).
if [ "${KUBEYARD_HOSTS_PREBUILT:-0}" != 1 ]; then
  say "building dist"
  (cd "$repo" && npm run --silent build) || die "npm run build failed"
fi
version=$(cd "$repo" && node --input-type=module -e \
  'import("./dist/src/versions/versions.js").then((m) => console.log(m.DEFAULT_KUBERNETES_VERSION.replace(/^v/, "")))')
# The node image of the default version, the images it was built from and the pod images every cluster preloads;
# with host-essentials in the subset, the ingress addon's too (the guest has no registry to pull it from, and
# building it there would take hours).
addon_images=""
case " ${subset[*]} " in *host-essentials*) addon_images=traefik ;; esac
mapfile -t images < <(
  cd "$repo" && ADDON_IMAGES=$addon_images node --input-type=module -e '
    const m = await import("./dist/src/versions/versions.js");
    const refs = m.imageRefs(m.findVersion(m.DEFAULT_KUBERNETES_VERSION));
    const addons = process.env.ADDON_IMAGES.split(" ").filter(Boolean);
    for (const n of [...m.NODE_IMAGES, ...addons]) console.log(refs[n]);'
  echo "kubeyard/node:v$version"
  docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^kubeyard/(base|load-balancer):' | grep -v ':<none>$'
)
# KUBEYARD_HOSTS_IMAGES names a saved tarball to carry instead (an earlier leg's): the host's node image tag is
# shared by every checkout on it, so it may meanwhile hold an image of other inputs than this checkout's.
if [ -n "${KUBEYARD_HOSTS_IMAGES:-}" ]; then
  [ -f "$KUBEYARD_HOSTS_IMAGES" ] || die "KUBEYARD_HOSTS_IMAGES=$KUBEYARD_HOSTS_IMAGES is not a file"
  say "carrying $KUBEYARD_HOSTS_IMAGES rather than the host's images"
  payload=$KUBEYARD_HOSTS_IMAGES
else
  ids=""
  for ref in "${images[@]}"; do
    id=$(docker image inspect -f '{{.Id}}' "$ref" 2>/dev/null) ||
      die "image $ref is not in the host's engine (run \`kubeyard build node-image\` first, and \`kubeyard artifacts fetch --addons\` for host-essentials)"
    ids+="$ref $id"$'\n'
  done
  payload="$cache_root/payload/images-$(printf '%s' "$ids" | sha256sum | cut -c1-16).tar"
fi
if [ ! -e "$payload" ]; then
  say "saving ${#images[@]} images: ${images[*]}"
  find "$cache_root/payload" -name 'images-*.tar' -delete
  # A save changes nothing in the engine: the heavy lock only keeps it from slowing a test run, so a long
  # queue for it is not worth waiting out (and within the suite's own run, whose runner may hold it, not at all).
  save=(nice -n 10 docker save -o "$payload.tmp" "${images[@]}")
  rc=0
  lock_wait=120
  [ "${KUBEYARD_HOSTS_PREBUILT:-0}" != 1 ] || lock_wait=0
  flock -E 200 -w "$lock_wait" /tmp/kubeyard-heavy.lock "${save[@]}" || rc=$?
  if [ "$rc" = 200 ]; then say "the heavy lock is busy; saving without it"; rc=0; "${save[@]}" || rc=$?; fi
  [ "$rc" = 0 ] || die "docker save failed"
  mv "$payload.tmp" "$payload"
fi
ln "$payload" "$share/images.tar"

say "packing the checkout, node_modules and kubeyard's artifacts"
(cd "$repo" && { git ls-files -z; find dist -type f -print0; } | tar --null -T - -cf "$share/repo.tar")
tar -C "$(readlink -f "$repo/node_modules")" -cf "$share/node_modules.tar" .
kubeyard_cache=${KUBEYARD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeyard}
# The binaries the node image is made of (its up-to-date check reads their entries; the tests' kubectl is one):
# the images' own binaries (CoreDNS's, say) are not needed where their images are carried. With addon images,
# the files addons take from the cache too (the ingress addon's Gateway API CRDs), which the guest could only
# build with Go and the internet.
mapfile -t binaries < <(cd "$repo" && WITH_ADDONS=$addon_images node --input-type=module -e '
  const { NODE_BINARIES } = await import("./dist/src/artifacts/node-image.js");
  const { ADDON_DATA } = await import("./dist/src/artifacts/recipes.js");
  for (const b of [...NODE_BINARIES, ...(process.env.WITH_ADDONS ? ADDON_DATA : [])]) console.log("artifacts/" + b);')
for b in "${binaries[@]}"; do
  [ -d "$kubeyard_cache/$b" ] ||
    die "no $b in $kubeyard_cache (run \`kubeyard build node-image\` first, and \`kubeyard artifacts fetch --addons\` for host-essentials)"
done
tar -C "$kubeyard_cache" -cf "$share/artifacts.tar" "${binaries[@]}"
cp "$hosts_dir/legs/guest-lib.sh" "$share/guest-lib.sh"
install -m 0755 "$hosts_dir/legs/$leg.sh" "$share/run.sh"
printf '%s\n' "${subset[@]}" >"$share/subset.txt"
# KUBEYARD_HOSTS_HAND_START=0 leaves out the timed start by hand before the subset (which starts its own clusters).
echo "${KUBEYARD_HOSTS_HAND_START:-1}" >"$share/hand-start"
# KUBEYARD_HOSTS_BENCH=N runs `npm run bench -- --runs N` in the guest after the subset.
echo "${KUBEYARD_HOSTS_BENCH:-0}" >"$share/bench-runs"
prepared=$((SECONDS - started))

outdir="$share/out"
# Boots the image with a fresh overlay disk and waits until the guest powers off (or the time is up).
boot_vm() {
  rm -rf "$outdir" "$run/disk.qcow2"
  qemu-img create -q -f qcow2 -F raw -b "$image/disk.img" "$run/disk.qcow2"
  say "booting the VM (TCG, 2 vCPUs, 4 GiB; console in $run/console.log; at most ${vm_timeout}s)"
  # Emulation keeps both cores busy: nice keeps the host's own work first.
  nice -n 10 timeout -k 30 "$vm_timeout" qemu-system-x86_64 \
    -machine q35 -accel tcg,thread=multi -cpu max -smp 2 -m 4096 \
    -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 systemd.unified_cgroup_hierarchy=1 oops=panic panic=-1" \
    -drive "file=$run/disk.qcow2,if=virtio,format=qcow2,cache=unsafe" \
    -virtfs "local,path=$share,mount_tag=share,security_model=none,id=share" \
    -netdev user,id=net0 -device virtio-net-pci,netdev=net0,romfile= \
    -display none -monitor none -serial "file:$run/console.log" -no-reboot &
  qemu=$!
  # A guest that hangs while booting never writes boot.txt: it gets 10 minutes (it boots in 1-2). The watch
  # ends as soon as the guest is up or gone, so nothing of it outlives the leg (or holds a lock the leg holds).
  (
    for _ in $(seq 600); do
      [ -e "$outdir/boot.txt" ] || ! kill -0 "$qemu" 2>/dev/null && exit 0
      sleep 1
    done
    kill "$qemu"
  ) >/dev/null 2>&1 &
  # shellcheck disable=SC2317 # run by the traps
  stop_vm() { kill "$qemu" 2>/dev/null && wait "$qemu" 2>/dev/null; return 0; }
  trap stop_vm EXIT
  trap 'stop_vm; exit 130' INT TERM
  wait "$qemu" || say "QEMU exited with $?"
  trap - EXIT INT TERM
}
vm_start=$SECONDS
boot_vm
# Under emulation the guest kernel sometimes dies while booting (an oops patching its own code, which oops=panic
# turns into QEMU's exit); a guest that never reached the leg's script is booted once more.
if [ ! -e "$outdir/boot.txt" ]; then
  cp "$run/console.log" "$run/console-first-boot.log" 2>/dev/null
  say "the guest did not reach the leg's script (console: $run/console-first-boot.log); booting it again"
  boot_vm
fi
vm_secs=$((SECONDS - vm_start))
rm -f "$run/disk.qcow2" "$share/images.tar" "$share"/*.tar

if [ ! -e "$outdir/rc" ]; then
  echo "hosts: leg $leg FAILED: the guest wrote no exit code (VM ran ${vm_secs}s); last console lines:"
  tail -20 "$run/console.log" 2>/dev/null
  exit 1
fi
rc=$(cat "$outdir/rc")
summary=$(grep -E '^ +Tests ' "$outdir/vitest.log" 2>/dev/null | tail -1 | sed 's/^ *//') || true
[ ! -e "$outdir/bench.log" ] || summary="${summary:+$summary; }start bench: $(grep -E '^\| total ' "$outdir/bench.log" | tr -s ' ')"
# Each test of the subset with its time, as the guest's vitest printed it: what a slow or failed leg is read from.
grep -E '^ +(✓|×|↓) ' "$outdir/vitest.log" 2>/dev/null | sed 's/^ */hosts:   /' || true
echo "hosts: leg $leg $([ "$rc" = 0 ] && echo passed || echo "FAILED (exit $rc)"): ${summary:-$(tail -1 "$outdir/run.log" 2>/dev/null | cut -c1-300)};" \
  "prepare ${prepared}s, VM ${vm_secs}s; $(tr '\n' ';' <"$outdir/timings.txt" 2>/dev/null) output in $outdir"
exit "$rc"
