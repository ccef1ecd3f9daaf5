#!/usr/bin/env bash
# Throughput benchmark of hermes-forensics against cat, rg and grep on synthetic Hermes logs.
#
#   bench/run.sh [SCRATCH_DIR]      (default: $TMPDIR/hermes-forensics-bench)
#
# Generates 100 MiB and 1 GiB inputs in agent.log, journal short-iso and journal json formats
# once (kept in SCRATCH_DIR across runs), then measures each tool several times with hyperfine
# (analysis from a file path and from stdin, `cat FILE > /dev/null`, `rg -c -F 'API call'`,
# `grep -c -F 'API call'`) and /usr/bin/time for peak RSS, and prints a Markdown table with
# throughput, peak RSS and the ratios. RUNS (default 3) sets the number of timed runs;
# SIZES (default "100MiB 1GiB") and FORMATS the inputs.
set -euo pipefail

cd "$(dirname "$0")/.."
scratch=${1:-${TMPDIR:-/tmp}/hermes-forensics-bench}
runs=${RUNS:-3}
sizes=${SIZES:-"100MiB 1GiB"}
formats=${FORMATS:-"agent-log journal-short-iso journal-json"}

# shellcheck source=bench/lib.sh
. bench/lib.sh
require_tools hyperfine rg grep cat jq bc
build_release

machine
echo
echo "| format | size | analyze file | analyze stdin | stdin/file | peak RSS file | peak RSS stdin | cat | rg -c | grep -c | analyze/rg | analyze/cat | analyze/grep |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
verdicts=()
declare -A t_of rss_of
for size in $sizes; do
    for format in $formats; do
        f="$scratch/$format-$size.log"
        [ -s "$f" ] && [ -s "$f.auth.json" ] || "$gen" --size "$size" --format "$format" --seed 7 --out "$f" --truth "$f.truth" --auth "$f.auth.json"
        bytes=$(stat -c %s "$f")
        mb=$(echo "$bytes / 1000000" | bc -l)
        # With the gateway's auth.json, as an operator runs it (the stale-exhaustion shape needs it).
        analyze="$bin --format json --fail-on never --auth $f.auth.json $f > /dev/null"
        analyze_stdin="cat $f | $bin --format json --fail-on never --auth $f.auth.json > /dev/null"
        t_cat=$(mean "cat $f > /dev/null")
        t_file=$(WARMUP=0 mean "$analyze")
        t_stdin=$(WARMUP=0 mean "$analyze_stdin")
        # Counts go to a file: GNU grep stops at the first match when its output is /dev/null.
        t_rg=$(mean "rg -c -F 'API call' $f > $scratch/count")
        t_grep=$(mean "grep -c -F 'API call' $f > $scratch/count")
        peak=$(rss "$analyze")
        peak_stdin=$(rss "$analyze_stdin")
        tp() { printf '%.0f MB/s' "$(echo "$mb / $1" | bc -l)"; }
        ratio() { printf '%.2f×' "$(echo "$1 / $2" | bc -l)"; }
        echo "| $format | $size | $(tp "$t_file") | $(tp "$t_stdin") | $(ratio "$t_stdin" "$t_file") | $peak MiB | $peak_stdin MiB | $(tp "$t_cat") | $(tp "$t_rg") | $(tp "$t_grep") | $(ratio "$t_file" "$t_rg") | $(ratio "$t_file" "$t_cat") | $(ratio "$t_file" "$t_grep") |"
        t_of[$format-$size]=$t_file
        rss_of[$format-$size]=$peak
        rss_of[$format-$size-stdin]=$peak_stdin
        ok() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo met; else echo "NOT met"; fi; }
        case $format in
            agent-log) verdicts+=("$format $size: analyze/rg $(ratio "$t_file" "$t_rg") (target ≤ 2×): $(ok "$t_file <= 2 * $t_rg")") ;;
            journal-json) verdicts+=("$format $size: analyze/rg $(ratio "$t_file" "$t_rg") (target ≤ 4×): $(ok "$t_file <= 4 * $t_rg")") ;;
        esac
        verdicts+=("$format $size: stdin/file $(ratio "$t_stdin" "$t_file") (target ≤ 1.5×): $(ok "$t_stdin <= 1.5 * $t_file")")
        verdicts+=("$format $size: peak RSS $peak / $peak_stdin MiB file / stdin (target ≤ 64 MiB): $(ok "$peak <= 64 && $peak_stdin <= 64")")
    done
done
set -- $sizes
if [ $# -ge 2 ]; then
    small=$1 big=${!#}
    for format in $formats; do
        a=${t_of[$format-$small]} b=${t_of[$format-$big]}
        verdicts+=("$format: $big / $small time $(printf '%.2f×' "$(echo "$b / $a" | bc -l)") (target ≤ 11×): $(if [ "$(echo "$b <= 11 * $a" | bc -l)" = 1 ]; then echo met; else echo "NOT met"; fi)")
        for kind in "" "-stdin"; do
            ra=${rss_of[$format-$small$kind]} rb=${rss_of[$format-$big$kind]}
            verdicts+=("$format${kind:+ (stdin)}: peak RSS $rb MiB at $big vs $ra MiB at $small (target within 10%): $(if [ "$(echo "$rb <= 1.1 * $ra && $ra <= 1.1 * $rb" | bc -l)" = 1 ]; then echo met; else echo "NOT met"; fi)")
        done
    done
fi
echo
echo "Targets:"
for v in "${verdicts[@]}"; do echo "- $v"; done
