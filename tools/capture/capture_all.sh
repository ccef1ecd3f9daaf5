#!/usr/bin/env bash
# Capture every scenario for the given Hermes versions into fixtures/captured/hermes-<version>/.
#
#   sudo tools/capture/capture_all.sh 0.19.0 0.16.0 0.14.0          # all scenarios
#   sudo SCENARIOS="healthy-rotation billing-402" tools/capture/capture_all.sh 0.14.0
#
# Needs root (unshare -n), python3.11, and a venv per version under $HERMES_CAPTURE_VENVS
# (default /work/.capture-venvs/hermes-<version>); missing venvs are created with pip.
# Versions run one after another; each scenario runs in its own network namespace.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venvs="${HERMES_CAPTURE_VENVS:-/work/.capture-venvs}"
py="${PYTHON:-python3.11}"
[ "$#" -ge 1 ] || { echo "usage: $0 VERSION..." >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "needs root (unshare -n)" >&2; exit 2; }

for version in "$@"; do
  venv="$venvs/hermes-$version"
  if [ ! -x "$venv/bin/hermes" ]; then
    mkdir -p "$venvs"
    "$py" -m venv "$venv"
    "$venv/bin/pip" install -q "hermes-agent==$version"
  fi
  if [ -n "${SCENARIOS:-}" ]; then
    names="$SCENARIOS"
  else
    names="$(cd "$here/scenarios" && ls *.json | sed 's/\.json$//')"
  fi
  for name in $names; do
    "$py" "$here/run_scenario.py" --version "$version" --venvs "$venvs" \
      --scenario "$here/scenarios/$name.json" \
      --out "$repo/fixtures/captured/hermes-$version/$name" \
      || echo "FAILED: $version $name (rc=$?)" >&2
  done
done
