//! Carrying out a plan: deletes first (they free room under the tenant
//! limit), then creates and updates as imports, in batches of at most
//! 500 with no value twice in a batch. Every item's `isFailed` is read.
//! A failure part-way stops the apply; the next plan, made from a fresh
//! listing, picks up from there.

use serde::Serialize;

use crate::api::{self, MAX_BATCH};
use crate::error::SyncError;
use crate::http::Client;
use crate::plan::{Plan, batches};

/// What one batch did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BatchDone {
    /// `delete` or `import`.
    pub kind: &'static str,
    /// 1-based, of `of`.
    pub number: usize,
    /// Batches of this kind.
    pub of: usize,
    /// Items sent.
    pub sent: usize,
    /// Items that failed.
    pub failed: usize,
}

/// One item Defender refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItemFailure {
    /// The value.
    pub value: String,
    /// Defender's reason.
    pub reason: String,
}

/// The outcome of an apply.
#[derive(Debug, Default, Serialize)]
pub struct Applied {
    /// Indicators deleted.
    pub deleted: usize,
    /// Indicators created or updated.
    pub imported: usize,
    /// Items refused by Defender.
    pub failures: Vec<ItemFailure>,
    /// The error that stopped the apply part-way, if one did.
    #[serde(serialize_with = "display")]
    pub stopped: Option<SyncError>,
}

fn display<S: serde::Serializer>(
    e: &Option<SyncError>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match e {
        Some(e) => s.serialize_some(&e.to_string()),
        None => s.serialize_none(),
    }
}

impl Applied {
    /// True when everything planned was written.
    pub fn complete(&self) -> bool {
        self.failures.is_empty() && self.stopped.is_none()
    }

    /// True when something was written.
    pub fn wrote(&self) -> bool {
        self.deleted + self.imported > 0
    }
}

/// Applies `plan`, calling `on_batch` after every batch.
///
/// # Errors
///
/// [`SyncError::Refused`] when the plan breaks a guardrail; otherwise
/// the first error, when it stopped the apply before anything was
/// written. An error after some writes is in [`Applied::stopped`].
pub fn apply(
    client: &mut Client,
    plan: Plan,
    on_batch: &mut dyn FnMut(&BatchDone),
) -> Result<Applied, SyncError> {
    if !plan.refusals.is_empty() {
        return Err(SyncError::Refused(plan.refusals));
    }
    let mut done = Applied::default();
    let ids: Vec<String> = plan.delete.into_iter().map(|d| d.id).collect();
    let deletes: Vec<&[String]> = ids.chunks(MAX_BATCH).collect();
    for (n, batch) in deletes.iter().enumerate() {
        if let Err(e) = api::batch_delete(client, batch) {
            return stop(done, e);
        }
        done.deleted += batch.len();
        on_batch(&BatchDone {
            kind: "delete",
            number: n + 1,
            of: deletes.len(),
            sent: batch.len(),
            failed: 0,
        });
    }
    let imports = plan
        .create
        .into_iter()
        .chain(plan.update.into_iter().map(|u| u.entity))
        .collect();
    let imports = batches(imports, MAX_BATCH);
    for (n, batch) in imports.iter().enumerate() {
        let results = match api::import(client, batch) {
            Ok(r) => r,
            Err(e) => return stop(done, e),
        };
        let mut failed = 0;
        for (item, r) in batch.iter().zip(results) {
            if r.is_failed {
                failed += 1;
                done.failures.push(ItemFailure {
                    value: item.indicator_value.clone().unwrap_or_default(),
                    reason: r
                        .failure_reason
                        .unwrap_or_else(|| "no reason given".into()),
                });
            } else {
                done.imported += 1;
            }
        }
        on_batch(&BatchDone {
            kind: "import",
            number: n + 1,
            of: imports.len(),
            sent: batch.len(),
            failed,
        });
    }
    Ok(done)
}

fn stop(mut done: Applied, e: SyncError) -> Result<Applied, SyncError> {
    if done.wrote() || !done.failures.is_empty() {
        done.stopped = Some(e);
        Ok(done)
    } else {
        Err(e)
    }
}
