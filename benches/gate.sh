#!/usr/bin/env bash
# The gate is a replay plus counting: its wall time against replay's on
# the same 1 GiB export and 15,000 indicators, in ABBA pairs (page cache
# re-read before every run). Prints each pair and the median gate/replay
# ratio of wall times (indicator loading and, for the gate, the bundled
# warninglists included).
#
#   bash benches/gate.sh            # PAIRS=5 THREADS=2
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-benches/data}
SIZE=${SIZE:-1GiB}
PAIRS=${PAIRS:-5}
THREADS=${THREADS:-2}
cargo build --release --locked -q -p iocmatch -p iocmatch-gen
bin=target/release/iocmatch
dir="$DATA/export-$SIZE"
if [ ! -f "$dir/export/events.jsonl" ]; then
    target/release/iocmatch-gen -o "$dir" --size "$SIZE" --layout jsonl --indicators 15000
fi
events="$dir/export/events.jsonl"
wall() {
    cat "$events" > /dev/null
    local s e
    s=$(date +%s.%N)
    "$@" > /dev/null 2>&1 || true
    e=$(date +%s.%N)
    echo "$e - $s" | bc
}
replay() { wall "$bin" replay -q -j "$THREADS" -i "$dir/indicators.csv" "$events"; }
gate() { wall "$bin" gate -j "$THREADS" -i "$dir/indicators.csv" --replay "$events" --json; }
ratios=()
for i in $(seq "$PAIRS"); do
    r1=$(replay); g1=$(gate); g2=$(gate); r2=$(replay)
    r=$(python3 -c "print(round(($g1 + $g2) / ($r1 + $r2), 3))")
    ratios+=("$r")
    printf 'pair %s: replay %.3f %.3f s  gate %.3f %.3f s  gate/replay %s\n' "$i" "$r1" "$r2" "$g1" "$g2" "$r"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print "median gate/replay:", a[int((NR+1)/2)]}'
