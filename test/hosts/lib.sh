# shellcheck shell=bash
# Shared by image.sh and run-leg.sh: where the VM image lives, and failing with a reason.

hosts_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${KUBEYARD_HOSTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeyard-hosts}

say() { printf 'hosts: %s\n' "$*" >&2; }
die() { printf 'hosts: FAILED: %s\n' "$*" >&2; exit 1; }

# Every command given must exist; a missing one fails with the package that brings it.
need() {
  local cmd pkg
  for pair in "$@"; do
    cmd=${pair%%:*}; pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || die "$cmd is missing (install the Debian package $pkg; scripts/setup.sh --hosts does)"
  done
}

# The image's recipe is image.sh plus the files it copies into the guest; any change to them makes a new image.
recipe_hash() {
  (cd "$hosts_dir" && cat image.sh guest/*) | sha256sum | cut -c1-16
}

image_dir() { printf '%s/trixie-%s\n' "$cache_root" "$(recipe_hash)"; }
