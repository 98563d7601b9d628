//! What to do after a write was sent: pure rules from a connector's answer to the next step
//! (done, retry later, read again and decide again, or dead letter).

use std::time::Duration;

use orderlink_plugin_api::model::{ApplyOutcome, OutcomeKind};
use orderlink_plugin_api::{ConnectorError, ErrorKind};

use super::backoff::MAX_ATTEMPTS;
use crate::domain::WriteOutcome;

/// The engine's reading of one update's outcome. A `retry` whose code is `conflict` (connectors
/// built before ABI 1.2 say so) and a `conflict` are both conflicts; an outcome this host does
/// not know is a retry.
pub fn classify(outcome: &ApplyOutcome) -> WriteOutcome {
    match outcome.outcome {
        OutcomeKind::Done => WriteOutcome::Done {
            changed: outcome.changed,
        },
        OutcomeKind::Conflict => WriteOutcome::Conflict,
        OutcomeKind::Retry if outcome.code == "conflict" => WriteOutcome::Conflict,
        OutcomeKind::Retry | OutcomeKind::Unknown => WriteOutcome::Retry {
            after: outcome.retry_after_ms.map(Duration::from_millis),
        },
        OutcomeKind::Failed => WriteOutcome::Failed,
    }
}

/// The engine's reading of a whole batch refused with an error.
pub fn classify_error(err: &ConnectorError) -> WriteOutcome {
    match err.kind {
        ErrorKind::Permanent | ErrorKind::NotFound => WriteOutcome::Failed,
        ErrorKind::Conflict => WriteOutcome::Conflict,
        _ => WriteOutcome::Retry {
            after: err.retry_after,
        },
    }
}

/// The next step for a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// It landed.
    Done {
        /// Whether the status really changed.
        changed: bool,
    },
    /// Try again after the backoff for `attempts` (no sooner than `after`).
    Retry {
        /// The system's wait, if it said.
        after: Option<Duration>,
    },
    /// Read the target again and decide again.
    Reread,
    /// Give up: a dead letter.
    Dead {
        /// Why, for people.
        why: String,
    },
}

/// What to do after an outcome, for a write already tried `attempts` times before.
pub fn next(attempts: u32, outcome: &WriteOutcome) -> Next {
    let tries = attempts + 1;
    match outcome {
        WriteOutcome::Done { changed } => Next::Done { changed: *changed },
        WriteOutcome::Failed => Next::Dead {
            why: "refused".into(),
        },
        _ if tries >= MAX_ATTEMPTS => Next::Dead {
            why: format!("gave up after {tries} attempts"),
        },
        WriteOutcome::Retry { after } => Next::Retry { after: *after },
        WriteOutcome::Conflict => Next::Reread,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(kind: OutcomeKind, code: &str) -> ApplyOutcome {
        ApplyOutcome {
            outcome: kind,
            code: code.into(),
            retry_after_ms: Some(1500),
            ..ApplyOutcome::done("1", true)
        }
    }

    #[test]
    fn outcomes_are_read_as_the_engine_acts_on_them() {
        let cases = [
            (
                outcome(OutcomeKind::Done, "ok"),
                WriteOutcome::Done { changed: true },
            ),
            (
                outcome(OutcomeKind::Conflict, "stale"),
                WriteOutcome::Conflict,
            ),
            (
                outcome(OutcomeKind::Retry, "conflict"),
                WriteOutcome::Conflict,
            ),
            (
                outcome(OutcomeKind::Retry, "rate_limited"),
                WriteOutcome::Retry {
                    after: Some(Duration::from_millis(1500)),
                },
            ),
            (
                outcome(OutcomeKind::Unknown, "new_thing"),
                WriteOutcome::Retry {
                    after: Some(Duration::from_millis(1500)),
                },
            ),
            (
                outcome(OutcomeKind::Failed, "invalid"),
                WriteOutcome::Failed,
            ),
        ];
        for (o, expect) in cases {
            assert_eq!(classify(&o), expect, "{o:?}");
        }
    }

    #[test]
    fn a_conflict_is_read_again_a_retry_waits_and_both_give_up_in_the_end() {
        assert_eq!(next(0, &WriteOutcome::Conflict), Next::Reread);
        assert_eq!(
            next(3, &WriteOutcome::Retry { after: None }),
            Next::Retry { after: None }
        );
        assert!(matches!(
            next(MAX_ATTEMPTS - 1, &WriteOutcome::Conflict),
            Next::Dead { .. }
        ));
        assert!(matches!(
            next(MAX_ATTEMPTS - 1, &WriteOutcome::Retry { after: None }),
            Next::Dead { .. }
        ));
        assert!(matches!(next(0, &WriteOutcome::Failed), Next::Dead { .. }));
        assert_eq!(
            next(MAX_ATTEMPTS + 5, &WriteOutcome::Done { changed: false }),
            Next::Done { changed: false }
        );
    }

    #[test]
    fn a_refused_batch_is_read_by_its_error_kind() {
        let err = |kind| ConnectorError {
            kind,
            message: "m".into(),
            retry_after: Some(Duration::from_secs(2)),
        };
        assert_eq!(
            classify_error(&err(ErrorKind::Permanent)),
            WriteOutcome::Failed
        );
        assert_eq!(
            classify_error(&err(ErrorKind::NotFound)),
            WriteOutcome::Failed
        );
        assert_eq!(
            classify_error(&err(ErrorKind::Transient)),
            WriteOutcome::Retry {
                after: Some(Duration::from_secs(2))
            }
        );
    }
}
