//! `defender-emulator`: serves the emulator on a loopback port, for
//! trying `iocmatch sync` by hand:
//!
//! ```sh
//! defender-emulator --port 8089 --client-id 00000000-0000-0000-0000-000000000001 --client-secret s
//! ```
//!
//! then point `IOCMATCH_API_URL` and `AZURE_AUTHORITY_HOST` at
//! `http://127.0.0.1:8089`.

use defender_emulator::{App, Config, Emulator};

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut port, mut client_id, mut secret) =
        ("8089".to_owned(), None, None);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next().unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--port" => port = value(),
            "--client-id" => client_id = Some(value()),
            "--client-secret" => secret = Some(value()),
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let (Some(client_id), Some(client_secret)) = (client_id, secret) else {
        usage("--client-id and --client-secret are required")
    };
    let config = Config {
        apps: vec![App { client_id, client_secret }],
        ..Config::default()
    };
    let emulator = Emulator::start_on(&format!("127.0.0.1:{port}"), config)
        .unwrap_or_else(|e| {
            eprintln!("defender-emulator: {e}");
            std::process::exit(2)
        });
    eprintln!("defender-emulator: serving {}", emulator.url());
    loop {
        std::thread::park();
    }
}

fn usage(why: &str) -> ! {
    if !why.is_empty() {
        eprintln!("defender-emulator: {why}");
    }
    eprintln!(
        "usage: defender-emulator [--port N] --client-id ID --client-secret SECRET"
    );
    std::process::exit(if why.is_empty() { 0 } else { 2 })
}
