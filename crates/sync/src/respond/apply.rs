//! Carrying a response plan out: each action logged as planned, then
//! sent, and logged again with what became of it, one at a time and
//! paced per endpoint by the clients.

use crate::error::SyncError;
use crate::http::Client;
use crate::respond::audit::{AuditLog, Entry, State};
use crate::respond::defender::{self, Outcome, Polling};
use crate::respond::ksc::{Ksc, KscOutcome};
use crate::respond::plan::{Planned, Response, ResponsePlan, Status};
use crate::respond::policy::{DefenderAction, Guardrails};

/// The systems a plan may act on; `None` for one not configured.
pub struct Targets<'a> {
    /// Defender.
    pub defender: Option<&'a mut Client>,
    /// Kaspersky Security Center.
    pub ksc: Option<&'a mut Ksc>,
}

/// What an apply did, by state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Done (succeeded, or already pending there).
    pub done: usize,
    /// Sent and still running (machine actions past the wait; KSC tasks).
    pub sent: usize,
    /// Refused, by a guardrail or for want of inputs.
    pub refused: usize,
    /// Refused by the system, or failed.
    pub failed: usize,
    /// Done by an earlier run: not repeated.
    pub skipped: usize,
}

impl Tally {
    /// Whether nothing failed.
    pub fn clean(&self) -> bool {
        self.failed == 0
    }
}

fn entry(
    p: &Planned,
    state: State,
    detail: Option<String>,
    remote_id: Option<String>,
) -> Entry {
    Entry {
        time: String::new(),
        run: String::new(),
        key: p.key.clone(),
        system: p.response.system().into(),
        response: p.response.name().into(),
        rule: p.rule.clone(),
        device_id: p.alert.device_id.clone(),
        device_name: p.alert.device_name.clone(),
        indicator: p.alert.indicator.value.clone(),
        state,
        detail,
        remote_id,
    }
}

/// Which systems the plan's sends need; an error names the missing one
/// before anything is sent.
///
/// # Errors
///
/// A [`SyncError::Config`] naming the system that is not configured.
pub fn check_targets(
    plan: &ResponsePlan,
    targets: &Targets<'_>,
) -> Result<(), SyncError> {
    for p in plan.to_send() {
        match p.response {
            Response::Defender(_) if targets.defender.is_none() => {
                return Err(SyncError::Config(
                    "the plan has Defender responses but Defender is not configured (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)".into(),
                ));
            }
            Response::Kaspersky(_) if targets.ksc.is_none() => {
                return Err(SyncError::Config(
                    "the plan has Kaspersky responses but KSC is not configured (KSC_URL, KSC_USER, KSC_PASSWORD)".into(),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Applies `plan`: refusals and earlier runs' work are logged, each send
/// is logged before and after. `observe` sees every entry as written.
///
/// # Errors
///
/// When a system cannot be reached, or the audit log cannot be written:
/// the run stops there, and what was done is in the log.
pub fn apply_responses(
    plan: &ResponsePlan,
    targets: &mut Targets<'_>,
    guardrails: &Guardrails,
    audit: &mut AuditLog,
    polling: Polling,
    observe: &mut dyn FnMut(&Entry),
) -> Result<Tally, SyncError> {
    check_targets(plan, targets)?;
    let mut tally = Tally::default();
    let mut log = |audit: &mut AuditLog, e: Entry| -> Result<(), SyncError> {
        let e = audit.write(e)?;
        observe(&e);
        Ok(())
    };
    for p in &plan.actions {
        match &p.status {
            Status::AlreadyDone(why) => {
                tally.skipped += 1;
                log(
                    audit,
                    entry(
                        p,
                        State::Refused,
                        Some(format!("not repeated: {why}")),
                        None,
                    ),
                )?;
                continue;
            }
            Status::Refused(why) => {
                tally.refused += 1;
                log(audit, entry(p, State::Refused, Some(why.clone()), None))?;
                continue;
            }
            Status::Send => {}
        }
        log(audit, entry(p, State::Planned, None, None))?;
        let comment = format!(
            "iocmatch {}: {} {} (rule {})",
            audit.run(),
            p.alert.indicator.kind,
            p.alert.indicator.value,
            p.rule
        );
        let (state, detail, id) = match p.response {
            Response::Defender(action) => {
                let client = targets
                    .defender
                    .as_deref_mut()
                    .expect("checked by check_targets");
                let outcome = match action {
                    DefenderAction::Alert => defender::create_alert(
                        client,
                        &p.alert,
                        &p.category,
                        p.recommended_action.as_deref(),
                    )?,
                    a => defender::machine_action(
                        client,
                        a,
                        &p.alert,
                        &|g| guardrails.protects_group(g),
                        &comment,
                        polling,
                    )?,
                };
                match outcome {
                    Outcome::Done(id, d) => {
                        (State::Done, d, Some(id).filter(|i| !i.is_empty()))
                    }
                    Outcome::Running(id, d) => (State::Sent, d, Some(id)),
                    Outcome::Refused(d) => (State::Refused, d, None),
                    Outcome::Failed(id, d) => (State::Failed, d, id),
                }
            }
            Response::Kaspersky(task) => {
                let ksc = targets
                    .ksc
                    .as_deref_mut()
                    .expect("checked by check_targets");
                match ksc.respond(task, &p.alert)? {
                    KscOutcome::Sent(id) => (
                        State::Sent,
                        "incident added: KSC creates the task".into(),
                        Some(id),
                    ),
                    KscOutcome::Refused(d) => (State::Refused, d, None),
                    KscOutcome::Failed(d) => (State::Failed, d, None),
                }
            }
        };
        match state {
            State::Done => tally.done += 1,
            State::Sent => tally.sent += 1,
            State::Refused => tally.refused += 1,
            _ => tally.failed += 1,
        }
        log(audit, entry(p, state, Some(detail), id))?;
    }
    Ok(tally)
}
