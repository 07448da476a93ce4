//! Every loader on the fixtures in `testdata/indicators/`: what loads, in
//! which normal form, and which rejections name which line.

use iocmatch_core::load::{Format, LoadOptions, Loaded, load_path};
use iocmatch_core::{Action, IndicatorType, Severity};

fn load(name: &str) -> Loaded {
    load_with(name, &LoadOptions::default())
}

fn load_with(name: &str, opts: &LoadOptions) -> Loaded {
    let path = crate::testdata().join("indicators").join(name);
    load_path(&path, opts).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn values(l: &Loaded) -> Vec<(IndicatorType, &str)> {
    l.indicators.iter().map(|i| (i.indicator_type(), i.value())).collect()
}

/// (line, fragment of the reason) for every rejection.
fn rejections(l: &Loaded) -> Vec<(u64, String)> {
    l.rejected
        .iter()
        .map(|r| (r.source.line_number(), r.reason().to_owned()))
        .collect()
}

fn assert_rejected(l: &Loaded, want: &[(u64, &str)]) {
    let got = rejections(l);
    assert_eq!(got.len(), want.len(), "rejections: {got:#?}");
    for ((gl, gr), (wl, wr)) in got.iter().zip(want) {
        assert_eq!(gl, wl, "line of '{gr}'");
        assert!(gr.contains(wr), "line {gl}: '{gr}' should mention '{wr}'");
    }
}

#[test]
fn detects_every_format() {
    let dir = crate::testdata().join("indicators");
    let cases = [
        ("defender.csv", Format::DefenderCsv),
        ("api.json", Format::DefenderJson),
        ("api.jsonl", Format::DefenderJson),
        ("defanged.txt", Format::Text),
        ("misp-event.json", Format::MispJson),
        ("misp-feed", Format::MispFeed),
        ("misp.csv", Format::MispCsv),
        ("stix-bundle.json", Format::Stix),
        ("set/alerts.toml", Format::Set),
        ("legacy-ti.json", Format::LegacyTi),
    ];
    for (name, want) in cases {
        assert_eq!(Format::detect(&dir.join(name)).unwrap(), want, "{name}");
    }
}

#[test]
fn defender_csv_normalises_every_type() {
    let l = load("defender.csv");
    assert!(l.rejected.is_empty(), "{:?}", l.rejected);
    let v = values(&l);
    assert_eq!(
        v[0],
        (
            IndicatorType::FileSha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )
    );
    assert_eq!(
        v[3],
        (
            IndicatorType::CertificateThumbprint,
            "abcdef0123456789abcdef0123456789abcdef01"
        )
    );
    assert_eq!(v[5], (IndicatorType::IpAddress, "8.8.8.8"));
    assert_eq!(v[6], (IndicatorType::IpAddress, "2001:4860:4860::8888"));
    assert_eq!(v[7], (IndicatorType::DomainName, "evil.com"));
    assert_eq!(v[8], (IndicatorType::DomainName, "xn--bcher-kva.example"));
    assert_eq!(v[9], (IndicatorType::Url, "https://evil.com/Payload/"));
    assert_eq!(
        v[10],
        (IndicatorType::Url, "http://shop.example.com/cart?id=%2F1")
    );
    assert_eq!(v[11], (IndicatorType::Url, "downloads.example.net/tools"));
    let first = &l.indicators[0];
    assert_eq!(first.meta().description(), Some("Quoted, with comma"));
    assert_eq!(first.meta().mitre_techniques(), ["T1059", "T1105"]);
    assert_eq!(first.meta().severity, Some(Severity::High));
    let second = &l.indicators[1];
    assert_eq!(second.meta().rbac_group_names(), ["Servers", "Workstations"]);
    assert_eq!(
        second.meta().expiration.unwrap().to_string(),
        "2030-01-01T00:00:00Z"
    );
    assert!(!second.alerts(), "GenerateAlert False");
    assert!(!l.indicators[2].alerts(), "Allowed never alerts");
    assert!(l.indicators[0].alerts(), "default is to alert");
    assert_eq!(
        l.indicators[0].source().to_string().rsplit(':').next(),
        Some("2")
    );
}

#[test]
fn defender_csv_refusals_name_line_and_reason() {
    let l = load("invalid.csv");
    assert_rejected(
        &l,
        &[
            (2, "expected 64 hex digits, found 3"),
            (3, "non-hex"),
            (4, "private address"),
            (5, "loopback"),
            (6, "not an IP address"),
            (7, "refuses action BlockAndRemediate on IpAddress"),
            (8, "refuses action Block on CertificateThumbprint"),
            (9, "two labels"),
            (10, "unknown action 'Destroy'"),
            (11, "missing action"),
            (12, "unknown severity 'Critical'"),
            (13, "invalid time 'yesterday'"),
            (14, "GenerateAlert must be True or False"),
            (15, "unknown indicator type 'Hostname'"),
            (16, "no host"),
        ],
    );
    assert_eq!(l.indicators.len(), 1, "the valid row still loads");
    assert_eq!(
        l.indicators[0].action(),
        Action::Audit,
        "Alert is an alias of Audit"
    );
}

#[test]
fn plain_lists_refang_and_infer() {
    let l = load("defanged.txt");
    let v = values(&l);
    assert_eq!(
        v,
        vec![
            (IndicatorType::Url, "http://malware.example.org/drop/stage2.bin"),
            (IndicatorType::Url, "https://login-microsoft.example.net/"),
            (IndicatorType::DomainName, "evil.example"),
            (IndicatorType::IpAddress, "6.6.6.0/24"),
            (IndicatorType::IpAddress, "2a00:1450:4001:82a::200e"),
            (IndicatorType::FileMd5, "44d88612fea8a8f36de82e1278abb02f"),
            (
                IndicatorType::FileSha1,
                "3395856ce81f2b7382dee72602f798b642f14140"
            ),
            (
                IndicatorType::FileSha256,
                "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
            ),
            (IndicatorType::DomainName, "hxxp-shop.com"),
        ]
    );
    assert!(l.indicators.iter().all(|i| i.action() == Action::Audit));
    assert_rejected(
        &l,
        &[(6, "documentation address"), (13, "cannot tell the type")],
    );
}

#[test]
fn plain_lists_take_defaults_from_options() {
    let opts = LoadOptions {
        default_action: "Block".into(),
        default_severity: Some(Severity::High),
        default_title: Some("From a report".into()),
        ..LoadOptions::default()
    };
    let l = load_with("defanged.txt", &opts);
    let i = &l.indicators[0];
    assert_eq!(i.action(), Action::Block);
    assert_eq!(i.title(), Some("From a report"));
    assert!(
        std::sync::Arc::ptr_eq(
            l.indicators[0].shared_meta(),
            l.indicators[8].shared_meta()
        ),
        "metadata is shared"
    );
}

#[test]
fn defender_api_list_and_json_lines() {
    let l = load("api.json");
    assert_eq!(
        values(&l),
        vec![
            (IndicatorType::Url, "https://phish.example.com/login"),
            (IndicatorType::FileMd5, "1a79a4d60de6718e8e5b326e338ae533"),
        ]
    );
    assert_eq!(
        l.indicators[0].action(),
        Action::Block,
        "AlertAndBlock is Block with an alert"
    );
    assert!(l.indicators[0].alerts());
    assert_eq!(l.indicators[0].meta().category(), Some("1"));
    assert_eq!(l.indicators[0].meta().rbac_group_names(), ["Finance"]);
    assert_eq!(l.rejected.len(), 1);
    assert_eq!(l.rejected[0].source.json_path(), Some("$.value[2]"));
    assert_eq!(l.rejected[0].source.line_number(), 27);

    let l = load("api.jsonl");
    assert_eq!(
        values(&l),
        vec![
            (IndicatorType::DomainName, "dropper.example.com"),
            (IndicatorType::IpAddress, "185.220.101.5"),
        ]
    );
    assert_rejected(&l, &[(2, "private address"), (3, "invalid JSON")]);
}

#[test]
fn misp_event_maps_types_and_to_ids() {
    let l = load("misp-event.json");
    assert_eq!(
        values(&l),
        vec![
            (
                IndicatorType::FileSha256,
                "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
            ),
            (IndicatorType::DomainName, "c2.campaign-x.example"),
            (IndicatorType::IpAddress, "185.220.101.9"),
            (IndicatorType::Url, "http://c2.campaign-x.example/gate.php"),
            (IndicatorType::DomainName, "cdn.campaign-x.example"),
            (IndicatorType::IpAddress, "185.220.101.10"),
            (IndicatorType::FileMd5, "1a79a4d60de6718e8e5b326e338ae533"),
            (
                IndicatorType::FileSha1,
                "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"
            ),
        ]
    );
    let i = &l.indicators[0];
    assert_eq!(i.title(), Some("Campaign X: loader and C2"));
    assert_eq!(i.meta().severity, Some(Severity::High));
    assert_eq!(i.meta().description(), Some("loader"));
    assert_eq!(l.skipped.values().sum::<u64>(), 2);
    assert_rejected(
        &l,
        &[(15, "private address"), (22, "CertificateThumbprint")],
    );
    assert_eq!(
        l.rejected[1].source.json_path(),
        Some("$.Event.Object[0].Attribute[1]")
    );

    let all =
        LoadOptions { misp_all_attributes: true, ..LoadOptions::default() };
    assert_eq!(load_with("misp-event.json", &all).indicators.len(), 9);
}

#[test]
fn misp_feed_and_csv() {
    let l = load("misp-feed");
    assert_eq!(
        values(&l),
        vec![
            (IndicatorType::DomainName, "a.feed.example"),
            (IndicatorType::FileMd5, "b10a8db164e0754105b7a99be72e3fe5"),
            (IndicatorType::Url, "https://b.feed.example/x"),
        ]
    );
    assert_eq!(l.indicators[0].meta().severity, Some(Severity::Medium));
    assert_eq!(l.indicators[2].meta().severity, Some(Severity::Low));
    assert_rejected(&l, &[(3, "expected 64 hex digits")]);

    let l = load("misp.csv");
    assert_eq!(
        values(&l),
        vec![
            (IndicatorType::IpAddress, "45.9.148.3"),
            (IndicatorType::DomainName, "scan.example.org"),
        ]
    );
    assert_eq!(l.indicators[0].meta().description(), Some("scanner"));
    assert_rejected(&l, &[(5, "private address")]);
}

#[test]
fn stix_patterns_supported_and_reported() {
    let l = load("stix-bundle.json");
    assert_eq!(
        values(&l),
        vec![
            (
                IndicatorType::FileSha256,
                "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
            ),
            (IndicatorType::IpAddress, "91.215.85.0/24"),
            (IndicatorType::DomainName, "c2.stealer.example"),
            (IndicatorType::Url, "https://c2.stealer.example/api"),
        ]
    );
    assert_eq!(l.indicators[0].title(), Some("Stealer hash"));
    assert_eq!(
        l.indicators[0].meta().expiration.unwrap().to_string(),
        "2027-01-01T00:00:00Z"
    );
    assert_eq!(l.indicators[0].meta().external_id(), Some("indicator--a"));
    assert_rejected(
        &l,
        &[
            (12, "indicator--c: AND is not supported"),
            (14, "pattern_type 'sigma' in indicator--d"),
            (16, "refuses action Audit on CertificateThumbprint"),
        ],
    );
    // Certificates get their own default action; the rest keep theirs.
    let certs = LoadOptions {
        default_cert_action: Some("BlockAndRemediate".into()),
        ..LoadOptions::default()
    };
    let l = load_with("stix-bundle.json", &certs);
    let is_cert = |i: &&iocmatch_core::Indicator| {
        i.indicator_type() == IndicatorType::CertificateThumbprint
    };
    let cert = l.indicators.iter().find(is_cert).unwrap();
    assert_eq!(cert.value(), "89abcdef0123456789abcdef0123456789abcdef");
    assert_eq!(cert.action(), Action::BlockAndRemediate);
    assert!(
        l.indicators
            .iter()
            .filter(|i| !is_cert(i))
            .all(|i| i.action() == Action::Audit)
    );
    assert_eq!(l.rejected.len(), 2, "only the unsupported patterns remain");
}

#[test]
fn unreadable_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("broken.json");
    std::fs::write(&p, b"{\"Event\": {\"Attribute\": [").unwrap();
    let err = load_path(&p, &LoadOptions::default()).unwrap_err();
    assert!(err.to_string().contains("broken.json"), "{err}");
    let missing = dir.path().join("missing.csv");
    assert!(load_path(&missing, &LoadOptions::default()).is_err());
    let folder = dir.path();
    assert!(
        load_path(folder, &LoadOptions::default())
            .unwrap_err()
            .to_string()
            .contains("manifest.json")
    );
}

