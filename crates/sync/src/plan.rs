//! The plan: what an apply would write, worked out from the desired set
//! and a fresh listing of the tenant, and checked against the
//! guardrails before anything is sent.
//!
//! - **Ownership.** Ours are the indicators whose `application` is our
//!   tag *and* whose `createdBy` is our client id. Only those are updated
//!   or deleted; everything else is counted and left alone.
//! - **Identity** is (type, value, action), as Defender's own upsert: a
//!   changed action is a delete and a create; changed metadata is an
//!   update (an import of the same identity).
//! - **Convergence.** The plan is always made from what the tenant holds
//!   now, so a second apply finds nothing to do and an apply cut short
//!   at any point is finished by the next.

use std::collections::{HashMap, HashSet};

use iocmatch_core::defender::{ApiIndicator, Category};
use iocmatch_core::{Action, Indicator, IndicatorType, parse_time};
use serde::Serialize;

/// Defender's limit of active indicators per tenant.
pub const TENANT_LIMIT: usize = 15_000;

/// Guardrail settings.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    /// The tenant's limit, counting indicators that are not ours.
    pub tenant_limit: usize,
    /// Deletes above this share of ours need `allow_mass_delete`.
    pub max_delete_share: f64,
    /// Deletes above this count need `allow_mass_delete`.
    pub max_deletes: usize,
    /// Allows deletes above both limits.
    pub allow_mass_delete: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            tenant_limit: TENANT_LIMIT,
            max_delete_share: 0.10,
            max_deletes: 100,
            allow_mass_delete: false,
        }
    }
}

/// An indicator of the tenant, as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Listed {
    /// Its id.
    pub id: String,
    /// `FileSha1`, …
    #[serde(rename = "type")]
    pub indicator_type: String,
    /// Its value.
    pub value: String,
    /// Its action.
    pub action: String,
}

impl Listed {
    fn new(a: &ApiIndicator) -> Listed {
        Listed {
            id: a.id.clone().unwrap_or_default(),
            indicator_type: a.indicator_type.clone().unwrap_or_default(),
            value: a.indicator_value.clone().unwrap_or_default(),
            action: a.action.clone().unwrap_or_default(),
        }
    }
}

/// An update: the same identity, other metadata.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Update {
    /// The indicator's id.
    pub id: String,
    /// The fields that differ.
    pub fields: Vec<&'static str>,
    /// What is sent.
    pub entity: ApiIndicator,
}

/// A desired indicator that is not sent, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotSent {
    /// The type.
    #[serde(rename = "type")]
    pub indicator_type: &'static str,
    /// The value.
    pub value: String,
    /// The action.
    pub action: &'static str,
    /// Where it was read.
    pub source: String,
    /// Why it is not sent.
    pub reason: String,
}

/// What an apply would do.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Plan {
    /// Indicators to create.
    pub create: Vec<ApiIndicator>,
    /// Ours with changed metadata.
    pub update: Vec<Update>,
    /// Ours no longer desired (or listed twice).
    pub delete: Vec<Listed>,
    /// Ours already as desired.
    pub unchanged: usize,
    /// Desired indicators Defender would refuse (offline-only forms,
    /// Audit without an alert).
    pub not_sent: Vec<NotSent>,
    /// Desired identities that exist already but are not ours: left
    /// alone (an import would take them over).
    pub foreign_same: Vec<Listed>,
    /// Ours in the tenant now.
    pub ours: usize,
    /// Not ours in the tenant (never touched).
    pub foreign: usize,
    /// The tenant's total after the apply.
    pub tenant_after: usize,
    /// Broken guardrails; a plan with any is never applied.
    pub refusals: Vec<String>,
}

impl Plan {
    /// True when applying writes nothing.
    pub fn is_empty(&self) -> bool {
        self.create.is_empty()
            && self.update.is_empty()
            && self.delete.is_empty()
    }
}

/// Identity: (type, normal value, action).
type Key = (IndicatorType, String, Action);

fn key_of(ty: &str, value: &str, action: &str) -> Option<Key> {
    let ty: IndicatorType = ty.parse().ok()?;
    let action: Action = action.parse().ok()?;
    let value = iocmatch_core::normalize(ty, value).ok()?;
    Some((ty, value, action))
}

fn key_of_listed(a: &ApiIndicator) -> Option<Key> {
    key_of(
        a.indicator_type.as_deref()?,
        a.indicator_value.as_deref()?,
        a.action.as_deref()?,
    )
}

/// The entity sync sends for `i`: its alert metadata, our `application`
/// tag, and the title and description Defender requires (made up when
/// the source has none).
pub fn entity(i: &Indicator, application: &str) -> ApiIndicator {
    let mut e = ApiIndicator::from_indicator(i);
    e.application = Some(application.to_owned());
    if e.title.is_none() {
        e.title = Some(format!("{} {}", i.indicator_type(), i.value()));
    }
    if e.description.is_none() {
        e.description = Some(format!("Published by iocmatch ({application})"));
    }
    e
}

