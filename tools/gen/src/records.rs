//! One record of each Device* table, with the columns the real export
//! carries, and a note of every planted (bad) value it contains.

use crate::json::{self, Obj};
use crate::rng::Rng;
use crate::world::{Binary, HashChoice, World};

/// The tables, with their share of records in a real export.
pub const TABLES: [(&str, u32); 10] = [
    ("DeviceNetworkEvents", 340),
    ("DeviceProcessEvents", 200),
    ("DeviceFileEvents", 180),
    ("DeviceImageLoadEvents", 120),
    ("DeviceEvents", 60),
    ("DeviceRegistryEvents", 40),
    ("DeviceLogonEvents", 30),
    ("DeviceFileCertificateInfo", 15),
    ("DeviceInfo", 8),
    ("DeviceNetworkInfo", 7),
];

/// A planted value: the column it was written to and the indicator that
/// must find it.
#[derive(Clone, Debug)]
pub struct Planted {
    pub column: &'static str,
    pub indicator_type: &'static str,
    pub indicator: String,
}

/// What the writer needs to know about the record it just wrote.
pub struct Written {
    pub table: &'static str,
    pub device: usize,
    pub planted: Vec<Planted>,
}

pub struct RecordGen<'w> {
    pub world: &'w World,
    pub rng: Rng,
    /// Chance that an IOC-bearing column takes a bad value.
    pub hit_rate: f64,
    /// Chance that a record uses the 2019 table and column names.
    pub legacy_rate: f64,
    pub tenant: String,
    report_id: u64,
    planted: Vec<Planted>,
}

/// The event time of a record, as nanoseconds since the Unix epoch.
pub type Nanos = u64;

impl<'w> RecordGen<'w> {
    pub fn new(world: &'w World, rng: Rng, hit_rate: f64) -> Self {
        RecordGen {
            world,
            rng,
            hit_rate,
            legacy_rate: 0.002,
            tenant: "4b8c18bd-2f9f-4227-af55-9f1061cf9c32".into(),
            report_id: 1000,
            planted: Vec::new(),
        }
    }