#[test]
fn set_files_give_every_indicator_its_alert_definition() {
    let l = load("set/alerts.toml");
    assert_rejected(
        &l,
        &[(20, "documentation address"), (32, "cannot tell the type")],
    );
    let v = values(&l);
    assert!(v.contains(&(IndicatorType::DomainName, "emotet-c2.example")));
    assert!(v.contains(&(
        IndicatorType::Url,
        "https://cdn.emotet-c2.example/gate.php"
    )));
    let emotet: Vec<_> = l
        .indicators
        .iter()
        .filter(|i| i.title() == Some("Emotet command and control"))
        .collect();
    assert_eq!(emotet.len(), 5, "3 inline and 2 from the attached list");
    for i in &emotet {
        let m = i.meta();
        assert_eq!(m.severity, Some(Severity::High));
        assert_eq!(m.category(), Some("CommandAndControl"));
        assert_eq!(m.mitre_techniques(), ["T1071.001", "T1105"]);
        assert_eq!(m.rbac_group_names(), ["Workstations"], "from [defaults]");
        assert_eq!(m.expiration.unwrap().to_string(), "2027-06-30T00:00:00Z");
    }
    let action = |v: &str| {
        l.indicators.iter().find(|i| i.value() == v).unwrap().action()
    };
    assert_eq!(action("45.33.32.156"), Action::Audit, "an entry's own action");
    assert_eq!(
        action("emotet-c2.example"),
        Action::Block,
        "the default action"
    );
    assert_eq!(
        action("login-micros0ft.example.net"),
        Action::Warn,
        "the alert's action"
    );
    let hashes: Vec<_> = emotet
        .iter()
        .filter(|i| i.indicator_type() == IndicatorType::FileSha256)
        .collect();
    assert_eq!(hashes.len(), 2);
    assert!(
        hashes[0].source().to_string().ends_with("emotet-hashes.txt:3"),
        "{}",
        hashes[0].source()
    );
    let phishing = l
        .indicators
        .iter()
        .find(|i| i.value() == "login-micros0ft.example.net")
        .unwrap();
    assert!(
        phishing.meta().rbac_group_names().is_empty(),
        "an alert's own empty list wins"
    );
}

