//! Replaying blobs where they live: a real Azurite (Microsoft's Azure
//! Storage emulator, which `.ci/run` installs; CI sets
//! IOCMATCH_REQUIRE_AZURITE=1 so these cannot be skipped there), seeded
//! as Defender writes its export — a container per table, append blobs
//! grown block by block — and read by the real CLI through `az://` URLs.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use defender_emulator::azurite::Azurite;

fn azurite() -> Option<Azurite> {
    match Azurite::start() {
        Ok(a) => Some(a),
        Err(e) => {
            assert!(
                std::env::var_os("IOCMATCH_REQUIRE_AZURITE").is_none(),
                "IOCMATCH_REQUIRE_AZURITE is set: {e}"
            );
            eprintln!("skipped: {e}");
            None
        }
    }
}

fn replay(az: &Azurite, args: &[&OsStr]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_iocmatch"));
    c.arg("replay").args(args);
    for (k, v) in az.env() {
        c.env(k, v);
    }
    c.output().expect("run iocmatch")
}

/// Every file under `dir`, relative to it, in order.
fn files(dir: &Path) -> Vec<PathBuf> {
    defender_emulator::azurite::files_under(dir).unwrap()
}

/// Uploads a storage-layout export: each top folder a container, each
/// file an append blob written in three blocks cut at line ends. Returns
/// the containers' URLs.
fn upload(az: &Azurite, export: &Path) -> Vec<String> {
    let mut containers = BTreeSet::new();
    for rel in files(export) {
        let rel_s = rel.to_str().unwrap();
        let (container, name) = rel_s.split_once('/').unwrap();
        if containers.insert(container.to_owned()) {
            az.create_container(container).unwrap();
        }
        let data = std::fs::read(export.join(&rel)).unwrap();
        let cut = |f: usize| {
            data[..data.len() * f / 3]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
        };
        let (a, b) = (cut(1), cut(2).max(cut(1)));
        az.append_blob(
            container,
            name,
            &[&data[..a], &data[a..b], &data[b..]],
        )
        .unwrap();
    }
    containers.into_iter().map(|c| format!("az://{c}/")).collect()
}

fn generate(dir: &Path, gzip: bool) {
    let opts = iocmatch_gen::Options {
        out: dir.to_path_buf(),
        layout: iocmatch_gen::Layout::Storage,
        gzip,
        size: 3_000_000,
        seed: 5,
        hit_rate: 0.02,
        duplicate_rate: 0.02,
        damage_rate: 0.001,
        start: 1_784_332_800_000_000_000,
        hours: 4,
        bad: 10,
    };
    iocmatch_gen::generate(&opts, &mut |_| {}).unwrap();
    let world = iocmatch_gen::World::new(5, 10);
    let rows = iocmatch_gen::indicators::rows(&world, 500, 5);
    let mut f = std::fs::File::create(dir.join("iocs.csv")).unwrap();
    iocmatch_gen::indicators::write_csv(&rows, &mut f).unwrap();
}

/// Hits as lines, each `source` made relative: `<container>/<blob>`
/// whether read from disk or from storage.
fn hits(path: &Path, export: &Path) -> Vec<String> {
    let local = format!("{}/", export.display());
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let s = v["source"]
                .as_str()
                .unwrap()
                .replace(&local, "")
                .replace("az://", "");
            v["source"] = s.into();
            v.to_string()
        })
        .collect()
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