/// Why Defender would refuse `i`, if it would.
fn unsendable(i: &Indicator) -> Option<String> {
    if let Some(form) = i.offline_only() {
        return Some(format!(
            "{} is offline-only: Defender refuses it",
            form.describe()
        ));
    }
    if i.action() == Action::Audit && !i.alerts() {
        return Some("Defender refuses Audit without generateAlert".into());
    }
    None
}

/// True when `a` is ours: our tag and our client id.
pub fn is_ours(a: &ApiIndicator, application: &str, client_id: &str) -> bool {
    a.application.as_deref() == Some(application)
        && a.created_by
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case(client_id))
}

/// Plans the sync of `desired` into a tenant that holds `listed`.
pub fn plan(
    desired: &[&Indicator],
    listed: &[ApiIndicator],
    application: &str,
    client_id: &str,
    opts: &PlanOptions,
) -> Plan {
    let mut p = Plan::default();
    let mut ours: HashMap<Key, &ApiIndicator> = HashMap::new();
    let mut foreign: HashMap<Key, &ApiIndicator> = HashMap::new();
    for a in listed {
        if is_ours(a, application, client_id) {
            p.ours += 1;
            match key_of_listed(a) {
                // A second copy of one identity (an interrupted run on an
                // API without upsert): one is enough.
                Some(k) if ours.contains_key(&k) => {
                    p.delete.push(Listed::new(a))
                }
                Some(k) => {
                    ours.insert(k, a);
                }
                // Ours, but not a form we would write: not desired.
                None => p.delete.push(Listed::new(a)),
            }
        } else {
            p.foreign += 1;
            if let Some(k) = key_of_listed(a) {
                foreign.entry(k).or_insert(a);
            }
        }
    }
    let mut wanted: HashSet<Key> = HashSet::new();
    for &i in desired {
        if let Some(reason) = unsendable(i) {
            p.not_sent.push(NotSent {
                indicator_type: i.indicator_type().as_str(),
                value: i.value().to_owned(),
                action: i.action().as_str(),
                source: i.source().to_string(),
                reason,
            });
            continue;
        }
        let k: Key = (i.indicator_type(), i.value().to_owned(), i.action());
        if !wanted.insert(k.clone()) {
            continue;
        }
        let e = entity(i, application);
        match (ours.get(&k), foreign.get(&k)) {
            (Some(current), _) => {
                let fields = differences(current, &e);
                if fields.is_empty() {
                    p.unchanged += 1;
                } else {
                    let id = current.id.clone().unwrap_or_default();
                    p.update.push(Update { id, fields, entity: e });
                }
            }
            (None, Some(f)) => p.foreign_same.push(Listed::new(f)),
            (None, None) => p.create.push(e),
        }
    }
    for (k, a) in &ours {
        if !wanted.contains(k) {
            p.delete.push(Listed::new(a));
        }
    }
    p.delete.sort_by(|a, b| {
        (&a.indicator_type, &a.value, &a.action, &a.id).cmp(&(
            &b.indicator_type,
            &b.value,
            &b.action,
            &b.id,
        ))
    });
    p.tenant_after = p.foreign + p.ours - p.delete.len() + p.create.len();
    p.refusals = guardrails(&p, opts);
    p
}

fn guardrails(p: &Plan, opts: &PlanOptions) -> Vec<String> {
    let mut out = Vec::new();
    if p.tenant_after > opts.tenant_limit {
        out.push(format!(
            "the tenant would hold {} indicators ({} not ours), above Defender's limit of {}; \
             publish fewer (for example the newest) or remove others first",
            p.tenant_after, p.foreign, opts.tenant_limit
        ));
    }
    let deletes = p.delete.len();
    let share = if p.ours == 0 { 0.0 } else { deletes as f64 / p.ours as f64 };
    if !opts.allow_mass_delete
        && (deletes > opts.max_deletes || share > opts.max_delete_share)
    {
        out.push(format!(
            "the plan deletes {deletes} of our {} indicators ({:.0} %), above {} or {:.0} %; \
             check the input set, then pass --allow-mass-delete",
            p.ours,
            share * 100.0,
            opts.max_deletes,
            opts.max_delete_share * 100.0
        ));
    }
    out
}

