"""DuckDB doing iocmatch's job on the same file: read the IOC-bearing
columns of every record and join them against the indicator set.

The join is the closest SQL equivalent, not a full reimplementation:
hashes by equality on the six hash columns, IPv4 exact and CIDR by range,
domains by label suffix of the host of the URL columns. URL path prefixes,
precedence, scope and expiry are left out (iocmatch does all of them, so
the comparison favours DuckDB).

usage: duckdb_join.py EVENTS.jsonl INDICATORS.csv THREADS
prints: seconds, MB/s and the hit counts as JSON.
"""
import csv
import json
import os
import sys
import time

import duckdb

events, indicators, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])

hashes, ranges, domains = [], [], []
with open(indicators, newline="") as f:
    for row in csv.DictReader(f):
        t, v = row["IndicatorType"], row["IndicatorValue"].strip().lower()
        if t in ("FileSha1", "FileSha256", "FileMd5"):
            hashes.append((v,))
        elif t == "IpAddress" and ":" not in v:
            net, _, bits = v.partition("/")
            a = [int(x) for x in net.split(".")]
            lo = (a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]
            size = 1 << (32 - int(bits or 32))
            ranges.append((lo, lo + size - 1))
        elif t == "DomainName":
            domains.append((v,))

con = duckdb.connect()
con.execute(f"SET threads={threads}")
con.execute("CREATE TABLE h(v VARCHAR); CREATE TABLE r(lo BIGINT, hi BIGINT); CREATE TABLE d(v VARCHAR)")
con.executemany("INSERT INTO h VALUES (?)", hashes)
con.executemany("INSERT INTO r VALUES (?, ?)", ranges)
con.executemany("INSERT INTO d VALUES (?)", domains)

cols = ["SHA1", "SHA256", "MD5", "InitiatingProcessSHA1", "InitiatingProcessSHA256",
        "InitiatingProcessMD5", "RemoteIP", "FileOriginIP", "RemoteUrl", "FileOriginUrl",
        "FileOriginReferrerUrl"]
struct = ", ".join(f"{c} VARCHAR" for c in cols)
start = time.time()
con.execute(f"""
CREATE TABLE ev AS
SELECT unnest(properties) FROM read_json('{events}', format='newline_delimited',
  columns={{properties: 'STRUCT({struct})'}}, ignore_errors=true)""")
hash_hits = con.execute("""
SELECT count(*) FROM (
  SELECT lower(x) AS v FROM ev, unnest([SHA1, SHA256, MD5, InitiatingProcessSHA1,
    InitiatingProcessSHA256, InitiatingProcessMD5]) AS t(x) WHERE x IS NOT NULL AND x <> ''
) e JOIN h USING (v)""").fetchone()[0]
ip_hits = con.execute("""
WITH ips AS (
  SELECT regexp_replace(x, '^::ffff:', '') AS ip FROM ev, unnest([RemoteIP, FileOriginIP]) AS t(x)
  WHERE x SIMILAR TO '(::ffff:)?[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+'
), n AS (
  SELECT (split_part(ip,'.',1)::BIGINT << 24) + (split_part(ip,'.',2)::BIGINT << 16)
       + (split_part(ip,'.',3)::BIGINT << 8) + split_part(ip,'.',4)::BIGINT AS n FROM ips
)
SELECT count(*) FROM n JOIN r ON n.n BETWEEN r.lo AND r.hi""").fetchone()[0]
domain_hits = con.execute("""
WITH hosts AS (
  SELECT lower(regexp_extract(x, '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://)?([^/:?#]+)', 1)) AS host
  FROM ev, unnest([RemoteUrl, FileOriginUrl, FileOriginReferrerUrl]) AS t(x)
  WHERE x IS NOT NULL AND x <> ''
), parts AS (
  SELECT host, string_split(host, '.') AS l FROM hosts
), suffixes AS (
  SELECT array_to_string(l[i:], '.') AS v FROM parts, range(1, len(l)) AS t(i)
)
SELECT count(*) FROM suffixes JOIN d USING (v)""").fetchone()[0]
secs = time.time() - start
size = os.path.getsize(events)
print(json.dumps({"seconds": secs, "mb_per_s": size / 1e6 / secs, "hash_hits": hash_hits,
                  "ip_hits": ip_hits, "domain_hits": domain_hits}))
