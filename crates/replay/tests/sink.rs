//! The sink protocol and the output formats: what a library caller sees.

use std::io;

use iocmatch_gen::Layout;
use iocmatch_replay::output::{
    AlertRecord, Csv, Format, HitRecord, IndicatorStatsRecord, JsonLines,
    ReportRecord, write_alerts, write_report,
};
use iocmatch_replay::{
    Alert, Collect, Hit, Limit, OptionsError, Rejected, ReplayOptions,
    Replayer, Report, Sink, input,
};

use crate::common::{generate, load_set};

/// Records the order of every call.
#[derive(Default)]
struct KitchenSink {
    calls: Vec<String>,
    hits: usize,
    opened: Vec<Alert>,
}

impl Sink for KitchenSink {
    type Error = io::Error;

    fn begin(&mut self, inputs: &[input::Input]) -> io::Result<()> {
        self.calls.push(format!("begin {}", inputs.len()));
        Ok(())
    }
    fn hit(&mut self, _hit: &Hit) -> io::Result<bool> {
        self.hits += 1;
        Ok(true)
    }
    fn alert_opened(&mut self, alert: &Alert) -> io::Result<bool> {
        self.opened.push(alert.clone());
        Ok(true)
    }
    fn rejected(&mut self, _r: &Rejected) -> io::Result<bool> {
        Ok(true)
    }
    fn finish(&mut self, report: &Report) -> io::Result<()> {
        self.calls.push(format!("finish {}", report.totals.hits));
        Ok(())
    }
}

fn fixture() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let export = generate(dir.path(), Layout::Storage, false, 1_500_000, 3);
    (dir, export)
}

#[test]
fn every_alert_opens_once_in_report_order_and_begin_and_finish_frame_the_run()
{
    let (dir, export) = fixture();
    let set = load_set(&dir.path().join("indicators.csv"));
    let inputs = input::discover(&[export]).unwrap();
    let mut sink = KitchenSink::default();
    // Through a `&mut` and a `Box<dyn Sink>`: both forward every call.
    let mut boxed: Box<dyn Sink<Error = io::Error> + '_> = Box::new(&mut sink);
    let report = Replayer::new(&set, ReplayOptions::default())
        .run(&inputs, &mut boxed)
        .unwrap();
    drop(boxed);
    assert!(report.alerts.len() > 5, "the fixture should alert");
    assert_eq!(
        sink.calls,
        [
            format!("begin {}", inputs.len()),
            format!("finish {}", report.totals.hits)
        ]
    );
    assert_eq!(sink.hits as u64, report.totals.hits);
    let opened: Vec<_> = sink
        .opened
        .iter()
        .map(|a| (a.indicator, a.device_id.clone()))
        .collect();
    let reported: Vec<_> = report
        .alerts
        .iter()
        .map(|a| (a.indicator, a.device_id.clone()))
        .collect();
    assert_eq!(
        opened, reported,
        "one opening per alert, in the report's order"
    );
    assert!(sink.opened.iter().all(|a| a.records == 1), "sent as it opens");
    assert!(!report.stopped_early);
}

#[test]
fn a_sink_can_stop_the_run_early() {
    let (dir, export) = fixture();
    let set = load_set(&dir.path().join("indicators.csv"));
    let inputs = input::discover(&[export]).unwrap();
    let full = Replayer::new(&set, ReplayOptions::default())
        .run(&inputs, &mut Collect::default())
        .unwrap();
    assert!(full.totals.hits > 10);
    let mut first = Limit::new(Collect::default(), 3);
    let report = Replayer::new(&set, ReplayOptions::default())
        .run(&inputs, &mut first)
        .unwrap();
    let first = first.into_inner();
    assert_eq!(first.hits.len(), 3);
    assert_eq!(report.totals.hits, 3);
    assert!(report.stopped_early);
    assert!(report.totals.bytes < full.totals.bytes, "it stopped reading");
}

#[test]
fn unworkable_options_are_refused_not_hung_on() {
    assert_eq!(
        ReplayOptions::builder().chunk_size(0).build().unwrap_err(),
        OptionsError::ChunkSize { given: 0 }
    );
    assert_eq!(
        ReplayOptions::builder().threads(0).build().unwrap_err(),
        OptionsError::ZeroThreads
    );
    assert!(matches!(
        ReplayOptions::builder().from(10).to(10).build(),
        Err(OptionsError::EmptyWindow { .. })
    ));
    let o = ReplayOptions::builder()
        .tables(["networkcommunicationevents"])
        .build()
        .unwrap();
    assert_eq!(o.tables(), Some(&["DeviceNetworkEvents".to_owned()][..]));
}

#[test]
fn written_hits_alerts_and_report_read_back_as_the_same_records() {
    let (dir, export) = fixture();
    let set = load_set(&dir.path().join("indicators.csv"));
    let inputs = input::discover(&[export]).unwrap();
    let mut collect = Collect::default();
    let report = Replayer::new(&set, ReplayOptions::default())
        .run(&inputs, &mut collect)
        .unwrap();

    let mut jsonl = JsonLines::new(&set, Vec::new());
    let again = Replayer::new(&set, ReplayOptions::default())
        .run(&inputs, &mut jsonl)
        .unwrap();
    assert_eq!(again.alerts, report.alerts);
    let text = String::from_utf8(jsonl.into_inner()).unwrap();
    let read: Vec<HitRecord<'_>> =
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let want: Vec<HitRecord<'_>> =
        collect.hits.iter().map(|h| HitRecord::new(&set, h)).collect();
    assert_eq!(read, want);

    let mut csv = Csv::new(&set, Vec::new());
    Replayer::new(&set, ReplayOptions::default())
        .run(&inputs, &mut csv)
        .unwrap();
    let csv = String::from_utf8(csv.into_inner().unwrap()).unwrap();
    assert_eq!(
        csv.lines().count(),
        want.len() + 1,
        "a header and a row per hit"
    );
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let first = rows.records().next().unwrap().unwrap();
    assert_eq!(&first[8], &*want[0].column);
    assert_eq!(&first[12], &*want[0].indicator.value);

    let mut out = Vec::new();
    write_alerts(&set, &report.alerts, Format::JsonLines, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let alerts: Vec<AlertRecord<'_>> =
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let want: Vec<AlertRecord<'_>> =
        report.alerts.iter().map(|a| AlertRecord::new(&set, a)).collect();
    assert_eq!(alerts, want);

    let mut out = Vec::new();
    write_report(&set, &report, 4, &mut out).unwrap();
    let back: ReportRecord<'_> = serde_json::from_slice(&out).unwrap();
    assert_eq!(back.totals.hits, report.totals.hits);
    assert_eq!(back.totals.rejected_indicators, 4);
    assert_eq!(back.indicators.len(), set.len());
    let hit: Vec<&IndicatorStatsRecord<'_>> =
        back.indicators.iter().filter(|s| s.hits > 0).collect();
    assert_eq!(hit.len(), report.indicators.hit.len());
    assert_eq!(back.tables, report.tables);
}
