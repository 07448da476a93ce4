//! Kaspersky Security Center's OpenAPI, for EDR responses (KES for
//! Windows 12.9+): a response is an incident (`HostGroup.AddIncident`)
//! whose body names the task, and KSC turns it into a task
//! `[Response][iocmatch] <task> - …` on the host.
//!
//! - Every call is `POST {url}/api/v1.0/Class.Method` with named JSON
//!   arguments. A session (`Session.StartSession` with the `KSCBasic`
//!   header) gives the `X-KSC-Session` token later calls carry; an
//!   expired one (403) is renewed once.
//! - An answer carrying `PxgError` is a failure, whatever its HTTP status.
//! - The host is found by the alert's `DeviceName` (`HostGroup.FindHosts`,
//!   then the chunk accessor); none, or more than one, is no target.
//! - Credentials: `KSC_URL`, `KSC_USER`, `KSC_PASSWORD` (`KSC_DOMAIN`,
//!   `KSC_INTERNAL=0` for a domain account, `KSC_CA_CERT` for KSC's
//!   self-signed certificate). The password is a [`Secret`]. HTTPS is
//!   required except on loopback.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use crate::config::{host_of, is_loopback};
use crate::error::SyncError;
use crate::respond::alerts::AlertLine;
use crate::respond::policy::KscTask;
use crate::secret::Secret;

/// Where KSC is and as whom.
#[derive(Clone, Debug)]
pub struct KscSettings {
    /// `https://ksc.corp:13299`.
    pub url: String,
    /// The user.
    pub user: String,
    /// Its password.
    pub password: Secret,
    /// The Windows domain, for a domain account.
    pub domain: String,
    /// A KSC-internal user (the default) rather than a domain account.
    pub internal: bool,
    /// KSC's certificate (PEM), trusted for this server.
    pub ca_cert: Option<PathBuf>,
}

/// The `[ksc]` table of a config file.
#[derive(Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    url: Option<String>,
    user: Option<String>,
    password: Option<String>,
    domain: Option<String>,
    internal: Option<bool>,
    ca_cert: Option<PathBuf>,
}

#[derive(Default, serde::Deserialize)]
struct ConfigFile {
    #[serde(default)]
    ksc: Option<FileSettings>,
}

impl KscSettings {
    /// Settings from the environment; `None` when `KSC_URL` is not set.
    ///
    /// # Errors
    ///
    /// A [`SyncError::Config`] naming what is missing or unsafe.
    pub fn from_env(
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<KscSettings>, SyncError> {
        KscSettings::load(env, None)
    }

    /// Settings from the environment and a config file's `[ksc]` table
    /// (`url`, `user`, `password`, `domain`, `internal`, `ca_cert`); the
    /// environment wins. `None` when neither names a URL.
    ///
    /// # Errors
    ///
    /// A [`SyncError::Config`] naming what is missing or unsafe.
    pub fn load(
        env: &dyn Fn(&str) -> Option<String>,
        file: Option<&std::path::Path>,
    ) -> Result<Option<KscSettings>, SyncError> {
        let f = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    SyncError::Config(format!("{}: {e}", p.display()))
                })?;
                let c: ConfigFile = toml::from_str(&text).map_err(|e| {
                    SyncError::Config(format!("{}: {e}", p.display()))
                })?;
                c.ksc.unwrap_or_default()
            }
            None => FileSettings::default(),
        };
        let pick = |var: &str, from_file: &Option<String>| {
            env(var)
                .filter(|v| !v.trim().is_empty())
                .or_else(|| from_file.clone())
        };
        let Some(url) = pick("KSC_URL", &f.url) else { return Ok(None) };
        let need = |var: &str, from_file: &Option<String>| {
            pick(var, from_file).filter(|v| !v.is_empty()).ok_or_else(|| {
                SyncError::Config(format!("{var} is not set (environment variable or the config file's [ksc] table)"))
            })
        };
        let url = url.trim().trim_end_matches('/').to_owned();
        let host = host_of(url.split_once("://").map_or("", |(_, r)| r));
        let local_http = url.starts_with("http://") && is_loopback(host);
        if !url.starts_with("https://") && !local_http {
            return Err(SyncError::Config(format!(
                "KSC_URL {url}: HTTPS is required (plain HTTP only on loopback)"
            )));
        }
        Ok(Some(KscSettings {
            url,
            user: need("KSC_USER", &f.user)?,
            password: Secret::new(need("KSC_PASSWORD", &f.password)?),
            domain: pick("KSC_DOMAIN", &f.domain).unwrap_or_default(),
            internal: match env("KSC_INTERNAL") {
                Some(v) => v != "0",
                None => f.internal.unwrap_or(true),
            },
            ca_cert: env("KSC_CA_CERT")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .or(f.ca_cert),
        }))
    }
}

