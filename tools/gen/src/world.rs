//! The fixed pools records draw from: devices, binaries, hosts, addresses
//! and signers, benign and bad. Pools have a fixed size whatever the
//! output size, so generation runs in constant memory.

use crate::rng::Rng;

/// A device.
pub struct Device {
    pub id: String,
    pub name: String,
    pub group: &'static str,
    pub local_ip: String,
    pub account: &'static str,
}

/// An executable file.
pub struct Binary {
    pub name: String,
    pub folder: String,
    pub sha1: String,
    pub sha256: String,
    pub md5: String,
    pub company: &'static str,
    pub size: u64,
}

/// What a bad binary is indicted by.
#[derive(Clone, Copy)]
pub enum HashChoice {
    Sha1,
    Sha256,
    Md5,
}

/// A bad address and the indicator value that covers it.
pub struct BadIp {
    pub ip: String,
    pub indicator: String,
}

/// A bad host and the domain indicator that covers it.
pub struct BadHost {
    pub host: String,
    pub indicator: String,
}

/// A bad URL prefix (the indicator) on its host.
pub struct BadUrl {
    pub host: String,
    pub path: String,
}

impl BadUrl {
    pub fn indicator(&self) -> String {
        format!("http://{}{}", self.host, self.path)
    }
}

pub struct World {
    pub devices: Vec<Device>,
    pub binaries: Vec<Binary>,
    pub bad_binaries: Vec<(Binary, HashChoice)>,
    pub hosts: Vec<String>,
    pub bad_hosts: Vec<BadHost>,
    pub bad_domains: Vec<String>,
    pub ips: Vec<String>,
    pub bad_ips: Vec<BadIp>,
    pub bad_networks: Vec<String>,
    pub bad_urls: Vec<BadUrl>,
    pub signers: Vec<String>,
    pub bad_signers: Vec<String>,
}

pub const GROUPS: [&str; 4] =
    ["UnassignedGroup", "Servers", "Workstations", "Finance"];
const ACCOUNTS: [&str; 6] = [
    "system",
    "administrator",
    "alice",
    "bob",
    "svc-backup",
    "network service",
];
const COMPANIES: [&str; 5] = [
    "Microsoft Corporation",
    "Google LLC",
    "Mozilla Corporation",
    "Adobe Inc.",
    "Contoso Ltd",
];
const EXE: [&str; 16] = [
    "svchost.exe",
    "chrome.exe",
    "msedge.exe",
    "explorer.exe",
    "powershell.exe",
    "cmd.exe",
    "teams.exe",
    "outlook.exe",
    "winword.exe",
    "rundll32.exe",
    "onedrive.exe",
    "firefox.exe",
    "msiexec.exe",
    "taskhostw.exe",
    "backgroundtaskhost.exe",
    "searchindexer.exe",
];
const DIRS: [&str; 5] = [
    "c:\\windows\\system32",
    "c:\\program files\\google\\chrome\\application",
    "c:\\program files (x86)\\microsoft\\edge\\application",
    "c:\\users\\alice\\appdata\\local\\temp",
    "c:\\program files\\contoso\\agent",
];
const WORDS: [&str; 24] = [
    "cloud", "cdn", "update", "secure", "login", "static", "api", "mail",
    "data", "sync", "portal", "edge", "files", "media", "store", "global",
    "net", "web", "app", "svc", "blue", "fast", "north", "delta",
];
const TLDS: [&str; 6] = ["com", "net", "org", "io", "co.uk", "de"];

