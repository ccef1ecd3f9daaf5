#!/usr/bin/env bash
# Peak RSS of the streamed analysis over each traffic mix of the generator, at sizes of about
# 100k and 1M requests: `bench/memory.sh [SCRATCH_DIR]`. Needs `jq` and `time` (Debian).
#
# MIXES (default: "default fail-recover sessions quiet") and SIZES (default: "350MiB 3500MiB";
# 350 MiB of default traffic holds about 100k requests) change what it runs; LIMIT_MIB (64) is
# the target; EVERY sets the generator's --incident-every (default 500; 0: clean traffic only,
# to see the growth per request apart from the incidents kept); BIN analyzes with another
# build; RSS_RUNS (default 3) runs each, the median peak printed. Generated inputs stay in the scratch directory (about 15 GB at the default sizes) and
# are reused by the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${1:-${TMPDIR:-/tmp}/hermes-forensics-memory}
runs=1
# shellcheck source=bench/lib.sh
source bench/lib.sh
require_tools jq
build_release
bin=${BIN:-$bin}
mixes=${MIXES:-"default fail-recover sessions quiet"}
sizes=${SIZES:-"350MiB 3500MiB"}
limit=${LIMIT_MIB:-64}
every=${EVERY:-500}

machine
echo "incidents: one per $every turns (0: none)"
echo
echo "| mix | size | requests | peak RSS | ≤ $limit MiB |"
echo "|---|---|---|---|---|"
for size in $sizes; do
    for mix in $mixes; do
        log=$scratch/$mix-$size-$every.log
        auth=$scratch/$mix-$size-$every.auth.json
        if [ ! -s "$log" ] || [ ! -s "$auth" ]; then
            "$gen" --size "$size" --mix "$mix" --seed 7 --incident-every "$every" \
                --out "$log" --auth "$auth" 2>/dev/null
        fi
        report=$scratch/report.json
        peak=$(rss "'$bin' --format json --fail-on never --auth '$auth' '$log' > '$report'")
        requests=$(jq '.summary.requests' "$report" 2>/dev/null || echo '?')
        verdict=$(awk -v p="$peak" -v l="$limit" 'BEGIN { print (p != "" && p + 0 <= l) ? "met" : "NOT met" }')
        echo "| $mix | $size | $requests | $peak MiB | $verdict |"
    done
done
