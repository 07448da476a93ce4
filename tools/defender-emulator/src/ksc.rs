//! A fake Kaspersky Security Center OpenAPI server on loopback, for the
//! response tests: sessions (`Session.StartSession` with the `KSCBasic`
//! header, then `X-KSC-Session`; 403 once a session is gone), host search
//! with the chunk accessor, and `HostGroup.AddIncident` checked as KES's
//! EDR responses need it. Errors are `PxgError` bodies, sent with HTTP
//! 200 as KSC does; faults can be injected per method.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Response;
use serde_json::{Value, json};

use crate::{Dropped, Reply, spawn};

/// A host KSC manages.
#[derive(Clone, Debug)]
pub struct Host {
    /// KSC's id for it (`KLHST_WKS_HOSTNAME`, a GUID).
    pub id: String,
    /// `KLHST_WKS_DNSNAME` (the short name).
    pub dns_name: String,
    /// `KLHST_WKS_DNSDOMAIN`.
    pub dns_domain: String,
    /// `KLHST_WKS_WINHOSTNAME`.
    pub win_name: String,
}

/// A fault for the next call of a method.
#[derive(Clone, Debug)]
pub enum KscFault {
    /// Answer normally (to let a call through before later faults).
    Pass,
    /// A `PxgError` with this code and message (HTTP 200).
    PxgError(i64, String),
    /// This HTTP status, no body.
    Status(u16),
    /// The caller's session ends before the call (it gets 403).
    ExpireSession,
}

#[derive(Default)]
struct State {
    user: String,
    password: String,
    sessions: HashSet<String>,
    issued: u64,
    hosts: Vec<Host>,
    accessors: HashMap<String, Vec<Value>>,
    incidents: Vec<Value>,
    updates: Vec<Value>,
    faults: HashMap<String, VecDeque<KscFault>>,
    calls: Vec<String>,
}

/// A running fake KSC; stops when dropped.
pub struct FakeKsc {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl FakeKsc {
    /// Starts one on a free loopback port, accepting `user`/`password`.
    ///
    /// # Errors
    ///
    /// When the port cannot be bound.
    pub fn start(user: &str, password: &str) -> std::io::Result<FakeKsc> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            user: user.into(),
            password: password.into(),
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&state);
        spawn(listener, Arc::clone(&stop), move |req| {
            let s = Arc::clone(&s);
            async move {
                let method = req
                    .uri()
                    .path()
                    .trim_start_matches("/api/v1.0/")
                    .to_owned();
                let header = |k: &str| {
                    req.headers()
                        .get(k)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                let (auth, session) =
                    (header("authorization"), header("x-ksc-session"));
                let body = req
                    .into_body()
                    .collect()
                    .await
                    .map_err(|_| Dropped)?
                    .to_bytes();
                let body: Value =
                    serde_json::from_slice(&body).unwrap_or(Value::Null);
                let (status, v) = s.lock().unwrap().answer(
                    &method,
                    auth.as_deref(),
                    session.as_deref(),
                    &body,
                );
                Ok::<Reply, Dropped>(
                    Response::builder()
                        .status(status)
                        .header("Content-Type", "application/json")
                        .body(Full::new(Bytes::from(if v.is_null() {
                            String::new()
                        } else {
                            v.to_string()
                        })))
                        .expect("a valid response"),
                )
            }
        })?;
        Ok(FakeKsc { state, addr, stop })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Adds a host.
    pub fn add_host(&self, id: &str, fqdn: &str) {
        let (short, domain) = fqdn.split_once('.').unwrap_or((fqdn, ""));
        let h = Host {
            id: id.into(),
            dns_name: short.into(),
            dns_domain: domain.into(),
            win_name: short.to_ascii_uppercase(),
        };
        self.state.lock().unwrap().hosts.push(h);
    }

    /// Answers the next calls of `method` (`HostGroup.AddIncident`) with
    /// `faults`, in order.
    pub fn inject(
        &self,
        method: &str,
        faults: impl IntoIterator<Item = KscFault>,
    ) {
        self.state
            .lock()
            .unwrap()
            .faults
            .entry(method.into())
            .or_default()
            .extend(faults);
    }

    /// The incidents added (their `pData`), in order.
    pub fn incidents(&self) -> Vec<Value> {
        self.state.lock().unwrap().incidents.clone()
    }

    /// `UpdateIncident` calls (their arguments).
    pub fn updates(&self) -> Vec<Value> {
        self.state.lock().unwrap().updates.clone()
    }

    /// Every method called, in order.
    pub fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }

    /// Sessions started so far.
    pub fn sessions_started(&self) -> u64 {
        self.state.lock().unwrap().issued
    }
}

impl Drop for FakeKsc {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(self.addr);
    }
}

fn pxg(code: i64, message: &str) -> (u16, Value) {
    (
        200,
        json!({"PxgError": {"code": code, "subcode": 0, "module": "KLSTD", "file": "fake.cpp", "line": 1, "message": message, "locdata": {}}}),
    )
}

/// `KSCBasic user="<b64>", pass="<b64>", domain="", internal="1"`.
fn basic(header: &str) -> Option<(String, String)> {
    let rest = header.strip_prefix("KSCBasic ")?;
    let field = |k: &str| -> Option<String> {
        let at = rest.find(&format!("{k}=\""))? + k.len() + 2;
        let end = rest[at..].find('"')?;
        Some(rest[at..at + end].to_owned())
    };
    let decode =
        |v: String| B64.decode(v).ok().and_then(|b| String::from_utf8(b).ok());
    Some((decode(field("user")?)?, decode(field("pass")?)?))
}

