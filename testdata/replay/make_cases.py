#!/usr/bin/env python3
"""Writes the records and indicators of the golden replay cases.

Run from this folder. The expected-* files are not written here: they come
from `BLESS=1 cargo test -p iocmatch --test cli golden` and are reviewed by
hand against the matching contract.
"""
import gzip
import json
import os

A256 = "a" * 63 + "1"
AMD5 = "b" * 31 + "2"
BSHA1 = "c" * 39 + "3"
CSHA1 = "d" * 39 + "4"
SIGNER = "e" * 39 + "5"
OTHER1 = "f" * 39 + "6"
D1, D2, D3 = "d1" + "0" * 38, "d2" + "0" * 38, "d3" + "0" * 38
N = "DeviceNetworkEvents"


def rec(table, props, time="2026-07-18T10:05:00.1234567Z"):
    return json.dumps({"time": time, "tenantId": "4b8c18bd-2f9f-4227-af55-9f1061cf9c32",
                       "operationName": "Publish", "category": "AdvancedHunting-" + table,
                       "properties": props, "Tenant": "DefaultTenant"}, separators=(",", ":"))


def p(ts, dev, rid, group, **kw):
    d = {"Timestamp": ts, "DeviceId": dev, "DeviceName": dev[:2] + ".corp.contoso.com",
         "ReportId": rid, "MachineGroup": group}
    d.update(kw)
    return d


def semantics():
    os.makedirs("semantics/records", exist_ok=True)
    with open("semantics/indicators.csv", "w") as f:
        f.write(f"""IndicatorType,IndicatorValue,ExpirationTime,Action,Severity,Title,Description,RecommendedActions,RbacGroups,Category,MitreTechniques,GenerateAlert
DomainName,evil.com,,Block,High,C2 domain,,,,,,
Url,http://evil.com/payload,,Audit,Medium,Payload path,,,,,,
DomainName,cdn.evil.com,,Allowed,,Allowed CDN,,,,,,
IpAddress,185.220.101.0/24,,Audit,Low,Tor range,,,,,,
IpAddress,185.220.101.7,,Block,High,Tor exit,,,,,,
FileSha256,{A256},,Block,High,Loader,,,,,,
FileMd5,{AMD5},,BlockAndRemediate,High,Loader (MD5),,,,,,
FileSha1,{BSHA1},,Audit,Medium,Scoped tool,,,Servers,,,
FileSha1,{CSHA1},2026-07-18T12:00:00Z,Warn,Low,Expiring,,,,,,
CertificateThumbprint,{SIGNER},,BlockAndRemediate,High,Stolen certificate,,,,,,
DomainName,quiet.example.org,,Audit,Low,No alert wanted,,,,,,False
""")
    lines = [
        # 1: URL beats domain; the exact address beats the CIDR.
        rec(N, p("2026-07-18T10:00:00Z", D1, 101, "Workstations", ActionType="ConnectionSuccess",
                 RemoteUrl="http://evil.com/payload/x.bin", RemoteIP="185.220.101.7")),
        # 2: the same record delivered again: skipped, counted.
        rec(N, p("2026-07-18T10:00:00Z", D1, 101, "Workstations", ActionType="ConnectionSuccess",
                 RemoteUrl="http://evil.com/payload/x.bin", RemoteIP="185.220.101.7"),
            time="2026-07-18T10:20:00.0000000Z"),
        # 3: more labels wins; it is Allowed, so no alert.
        rec(N, p("2026-07-18T10:01:00.5Z", D2, 102, "Workstations", ActionType="ConnectionSuccess",
                 RemoteUrl="https://a.cdn.evil.com/", RemoteIP=None)),
        # 4: DNS inspection: the query is a host (trailing dot dropped).
        rec(N, p("2026-07-18T10:02:00Z", D1, 103, "Workstations", ActionType="DnsConnectionInspected",
                 AdditionalFields=json.dumps({"query": "evil.com.", "answers": "[]"}))),
        # 5: the same field under another action type is not read.
        rec(N, p("2026-07-18T10:03:00Z", D1, 104, "Workstations", ActionType="ConnectionSuccess",
                 AdditionalFields=json.dumps({"query": "evil.com"}))),
        # 6: HTTP inspection forms http://{host}{uri}.
        rec(N, p("2026-07-18T10:04:00Z", D2, 105, "Workstations", ActionType="HttpConnectionInspected",
                 AdditionalFields=json.dumps({"host": "evil.com", "uri": "/payload/a", "method": "GET"}))),
        # 7: TLS server name, any case.
        rec(N, p("2026-07-18T10:05:00Z", D2, 106, "Workstations", ActionType="SslConnectionInspected",
                 AdditionalFields=json.dumps({"server_name": "EVIL.com"}))),
        # 8: one file, two hashes: BlockAndRemediate (MD5) beats Block
        #    (SHA-256); the Servers-scoped indicator does not apply here.
        rec("DeviceProcessEvents", p("2026-07-18T10:06:00Z", D1, 107, "Workstations",
                                     ActionType="ProcessCreated", SHA1=OTHER1, SHA256=A256, MD5=AMD5,
                                     InitiatingProcessSHA1=BSHA1)),
        # 9: the scoped indicator applies on Servers.
        rec("DeviceProcessEvents", p("2026-07-18T10:07:00Z", D3, 108, "Servers",
                                     ActionType="ProcessCreated", InitiatingProcessSHA1=BSHA1)),
        # 10: just before expiry: matches.
        rec("DeviceFileEvents", p("2026-07-18T11:59:59.9999999Z", D1, 109, "Workstations",
                                  ActionType="FileCreated", SHA1=CSHA1)),
        # 11: at the expiry instant: no match.
        rec("DeviceFileEvents", p("2026-07-18T12:00:00Z", D1, 110, "Workstations",
                                  ActionType="FileCreated", SHA1=CSHA1)),
        # 12: the signer matches; the issuer is not read.
        rec("DeviceFileCertificateInfo", p("2026-07-18T10:08:00Z", D3, 111, "Servers", SHA1=OTHER1,
                                           SignerHash=SIGNER, IssuerHash=SIGNER)),
        # 13: 2019 table and column names; host:port; generateAlert False.
        rec("NetworkCommunicationEvents", {"EventTime": "2026-07-18T10:09:00Z", "MachineId": D2,
                                           "ComputerName": "d2.corp", "ReportId": 112,
                                           "MachineGroup": "Workstations",
                                           "RemoteUrl": "quiet.example.org:443"}),
        # 14: an IPv4-mapped IPv6 address inside the CIDR.
        rec(N, p("2026-07-18T10:10:00Z", D1, 113, "Workstations", ActionType="ConnectionSuccess",
                 RemoteIP="::ffff:185.220.101.9")),
        # 15: a URL whose host is an IP literal is an IP observable.
        rec(N, p("2026-07-18T10:11:00Z", D2, 114, "Workstations", ActionType="ConnectionSuccess",
                 RemoteUrl="http://185.220.101.7:8080/x")),
        # 16: no value in any form; a string ReportId.
        rec(N, p("2026-07-18T10:12:00Z", D2, "r-115", "Workstations", ActionType="ConnectionSuccess",
                 RemoteUrl=None, RemoteIP="")),
        # 17: DeviceInfo PublicIP; a ReportId above 2^53.
        rec("DeviceInfo", p("2026-07-18T10:13:00Z", D2, 639199803770463703, "Workstations",
                            PublicIP="185.220.101.7")),
        # 18: malformed values are no observables (counted).
        rec(N, p("2026-07-18T10:14:00Z", D1, 116, "Workstations", ActionType="ConnectionSuccess",
                 RemoteUrl="http://", RemoteIP="not-an-ip")),
    ]
    with open("semantics/records/PT1H.json", "w", newline="") as f:
        f.write("".join(line + "\r\n" for line in lines))


