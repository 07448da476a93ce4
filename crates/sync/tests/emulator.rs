//! The sync library against the real emulator on loopback.

use std::time::Duration;

use defender_emulator::{App, Config, Emulator, Fault, Route};
use iocmatch_core::{Action, Indicator, IndicatorType};
use iocmatch_sync::{
    Client, Limits, Overrides, PlanOptions, RetryPolicy, Settings, SyncError,
    apply, list, plan,
};

const ME: &str = "6f1c0c3e-0000-4000-8000-00000000abcd";
const SECRET: &str = "correct-horse-battery-staple";

fn emulator() -> Emulator {
    let apps =
        vec![App { client_id: ME.into(), client_secret: SECRET.into() }];
    Emulator::start(Config { apps, ..Config::default() }).unwrap()
}

fn client(e: &Emulator) -> Client {
    let env = |k: &str| match k {
        "AZURE_TENANT_ID" => Some("tenant-1".to_owned()),
        "AZURE_CLIENT_ID" => Some(ME.to_owned()),
        "AZURE_CLIENT_SECRET" => Some(SECRET.to_owned()),
        "AZURE_AUTHORITY_HOST" | "IOCMATCH_API_URL" => Some(e.url()),
        _ => None,
    };
    let settings = Settings::load(&env, None, &Overrides::default()).unwrap();
    let retry = RetryPolicy {
        base: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        timeout: Duration::from_millis(1500),
        ..RetryPolicy::default()
    };
    Client::with_policy(settings, Limits::default(), retry)
}

fn domains(n: usize, action: Action) -> Vec<Indicator> {
    (0..n)
        .map(|i| {
            Indicator::new(
                IndicatorType::DomainName,
                &format!("d{i}.example.net"),
                action,
            )
            .unwrap()
        })
        .collect()
}

fn sync(
    c: &mut Client,
    desired: &[Indicator],
) -> Result<iocmatch_sync::Applied, SyncError> {
    let tenant = list(c)?;
    let refs: Vec<&Indicator> = desired.iter().collect();
    let p = plan(
        &refs,
        &tenant,
        "iocmatch",
        ME,
        &PlanOptions { allow_mass_delete: true, ..PlanOptions::default() },
    );
    apply(c, p, &mut |_| {})
}

#[test]
fn publishes_then_converges_and_survives_faults() {
    let e = emulator();
    let mut c = client(&e);
    let set = domains(1200, Action::Block);
    let done = sync(&mut c, &set).unwrap();
    assert!(done.complete(), "{done:?}");
    assert_eq!(done.imported, 1200);
    assert_eq!(e.indicators().len(), 1200);
    assert_eq!(c.calls().import, 3, "1,200 in batches of 500");
    e.clear_log();
    let again = sync(&mut c, &set).unwrap();
    assert_eq!((again.imported, again.deleted), (0, 0));
    assert_eq!(e.writes(), 0, "a second apply writes nothing");

    // Every kind of passing fault, on the next calls: they are retried.
    e.inject(
        Route::List,
        [Fault::Status(503), Fault::Drop, Fault::TooMany(0.05)],
    );
    e.inject(
        Route::Import,
        [
            Fault::Slow(Duration::from_secs(3)),
            Fault::DropAfter,
            Fault::Status(500),
        ],
    );
    let changed = domains(1300, Action::Block);
    let done = sync(&mut c, &changed).unwrap();
    assert!(done.complete(), "{done:?}");
    assert_eq!(e.indicators().len(), 1300);
    assert!(c.calls().retried >= 6, "{:?}", c.calls());
    assert_eq!(e.tokens_issued(), 1, "one token, cached");
}

#[test]
fn errors_that_retrying_cannot_fix_say_what_to_do() {
    let e = emulator();
    let mut c = client(&e);
    e.inject(Route::List, [Fault::Status(403)]);
    let err = list(&mut c).unwrap_err().to_string();
    assert!(err.contains("403") && err.contains("Ti.ReadWrite"), "{err}");
    e.inject(Route::List, std::iter::repeat_n(Fault::Status(503), 10));
    let err = list(&mut c).unwrap_err().to_string();
    assert!(err.contains("no answer after 6 attempts"), "{err}");
    assert!(!err.contains(SECRET));
}

