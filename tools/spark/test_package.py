"""The Python package alone (no Spark): sets from files and bytes, hits
of files and of lines as Arrow batches, the CLI's JSON, clear errors."""

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa

import iocmatch

root = Path(__file__).resolve().parents[2]
cli = root / "target" / "release" / "iocmatch"
inputs = root / "testdata" / "inputs"
iocs = inputs / "indicators.csv"
events = inputs / "events.jsonl"

s = iocmatch.IndicatorSet.from_files(iocs)
assert len(s) == 200, len(s)
assert iocmatch.detect_format(str(iocs)) == "defender-csv"
same = iocmatch.IndicatorSet.from_bytes(iocs.read_bytes(), "defender-csv", name=str(iocs))
assert len(same) == len(s)

# A file's hits are the CLI's, line for line.
name = str(events)
batch = s.match_file(name, events.read_bytes())
assert isinstance(batch, pa.RecordBatch) and batch.schema == iocmatch.HIT_SCHEMA
want = subprocess.run([cli, "replay", "-q", "-i", iocs, events, "--hits", "-"], capture_output=True, text=True).stdout
assert batch.column("json").to_pylist() == want.splitlines(), "match_file differs from the CLI"
assert all(json.loads(j)["source"] == name for j in batch.column("json").to_pylist())

# Lines, as an Arrow array or a list, numbered from first_line.
lines = events.read_text().splitlines()
by_array = s.match_lines(pa.array(lines), name=name)
by_list = s.match_lines([l.encode() for l in lines], name=name)
assert by_array.column("json").to_pylist() == by_list.column("json").to_pylist() == want.splitlines()
shifted = s.match_lines(lines[10:], name=name, first_line=11)
assert shifted.column("line").to_pylist() == [l for l in batch.column("line").to_pylist() if l > 10]

# Capture Avro and exports decode as in the CLI.
capture = s.match_file("capture.avro", (inputs / "capture.avro").read_bytes())
assert capture.num_rows > 0

# Bad input: clear errors, not crashes.
for bad, kind in [(b"IndicatorType,IndicatorValue\nFileSha1,zz\n", "defender-csv")]:
    r = iocmatch.IndicatorSet.from_bytes(bad, kind, name="bad.csv")
    assert len(r.rejected) == 1 and "bad.csv:2" in r.rejected[0], r.rejected
try:
    iocmatch.IndicatorSet.from_bytes(b"x", "no-such-format")
    raise AssertionError("an unknown format was accepted")
except ValueError as e:
    assert "no-such-format" in str(e), e
try:
    iocmatch.IndicatorSet.from_files("/nonexistent/iocs.csv")
    raise AssertionError("a missing file was accepted")
except OSError as e:
    assert "/nonexistent/iocs.csv" in str(e), e
print("package: ok", file=sys.stderr)
