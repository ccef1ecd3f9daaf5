#!/usr/bin/env bash
# Journald captures (plain and -v) of every scenario (or $SCENARIOS) for the given Hermes versions into
# fixtures/captured/hermes-<version>/<scenario>/journal/{plain,verbose}/, rendered by journalctl.
#
#   sudo tools/capture/capture_journald.sh 0.19.0
#   sudo SCENARIOS="healthy-rotation billing-402" tools/capture/capture_journald.sh 0.16.0
#
# Needs what capture_all.sh needs, plus systemd-journal-remote (apt-get install systemd-journal-remote)
# and journalctl. The retry-after-* scenarios are skipped unless named in $SCENARIOS (they wait minutes).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venvs="${HERMES_CAPTURE_VENVS:-/work/.capture-venvs}"
py="${PYTHON:-python3.11}"
[ "$#" -ge 1 ] || { echo "usage: $0 VERSION..." >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "needs root (unshare -n, unshare -p)" >&2; exit 2; }

for version in "$@"; do
  if [ -n "${SCENARIOS:-}" ]; then
    names="$SCENARIOS"
  else
    names="$(cd "$here/scenarios" && ls *.json | sed 's/\.json$//' | grep -v '^retry-after-')"
  fi
  for name in $names; do
    "$py" "$here/run_journald.py" capture --version "$version" --venvs "$venvs" \
      --scenario "$here/scenarios/$name.json" \
      --out "$repo/fixtures/captured/hermes-$version/$name/journal" \
      || echo "FAILED: $version $name (rc=$?)" >&2
  done
done
