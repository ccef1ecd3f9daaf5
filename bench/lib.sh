# Shared by the benchmark scripts (sourced): tool check, release build, timing and peak RSS.
# The sourcing script sets `scratch` (a directory) and `runs` (timed runs per command) first.

# Exit 2 naming the missing tools, when any of "$@" (and /usr/bin/time) is absent.
require_tools() {
    local missing=()
    for tool in "$@"; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    [ -x /usr/bin/time ] || missing+=("/usr/bin/time")
    if [ ${#missing[@]} -gt 0 ]; then
        echo "missing: ${missing[*]} (Debian: apt-get install hyperfine ripgrep jq bc time)" >&2
        exit 2
    fi
}

# Build the analyzer and the generator; sets `bin` and `gen`. Generated inputs go to a folder
# of `scratch` named after the generator's source, so a changed generator never leaves older
# inputs in use (delete the older folders to free their space).
build_release() {
    cargo build --release --quiet --bin hermes-forensics --example gen --example gate_words
    bin=$PWD/target/release/hermes-forensics
    gen=$PWD/target/release/examples/gen
    scratch=$scratch/gen-$(cat examples/gen/*.rs | sha256sum | cut -c1-12)
    mkdir -p "$scratch"
    # The classifier's gate literals: the reference scan is `rg -c -F -f` over them.
    gate_words=$scratch/gate-words.txt
    "$PWD/target/release/examples/gate_words" > "$gate_words"
}

# Mean seconds of a command (hyperfine; the input is in the page cache, generated or read
# just before). WARMUP runs first (default 1). `cpu` then gives the cores it kept busy
# ((user + system) / wall) in that run.
mean() {
    hyperfine --style none --warmup "${WARMUP:-1}" --runs "$runs" --export-json "$scratch/h.json" \
        --shell bash "$1" >/dev/null 2>&1
    jq '.results[0].mean' "$scratch/h.json"
}
cpu() {
    jq '(.results[0].user + .results[0].system) / .results[0].mean' "$scratch/h.json"
}

# Median seconds of two commands timed in alternation: one untimed run of each, then ROUNDS
# (default 5) runs of each, a, b, a, b, ... On a shared machine a slow spell then falls on
# both commands instead of on whichever ran during it. Sets `med_a` and `med_b`.
alternate() {
    local i s a=() b=()
    eval "$1" >/dev/null 2>&1
    eval "$2" >/dev/null 2>&1
    for ((i = 0; i < ${ROUNDS:-5}; i++)); do
        s=$EPOCHREALTIME
        eval "$1" >/dev/null 2>&1
        a+=("$(echo "$EPOCHREALTIME - $s" | bc -l)")
        s=$EPOCHREALTIME
        eval "$2" >/dev/null 2>&1
        b+=("$(echo "$EPOCHREALTIME - $s" | bc -l)")
    done
    med_a=$(median "${a[@]}")
    med_b=$(median "${b[@]}")
}
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Peak RSS in MiB of a command: the median of RSS_RUNS runs (default 3; one run's peak varies
# by a few MiB with the threads' timing).
rss() {
    local peaks=()
    for _ in $(seq "${RSS_RUNS:-3}"); do
        /usr/bin/time -f '%M' -o "$scratch/rss" bash -c "$1" >/dev/null 2>&1 || true
        peaks+=("$(cat "$scratch/rss")")
    done
    median "${peaks[@]}" | awk '{printf "%.1f", $1 / 1024}'
}

# The machine line every benchmark prints first.
machine() {
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr)"
}
