#!/usr/bin/env bash
# iocmatch side by side with DuckDB (the same join over the same file) and
# plain Python (on a 100 MB slice), in one run, on this machine.
#
#   bash tools/peers/run.sh              # uses benches/throughput.sh's data
#
# Installs DuckDB from PyPI into a venv under benches/data (not tracked).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${DATA:-benches/data}
SIZE=${SIZE:-1GiB}
THREADS=${THREADS:-2}
venv="$DATA/peers-venv"

cargo build --release --locked -q -p iocmatch -p iocmatch-gen
export_dir="$DATA/export-$SIZE"
[ -f "$export_dir/export/events.jsonl" ] || target/release/iocmatch-gen -o "$export_dir" --size "$SIZE" --layout jsonl --indicators 15000
events="$export_dir/export/events.jsonl"
indicators="$export_dir/indicators.csv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q duckdb
fi
slice="$DATA/slice-100MB.jsonl"
[ -f "$slice" ] || head -c 100000000 "$events" | sed '$d' > "$slice"
cat "$events" > /dev/null

iocmatch() {  # median MB/s of 3 runs, each on a freshly warmed cache
    for _ in 1 2 3; do
        cat "$1" > /dev/null
        target/release/iocmatch replay -q -j "$2" -i "$indicators" "$1" --report /tmp/peers-report.json || true
        python3 -c 'import json; print(json.load(open("/tmp/peers-report.json"))["totals"]["mb_per_s"])'
    done | sort -n | sed -n 2p
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
duck_version=$("$venv/bin/python" -c 'import duckdb; print(duckdb.__version__)')
io_full=$(iocmatch "$events" "$THREADS")
cat "$events" > /dev/null
duck=$("$venv/bin/python" tools/peers/duckdb_join.py "$events" "$indicators" "$THREADS")
duck_mbs=$(python3 -c "import json; print(json.loads('$duck')['mb_per_s'])")
io_slice=$(iocmatch "$slice" 1)
py=$(python3 tools/peers/python_baseline.py "$slice" "$indicators")
py_mbs=$(python3 -c "import json; print(json.loads('$py')['mb_per_s'])")
python3 - "$io_full" "$duck_mbs" "$io_slice" "$py_mbs" "$duck" "$py" "$duck_version" "$THREADS" <<'PY'
import json, sys
io_full, duck, io_slice, py = map(float, sys.argv[1:5])
d, p = json.loads(sys.argv[5]), json.loads(sys.argv[6])
print(f"iocmatch, {sys.argv[8]} threads, full file: {io_full:8.0f} MB/s")
print(f"DuckDB {sys.argv[7]}, {sys.argv[8]} threads:       {duck:8.0f} MB/s  -> iocmatch is {io_full / duck:.1f}x  (DuckDB hits: {d['hash_hits']} hash, {d['ip_hits']} IPv4, {d['domain_hits']} domain)")
print(f"iocmatch, 1 thread, 100 MB slice: {io_slice:8.0f} MB/s")
print(f"Python json.loads, 1 thread:      {py:8.0f} MB/s  -> iocmatch is {io_slice / py:.1f}x  (Python hits: {p['hash_hits']} hash, {p['ip_hits']} IPv4, {p['domain_hits']} domain)")
PY