impl World {
    /// Builds the pools for `seed`. `bad` scales the bad pools (each has
    /// `bad` entries), which sets how many planted indicators exist.
    pub fn new(seed: u64, bad: usize) -> World {
        let mut r = Rng::new(seed);
        let devices = (0..400).map(|i| device(&mut r, i)).collect();
        let binaries = (0..3000).map(|_| binary(&mut r, false)).collect();
        let choices = [HashChoice::Sha1, HashChoice::Sha256, HashChoice::Md5];
        let bad_binaries =
            (0..bad).map(|i| (binary(&mut r, true), choices[i % 3])).collect();
        let bases: Vec<String> = (0..1500).map(|_| domain(&mut r)).collect();
        let hosts = (0..4000)
            .map(|i| {
                let base = &bases[i % bases.len()];
                if i < bases.len() {
                    base.clone()
                } else {
                    format!("{}.{base}", r.pick(&WORDS))
                }
            })
            .collect();
        let bad_domains: Vec<String> = (0..bad)
            .map(|i| {
                format!(
                    "{}-{}{i}.{}",
                    r.pick(&WORDS),
                    r.pick(&WORDS),
                    r.pick(&TLDS)
                )
            })
            .collect();
        let bad_hosts = bad_domains
            .iter()
            .map(|d| BadHost {
                host: if r.chance(0.5) {
                    d.clone()
                } else {
                    format!("{}.{d}", r.pick(&WORDS))
                },
                indicator: d.clone(),
            })
            .collect();
        let ips = (0..3000).map(|_| benign_ip(&mut r)).collect();
        let (bad_ips, bad_networks) = bad_ips(&mut r, bad);
        let bad_urls = (0..bad)
            .map(|i| BadUrl {
                host: format!(
                    "dl{i}.{}-{}.net",
                    r.pick(&WORDS),
                    r.pick(&WORDS)
                ),
                path: format!("/{}/{}", r.pick(&WORDS), r.hex(6)),
            })
            .collect();
        let signers = (0..200).map(|_| r.hex(40)).collect();
        let bad_signers = (0..bad.div_ceil(10)).map(|_| r.hex(40)).collect();
        World {
            devices,
            binaries,
            bad_binaries,
            hosts,
            bad_hosts,
            bad_domains,
            ips,
            bad_ips,
            bad_networks,
            bad_urls,
            signers,
            bad_signers,
        }
    }
}

fn device(r: &mut Rng, i: usize) -> Device {
    let kind = if i.is_multiple_of(7) { "srv" } else { "wks" };
    Device {
        id: r.hex(40),
        name: format!("{kind}-{i:04}.corp.contoso.com"),
        group: GROUPS[r.skewed(GROUPS.len())],
        local_ip: format!(
            "10.{}.{}.{}",
            r.below(256),
            r.below(256),
            1 + r.below(254)
        ),
        account: ACCOUNTS[r.index(ACCOUNTS.len())],
    }
}

fn binary(r: &mut Rng, bad: bool) -> Binary {
    let name = if bad {
        format!("{}{}.exe", r.pick(&WORDS), r.below(100))
    } else {
        r.pick(&EXE).to_string()
    };
    Binary {
        folder: format!("{}\\{name}", r.pick(&DIRS)),
        name,
        sha1: r.hex(40),
        sha256: r.hex(64),
        md5: r.hex(32),
        company: COMPANIES[r.skewed(COMPANIES.len())],
        size: 10_000 + r.below(30_000_000),
    }
}

fn domain(r: &mut Rng) -> String {
    format!("{}{}.{}", r.pick(&WORDS), r.pick(&WORDS), r.pick(&TLDS))
}

/// Benign addresses from large public blocks (cloud providers, CDNs).
fn benign_ip(r: &mut Rng) -> String {
    let first = [13u64, 20, 23, 40, 52, 104, 142, 151, 172, 199][r.index(10)];
    // 172 only in its public part (172.64/10 and above).
    let second = if first == 172 { 64 + r.below(150) } else { r.below(256) };
    if r.chance(0.05) {
        return format!(
            "2603:10{:02x}:{:x}::{:x}",
            r.below(256),
            r.below(65536),
            r.below(65536)
        );
    }
    format!("{first}.{second}.{}.{}", r.below(256), 1 + r.below(254))
}

/// Bad addresses: the first half indicted one by one, the second half
/// through their /24 network (an offline-only CIDR indicator).
fn bad_ips(r: &mut Rng, n: usize) -> (Vec<BadIp>, Vec<String>) {
    let mut ips = Vec::with_capacity(n);
    let mut nets = Vec::new();
    for i in 0..n {
        // Distinct /24s per entry, so no indicator covers another's
        // address and the ground truth stays exact.
        let a = [185, 188, 191][(i / 65536) % 3];
        let (b, c) = ((i / 256) % 256, i % 256);
        let ip = format!("{a}.{b}.{c}.{}", 1 + r.below(254));
        let indicator = if i % 2 == 0 {
            ip.clone()
        } else {
            let net = format!("{a}.{b}.{c}.0/24");
            nets.push(net.clone());
            net
        };
        ips.push(BadIp { ip, indicator });
    }
    nets.sort();
    nets.dedup();
    (ips, nets)
}
