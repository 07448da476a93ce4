#!/usr/bin/env bash
# gzip replay side by side with uncompressed replay of the same records:
# the 1 GiB export of benches/throughput.sh, as one mapped file, as one
# .gz of its first quarter, and as four .gz quarters (gzip -6). Runs are
# interleaved, page cache re-read before each; medians of RUNS.
#
#   bash benches/gzip.sh                    # this build
#   bash benches/gzip.sh /tmp/old/iocmatch  # and an older binary, alike
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-benches/data}
RUNS=${RUNS:-5}
THREADS=${THREADS:-2}
cargo build --release --locked -q -p iocmatch -p iocmatch-gen
bins=(target/release/iocmatch "$@")
dir="$DATA/export-1GiB"
if [ ! -f "$dir/export/events.jsonl" ]; then
    target/release/iocmatch-gen -o "$dir" --size 1GiB --layout jsonl --indicators 15000
fi
gz="$DATA/gz4"
if [ ! -f "$gz/part-03.jsonl.gz" ]; then
    mkdir -p "$gz" "$DATA/gz1"
    split -n l/4 -d "$dir/export/events.jsonl" "$gz/part-"
    for f in "$gz"/part-0?; do gzip -6 -c "$f" > "$f.jsonl.gz" & done; wait
    rm "$gz"/part-0?
    cp "$gz/part-00.jsonl.gz" "$DATA/gz1/"
fi
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A results
for _ in $(seq "$RUNS"); do
    for bin in "${bins[@]}"; do
        for input in plain gz1 gz4; do
            case $input in
                plain) path="$dir/export/events.jsonl" ;;
                *) path="$DATA/$input" ;;
            esac
            find "$path" -type f -exec cat {} + > /dev/null
            "$bin" replay -q -j "$THREADS" -i "$dir/indicators.csv" "$path" --report /tmp/iocmatch-gz.json || true
            mb=$(python3 -c 'import json; print(round(json.load(open("/tmp/iocmatch-gz.json"))["totals"]["mb_per_s"]))')
            results["$bin $input"]+="$mb "
        done
    done
done
printf '%-32s %10s %10s %10s %12s\n' binary plain "1 gz" "4 gz" "4 gz/plain"
for bin in "${bins[@]}"; do
    p=$(tr ' ' '\n' <<< "${results["$bin plain"]}" | grep . | median)
    g1=$(tr ' ' '\n' <<< "${results["$bin gz1"]}" | grep . | median)
    g4=$(tr ' ' '\n' <<< "${results["$bin gz4"]}" | grep . | median)
    printf '%-32s %10s %10s %10s %12s\n' "$bin" "$p" "$g1" "$g4" "$(python3 -c "print(round($g4 / $p, 2))")"
done
