//! Event times: Defender writes `YYYY-MM-DDTHH:MM:SS[.f{0,7}]Z`. Parsing
//! that shape by hand is far cheaper than a general parser; anything else
//! goes to jiff.

/// Nanoseconds since the Unix epoch.
pub type Nanos = i128;

/// Parses an event time, or `None` when it is not a time at all.
pub fn parse(s: &str) -> Option<Nanos> {
    fast(s.as_bytes()).or_else(|| {
        iocmatch_core::parse_time(s).ok().map(|t| t.as_nanosecond())
    })
}

fn fast(b: &[u8]) -> Option<Nanos> {
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || s > 60
    {
        return None;
    }
    let rest = &b[19..];
    let (frac, z) = match rest.split_first()? {
        (b'.', tail) => {
            let digits =
                tail.iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 || digits > 9 {
                return None;
            }
            let mut n = 0i64;
            for &c in &tail[..digits] {
                n = n * 10 + i64::from(c - b'0');
            }
            (n * 10i64.pow(9 - digits as u32), &tail[digits..])
        }
        _ => (0, rest),
    };
    if z != b"Z" {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + s;
    Some(i128::from(secs) * 1_000_000_000 + i128::from(frac))
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_jiff() {
        for s in [
            "2026-07-18T13:58:42.24998Z",
            "2022-02-08T22:32:55Z",
            "2026-07-18T14:00:54.7649349Z",
            "2000-02-29T00:00:00.1Z",
            "1970-01-01T00:00:00Z",
            "2100-12-31T23:59:59.999999999Z",
        ] {
            let want = s.parse::<jiff::Timestamp>().unwrap().as_nanosecond();
            assert_eq!(fast(s.as_bytes()), Some(want), "{s}");
        }
        assert_eq!(
            parse("2026-07-18T13:58:42+02:00"),
            Some(
                "2026-07-18T11:58:42Z"
                    .parse::<jiff::Timestamp>()
                    .unwrap()
                    .as_nanosecond()
            )
        );
        assert_eq!(parse("yesterday"), None);
        assert_eq!(fast(b"2026-13-18T13:58:42Z"), None);
    }
}