    fn table(&mut self) -> &'static str {
        let total: u32 = TABLES.iter().map(|t| t.1).sum();
        let mut x = self.rng.below(u64::from(total)) as u32;
        for (t, w) in TABLES {
            if x < w {
                return t;
            }
            x -= w;
        }
        TABLES[0].0
    }

    /// Writes one record (no line ending) for an event at `time`.
    pub fn record(&mut self, buf: &mut Vec<u8>, time: Nanos) -> Written {
        self.planted.clear();
        let table = self.table();
        let device = self.rng.skewed(self.world.devices.len());
        let legacy =
            self.rng.chance(self.legacy_rate) && legacy_name(table).is_some();
        let category =
            if legacy { legacy_name(table).unwrap() } else { table };
        let mut o = Obj::open(buf);
        o.str(
            "time",
            &timestamp(
                time + 60_000_000_000 + self.rng.below(600_000_000_000),
                7,
            ),
        );
        o.str("tenantId", &self.tenant);
        o.str("operationName", "Publish");
        o.str("category", &format!("AdvancedHunting-{category}"));
        o.str("_TimeReceivedBySvc", &timestamp(time + 30_000_000_000, 7));
        let props = o.raw("properties");
        self.properties(props, table, device, time, legacy);
        o.str("Tenant", "DefaultTenant");
        o.close();
        Written { table, device, planted: std::mem::take(&mut self.planted) }
    }

    fn properties(
        &mut self,
        buf: &mut Vec<u8>,
        table: &'static str,
        dev: usize,
        time: Nanos,
        legacy: bool,
    ) {
        let d = &self.world.devices[dev];
        let mut o = Obj::open(buf);
        let digits = [7, 7, 7, 6, 5, 0][self.rng.index(6)];
        o.str(
            if legacy { "EventTime" } else { "Timestamp" },
            &timestamp(time, digits),
        );
        o.str(if legacy { "MachineId" } else { "DeviceId" }, &d.id);
        o.str(if legacy { "ComputerName" } else { "DeviceName" }, &d.name);
        self.report_id += 1;
        // Snapshot tables carry ReportIds above 2^53 in real exports.
        if matches!(table, "DeviceInfo" | "DeviceNetworkInfo") {
            o.unum("ReportId", 639_199_803_770_000_000 + self.report_id);
        } else {
            o.unum("ReportId", self.report_id);
        }
        o.str("MachineGroup", d.group);
        match table {
            "DeviceNetworkEvents" => self.network(&mut o, dev),
            "DeviceProcessEvents" => self.process(&mut o),
            "DeviceFileEvents" => self.file(&mut o),
            "DeviceImageLoadEvents" => self.image_load(&mut o),
            "DeviceEvents" => self.misc(&mut o),
            "DeviceRegistryEvents" => self.registry(&mut o),
            "DeviceLogonEvents" => self.logon(&mut o),
            "DeviceFileCertificateInfo" => self.certificate(&mut o),
            "DeviceInfo" => self.device_info(&mut o, dev),
            _ => self.network_info(&mut o, dev),
        }
        o.close();
    }

    fn plant(
        &mut self,
        column: &'static str,
        ty: &'static str,
        indicator: String,
    ) {
        self.planted.push(Planted { column, indicator_type: ty, indicator });
    }

    /// Forgets a planted value whose column was left empty after all.
    fn unplant(&mut self, column: &'static str) {
        self.planted.retain(|p| p.column != column);
    }

    /// A binary, bad with the hit rate; a bad one is noted against the
    /// columns its indicted hash is written to.
    fn binary(&mut self, prefix: &'static str) -> &'w Binary {
        let w = self.world;
        if !w.bad_binaries.is_empty() && self.rng.chance(self.hit_rate) {
            let (b, choice) =
                &w.bad_binaries[self.rng.index(w.bad_binaries.len())];
            let (col, ty, v) = match (choice, prefix.is_empty()) {
                (HashChoice::Sha1, true) => ("SHA1", "FileSha1", &b.sha1),
                (HashChoice::Sha256, true) => {
                    ("SHA256", "FileSha256", &b.sha256)
                }
                (HashChoice::Md5, true) => ("MD5", "FileMd5", &b.md5),
                (HashChoice::Sha1, false) => {
                    ("InitiatingProcessSHA1", "FileSha1", &b.sha1)
                }
                (HashChoice::Sha256, false) => {
                    ("InitiatingProcessSHA256", "FileSha256", &b.sha256)
                }
                (HashChoice::Md5, false) => {
                    ("InitiatingProcessMD5", "FileMd5", &b.md5)
                }
            };
            self.plant(col, ty, v.clone());
            return b;
        }
        &w.binaries[self.rng.skewed(w.binaries.len())]
    }

    fn initiating(&mut self, o: &mut Obj<'_>) {
        let b = self.binary("InitiatingProcess");
        let acct = self.world.devices[0].account;
        o.str("InitiatingProcessAccountDomain", "contoso");
        o.str("InitiatingProcessAccountName", acct);
        o.str(
            "InitiatingProcessAccountSid",
            "S-1-5-21-3439550418-2312797321-815996604-1104",
        );
        o.opt(
            "InitiatingProcessAccountUpn",
            (acct == "alice").then_some("alice@contoso.com"),
        );
        o.null("InitiatingProcessAccountObjectId");
        o.str(
            "InitiatingProcessCommandLine",
            &format!(
                "\"{}\" --type=renderer /prefetch:{}",
                b.name,
                self.rng.below(9)
            ),
        );
        o.str("InitiatingProcessCreationTime", "2026-07-18T13:58:42.24998Z");
        o.str("InitiatingProcessFileName", &b.name);
        o.num("InitiatingProcessFileSize", b.size as i64);
        o.str("InitiatingProcessFolderPath", &b.folder);
        o.num("InitiatingProcessId", 1000 + self.rng.below(60000) as i64);
        o.str("InitiatingProcessIntegrityLevel", "Medium");
        o.str("InitiatingProcessMD5", &b.md5);
        o.str(
            "InitiatingProcessParentCreationTime",
            "2026-07-18T08:01:12.1234567Z",
        );
        o.str("InitiatingProcessParentFileName", "explorer.exe");
        o.num("InitiatingProcessParentId", 4000 + self.rng.below(4000) as i64);
        o.str("InitiatingProcessSHA1", &b.sha1);
        // "SHA256 is usually not populated": leave it empty sometimes.
        if self.rng.chance(0.8) {
            o.str("InitiatingProcessSHA256", &b.sha256);
        } else {
            o.str("InitiatingProcessSHA256", "");
            self.unplant("InitiatingProcessSHA256");
        }
        o.str("InitiatingProcessTokenElevation", "TokenElevationTypeDefault");
        o.str("InitiatingProcessVersionInfoCompanyName", b.company);
        o.str("InitiatingProcessVersionInfoFileDescription", &b.name);
        o.str("InitiatingProcessVersionInfoInternalFileName", &b.name);
        o.str("InitiatingProcessVersionInfoOriginalFileName", &b.name);
        o.str("InitiatingProcessVersionInfoProductName", b.company);
        o.str("InitiatingProcessVersionInfoProductVersion", "10.0.19041.1806");
        o.bool("IsInitiatingProcessRemoteSession", false);
        o.null("InitiatingProcessRemoteSessionDeviceName");
        o.null("InitiatingProcessRemoteSessionIP");
        o.null("AppGuardContainerId");
    }

    fn file_columns(&mut self, o: &mut Obj<'_>) {
        let b = self.binary("");
        o.str("FileName", &b.name);
        o.str("FolderPath", &b.folder.replace("c:\\", "C:\\"));
        o.num("FileSize", b.size as i64);
        o.str("SHA1", &b.sha1);
        if self.rng.chance(0.7) {
            o.str("SHA256", &b.sha256);
        } else {
            o.null("SHA256");
            self.unplant("SHA256");
        }
        o.str("MD5", &b.md5);
    }

    /// An IP: bad with the hit rate (noted against `column`).
    fn remote_ip(&mut self, column: &'static str) -> String {
        let w = self.world;
        if !w.bad_ips.is_empty() && self.rng.chance(self.hit_rate) {
            let b = &w.bad_ips[self.rng.index(w.bad_ips.len())];
            self.plant(column, "IpAddress", b.indicator.clone());
            // Defender logs some peers as IPv4-mapped IPv6.
            return if self.rng.chance(0.1) {
                format!("::ffff:{}", b.ip)
            } else {
                b.ip.clone()
            };
        }
        w.ips[self.rng.skewed(w.ips.len())].clone()
    }

    /// A host, bare or as a URL: bad with the hit rate.
    fn remote_url(&mut self, column: &'static str) -> String {
        let w = self.world;
        if self.rng.chance(self.hit_rate) {
            if self.rng.chance(0.5) && !w.bad_urls.is_empty() {
                let u = &w.bad_urls[self.rng.index(w.bad_urls.len())];
                self.plant(column, "Url", u.indicator());
                return format!(
                    "http://{}{}/{}?id={}",
                    u.host,
                    u.path,
                    self.rng.hex(4),
                    self.rng.below(99)
                );
            }
            if !w.bad_hosts.is_empty() {
                let h = &w.bad_hosts[self.rng.index(w.bad_hosts.len())];
                self.plant(column, "DomainName", h.indicator.clone());
                return self.url_form(&h.host.clone());
            }
        }
        let host = w.hosts[self.rng.skewed(w.hosts.len())].clone();
        self.url_form(&host)
    }

    fn url_form(&mut self, host: &str) -> String {
        match self.rng.below(4) {
            0 => format!("https://{host}/"),
            1 => format!(
                "https://{host}/{}/{}",
                self.rng.hex(4),
                self.rng.hex(8)
            ),
            2 => format!("{host}:443"),
            _ => host.to_owned(),
        }
    }

    fn network(&mut self, o: &mut Obj<'_>, dev: usize) {
        let action = [
            "ConnectionSuccess",
            "ConnectionSuccess",
            "ConnectionRequest",
            "ConnectionFailed",
            "InboundConnectionAccepted",
            "DnsConnectionInspected",
            "HttpConnectionInspected",
            "SslConnectionInspected",
        ][self.rng.index(8)];
        o.str("ActionType", action);
        let ip = self.remote_ip("RemoteIP");
        o.str("RemoteIP", &ip);
        o.num("RemotePort", [443, 443, 80, 53, 8080][self.rng.index(5)]);
        match self.rng.below(3) {
            0 => o.null("RemoteUrl"),
            1 => o.str("RemoteUrl", ""),
            _ => {
                let u = self.remote_url("RemoteUrl");
                o.str("RemoteUrl", &u)
            }
        };
        o.str("LocalIP", &self.world.devices[dev].local_ip);
        o.num("LocalPort", 49152 + self.rng.below(16000) as i64);
        o.str("Protocol", "Tcp");
        o.str("RemoteIPType", "Public");
        o.str("LocalIPType", "Private");
        self.inspected(o, action);
        self.initiating(o);
    }

    /// The AdditionalFields of inspected network events.
    fn inspected(&mut self, o: &mut Obj<'_>, action: &str) {
        let (key, column): (&str, &'static str) = match action {
            "DnsConnectionInspected" => ("query", "AdditionalFields.query"),
            "SslConnectionInspected" => {
                ("server_name", "AdditionalFields.server_name")
            }
            "HttpConnectionInspected" => ("host", "AdditionalFields.host"),
            _ => {
                o.null("AdditionalFields");
                return;
            }
        };
        let url = self.remote_url(column);
        // These fields hold a bare host (and, for HTTP, a separate uri).
        let (host, uri) = split_host(&url);
        // A bare host never reaches a URL indicator's path; the HTTP
        // fields do, as http://{host}{uri}.
        if column != "AdditionalFields.host"
            && self.planted.last().is_some_and(|p| {
                p.column == column && p.indicator_type == "Url"
            })
        {
            // A bare host never reaches a URL indicator's path: drop it.
            self.planted.pop();
        }
        let buf = o.raw("AdditionalFields");
        json::nested(buf, |b| {
            let mut a = Obj::open(b);
            a.str("direction", "Out");
            a.str(key, &host);
            if key == "host" {
                a.str("uri", &uri);
                a.str("method", "GET");
                a.str(
                    "user_agent",
                    "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
                );
            }
            if key == "query" {
                a.str("answers", "[\"52.96.1.1\"]");
            }
            a.close();
        });
    }

    fn process(&mut self, o: &mut Obj<'_>) {
        o.str("ActionType", "ProcessCreated");
        self.file_columns(o);
        o.str("ProcessCommandLine", "powershell.exe -NoProfile -ExecutionPolicy Bypass -File \"C:\\ProgramData\\task.ps1\"");
        o.num("ProcessId", 1000 + self.rng.below(60000) as i64);
        o.str("ProcessCreationTime", "2026-07-18T14:55:41.322571Z");
        o.str("ProcessIntegrityLevel", "Medium");
        o.str("ProcessTokenElevation", "TokenElevationTypeDefault");
        o.str("AccountDomain", "contoso");
        o.str("AccountName", "alice");
        o.str("AccountSid", "S-1-5-21-2965590086-2375665732-3273071523-1104");
        o.null("AccountUpn");
        o.num("LogonId", self.rng.below(2_000_000) as i64);
        o.str("InitiatingProcessSignatureStatus", "Valid");
        o.str("InitiatingProcessSignerType", "OsVendor");
        o.str("AdditionalFields", "{\"ProcessStartKey\":17451448556223}");
        self.initiating(o);
    }

    fn file(&mut self, o: &mut Obj<'_>) {
        o.str(
            "ActionType",
            ["FileCreated", "FileModified", "FileRenamed"][self.rng.index(3)],
        );
        self.file_columns(o);
        if self.rng.chance(0.3) {
            let u = self.remote_url("FileOriginUrl");
            o.str("FileOriginUrl", &u);
            let ip = self.remote_ip("FileOriginIP");
            o.str("FileOriginIP", &ip);
            o.str("FileOriginReferrerUrl", "https://www.bing.com/");
        } else {
            o.null("FileOriginUrl");
            o.null("FileOriginIP");
            o.null("FileOriginReferrerUrl");
        }
        o.str("PreviousFileName", "");
        o.str("PreviousFolderPath", "");
        o.null("ShareName");
        o.null("RequestSourceIP");
        o.null("RequestAccountName");
        o.str("AdditionalFields", "{\"FileType\":\"PortableExecutable\"}");
        self.initiating(o);
    }

    fn image_load(&mut self, o: &mut Obj<'_>) {
        o.str("ActionType", "ImageLoaded");
        self.file_columns(o);
        self.initiating(o);
    }

    fn misc(&mut self, o: &mut Obj<'_>) {
        o.str(
            "ActionType",
            ["DpapiAccessed", "PowerShellCommand", "ScriptContent"]
                [self.rng.index(3)],
        );
        if self.rng.chance(0.5) {
            self.file_columns(o);
        } else {
            o.null("SHA1");
            o.null("MD5");
        }
        o.null("RemoteUrl");
        o.null("RemoteIP");
        o.str(
            "AdditionalFields",
            "{\"Command\":\"Get-Process | Where-Object {$_.CPU -gt 100}\"}",
        );
        self.initiating(o);
    }

    fn registry(&mut self, o: &mut Obj<'_>) {
        o.str("ActionType", "RegistryValueSet");
        o.str("RegistryKey", "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run");
        o.str("RegistryValueName", "Updater");
        o.str(
            "RegistryValueData",
            "C:\\Users\\alice\\AppData\\Roaming\\updater.exe /silent",
        );
        o.str("RegistryValueType", "String");
        self.initiating(o);
    }

    fn logon(&mut self, o: &mut Obj<'_>) {
        o.str(
            "ActionType",
            ["LogonSuccess", "LogonFailed"][self.rng.index(2)],
        );
        o.str("LogonType", "Network");
        o.str("AccountDomain", "contoso");
        o.str("AccountName", "svc-backup");
        if self.rng.chance(0.5) {
            let ip = self.remote_ip("RemoteIP");
            o.str("RemoteIP", &ip);
        } else {
            o.str("RemoteIP", "");
        }
        o.str("RemoteIPType", "Public");
        o.str("Protocol", "Negotiate");
        o.str("AdditionalFields", "{\"IsLocalLogon\":false}");
        self.initiating(o);
    }

    fn certificate(&mut self, o: &mut Obj<'_>) {
        let w = self.world;
        let b = &w.binaries[self.rng.skewed(w.binaries.len())];
        o.str("SHA1", &b.sha1);
        o.bool("IsSigned", true);
        o.bool("IsTrusted", true);
        o.str("Signer", b.company);
        let signer = if !w.bad_signers.is_empty()
            && self.rng.chance(self.hit_rate * 3.0)
        {
            let s = w.bad_signers[self.rng.index(w.bad_signers.len())].clone();
            self.plant("SignerHash", "CertificateThumbprint", s.clone());
            s
        } else {
            w.signers[self.rng.skewed(w.signers.len())].clone()
        };
        o.str("SignerHash", &signer);
        o.str("Issuer", "Microsoft Code Signing PCA 2011");
        o.str("IssuerHash", &w.signers[0]);
        o.str("SignatureType", "Embedded");
        o.str("CertificateSerialNumber", &self.rng.hex(16));
        o.str("CrlDistributionPointUrls", "[]");
    }

    fn device_info(&mut self, o: &mut Obj<'_>, dev: usize) {
        o.str("OSPlatform", "Windows11");
        o.str("OSVersion", "10.0");
        let ip = self.remote_ip("PublicIP");
        o.str("PublicIP", &ip);
        o.str("OnboardingStatus", "Onboarded");
        o.str(
            "LoggedOnUsers",
            &format!(
                "[{{\"UserName\":\"{}\",\"DomainName\":\"CONTOSO\"}}]",
                self.world.devices[dev].account
            ),
        );
        o.bool("IsInternetFacing", false);
    }

    fn network_info(&mut self, o: &mut Obj<'_>, dev: usize) {
        let ip = &self.world.devices[dev].local_ip;
        o.str("NetworkAdapterName", "Ethernet0");
        o.str("MacAddress", "00-15-5D-01-02-03");
        o.str("IPAddresses", &format!("[{{\"IPAddress\":\"{ip}\",\"SubnetPrefix\":24,\"AddressType\":\"Private\"}}]"));
        o.str("DnsAddresses", "[\"10.0.0.2\"]");
        o.str("ConnectedNetworks", "[{\"Name\":\"corp\",\"IsConnectedToInternet\":true,\"Category\":\"Domain\"}]");
    }
}

