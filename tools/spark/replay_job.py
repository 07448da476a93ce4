#!/usr/bin/env python3
"""Replay Defender exports on Spark, as `iocmatch replay` does on one
machine: the same hits (`--hits`) and alerts (`--alerts`), byte for byte.

    spark-submit tools/spark/replay_job.py -i iocs.csv \\
        --input abfss://insights-logs-advancedhunting-devicenetworkevents@acct.dfs.core.windows.net/ \\
        --hits hits.jsonl --alerts alerts.jsonl

    python tools/spark/replay_job.py --master 'local[2]' -i testdata/sample/indicators.csv \\
        --input testdata/sample/export --hits /tmp/hits.jsonl --alerts /tmp/alerts.jsonl

How:
- Files are read whole (`binaryFile`), one row each, and matched in
  `mapInArrow` by the iocmatch wheel (the CLI's engine: gzip, Capture
  Avro and exports decoded as the CLI decodes them). The indicator files
  are read on the driver and broadcast; each Python worker compiles the
  set once.
- Re-deliveries: the CLI keeps a record's first delivery in input order
  (files in byte order of their names, then lines). Spark keeps, per
  delivery key, the hits of the smallest (file, line, record).
- Alerts are a Spark aggregation of the alerting hits per (indicator,
  device): first record's device name, earliest/latest event time,
  distinct records, tables and columns, the first 10 records as
  evidence; formatted by the wheel as the CLI writes them.
- Output files are written on the driver, in the CLI's order.

Files are named as the CLI names them: the input path as given, then
the file's path under it (URLs stay URLs).
"""

import argparse
import os
import sys
import time

from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

import iocmatch

_SET = {}


def spark_schema():
    t = {
        "string": T.StringType(),
        "int64": T.LongType(),
        "int32": T.IntegerType(),
        "bool": T.BooleanType(),
    }
    return T.StructType([T.StructField(f.name, t[str(f.type)], True) for f in iocmatch.HIT_SCHEMA])


def indicator_set(files):
    """The set, compiled once per Python worker."""
    key = tuple(name for name, _, _ in files)
    if key not in _SET:
        native = [iocmatch.IndicatorSet.from_bytes(data, fmt, name=name) for name, data, fmt in files]
        if len(native) != 1:
            raise SystemExit("give one indicator file (merge several with `iocmatch check --export`)")
        _SET[key] = native[0]
    return _SET[key]


def display_name(path, roots):
    """The name the CLI gives the file: the root as given, then the rest."""
    local = path[len("file:"):] if path.startswith("file:") else None
    for given, absolute in roots:
        if local is not None and (local == absolute or local.startswith(absolute.rstrip("/") + "/")):
            rest = local[len(absolute):].lstrip("/")
            return given if not rest else given.rstrip("/") + "/" + rest
        if local is None and path.startswith(given.rstrip("/")):
            return path
    return local if local is not None else path


def replay(spark, indicator_files, inputs):
    files = []
    for p in indicator_files:
        with open(p, "rb") as f:
            files.append((p, f.read(), iocmatch.detect_format(p)))
    shipped = spark.sparkContext.broadcast(files)
    roots = [(i, os.path.abspath(i) if "://" not in i else i) for i in inputs]
    readable = [("file:" + a if "://" not in i else i) for i, a in roots]

    def match(batches):
        s = indicator_set(shipped.value)
        for batch in batches:
            paths = batch.column("path").to_pylist()
            contents = batch.column("content")
            for i, p in enumerate(paths):
                hits = s.match_file(display_name(p, roots), contents[i].as_py())
                if hits.num_rows:
                    yield hits

    raw = (
        spark.read.format("binaryFile")
        .option("recursiveFileLookup", "true")
        .load(readable)
        .select("path", "content")
    )
    # Hits are few next to the input: kept, so that the files are read
    # and matched once, not once per action below.
    hits = raw.mapInArrow(match, spark_schema()).cache()
    # Files ranked in byte order of their names, as the CLI reads them.
    sources = sorted({r.source for r in hits.select("source").distinct().collect()}, key=lambda s: s.encode())
    ranks = spark.createDataFrame([(s, i) for i, s in enumerate(sources)], "source string, rank long")
    hits = hits.join(F.broadcast(ranks), "source")
    pos = F.struct("rank", "line", "record")
    first = F.min(pos).over(Window.partitionBy("delivery_key"))
    kept = hits.withColumn("first", first).where(pos == F.col("first")).drop("first").cache()
    return kept


