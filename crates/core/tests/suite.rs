//! Runs `testdata/suite/*.json` against the compiled matcher.

use std::sync::Arc;

use iocmatch_core::load::{Format, LoadOptions, load_bytes};
use iocmatch_core::{HashKind, IndicatorId, IndicatorSet};
use serde::Deserialize;

#[derive(Deserialize)]
struct SuiteFile {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    indicators: Vec<String>,
    probes: Vec<Probe>,
}

#[derive(Deserialize)]
struct Probe {
    network: Option<String>,
    ip: Option<String>,
    md5: Option<String>,
    sha1: Option<String>,
    sha256: Option<String>,
    cert: Option<String>,
    file: Option<FileProbe>,
    /// `null` means the value must be refused as malformed.
    expect: Option<Vec<u32>>,
    effective: Option<u32>,
}

#[derive(Deserialize)]
struct FileProbe {
    md5: Option<String>,
    sha1: Option<String>,
    sha256: Option<String>,
}

fn compile(case: &Case) -> IndicatorSet {
    let mut csv = String::from("IndicatorType,IndicatorValue,Action\n");
    for row in &case.indicators {
        csv.push_str(row);
        csv.push('\n');
    }
    let loaded = load_bytes(
        &Arc::from("suite.csv"),
        csv.as_bytes(),
        Format::DefenderCsv,
        &LoadOptions::default(),
    )
    .unwrap();
    assert!(
        loaded.rejected.is_empty(),
        "{}: {:?}",
        case.name,
        loaded.rejected
    );
    IndicatorSet::new(loaded.indicators).unwrap()
}

/// The candidates for a probe, or `Err` when the value is malformed.
fn run_probe(
    set: &IndicatorSet,
    p: &Probe,
) -> Result<Vec<IndicatorId>, &'static str> {
    let mut out = Vec::new();
    let hashes = |out: &mut Vec<IndicatorId>,
                  md5: &Option<String>,
                  sha1: &Option<String>,
                  sha256: &Option<String>| {
        for (kind, v) in [
            (HashKind::Md5, md5),
            (HashKind::Sha1, sha1),
            (HashKind::Sha256, sha256),
        ] {
            if let Some(v) = v {
                out.extend_from_slice(set.match_hash(kind, v.as_bytes()));
            }
        }
    };
    if let Some(n) = &p.network {
        set.match_network_text(n, &mut out)?;
    } else if let Some(ip) = &p.ip {
        if let Some(addr) = iocmatch_core::value::ip::parse_addr(ip) {
            set.match_ip(addr, &mut out);
        }
    } else if let Some(c) = &p.cert {
        out.extend_from_slice(set.match_certificate(c.as_bytes()));
    } else if let Some(f) = &p.file {
        hashes(&mut out, &f.md5, &f.sha1, &f.sha256);
    } else {
        hashes(&mut out, &p.md5, &p.sha1, &p.sha256);
    }
    Ok(out)
}

#[test]
fn match_suite() {
    let dir = crate::testdata().join("suite");
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    assert!(files.len() >= 5, "suite files missing in {}", dir.display());
    let mut probes = 0;
    for path in files {
        let suite: SuiteFile =
            serde_json::from_slice(&std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for case in &suite.cases {
            let set = compile(case);
            for (i, p) in case.probes.iter().enumerate() {
                probes += 1;
                let ctx =
                    format!("{} / {} / probe {i}", path.display(), case.name);
                let got = run_probe(&set, p);
                let Some(expect) = &p.expect else {
                    assert!(
                        got.is_err(),
                        "{ctx}: expected a malformed value, got {got:?}"
                    );
                    continue;
                };
                let mut got =
                    got.unwrap_or_else(|e| panic!("{ctx}: refused: {e}"));
                let effective = set.effective(&got).map(|id| id.0);
                got.sort();
                let got: Vec<u32> = got.iter().map(|id| id.0).collect();
                let mut want = expect.clone();
                want.sort();
                assert_eq!(got, want, "{ctx}: candidates");
                if let Some(e) = p.effective {
                    assert_eq!(effective, Some(e), "{ctx}: effective");
                }
            }
        }
    }
    assert!(probes > 80, "only {probes} probes ran");
}
