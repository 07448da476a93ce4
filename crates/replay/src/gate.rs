//! The gate before publishing: each indicator gets a verdict (pass,
//! warn, block) with its reasons, from the warninglists it is on and
//! from what a replay of history says it would have done.
//!
//! - **Warninglists**: an indicator that blocks, warns or alerts on a
//!   value the lists call benign (public resolvers, cloud ranges, top
//!   sites, hashes of empty files) is held back; on lists where a match
//!   is only suspicious (dynamic DNS, URL shorteners, sinkholes), it is
//!   a warning. `Allowed` indicators on lists are fine.
//! - **Impact** (with a replay): a blocking indicator (Block,
//!   BlockAndRemediate, Warn) seen on many devices or on a large share
//!   of them is held back, since publishing it would stop whatever those
//!   devices run; an alerting one that would have raised a storm of
//!   alerts in a day, or fired on a large share of devices, is a
//!   warning; an `Allowed` indicator that suppressed a blocking one is a
//!   warning on both.
//!
//! [`GateCounter`] is the [`Sink`] that counts what the verdicts need
//! while replay runs, so the gate costs one replay.

use std::collections::{BTreeMap, HashMap};

use iocmatch_core::warninglist::Warninglists;
use iocmatch_core::{Action, IndicatorId, IndicatorSet};
use serde::Serialize;

use crate::hit::Hit;
use crate::report::Report;
use crate::sink::Sink;

/// A verdict, worst last.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Safe to publish.
    Pass,
    /// Publish, but look.
    Warn,
    /// Held back.
    Block,
}

impl Verdict {
    /// The verdict's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Block => "block",
        }
    }
}

/// One reason for a verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reason {
    /// A stable name: `warninglist`, `devices`, `device_share`,
    /// `alert_storm`, `alert_share`, `shadows_block`, `shadowed_by_allow`,
    /// `offline_only`.
    pub code: &'static str,
    /// What this reason alone would make the verdict.
    pub verdict: Verdict,
    /// For people.
    pub message: String,
}

/// Lists on which a match is suspicious rather than wrong: an attacker
/// may well use a dynamic-DNS name or a URL shortener, and a sinkholed
/// address is only stale.
const WARN_ONLY_LISTS: [&str; 3] =
    ["dynamic DNS", "URL Shorteners", "sinkholes"];

/// The gate's thresholds.
#[derive(Clone, Debug, Serialize)]
pub struct Thresholds {
    /// A blocking indicator seen on at least this many devices is held back.
    pub block_devices: u64,
    /// … or on at least this share of the devices in the replay.
    pub block_device_share: f64,
    /// An alerting indicator with at least this many alerting hits in one
    /// day is a warning (an alert storm).
    pub alert_hits_per_day: u64,
    /// … or seen on at least this share of the devices.
    pub alert_device_share: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            block_devices: 10,
            block_device_share: 0.05,
            alert_hits_per_day: 100,
            alert_device_share: 0.10,
        }
    }
}

/// Counts, while replay runs, what the verdicts need beyond the report:
/// alerting hits per indicator per day, and suppressions of blocking
/// indicators by `Allowed` ones.
#[derive(Debug)]
pub struct GateCounter<'s> {
    set: &'s IndicatorSet,
    /// (indicator, day since the epoch) → alerting hits.
    per_day: HashMap<(IndicatorId, i64), u64>,
    /// (allowed, blocking) → hits suppressed; ordered, so reasons come
    /// in the same order every run.
    shadows: BTreeMap<(IndicatorId, IndicatorId), u64>,
}

impl<'s> GateCounter<'s> {
    /// A counter for `set`.
    pub fn new(set: &'s IndicatorSet) -> Self {
        GateCounter { set, per_day: HashMap::new(), shadows: BTreeMap::new() }
    }
}

fn blocks(a: Action) -> bool {
    matches!(a, Action::Block | Action::BlockAndRemediate | Action::Warn)
}

const DAY: i128 = 86_400 * 1_000_000_000;

impl Sink for GateCounter<'_> {
    type Error = std::convert::Infallible;

    fn hit(&mut self, h: &Hit) -> Result<bool, Self::Error> {
        if h.raises_alert()
            && let Some(t) = h.event().time
        {
            *self
                .per_day
                .entry((h.indicator(), (t.div_euclid(DAY)) as i64))
                .or_default() += 1;
        }
        if let Some(by) = h.suppressed_by()
            && self.set.get(by).action() == Action::Allowed
            && blocks(self.set.get(h.indicator()).action())
        {
            *self.shadows.entry((by, h.indicator())).or_default() += 1;
        }
        Ok(true)
    }
}

/// One indicator's verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IndicatorVerdict {
    /// Its id in the set.
    pub id: u32,
    /// `FileSha1`, …
    #[serde(rename = "type")]
    pub indicator_type: &'static str,
    /// Its value.
    pub value: String,
    /// Its action.
    pub action: &'static str,
    /// Where it was read.
    pub source: String,
    /// The verdict: the worst of its reasons', or pass.
    pub verdict: Verdict,
    /// Why.
    pub reasons: Vec<Reason>,
    /// Devices it was seen on in the replay (0 without one).
    pub devices: u64,
    /// Its hits in the replay.
    pub hits: u64,
}

