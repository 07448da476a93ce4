#!/usr/bin/env bash
# Publishing figures: calls and wall time to publish 15,000 indicators into
# an empty Defender emulator, to re-apply the same set (nothing to write),
# and to re-apply with 1 % of titles changed. The emulator enforces
# Defender's limits (500 per batch, 30 imports a minute), and the client
# paces itself under them.
#
#   bash benches/sync.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p iocmatch -p iocmatch-gen -p defender-emulator
dir=$(mktemp -d)
trap 'kill $emu 2>/dev/null || true; rm -rf "$dir"' EXIT
port=${PORT:-18089}
id=00000000-0000-4000-8000-0000000000b1
target/release/defender-emulator --port "$port" --client-id "$id" --client-secret bench-secret &
emu=$!
sleep 0.5
export AZURE_TENANT_ID=bench AZURE_CLIENT_ID=$id AZURE_CLIENT_SECRET=bench-secret
export AZURE_AUTHORITY_HOST=http://127.0.0.1:$port IOCMATCH_API_URL=http://127.0.0.1:$port
# 15,000 publishable indicators: a Defender CSV of domains, URLs, IPs and hashes.
python3 - "$dir/set.csv" <<'PY'
import sys, hashlib
rows = ["IndicatorType,IndicatorValue,Action,Title,Severity,Description"]
for i in range(15000):
    k = i % 4
    if k == 0: t, v = "DomainName", f"d{i}.bench.example.com"
    elif k == 1: t, v = "Url", f"https://u{i}.bench.example.net/p/{i}"
    elif k == 2: t, v = "IpAddress", f"{20 + i // 65536 % 200}.{i // 256 % 256}.{i % 256}.{1 + i % 200}"
    else: t, v = "FileSha256", hashlib.sha256(str(i).encode()).hexdigest()
    rows.append(f"{t},{v},Block,bench {i},High,published by the bench")
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
run() {
    local label=$1; shift
    local start end
    start=$(date +%s.%N)
    target/release/iocmatch sync apply --yes "$@" -i "$dir/set.csv" 2> "$dir/log" > /dev/null || true
    end=$(date +%s.%N)
    printf '%-28s %8.2f s   %s\n' "$label" "$(echo "$end - $start" | bc)" "$(grep -E 'sync:|nothing to do' "$dir/log" | sed 's/^iocmatch: //')"
}
run "15,000 into an empty tenant"
run "re-apply, nothing changed"
python3 - "$dir/set.csv" <<'PY'
import sys
p = sys.argv[1]; lines = open(p).read().splitlines()
for n in range(1, len(lines), 100):
    lines[n] = lines[n].replace(",bench ", ",bench changed ")
open(p, "w").write("\n".join(lines) + "\n")
PY
run "re-apply, 1 % changed"
echo "(the last run starts within a minute of the first, whose 30 imports used up the"
echo " emulator's 30-a-minute import limit: its one import is answered 429 and waits out"
echo " Retry-After, as it would against Defender)"
