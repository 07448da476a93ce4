//! What `iocmatch check --json` reports about a loaded set: counts,
//! merges, rejections, conflicts, unreadable files. One serde type,
//! [`CheckReport`], written by the CLI and readable by anything that
//! gates on it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::load::{LoadError, Loaded};
use crate::warninglist::Warninglists;
use crate::{Action, IndicatorSet, IndicatorType, Rejection};

/// The check report (fields in name order, as it has always listed
/// them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// Indicators per action name.
    pub by_action: BTreeMap<String, u64>,
    /// Indicators per type name.
    pub by_type: BTreeMap<String, u64>,
    /// Values listed with more than one action.
    pub conflicts: Vec<ConflictRecord>,
    /// Exact duplicates merged into the first listing.
    pub duplicates_merged: u64,
    /// Time to load and compile, in milliseconds.
    pub elapsed_ms: f64,
    /// Each file: the format it was read as, and its counts.
    #[serde(default)]
    pub files: Vec<crate::load::FileSummary>,
    /// Indicators in the compiled set.
    pub loaded: u64,
    /// Indicators in offline-only forms that Defender would refuse.
    pub offline_only: u64,
    /// Every refused indicator.
    pub rejected: Vec<RejectionRecord>,
    /// Entries left out on purpose, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Files that could not be read at all.
    pub unreadable_files: Vec<String>,
    /// Indicators on warninglists (only when they were consulted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warninglisted: Vec<WarninglistedRecord>,
}

/// An indicator found on warninglists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarninglistedRecord {
    /// Its action.
    pub action: String,
    /// The lists' names.
    pub lists: Vec<String>,
    /// Its type.
    #[serde(rename = "type")]
    pub indicator_type: String,
    /// Its value.
    pub value: String,
}

/// The indicators of `set` on `lists`, in set order.
pub fn warninglisted(
    set: &IndicatorSet,
    lists: &Warninglists,
) -> Vec<WarninglistedRecord> {
    set.iter()
        .filter_map(|(_, i)| {
            let hits = lists.check(i);
            (!hits.is_empty()).then(|| WarninglistedRecord {
                action: i.action().as_str().to_owned(),
                lists: hits.iter().map(|h| h.list.to_owned()).collect(),
                indicator_type: i.indicator_type().as_str().to_owned(),
                value: i.value().to_owned(),
            })
        })
        .collect()
}

/// One refused indicator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectionRecord {
    /// The 1-based line.
    pub line: u64,
    /// The JSON path, for entries of JSON documents.
    pub path: Option<String>,
    /// Why it was refused.
    pub reason: String,
    /// The file.
    pub source: String,
    /// The value as written.
    pub value: String,
}

/// One value listed with several actions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictRecord {
    /// The listings, in set order.
    pub indicators: Vec<ConflictEntry>,
    /// The type.
    #[serde(rename = "type")]
    pub indicator_type: String,
    /// The normalised value.
    pub value: String,
}

/// One listing of a conflicting value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictEntry {
    /// Its action.
    pub action: String,
    /// Its id in the set.
    pub id: u32,
    /// Its line.
    pub line: u64,
    /// Its file.
    pub source: String,
}

impl RejectionRecord {
    fn new(r: &Rejection) -> Self {
        RejectionRecord {
            line: r.source.line_number(),
            path: r.source.json_path().map(str::to_owned),
            reason: r.reason().to_owned(),
            source: r.source.file.to_string(),
            value: r.value.clone(),
        }
    }
}

/// Indicators of `set` per type, in [`IndicatorType::ALL`] order.
pub fn counts_by_type(set: &IndicatorSet) -> Vec<(IndicatorType, u64)> {
    IndicatorType::ALL
        .iter()
        .map(|&t| {
            (
                t,
                set.iter().filter(|(_, i)| i.indicator_type() == t).count()
                    as u64,
            )
        })
        .filter(|&(_, n)| n > 0)
        .collect()
}

/// Indicators of `set` per action, in [`Action::ALL`] order.
pub fn counts_by_action(set: &IndicatorSet) -> Vec<(Action, u64)> {
    Action::ALL
        .iter()
        .map(|&a| {
            (a, set.iter().filter(|(_, i)| i.action() == a).count() as u64)
        })
        .filter(|&(_, n)| n > 0)
        .collect()
}

impl CheckReport {
    /// The report of loading `loaded` (its rejections and skips), with
    /// `failed` files, into `set`, in `elapsed`.
    pub fn new(
        set: &IndicatorSet,
        loaded: &Loaded,
        failed: &[LoadError],
        elapsed: Duration,
    ) -> Self {
        let conflicts = set
            .conflicts()
            .iter()
            .map(|c| ConflictRecord {
                indicators: c
                    .ids
                    .iter()
                    .map(|&id| {
                        let i = set.get(id);
                        ConflictEntry {
                            action: i.action().as_str().to_owned(),
                            id: id.0,
                            line: i.source().line_number(),
                            source: i.source().file.to_string(),
                        }
                    })
                    .collect(),
                indicator_type: c.indicator_type.as_str().to_owned(),
                value: c.value.to_string(),
            })
            .collect();
        let named = |v: Vec<(&'static str, u64)>| {
            v.into_iter().map(|(k, n)| (k.to_owned(), n)).collect()
        };
        CheckReport {
            by_action: named(
                counts_by_action(set)
                    .into_iter()
                    .map(|(a, n)| (a.as_str(), n))
                    .collect(),
            ),
            by_type: named(
                counts_by_type(set)
                    .into_iter()
                    .map(|(t, n)| (t.as_str(), n))
                    .collect(),
            ),
            conflicts,
            duplicates_merged: set.merged().len() as u64,
            elapsed_ms: elapsed.as_secs_f64() * 1e3,
            files: loaded.files.clone(),
            loaded: set.len() as u64,
            offline_only: set
                .iter()
                .filter(|(_, i)| i.is_offline_only())
                .count() as u64,
            rejected: loaded
                .rejected
                .iter()
                .map(RejectionRecord::new)
                .collect(),
            skipped: loaded.skipped.clone(),
            unreadable_files: failed.iter().map(ToString::to_string).collect(),
            warninglisted: Vec::new(),
        }
    }
}