/// A KSC client: one connection, one call at a time.
pub struct Ksc {
    agent: ureq::Agent,
    settings: KscSettings,
    session: Option<Secret>,
    /// The application name KSC shows in its task names.
    area: String,
}

impl std::fmt::Debug for Ksc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ksc")
            .field("url", &self.settings.url)
            .field("user", &self.settings.user)
            .finish_non_exhaustive()
    }
}

/// What became of a KSC response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KscOutcome {
    /// The incident (and so the task) was created.
    Sent(String),
    /// No single host to act on.
    Refused(String),
    /// KSC refused.
    Failed(String),
}

impl Ksc {
    /// A client; connects at the first call.
    ///
    /// # Errors
    ///
    /// When the CA certificate cannot be read.
    pub fn new(settings: KscSettings, area: &str) -> Result<Ksc, SyncError> {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)));
        if let Some(ca) = &settings.ca_cert {
            let pem = std::fs::read(ca).map_err(|e| {
                SyncError::Config(format!("KSC_CA_CERT {}: {e}", ca.display()))
            })?;
            let certs: Vec<ureq::tls::Certificate<'static>> =
                ureq::tls::parse_pem(&pem)
                    .filter_map(|item| match item {
                        Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                        _ => None,
                    })
                    .collect();
            if certs.is_empty() {
                return Err(SyncError::Config(format!(
                    "KSC_CA_CERT {}: no certificate in it",
                    ca.display()
                )));
            }
            let tls = ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::Specific(
                    std::sync::Arc::new(certs),
                ))
                .build();
            config = config.tls_config(tls);
        }
        Ok(Ksc {
            agent: config.build().new_agent(),
            settings,
            session: None,
            area: area.to_owned(),
        })
    }

    /// One call; `PxgError` and HTTP errors become [`SyncError`]s.
    fn call(
        &mut self,
        method: &str,
        args: &Value,
    ) -> Result<Value, SyncError> {
        for renewed in [false, true] {
            let session = match &self.session {
                Some(s) => s.clone(),
                None => self.login()?,
            };
            let (status, body) = self.post(method, args, Some(&session))?;
            if status == 403 && !renewed {
                // The session expired (KSC ends idle ones): once more.
                self.session = None;
                continue;
            }
            return answer(method, status, &body);
        }
        unreachable!("the loop returns")
    }

    fn login(&mut self) -> Result<Secret, SyncError> {
        let s = &self.settings;
        let header = format!(
            "KSCBasic user=\"{}\", pass=\"{}\", domain=\"{}\", internal=\"{}\"",
            B64.encode(&s.user),
            B64.encode(s.password.expose()),
            s.domain,
            u8::from(s.internal)
        );
        let url = format!("{}/api/v1.0/Session.StartSession", s.url);
        let req = ureq::http::Request::builder()
            .method("POST")
            .uri(&url)
            .header("Authorization", header)
            .header("Content-Type", "application/json")
            .header("X-KSC-VServer", B64.encode(""))
            .body(b"{}".to_vec())
            .map_err(|e| SyncError::Config(e.to_string()))?;
        let (status, body) = self.run(req, "Session.StartSession")?;
        if status == 401 {
            let mfa = body.contains("Authentication not finished");
            return Err(SyncError::Auth {
                status,
                message: if mfa {
                    "KSC asks for a second factor: use an internal account without two-factor authentication".into()
                } else {
                    "KSC refused the user or password".into()
                },
            });
        }
        let v = answer("Session.StartSession", status, &body)?;
        let id =
            v.get("PxgRetVal").and_then(Value::as_str).ok_or_else(|| {
                SyncError::BadResponse {
                    endpoint: "logging in to KSC",
                    message: "no session id in the answer".into(),
                }
            })?;
        let s = Secret::new(id.to_owned());
        self.session = Some(s.clone());
        Ok(s)
    }

    fn post(
        &self,
        method: &str,
        args: &Value,
        session: Option<&Secret>,
    ) -> Result<(u16, String), SyncError> {
        let url = format!("{}/api/v1.0/{method}", self.settings.url);
        let mut req = ureq::http::Request::builder()
            .method("POST")
            .uri(&url)
            .header("Content-Type", "application/json");
        if let Some(s) = session {
            req = req.header("X-KSC-Session", s.expose());
        }
        let body = serde_json::to_vec(args)
            .map_err(|e| SyncError::Config(e.to_string()))?;
        let req =
            req.body(body).map_err(|e| SyncError::Config(e.to_string()))?;
        self.run(req, method)
    }

    fn run(
        &self,
        req: ureq::http::Request<Vec<u8>>,
        method: &str,
    ) -> Result<(u16, String), SyncError> {
        let mut r =
            self.agent.run(req).map_err(|e| SyncError::Unavailable {
                endpoint: "calling KSC",
                attempts: 1,
                last: format!("{method}: {e}"),
            })?;
        let status = r.status().as_u16();
        let body = r
            .body_mut()
            .with_config()
            .limit(16 << 20)
            .read_to_string()
            .unwrap_or_default();
        Ok((status, body))
    }

    /// The KSC host id (`KLHST_WKS_HOSTNAME`) of the device named `name`
    /// (an FQDN or a NetBIOS name).
    ///
    /// # Errors
    ///
    /// When KSC cannot be reached or refuses.
    pub fn find_host(
        &mut self,
        name: &str,
    ) -> Result<Result<String, String>, SyncError> {
        let lower = name.to_ascii_lowercase();
        let (short, domain) = lower.split_once('.').unwrap_or((&lower, ""));
        let q = |s: &str| s.replace('"', "");
        let filter = format!(
            "(|(KLHST_WKS_DNSNAME=\"{}\")(&(KLHST_WKS_DNSNAME=\"{}\")(KLHST_WKS_DNSDOMAIN=\"{}\"))(KLHST_WKS_WINHOSTNAME=\"{}\"))",
            q(&lower),
            q(short),
            q(domain),
            q(&short.to_ascii_uppercase())
        );
        let fields = [
            "KLHST_WKS_HOSTNAME",
            "KLHST_WKS_DNSNAME",
            "KLHST_WKS_DNSDOMAIN",
            "KLHST_WKS_WINHOSTNAME",
        ];
        let found = self.call(
            "HostGroup.FindHosts",
            &json!({"wstrFilter": filter, "vecFieldsToReturn": fields, "vecFieldsToOrder": [], "pParams": {}, "lMaxLifeTime": 60}),
        )?;
        let accessor = found
            .get("strAccessor")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let count =
            found.get("PxgRetVal").and_then(Value::as_i64).unwrap_or(0);
        let mut hosts = Vec::new();
        if count > 0 {
            let chunk = self.call(
                "ChunkAccessor.GetItemsChunk",
                &json!({"strAccessor": accessor, "nStart": 0, "nCount": count.min(100)}),
            )?;
            let items = chunk
                .pointer("/pChunk/KLCSP_ITERATOR_ARRAY")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for item in items {
                let h = item.get("value").unwrap_or(&item);
                let field = |k: &str| {
                    h.get(k)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_ascii_lowercase()
                };
                let fqdn = match field("KLHST_WKS_DNSDOMAIN") {
                    d if d.is_empty() => field("KLHST_WKS_DNSNAME"),
                    d => format!("{}.{d}", field("KLHST_WKS_DNSNAME")),
                };
                let same = fqdn == lower
                    || field("KLHST_WKS_DNSNAME") == lower
                    || field("KLHST_WKS_WINHOSTNAME") == short;
                if same {
                    hosts.push(field("KLHST_WKS_HOSTNAME"));
                }
            }
        }
        if !accessor.is_empty() {
            // Frees the server's iterator; a failure here changes nothing.
            let _ = self.call(
                "ChunkAccessor.Release",
                &json!({"strAccessor": accessor}),
            );
        }
        hosts.sort();
        hosts.dedup();
        Ok(match hosts.len() {
            1 => Ok(hosts.remove(0)),
            0 => Err(format!("KSC has no host named {name}")),
            n => Err(format!(
                "{n} KSC hosts are named {name}: not acting on any"
            )),
        })
    }

    /// Sends `task` for the alert's device as an incident.
    ///
    /// # Errors
    ///
    /// When KSC cannot be reached (a refusal is an outcome).
    pub fn respond(
        &mut self,
        task: KscTask,
        alert: &AlertLine,
    ) -> Result<KscOutcome, SyncError> {
        let host = match self.find_host(&alert.device_name) {
            Ok(Ok(h)) => h,
            Ok(Err(why)) => return Ok(KscOutcome::Refused(why)),
            Err(SyncError::Api { message, .. }) => {
                return Ok(KscOutcome::Failed(message));
            }
            Err(e) => return Err(e),
        };
        let body = json!({
            "targetHost": host,
            "task": task.task(),
            "params": params(task, alert),
            "responseEventIncident": true,
            "responseEventIncidentArea": self.area,
        });
        let added =
            jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let data = json!({"pData": {
            "KLINCDT_SEVERITY": 2,
            "KLINCDT_ADDED": {"type": "datetime", "value": added},
            "KLINCDT_BODY": body.to_string(),
            "KLHST_WKS_HOSTNAME": host,
        }});
        let id = match self.call("HostGroup.AddIncident", &data) {
            Ok(v) => match v.get("PxgRetVal") {
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::String(s)) => s.clone(),
                _ => {
                    return Ok(KscOutcome::Failed(
                        "AddIncident gave no incident id".into(),
                    ));
                }
            },
            Err(SyncError::Api { message, .. }) => {
                return Ok(KscOutcome::Failed(message));
            }
            Err(e) => return Err(e),
        };
        let n: Value =
            id.parse::<i64>().map_or(Value::String(id.clone()), Value::from);
        // As Kaspersky's sample does: the incident is left unhandled.
        if let Err(SyncError::Api { message, .. }) = self.call(
            "HostGroup.UpdateIncident",
            &json!({"nId": n, "pData": {"KLINCDT_IS_HANDLED": false}}),
        ) {
            return Ok(KscOutcome::Failed(format!(
                "incident {id} added, but: {message}"
            )));
        }
        Ok(KscOutcome::Sent(id))
    }

    /// Ends the session (KSC keeps few).
    pub fn close(&mut self) {
        if let Some(s) = self.session.take() {
            let _ = self.post("Session.EndSession", &json!({}), Some(&s));
        }
    }
}

