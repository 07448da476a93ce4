//! Client-side rate limits, per endpoint, so that a large apply paces
//! itself instead of collecting 429s; and the retry policy for the
//! answers that are worth retrying.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The calls the API limits separately (per app and tenant).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST …/oauth2/v2.0/token`.
    Token,
    /// `GET /api/indicators`.
    List,
    /// `POST /api/indicators/import`.
    Import,
    /// `POST /api/indicators/BatchDelete`.
    BatchDelete,
    /// `GET /api/machines/{id}`, `GET /api/machineactions[/{id}]`.
    MachineRead,
    /// `POST /api/machines/{id}/<action>`.
    MachineAction,
    /// `POST /api/alerts/CreateAlertByReference`.
    CreateAlert,
}

impl Endpoint {
    /// What the call does, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Endpoint::Token => "getting a token",
            Endpoint::List => "listing indicators",
            Endpoint::Import => "importing indicators",
            Endpoint::BatchDelete => "deleting indicators",
            Endpoint::MachineRead => "reading devices and their actions",
            Endpoint::MachineAction => "starting a machine action",
            Endpoint::CreateAlert => "creating an alert",
        }
    }
}

/// Calls allowed per window, per endpoint.
#[derive(Clone, Debug)]
pub struct Limits {
    /// `(calls, window)` pairs per endpoint; every pair must hold.
    pub list: Vec<(u32, Duration)>,
    /// Import.
    pub import: Vec<(u32, Duration)>,
    /// BatchDelete.
    pub batch_delete: Vec<(u32, Duration)>,
    /// Reading devices and machine actions.
    pub machine_read: Vec<(u32, Duration)>,
    /// Machine actions.
    pub machine_action: Vec<(u32, Duration)>,
    /// CreateAlertByReference.
    pub create_alert: Vec<(u32, Duration)>,
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

impl Default for Limits {
    /// Defender's documented limits: list 100/min and 1,500/h, import
    /// 30/min, BatchDelete 30/min and 1,500/h, machines and machine
    /// actions 100/min and 1,500/h, CreateAlertByReference 15/min.
    fn default() -> Self {
        Limits {
            list: vec![(100, MINUTE), (1500, HOUR)],
            import: vec![(30, MINUTE)],
            batch_delete: vec![(30, MINUTE), (1500, HOUR)],
            machine_read: vec![(100, MINUTE), (1500, HOUR)],
            machine_action: vec![(100, MINUTE), (1500, HOUR)],
            create_alert: vec![(15, MINUTE)],
        }
    }
}

impl Limits {
    fn of(&self, e: Endpoint) -> &[(u32, Duration)] {
        match e {
            Endpoint::Token => &[],
            Endpoint::List => &self.list,
            Endpoint::Import => &self.import,
            Endpoint::BatchDelete => &self.batch_delete,
            Endpoint::MachineRead => &self.machine_read,
            Endpoint::MachineAction => &self.machine_action,
            Endpoint::CreateAlert => &self.create_alert,
        }
    }
}

/// When each endpoint was last called, to pace the next call.
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    calls: Vec<(Endpoint, VecDeque<Instant>)>,
}

impl Pacer {
    /// How long to wait before calling `e` now, under `limits`.
    pub fn wait(
        &mut self,
        limits: &Limits,
        e: Endpoint,
        now: Instant,
    ) -> Duration {
        let log = self.log(e);
        let longest =
            limits.of(e).iter().map(|w| w.1).max().unwrap_or_default();
        while log.front().is_some_and(|&t| now.duration_since(t) >= longest) {
            log.pop_front();
        }
        limits
            .of(e)
            .iter()
            .filter_map(|&(calls, window)| {
                let recent: Vec<&Instant> = log
                    .iter()
                    .filter(|&&t| now.duration_since(t) < window)
                    .collect();
                // The call that has to age out before one more fits.
                let n = recent.len();
                (n >= calls as usize).then(|| {
                    (*recent[n - calls as usize] + window)
                        .saturating_duration_since(now)
                })
            })
            .max()
            .unwrap_or_default()
    }

    /// Notes a call of `e` at `at`.
    pub fn record(&mut self, e: Endpoint, at: Instant) {
        self.log(e).push_back(at);
    }

    fn log(&mut self, e: Endpoint) -> &mut VecDeque<Instant> {
        let i = match self.calls.iter().position(|(k, _)| *k == e) {
            Some(i) => i,
            None => {
                self.calls.push((e, VecDeque::new()));
                self.calls.len() - 1
            }
        };
        &mut self.calls[i].1
    }
}

/// How failures that may pass are retried.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The first backoff; it doubles each time, with jitter.
    pub base: Duration,
    /// No backoff is longer.
    pub max_backoff: Duration,
    /// A `Retry-After` longer than this is an error, not a wait.
    pub max_retry_after: Duration,
    /// One request's time limit.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            base: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
            timeout: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `n + 1` (n ≥ 1): exponential, with
    /// "equal jitter" (half fixed, half random) so that parallel jobs
    /// spread out.
    pub fn backoff(&self, n: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1 << (n - 1).min(16))
            .min(self.max_backoff);
        let half = exp / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pacer_waits_for_the_oldest_call_in_a_full_window() {
        let limits = Limits {
            import: vec![(2, Duration::from_secs(10))],
            ..Limits::default()
        };
        let mut p = Pacer::default();
        let t0 = Instant::now();
        assert_eq!(p.wait(&limits, Endpoint::Import, t0), Duration::ZERO);
        p.record(Endpoint::Import, t0);
        p.record(Endpoint::Import, t0 + Duration::from_secs(3));
        let w = p.wait(&limits, Endpoint::Import, t0 + Duration::from_secs(4));
        assert_eq!(w, Duration::from_secs(6));
        assert_eq!(
            p.wait(&limits, Endpoint::Import, t0 + Duration::from_secs(10)),
            Duration::ZERO
        );
        assert_eq!(
            p.wait(&limits, Endpoint::List, t0),
            Duration::ZERO,
            "per endpoint"
        );
    }

    #[test]
    fn backoff_grows_within_bounds() {
        let r = RetryPolicy::default();
        for n in 1..12 {
            let b = r.backoff(n);
            let exp = r.base.saturating_mul(1 << (n - 1)).min(r.max_backoff);
            assert!(b >= exp / 2 && b <= exp, "{n}: {b:?}");
        }
    }
}
