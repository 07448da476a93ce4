//! The HTTP layer every call goes through: the token (fetched, cached,
//! refreshed before it expires), client-side pacing per endpoint, and
//! retries with backoff for the failures that pass (429 with its
//! `Retry-After`, 5xx, timeouts, dropped connections). 400, 401 and 403
//! are not retried: they say what to fix.

use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::config::{Settings, host_of, is_loopback};
use crate::error::{SyncError, hint};
use crate::limits::{Endpoint, Limits, Pacer, RetryPolicy};
use crate::secret::Secret;

/// Something the client did that a log should show (never a secret).
#[derive(Clone, Debug, PartialEq)]
pub enum Notice {
    /// Waiting before a call, to stay under the endpoint's rate limit.
    Pacing {
        /// The endpoint.
        endpoint: Endpoint,
        /// For how long.
        wait: Duration,
    },
    /// A failed attempt that will be retried.
    Retrying {
        /// The endpoint.
        endpoint: Endpoint,
        /// The attempt that failed (1-based).
        attempt: u32,
        /// The wait before the next one.
        wait: Duration,
        /// Why (`HTTP 503`, `429 Retry-After 2 s`, `timed out`).
        why: String,
    },
}

/// Calls made, by endpoint (attempts, retries included).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Calls {
    /// Token requests.
    pub token: u32,
    /// List pages.
    pub list: u32,
    /// Import batches.
    pub import: u32,
    /// BatchDelete batches.
    pub batch_delete: u32,
    /// Device and machine-action reads.
    pub machine_read: u32,
    /// Machine actions posted.
    pub machine_action: u32,
    /// Alerts created.
    pub create_alert: u32,
    /// Attempts that were retried.
    pub retried: u32,
}

impl Calls {
    /// Every call.
    pub fn total(&self) -> u32 {
        self.token
            + self.list
            + self.import
            + self.batch_delete
            + self.machine_read
            + self.machine_action
            + self.create_alert
    }

    fn count(&mut self, e: Endpoint) {
        match e {
            Endpoint::Token => self.token += 1,
            Endpoint::List => self.list += 1,
            Endpoint::Import => self.import += 1,
            Endpoint::BatchDelete => self.batch_delete += 1,
            Endpoint::MachineRead => self.machine_read += 1,
            Endpoint::MachineAction => self.machine_action += 1,
            Endpoint::CreateAlert => self.create_alert += 1,
        }
    }
}

/// Where notices go.
type Observer = Box<dyn FnMut(&Notice) + Send>;

/// An answer worth reading.
pub(crate) struct Answer {
    pub status: u16,
    pub body: String,
}

/// The largest body read: a full listing of 15,000 indicators is ~10 MB.
const MAX_BODY: u64 = 256 << 20;

/// A Defender API client for one tenant.
pub struct Client {
    agent: ureq::Agent,
    settings: Settings,
    token: Option<(Secret, Instant)>,
    limits: Limits,
    retry: RetryPolicy,
    pacer: Pacer,
    calls: Calls,
    observer: Option<Observer>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("api_url", &self.settings.api_url)
            .field("tenant_id", &self.settings.tenant_id)
            .field("client_id", &self.settings.client_id)
            .field("calls", &self.calls)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default = "an_hour")]
    expires_in: u64,
}

fn an_hour() -> u64 {
    3599
}

#[derive(Deserialize)]
struct TokenError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Defender's error body: `{"error":{"code","message","target"}}`.
#[derive(Deserialize)]
struct ApiErrorBody {
    error: ApiErrorInner,
}

#[derive(Deserialize)]
struct ApiErrorInner {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl Client {
    /// A client for `settings`, with Defender's rate limits and the
    /// default retry policy.
    pub fn new(settings: Settings) -> Client {
        Client::with_policy(
            settings,
            Limits::default(),
            RetryPolicy::default(),
        )
    }

