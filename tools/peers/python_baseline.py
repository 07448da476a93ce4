"""The plain Python way: json.loads per line, set lookups for hashes and
domain suffixes, and for IPv4 one set probe per prefix length in use.

usage: python_baseline.py EVENTS.jsonl INDICATORS.csv
prints: seconds, MB/s and the hit counts as JSON.
"""
import bisect
import csv
import json
import os
import sys
import time

events, indicators = sys.argv[1], sys.argv[2]
hashes, domains, nets = set(), set(), set()
with open(indicators, newline="") as f:
    for row in csv.DictReader(f):
        t, v = row["IndicatorType"], row["IndicatorValue"].strip().lower()
        if t in ("FileSha1", "FileSha256", "FileMd5"):
            hashes.add(v)
        elif t == "DomainName":
            domains.add(v)
        elif t == "IpAddress" and ":" not in v:
            net, _, bits = v.partition("/")
            a = [int(x) for x in net.split(".")]
            nets.add((int(bits or 32), (a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]))
prefixes = sorted({b for b, _ in nets})

HASH = ("SHA1", "SHA256", "MD5", "InitiatingProcessSHA1", "InitiatingProcessSHA256", "InitiatingProcessMD5")
IPS = ("RemoteIP", "FileOriginIP")
URLS = ("RemoteUrl", "FileOriginUrl", "FileOriginReferrerUrl")


def ip_hits(ip):
    parts = ip.removeprefix("::ffff:").split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return 0
    n = (int(parts[0]) << 24) | (int(parts[1]) << 16) | (int(parts[2]) << 8) | int(parts[3])
    return sum((b, n & ((0xFFFFFFFF << (32 - b)) & 0xFFFFFFFF)) in nets for b in prefixes)


def host_of(u):
    rest = u.split("://", 1)[-1]
    for sep in "/?#":
        rest = rest.split(sep, 1)[0]
    return rest.rsplit("@", 1)[-1].split(":", 1)[0].lower().rstrip(".")


start = time.time()
h = ip = d = 0
with open(events, "rb") as f:
    for line in f:
        try:
            p = json.loads(line).get("properties") or {}
        except ValueError:
            continue
        for c in HASH:
            v = p.get(c)
            if v and v.lower() in hashes:
                h += 1
        for c in IPS:
            v = p.get(c)
            if v:
                ip += ip_hits(v)
        for c in URLS:
            v = p.get(c)
            if v:
                labels = host_of(v).split(".")
                d += sum(".".join(labels[i:]) in domains for i in range(len(labels) - 1))
secs = time.time() - start
print(json.dumps({"seconds": secs, "mb_per_s": os.path.getsize(events) / 1e6 / secs,
                  "hash_hits": h, "ip_hits": ip, "domain_hits": d}))
