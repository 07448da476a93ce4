#!/usr/bin/env bash
# Spark local[2] against the CLI on the same 1 GiB export (storage layout,
# 15k indicators; benches/data/storage-1GiB, as benches/blob.sh makes it):
# wall time of each, and Spark's time without its start-up (a session
# already running, as on a cluster). Hits and alerts are compared too.
#
#   bash tools/spark/bench.sh            # RUNS=3 by default
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
RUNS=${RUNS:-3}
cargo build --release --locked -q -p iocmatch -p iocmatch-gen
dir=benches/data/storage-1GiB
[ -d "$dir/export" ] || target/release/iocmatch-gen -o "$dir" --size 1GiB --layout storage --indicators 15000
mb=$(du -sb "$dir/export" | awk '{print $1 / 1e6}')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
cli=(); spark=(); startup=()
for _ in $(seq "$RUNS"); do
    find "$dir/export" -type f -exec cat {} + > /dev/null
    s=$(date +%s.%N)
    target/release/iocmatch replay -q -j 2 -i "$dir/indicators.csv" "$dir/export" \
        --hits "$out/cli-hits.jsonl" --alerts "$out/cli-alerts.jsonl" || true
    cli+=("$(python3 -c "print($(date +%s.%N) - $s)")")
    s=$(date +%s.%N)
    "$py" tools/spark/replay_job.py --master 'local[2]' -i "$dir/indicators.csv" --input "$dir/export" \
        --hits "$out/spark-hits.jsonl" --alerts "$out/spark-alerts.jsonl" --timing "$out/timing" 2> "$out/log"
    spark+=("$(python3 -c "print($(date +%s.%N) - $s)")")
    startup+=("$(cat "$out/timing")")
    cmp -s "$out/cli-hits.jsonl" "$out/spark-hits.jsonl" && cmp -s "$out/cli-alerts.jsonl" "$out/spark-alerts.jsonl" \
        || { echo "Spark and the CLI differ"; exit 1; }
done
c=$(printf '%s\n' "${cli[@]}" | median); s=$(printf '%s\n' "${spark[@]}" | median); u=$(printf '%s\n' "${startup[@]}" | median)
python3 - "$mb" "$c" "$s" "$u" <<'PY'
import sys
mb, c, s, u = map(float, sys.argv[1:])
print(f"input: {mb:.0f} MB, {int(open('/dev/stdin').read() or 0) if False else ''}".rstrip(", "))
print(f"CLI -j 2:            {c:7.2f} s  {mb / c:7.0f} MB/s")
print(f"Spark local[2]:      {s:7.2f} s  {mb / s:7.0f} MB/s  ({s / c:.1f}x the CLI's time)")
print(f"  without start-up:  {s - u:7.2f} s  {mb / (s - u):7.0f} MB/s  (start-up {u:.1f} s)")
PY
