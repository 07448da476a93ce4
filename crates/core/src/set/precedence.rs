//! Precedence ranks (contract §4), computed once per indicator at build
//! time so that choosing the effective indicator is a plain maximum.
//!
//! - Network: the most specific first (a URL by its path length, then a
//!   domain by its label count, then an exact address, then a CIDR network
//!   by its prefix length), then `Allowed > Warn > Block > Audit`.
//! - Files: `BlockAndRemediate > Block > Warn > Allowed > Audit`, then the
//!   stronger hash (SHA-256 > SHA-1 > MD5).
//! - Certificates: `BlockAndRemediate > Allowed`.
//!
//! The remaining tie (the indicator listed first) is broken by the caller.

use crate::indicator::Indicator;
use crate::kind::{Action, IndicatorType};
use crate::value::host::label_count;

/// The rank of one indicator within its family; higher wins.
pub(crate) fn rank(ind: &Indicator) -> u32 {
    match ind.indicator_type() {
        t if t.is_network() => {
            (specificity(ind) << 4) | network_action(ind.action())
        }
        t if t.is_file() => {
            (file_action(ind.action()) << 4) | hash_strength(t)
        }
        _ => cert_action(ind.action()),
    }
}

/// Bands keep every URL above every domain above every IP indicator;
/// within a band, longer (narrower) wins. Values stay below 2^27 so the
/// shifted rank fits in a `u32`.
fn specificity(ind: &Indicator) -> u32 {
    const URL_BAND: u32 = 1 << 24;
    const DOMAIN_BAND: u32 = 1 << 16;
    const ADDRESS: u32 = 200;
    let v = ind.value();
    match ind.indicator_type() {
        IndicatorType::Url => {
            URL_BAND + url_path_len(v).min(DOMAIN_BAND as usize - 1) as u32
        }
        IndicatorType::DomainName => DOMAIN_BAND + label_count(v) as u32,
        _ => match v.split_once('/') {
            Some((_, prefix)) => prefix.parse::<u32>().unwrap_or(0),
            None => ADDRESS,
        },
    }
}

/// The length of the path (and query) of a normalised URL.
fn url_path_len(v: &str) -> usize {
    let after_scheme = v.split_once("://").map_or(v, |(_, r)| r);
    after_scheme.find(['/', '?']).map_or(0, |i| after_scheme.len() - i)
}

fn network_action(a: Action) -> u32 {
    match a {
        Action::Allowed => 4,
        Action::Warn => 3,
        Action::Block => 2,
        Action::Audit => 1,
        Action::BlockAndRemediate => 0,
    }
}

fn file_action(a: Action) -> u32 {
    match a {
        Action::BlockAndRemediate => 5,
        Action::Block => 4,
        Action::Warn => 3,
        Action::Allowed => 2,
        Action::Audit => 1,
    }
}

fn hash_strength(t: IndicatorType) -> u32 {
    match t {
        IndicatorType::FileSha256 => 3,
        IndicatorType::FileSha1 => 2,
        _ => 1,
    }
}

fn cert_action(a: Action) -> u32 {
    match a {
        Action::BlockAndRemediate => 2,
        Action::Allowed => 1,
        _ => 0,
    }
}