#[test]
fn set_files_refuse_unknown_keys_and_include_no_set_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.toml");
    std::fs::write(&p, "[[alert]]\ntitle = \"x\"\nseverty = \"High\"\n")
        .unwrap();
    let e = load_path(&p, &LoadOptions::default()).unwrap_err().to_string();
    assert!(e.contains("line 3") && e.contains("severty"), "{e}");
    std::fs::write(&p, "[[alert]]\ntitle = \"x\"\nfiles = [\"s.toml\"]\n")
        .unwrap();
    let l = load_path(&p, &LoadOptions::default()).unwrap();
    assert_rejected(&l, &[(3, "cannot include another set file")]);
}

#[test]
fn legacy_ti_definitions_and_iocs_migrate() {
    let l = load("legacy-ti.json");
    assert_rejected(&l, &[(39, "DetectionFunction EndWith")]);
    assert_eq!(l.skipped.values().sum::<u64>(), 2, "{:?}", l.skipped);
    let v = values(&l);
    assert_eq!(
        v,
        [
            (IndicatorType::IpAddress, "185.220.101.1"),
            (
                IndicatorType::FileSha1,
                "da39a3ee5e6b4b0d3255bfef95601890afd80709"
            ),
        ]
    );
    for i in &l.indicators {
        assert_eq!(i.title(), Some("Connection to a Tor exit node"));
        assert_eq!(i.meta().severity, Some(Severity::Low));
        assert_eq!(
            i.meta().description(),
            Some("The device connected to a known Tor exit node")
        );
        assert_eq!(
            i.meta().recommended_actions(),
            Some("Check the process that connected")
        );
        assert_eq!(i.action(), Action::Audit);
        assert!(i.alerts());
    }
    assert!(l.indicators[0].meta().expiration.is_some());
}

