#!/usr/bin/env bash
# Runs the standard workload for docs/performance.md and writes
# bench/results/workload.csv: cycle times (medians inside each run) and peak
# memory (max RSS of the process) at N = 10k, 100k and 1M, the framework
# against the hand-written baseline, and String against Digest blob IDs.
# Runs that are compared alternate, so that they share the machine's state.
#
#   bench/workload.sh            (about 5 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release --example workload
bin=target/release/examples/workload
out=bench/results/workload.csv
echo "n,ids,mode,cycles,min_ms,median_ms,max_ms,max_rss_kb" > "$out"

measure() { # n cycles [flags...]
    local n=$1 cycles=$2; shift 2
    local log line rss ids=string mode=framework
    log=$(mktemp)
    line=$(/usr/bin/time -v "$bin" "$n" "$cycles" "$@" 2> "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    rm -f "$log"
    [[ " $* " == *" --digest "* ]] && ids=digest
    [[ " $* " == *" --baseline "* ]] && mode=baseline
    echo "$line rss_kb=$rss" >&2
    echo "$line" | sed -E "s/.*min=([0-9.]+) median=([0-9.]+) max=([0-9.]+).*/$n,$ids,$mode,$cycles,\1,\2,\3,$rss/" >> "$out"
}

for round in 1 2 3; do
    for n in 10000 100000; do
        cycles=$(( n == 10000 ? 9 : 5 ))
        measure "$n" "$cycles"
        measure "$n" "$cycles" --baseline
        measure "$n" "$cycles" --digest
        measure "$n" "$cycles" --digest --baseline
    done
done
measure 1000000 3
measure 1000000 3 --baseline
measure 1000000 3 --digest
measure 1000000 3 --digest --baseline
echo "wrote $out" >&2
