//! The shape of a link: its two sides, which way statuses flow, which orders it may touch.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// One side of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The e-shop.
    Shop,
    /// The ERP.
    Erp,
}

impl Side {
    /// Both sides, shop first.
    pub const BOTH: [Side; 2] = [Side::Shop, Side::Erp];

    /// The config and store spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Shop => "shop",
            Side::Erp => "erp",
        }
    }

    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Shop => Side::Erp,
            Side::Erp => Side::Shop,
        }
    }

    /// Parses the store spelling.
    pub fn parse(s: &str) -> Option<Side> {
        match s {
            "shop" => Some(Side::Shop),
            "erp" => Some(Side::Erp),
            _ => None,
        }
    }

    /// How people call this side in messages: `the shop`, `the ERP`.
    pub fn the(self) -> &'static str {
        match self {
            Side::Shop => "the shop",
            Side::Erp => "the ERP",
        }
    }
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which way statuses flow on a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The shop is updated from ERP changes.
    ToShop,
    /// The ERP is updated from shop changes.
    ToErp,
    /// Both at once, without ping-pong.
    Both,
}

impl Direction {
    /// Whether statuses flow into the shop.
    pub fn into_shop(self) -> bool {
        matches!(self, Direction::ToShop | Direction::Both)
    }

    /// Whether statuses flow into the ERP.
    pub fn into_erp(self) -> bool {
        matches!(self, Direction::ToErp | Direction::Both)
    }

    /// Whether statuses flow into `target`.
    pub fn writes(self, target: Side) -> bool {
        match target {
            Side::Shop => self.into_shop(),
            Side::Erp => self.into_erp(),
        }
    }

    /// The sides whose changes are read (the sources), in the order a cycle reads them: the
    /// ERP for `to_shop`, the shop for `to_erp`, the ERP then the shop for `both`.
    pub fn sources(self) -> Vec<Side> {
        [Side::Erp, Side::Shop]
            .into_iter()
            .filter(|s| self.writes(s.other()))
            .collect()
    }

    /// The sides written to (the targets).
    pub fn targets(self) -> Vec<Side> {
        Side::BOTH.into_iter().filter(|s| self.writes(*s)).collect()
    }

    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::ToShop => "to_shop",
            Direction::ToErp => "to_erp",
            Direction::Both => "both",
        }
    }
}

/// Which orders the direction into the shop may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Orders with no sales document issued in the ERP yet.
    Unfulfilled,
    /// Orders created in the shop in the last N days, invoiced or not.
    CreatedWithinDays(u32),
}

impl Scope {
    /// The oldest creation time in scope at `now`, for a window scope.
    pub fn window_start(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Scope::Unfulfilled => None,
            Scope::CreatedWithinDays(days) => Some(now - Duration::days(i64::from(days))),
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Unfulfilled => f.write_str("unfulfilled orders"),
            Scope::CreatedWithinDays(d) => write!(f, "orders created in the last {d} days"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_and_targets_follow_the_direction() {
        assert_eq!(Direction::ToShop.sources(), vec![Side::Erp]);
        assert_eq!(Direction::ToShop.targets(), vec![Side::Shop]);
        assert_eq!(Direction::ToErp.sources(), vec![Side::Shop]);
        assert_eq!(Direction::Both.sources(), vec![Side::Erp, Side::Shop]);
        assert_eq!(Direction::Both.targets(), vec![Side::Shop, Side::Erp]);
    }

    #[test]
    fn side_spellings_round_trip() {
        for s in Side::BOTH {
            assert_eq!(Side::parse(s.as_str()), Some(s));
            assert_eq!(s.other().other(), s);
        }
        assert_eq!(Side::parse("warehouse"), None);
    }
}
