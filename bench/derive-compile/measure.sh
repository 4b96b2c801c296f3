#!/usr/bin/env bash
# What gc-derive adds to a clean build of a small crate: builds this crate
# from clean with hand-written impls and with derived ones, alternately,
# RUNS times each (default 5), and prints every time and the medians.
#
#   bench/derive-compile/measure.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")"
runs=${1:-5}
target=$(mktemp -d)
trap 'rm -rf "$target"' EXIT
cargo fetch --quiet

build() { # prints the wall-clock seconds of one clean debug build
    rm -rf "$target"/*
    local start end
    start=$(date +%s.%N)
    CARGO_TARGET_DIR="$target" cargo build --quiet --offline "$@"
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

hand=() derived=()
for i in $(seq "$runs"); do
    h=$(build); d=$(build --features derive)
    hand+=("$h"); derived+=("$d")
    printf 'run %d: hand %.2f s, derive %.2f s\n' "$i" "$h" "$d"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mh=$(median "${hand[@]}"); md=$(median "${derived[@]}")
printf 'median of %d clean builds: hand %.2f s, derive %.2f s, derive adds %.2f s (%.0f%%)\n' \
    "$runs" "$mh" "$md" "$(echo "$md - $mh" | bc)" "$(echo "($md - $mh) * 100 / $mh" | bc -l)"