    /// A client with its own limits and retry policy (tests make both
    /// short).
    pub fn with_policy(
        settings: Settings,
        limits: Limits,
        retry: RetryPolicy,
    ) -> Client {
        let local = is_loopback(host_of(
            settings.api_url.split_once("://").map_or("", |(_, r)| r),
        ));
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(retry.timeout))
            // A proxy from the environment is for the internet, not for
            // an emulator on this machine.
            .proxy(if local { None } else { ureq::Proxy::try_from_env() })
            .build();
        Client {
            agent: config.new_agent(),
            settings,
            token: None,
            limits,
            retry,
            pacer: Pacer::default(),
            calls: Calls::default(),
            observer: None,
        }
    }

    /// Calls `f` with every [`Notice`].
    pub fn observe(&mut self, f: impl FnMut(&Notice) + Send + 'static) {
        self.observer = Some(Box::new(f));
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Calls made so far.
    pub fn calls(&self) -> Calls {
        self.calls
    }

    fn notice(&mut self, n: Notice) {
        if let Some(f) = &mut self.observer {
            f(&n);
        }
    }

    /// `base + path`, for a path of the API.
    pub(crate) fn api(&self, path: &str) -> String {
        format!("{}{path}", self.settings.api_url.trim_end_matches('/'))
    }

    /// Sends a JSON request to the API and returns a 2xx answer.
    pub(crate) fn send(
        &mut self,
        endpoint: Endpoint,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
    ) -> Result<Answer, SyncError> {
        let mut refreshed = false;
        let mut last = String::new();
        for attempt in 1..=self.retry.attempts {
            self.pace(endpoint);
            let token = self.token()?;
            let auth = format!("Bearer {}", token.expose());
            let req = ureq::http::Request::builder()
                .method(method)
                .uri(url)
                .header("Authorization", auth)
                .header("Accept", "application/json");
            let result = match body {
                Some(b) => {
                    let req = req.header("Content-Type", "application/json");
                    req.body(b.to_vec()).map_err(|e| e.to_string()).and_then(
                        |r| self.agent.run(r).map_err(|e| e.to_string()),
                    )
                }
                None => {
                    req.body(()).map_err(|e| e.to_string()).and_then(|r| {
                        self.agent.run(r).map_err(|e| e.to_string())
                    })
                }
            };
            self.calls.count(endpoint);
            let (why, wait) = match result.and_then(read) {
                Ok((a, _)) if (200..300).contains(&a.status) => return Ok(a),
                Ok((a, _)) if a.status == 401 && !refreshed => {
                    // A token revoked or expired early: one fresh try.
                    refreshed = true;
                    self.token = None;
                    (format!("HTTP {}", a.status), Duration::ZERO)
                }
                Ok((a, retry_after)) if a.status == 429 => {
                    let wait = retry_after
                        .unwrap_or_else(|| self.retry.backoff(attempt));
                    if wait > self.retry.max_retry_after {
                        return Err(api_error(endpoint, &a));
                    }
                    (
                        format!(
                            "HTTP 429, Retry-After {} s",
                            wait.as_secs_f64()
                        ),
                        wait,
                    )
                }
                Ok((a, _)) if matches!(a.status, 500 | 502 | 503 | 504) => {
                    (format!("HTTP {}", a.status), self.retry.backoff(attempt))
                }
                Ok((a, _)) => return Err(api_error(endpoint, &a)),
                Err(e) => (e, self.retry.backoff(attempt)),
            };
            last = why.clone();
            if attempt < self.retry.attempts {
                self.calls.retried += 1;
                self.notice(Notice::Retrying { endpoint, attempt, wait, why });
                std::thread::sleep(wait);
            }
        }
        Err(SyncError::Unavailable {
            endpoint: endpoint.describe(),
            attempts: self.retry.attempts,
            last,
        })
    }

    fn pace(&mut self, endpoint: Endpoint) {
        let wait = self.pacer.wait(&self.limits, endpoint, Instant::now());
        if !wait.is_zero() {
            self.notice(Notice::Pacing { endpoint, wait });
            std::thread::sleep(wait);
        }
        self.pacer.record(endpoint, Instant::now());
    }

    /// A valid token: the cached one until 10 % of its life (at least a
    /// minute) is left, else a new one.
    fn token(&mut self) -> Result<Secret, SyncError> {
        if let Some((t, refresh_at)) = &self.token
            && Instant::now() < *refresh_at
        {
            return Ok(t.clone());
        }
        let (token, lifetime) = self.fetch_token()?;
        let margin =
            (lifetime / 10).max(Duration::from_secs(60)).min(lifetime);
        self.token = Some((token.clone(), Instant::now() + lifetime - margin));
        Ok(token)
    }

    fn fetch_token(&mut self) -> Result<(Secret, Duration), SyncError> {
        let s = self.settings.clone();
        let url = format!(
            "{}/{}/oauth2/v2.0/token",
            s.authority_host.trim_end_matches('/'),
            s.tenant_id
        );
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", s.client_id.as_str()),
            ("client_secret", s.client_secret.expose()),
            ("scope", s.scope.as_str()),
        ];
        let mut last = String::new();
        for attempt in 1..=self.retry.attempts {
            let result = self
                .agent
                .post(&url)
                .send_form(form)
                .map_err(|e| e.to_string())
                .and_then(read);
            self.calls.count(Endpoint::Token);
            let wait = match result {
                Ok((a, _)) if a.status == 200 => {
                    let t: TokenAnswer = serde_json::from_str(&a.body)
                        .map_err(|e| SyncError::BadResponse {
                            endpoint: Endpoint::Token.describe(),
                            message: e.to_string(),
                        })?;
                    return Ok((
                        Secret::new(t.access_token),
                        Duration::from_secs(t.expires_in),
                    ));
                }
                Ok((a, retry_after)) if a.status == 429 || a.status >= 500 => {
                    last = format!("HTTP {}", a.status);
                    retry_after.unwrap_or_else(|| self.retry.backoff(attempt))
                }
                Ok((a, _)) => {
                    let e: TokenError = serde_json::from_str(&a.body)
                        .unwrap_or(TokenError {
                            error: String::new(),
                            error_description: String::new(),
                        });
                    // The first line only: the rest is trace ids.
                    let desc = e
                        .error_description
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_owned();
                    let message = [e.error, desc]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(": ");
                    return Err(SyncError::Auth { status: a.status, message });
                }
                Err(e) => {
                    last = e;
                    self.retry.backoff(attempt)
                }
            };
            if attempt < self.retry.attempts {
                self.calls.retried += 1;
                self.notice(Notice::Retrying {
                    endpoint: Endpoint::Token,
                    attempt,
                    wait,
                    why: last.clone(),
                });
                std::thread::sleep(wait);
            }
        }
        Err(SyncError::Unavailable {
            endpoint: Endpoint::Token.describe(),
            attempts: self.retry.attempts,
            last,
        })
    }
}

/// The status, the body and a `Retry-After` in seconds.
fn read(
    mut r: ureq::http::Response<ureq::Body>,
) -> Result<(Answer, Option<Duration>), String> {
    let status = r.status().as_u16();
    let retry_after = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64);
    let body = r
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_string()
        .map_err(|e| format!("reading the answer: {e}"))?;
    Ok((Answer { status, body }, retry_after))
}

fn api_error(endpoint: Endpoint, a: &Answer) -> SyncError {
    let parsed: Option<ApiErrorBody> = serde_json::from_str(&a.body).ok();
    let (code, message) = match parsed {
        Some(b) => (b.error.code, b.error.message.unwrap_or_default()),
        None => (None, a.body.chars().take(200).collect()),
    };
    SyncError::Api {
        endpoint: endpoint.describe(),
        status: a.status,
        code,
        message,
        hint: hint(a.status),
    }
}
