# Sourced by check.sh and bench.sh: a venv with the pinned PySpark and
# the iocmatch wheel built from this checkout (maturin, abi3).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
venv=${IOCMATCH_SPARK_VENV:-$root/target/spark-venv}
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$root/tools/spark/requirements.txt" "$venv/requirements.txt"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$root/tools/spark/requirements.txt"
    cp "$root/tools/spark/requirements.txt" "$venv/requirements.txt"
fi
# The wheel, built against this checkout's libraries.
rm -rf "$root/target/wheels"
(cd "$root/crates/python" && CARGO_TARGET_DIR="$root/target" "$venv/bin/maturin" build --release --locked -q -o "$root/target/wheels")
"$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$root"/target/wheels/iocmatch-*.whl
export SPARK_LOCAL_IP=127.0.0.1
py="$venv/bin/python"