impl Drop for Ksc {
    fn drop(&mut self) {
        self.close();
    }
}

/// The task's parameters (KES 12.9 EDR responses). File tasks know the
/// hash only: replay's alerts carry no path.
fn params(task: KscTask, a: &AlertLine) -> Value {
    let (md5, sha256) = match a.indicator.kind.as_str() {
        "FileMd5" => (a.indicator.value.as_str(), ""),
        "FileSha256" => ("", a.indicator.value.as_str()),
        _ => ("", ""),
    };
    match task {
        KscTask::GetFile | KscTask::QuarantineFile => {
            json!({"md5hash": md5, "sha256hash": sha256, "path": ""})
        }
        KscTask::DeleteFile => {
            json!({"md5hash": md5, "sha256hash": sha256, "path": "", "searchInSubfolders": false})
        }
        KscTask::TerminateProcess => {
            json!({"md5hash": md5, "sha256hash": sha256, "path": "", "caseSensitive": false})
        }
        KscTask::PreventExecution => {
            json!({"hash": md5, "path": "", "caseSensitive": false})
        }
        KscTask::IsolateHost => json!({"action": 1}),
        KscTask::ReleaseHost => json!({"action": 0}),
        // All fixed drives (type 25), recursively.
        KscTask::OnDemandScan => {
            json!([{"enabled": true, "path": "", "recursive": true, "type": 25}])
        }
        KscTask::IocScan => {
            let xml = openioc(&a.indicator).unwrap_or_default();
            let name = format!("iocmatch-{}.ioc", a.indicator.id);
            json!({
                "ioc": B64.encode(zip_stored(&name, xml.as_bytes())),
                "isolateHost": false,
                "scanCriticalAreas": true,
                "quarantineObject": false,
            })
        }
    }
}

