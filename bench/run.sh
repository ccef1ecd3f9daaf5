#!/usr/bin/env bash
# Throughput benchmark of hermes-forensics against one keyword scan of the same input.
#
#   bench/run.sh [SCRATCH_DIR]      (default: $TMPDIR/hermes-forensics-bench)
#
# Generates 100 MiB and 1 GiB inputs in agent.log, journal short-iso and journal json formats
# once (kept in SCRATCH_DIR across runs), then times the analysis from a file path and from
# stdin, on every core and with `--threads 1`, next to the reference scan `rg -c -F -f
# GATE_WORDS` (one multi-literal scan for the classifier's gate words, examples/gate_words) and
# `cat FILE > /dev/null`; /usr/bin/time gives peak RSS (the median of RSS_RUNS runs, default
# 3). The two pairs the targets compare (file run and scan, file run and stdin run) are timed
# in alternation, ROUNDS (default 5) runs each, and compared by their medians; the rest with
# hyperfine, RUNS (default 3) runs each (mean), which also gives the cores kept busy. Prints a Markdown table with throughput,
# cores, peak RSS and the ratios, then a verdict per target. SIZES (default "100MiB 1GiB"),
# FORMATS and MIXES (generator traffic mixes, default "default quiet": the quiet one has few
# request lines) choose the inputs.
set -euo pipefail

cd "$(dirname "$0")/.."
scratch=${1:-${TMPDIR:-/tmp}/hermes-forensics-bench}
runs=${RUNS:-3}
sizes=${SIZES:-"100MiB 1GiB"}
formats=${FORMATS:-"agent-log journal-short-iso journal-json"}
mixes=${MIXES:-"default quiet"}

# shellcheck source=bench/lib.sh
. bench/lib.sh
require_tools hyperfine rg cat jq bc
build_release

machine
echo
echo "| format | mix | size | analyze file | analyze stdin | stdin/file | cores used | 1 thread | peak RSS file | peak RSS stdin | gate scan | cat | analyze/scan | analyze/cat |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
verdicts=()
declare -A t_of rss_of
for size in $sizes; do
    for mix in $mixes; do
        for format in $formats; do
            # The quiet mix is measured on agent.log and journal json only.
            [ "$mix" != default ] && [ "$format" = journal-short-iso ] && continue
            f="$scratch/$format-$mix-$size.log"
            mix_flag=()
            [ "$mix" != default ] && mix_flag=(--mix "$mix")
            [ -s "$f" ] && [ -s "$f.auth.json" ] || "$gen" --size "$size" --format "$format" "${mix_flag[@]}" --seed 7 --out "$f" --truth "$f.truth" --auth "$f.auth.json"
            bytes=$(stat -c %s "$f")
            mb=$(echo "$bytes / 1000000" | bc -l)
            # With the gateway's auth.json, as an operator runs it (the stale-exhaustion shape needs it).
            analyze="$bin --format json --fail-on never --auth $f.auth.json $f > /dev/null"
            analyze_one="$bin --threads 1 --format json --fail-on never --auth $f.auth.json $f > /dev/null"
            analyze_stdin="cat $f | $bin --format json --fail-on never --auth $f.auth.json > /dev/null"
            t_cat=$(mean "cat $f > /dev/null")
            WARMUP=0 mean "$analyze" >/dev/null
            cores=$(cpu)
            t_one=$(WARMUP=0 mean "$analyze_one")
            # The ratios come from alternated runs (see `alternate`). Counts go to a file: a
            # tool may stop early when its output is /dev/null.
            alternate "$analyze" "rg -c -F -f $gate_words $f > $scratch/count"
            t_file=$med_a t_scan=$med_b
            alternate "$analyze" "$analyze_stdin"
            t_file2=$med_a t_stdin=$med_b
            peak=$(rss "$analyze")
            peak_stdin=$(rss "$analyze_stdin")
            tp() { printf '%.0f MB/s' "$(echo "$mb / $1" | bc -l)"; }
            ratio() { printf '%.2f×' "$(echo "$1 / $2" | bc -l)"; }
            echo "| $format | $mix | $size | $(tp "$t_file") | $(tp "$t_stdin") | $(ratio "$t_stdin" "$t_file2") | $(printf '%.2f' "$cores") | $(tp "$t_one") | $peak MiB | $peak_stdin MiB | $(tp "$t_scan") | $(tp "$t_cat") | $(ratio "$t_file" "$t_scan") | $(ratio "$t_file" "$t_cat") |"
            t_of[$format-$mix-$size]=$t_file
            rss_of[$format-$mix-$size]=$peak
            rss_of[$format-$mix-$size-stdin]=$peak_stdin
            ok() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo met; else echo "NOT met"; fi; }
            name="$format $mix $size"
            case $format in
                agent-log | journal-json) verdicts+=("$name: analyze/gate scan $(ratio "$t_file" "$t_scan") (target ≤ 2×): $(ok "$t_file <= 2 * $t_scan")") ;;
            esac
            verdicts+=("$name: stdin/file $(ratio "$t_stdin" "$t_file2") (target ≤ 1.1×): $(ok "$t_stdin <= 1.1 * $t_file2")")
            verdicts+=("$name: cores used $(printf '%.2f' "$cores") (target: both, > 1.5): $(ok "$cores > 1.5")")
            verdicts+=("$name: peak RSS $peak / $peak_stdin MiB file / stdin (target ≤ 64 MiB): $(ok "$peak <= 64 && $peak_stdin <= 64")")
        done
    done
done
set -- $sizes
if [ $# -ge 2 ]; then
    small=$1 big=${!#}
    for format in $formats; do
        a=${t_of[$format-default-$small]} b=${t_of[$format-default-$big]}
        verdicts+=("$format: $big / $small time $(printf '%.2f×' "$(echo "$b / $a" | bc -l)") (target ≤ 11×): $(if [ "$(echo "$b <= 11 * $a" | bc -l)" = 1 ]; then echo met; else echo "NOT met"; fi)")
        # Memory is the windows plus the incidents kept (about 17 KiB each, see the README's
        # Memory section): the larger input holds more of them (one per line of its truth file).
        ia=$(wc -l < "$scratch/$format-default-$small.log.truth")
        ib=$(wc -l < "$scratch/$format-default-$big.log.truth")
        kept=$(echo "($ib - $ia) * 17 / 1024" | bc -l)
        for kind in "" "-stdin"; do
            ra=${rss_of[$format-default-$small$kind]} rb=${rss_of[$format-default-$big$kind]}
            verdicts+=("$format${kind:+ (stdin)}: peak RSS $rb MiB at $big vs $ra MiB at $small, with $((ib - ia)) more incidents kept ($(printf '%.1f' "$kept") MiB at 17 KiB each) (target within 10% beside them): $(if [ "$(echo "$rb <= 1.1 * $ra + $kept && $ra <= 1.1 * $rb" | bc -l)" = 1 ]; then echo met; else echo "NOT met"; fi)")
        done
    done
fi
echo
echo "Targets:"
for v in "${verdicts[@]}"; do echo "- $v"; done