/// Every indicator's verdict, in set order. `replay` is the report of a
/// replay of `set` whose sink included `counter`; without one, only the
/// warninglists and Defender's own limits decide.
pub fn verdicts(
    set: &IndicatorSet,
    lists: &Warninglists,
    replay: Option<(&Report, &GateCounter<'_>)>,
    t: &Thresholds,
) -> Vec<IndicatorVerdict> {
    let storms = replay.map(|(_, c)| max_per_day(c)).unwrap_or_default();
    let shadows =
        replay.map(|(_, c)| shadow_reasons(set, c)).unwrap_or_default();
    let fleet = replay.map_or(0, |(r, _)| r.totals.devices);
    set.iter()
        .map(|(id, i)| {
            let mut reasons = Vec::new();
            let mut add = |code, verdict, message: String| reasons.push(Reason { code, verdict, message });
            if i.action() != Action::Allowed {
                for hit in lists.check(i) {
                    let warn_only = WARN_ONLY_LISTS.iter().any(|w| hit.list.contains(w));
                    let verdict = if warn_only { Verdict::Warn } else { Verdict::Block };
                    add("warninglist", verdict, format!("on the warninglist \"{}\"", hit.list));
                }
            }
            if let Some(form) = i.offline_only() {
                add("offline_only", Verdict::Warn, format!("{}: replay matches it, Defender refuses it; left out of the passing set", form.describe()));
            }
            let stats = replay.map(|(r, _)| r.stats(id)).unwrap_or_default();
            let share = |n: u64| if fleet == 0 { 0.0 } else { n as f64 / fleet as f64 };
            if replay.is_some() {
                if blocks(i.action()) {
                    if stats.devices >= t.block_devices {
                        add("devices", Verdict::Block, format!("seen on {} devices in the replay (limit {}): a {} would stop it there", stats.devices, t.block_devices, i.action()));
                    } else if fleet > 0 && share(stats.devices) >= t.block_device_share {
                        add("device_share", Verdict::Block, format!("seen on {:.1} % of the {fleet} devices in the replay (limit {:.1} %)", share(stats.devices) * 100.0, t.block_device_share * 100.0));
                    }
                }
                if i.alerts() {
                    if let Some(&(n, day)) = storms.get(&id)
                        && n >= t.alert_hits_per_day
                    {
                        add("alert_storm", Verdict::Warn, format!("{n} alerting hits on {} (limit {} a day)", day_text(day), t.alert_hits_per_day));
                    }
                    if fleet > 0 && share(stats.devices) >= t.alert_device_share {
                        add("alert_share", Verdict::Warn, format!("alerts on {:.1} % of the {fleet} devices (limit {:.1} %)", share(stats.devices) * 100.0, t.alert_device_share * 100.0));
                    }
                }
            }
            reasons.extend(shadows.get(&id).into_iter().flatten().cloned());
            reasons.sort_by_key(|r| std::cmp::Reverse(r.verdict));
            IndicatorVerdict {
                id: id.0,
                indicator_type: i.indicator_type().as_str(),
                value: i.value().to_owned(),
                action: i.action().as_str(),
                source: i.source().to_string(),
                verdict: reasons.iter().map(|r| r.verdict).max().unwrap_or(Verdict::Pass),
                reasons,
                devices: stats.devices,
                hits: stats.hits,
            }
        })
        .collect()
}

/// The shadowing reasons of each indicator involved: the Allowed one
/// and the blocking one it suppressed.
fn shadow_reasons(
    set: &IndicatorSet,
    c: &GateCounter<'_>,
) -> HashMap<IndicatorId, Vec<Reason>> {
    let mut out: HashMap<IndicatorId, Vec<Reason>> = HashMap::new();
    for (&(allowed, blocked), &n) in &c.shadows {
        let (a, b) = (set.get(allowed), set.get(blocked));
        out.entry(allowed).or_default().push(Reason {
            code: "shadows_block",
            verdict: Verdict::Warn,
            message: format!(
                "suppressed {} {} {} on {n} hits",
                b.action(),
                b.indicator_type(),
                b.value()
            ),
        });
        out.entry(blocked).or_default().push(Reason {
            code: "shadowed_by_allow",
            verdict: Verdict::Warn,
            message: format!(
                "suppressed on {n} hits by Allowed {} {}",
                a.indicator_type(),
                a.value()
            ),
        });
    }
    out
}

/// Per indicator: its busiest day's alerting hits, and the day.
fn max_per_day(c: &GateCounter<'_>) -> HashMap<IndicatorId, (u64, i64)> {
    let mut out: HashMap<IndicatorId, (u64, i64)> = HashMap::new();
    for (&(id, day), &n) in &c.per_day {
        let e = out.entry(id).or_insert((n, day));
        if n > e.0 || (n == e.0 && day < e.1) {
            *e = (n, day);
        }
    }
    out
}

fn day_text(day: i64) -> String {
    jiff::Timestamp::from_second(day * 86_400)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| format!("day {day}"))
}

/// Counts of each verdict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Passed.
    pub pass: usize,
    /// Passed with a warning.
    pub warn: usize,
    /// Held back.
    pub block: usize,
}

impl Tally {
    /// The tally of `v`.
    pub fn of(v: &[IndicatorVerdict]) -> Tally {
        let mut t = Tally::default();
        for x in v {
            match x.verdict {
                Verdict::Pass => t.pass += 1,
                Verdict::Warn => t.warn += 1,
                Verdict::Block => t.block += 1,
            }
        }
        t
    }
}