/// The indicator as an OpenIOC 1.1 document (what KES's IOC scan reads),
/// for the types OpenIOC has a term for.
pub(crate) fn openioc(
    i: &crate::respond::alerts::AlertIndicator,
) -> Option<String> {
    let (document, search, content) = match i.kind.as_str() {
        "FileMd5" => ("FileItem", "FileItem/Md5sum", "md5"),
        "FileSha1" => ("FileItem", "FileItem/Sha1sum", "string"),
        "FileSha256" => ("FileItem", "FileItem/Sha256sum", "string"),
        "IpAddress" => ("PortItem", "PortItem/remoteIP", "IP"),
        "DomainName" => ("DnsEntryItem", "DnsEntryItem/Host", "string"),
        "Url" => ("UrlHistoryItem", "UrlHistoryItem/URL", "string"),
        _ => return None,
    };
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let title = esc(i.title.as_deref().unwrap_or(&i.value));
    let value = esc(&i.value);
    // Three GUIDs: the document, its indicator and its item.
    let guid = |n: u32| format!("00000000-0000-4000-800{n}-{:012x}", i.id);
    let (id, ind, item) = (guid(0), guid(1), guid(2));
    Some(format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <OpenIOC xmlns=\"http://openioc.org/schemas/OpenIOC_1.1\" id=\"{id}\" last-modified=\"2026-01-01T00:00:00Z\">\n\
         <metadata><short_description>{title}</short_description><authored_by>iocmatch</authored_by></metadata>\n\
         <criteria><Indicator id=\"{ind}\" operator=\"OR\">\
         <IndicatorItem id=\"{item}\" condition=\"is\">\
         <Context document=\"{document}\" search=\"{search}\" type=\"mir\"/>\
         <Content type=\"{content}\">{value}</Content></IndicatorItem></Indicator></criteria>\n\
         </OpenIOC>\n"
    ))
}

