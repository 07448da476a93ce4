#!/usr/bin/env bash
# Side-by-side replay throughput of two iocmatch binaries on the same
# export, in ABBA order (each pair: A, B, B, A) with the page cache
# re-read before every run, so that the VM's slow and fast windows fall
# on both alike. Prints each run and the median of per-pair B/A ratios.
#
#   bash benches/ab.sh OLD_BIN NEW_BIN            # 15k indicators, 2 threads
#   PAIRS=9 THREADS=1 bash benches/ab.sh A B
#
# Uses the data benches/throughput.sh generates (benches/data).
set -euo pipefail
cd "$(dirname "$0")/.."
a=$1; b=$2
DATA=${DATA:-benches/data}
SIZE=${SIZE:-1GiB}
PAIRS=${PAIRS:-5}
THREADS=${THREADS:-2}
dir="$DATA/export-$SIZE"
if [ ! -f "$dir/export/events.jsonl" ]; then
    cargo build --release --locked -q -p iocmatch-gen
    target/release/iocmatch-gen -o "$dir" --size "$SIZE" --layout jsonl --indicators 15000
fi
events="$dir/export/events.jsonl"
run() {
    cat "$events" > /dev/null
    "$1" replay -q -j "$THREADS" -i "$dir/indicators.csv" "$events" --report /tmp/iocmatch-ab.json || true
    python3 -c 'import json; print(round(json.load(open("/tmp/iocmatch-ab.json"))["totals"]["mb_per_s"]))'
}
ratios=()
for i in $(seq "$PAIRS"); do
    a1=$(run "$a"); b1=$(run "$b"); b2=$(run "$b"); a2=$(run "$a")
    r=$(python3 -c "print(round(($b1 + $b2) / ($a1 + $a2), 3))")
    ratios+=("$r")
    echo "pair $i: A $a1 $a2  B $b1 $b2  B/A $r"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print "median B/A:", a[int((NR+1)/2)]}'
