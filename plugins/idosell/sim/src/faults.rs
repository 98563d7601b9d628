//! Realism: injected faults (at rates set by flags or the control API) and the request-rate
//! limit. Faults apply to the Admin API only, never to the control API.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Fault rates (each a probability from 0 to 1, per request unless said otherwise).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Answer HTTP 500 or 503 without doing anything.
    pub error_rate: f64,
    /// Wait `slow_ms` before handling the request.
    pub slow_rate: f64,
    /// How long a slow answer waits, in milliseconds.
    pub slow_ms: u64,
    /// Close the connection before the answer is complete (the request is not handled).
    pub drop_rate: f64,
    /// Handle the request, then send a truncated, unparseable body.
    pub malformed_rate: f64,
    /// Per order inside a `PUT orders/orders` batch: fail it with faultCode 4.
    pub batch_fail_rate: f64,
    /// Answer HTTP 429 with `Retry-After`.
    pub too_many_rate: f64,
    /// The `Retry-After` (seconds) of injected 429 answers.
    pub retry_after_secs: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            error_rate: 0.0,
            slow_rate: 0.0,
            slow_ms: 2_000,
            drop_rate: 0.0,
            malformed_rate: 0.0,
            batch_fail_rate: 0.0,
            too_many_rate: 0.0,
            retry_after_secs: 1,
        }
    }
}

/// A partial update of [`Faults`] (the control API's `POST /_sim/faults`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsPatch {
    /// See [`Faults::error_rate`].
    #[serde(alias = "errorRate")]
    pub error_rate: Option<f64>,
    /// See [`Faults::slow_rate`].
    #[serde(alias = "slowRate")]
    pub slow_rate: Option<f64>,
    /// See [`Faults::slow_ms`].
    #[serde(alias = "slowMs")]
    pub slow_ms: Option<u64>,
    /// See [`Faults::drop_rate`].
    #[serde(alias = "dropRate")]
    pub drop_rate: Option<f64>,
    /// See [`Faults::malformed_rate`].
    #[serde(alias = "malformedRate")]
    pub malformed_rate: Option<f64>,
    /// See [`Faults::batch_fail_rate`].
    #[serde(alias = "batchFailRate")]
    pub batch_fail_rate: Option<f64>,
    /// See [`Faults::too_many_rate`].
    #[serde(alias = "tooManyRate")]
    pub too_many_rate: Option<f64>,
    /// See [`Faults::retry_after_secs`].
    #[serde(alias = "retryAfterSecs")]
    pub retry_after_secs: Option<u64>,
}

impl Faults {
    /// Checks that every rate is a probability.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("error_rate", self.error_rate),
            ("slow_rate", self.slow_rate),
            ("drop_rate", self.drop_rate),
            ("malformed_rate", self.malformed_rate),
            ("batch_fail_rate", self.batch_fail_rate),
            ("too_many_rate", self.too_many_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, not {rate}"));
            }
        }
        Ok(())
    }

    /// These faults with a patch applied (not validated).
    pub fn patched(&self, p: &FaultsPatch) -> Faults {
        Faults {
            error_rate: p.error_rate.unwrap_or(self.error_rate),
            slow_rate: p.slow_rate.unwrap_or(self.slow_rate),
            slow_ms: p.slow_ms.unwrap_or(self.slow_ms),
            drop_rate: p.drop_rate.unwrap_or(self.drop_rate),
            malformed_rate: p.malformed_rate.unwrap_or(self.malformed_rate),
            batch_fail_rate: p.batch_fail_rate.unwrap_or(self.batch_fail_rate),
            too_many_rate: p.too_many_rate.unwrap_or(self.too_many_rate),
            retry_after_secs: p.retry_after_secs.unwrap_or(self.retry_after_secs),
        }
    }
}

/// What to do with one API request, drawn before it is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Draw {
    /// Answer 429 with this `Retry-After`.
    TooMany(u64),
    /// Answer with this 5xx status.
    ServerError(u16),
    /// Close the connection mid-answer.
    Drop,
    /// Handle it, after waiting this long if set, and garble the body if `malformed`.
    Handle {
        /// Wait first.
        delay: Option<Duration>,
        /// Garble the body.
        malformed: bool,
    },
}