/// The metadata fields where `current` differs from `wanted`, compared
/// as Defender means them (no value equals the default, times as
/// instants, lists as sets), so that what the API echoes back in its own
/// spelling does not count as a change and re-runs converge.
fn differences(
    current: &ApiIndicator,
    wanted: &ApiIndicator,
) -> Vec<&'static str> {
    let text = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let set = |v: &Option<Vec<String>>| {
        let mut s: Vec<String> = v
            .iter()
            .flatten()
            .map(|x| x.trim().to_owned())
            .filter(|x| !x.is_empty())
            .collect();
        s.sort();
        s.dedup();
        s
    };
    let severity = |s: &Option<String>| {
        text(s).map_or_else(
            || "informational".to_owned(),
            |s| s.to_ascii_lowercase(),
        )
    };
    let time = |s: &Option<String>| {
        text(s).map(|t| parse_time(&t).map(|t| t.as_second()).map_err(|_| t))
    };
    let alert = |f: &Option<iocmatch_core::defender::Flag>| {
        f.as_ref().and_then(|f| f.as_bool()).unwrap_or(true)
    };
    let category = |c: &Option<Category>| match c {
        Some(Category::Name(n)) if !n.trim().is_empty() => {
            Some(Some(n.trim().to_owned()))
        }
        // The API lists categories as numbers it does not document:
        // nothing to compare with.
        Some(Category::Number(_)) => None,
        _ => Some(None),
    };
    let mut out = Vec::new();
    let mut check = |name, differ: bool| {
        if differ {
            out.push(name);
        }
    };
    check("title", text(&current.title) != text(&wanted.title));
    check(
        "description",
        text(&current.description) != text(&wanted.description),
    );
    check(
        "recommendedActions",
        text(&current.recommended_actions)
            != text(&wanted.recommended_actions),
    );
    check(
        "severity",
        severity(&current.severity) != severity(&wanted.severity),
    );
    check(
        "generateAlert",
        alert(&current.generate_alert) != alert(&wanted.generate_alert),
    );
    check(
        "expirationTime",
        time(&current.expiration_time) != time(&wanted.expiration_time),
    );
    check(
        "rbacGroupNames",
        set(&current.rbac_group_names) != set(&wanted.rbac_group_names),
    );
    check(
        "mitreTechniques",
        set(&current.mitre_techniques) != set(&wanted.mitre_techniques),
    );
    check(
        "educateUrl",
        text(&current.educate_url) != text(&wanted.educate_url),
    );
    check(
        "externalId",
        text(&current.external_id) != text(&wanted.external_id),
    );
    if let (Some(c), w) =
        (category(&current.category), category(&wanted.category))
    {
        check("category", Some(c) != w);
    }
    out
}