#[test]
fn lists_as_people_write_them_load_with_reasons_for_the_rest() {
    let opts = LoadOptions {
        default_cert_action: Some("Allowed".into()),
        ..LoadOptions::default()
    };
    let l = load_with("list-utf16.txt", &opts);
    assert_eq!(
        l.files[0].format,
        Format::Text,
        "UTF-16 with a BOM is sniffed as text"
    );
    assert_rejected(
        &l,
        &[
            (5, "address with a port"),
            (6, "email address"),
            (7, "wildcard"),
            (9, "invalid CIDR network"),
        ],
    );
    let v = values(&l);
    assert_eq!(
        v,
        [
            (IndicatorType::DomainName, "evil.example.com"),
            (IndicatorType::IpAddress, "1.2.3.4"),
            (IndicatorType::Url, "https://bad.example/x"),
            (
                IndicatorType::CertificateThumbprint,
                "abcdef0123456789abcdef0123456789abcdef01"
            ),
            (IndicatorType::DomainName, "evil.example.com"),
            (IndicatorType::DomainName, "evil.example.com"),
        ],
        "comments cut, quotes removed, defangs undone, the trailing no-break space trimmed"
    );
}

#[test]
fn stix_2_0_bundles_load_like_2_1() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("stix20.json");
    std::fs::write(&p, r#"{"type":"bundle","id":"bundle--1","spec_version":"2.0","objects":[
        {"type":"indicator","id":"indicator--a","labels":["malicious-activity"],"name":"dropper",
         "pattern":"[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' OR file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E']",
         "valid_from":"2026-01-01T00:00:00Z"}]}"#).unwrap();
    let l = load_path(&p, &LoadOptions::default()).unwrap();
    assert_eq!(l.files[0].format, Format::Stix);
    assert_eq!(values(&l).len(), 2, "{:?}", l.rejected);
    assert_eq!(l.indicators[0].title(), Some("dropper"));
}

