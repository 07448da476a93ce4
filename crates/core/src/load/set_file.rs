//! iocmatch set files (TOML): alert definitions named once, each with the
//! indicators it covers, as the legacy custom TI API's AlertDefinitions
//! and IOCs had it. Every indicator of an alert carries its title,
//! severity, description, recommended actions, category, MITRE
//! techniques, alert flag, expiry and device groups.
//!
//! ```toml
//! [defaults]                      # optional: for every alert
//! action = "Block"
//! expiration = "2027-06-30"
//!
//! [[alert]]
//! title = "Emotet C2"
//! severity = "High"
//! description = "Emotet command-and-control servers"
//! recommended_actions = "Isolate the device"
//! category = "CommandAndControl"
//! mitre_techniques = ["T1071.001"]
//! indicators = ["evil[.]com", "hxxp://1.2.3[.]4/gate.php",
//!               { value = "5.6.7.8", action = "Audit" }]
//! files = ["emotet-hashes.txt"]   # relative to this file, any format
//! ```

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::draft::{IndicatorDraft, MetaDraft, TypeSpec};
use crate::error::{invalid_field, unreadable};
use crate::indicator::{Indicator, Source};

use super::{Context, LoadOptions, Loaded};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SetFile {
    #[serde(default)]
    defaults: Definition,
    #[serde(default)]
    alert: Vec<Spanned<Definition>>,
}

/// One alert definition, or the defaults for all of them.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct Definition {
    name: Option<String>,
    title: Option<String>,
    severity: Option<String>,
    description: Option<String>,
    recommended_actions: Option<String>,
    category: Option<String>,
    #[serde(default)]
    mitre_techniques: Option<Vec<String>>,
    generate_alert: Option<bool>,
    action: Option<String>,
    expiration: Option<String>,
    rbac_group_names: Option<Vec<String>>,
    application: Option<String>,
    educate_url: Option<String>,
    #[serde(default)]
    indicators: Vec<Spanned<Entry>>,
    #[serde(default)]
    files: Vec<Spanned<String>>,
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum Entry {
    Value(String),
    Full {
        value: String,
        #[serde(rename = "type")]
        indicator_type: Option<String>,
        action: Option<String>,
    },
}

impl Definition {
    /// This definition with the defaults filled in where it says nothing.
    fn over(mut self, d: &Definition) -> Definition {
        macro_rules! fill {
            ($($f:ident),*) => { $( if self.$f.is_none() { self.$f = d.$f.clone(); } )* };
        }
        fill!(
            title,
            severity,
            description,
            recommended_actions,
            category,
            mitre_techniques,
            generate_alert,
            action,
            expiration,
            rbac_group_names,
            application,
            educate_url
        );
        self
    }

    fn meta(&self) -> MetaDraft<'_> {
        MetaDraft {
            severity: self.severity.clone().map(Cow::Owned),
            generate_alert: self.generate_alert,
            expiration: self.expiration.clone(),
            rbac_group_names: self
                .rbac_group_names
                .clone()
                .unwrap_or_default(),
            title: self
                .title
                .as_deref()
                .or(self.name.as_deref())
                .map(Cow::Borrowed),
            description: self.description.clone(),
            recommended_actions: self.recommended_actions.clone(),
            category: self.category.clone(),
            mitre_techniques: self
                .mitre_techniques
                .clone()
                .unwrap_or_default(),
            application: self.application.clone(),
            external_id: None,
            educate_url: self.educate_url.clone(),
        }
    }
}

/// 1-based line of byte `offset`.
fn line(text: &str, offset: usize) -> u64 {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
        + 1
}

/// True when `text` looks like a set file: TOML with an `[[alert]]` or
/// `[defaults]` table.
pub(super) fn looks_like(text: &str) -> bool {
    text.lines().map(str::trim).any(|l| l == "[[alert]]" || l == "[defaults]")
}

pub(super) fn load(
    ctx: &mut Context<'_>,
    bytes: &[u8],
    dir: Option<&Path>,
) -> Result<(), String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 text: {e}"))?;
    let set: SetFile = toml::from_str(text).map_err(|e| {
        let at = e.span().map_or(0, |s| line(text, s.start));
        format!("line {at}: not a set file: {}", e.message())
    })?;
    for alert in &set.alert {
        let start = line(text, alert.span().start);
        let def = alert.get_ref().clone().over(&set.defaults);
        let (meta, title) = match ctx.interner.finish(def.meta()) {
            Ok(m) => m,
            Err(e) => {
                let name =
                    def.title.as_deref().or(def.name.as_deref()).unwrap_or("");
                ctx.reject(Source::line(&ctx.file, start), name, e);
                continue;
            }
        };
        let action = def
            .action
            .clone()
            .unwrap_or_else(|| ctx.opts.default_action.clone());
        for entry in &def.indicators {
            let source =
                Source::line(&ctx.file, line(text, entry.span().start));
            let (value, ty, own_action) = match entry.get_ref() {
                Entry::Value(v) => (v.as_str(), None, None),
                Entry::Full { value, indicator_type, action } => {
                    (value.as_str(), indicator_type.clone(), action.clone())
                }
            };
            let indicator_type = match (ty, ctx.opts.text_type) {
                (Some(t), _) => TypeSpec::Named(t),
                (None, Some(t)) => TypeSpec::Known(t),
                (None, None) => TypeSpec::Infer,
            };
            ctx.push(IndicatorDraft {
                indicator_type,
                value: Cow::Borrowed(value),
                action: Some(Cow::Owned(
                    own_action.unwrap_or_else(|| action.clone()),
                )),
                meta: Arc::clone(&meta),
                title: title.clone(),
                source,
            });
        }
        for file in &def.files {
            attach(
                ctx,
                dir,
                file,
                &action,
                &meta,
                title.as_ref(),
                line(text, file.span().start),
            );
        }
    }
    if set.alert.is_empty() {
        return Err("a set file needs at least one [[alert]] table".into());
    }
    Ok(())
}

/// Loads an indicator file an alert names and gives its indicators the
/// alert's metadata. Files that carry no action take the alert's.
fn attach(
    ctx: &mut Context<'_>,
    dir: Option<&Path>,
    file: &Spanned<String>,
    action: &str,
    meta: &Arc<crate::Meta>,
    title: Option<&Arc<str>>,
    at: u64,
) {
    let here = Source::line(&ctx.file, at);
    let Some(dir) = dir else {
        return ctx.reject(here, file.get_ref(), invalid_field("files are read relative to the set file, which has no folder here"));
    };
    let path = dir.join(file.get_ref());
    // One level only: a set file that includes set files could include
    // itself.
    if super::Format::detect(&path).is_ok_and(|f| f == super::Format::Set) {
        return ctx.reject(
            here,
            file.get_ref(),
            invalid_field("a set file cannot include another set file"),
        );
    }
    let opts = LoadOptions {
        format: None,
        default_action: action.to_owned(),
        ..ctx.opts.clone()
    };
    let loaded: Loaded = match super::load_path(&path, &opts) {
        Ok(l) => l,
        Err(e) => {
            return ctx.reject(
                here,
                file.get_ref(),
                unreadable(e.to_string()),
            );
        }
    };
    for i in loaded.indicators {
        let i: Indicator =
            i.with_meta(Arc::clone(meta)).with_shared_title(title.cloned());
        ctx.out.indicators.push(i);
    }
    ctx.out.rejected.extend(loaded.rejected);
    for (k, v) in loaded.skipped {
        *ctx.out.skipped.entry(k).or_default() += v;
    }
}
