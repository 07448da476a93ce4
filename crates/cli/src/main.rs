//! iocmatch: compile Defender IOC sets, replay exports against them.

mod cmd;
mod flags;
mod indicators;
mod outputs;
mod pipe;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = flags::Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`iocmatch … | head`) is not a failure.
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(std::io::stderr(), "iocmatch: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: flags::Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        flags::Command::Check(args) => cmd::check::run(&args),
        flags::Command::Replay(args) => cmd::replay::run(&args),
        flags::Command::Gate(args) => cmd::gate::run(&args),
        flags::Command::Sync(flags::SyncCommand::Plan(args)) => {
            cmd::sync::run(&args, cmd::sync::Mode::Plan)
        }
        flags::Command::Sync(flags::SyncCommand::Apply(args)) => {
            cmd::sync::run(&args, cmd::sync::Mode::Apply)
        }
        flags::Command::Respond(flags::RespondCommand::Plan(args)) => {
            cmd::respond::run(&args, false)
        }
        flags::Command::Respond(flags::RespondCommand::Apply(args)) => {
            cmd::respond::run(&args, true)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
