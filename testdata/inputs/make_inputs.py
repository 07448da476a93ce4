#!/usr/bin/env python3
"""Writes the export forms of events.jsonl (made by iocmatch-gen, see
../README.md): what the Defender portal, Log Analytics and Sentinel give
when a query's results are exported.

- hunting-devicenetworkevents.csv: the portal's Advanced Hunting CSV of
  one table: no Type column, times without a zone (replay needs --table
  and says it read the times as UTC).
- log-analytics.csv: every table, `TimeGenerated [UTC]` and `Type`
  columns, times as Log Analytics writes them (1/15/2026, 10:23:45.123 PM).
- log-analytics.json: the Log Analytics query API's {"tables": [...]}.
"""
import csv, json, datetime

rows = []
for line in open("events.jsonl", encoding="utf-8"):
    rec = json.loads(line)
    props = dict(rec["properties"])
    props["Type"] = rec["category"].removeprefix("AdvancedHunting-")
    rows.append(props)

def us_time(iso):
    t = datetime.datetime.strptime(iso.rstrip("Z")[:26], "%Y-%m-%dT%H:%M:%S.%f" if "." in iso else "%Y-%m-%dT%H:%M:%S")
    return f"{t.month}/{t.day}/{t.year}, {t.strftime('%I:%M:%S').lstrip('0')}.{t.microsecond // 1000:03d} {t.strftime('%p')}"

def cell(v):
    return "" if v is None else v if isinstance(v, str) else json.dumps(v)

names = sorted({k for r in rows for k in r} - {"Timestamp", "Type"})
with open("log-analytics.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["TimeGenerated [UTC]", "Type"] + names)
    for r in rows:
        w.writerow([us_time(r["Timestamp"]), r["Type"]] + [cell(r.get(n)) for n in names])

net = [r for r in rows if r["Type"] == "DeviceNetworkEvents"]
net_names = sorted({k for r in net for k in r} - {"Timestamp", "Type"})
with open("hunting-devicenetworkevents.csv", "w", newline="", encoding="utf-8-sig") as f:
    w = csv.writer(f)
    w.writerow(["Timestamp"] + net_names)
    for r in net:
        w.writerow([us_time(r["Timestamp"]).replace(",", "")] + [cell(r.get(n)) for n in net_names])

columns = ["TimeGenerated", "Type"] + names
table = {
    "name": "PrimaryResult",
    "columns": [{"name": c, "type": "datetime" if c == "TimeGenerated" else "string"} for c in columns],
    "rows": [[r["Timestamp"], r["Type"]] + [r.get(n) for n in names] for r in rows],
}
with open("log-analytics.json", "w", encoding="utf-8") as f:
    json.dump({"tables": [table]}, f, indent=1)