#[test]
fn blobs_replay_as_the_same_files_on_disk() {
    for gzip in [false, true] {
        // A fresh, empty storage account for each.
        let Some(az) = azurite() else { return };
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), gzip);
        let export = dir.path().join("export");
        let urls = upload(&az, &export);
        assert!(urls.len() > 3, "{urls:?}");
        let iocs = dir.path().join("iocs.csv");
        let (local_hits, blob_hits) =
            (dir.path().join("local.jsonl"), dir.path().join("blob.jsonl"));
        let (local_report, blob_report) =
            (dir.path().join("local.json"), dir.path().join("blob.json"));
        let local = replay(
            &az,
            &[
                os("-q"),
                os("-i"),
                iocs.as_os_str(),
                export.as_os_str(),
                os("--hits"),
                local_hits.as_os_str(),
                os("--report"),
                local_report.as_os_str(),
            ],
        );
        let mut args = vec![
            os("-q"),
            os("-i"),
            iocs.as_os_str(),
            os("--hits"),
            blob_hits.as_os_str(),
            os("--report"),
            blob_report.as_os_str(),
        ];
        args.extend(urls.iter().map(OsStr::new));
        let blob = replay(&az, &args);
        assert_eq!(
            blob.status.code(),
            local.status.code(),
            "{}",
            String::from_utf8_lossy(&blob.stderr)
        );
        let want = hits(&local_hits, &export);
        assert!(want.len() > 20, "{}", want.len());
        assert_eq!(hits(&blob_hits, &export), want, "gzip {gzip}");
        let totals = |p: &Path| {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(p).unwrap())
                    .unwrap();
            let t = &v["totals"];
            (
                t["files"].clone(),
                t["records"].clone(),
                t["alerts"].clone(),
                t["rejected_lines"]["by_reason"].clone(),
            )
        };
        assert_eq!(totals(&blob_report), totals(&local_report));
    }
}

#[test]
fn blobs_outside_the_window_are_not_downloaded_and_nothing_inside_is_lost() {
    let Some(az) = azurite() else { return };
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), false);
    let export = dir.path().join("export");
    let urls = upload(&az, &export);
    let iocs = dir.path().join("iocs.csv");
    let window = [
        "--from",
        "2026-07-18T01:00:00Z",
        "--to",
        "2026-07-18T02:30:00Z",
        "--tables",
        "DeviceNetworkEvents,DeviceFileEvents",
    ];
    let run = |inputs: &[&OsStr], out: &Path, late: &str| {
        let mut args = vec![
            os("-q"),
            os("-i"),
            iocs.as_os_str(),
            os("--hits"),
            out.as_os_str(),
            os("--report"),
        ];
        let report = out.with_extension("report.json");
        args.push(report.as_os_str());
        args.extend(window.iter().map(OsStr::new));
        args.extend([os("--late-by"), os(late)]);
        args.extend_from_slice(inputs);
        let o = replay(&az, &args);
        assert!(
            o.status.code().unwrap() < 2,
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap())
                .unwrap();
        v["totals"]["skipped_files"].as_u64().unwrap_or(0)
    };
    let url_args: Vec<&OsStr> = urls.iter().map(OsStr::new).collect();
    let pruned_hits = dir.path().join("pruned.jsonl");
    let skipped = run(&url_args, &pruned_hits, "1h");
    assert!(
        skipped > urls.len() as u64,
        "only {skipped} of the blobs were skipped"
    );
    // The same records, none ruled out by path: one flat file per blob
    // (no layout in the names), so only the record filters apply.
    let flat = dir.path().join("flat");
    std::fs::create_dir(&flat).unwrap();
    for (i, rel) in files(&export).iter().enumerate() {
        std::fs::copy(export.join(rel), flat.join(format!("{i:04}.json")))
            .unwrap();
    }
    let flat_hits = dir.path().join("flat.jsonl");
    assert_eq!(run(&[flat.as_os_str()], &flat_hits, "1h"), 0);
    let key = |p: &Path| -> Vec<String> {
        let mut k: Vec<String> = std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                format!(
                    "{} {} {} {} {}",
                    v["table"],
                    v["timestamp"],
                    v["device_id"],
                    v["report_id"],
                    v["indicator"]["id"]
                )
            })
            .collect();
        k.sort();
        k
    };
    let want = key(&flat_hits);
    assert!(!want.is_empty());
    assert_eq!(key(&pruned_hits), want);
}

#[test]
fn a_missing_container_is_a_clear_error() {
    let Some(az) = azurite() else { return };
    let iocs = crate::indicators("defanged.txt");
    let o = replay(
        &az,
        &[os("-i"), iocs.as_os_str(), os("az://no-such-container/")],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("az://no-such-container/") && err.contains("cannot list"),
        "{err}"
    );
}
