#!/usr/bin/env bash
# Fleet-scale benchmark: N gateways merged into one journal, as `systemd-journal-remote` and
# `journalctl -D /var/log/journal/remote -o json` give it.
#
#   bench/fleet.sh [SCRATCH_DIR]      (default: $TMPDIR/hermes-forensics-fleet)
#
# Generates one `journal-json` stream per host (HOSTS, default 8; SIZE each, default 64MiB;
# a seed per host, the same PID on every host as containerized gateways have), renames each
# stream's `_HOSTNAME` to `gw-<n>`, and merges them by `__REALTIME_TIMESTAMP` (`sort -m`) into
# one journal. Then measures, with hyperfine (RUNS, default 3) and /usr/bin/time:
#   - one host's stream alone (time, peak RSS),
#   - the merged journal of all hosts (time, peak RSS) at the default thread count and with
#     `--threads 1`,
#   - `cat` and `rg -c -F 'API call'` over the merged journal,
# and prints a Markdown table with the ratio of the merged run to N × one host's run, and the
# peak RSS of the merged run against one host's (memory is bounded by open requests, not by
# hosts or hours: the merged run must stay within a few MiB of HOSTS × one host's open state).
set -euo pipefail

cd "$(dirname "$0")/.."
scratch=${1:-${TMPDIR:-/tmp}/hermes-forensics-fleet}
runs=${RUNS:-3}
hosts=${HOSTS:-8}
size=${SIZE:-64MiB}

# shellcheck source=bench/lib.sh
. bench/lib.sh
require_tools hyperfine rg jq bc sort sed
build_release

merged="$scratch/fleet-$hosts-x-$size.json"
if [ ! -s "$merged" ]; then
    parts=()
    for n in $(seq 1 "$hosts"); do
        part="$scratch/gw-$n-$size.json"
        if [ ! -s "$part" ]; then
            "$gen" --size "$size" --format journal-json --seed "$((100 + n))" --out "$part.tmp" 2>/dev/null
            sed "s/\"_HOSTNAME\":\"gw-1\"/\"_HOSTNAME\":\"gw-$n\"/" "$part.tmp" >"$part"
            rm -f "$part.tmp"
        fi
        parts+=("$part")
    done
    # Merged by `__REALTIME_TIMESTAMP`, wherever it is in the entry: each part's lines get it
    # as a first tab-separated column (a JSON line holds no raw tab) for `sort -m`.
    stamped=()
    for part in "${parts[@]}"; do
        sed -E 's/^(.*"__REALTIME_TIMESTAMP":"([0-9]+)".*)$/\2\t\1/' "$part" >"$part.stamped"
        stamped+=("$part.stamped")
    done
    LC_ALL=C sort -m -s -t $'\t' -k1,1n "${stamped[@]}" | cut -f2- >"$merged"
    rm -f "${stamped[@]}"
fi
one="$scratch/gw-1-$size.json"

secs() { printf '%.2f s' "$1"; }
ratio() { printf '%.2f×' "$(echo "$1 / $2" | bc -l)"; }

run_one="$bin --format json --fail-on never $one > /dev/null"
run_all="$bin --format json --fail-on never $merged > /dev/null"
run_all_1="$bin --threads 1 --format json --fail-on never $merged > /dev/null"
t_one=$(WARMUP=0 mean "$run_one")
t_all=$(WARMUP=0 mean "$run_all")
t_all_1=$(WARMUP=0 mean "$run_all_1")
t_cat=$(mean "cat $merged > /dev/null")
t_rg=$(mean "rg -c -F 'API call' $merged > $scratch/count")
rss_one=$(rss "$run_one")
rss_all=$(rss "$run_all")
mib=$(echo "$(stat -c %s "$merged") / 1048576" | bc)
hosts_seen=$("$bin" --format json --fail-on never "$merged" | jq '[.findings[].host] | unique | length')

machine
echo "input: $hosts hosts × $size journal json, merged: $mib MiB ($hosts_seen hosts with findings)"
echo
echo "| run | time | peak RSS | vs N × one host | vs cat | vs rg -c |"
echo "|---|---|---|---|---|---|"
echo "| one host ($size) | $(secs "$t_one") | $rss_one MiB | — | — | — |"
echo "| $hosts hosts merged | $(secs "$t_all") | $rss_all MiB | $(ratio "$t_all" "$(echo "$hosts * $t_one" | bc -l)") | $(ratio "$t_all" "$t_cat") | $(ratio "$t_all" "$t_rg") |"
echo "| $hosts hosts merged, --threads 1 | $(secs "$t_all_1") | — | $(ratio "$t_all_1" "$(echo "$hosts * $t_one" | bc -l)") | $(ratio "$t_all_1" "$t_cat") | $(ratio "$t_all_1" "$t_rg") |"
echo "| cat | $(secs "$t_cat") | — | — | — | — |"
echo "| rg -c -F 'API call' | $(secs "$t_rg") | — | — | — | — |"
