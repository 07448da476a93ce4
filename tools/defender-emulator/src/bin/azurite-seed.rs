//! Uploads a folder in Defender's storage layout to a running Azurite,
//! as Defender writes it (a container per table, append blobs), and
//! prints the containers' `az://` URLs, one per line.
//!
//!   azurite-seed http://127.0.0.1:10000 benches/data/storage-1GiB/export

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [endpoint, dir] = args.as_slice() else {
        eprintln!("usage: azurite-seed ENDPOINT EXPORT_DIR");
        return std::process::ExitCode::from(2);
    };
    let az = defender_emulator::azurite::Azurite::connect(endpoint);
    match az.upload_export(std::path::Path::new(dir)) {
        Ok(urls) => {
            for u in urls {
                println!("{u}");
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("azurite-seed: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
