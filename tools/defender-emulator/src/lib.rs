//! A Microsoft Defender for Endpoint API emulator: a real HTTP server on
//! loopback with the token endpoint and the indicator endpoints, and
//! Defender's rules as `../shared/reference/defender-api.md` records
//! them:
//!
//! - OAuth2 client credentials (`POST /{tenant}/oauth2/v2.0/token`);
//!   bearer tokens checked on every call, expiring;
//! - `GET /api/indicators` with `$top` (at most 10,000), `$skip` and
//!   `@odata.nextLink`; `POST /api/indicators/import` (at most 500, body
//!   keys case-sensitive, per-item `isFailed`, upsert on (type, value,
//!   action), `createdBy` = the caller's client id, `application` set at
//!   creation only); `POST /api/indicators/BatchDelete` (at most 500);
//! - Defender's validation of values and action/type pairs, the 15,000
//!   indicator tenant limit, per-endpoint rate limits answered with 429
//!   and `Retry-After`, and its error body
//!   `{"error":{"code","message","target"}}`;
//! - injected faults, per endpoint, in order: an error status, a slow
//!   answer, a dropped connection, a burst of 429s.
//!
//! Tests start it in-process ([`Emulator::start`]); the binary serves
//! one on a port for trying the CLI by hand. [`azurite`] starts the Azure
//! Storage emulator for the blob tests.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use iocmatch_core::defender::ApiIndicator;
use serde_json::{Value, json};

pub mod azurite;
pub mod ksc;
mod machines;
pub mod misp;

pub use machines::Machine;

/// The endpoints, for rate limits and faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    /// The token endpoint.
    Token,
    /// `GET /api/indicators`.
    List,
    /// `POST /api/indicators/import`.
    Import,
    /// `POST /api/indicators/BatchDelete`.
    BatchDelete,
    /// `GET /api/machines/{id}`.
    Machine,
    /// `POST /api/machines/{id}/<action>`.
    MachineAction,
    /// `GET /api/machineactions` and `GET /api/machineactions/{id}`.
    MachineActions,
    /// `POST /api/alerts/CreateAlertByReference`.
    CreateAlert,
}

/// A fault to answer one request with.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Answer normally (to let a request through before later faults).
    Pass,
    /// This status and Defender's error body.
    Status(u16),
    /// Answer normally, after this long.
    Slow(Duration),
    /// Close the connection without answering.
    Drop,
    /// 429 with this `Retry-After` (seconds).
    TooMany(f64),
    /// Do the work, then close the connection without answering (the
    /// client cannot know it was done).
    DropAfter,
}

/// An app registration the token endpoint accepts.
#[derive(Clone, Debug)]
pub struct App {
    /// Its client id.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
}

/// The emulator's settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Registered apps.
    pub apps: Vec<App>,
    /// Active indicators allowed per tenant.
    pub tenant_limit: usize,
    /// Items per import or BatchDelete.
    pub batch_limit: usize,
    /// Page size when `$top` is not given.
    pub default_page: usize,
    /// Calls per window, per route (`None`: unlimited).
    pub rate_limits: HashMap<Route, (u32, Duration)>,
    /// Token lifetime in seconds.
    pub token_lifetime: u64,
    /// Whether list pages carry `@odata.nextLink` (without one, clients
    /// page with `$skip`).
    pub next_links: bool,
}

impl Default for Config {
    fn default() -> Self {
        let minute = Duration::from_secs(60);
        Config {
            apps: Vec::new(),
            tenant_limit: 15_000,
            batch_limit: 500,
            default_page: 10_000,
            rate_limits: HashMap::from([
                (Route::List, (100, minute)),
                (Route::Import, (30, minute)),
                (Route::BatchDelete, (30, minute)),
                (Route::MachineAction, (100, minute)),
                (Route::MachineActions, (100, minute)),
                (Route::Machine, (100, minute)),
                (Route::CreateAlert, (15, minute)),
            ]),
            token_lifetime: 3599,
            next_links: true,
        }
    }
}

/// One request as the emulator saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logged {
    /// Method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The status answered (0 for a dropped connection).
    pub status: u16,
    /// The raw body.
    pub body: String,
}

