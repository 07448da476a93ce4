//! `iocmatch-sync`: publish indicator sets to Microsoft Defender for
//! Endpoint safely.
//!
//! 1. [`Settings`] say where and as whom (the Azure SDK's environment
//!    variables, or a config file).
//! 2. A [`Client`] gets and refreshes the token, paces each endpoint
//!    under Defender's rate limits, and retries what may pass (429 with
//!    `Retry-After`, 5xx, timeouts, dropped connections).
//! 3. [`plan()`] compares the desired set with a fresh [`list`] of the
//!    tenant: only indicators with our `application` tag *and* our
//!    client id as `createdBy` are ever updated or deleted; guardrails
//!    (the 15,000 limit counting everyone's indicators, mass deletes)
//!    are checked before anything is written.
//! 4. [`apply()`] carries the plan out in batches of at most 500. A
//!    second apply writes nothing; an apply cut short is finished by the
//!    next.
//!
//! Secrets are [`Secret`]s: never in `Debug`, errors or logs.
//!
//! ```no_run
//! use iocmatch_core::{Action, Indicator, IndicatorType};
//! use iocmatch_sync::{Client, Overrides, PlanOptions, Settings, apply, list, plan};
//!
//! let settings = Settings::load(&|k| std::env::var(k).ok(), None, &Overrides::default())?;
//! let desired = [Indicator::new(IndicatorType::DomainName, "evil.com", Action::Block)?];
//! let mut client = Client::new(settings);
//! let tenant = list(&mut client)?;
//! let (app, me) = (client.settings().application.clone(), client.settings().client_id.clone());
//! let p = plan(&desired.iter().collect::<Vec<_>>(), &tenant, &app, &me, &PlanOptions::default());
//! let done = apply(&mut client, p, &mut |b| eprintln!("{b:?}"))?;
//! assert!(done.complete());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

pub mod api;
mod apply;
mod config;
mod error;
mod http;
mod limits;
pub mod misp;
mod plan;
pub mod respond;
mod secret;

pub use api::{ImportResult, MAX_BATCH, batch_delete, import, list};
pub use apply::{Applied, BatchDone, ItemFailure, apply};
pub use config::{
    DEFAULT_API_URL, DEFAULT_APPLICATION, DEFAULT_AUTHORITY, Overrides, SCOPE,
    Settings,
};
pub use error::SyncError;
pub use http::{Calls, Client, Notice};
pub use limits::{Endpoint, Limits, RetryPolicy};
pub use plan::{
    Listed, NotSent, Plan, PlanOptions, TENANT_LIMIT, Update, batches, entity,
    is_ours, plan,
};
pub use secret::Secret;