impl State {
    fn answer(
        &mut self,
        method: &str,
        auth: Option<&str>,
        session: Option<&str>,
        body: &Value,
    ) -> (u16, Value) {
        self.calls.push(method.to_owned());
        if method == "Session.StartSession" || method == "login" {
            return match auth.and_then(basic) {
                Some((u, p)) if u == self.user && p == self.password => {
                    self.issued += 1;
                    let id = format!("nsPbUpP1oAVZlM1lODEbg{}==", self.issued);
                    self.sessions.insert(id.clone());
                    (200, json!({"PxgRetVal": id}))
                }
                _ => (401, Value::Null),
            };
        }
        let fault = self.faults.get_mut(method).and_then(VecDeque::pop_front);
        if let Some(KscFault::ExpireSession) = fault {
            self.sessions.clear();
        }
        if !session.is_some_and(|s| self.sessions.contains(s)) {
            return (403, Value::Null);
        }
        match fault {
            Some(KscFault::PxgError(code, m)) => return pxg(code, &m),
            Some(KscFault::Status(s)) => return (s, Value::Null),
            _ => {}
        }
        match method {
            "Session.EndSession" => {
                if let Some(s) = session {
                    self.sessions.remove(s);
                }
                (200, json!({}))
            }
            "HostGroup.FindHosts" => self.find_hosts(body),
            "ChunkAccessor.GetItemsChunk" => {
                let acc = body["strAccessor"].as_str().unwrap_or("");
                let Some(items) = self.accessors.get(acc) else {
                    return pxg(1184, "Accessor not found");
                };
                let start = body["nStart"].as_u64().unwrap_or(0) as usize;
                let count = body["nCount"].as_u64().unwrap_or(0) as usize;
                let chunk: Vec<Value> =
                    items.iter().skip(start).take(count).cloned().collect();
                (
                    200,
                    json!({"pChunk": {"KLCSP_ITERATOR_ARRAY": chunk.clone()}, "PxgRetVal": chunk.len()}),
                )
            }
            "ChunkAccessor.Release" => {
                self.accessors
                    .remove(body["strAccessor"].as_str().unwrap_or(""));
                (200, json!({}))
            }
            "HostGroup.AddIncident" => self.add_incident(body),
            "HostGroup.UpdateIncident" => {
                if body["nId"]
                    .as_i64()
                    .is_none_or(|n| n < 1 || n as usize > self.incidents.len())
                {
                    return pxg(1183, "Incident not found");
                }
                self.updates.push(body.clone());
                (200, json!({}))
            }
            _ => pxg(
                1950,
                &format!("Method {method} is not supported by this fake"),
            ),
        }
    }

    fn find_hosts(&mut self, body: &Value) -> (u16, Value) {
        let Some(filter) = body["wstrFilter"].as_str() else {
            return pxg(1191, "wstrFilter is required");
        };
        let values: Vec<String> = filter
            .split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_ascii_lowercase)
            .collect();
        let items: Vec<Value> = self
            .hosts
            .iter()
            .filter(|h| {
                let fqdn = format!("{}.{}", h.dns_name, h.dns_domain).to_ascii_lowercase();
                values.iter().any(|v| *v == fqdn || *v == h.dns_name.to_ascii_lowercase() || *v == h.win_name.to_ascii_lowercase())
            })
            .map(|h| {
                json!({"type": "params", "value": {
                    "KLHST_WKS_HOSTNAME": h.id, "KLHST_WKS_DNSNAME": h.dns_name,
                    "KLHST_WKS_DNSDOMAIN": h.dns_domain, "KLHST_WKS_WINHOSTNAME": h.win_name}})
            })
            .collect();
        let acc = format!("accessor-{}", self.accessors.len() + 1);
        let n = items.len();
        self.accessors.insert(acc.clone(), items);
        (200, json!({"strAccessor": acc, "PxgRetVal": n}))
    }

    fn add_incident(&mut self, body: &Value) -> (u16, Value) {
        let d = &body["pData"];
        if !d["KLINCDT_SEVERITY"].is_i64() {
            return pxg(1191, "KLINCDT_SEVERITY must be an int");
        }
        let added = d["KLINCDT_ADDED"]["value"].as_str().unwrap_or("");
        if d["KLINCDT_ADDED"]["type"] != "datetime"
            || added.len() != 20
            || !added.ends_with('Z')
        {
            return pxg(
                1191,
                "KLINCDT_ADDED must be {\"type\":\"datetime\",\"value\":\"YYYY-MM-DDTHH:MM:SSZ\"}",
            );
        }
        let host = d["KLHST_WKS_HOSTNAME"].as_str().unwrap_or("");
        if !self.hosts.iter().any(|h| h.id == host) {
            return pxg(1184, &format!("Host {host} not found"));
        }
        let Some(Ok(inner)) =
            d["KLINCDT_BODY"].as_str().map(serde_json::from_str::<Value>)
        else {
            return pxg(1191, "KLINCDT_BODY must be a JSON string");
        };
        if inner["targetHost"] != host
            || !inner["task"].is_string()
            || inner["responseEventIncident"] != true
        {
            return pxg(
                1191,
                "KLINCDT_BODY lacks targetHost, task or responseEventIncident",
            );
        }
        self.incidents.push(d.clone());
        (200, json!({"PxgRetVal": self.incidents.len()}))
    }
}