#[derive(Default)]
struct State {
    config: Config,
    indicators: Vec<ApiIndicator>,
    next_id: u64,
    tokens: HashMap<String, (String, Instant)>,
    calls: HashMap<Route, VecDeque<Instant>>,
    faults: HashMap<Route, VecDeque<Fault>>,
    log: Vec<Logged>,
    issued: u64,
    /// This server's base URL, for next-page links.
    base: String,
    /// Position of each identity in `indicators`.
    index: HashMap<(String, String, String), usize>,
    /// Devices, machine actions and alerts.
    machines: machines::Machines,
}

/// A running emulator; stops when dropped.
pub struct Emulator {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

pub(crate) type Reply = Response<Full<Bytes>>;

/// The connection is to be closed without an answer.
#[derive(Debug)]
pub(crate) struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for Dropped {}

impl Emulator {
    /// Starts an emulator on 127.0.0.1 at a free port.
    ///
    /// # Errors
    ///
    /// When the port cannot be bound.
    pub fn start(config: Config) -> std::io::Result<Emulator> {
        Emulator::start_on("127.0.0.1:0", config)
    }

    /// Starts an emulator on `addr` (loopback only).
    ///
    /// # Errors
    ///
    /// When `addr` is not a loopback address or cannot be bound.
    pub fn start_on(addr: &str, config: Config) -> std::io::Result<Emulator> {
        let listener = std::net::TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        if !addr.ip().is_loopback() {
            return Err(std::io::Error::other(
                "the emulator serves loopback only",
            ));
        }
        listener.set_nonblocking(true)?;
        let base = format!("http://{addr}");
        let state = Arc::new(Mutex::new(State {
            config,
            next_id: 1,
            base,
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&state);
        spawn(listener, Arc::clone(&stop), move |req| {
            handle(Arc::clone(&s), req)
        })?;
        Ok(Emulator { state, addr, stop })
    }

    /// The base URL, for both the API and the login host.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Adds indicators as another creator made them (`createdBy` and
    /// `application` as given; ids assigned).
    pub fn seed(&self, items: Vec<ApiIndicator>) {
        let mut s = self.state.lock().unwrap();
        for mut i in items {
            i.id = Some(s.next_id.to_string());
            s.next_id += 1;
            s.indicators.push(i);
        }
        s.reindex();
    }

    /// The tenant's indicators.
    pub fn indicators(&self) -> Vec<ApiIndicator> {
        self.state.lock().unwrap().indicators.clone()
    }

    /// Answers the next requests to `route` with `faults`, in order.
    pub fn inject(
        &self,
        route: Route,
        faults: impl IntoIterator<Item = Fault>,
    ) {
        let mut s = self.state.lock().unwrap();
        s.faults.entry(route).or_default().extend(faults);
    }

    /// Every request so far.
    pub fn log(&self) -> Vec<Logged> {
        self.state.lock().unwrap().log.clone()
    }

    /// Requests that wrote (imports and deletes answered 2xx).
    pub fn writes(&self) -> usize {
        self.log()
            .iter()
            .filter(|l| {
                l.method == "POST"
                    && l.path.starts_with("/api/")
                    && (200..300).contains(&l.status)
            })
            .count()
    }

    /// Forgets the request log.
    pub fn clear_log(&self) {
        self.state.lock().unwrap().log.clear();
    }

    /// Tokens issued so far.
    pub fn tokens_issued(&self) -> u64 {
        self.state.lock().unwrap().issued
    }

    /// Changes the settings (limits, apps) of a running emulator.
    pub fn configure(&self, f: impl FnOnce(&mut Config)) {
        f(&mut self.state.lock().unwrap().config);
    }

    /// Adds a device.
    pub fn add_machine(&self, id: &str, name: &str, group: &str) {
        let m =
            Machine { id: id.into(), name: name.into(), group: group.into() };
        self.state.lock().unwrap().machines.machines.push(m);
    }

    /// Adds an event alerts may reference: machine, `ReportId` (as
    /// text), `Timestamp` exactly as written.
    pub fn add_event(&self, machine: &str, report_id: &str, time: &str) {
        let e = (machine.to_owned(), report_id.to_owned(), time.to_owned());
        self.state.lock().unwrap().machines.events.insert(e);
    }

    /// Looks a machine action takes to finish (default 0: done at the
    /// first look).
    pub fn set_action_polls(&self, polls: u32) {
        self.state.lock().unwrap().machines.polls = polls;
    }

    /// Makes the device's actions end `Failed`.
    pub fn fail_actions_on(&self, machine: &str) {
        self.state.lock().unwrap().machines.failing.insert(machine.to_owned());
    }

    /// Starts an action as another console would (it stays pending until
    /// looked at).
    pub fn start_action(&self, machine: &str, suffix: &str) {
        let mut s = self.state.lock().unwrap();
        s.machines.polls += 100;
        let body = json!({"Comment": "started elsewhere", "IsolationType": "Full", "ScanType": "Quick"}).to_string();
        let _ = s.machines.post_action(machine, suffix, &body);
        s.machines.polls -= 100;
    }

    /// Machine actions posted so far (as the API lists them).
    pub fn machine_actions(&self) -> Vec<Value> {
        self.state
            .lock()
            .unwrap()
            .machines
            .actions
            .iter()
            .map(|a| a.json())
            .collect()
    }

    /// Alerts created so far.
    pub fn alerts(&self) -> Vec<Value> {
        self.state.lock().unwrap().machines.alerts.clone()
    }

    /// Expires every token issued so far.
    pub fn expire_tokens(&self) {
        let mut s = self.state.lock().unwrap();
        for (_, (_, until)) in s.tokens.iter_mut() {
            *until = Instant::now();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = std::net::TcpStream::connect(self.addr);
    }
}

/// Serves `handler` on `listener` from a thread of its own (a
/// current-thread tokio runtime) until `stop` is set. A handler that
/// answers `Err(Dropped)` closes the connection without an answer.
pub(crate) fn spawn<F, Fut>(
    listener: std::net::TcpListener,
    stop: Arc<AtomicBool>,
    handler: F,
) -> std::io::Result<()>
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<Reply, Dropped>> + Send + 'static,
{
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener)
            else {
                return;
            };
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let handler = handler.clone();
                tokio::spawn(async move {
                    let service = service_fn(handler);
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        })
    });
    Ok(())
}

async fn handle(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Reply, Dropped> {
    let method = req.method().as_str().to_owned();
    let path = req
        .uri()
        .path_and_query()
        .map_or("/".to_owned(), |p| p.as_str().to_owned());
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match req.into_body().collect().await {
        Ok(b) => String::from_utf8_lossy(&b.to_bytes()).into_owned(),
        Err(_) => return Err(Dropped),
    };
    let route = route_of(&method, &path);
    let fault = route.and_then(|r| {
        state.lock().unwrap().faults.get_mut(&r).and_then(VecDeque::pop_front)
    });
    let log = |status: u16| {
        state.lock().unwrap().log.push(Logged {
            method: method.clone(),
            path: path.clone(),
            status,
            body: body.clone(),
        });
    };
    match fault {
        Some(Fault::Drop) => {
            log(0);
            return Err(Dropped);
        }
        Some(Fault::Status(code)) => {
            log(code);
            return Ok(error(code, "InternalServerError", "injected fault"));
        }
        Some(Fault::TooMany(after)) => {
            log(429);
            return Ok(too_many(after));
        }
        Some(Fault::Slow(d)) => tokio::time::sleep(d).await,
        Some(Fault::DropAfter | Fault::Pass) | None => {}
    }
    let reply = {
        let mut s = state.lock().unwrap();
        s.answer(route, &method, &path, auth.as_deref(), &body)
    };
    if fault == Some(Fault::DropAfter) {
        log(0);
        return Err(Dropped);
    }
    log(reply.status().as_u16());
    Ok(reply)
}

fn route_of(method: &str, path: &str) -> Option<Route> {
    let p = path.split('?').next().unwrap_or("");
    match (method, p) {
        ("POST", p) if p.ends_with("/oauth2/v2.0/token") => Some(Route::Token),
        ("GET", "/api/indicators") => Some(Route::List),
        ("POST", "/api/indicators/import") => Some(Route::Import),
        ("POST", "/api/indicators/BatchDelete") => Some(Route::BatchDelete),
        ("POST", "/api/alerts/CreateAlertByReference") => {
            Some(Route::CreateAlert)
        }
        ("GET", p) if p.starts_with("/api/machineactions") => {
            Some(Route::MachineActions)
        }
        ("POST", p)
            if p.starts_with("/api/machines/")
                && p.matches('/').count() == 4 =>
        {
            Some(Route::MachineAction)
        }
        ("GET", p)
            if p.starts_with("/api/machines/")
                && p.matches('/').count() == 3 =>
        {
            Some(Route::Machine)
        }
        _ => None,
    }
}

pub(crate) fn reply(status: u16, body: &Value) -> Reply {
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json; odata.metadata=minimal")
        .header("OData-Version", "4.0")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a valid response")
}

/// Defender's error body.
fn error(status: u16, code: &str, message: &str) -> Reply {
    reply(
        status,
        &json!({"error": {"code": code, "message": message, "target": "00000000-0000-0000-0000-000000000000"}}),
    )
}

fn too_many(after: f64) -> Reply {
    let mut r = error(
        429,
        "TooManyRequests",
        "Rate limit is exceeded. Try again later.",
    );
    r.headers_mut().insert(
        "Retry-After",
        format!("{after}").parse().expect("a header value"),
    );
    r
}

impl State {
    fn answer(
        &mut self,
        route: Option<Route>,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: &str,
    ) -> Reply {
        let Some(route) = route else {
            return error(
                404,
                "NotFound",
                &format!("no route for {method} {path}"),
            );
        };
        if route == Route::Token {
            return self.token(body);
        }
        let Some(caller) = self.caller(auth) else {
            return error(401, "Unauthorized", "Invalid or expired token");
        };
        if let Some(wait) = self.rate_limited(route) {
            return too_many(wait.as_secs_f64().ceil().max(1.0));
        }
        match route {
            Route::List => self.list(path),
            Route::Import => self.import(&caller, body),
            Route::BatchDelete => self.batch_delete(body),
            Route::Machine
            | Route::MachineAction
            | Route::MachineActions
            | Route::CreateAlert => {
                let (status, v) = self.machine_route(route, path, body);
                reply(status, &v)
            }
            Route::Token => unreachable!("answered above"),
        }
    }

    fn machine_route(
        &mut self,
        route: Route,
        path: &str,
        body: &str,
    ) -> (u16, Value) {
        let (p, query) = path.split_once('?').unwrap_or((path, ""));
        let parts: Vec<&str> = p.trim_start_matches('/').split('/').collect();
        let m = &mut self.machines;
        match (route, parts.as_slice()) {
            (Route::Machine, ["api", "machines", id]) => m.get_machine(id),
            (Route::MachineAction, ["api", "machines", id, action]) => {
                m.post_action(id, action, body)
            }
            (Route::MachineActions, ["api", "machineactions"]) => {
                let params: HashMap<String, String> =
                    form_urlencoded::parse(query.as_bytes())
                        .into_owned()
                        .collect();
                m.list_actions(
                    params.get("$filter").map_or("", String::as_str),
                )
            }
            (Route::MachineActions, ["api", "machineactions", id]) => {
                m.get_action(id)
            }
            (Route::CreateAlert, _) => m.create_alert(body),
            _ => (
                404,
                json!({"error": {"code": "NotFound", "message": format!("no route for {path}")}}),
            ),
        }
    }

    fn token(&mut self, body: &str) -> Reply {
        let form: HashMap<String, String> =
            form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
        if get("grant_type") != "client_credentials" {
            return reply(
                400,
                &json!({"error": "unsupported_grant_type", "error_description": "AADSTS70003: only client_credentials"}),
            );
        }
        if !get("scope").ends_with("/.default") {
            return reply(
                400,
                &json!({"error": "invalid_scope", "error_description": "AADSTS70011: The provided scope is not valid."}),
            );
        }
        let ok = self.config.apps.iter().any(|a| {
            a.client_id == get("client_id")
                && a.client_secret == get("client_secret")
        });
        if !ok {
            return reply(
                401,
                &json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 0"}),
            );
        }
        self.issued += 1;
        let token =
            format!("emulator-token-{}-{}", self.issued, fastish(self.issued));
        let lifetime = self.config.token_lifetime;
        self.tokens.insert(
            token.clone(),
            (
                get("client_id").to_owned(),
                Instant::now() + Duration::from_secs(lifetime),
            ),
        );
        reply(
            200,
            &json!({"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}),
        )
    }

    fn caller(&self, auth: Option<&str>) -> Option<String> {
        let token = auth?.strip_prefix("Bearer ")?;
        let (client, until) = self.tokens.get(token)?;
        (Instant::now() < *until).then(|| client.clone())
    }

    fn rate_limited(&mut self, route: Route) -> Option<Duration> {
        let &(calls, window) = self.config.rate_limits.get(&route)?;
        let now = Instant::now();
        let log = self.calls.entry(route).or_default();
        while log.front().is_some_and(|&t| now.duration_since(t) >= window) {
            log.pop_front();
        }
        if log.len() >= calls as usize {
            return Some((log[0] + window).saturating_duration_since(now));
        }
        log.push_back(now);
        None
    }

    fn list(&self, path: &str) -> Reply {
        let query = path.split_once('?').map_or("", |(_, q)| q);
        let params: HashMap<String, String> =
            form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let num = |k: &str| params.get(k).map(|v| v.parse::<usize>());
        let top = match num("$top") {
            None => self.config.default_page,
            Some(Ok(n)) if n <= 10_000 => n,
            Some(_) => {
                return error(
                    400,
                    "ODataError",
                    "$top must be an integer of at most 10000",
                );
            }
        };
        let skip = match num("$skip") {
            None => 0,
            Some(Ok(n)) => n,
            Some(Err(_)) => {
                return error(400, "ODataError", "$skip must be an integer");
            }
        };
        let page: Vec<&ApiIndicator> =
            self.indicators.iter().skip(skip).take(top).collect();
        let mut body = json!({"@odata.context": "https://api.security.microsoft.com/api/$metadata#Indicators", "value": page});
        if self.config.next_links && skip + top < self.indicators.len() {
            body["@odata.nextLink"] = json!(format!(
                "{}/api/indicators?$top={top}&$skip={}",
                self.base,
                skip + top
            ));
        }
        reply(200, &body)
    }

    fn import(&mut self, caller: &str, body: &str) -> Reply {
        let Ok(doc) = serde_json::from_str::<Value>(body) else {
            return error(
                400,
                "InvalidRequestBody",
                "Request body is incorrect",
            );
        };
        // Body parameter names are case-sensitive.
        let Some(items) = doc.get("Indicators").and_then(Value::as_array)
        else {
            return error(
                400,
                "InvalidRequestBody",
                "Request body is incorrect",
            );
        };
        if items.len() > self.config.batch_limit {
            return error(
                400,
                "MaximumBatchSizeExceeded",
                &format!(
                    "Received: {}, allowed: {}",
                    items.len(),
                    self.config.batch_limit
                ),
            );
        }
        if items.is_empty() {
            return error(
                400,
                "InvalidRequestBody",
                "Received an empty indicator list",
            );
        }
        let results: Vec<Value> =
            items.iter().map(|item| self.import_one(caller, item)).collect();
        reply(
            200,
            &json!({"@odata.context": "https://api.security.microsoft.com/api/$metadata#Collection(microsoft.windowsDefenderATP.api.ImportIndicatorResult)", "value": results}),
        )
    }

    fn import_one(&mut self, caller: &str, item: &Value) -> Value {
        let value = item
            .get("indicatorValue")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let failed = |reason: &str| json!({"id": null, "indicator": value, "isFailed": true, "failureReason": reason});
        let Ok(mut e) = serde_json::from_value::<ApiIndicator>(item.clone())
        else {
            return failed("InvalidInput: not an indicator");
        };
        if let Err(reason) = validate(&e) {
            return failed(&reason);
        }
        let key = identity(&e);
        let now = "2026-12-03T00:00:00.0000000Z".to_owned();
        if let Some(existing) =
            self.index.get(&key).map(|&i| &mut self.indicators[i])
        {
            // An update: `application` (and creator) stay as created.
            e.id = existing.id.clone();
            e.application = existing.application.clone();
            e.created_by = existing.created_by.clone();
            e.created_by_source = existing.created_by_source.clone();
            e.creation_time_date_time_utc =
                existing.creation_time_date_time_utc.clone();
            e.last_update_time = Some(now);
            e.last_updated_by = Some(caller.to_owned());
            *existing = e;
            return json!({"id": existing.id, "indicator": value, "isFailed": false, "failureReason": null});
        }
        if self.indicators.len() >= self.config.tenant_limit {
            return failed(&format!(
                "The tenant has reached its limit of {} indicators",
                self.config.tenant_limit
            ));
        }
        let id = self.next_id.to_string();
        self.next_id += 1;
        e.id = Some(id.clone());
        e.created_by = Some(caller.to_owned());
        e.created_by_source = Some("PublicApi".into());
        e.creation_time_date_time_utc = Some(now.clone());
        e.last_update_time = Some(now);
        self.index.insert(key, self.indicators.len());
        self.indicators.push(e);
        json!({"id": id, "indicator": value, "isFailed": false, "failureReason": null})
    }

    fn batch_delete(&mut self, body: &str) -> Reply {
        let Ok(doc) = serde_json::from_str::<Value>(body) else {
            return error(
                400,
                "InvalidRequestBody",
                "Request body is incorrect",
            );
        };
        let Some(ids) = doc.get("IndicatorIds").and_then(Value::as_array)
        else {
            return error(
                400,
                "InvalidRequestBody",
                "Request body is incorrect",
            );
        };
        if ids.is_empty() || ids.len() > self.config.batch_limit {
            return error(
                400,
                "InvalidRequestBody",
                &format!(
                    "between 1 and {} ids, got {}",
                    self.config.batch_limit,
                    ids.len()
                ),
            );
        }
        let ids: Vec<String> = ids
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect();
        let before = self.indicators.len();
        let gone: std::collections::HashSet<&str> =
            ids.iter().map(String::as_str).collect();
        self.indicators
            .retain(|i| !i.id.as_deref().is_some_and(|id| gone.contains(id)));
        self.reindex();
        if before - self.indicators.len() < ids.len() {
            // What Defender deletes alongside a missing id is not
            // documented; this emulator deletes the others.
            return error(
                404,
                "NotFound",
                "One or more indicators were not found",
            );
        }
        Response::builder()
            .status(204)
            .body(Full::new(Bytes::new()))
            .expect("a valid response")
    }
}

impl State {
    fn reindex(&mut self) {
        self.index = self
            .indicators
            .iter()
            .enumerate()
            .map(|(n, i)| (identity(i), n))
            .collect();
    }
}

fn fastish(n: u64) -> u64 {
    n.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 16
}

fn identity(e: &ApiIndicator) -> (String, String, String) {
    let low =
        |s: &Option<String>| s.as_deref().unwrap_or("").to_ascii_lowercase();
    (low(&e.indicator_type), low(&e.indicator_value), low(&e.action))
}

/// Defender's checks of one submitted indicator.
fn validate(e: &ApiIndicator) -> Result<(), String> {
    use iocmatch_core::{Action, IndicatorType};
    let field = |v: &Option<String>, name: &str| {
        v.as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
            .ok_or(format!("MissingRequiredParameter: {name}"))
    };
    let ty = field(&e.indicator_type, "indicatorType")?;
    let value = field(&e.indicator_value, "indicatorValue")?;
    let action = field(&e.action, "action")?;
    field(&e.title, "title")?;
    field(&e.description, "description")?;
    let ty: IndicatorType = IndicatorType::ALL
        .into_iter()
        .find(|t| t.as_str() == ty)
        .ok_or(format!("InvalidInput: unknown indicatorType '{ty}'"))?;
    let action = Action::ALL
        .into_iter()
        .find(|a| a.as_str() == action)
        .ok_or(format!("InvalidInput: unknown action '{action}'"))?;
    if !action.allowed_on(ty) {
        return Err(format!(
            "InvalidInput: action {action} is not supported for {ty}"
        ));
    }
    if action == Action::Audit
        && e.generate_alert.as_ref().and_then(|f| f.as_bool()) != Some(true)
    {
        return Err("InvalidInput: Audit requires generateAlert".into());
    }
    let code = match ty {
        IndicatorType::IpAddress => "InvalidIpAddress",
        IndicatorType::DomainName => "InvalidDomainName",
        IndicatorType::Url => "InvalidUrl",
        _ => "InvalidHashValue",
    };
    let bad = || Err(format!("{code}: '{value}'"));
    if value.contains('/') && ty == IndicatorType::IpAddress {
        return bad();
    }
    if ty == IndicatorType::Url && !value.contains("://") {
        return bad();
    }
    if ty == IndicatorType::CertificateThumbprint && value.len() != 40 {
        return bad();
    }
    iocmatch_core::normalize(ty, &value).map(|_| ()).or_else(|_| bad())
}
