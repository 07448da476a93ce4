//! `iocmatch respond plan|apply`: responses to replay's alerts. The
//! library plans and applies; this reads flags, shows the plan, asks,
//! and prints one line per action as the audit log records it.

use std::io::{self, BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use iocmatch_sync::respond::{
    self, AuditLog, Entry, Ksc, KscSettings, Policy, Polling, ResponsePlan,
    State, Status, Targets,
};
use iocmatch_sync::{Client, Overrides, Settings};
use serde_json::json;

use crate::flags::RespondArgs;

pub fn run(args: &RespondArgs, apply: bool) -> anyhow::Result<ExitCode> {
    let alerts = respond::read_alerts(&args.alerts)?;
    let policy = Policy::load(&args.policy)?;
    // A plan only reads the log; an apply appends to it.
    let history = respond::History::read(&args.audit)?;
    let now = jiff::Timestamp::now().as_second();
    let mut plan = respond::plan_responses(&alerts, &policy, &history, now);
    recommend_from_indicators(&mut plan, &args.indicator_files)?;
    if args.json {
        serde_json::to_writer_pretty(io::stdout().lock(), &plan_json(&plan))?;
        println!();
    } else {
        show(&plan, alerts.len(), &mut io::stdout().lock())?;
    }
    if !apply {
        return Ok(ExitCode::SUCCESS);
    }
    let sends = plan.to_send().count();
    let needs =
        |system: &str| plan.to_send().any(|p| p.response.system() == system);
    // Connections only for the systems the plan sends to.
    let mut client = if needs("defender") {
        let overrides =
            Overrides { api_url: args.api_url.clone(), application: None };
        let settings = Settings::load(
            &|k| std::env::var(k).ok(),
            args.config.as_deref(),
            &overrides,
        )?;
        let mut c = Client::new(settings);
        c.observe(|n| {
            eprintln!("iocmatch: {}", super::sync::describe_notice(n))
        });
        Some(c)
    } else {
        None
    };
    let mut ksc = match KscSettings::load(
        &|k| std::env::var(k).ok(),
        args.config.as_deref(),
    )? {
        Some(s) if needs("kaspersky") => Some(Ksc::new(s, "iocmatch")?),
        _ => None,
    };
    let mut targets = Targets { defender: client.as_mut(), ksc: ksc.as_mut() };
    respond::check_targets(&plan, &targets)?;
    if sends > 0 {
        confirm(args, sends)?;
    }
    let polling = Polling {
        wait: Duration::from_nanos(args.wait.max(0) as u64),
        every: Duration::from_secs(10),
    };
    let (mut audit, _) = AuditLog::open(&args.audit)?;
    let mut out = io::stderr().lock();
    let tally = respond::apply_responses(
        &plan,
        &mut targets,
        &policy.guardrails,
        &mut audit,
        polling,
        &mut |e| {
            if e.state != State::Planned {
                let _ = writeln!(out, "{}", line(e));
            }
        },
    )?;
    println!(
        "responded: {} done, {} sent and running, {} refused, {} failed, {} done before (audit log: {})",
        tally.done,
        tally.sent,
        tally.refused,
        tally.failed,
        tally.skipped,
        args.audit.display()
    );
    Ok(if tally.clean() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The indicators' own recommended actions, where they have one, for the
/// alerts Defender is sent (they win over the rule's).
fn recommend_from_indicators(
    plan: &mut ResponsePlan,
    files: &[std::path::PathBuf],
) -> anyhow::Result<()> {
    let mut by_value = std::collections::HashMap::new();
    for f in files {
        let loaded = iocmatch_core::load::load_path(
            f,
            &iocmatch_core::load::LoadOptions::default(),
        )?;
        for i in &loaded.indicators {
            if let Some(r) =
                i.meta().recommended_actions().filter(|r| !r.trim().is_empty())
            {
                by_value.insert(
                    (i.indicator_type().to_string(), i.value().to_owned()),
                    r.to_owned(),
                );
            }
        }
    }
    for a in &mut plan.actions {
        let key =
            (a.alert.indicator.kind.clone(), a.alert.indicator.value.clone());
        if let Some(r) = by_value.get(&key) {
            a.recommended_action = Some(r.clone());
        }
    }
    Ok(())
}

fn line(e: &Entry) -> String {
    let state = match e.state {
        State::Planned => "planned",
        State::Refused => "refused",
        State::Sent => "sent",
        State::Done => "done",
        State::Failed => "FAILED",
    };
    let id =
        e.remote_id.as_deref().map(|i| format!(" [{i}]")).unwrap_or_default();
    let detail =
        e.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
    format!(
        "{state:>7} {} {} on {} ({}){id}{detail}",
        e.system, e.response, e.device_name, e.indicator
    )
}

fn show(
    plan: &ResponsePlan,
    alerts: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    let count = |f: &dyn Fn(&Status) -> bool| {
        plan.actions.iter().filter(|a| f(&a.status)).count()
    };
    writeln!(
        out,
        "{alerts} alerts: {} actions to send, {} refused, {} done before",
        count(&|s| *s == Status::Send),
        count(&|s| matches!(s, Status::Refused(_))),
        count(&|s| matches!(s, Status::AlreadyDone(_)))
    )?;
    for a in &plan.actions {
        let (mark, why) = match &a.status {
            Status::Send => ("send", String::new()),
            Status::Refused(r) => ("refused", format!(": {r}")),
            Status::AlreadyDone(r) => ("done", format!(": {r}")),
        };
        writeln!(
            out,
            "  {mark:>7} {} {} on {} ({} {}, rule {}){why}",
            a.response.system(),
            a.response.name(),
            a.alert.device_name,
            a.alert.indicator.kind,
            a.alert.indicator.value,
            a.rule
        )?;
    }
    Ok(())
}

fn plan_json(plan: &ResponsePlan) -> serde_json::Value {
    let actions: Vec<serde_json::Value> = plan
        .actions
        .iter()
        .map(|a| {
            let (status, reason) = match &a.status {
                Status::Send => ("send", None),
                Status::Refused(r) => ("refused", Some(r)),
                Status::AlreadyDone(r) => ("already_done", Some(r)),
            };
            json!({
                "key": a.key,
                "system": a.response.system(),
                "response": a.response.name(),
                "touches_device": a.response.touches_device(),
                "rule": a.rule,
                "device_id": a.alert.device_id,
                "device_name": a.alert.device_name,
                "indicator": {"type": a.alert.indicator.kind, "value": a.alert.indicator.value},
                "status": status,
                "reason": reason,
            })
        })
        .collect();
    json!({"actions": actions})
}

/// Asks on a terminal; without one, only `--yes` applies.
fn confirm(args: &RespondArgs, sends: usize) -> anyhow::Result<()> {
    if args.yes {
        return Ok(());
    }
    if !io::stdin().is_terminal() {
        anyhow::bail!(
            "refusing to act without --yes: there is no terminal to ask (`iocmatch respond plan` shows the plan)"
        );
    }
    eprint!("send {sends} actions? [y/N] ");
    io::stderr().flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    if !matches!(answer.trim(), "y" | "Y" | "yes") {
        anyhow::bail!("not applied");
    }
    Ok(())
}