/// Cuts `items` into import batches of at most `max`, never with the
/// same value twice in one batch: the API reports results by value, and
/// an indicator listed with two actions would make its two results
/// indistinguishable.
pub fn batches(
    items: Vec<ApiIndicator>,
    max: usize,
) -> Vec<Vec<ApiIndicator>> {
    let mut out: Vec<Vec<ApiIndicator>> = Vec::new();
    let mut values: Vec<HashSet<String>> = Vec::new();
    let mut next_for: HashMap<String, usize> = HashMap::new();
    let mut first_open = 0;
    for item in items {
        let v = item
            .indicator_value
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut b = first_open.max(next_for.get(&v).copied().unwrap_or(0));
        while b < out.len() && (out[b].len() >= max || values[b].contains(&v))
        {
            b += 1;
        }
        if b == out.len() {
            out.push(Vec::new());
            values.push(HashSet::new());
        }
        out[b].push(item);
        values[b].insert(v.clone());
        next_for.insert(v, b + 1);
        while first_open < out.len() && out[first_open].len() >= max {
            first_open += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use iocmatch_core::IndicatorType as T;

    const APP: &str = "iocmatch";
    const ME: &str = "11111111-2222-3333-4444-555555555555";

    fn ind(t: T, v: &str, a: Action) -> Indicator {
        Indicator::new(t, v, a).unwrap()
    }

    fn listed(
        id: &str,
        i: &Indicator,
        app: Option<&str>,
        by: &str,
    ) -> ApiIndicator {
        let mut e = entity(i, app.unwrap_or("other"));
        e.application = app.map(str::to_owned);
        e.id = Some(id.into());
        e.created_by = Some(by.into());
        e
    }

    #[test]
    fn creates_updates_deletes_and_leaves_foreign_alone() {
        let keep = ind(T::DomainName, "keep.com", Action::Block);
        let changed =
            ind(T::DomainName, "changed.com", Action::Block).with_title("new");
        let new = ind(T::Url, "https://new.com/x", Action::Audit);
        let gone = ind(T::DomainName, "gone.com", Action::Block);
        let theirs = ind(T::DomainName, "theirs.com", Action::Block);
        let foreign_app = ind(T::DomainName, "otherapp.com", Action::Block);
        let cidr = ind(T::IpAddress, "8.8.8.0/24", Action::Block);
        let old_changed =
            ind(T::DomainName, "changed.com", Action::Block).with_title("old");
        let tenant = vec![
            listed("1", &keep, Some(APP), ME),
            listed("2", &old_changed, Some(APP), ME),
            listed("3", &gone, Some(APP), ME),
            // Our tag, another creator: not ours.
            listed("4", &theirs, Some(APP), "someone@contoso.com"),
            // Our creator, another tag: not ours.
            listed("5", &foreign_app, Some("other"), ME),
        ];
        let desired = [&keep, &changed, &new, &theirs, &cidr];
        let p = plan(
            &desired,
            &tenant,
            APP,
            ME,
            &PlanOptions { allow_mass_delete: true, ..PlanOptions::default() },
        );
        assert_eq!(
            p.create
                .iter()
                .map(|e| e.indicator_value.as_deref().unwrap())
                .collect::<Vec<_>>(),
            ["https://new.com/x"]
        );
        assert_eq!(p.update.len(), 1);
        assert_eq!(
            (p.update[0].id.as_str(), p.update[0].fields.as_slice()),
            ("2", &["title"][..])
        );
        assert_eq!(
            p.delete.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
            ["3"]
        );
        assert_eq!(p.unchanged, 1);
        assert_eq!(
            p.foreign_same.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
            ["4"]
        );
        assert_eq!(p.not_sent.len(), 1);
        assert!(p.not_sent[0].reason.contains("CIDR"));
        assert_eq!((p.ours, p.foreign, p.tenant_after), (3, 2, 5));
        assert!(
            p.create.iter().all(|e| e.application.as_deref() == Some(APP))
        );
    }

    #[test]
    fn a_changed_action_is_a_delete_and_a_create() {
        let before = ind(T::FileSha1, &"a".repeat(40), Action::Audit);
        let after = ind(T::FileSha1, &"a".repeat(40), Action::Block);
        let p = plan(
            &[&after],
            &[listed("9", &before, Some(APP), ME)],
            APP,
            ME,
            &PlanOptions { allow_mass_delete: true, ..PlanOptions::default() },
        );
        assert_eq!(p.create.len(), 1);
        assert_eq!(p.delete.len(), 1);
        assert!(p.update.is_empty());
    }

    #[test]
    fn the_listing_s_own_spelling_is_no_change() {
        let i = ind(T::IpAddress, "2001:4860:4860::8888", Action::Block)
            .with_title("t");
        let mut e = listed("1", &i, Some(APP), ME);
        // The API writes IPv6 in full, times with 7 fractional digits,
        // severities in its case, categories as numbers.
        assert_eq!(
            e.indicator_value.as_deref(),
            Some("2001:4860:4860:0:0:0:0:8888")
        );
        e.severity = Some("informational".into());
        e.category = Some(Category::Number(1));
        e.created_by = Some(ME.to_uppercase());
        let p = plan(&[&i], &[e], APP, ME, &PlanOptions::default());
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(p.unchanged, 1);
    }

    #[test]
    fn guardrails_refuse_the_cap_and_mass_deletes() {
        let many: Vec<Indicator> = (0..20)
            .map(|n| ind(T::DomainName, &format!("d{n}.com"), Action::Block))
            .collect();
        let tenant: Vec<ApiIndicator> = many
            .iter()
            .enumerate()
            .map(|(n, i)| listed(&n.to_string(), i, Some(APP), ME))
            .collect();
        let keep: Vec<&Indicator> = many.iter().take(17).collect();
        let p = plan(&keep, &tenant, APP, ME, &PlanOptions::default());
        assert_eq!(p.delete.len(), 3);
        assert_eq!(p.refusals.len(), 1, "3 of 20 is above 10 %");
        let p = plan(
            &keep,
            &tenant,
            APP,
            ME,
            &PlanOptions { allow_mass_delete: true, ..PlanOptions::default() },
        );
        assert!(p.refusals.is_empty());
        let all: Vec<&Indicator> = many.iter().collect();
        let p = plan(
            &all,
            &[],
            APP,
            ME,
            &PlanOptions { tenant_limit: 19, ..PlanOptions::default() },
        );
        assert_eq!(p.refusals.len(), 1);
        assert!(p.refusals[0].contains("limit of 19"), "{:?}", p.refusals);
    }

    #[test]
    fn batches_are_bounded_and_never_repeat_a_value() {
        let mut items = Vec::new();
        for n in 0..1200 {
            let v = format!("v{}.com", n % 700);
            items.push(ApiIndicator {
                indicator_value: Some(v),
                ..ApiIndicator::default()
            });
        }
        let b = batches(items, 500);
        assert_eq!(b.iter().map(Vec::len).sum::<usize>(), 1200);
        for batch in &b {
            assert!(batch.len() <= 500);
            let mut seen = HashSet::new();
            assert!(
                batch.iter().all(|e| seen.insert(e.indicator_value.clone()))
            );
        }
        assert_eq!(b.len(), 3);
    }
}
