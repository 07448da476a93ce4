//! Pulling attributes from a MISP server (`/attributes/restSearch`), a
//! page at a time, for the loaders to read: MISP's own JSON, one page
//! per element of the result.

use std::time::Duration;

use serde_json::{Value, json};

use crate::config::{check_url, host_of, is_loopback};
use crate::error::SyncError;
use crate::limits::RetryPolicy;
use crate::secret::Secret;

/// The MISP types that have a Defender counterpart.
pub const TYPES: [&str; 16] = [
    "md5",
    "sha1",
    "sha256",
    "filename|md5",
    "filename|sha1",
    "filename|sha256",
    "ip-src",
    "ip-dst",
    "ip-src|port",
    "ip-dst|port",
    "domain",
    "hostname",
    "domain|ip",
    "url",
    "x509-fingerprint-sha1",
    "x509-fingerprint-sha256",
];

/// What to pull.
#[derive(Clone, Debug)]
pub struct MispQuery {
    /// The server's base URL.
    pub url: String,
    /// The API key (`MISP_KEY`).
    pub key: Secret,
    /// Only attributes marked `to_ids`.
    pub to_ids_only: bool,
    /// Only attributes published in this period (`7d`, `24h`).
    pub last: Option<String>,
    /// Attributes per page.
    pub limit: usize,
    /// Stop after this many pages.
    pub max_pages: usize,
}

impl MispQuery {
    /// A query of `url` with `key`: `to_ids` only, 5,000 a page.
    pub fn new(url: impl Into<String>, key: Secret) -> MispQuery {
        MispQuery {
            url: url.into(),
            key,
            to_ids_only: true,
            last: None,
            limit: 5000,
            max_pages: 1000,
        }
    }
}

/// The pages of the search, as MISP returned them.
///
/// # Errors
///
/// A [`SyncError`] naming what MISP said (a refused key is a 403 with
/// a hint), or that it could not be reached.
pub fn pull(q: &MispQuery) -> Result<Vec<Vec<u8>>, SyncError> {
    check_url(&q.url).map_err(|m| {
        SyncError::Config(format!("the MISP URL {}: {m}", q.url))
    })?;
    if q.key.is_empty() {
        return Err(SyncError::Config(
            "MISP_KEY is not set (the API key of an API-enabled MISP user)"
                .into(),
        ));
    }
    let retry = RetryPolicy::default();
    let local =
        is_loopback(host_of(q.url.split_once("://").map_or("", |(_, r)| r)));
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(retry.timeout))
        .proxy(if local { None } else { ureq::Proxy::try_from_env() })
        .build()
        .new_agent();
    let url = format!("{}/attributes/restSearch", q.url.trim_end_matches('/'));
    let mut pages = Vec::new();
    for page in 1..=q.max_pages {
        let mut body = json!({"returnFormat": "json", "limit": q.limit, "page": page, "type": TYPES, "includeEventTags": false});
        if q.to_ids_only {
            body["to_ids"] = json!(1);
        }
        if let Some(l) = &q.last {
            body["last"] = json!(l);
        }
        let (text, total) = send(&agent, &url, &q.key, &body, &retry)?;
        let n = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| {
                v.pointer("/response/Attribute")
                    .and_then(Value::as_array)
                    .map(Vec::len)
            })
            .ok_or_else(|| SyncError::BadResponse {
                endpoint: "searching MISP",
                message: "no response.Attribute list".into(),
            })?;
        pages.push(text.into_bytes());
        // A short page is the last; so is the page that reaches the
        // count MISP announced (X-Result-Count), sparing an empty one.
        if n < q.limit || total.is_some_and(|t| page * q.limit >= t) {
            break;
        }
    }
    Ok(pages)
}

/// The answer's text, and the `X-Result-Count` when given.
fn send(
    agent: &ureq::Agent,
    url: &str,
    key: &Secret,
    body: &Value,
    retry: &RetryPolicy,
) -> Result<(String, Option<usize>), SyncError> {
    let mut last = String::new();
    for attempt in 1..=retry.attempts {
        let result = agent
            .post(url)
            .header("Authorization", key.expose())
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .send(body.to_string().as_bytes());
        match result {
            Ok(mut r) => {
                let status = r.status().as_u16();
                let total = r
                    .headers()
                    .get("x-result-count")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok());
                let text = r
                    .body_mut()
                    .with_config()
                    .limit(1 << 30)
                    .read_to_string()
                    .unwrap_or_default();
                if (200..300).contains(&status) {
                    return Ok((text, total));
                }
                if status < 500 && status != 429 {
                    let message = serde_json::from_str::<Value>(&text)
                        .ok()
                        .and_then(|v| {
                            v.get("message")
                                .and_then(Value::as_str)
                                .map(str::to_owned)
                        })
                        .unwrap_or_else(|| text.chars().take(200).collect());
                    let hint = (status == 403 || status == 401).then_some(
                        "check MISP_KEY: the API key of an API-enabled user",
                    );
                    return Err(SyncError::Api {
                        endpoint: "searching MISP",
                        status,
                        code: None,
                        message,
                        hint,
                    });
                }
                last = format!("HTTP {status}");
            }
            Err(e) => last = e.to_string(),
        }
        if attempt < retry.attempts {
            std::thread::sleep(
                retry.backoff(attempt).min(Duration::from_secs(10)),
            );
        }
    }
    Err(SyncError::Unavailable {
        endpoint: "searching MISP",
        attempts: retry.attempts,
        last,
    })
}