#[test]
fn a_wrong_secret_is_an_auth_error_that_never_shows_the_secret() {
    let e = emulator();
    let env = |k: &str| match k {
        "AZURE_TENANT_ID" => Some("t".to_owned()),
        "AZURE_CLIENT_ID" => Some(ME.to_owned()),
        "AZURE_CLIENT_SECRET" => Some("wrong-secret-value".to_owned()),
        "AZURE_AUTHORITY_HOST" | "IOCMATCH_API_URL" => Some(e.url()),
        _ => None,
    };
    let mut c = Client::new(
        Settings::load(&env, None, &Overrides::default()).unwrap(),
    );
    let err = list(&mut c).unwrap_err();
    let text = format!("{err} {err:?} {c:?}");
    assert!(text.contains("invalid_client"), "{text}");
    assert!(!text.contains("wrong-secret-value"), "{text}");
}

#[test]
fn an_expired_token_is_replaced() {
    let e = emulator();
    let mut c = client(&e);
    list(&mut c).unwrap();
    e.expire_tokens();
    list(&mut c).unwrap();
    assert_eq!(e.tokens_issued(), 2);
}

#[test]
fn an_apply_stopped_part_way_reports_it_and_the_next_one_finishes() {
    let e = emulator();
    let mut c = client(&e);
    let set = domains(1200, Action::Block);
    // The first batch goes through, then the API stays down for longer
    // than the client retries.
    e.inject(
        Route::Import,
        std::iter::once(Fault::Pass)
            .chain(std::iter::repeat_n(Fault::Status(503), 6)),
    );
    let first = sync(&mut c, &set).unwrap();
    assert!(!first.complete());
    assert_eq!(first.imported, 500);
    assert!(
        matches!(first.stopped, Some(SyncError::Unavailable { .. })),
        "{first:?}"
    );
    let second = sync(&mut c, &set).unwrap();
    assert!(second.complete(), "{second:?}");
    assert_eq!(second.imported, 700, "only what was missing");
    assert_eq!(e.indicators().len(), 1200);
}

#[test]
fn the_apis_own_rate_limit_is_waited_out() {
    let e = emulator();
    e.configure(|c| {
        c.rate_limits.insert(Route::Import, (1, Duration::from_millis(400)));
    });
    let mut c = client(&e);
    let done = sync(&mut c, &domains(1100, Action::Audit)).unwrap();
    assert!(done.complete(), "{done:?}");
    assert!(c.calls().retried >= 2, "{:?}", c.calls());
    assert!(e.log().iter().any(|l| l.status == 429));
    assert_eq!(e.indicators().len(), 1100);
}

#[test]
fn listing_pages_with_skip_when_the_api_gives_no_next_link() {
    let e = emulator();
    e.configure(|c| c.next_links = false);
    let theirs = |n: usize| iocmatch_core::defender::ApiIndicator {
        indicator_type: Some("DomainName".into()),
        indicator_value: Some(format!("t{n}.example.com")),
        action: Some("Block".into()),
        created_by: Some("analyst@contoso.com".into()),
        ..Default::default()
    };
    e.seed((0..10_500).map(theirs).collect());
    let mut c = client(&e);
    assert_eq!(list(&mut c).unwrap().len(), 10_500);
    assert_eq!(c.calls().list, 2);
    assert!(e.log().iter().any(|l| l.path.contains("$skip=10000")));
}

#[test]
fn the_emulator_enforces_batch_and_tenant_limits() {
    let e = emulator();
    e.configure(|c| c.tenant_limit = 3);
    let mut c = client(&e);
    let entities: Vec<_> = domains(5, Action::Block)
        .iter()
        .map(|i| iocmatch_sync::entity(i, "iocmatch"))
        .collect();
    let results = iocmatch_sync::import(&mut c, &entities).unwrap();
    let failed: Vec<_> = results.iter().filter(|r| r.is_failed).collect();
    assert_eq!(failed.len(), 2);
    assert!(
        failed[0].failure_reason.as_deref().unwrap().contains("limit of 3")
    );
    e.configure(|c| c.batch_limit = 2);
    let err =
        iocmatch_sync::import(&mut c, &entities).unwrap_err().to_string();
    assert!(
        err.contains("400") && err.contains("MaximumBatchSizeExceeded"),
        "{err}"
    );
}