#[test]
fn csv_feeds_with_a_header_find_their_value_and_type_columns() {
    let l = load("feeds/vendor.csv");
    assert_eq!(l.files[0].format, Format::CsvFeed);
    assert_rejected(
        &l,
        &[
            (3, "documentation address"),
            (7, "no email indicators"),
            (8, "64 hex digits"),
        ],
    );
    assert_eq!(
        values(&l),
        [
            (IndicatorType::DomainName, "evil-feed.example"),
            (IndicatorType::IpAddress, "45.33.32.156"),
            (IndicatorType::Url, "https://dl.evil-feed.example/a.exe"),
            (IndicatorType::FileMd5, "0f343b0931126a20f133d67c2b018a3b"),
        ]
    );
    assert_eq!(
        l.indicators[0].title(),
        Some("Qakbot C2"),
        "the threat column titles"
    );

    let l = load("feeds/threatfox.csv");
    assert!(l.rejected.is_empty(), "{:?}", l.rejected);
    assert_eq!(
        values(&l)[2],
        (
            IndicatorType::FileSha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )
    );
    assert_eq!(
        values(&l)[0],
        (IndicatorType::Url, "http://bad.example/gate"),
        "semicolons, quotes, defangs"
    );

    let l = load("feeds/urlhaus.csv");
    assert_eq!(
        l.indicators
            .iter()
            .map(|i| (i.source().line_number(), i.value()))
            .collect::<Vec<_>>(),
        [
            (6, "http://198.51.100.7/bins/x.arm"),
            (8, "https://cdn.bad-urls.example/p/")
        ],
        "the header under the comments, lines counted past a comment"
    );

    let l = load("feeds/firewall.csv");
    assert_rejected(&l, &[(3, "address with a port")]);
}