/// A ZIP archive of one file, stored (the IOC scan takes a ZIP).
fn zip_stored(name: &str, data: &[u8]) -> Vec<u8> {
    let crc = crc32(data);
    let (n, len) = (name.len() as u16, data.len() as u32);
    let mut z = Vec::with_capacity(data.len() + 2 * name.len() + 100);
    // Local file header: version 2.0, no flags, stored, no time.
    z.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    z.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend_from_slice(&crc.to_le_bytes());
    z.extend_from_slice(&len.to_le_bytes());
    z.extend_from_slice(&len.to_le_bytes());
    z.extend_from_slice(&n.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(name.as_bytes());
    z.extend_from_slice(data);
    let central = z.len() as u32;
    z.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    z.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend_from_slice(&crc.to_le_bytes());
    z.extend_from_slice(&len.to_le_bytes());
    z.extend_from_slice(&len.to_le_bytes());
    z.extend_from_slice(&n.to_le_bytes());
    // Extra and comment lengths, disk, internal and external attributes,
    // then the local header's offset (0).
    z.extend_from_slice(&[0; 12]);
    z.extend_from_slice(&0u32.to_le_bytes());
    z.extend_from_slice(name.as_bytes());
    let size = z.len() as u32 - central;
    z.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    z.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
    z.extend_from_slice(&size.to_le_bytes());
    z.extend_from_slice(&central.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z
}

/// CRC-32 (IEEE), bit by bit: IOC files are a few hundred bytes.
fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 };
        }
    }
    !c
}

