#!/usr/bin/env bash
# Coverage-guided fuzzing of every target (or the ones named), SECONDS
# each, two at a time (one per core), seeded from the project's fixtures.
#
#   bash fuzz/run.sh                 # 60 s per target
#   SECONDS_EACH=600 bash fuzz/run.sh parse_record read_inspected
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# The corpus grows in fuzz/corpus/<target> (not committed); a crash is
# saved under fuzz/artifacts/<target>/ and the run ends with status 1.
set -euo pipefail
cd "$(dirname "$0")"
secs=${SECONDS_EACH:-60}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(ls fuzz_targets | sed 's/\.rs$//')
fi

# Seeds: the fixtures each target reads (libFuzzer only reads them).
seeds() {
    case $1 in
        parse_record | read_inspected) echo ../testdata/replay ;;
        decode_input) echo ../testdata/inputs ;;
        *) echo ../testdata/indicators ;;
    esac
}

cargo +nightly fuzz build -O
mkdir -p logs
failed=()
run() {
    mkdir -p "corpus/$1"
    if cargo +nightly fuzz run -O "$1" "corpus/$1" $(seeds "$1") -- \
        -max_total_time="$secs" -rss_limit_mb=4096 > "logs/$1.log" 2>&1; then
        echo "$1: ok ($(grep -Eo 'DONE +cov: [0-9]+' "logs/$1.log" | tail -1), $(grep -Eo '^#[0-9]+' "logs/$1.log" | tail -1 | tr -d '#') runs)"
    else
        echo "$1: FAILED, see fuzz/logs/$1.log and fuzz/artifacts/$1/"
        return 1
    fi
}
for ((i = 0; i < ${#targets[@]}; i += 2)); do
    pids=()
    for t in "${targets[@]:i:2}"; do
        run "$t" & pids+=("$!:$t")
    done
    for p in "${pids[@]}"; do
        wait "${p%%:*}" || failed+=("${p#*:}")
    done
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "failed: ${failed[*]}"
    exit 1
fi
