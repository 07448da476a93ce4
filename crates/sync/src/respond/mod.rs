//! Responses to what replay found: Defender alerts and machine actions,
//! and Kaspersky EDR tasks through KSC, as a policy says, within its
//! guardrails, recorded in an audit log that also keeps re-runs from
//! repeating what was done.
//!
//! 1. [`read_alerts`]: replay's `--alerts` file.
//! 2. [`Policy::load`]: rules (indicator type, action, severity, title,
//!    table → responses per system) and guardrails (actions per run,
//!    device names and groups never touched, a cool-down per device).
//! 3. [`AuditLog::open`]: what earlier runs did.
//! 4. [`plan_responses`]: every response once per device (or file), with
//!    the reason for each one that will not be sent. Offline.
//! 5. [`apply_responses`]: sends, checks what needs the system (device
//!    group, a pending action of the same kind), follows machine actions
//!    to a final state, and logs each step.

mod alerts;
mod apply;
mod audit;
pub mod defender;
pub mod ksc;
mod plan;
mod policy;

pub use alerts::{AlertIndicator, AlertLine, Evidence, read_alerts};
pub use apply::{Tally, Targets, apply_responses, check_targets};
pub use audit::{AuditLog, Entry, History, State};
pub use defender::Polling;
pub use ksc::{Ksc, KscSettings};
pub use plan::{
    Planned, Response, ResponsePlan, Status, is_machine_id, plan_responses,
};
pub use policy::{
    DEFAULT_MAX_ACTIONS, DefenderAction, Guardrails, Isolation, KscTask,
    Policy, Rule, ScanType,
};
