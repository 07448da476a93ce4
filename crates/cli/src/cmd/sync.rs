//! `iocmatch sync plan|apply`: publish a set to Defender. The library
//! plans and applies; this reads flags, shows the plan, asks, and logs
//! one line per batch (fit for cron, systemd and Task Scheduler).

use std::io::{self, BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use iocmatch_core::Indicator;
use iocmatch_sync::{
    Applied, BatchDone, Client, Notice, Overrides, Plan, PlanOptions,
    Settings, SyncError,
};

use crate::flags::SyncArgs;
use crate::indicators;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Plan,
    Apply,
}

/// How many changes of each kind the text plan lists.
const SHOWN: usize = 20;

pub fn run(args: &SyncArgs, mode: Mode) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let ls = indicators::load(&args.indicator_files, &args.indicators)?;
    for f in &ls.failed {
        eprintln!("iocmatch: warning: {f}");
    }
    if !ls.loaded.rejected.is_empty() {
        eprintln!(
            "iocmatch: warning: {} indicators rejected and not published (first: {}); run `iocmatch check` for all",
            ls.loaded.rejected.len(),
            ls.loaded.rejected[0]
        );
    }
    if ls.set.is_empty() {
        anyhow::bail!(
            "the set is empty: refusing to sync (it would delete every indicator of ours)"
        );
    }
    let overrides = Overrides {
        api_url: args.api_url.clone(),
        application: args.application.clone(),
    };
    let settings = Settings::load(
        &|k| std::env::var(k).ok(),
        args.config.as_deref(),
        &overrides,
    )?;
    let mut client = Client::new(settings);
    client.observe(|n| eprintln!("iocmatch: {}", describe_notice(n)));
    let tenant = iocmatch_sync::list(&mut client)
        .context("reading the tenant's indicators")?;
    let desired: Vec<&Indicator> = ls.set.iter().map(|(_, i)| i).collect();
    let opts = PlanOptions {
        allow_mass_delete: args.allow_mass_delete,
        ..PlanOptions::default()
    };
    let (app, me) = (
        client.settings().application.clone(),
        client.settings().client_id.clone(),
    );
    let plan = iocmatch_sync::plan(&desired, &tenant, &app, &me, &opts);
    show_plan(args, &plan, client.settings())?;
    if mode == Mode::Plan || args.dry_run {
        if args.dry_run && mode == Mode::Apply {
            eprintln!("iocmatch: --dry-run: nothing was written");
        }
        return Ok(if plan.refusals.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    if !plan.refusals.is_empty() {
        return Err(SyncError::Refused(plan.refusals).into());
    }
    if plan.is_empty() {
        eprintln!(
            "iocmatch: nothing to do: the tenant already holds the set ({} calls)",
            client.calls().total()
        );
        return Ok(ExitCode::SUCCESS);
    }
    confirm(args, &plan)?;
    let counts = (
        plan.create.len(),
        plan.update.len(),
        plan.delete.len(),
        plan.unchanged,
    );
    let applied = iocmatch_sync::apply(&mut client, plan, &mut |b| {
        eprintln!("iocmatch: {}", describe_batch(b))
    })?;
    summary(&applied, counts, &client, start);
    Ok(if applied.complete() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

pub(crate) fn describe_notice(n: &Notice) -> String {
    match n {
        Notice::Pacing { endpoint, wait } => {
            format!(
                "{}: waiting {:.1} s for the rate limit",
                endpoint.describe(),
                wait.as_secs_f64()
            )
        }
        Notice::Retrying { endpoint, attempt, wait, why } => format!(
            "{}: attempt {attempt} failed ({why}); retrying in {:.1} s",
            endpoint.describe(),
            wait.as_secs_f64()
        ),
    }
}

fn describe_batch(b: &BatchDone) -> String {
    let what = if b.kind == "delete" { "deleted" } else { "imported" };
    let failed = if b.failed > 0 {
        format!(", {} failed", b.failed)
    } else {
        String::new()
    };
    format!(
        "{} batch {}/{}: {} {what}{failed}",
        b.kind,
        b.number,
        b.of,
        b.sent - b.failed
    )
}

fn show_plan(
    args: &SyncArgs,
    plan: &Plan,
    settings: &Settings,
) -> anyhow::Result<()> {
    let mut out = io::BufWriter::new(crate::pipe::Stdout::new());
    if args.json {
        serde_json::to_writer_pretty(&mut out, plan)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(());
    }
    writeln!(
        out,
        "plan for tenant {} at {} (application '{}'):",
        settings.tenant_id, settings.api_url, settings.application
    )?;
    writeln!(
        out,
        "  create {}, update {}, delete {}, unchanged {}",
        plan.create.len(),
        plan.update.len(),
        plan.delete.len(),
        plan.unchanged
    )?;
    for e in plan.create.iter().take(SHOWN) {
        let (t, v, a) = (
            e.indicator_type.as_deref(),
            e.indicator_value.as_deref(),
            e.action.as_deref(),
        );
        writeln!(
            out,
            "    + {} {} ({})",
            t.unwrap_or(""),
            v.unwrap_or(""),
            a.unwrap_or("")
        )?;
    }
    more(&mut out, plan.create.len())?;
    for u in plan.update.iter().take(SHOWN) {
        let v = u.entity.indicator_value.as_deref().unwrap_or("");
        writeln!(out, "    ~ {} (id {}): {}", v, u.id, u.fields.join(", "))?;
    }
    more(&mut out, plan.update.len())?;
    for d in plan.delete.iter().take(SHOWN) {
        writeln!(
            out,
            "    - {} {} ({}) id {}",
            d.indicator_type, d.value, d.action, d.id
        )?;
    }
    more(&mut out, plan.delete.len())?;
    if !plan.not_sent.is_empty() {
        writeln!(
            out,
            "  not sent {} (Defender would refuse them):",
            plan.not_sent.len()
        )?;
        for n in plan.not_sent.iter().take(SHOWN) {
            writeln!(
                out,
                "    {} {} ({}): {}",
                n.indicator_type, n.value, n.source, n.reason
            )?;
        }
        more(&mut out, plan.not_sent.len())?;
    }
    writeln!(
        out,
        "  left alone: {} indicators that are not ours",
        plan.foreign
    )?;
    if !plan.foreign_same.is_empty() {
        writeln!(
            out,
            "    {} of them have the identity of one of ours (type, value, action) and are not taken over",
            plan.foreign_same.len()
        )?;
    }
    writeln!(
        out,
        "  tenant after apply: {} of {}",
        plan.tenant_after,
        iocmatch_sync::TENANT_LIMIT
    )?;
    for r in &plan.refusals {
        writeln!(out, "  refused: {r}")?;
    }
    out.flush()?;
    Ok(())
}

fn more(out: &mut impl Write, n: usize) -> io::Result<()> {
    if n > SHOWN {
        writeln!(out, "    … and {} more (--json lists all)", n - SHOWN)?;
    }
    Ok(())
}

/// Asks on a terminal; without one, only `--yes` applies.
fn confirm(args: &SyncArgs, plan: &Plan) -> anyhow::Result<()> {
    if args.yes {
        return Ok(());
    }
    if !io::stdin().is_terminal() {
        anyhow::bail!(
            "refusing to apply without --yes: there is no terminal to ask (scheduled jobs pass --yes; \
             `iocmatch sync plan` shows the plan)"
        );
    }
    eprint!(
        "apply: create {}, update {}, delete {}? [y/N] ",
        plan.create.len(),
        plan.update.len(),
        plan.delete.len()
    );
    io::stderr().flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        anyhow::bail!("not applied: the answer was not yes")
    }
}

fn summary(
    a: &Applied,
    (create, update, delete, unchanged): (usize, usize, usize, usize),
    client: &Client,
    start: Instant,
) {
    let calls = client.calls();
    eprintln!(
        "iocmatch: sync: {} deleted of {delete}, {} imported of {} ({create} new, {update} updated), {unchanged} unchanged, \
         {} failed; {} calls ({} retried) in {:.1} s",
        a.deleted,
        a.imported,
        create + update,
        a.failures.len(),
        calls.total(),
        calls.retried,
        start.elapsed().as_secs_f64()
    );
    for f in a.failures.iter().take(SHOWN) {
        eprintln!("iocmatch: failed: {}: {}", f.value, f.reason);
    }
    if let Some(e) = &a.stopped {
        eprintln!("iocmatch: stopped part-way: {e}");
        eprintln!(
            "iocmatch: run the same command again to finish: it plans from what the tenant holds now"
        );
    }
}
