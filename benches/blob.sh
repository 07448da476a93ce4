#!/usr/bin/env bash
# Blob replay against Azurite compared with the same files on local disk,
# in one run: a generated export in Defender's storage layout (a
# container per table, hourly append blobs) is uploaded to an in-memory
# Azurite on loopback, then replayed from az:// URLs and from disk in
# ABBA order (A = disk, B = blobs). Prints each run and the median B/A.
#
#   bash benches/blob.sh                  # 1 GiB, 15k indicators
#   SIZE=256MiB PAIRS=3 bash benches/blob.sh
#
# Needs Azurite: npm ci --prefix tools/azurite (.ci/run does it).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-benches/data}
SIZE=${SIZE:-1GiB}
PAIRS=${PAIRS:-3}
THREADS=${THREADS:-2}
PORT=${PORT:-10123}

[ -x tools/azurite/node_modules/.bin/azurite-blob ] || npm ci --prefix tools/azurite --no-audit --no-fund
cargo build --release --locked -q -p iocmatch -p iocmatch-gen -p defender-emulator
dir="$DATA/storage-$SIZE"
if [ ! -d "$dir/export" ]; then
    target/release/iocmatch-gen -o "$dir" --size "$SIZE" --layout storage --indicators 15000
fi

tools/azurite/node_modules/.bin/azurite-blob --blobHost 127.0.0.1 --blobPort "$PORT" \
    --inMemoryPersistence --disableTelemetry --silent --skipApiVersionCheck \
    --extentMemoryLimit 8192 &
azurite=$!
trap 'kill $azurite 2>/dev/null || true' EXIT
for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.2; done
start=$(date +%s.%N)
mapfile -t urls < <(target/release/azurite-seed "http://127.0.0.1:$PORT" "$dir/export")
echo "uploaded ${#urls[@]} containers in $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"
export AZURE_STORAGE_USE_EMULATOR=true AZURITE_BLOB_STORAGE_URL="http://127.0.0.1:$PORT"

run() {
    if [ "$1" = disk ]; then
        find "$dir/export" -type f -exec cat {} + > /dev/null
        target/release/iocmatch replay -q -j "$THREADS" -i "$dir/indicators.csv" "$dir/export" --report /tmp/iocmatch-blob.json || true
    else
        target/release/iocmatch replay -q -j "$THREADS" -i "$dir/indicators.csv" "${urls[@]}" --report /tmp/iocmatch-blob.json || true
    fi
    python3 -c 'import json; t=json.load(open("/tmp/iocmatch-blob.json"))["totals"]; print(round(t["mb_per_s"]), t["hits"])'
}
ratios=()
for i in $(seq "$PAIRS"); do
    read -r a1 ha < <(run disk); read -r b1 hb < <(run blob); read -r b2 _ < <(run blob); read -r a2 _ < <(run disk)
    [ "$ha" = "$hb" ] || { echo "hits differ: disk $ha, blobs $hb"; exit 1; }
    r=$(python3 -c "print(round(($b1 + $b2) / ($a1 + $a2), 3))")
    ratios+=("$r")
    echo "pair $i: disk $a1 $a2 MB/s  blobs $b1 $b2 MB/s  blobs/disk $r  (hits $ha)"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print "median blobs/disk:", a[int((NR+1)/2)]}'