def alerts_of(kept):
    a = kept.where("alert")
    has_time = F.col("time_ns").isNotNull()
    neg = F.struct((-F.col("rank")).alias("r"), (-F.col("line")).alias("l"), (-F.col("record")).alias("c"))
    evidence = F.struct("rank", "line", "record", "source", "report_id", "timestamp")
    return (
        a.groupBy("indicator", "device_id")
        .agg(
            F.min(F.struct("rank", "line", "record", "seq", "device_name", "timestamp")).alias("first"),
            F.min(F.when(has_time, F.struct("time_ns", "rank", "line", "record", "timestamp"))).alias("earliest"),
            F.max(F.when(has_time, F.struct("time_ns", neg.alias("p"), "timestamp"))).alias("latest"),
            F.countDistinct("rank", "line", "record").alias("records"),
            F.array_sort(F.collect_set("table")).alias("tables"),
            F.array_sort(F.collect_set("column")).alias("columns"),
            F.slice(F.array_sort(F.collect_set(evidence)), 1, 10).alias("evidence"),
        )
        # Alerts open in the order of their first hit.
        .orderBy("first.rank", "first.line", "first.record", "first.seq")
    )


def write_lines(path, lines):
    tmp = path + ".partial"
    with open(tmp, "w", encoding="utf-8") as out:
        for line in lines:
            out.write(line)
            out.write("\n")
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-i", "--indicators", action="append", required=True, help="the indicator file")
    ap.add_argument("--input", action="append", required=True, help="export folder, file or URL (repeat)")
    ap.add_argument("--hits", help="write every hit here (JSON Lines, as the CLI)")
    ap.add_argument("--alerts", help="write the alerts here (JSON Lines, as the CLI)")
    ap.add_argument("--master", default=None, help="Spark master (default: spark-submit's, or local[2])")
    ap.add_argument("--timing", help="write the session's start-up time (seconds) here, for benches")
    ap.add_argument("--partitions", type=int, default=8, help="shuffle partitions (default 8; a cluster wants more)")
    args = ap.parse_args(argv)

    # Workers run this interpreter (where the wheel is installed) unless
    # told otherwise.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("iocmatch-replay")
    if args.master or not os.environ.get("SPARK_HOME"):
        builder = (
            builder.master(args.master or "local[2]")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
        )
    started = time.monotonic()
    spark = (
        builder.config("spark.sql.execution.arrow.maxRecordsPerBatch", "4")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(args.partitions))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    if args.timing:
        with open(args.timing, "w") as t:
            t.write(f"{time.monotonic() - started:.3f}\n")
    kept = replay(spark, args.indicators, args.input)
    if args.hits:
        rows = kept.orderBy("rank", "line", "record", "seq").select("json").toLocalIterator()
        write_lines(args.hits, (r.json for r in rows))
    s = indicator_set([(p, open(p, "rb").read(), iocmatch.detect_format(p)) for p in args.indicators])
    n_alerts = 0
    if args.alerts:
        lines = []
        for r in alerts_of(kept).toLocalIterator():
            first_seen = r.earliest.timestamp if r.earliest else r.first.timestamp
            last_seen = r.latest.timestamp if r.latest else r.first.timestamp
            ev = [(e.source, e.line, e.record, e.report_id, e.timestamp) for e in r.evidence]
            lines.append(
                s.alert_json(
                    r.indicator, r.device_id, r.first.device_name, first_seen, last_seen,
                    r.records, list(r.tables), list(r.columns), ev,
                )
            )
        n_alerts = len(lines)
        write_lines(args.alerts, lines)
    print(f"iocmatch on Spark: {kept.count()} hits, {n_alerts} alerts", file=sys.stderr)
    spark.stop()


if __name__ == "__main__":
    main()
