//! The documented range of every number in the config file, and what each key takes, for the
//! checks at load and for messages ("what would be valid"). The README's config section lists
//! the same ranges.

use std::time::Duration;

/// An integer setting and its inclusive range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntRange {
    /// The key's last part (`batch_size`).
    pub name: &'static str,
    /// The smallest valid value.
    pub min: i64,
    /// The largest valid value.
    pub max: i64,
}

impl IntRange {
    /// The value, if within range; otherwise what would be valid.
    pub fn check(&self, value: i64) -> Result<u32, String> {
        if (self.min..=self.max).contains(&value) {
            u32::try_from(value).map_err(|_| self.expected())
        } else {
            Err(format!("{value} is out of range: {}", self.expected()))
        }
    }

    /// What would be valid, for messages.
    pub fn expected(&self) -> String {
        format!("expected an integer from {} to {}", self.min, self.max)
    }
}

/// A duration setting (`"5s"`, `"1m30s"`, `"500ms"`) and its inclusive range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationRange {
    /// The key's last part (`poll_interval`).
    pub name: &'static str,
    /// The shortest valid duration.
    pub min: Duration,
    /// The longest valid duration.
    pub max: Duration,
    /// Examples of valid values, for messages.
    pub examples: &'static str,
}

impl DurationRange {
    /// Parses and checks a duration; otherwise says what would be valid.
    pub fn check(&self, text: &str) -> Result<Duration, String> {
        let d = humantime::parse_duration(text.trim())
            .map_err(|e| format!("`{text}` is not a duration ({e}): {}", self.expected()))?;
        if (self.min..=self.max).contains(&d) {
            Ok(d)
        } else {
            Err(format!("`{text}` is out of range: {}", self.expected()))
        }
    }

    /// What would be valid, for messages.
    pub fn expected(&self) -> String {
        format!(
            "expected a duration from {} to {}, such as {}",
            humantime::format_duration(self.min),
            humantime::format_duration(self.max),
            self.examples
        )
    }
}

/// `links.NAME.batch_size`: orders per read or write request.
pub const BATCH_SIZE: IntRange = IntRange {
    name: "batch_size",
    min: 1,
    max: 100,
};

/// `links.NAME.recent_days`: with `scope = "recent"`, the window in days (up to ten years).
pub const RECENT_DAYS: IntRange = IntRange {
    name: "recent_days",
    min: 1,
    max: 3650,
};

/// `links.NAME.poll_interval`: how often the link looks for changes.
pub const POLL_INTERVAL: DurationRange = DurationRange {
    name: "poll_interval",
    min: Duration::from_millis(100),
    max: Duration::from_secs(24 * 3600),
    examples: "\"5s\", \"1m30s\" or \"500ms\"",
};

/// `links.NAME.poll_interval_max`: how slow an idle link's polling may get (at least its
/// `poll_interval`, checked apart).
pub const POLL_INTERVAL_MAX: DurationRange = DurationRange {
    name: "poll_interval_max",
    min: Duration::from_millis(100),
    max: Duration::from_secs(24 * 3600),
    examples: "\"30s\", \"2m\" or \"1h\"",
};

/// `links.NAME.sweep_interval`: how often a link lists every order in scope to catch what a
/// change feed missed (`"off"`: never).
pub const SWEEP_INTERVAL: DurationRange = DurationRange {
    name: "sweep_interval",
    min: Duration::from_secs(60),
    max: Duration::from_secs(30 * 24 * 3600),
    examples: "\"6h\", \"30m\" or \"off\"",
};

/// `store.audit_retention`: how long the audit trail and cursor checkpoints are kept.
pub const AUDIT_RETENTION: DurationRange = DurationRange {
    name: "audit_retention",
    min: Duration::from_secs(3600),
    max: Duration::from_secs(3650 * 24 * 3600),
    examples: "\"90d\", \"720h\" or \"2weeks\"",
};

/// `store.lease`: how long a link's lease on a shared store lasts unless renewed.
pub const LEASE: DurationRange = DurationRange {
    name: "lease",
    min: Duration::from_secs(3),
    max: Duration::from_secs(600),
    examples: "\"30s\", \"10s\" or \"2m\"",
};

/// `links.NAME.weight`: how much of a host a link takes when hosts share the links.
pub const WEIGHT: IntRange = IntRange {
    name: "weight",
    min: 1,
    max: 1000,
};

/// What a config key takes, by its last part, for messages about values of the wrong type.
pub fn expected_for(key: &str) -> Option<String> {
    let leaf = key.rsplit('.').next().unwrap_or(key);
    let leaf = leaf.split('[').next().unwrap_or(leaf);
    let inside_list = key.ends_with(']');
    Some(match leaf {
        "batch_size" => BATCH_SIZE.expected(),
        "recent_days" => RECENT_DAYS.expected(),
        "poll_interval" => POLL_INTERVAL.expected(),
        "audit_retention" => AUDIT_RETENTION.expected(),
        "lease" => LEASE.expected(),
        "weight" => WEIGHT.expected(),
        "poll_interval_max" => POLL_INTERVAL_MAX.expected(),
        "sweep_interval" => SWEEP_INTERVAL.expected(),
        "enabled" => "expected true or false".to_owned(),
        "direction" => "expected \"to_shop\", \"to_erp\" or \"both\"".to_owned(),
        "scope" => "expected \"unfulfilled\" or \"recent\"".to_owned(),
        "conflict_winner" => "expected \"shop\" or \"erp\"".to_owned(),
        "protected_shop" | "protected_erp" if inside_list => {
            "expected a status name (a string)".to_owned()
        }
        "protected_shop" | "protected_erp" => {
            "expected a list of status names, such as [\"finished\", \"canceled\"]".to_owned()
        }
        "dirs" | "files" if inside_list => "expected a path (a string)".to_owned(),
        "dirs" | "files" => "expected a list of paths".to_owned(),
        "shop" | "erp" | "mapping" | "connector" | "path" => "expected a string".to_owned(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_outside_their_range_say_the_range() {
        assert_eq!(BATCH_SIZE.check(100), Ok(100));
        let e = BATCH_SIZE.check(-1).unwrap_err();
        assert_eq!(e, "-1 is out of range: expected an integer from 1 to 100");
        assert!(RECENT_DAYS.check(4_294_967_295).is_err());
        assert!(RECENT_DAYS.check(0).is_err());
        assert_eq!(RECENT_DAYS.check(3650), Ok(3650));
    }

    #[test]
    fn durations_take_compound_units_and_stay_in_range() {
        assert_eq!(POLL_INTERVAL.check("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(POLL_INTERVAL.check("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(POLL_INTERVAL.check("24h"), Ok(Duration::from_secs(86_400)));
        for bad in [
            "10000000000000000000",
            "10000000000000000000s",
            "99ms",
            "25h",
            "5 parsecs",
            "-1s",
            "",
        ] {
            let e = POLL_INTERVAL.check(bad).unwrap_err();
            assert!(e.contains("from 100ms to 1day"), "{bad}: {e}");
        }
    }

    #[test]
    fn keys_of_the_wrong_type_say_what_they_take() {
        assert!(expected_for("links.l.batch_size")
            .unwrap()
            .contains("1 to 100"));
        assert!(expected_for("links.l.protected_shop[0]")
            .unwrap()
            .contains("status name"));
        assert_eq!(expected_for("links.l.unknown"), None);
    }
}
