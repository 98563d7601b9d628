//! Injected faults on the WebAPI endpoint: server errors, slow answers, dropped connections and
//! malformed bodies, each at its own rate, drawn from a seeded generator.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Fault rates (each 0.0 to 1.0, drawn independently per request). The body of
/// `POST /_sim/faults`; absent fields are 0 (and `slow_ms` its default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultRates {
    /// Answer HTTP 500, 502 or 503 without doing anything.
    pub error_rate: f64,
    /// Wait `slow_ms` before answering.
    pub slow_rate: f64,
    /// How long a slow answer waits, in milliseconds.
    pub slow_ms: u64,
    /// Close the connection without answering (nothing is done).
    pub drop_rate: f64,
    /// Do the work, then send a truncated JSON body.
    pub malformed_rate: f64,
}

/// The default delay of a slow answer.
pub const DEFAULT_SLOW_MS: u64 = 3000;

impl Default for FaultRates {
    fn default() -> Self {
        FaultRates {
            error_rate: 0.0,
            slow_rate: 0.0,
            slow_ms: DEFAULT_SLOW_MS,
            drop_rate: 0.0,
            malformed_rate: 0.0,
        }
    }
}

impl FaultRates {
    /// Checks that every rate is within 0..=1.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("error_rate", self.error_rate),
            ("slow_rate", self.slow_rate),
            ("drop_rate", self.drop_rate),
            ("malformed_rate", self.malformed_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, got {rate}"));
            }
        }
        Ok(())
    }
}

/// What to do wrong with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this HTTP status and no work done.
    ServerError(u16),
    /// Close the connection, no work done.
    Drop,
    /// Do the work, send a truncated body.
    Malformed,
}

/// The plan for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Plan {
    /// Wait this long first.
    pub delay: Option<Duration>,
    /// Then fail this way.
    pub fault: Option<Fault>,
}

/// The current rates and the generator.
#[derive(Debug)]
pub struct Faults {
    rates: Mutex<FaultRates>,
    rng: Mutex<StdRng>,
}

impl Faults {
    /// Faults at these rates, drawn from this seed.
    pub fn new(rates: FaultRates, seed: u64) -> Self {
        Faults {
            rates: Mutex::new(rates),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }

    /// The current rates.
    pub fn rates(&self) -> FaultRates {
        self.rates.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Replaces the rates.
    pub fn set(&self, rates: FaultRates) -> Result<(), String> {
        rates.validate()?;
        if let Ok(mut r) = self.rates.lock() {
            *r = rates;
        }
        Ok(())
    }

    /// Draws the plan for one request.
    pub fn plan(&self) -> Plan {
        let rates = self.rates();
        let Ok(mut rng) = self.rng.lock() else {
            return Plan::default();
        };
        let mut hit = |rate: f64| rate > 0.0 && rng.gen_bool(rate.min(1.0));
        let delay = hit(rates.slow_rate).then(|| Duration::from_millis(rates.slow_ms));
        let fault = if hit(rates.drop_rate) {
            Some(Fault::Drop)
        } else if hit(rates.error_rate) {
            Some(Fault::ServerError(0))
        } else if hit(rates.malformed_rate) {
            Some(Fault::Malformed)
        } else {
            None
        };
        let fault = fault.map(|f| match f {
            Fault::ServerError(_) => Fault::ServerError([500, 502, 503][rng.gen_range(0..3)]),
            other => other,
        });
        Plan { delay, fault }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_rates_never_fault_and_full_rates_always_do() {
        let f = Faults::new(FaultRates::default(), 1);
        assert!((0..1000).all(|_| f.plan() == Plan::default()));
        let all = FaultRates {
            error_rate: 1.0,
            slow_rate: 1.0,
            slow_ms: 5,
            ..FaultRates::default()
        };
        assert_eq!(f.set(all), Ok(()));
        for _ in 0..100 {
            let p = f.plan();
            assert_eq!(p.delay, Some(Duration::from_millis(5)));
            assert!(matches!(p.fault, Some(Fault::ServerError(500 | 502 | 503))));
        }
    }

    #[test]
    fn rates_outside_zero_to_one_are_refused() {
        let f = Faults::new(FaultRates::default(), 1);
        let bad = FaultRates {
            drop_rate: 1.5,
            ..FaultRates::default()
        };
        assert!(f.set(bad).is_err());
        assert_eq!(f.rates(), FaultRates::default());
    }

    #[test]
    fn a_partial_rate_hits_about_that_often() {
        let f = Faults::new(
            FaultRates {
                malformed_rate: 0.25,
                ..FaultRates::default()
            },
            9,
        );
        let hits = (0..4000)
            .filter(|_| f.plan().fault == Some(Fault::Malformed))
            .count();
        assert!((800..1200).contains(&hits), "{hits} of 4000");
    }
}