/// The fault settings and the random source that draws them.
#[derive(Debug)]
pub struct FaultState {
    faults: Faults,
    rng: StdRng,
}

impl FaultState {
    /// Fault state with a seeded random source.
    pub fn new(faults: Faults, seed: u64) -> Self {
        FaultState {
            faults,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// The current settings.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Replaces the settings.
    pub fn set(&mut self, faults: Faults) {
        self.faults = faults;
    }

    fn hit(&mut self, rate: f64) -> bool {
        rate > 0.0 && self.rng.gen::<f64>() < rate
    }

    /// Draws what happens to one request.
    pub fn draw(&mut self) -> Draw {
        let f = self.faults.clone();
        if self.hit(f.too_many_rate) {
            return Draw::TooMany(f.retry_after_secs.max(1));
        }
        if self.hit(f.error_rate) {
            let status = if self.rng.gen::<bool>() { 500 } else { 503 };
            return Draw::ServerError(status);
        }
        if self.hit(f.drop_rate) {
            return Draw::Drop;
        }
        let delay = self
            .hit(f.slow_rate)
            .then(|| Duration::from_millis(f.slow_ms));
        Draw::Handle {
            delay,
            malformed: self.hit(f.malformed_rate),
        }
    }

    /// Whether one order inside a PUT batch fails.
    pub fn batch_order_fails(&mut self) -> bool {
        let rate = self.faults.batch_fail_rate;
        self.hit(rate)
    }
}

/// The shop's request-rate limit.
#[derive(Debug, Default)]
pub struct RateLimit {
    limiter: Option<DefaultDirectRateLimiter>,
    per_second: u32,
}

impl RateLimit {
    /// A limit of `per_second` requests a second (bursts up to that many); 0 = none.
    pub fn new(per_second: u32) -> Self {
        RateLimit {
            limiter: NonZeroU32::new(per_second).map(|n| RateLimiter::direct(Quota::per_second(n))),
            per_second,
        }
    }

    /// The limit (0 = none).
    pub fn per_second(&self) -> u32 {
        self.per_second
    }

    /// `None` if the request may go ahead, else the `Retry-After` in whole seconds.
    pub fn check(&self) -> Option<u64> {
        let limiter = self.limiter.as_ref()?;
        match limiter.check() {
            Ok(()) => None,
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Some(wait.as_secs_f64().ceil().max(1.0) as u64)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_faults_means_every_request_is_handled() {
        let mut f = FaultState::new(Faults::default(), 1);
        for _ in 0..1000 {
            assert_eq!(
                f.draw(),
                Draw::Handle {
                    delay: None,
                    malformed: false
                }
            );
            assert!(!f.batch_order_fails());
        }
    }

    #[test]
    fn rates_are_roughly_honoured_and_validated() {
        let faults = Faults {
            error_rate: 0.5,
            ..Faults::default()
        };
        let mut f = FaultState::new(faults, 3);
        let errors = (0..2000)
            .filter(|_| matches!(f.draw(), Draw::ServerError(_)))
            .count();
        assert!((800..1200).contains(&errors), "{errors}");
        assert!(Faults {
            drop_rate: 1.5,
            ..Faults::default()
        }
        .validate()
        .is_err());
        let patched = Faults::default().patched(&FaultsPatch {
            slow_rate: Some(1.0),
            ..FaultsPatch::default()
        });
        assert_eq!(patched.slow_rate, 1.0);
        assert_eq!(patched.slow_ms, 2_000);
    }

    #[test]
    fn rate_limit_refuses_past_the_burst() {
        let limit = RateLimit::new(3);
        let refused = (0..10).filter_map(|_| limit.check()).collect::<Vec<_>>();
        assert!(refused.len() >= 6, "{refused:?}");
        assert!(refused.iter().all(|&s| s >= 1));
        assert_eq!(RateLimit::new(0).check(), None);
    }
}
