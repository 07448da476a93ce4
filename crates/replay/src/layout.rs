//! What Defender's storage layout says of a file before it is read:
//! `insights-logs-advancedhunting-<table>/tenantId=…/y=2026/m=07/d=18/h=09/m=00/PT1H.json`
//! holds records of one table, written to storage in one hour. Replay
//! skips files that `--tables`, `--from` and `--to` rule out by their
//! path alone, so blobs outside the window are never downloaded.
//!
//! The hour is when records were *written*, not when they happened:
//! records arrive late, never early (allowing an hour for clocks). So a
//! file is before `--from` only when its hour ended over an hour before
//! it, and after `--to` only when it was written more than the allowed
//! delay after it (`late_by`, a day by default): records that reach
//! storage later than that are missed, and the docs say so.

use crate::time::Nanos;

const HOUR: Nanos = 3_600_000_000_000;

/// The container prefix of Defender's storage export.
const CONTAINER: &str = "insights-logs-advancedhunting-";

/// A file's table (lowercase, as containers name it) and the start of
/// the hour it was written in, as far as its path says.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Place<'a> {
    pub table: Option<&'a str>,
    pub hour: Option<Nanos>,
}

/// Reads the layout's parts from a path or blob name.
pub(crate) fn place(name: &str) -> Place<'_> {
    let mut p = Place::default();
    let (mut y, mut mo, mut d, mut h) = (None, None, None, None);
    for seg in name.split(['/', '\\']) {
        if let Some(t) = seg.strip_prefix(CONTAINER) {
            p.table = Some(t).filter(|t| !t.is_empty());
        } else if let Some((k, v)) = seg.split_once('=') {
            let n: Option<i16> = v.parse().ok();
            match k {
                "y" => y = n,
                // The first m= is the month, the one after h= the minute.
                "m" if mo.is_none() => mo = n,
                "d" => d = n,
                "h" => h = n,
                _ => {}
            }
        }
    }
    if let (Some(y), Some(mo), Some(d), Some(h)) = (y, mo, d, h) {
        p.hour =
            jiff::civil::DateTime::new(y, mo as i8, d as i8, h as i8, 0, 0, 0)
                .ok()
                .and_then(|dt| jiff::tz::Offset::UTC.to_timestamp(dt).ok())
                .map(|t| t.as_nanosecond() as Nanos);
    }
    p
}

/// What rules files out by their path.
#[derive(Clone, Debug, Default)]
pub(crate) struct Window<'a> {
    pub from: Option<Nanos>,
    pub to: Option<Nanos>,
    pub tables: Option<&'a [String]>,
    pub late_by: Nanos,
}

impl Window<'_> {
    /// Whether the file named `name` holds nothing the run would read.
    pub fn rules_out(&self, name: &str) -> bool {
        let p = place(name);
        if let (Some(keep), Some(t)) = (self.tables, p.table)
            && !keep.iter().any(|k| k.eq_ignore_ascii_case(t))
        {
            return true;
        }
        let Some(hour) = p.hour else { return false };
        let before = self.from.is_some_and(|from| hour + 2 * HOUR <= from);
        let after =
            self.to.is_some_and(|to| hour >= to.saturating_add(self.late_by));
        before || after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "az://insights-logs-advancedhunting-devicenetworkevents/tenantId=4b8c/y=2026/m=07/d=18/h=09/m=00/PT1H.json";

    fn at(h: i8) -> Nanos {
        let dt = jiff::civil::DateTime::new(2026, 7, 18, h, 0, 0, 0).unwrap();
        jiff::tz::Offset::UTC.to_timestamp(dt).unwrap().as_nanosecond()
            as Nanos
    }

    #[test]
    fn the_path_names_table_and_hour() {
        assert_eq!(
            place(NAME),
            Place { table: Some("devicenetworkevents"), hour: Some(at(9)) }
        );
        assert_eq!(place("exports/events.jsonl"), Place::default());
        assert_eq!(place("x/y=2026/m=13/d=01/h=00/m=00/PT1H.json").hour, None);
    }

    #[test]
    fn files_are_ruled_out_only_when_nothing_in_them_could_count() {
        let tables = ["DeviceNetworkEvents".to_owned()];
        let w = |from: Option<i8>, to: Option<i8>, late: Nanos| Window {
            from: from.map(at),
            to: to.map(at),
            tables: Some(&tables),
            late_by: late,
        };
        // Written 09:00-10:00: may hold events up to 11:00 (an hour for
        // clocks), and from any time before.
        assert!(!w(Some(10), None, 0).rules_out(NAME));
        assert!(w(Some(11), None, 0).rules_out(NAME));
        assert!(!w(None, Some(10), 0).rules_out(NAME));
        assert!(w(None, Some(9), 0).rules_out(NAME));
        // Records written up to an hour late still count.
        assert!(!w(None, Some(9), HOUR).rules_out(NAME));
        assert!(w(None, Some(8), HOUR).rules_out(NAME));
        let other = NAME.replace("devicenetworkevents", "deviceprocessevents");
        assert!(w(None, None, 0).rules_out(&other));
        assert!(!w(None, None, 0).rules_out("exports/events.jsonl"));
    }
}
