#!/usr/bin/env bash
# End-to-end replay throughput on a generated 1 GiB export (JSON Lines,
# warm page cache) against 15,000 and 1,000,000 indicators, at 1 and 2
# threads: median of 5 runs, and peak memory.
#
#   bash benches/throughput.sh            # generates data on first use
#   RUNS=3 SIZE=256MiB bash benches/throughput.sh
#
# MB/s is input bytes (10^6) per second of replay, as the run report
# measures it (indicator loading excluded; it is reported separately).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-benches/data}
RUNS=${RUNS:-5}
SIZE=${SIZE:-1GiB}

cargo build --release --locked -q -p iocmatch -p iocmatch-gen
gen=target/release/iocmatch-gen
bin=target/release/iocmatch
export_dir="$DATA/export-$SIZE"
if [ ! -f "$export_dir/export/events.jsonl" ]; then
    "$gen" -o "$export_dir" --size "$SIZE" --layout jsonl --indicators 15000
fi
if [ ! -f "$DATA/indicators-1M/indicators.csv" ]; then
    "$gen" -o "$DATA/indicators-1M" --indicators 1000000 --indicators-only
fi
events="$export_dir/export/events.jsonl"
cat "$events" > /dev/null  # warm the page cache

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-4s %-7s %-10s %12s %12s %12s %14s %14s\n' set threads mode "MB/s" "replay s" "load s" "peak RSS MB" "hits"
for set in "15k:$export_dir/indicators.csv" "1M:$DATA/indicators-1M/indicators.csv"; do
    name=${set%%:*}; ind=${set#*:}
    for threads in 1 2; do
        for mode in mapped streamed; do
            flag=""; [ "$mode" = streamed ] && flag="--no-mmap"
            mbs=(); secs=(); loads=(); rss=(); hits=""
            for _ in $(seq "$RUNS"); do
                # This VM pages out cold page-cache pages within seconds
                # (DAMON "pageout"), so "in page cache" needs a re-read
                # before every run, not once.
                cat "$events" > /dev/null
                start=$(date +%s.%N)
                /usr/bin/time -f '%M' -o /tmp/iocmatch-rss "$bin" replay -q -j "$threads" $flag \
                    -i "$ind" "$events" --report /tmp/iocmatch-report.json || true
                end=$(date +%s.%N)
                read -r mb el h < <(python3 -c 'import json,sys; t=json.load(open("/tmp/iocmatch-report.json"))["totals"]; print(round(t["mb_per_s"]), round(t["elapsed"],3), t["hits"])')
                mbs+=("$mb"); secs+=("$el"); hits=$h
                loads+=("$(python3 -c "print(round($end - $start - $el, 3))")")
                rss+=("$(( $(tail -n 1 /tmp/iocmatch-rss) / 1024 ))")
            done
            printf '%-4s %-7s %-10s %12s %12s %12s %14s %14s\n' "$name" "$threads" "$mode" \
                "$(printf '%s\n' "${mbs[@]}" | median)" "$(printf '%s\n' "${secs[@]}" | median)" \
                "$(printf '%s\n' "${loads[@]}" | median)" "$(printf '%s\n' "${rss[@]}" | median)" "$hits"
        done
    done
done