/// The result of a call, or its `PxgError` (KSC may send one with 200).
fn answer(method: &str, status: u16, body: &str) -> Result<Value, SyncError> {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    if let Some(e) = v.get("PxgError") {
        let message =
            e.get("message").and_then(Value::as_str).unwrap_or("no message");
        let code = e.get("code").and_then(Value::as_i64).unwrap_or(0);
        return Err(SyncError::Api {
            endpoint: "calling KSC",
            status,
            code: Some(code.to_string()),
            message: format!("{method}: KSC error {code}: {message}"),
            hint: None,
        });
    }
    if !(200..300).contains(&status) {
        return Err(SyncError::Api {
            endpoint: "calling KSC",
            status,
            code: None,
            message: format!("{method}: HTTP {status}"),
            hint: None,
        });
    }
    if v.is_null() {
        return Err(SyncError::BadResponse {
            endpoint: "calling KSC",
            message: format!("{method}: the answer is not JSON"),
        });
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(
        vars: &'a [(&'a str, &'a str)],
    ) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn settings_come_from_the_environment_and_refuse_plain_http_to_a_remote_host()
     {
        assert!(
            KscSettings::from_env(&env(&[])).unwrap().is_none(),
            "no KSC_URL: no KSC"
        );
        let ok = [
            ("KSC_URL", "https://ksc.corp:13299/"),
            ("KSC_USER", "svc"),
            ("KSC_PASSWORD", "pw"),
        ];
        let s = KscSettings::from_env(&env(&ok)).unwrap().unwrap();
        assert_eq!(
            (s.url.as_str(), s.internal),
            ("https://ksc.corp:13299", true)
        );
        assert!(!format!("{s:?}").contains("pw"), "the password is a Secret");
        let plain = [
            ("KSC_URL", "http://ksc.corp:13299"),
            ("KSC_USER", "svc"),
            ("KSC_PASSWORD", "pw"),
        ];
        let e = KscSettings::from_env(&env(&plain)).unwrap_err().to_string();
        assert!(e.contains("HTTPS is required"), "{e}");
        let local = [
            ("KSC_URL", "http://127.0.0.1:13299"),
            ("KSC_USER", "svc"),
            ("KSC_PASSWORD", "pw"),
        ];
        assert!(KscSettings::from_env(&env(&local)).unwrap().is_some());
        let e = KscSettings::from_env(&env(&ok[..2])).unwrap_err().to_string();
        assert!(e.contains("KSC_PASSWORD"), "{e}");
    }

    #[test]
    fn a_config_file_gives_what_the_environment_does_not() {
        let dir = std::env::temp_dir()
            .join(format!("iocmatch-ksc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("respond.toml");
        std::fs::write(&p, "[ksc]\nurl = 'https://ksc.corp:13299'\nuser = 'file-user'\npassword = 'file-pw'\ninternal = false\n").unwrap();
        let s = KscSettings::load(&env(&[("KSC_USER", "env-user")]), Some(&p))
            .unwrap()
            .unwrap();
        assert_eq!(
            (s.user.as_str(), s.password.expose(), s.internal),
            ("env-user", "file-pw", false)
        );
        std::fs::write(&p, "[ksc]\nurl = 'https://k'\nusr = 'typo'\n")
            .unwrap();
        assert!(
            KscSettings::load(&env(&[]), Some(&p))
                .unwrap_err()
                .to_string()
                .contains("unknown field")
        );
        std::fs::write(&p, "[defender]\ntenant_id = 't'\n").unwrap();
        assert!(
            KscSettings::load(&env(&[]), Some(&p)).unwrap().is_none(),
            "no [ksc]: no KSC"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ioc_scans_carry_the_indicator_as_openioc_in_a_zip() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926, "the CRC-32 check value");
        let i = crate::respond::alerts::AlertIndicator {
            id: 3,
            kind: "FileSha256".into(),
            value: "ab".repeat(32),
            action: "Block".into(),
            severity: "High".into(),
            title: Some("Ransom <x>".into()),
        };
        let xml = openioc(&i).unwrap();
        assert!(
            xml.contains("FileItem/Sha256sum")
                && xml.contains(&"ab".repeat(32))
                && xml.contains("Ransom &lt;x&gt;")
        );
        let z = zip_stored("a.ioc", xml.as_bytes());
        assert!(
            z.starts_with(b"PK\x03\x04")
                && z.windows(4).any(|w| w == b"PK\x05\x06")
        );
        let at = 30 + "a.ioc".len();
        assert_eq!(
            &z[at..at + xml.len()],
            xml.as_bytes(),
            "stored, not compressed"
        );
        let cert = crate::respond::alerts::AlertIndicator {
            kind: "CertificateThumbprint".into(),
            ..i
        };
        assert!(openioc(&cert).is_none());
    }

    #[test]
    fn a_pxg_error_is_a_failure_even_with_200() {
        let e = answer(
            "HostGroup.AddIncident",
            200,
            r#"{"PxgError":{"code":1191,"message":"Invalid"}}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("KSC error 1191: Invalid"), "{e}");
        assert!(answer("X", 200, "not json").is_err());
        assert!(answer("X", 500, "{}").is_err());
        assert_eq!(
            answer("X", 200, r#"{"PxgRetVal":5}"#).unwrap()["PxgRetVal"],
            5
        );
    }
}
