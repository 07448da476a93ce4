//! The indicator endpoints: list (paged), import (batches of at most
//! 500) and BatchDelete (at most 500 ids).

use iocmatch_core::defender::ApiIndicator;
use serde::{Deserialize, Serialize};

use crate::config::host_of;
use crate::error::SyncError;
use crate::http::Client;
use crate::limits::Endpoint;

/// Defender's batch size for import and BatchDelete.
pub const MAX_BATCH: usize = 500;

/// The largest page `$top` may ask for.
const PAGE: usize = 10_000;

#[derive(Deserialize)]
struct Page {
    value: Vec<ApiIndicator>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

/// One item of an import's answer, in the order of the batch.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportResult {
    /// The indicator's id (created or updated).
    #[serde(default)]
    pub id: Option<String>,
    /// The value, as the API echoes it.
    #[serde(default)]
    pub indicator: Option<String>,
    /// Whether this item failed.
    #[serde(default)]
    pub is_failed: bool,
    /// Why, when it failed.
    #[serde(default)]
    pub failure_reason: Option<String>,
}

#[derive(Deserialize)]
struct ImportAnswer {
    value: Vec<ImportResult>,
}

#[derive(Serialize)]
struct ImportBody<'a> {
    #[serde(rename = "Indicators")]
    indicators: &'a [ApiIndicator],
}

#[derive(Serialize)]
struct DeleteBody<'a> {
    #[serde(rename = "IndicatorIds")]
    ids: &'a [String],
}

/// A URL's scheme and host, lower-cased.
fn origin(url: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    (scheme.to_ascii_lowercase(), host_of(rest).to_ascii_lowercase())
}

fn bad(endpoint: Endpoint, message: impl Into<String>) -> SyncError {
    SyncError::BadResponse {
        endpoint: endpoint.describe(),
        message: message.into(),
    }
}

/// Every indicator the app can see: follows `@odata.nextLink` when the
/// API gives one (to the same host only: the token goes with it), else
/// pages with `$top`/`$skip`.
///
/// # Errors
///
/// As [`Client`]'s calls; a `nextLink` to another host is refused.
pub fn list(client: &mut Client) -> Result<Vec<ApiIndicator>, SyncError> {
    let mut all = Vec::new();
    let mut url = client.api(&format!("/api/indicators?$top={PAGE}"));
    let api = origin(&client.settings().api_url);
    loop {
        let answer = client.send(Endpoint::List, "GET", &url, None)?;
        let page: Page = serde_json::from_str(&answer.body).map_err(|e| {
            bad(Endpoint::List, format!("not an indicator list: {e}"))
        })?;
        let n = page.value.len();
        all.extend(page.value);
        match page.next_link {
            Some(next) => {
                if origin(&next) != api {
                    let (_, host) = origin(&next);
                    return Err(bad(
                        Endpoint::List,
                        format!(
                            "a next page on another host ({host}) was not followed"
                        ),
                    ));
                }
                url = next;
            }
            None if n >= PAGE => {
                url = client.api(&format!(
                    "/api/indicators?$top={PAGE}&$skip={}",
                    all.len()
                ));
            }
            None => return Ok(all),
        }
        if all.len() > 10 * PAGE * 10 {
            return Err(bad(
                Endpoint::List,
                "more than 1,000,000 indicators listed; stopping",
            ));
        }
    }
}

/// Imports one batch (at most [`MAX_BATCH`]); the results come in the
/// batch's order.
///
/// # Errors
///
/// As [`Client`]'s calls; an answer with another number of results than
/// the batch is a [`SyncError::BadResponse`].
pub fn import(
    client: &mut Client,
    batch: &[ApiIndicator],
) -> Result<Vec<ImportResult>, SyncError> {
    assert!(batch.len() <= MAX_BATCH, "batches are cut by the caller");
    let body = serde_json::to_vec(&ImportBody { indicators: batch })
        .expect("serialisable");
    let url = client.api("/api/indicators/import");
    let answer = client.send(Endpoint::Import, "POST", &url, Some(&body))?;
    let parsed: ImportAnswer =
        serde_json::from_str(&answer.body).map_err(|e| {
            bad(Endpoint::Import, format!("not an import result: {e}"))
        })?;
    if parsed.value.len() != batch.len() {
        return Err(bad(
            Endpoint::Import,
            format!(
                "{} results for a batch of {}",
                parsed.value.len(),
                batch.len()
            ),
        ));
    }
    Ok(parsed.value)
}

/// Deletes indicators by id (at most [`MAX_BATCH`]).
///
/// # Errors
///
/// As [`Client`]'s calls.
pub fn batch_delete(
    client: &mut Client,
    ids: &[String],
) -> Result<(), SyncError> {
    assert!(ids.len() <= MAX_BATCH, "batches are cut by the caller");
    let body = serde_json::to_vec(&DeleteBody { ids }).expect("serialisable");
    let url = client.api("/api/indicators/BatchDelete");
    client.send(Endpoint::BatchDelete, "POST", &url, Some(&body)).map(|_| ())
}
