#!/usr/bin/env bash
# The Spark job must give what the CLI gives: builds the wheel, runs
# tools/spark/replay_job.py in local[2] and `iocmatch replay` on the same
# exports, and compares hits and alerts byte for byte. Exports: the
# quick-start sample, every form in testdata/inputs (Capture Avro, CSV
# and JSON exports), and a generated gzip export with many re-deliveries
# across files. Exit 1 on any difference.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
cargo build --release --locked -q -p iocmatch -p iocmatch-gen
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$py" tools/spark/test_package.py
target/release/iocmatch-gen -o "$work/gen" --size 4MB --layout storage --gzip --hours 6 \
    --duplicate-rate 0.2 --hit-rate 0.03 --indicators 2000 --seed 17 2> /dev/null
failed=0
compare() {
    local name=$1 iocs=$2; shift 2
    local out="$work/$name"
    mkdir -p "$out"
    local inputs=() job_inputs=()
    for i in "$@"; do inputs+=("$i"); job_inputs+=(--input "$i"); done
    target/release/iocmatch replay -q -i "$iocs" "${inputs[@]}" --report "$out/report.json" \
        --hits "$out/cli-hits.jsonl" --alerts "$out/cli-alerts.jsonl" || true
    dups=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["duplicates"])' "$out/report.json")
    "$py" tools/spark/replay_job.py --master 'local[2]' -i "$iocs" "${job_inputs[@]}" \
        --hits "$out/spark-hits.jsonl" --alerts "$out/spark-alerts.jsonl" 2> "$out/spark.log" \
        || { cat "$out/spark.log"; exit 1; }
    for kind in hits alerts; do
        if cmp -s "$out/cli-$kind.jsonl" "$out/spark-$kind.jsonl"; then
            echo "$name: $kind identical ($(wc -l < "$out/cli-$kind.jsonl") lines; $dups re-deliveries dropped)"
        else
            echo "$name: $kind DIFFER"; diff "$out/cli-$kind.jsonl" "$out/spark-$kind.jsonl" | head -5 || true
            failed=1
        fi
    done
    [ -s "$out/cli-hits.jsonl" ] || { echo "$name: no hits: the comparison proves nothing"; failed=1; }
}
compare sample testdata/sample/indicators.csv testdata/sample/export
compare inputs testdata/inputs/indicators.csv testdata/inputs
compare generated "$work/gen/indicators.csv" "$work/gen/export"
# Re-deliveries across files must have been there to be dropped alike.
[ "$dups" -gt 0 ] || { echo "generated: no re-deliveries: the dedup went untested"; failed=1; }
exit $failed
