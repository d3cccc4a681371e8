#!/usr/bin/env bash
# Runs shellcheck over every shell script of the repository: the *.sh files and any file whose first
# line names a shell (the node image's boot scripts have no extension), so a new script is covered
# without being listed anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v shellcheck >/dev/null 2>&1 || { echo "lint:shell: shellcheck is missing; scripts/setup.sh installs it" >&2; exit 1; }

scripts=()
while IFS= read -r -d '' f; do
  if [[ $f == *.sh ]] || head -n 1 "$f" | grep -Eq '^#!.*[/ ](ba|da)?sh([[:space:]]|$)'; then
    scripts+=("$f")
  fi
done < <(find . \( -name .git -o -name node_modules -o -name dist -o -name .bench \) -prune -o -type f -print0 | sort -z)

[ ${#scripts[@]} -gt 0 ] || { echo "lint:shell: no shell scripts found" >&2; exit 1; }
shellcheck "${scripts[@]}"
echo "lint:shell: ${#scripts[@]} scripts clean"
