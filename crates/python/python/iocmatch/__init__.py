"""iocmatch from Python: compile a Defender indicator set and match
exported Defender data against it, with the CLI's own engine and
contract (docs/matching.md); hits come back as Arrow record batches.

    >>> import iocmatch
    >>> s = iocmatch.IndicatorSet.from_files("iocs.csv")
    >>> batch = s.match_file("PT1H.json", open("PT1H.json", "rb").read())
    >>> batch.column("json")  # each hit exactly as `iocmatch replay --hits` writes it

Files are decoded as the CLI decodes them (gzip, Event Hubs Capture Avro,
Advanced Hunting / Log Analytics exports). Re-deliveries of a record are
dropped within one call; across calls (files), keep the first delivery in
input order by `delivery_key` (tools/spark/replay_job.py shows how).
"""

import pyarrow as pa

from ._native import NativeSet, __version__, detect_format

__all__ = ["IndicatorSet", "HIT_SCHEMA", "detect_format", "__version__"]

#: The columns of a batch of hits.
HIT_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("line", pa.int64()),
        ("record", pa.int32()),
        ("seq", pa.int64()),
        ("table", pa.string()),
        ("timestamp", pa.string()),
        ("time_ns", pa.int64()),
        ("device_id", pa.string()),
        ("device_name", pa.string()),
        ("report_id", pa.string()),
        ("delivery_key", pa.string()),
        ("column", pa.string()),
        ("indicator", pa.int32()),
        ("alert", pa.bool_()),
        ("json", pa.string()),
    ]
)


def _batch(columns):
    n = len(columns["source"])
    columns["seq"] = list(range(n))
    return pa.RecordBatch.from_pydict({f.name: columns[f.name] for f in HIT_SCHEMA}, schema=HIT_SCHEMA)


class IndicatorSet:
    """A compiled indicator set."""

    def __init__(self, native):
        self._native = native

    @classmethod
    def from_files(cls, *paths):
        """Loads indicator files (any format `iocmatch check` reads)."""
        return cls(NativeSet.from_files([str(p) for p in paths]))

    @classmethod
    def from_bytes(cls, data, format, name="<bytes>"):
        """Loads indicators from bytes in `format` (defender-csv, txt, stix, …)."""
        return cls(NativeSet.from_bytes(name, bytes(data), format))

    def __len__(self):
        return len(self._native)

    @property
    def rejected(self):
        """Indicators refused while loading: file, line and reason each."""
        return self._native.rejected

    def match_file(self, name, data):
        """The hits of one file's bytes, named `name` in them."""
        return _batch(self._native.match_file(name, bytes(data)))

    def match_lines(self, lines, name="-", first_line=1):
        """The hits of export lines: a pyarrow string or binary array, or a
        list of str or bytes; numbered from `first_line`."""
        if isinstance(lines, (pa.Array, pa.ChunkedArray)):
            lines = lines.cast(pa.binary()).to_pylist()
        raw = [l.encode() if isinstance(l, str) else bytes(l) for l in lines if l is not None]
        return _batch(self._native.match_lines(name, raw, first_line))

    def alert_json(self, indicator, device_id, device_name, first_seen, last_seen, records, tables, columns, evidence):
        """One alert line as `iocmatch replay --alerts` writes it; evidence
        as (source, line, record, report_id JSON, timestamp) tuples."""
        return self._native.alert_json(
            indicator, device_id, device_name, first_seen, last_seen, records, tables, columns, evidence
        )