fn legacy_name(table: &str) -> Option<&'static str> {
    Some(match table {
        "DeviceNetworkEvents" => "NetworkCommunicationEvents",
        "DeviceProcessEvents" => "ProcessCreationEvents",
        "DeviceFileEvents" => "FileCreationEvents",
        "DeviceImageLoadEvents" => "ImageLoadEvents",
        _ => return None,
    })
}

/// Splits a host/URL form into the bare host and the path+query.
fn split_host(url: &str) -> (String, String) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (auth, uri) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let host = auth.split(':').next().unwrap_or(auth);
    (host.to_owned(), uri.to_owned())
}

/// `2026-07-18T13:58:42.2499800Z` with `digits` fractional digits.
pub fn timestamp(nanos: Nanos, digits: usize) -> String {
    let secs = nanos / 1_000_000_000;
    let frac = nanos % 1_000_000_000;
    let days = secs / 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    let rem = secs % 86_400;
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    if digits > 0 {
        let f = format!("{frac:09}");
        s.push('.');
        s.push_str(&f[..digits]);
    }
    s.push('Z');
    s
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        // 2026-07-18T13:58:42.24998Z
        let t = 1_784_383_122_249_980_000;
        assert_eq!(timestamp(t, 7), "2026-07-18T13:58:42.2499800Z");
        assert_eq!(timestamp(t, 0), "2026-07-18T13:58:42Z");
    }
}