def envelopes():
    for d in "abc":
        os.makedirs(f"envelopes/records/{d}", exist_ok=True)
    with open("envelopes/indicators.txt", "w") as f:
        f.write("# plain list, defanged\nevil[.]com\n185.220.101[.]7\n")
    good = rec(N, p("2026-07-18T10:00:00Z", D1, 1, "Workstations", RemoteUrl="evil.com"))
    a = [
        good,
        good[:80],  # truncated
        "this is not json",
        json.dumps({"category": "AdvancedHunting-DeviceEvents", "time": "x"}),  # no properties
        json.dumps({"foo": 1}),  # unknown envelope
        "",  # blank: not a line
        rec(N, p("2026-07-18T10:01:00Z", D1, 2, "Workstations", RemoteIP="185.220.101.7")),
    ]
    with open("envelopes/records/a/PT1H.json", "w", newline="") as f:
        f.write("".join(line + "\r\n" for line in a))
    body = {"records": [
        json.loads(rec(N, p("2026-07-18T10:02:00Z", D2, 3, "Servers", RemoteUrl="https://x.evil.com/"))),
        {"category": "AdvancedHunting-DeviceEvents", "time": "2026-07-18T10:03:00Z"},
        json.loads(rec(N, p("2026-07-18T10:04:00Z", D2, 4, "Servers", RemoteIP="185.220.101.7"))),
    ]}
    with open("envelopes/records/b/body.json", "w") as f:
        f.write(json.dumps(body) + "\n")
    line = rec(N, p("2026-07-18T10:05:00Z", D3, 5, "Servers", RemoteUrl="http://evil.com:8080/")) + "\n"
    with open("envelopes/records/c/events.jsonl.gz", "wb") as f:
        f.write(gzip.compress(line.encode(), mtime=0))


if __name__ == "__main__":
    semantics()
    envelopes()