#[test]
fn the_value_and_type_columns_can_be_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("odd.csv");
    std::fs::write(&p, "when,what,kind\n2026,evil.example,DomainName\n2026,1.2.3.4,IpAddress\n").unwrap();
    let opts = LoadOptions {
        value_column: Some("what".into()),
        type_column: Some("kind".into()),
        ..LoadOptions::default()
    };
    let l = load_path(&p, &opts).unwrap();
    assert_eq!(
        values(&l),
        [
            (IndicatorType::DomainName, "evil.example"),
            (IndicatorType::IpAddress, "1.2.3.4")
        ]
    );
    let bad = LoadOptions {
        value_column: Some("nope".into()),
        ..LoadOptions::default()
    };
    let e = load_path(&p, &bad).unwrap_err().to_string();
    assert!(e.contains("no column 'nope'") && e.contains("what"), "{e}");
}

#[test]
fn indicators_are_extracted_from_reports_and_file_names_are_not_domains() {
    let opts = LoadOptions {
        format: Some(Format::Extract),
        ..LoadOptions::default()
    };
    let l = load_with("report.md", &opts);
    let v = values(&l);
    assert_eq!(
        v,
        [
            (
                IndicatorType::FileSha256,
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            ),
            (IndicatorType::Url, "https://update-check.example.com/api/v2"),
            (IndicatorType::IpAddress, "45.33.32.156"),
            (IndicatorType::Url, "http://198.51.100.7/x.bin"),
            (IndicatorType::FileMd5, "0f343b0931126a20f133d67c2b018a3b"),
            (IndicatorType::DomainName, "phish-reply.net"),
            (IndicatorType::Url, "https://blog.example.org/op-example"),
            (IndicatorType::DomainName, "evil-infra.net"),
        ],
        "chrome99[.]exe, config.json, 10.0.19041.1 and the e-mail address are not indicators"
    );
    assert_eq!(l.indicators[1].source().line_number(), 5);
    assert_eq!(l.skipped.values().sum::<u64>(), 1, "the e-mail address");
    assert_rejected(&l, &[(16, "documentation address")]);

    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");
    std::fs::write(&html, "<!DOCTYPE html><html><body><p>C2: <code>bad-host[.]org</code>&nbsp;and 45.33.32&#46;156</p>\n<script>var cdn='tracker.com';</script></body></html>").unwrap();
    let l = load_path(&html, &opts).unwrap();
    assert_eq!(
        values(&l),
        [
            (IndicatorType::DomainName, "bad-host.org"),
            (IndicatorType::IpAddress, "45.33.32.156")
        ]
    );
}

#[test]
fn a_feed_manifest_named_as_a_file_loads_its_feed() {
    let l = load("misp-feed/manifest.json");
    assert_eq!(l.files[0].format, Format::MispFeed);
    let feed = load("misp-feed");
    assert_eq!(values(&l), values(&feed));
}
