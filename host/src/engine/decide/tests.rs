//! Every decision rule, one table row each.

use super::*;

use crate::domain::SkipReason::*;

fn mapping() -> Mapping {
    let pairs = |items: &[(&str, &str)]| {
        items
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect::<HashMap<_, _>>()
    };
    Mapping {
        to_shop: pairs(&[
            ("Niepotwierdzony", "new"),
            ("Potwierdzony", "on_order"),
            ("Zaakceptowany", "packed"),
        ]),
        to_erp: pairs(&[
            ("new", "Niepotwierdzony"),
            ("on_order", "Potwierdzony"),
            ("packed", "Zaakceptowany"),
            ("packed_ready", "Zaakceptowany"),
        ]),
    }
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn order(status: &str) -> OrderState {
    OrderState {
        key: "7".into(),
        id: None,
        status: status.into(),
        created_at: None,
        changed_at: None,
        fulfilled: None,
        version: None,
    }
}

fn pending(status: &str, source_status: &str, from: &str) -> Pending {
    Pending {
        status: status.into(),
        source_status: source_status.into(),
        from_status: Some(from.into()),
    }
}

/// One row of the table.
struct Case {
    name: &'static str,
    direction: Direction,
    scope: Scope,
    winner: Side,
    source: Side,
    order: OrderState,
    known: Known,
    /// The target's status and how many days ago it was created; `None`: not in the target.
    target: Option<(&'static str, i64)>,
    pending: Option<Pending>,
    opposite: Option<Pending>,
    expect: Expect,
}

#[derive(Debug, PartialEq)]
enum Expect {
    Write(&'static str),
    Keep,
    Skip(SkipReason),
}

impl Case {
    fn new(name: &'static str, source: Side, source_status: &str, target: &'static str) -> Case {
        Case {
            name,
            direction: if source == Side::Erp {
                Direction::ToShop
            } else {
                Direction::ToErp
            },
            scope: Scope::Unfulfilled,
            winner: Side::Erp,
            source,
            order: order(source_status),
            known: Known::default(),
            target: Some((target, 1)),
            pending: None,
            opposite: None,
            expect: Expect::Keep,
        }
    }
    fn expect(mut self, e: Expect) -> Case {
        self.expect = e;
        self
    }
    fn both(mut self, winner: Side) -> Case {
        self.direction = Direction::Both;
        self.winner = winner;
        self
    }
    fn run(&self) -> Decision {
        let mapping = mapping();
        let protected_shop: HashSet<String> = ["finished".to_owned()].into();
        let protected_erp: HashSet<String> = ["Anulowany".to_owned()].into();
        let rules = Rules {
            direction: self.direction,
            scope: self.scope,
            conflict_winner: self.winner,
            mapping: &mapping,
            protected_shop: &protected_shop,
            protected_erp: &protected_erp,
        };
        let key = self.order.key.clone();
        let known: HashMap<_, _> = [(key.clone(), self.known.clone())].into();
        let target: HashMap<_, _> = self
            .target
            .iter()
            .map(|(status, days)| {
                let mut t = order(status);
                t.created_at = Some(now() - chrono::Duration::days(*days));
                (key.clone(), t)
            })
            .collect();
        let one = |p: &Option<Pending>| -> HashMap<String, Pending> {
            p.iter().map(|p| (key.clone(), p.clone())).collect()
        };
        let (pending, opposite) = (one(&self.pending), one(&self.opposite));
        let orders = [self.order.clone()];
        let page = Page {
            source: self.source,
            orders: &orders,
            known: &known,
            target: &target,
            pending: &pending,
            opposite: &opposite,
            now: now(),
        };
        let mut out = decide(&rules, &page);
        assert_eq!(out.len(), 1, "{}", self.name);
        // What needs the target is exactly what passes the screen.
        let read = keys_to_read(&rules, self.source, &orders, &known);
        let screened_out = matches!(
            out[0].action,
            Action::Skip(OwnEcho | NotMapped | OutOfScopeFulfilled)
        );
        assert_eq!(read.is_empty(), screened_out, "{}: keys to read", self.name);
        out.remove(0)
    }
}

fn got(d: &Decision) -> Expect {
    match &d.action {
        Action::Write(w) => Expect::Write(match w.status.as_str() {
            "packed" => "packed",
            "on_order" => "on_order",
            "new" => "new",
            "Zaakceptowany" => "Zaakceptowany",
            "Potwierdzony" => "Potwierdzony",
            "Niepotwierdzony" => "Niepotwierdzony",
            other => panic!("unexpected write {other}"),
        }),
        Action::Keep => Expect::Keep,
        Action::Skip(r) => Expect::Skip(*r),
    }
}

fn table() -> Vec<Case> {
    use Expect::*;
    use Side::{Erp, Shop};
    vec![
        Case::new("a mapped change is written", Erp, "Zaakceptowany", "new")
            .expect(Write("packed")),
        Case::new("into the ERP too", Shop, "on_order", "Niepotwierdzony")
            .expect(Write("Potwierdzony")),
        Case {
            known: Known {
                erp_written: Some("Zaakceptowany".into()),
                ..Known::default()
            },
            ..Case::new("own echo", Erp, "Zaakceptowany", "new")
        }
        .expect(Skip(OwnEcho)),
        Case::new("not mapped", Erp, "Odrzucony", "new").expect(Skip(NotMapped)),
        Case::new(
            "a shop status not in [to_erp]",
            Shop,
            "suspended",
            "Potwierdzony",
        )
        .expect(Skip(NotMapped)),
        Case {
            order: OrderState {
                fulfilled: Some(true),
                ..order("Zaakceptowany")
            },
            ..Case::new("out of scope: fulfilled", Erp, "Zaakceptowany", "new")
        }
        .expect(Skip(OutOfScopeFulfilled)),
        Case {
            order: OrderState {
                fulfilled: Some(true),
                ..order("Zaakceptowany")
            },
            scope: Scope::CreatedWithinDays(14),
            ..Case::new("fulfilled but recent", Erp, "Zaakceptowany", "new")
        }
        .expect(Write("packed")),
        Case {
            scope: Scope::CreatedWithinDays(14),
            target: Some(("new", 30)),
            ..Case::new(
                "out of scope: older than the window",
                Erp,
                "Zaakceptowany",
                "new",
            )
        }
        .expect(Skip(OutOfScopeOld)),
        Case {
            scope: Scope::CreatedWithinDays(14),
            target: Some(("new", 3)),
            ..Case::new("inside the window", Erp, "Zaakceptowany", "new")
        }
        .expect(Write("packed")),
        Case {
            scope: Scope::CreatedWithinDays(14),
            target: Some(("new", 30)),
            ..Case::new(
                "the window is only into the shop",
                Shop,
                "on_order",
                "Niepotwierdzony",
            )
        }
        .expect(Write("Potwierdzony")),
        Case::new("in sync", Erp, "Zaakceptowany", "packed").expect(Skip(InSync)),
        Case::new(
            "in sync by the other table",
            Erp,
            "Zaakceptowany",
            "packed_ready",
        )
        .expect(Skip(InSync)),
        Case::new("protected", Erp, "Zaakceptowany", "finished").expect(Skip(Protected)),
        Case::new("protected in the ERP", Shop, "packed", "Anulowany").expect(Skip(Protected)),
        Case {
            target: None,
            ..Case::new("target missing", Erp, "Zaakceptowany", "new")
        }
        .expect(Skip(TargetMissing { target: Shop })),
        Case {
            target: None,
            ..Case::new("missing in the ERP", Shop, "packed", "x")
        }
        .expect(Skip(TargetMissing { target: Erp })),
        Case {
            opposite: Some(pending("Potwierdzony", "on_order", "Niepotwierdzony")),
            ..Case::new(
                "conflict (a write the other way is pending), the source wins",
                Erp,
                "Zaakceptowany",
                "on_order",
            )
            .both(Erp)
        }
        .expect(Write("packed")),
        Case {
            opposite: Some(pending("Potwierdzony", "on_order", "Niepotwierdzony")),
            ..Case::new(
                "conflict (a write the other way is pending), the target wins",
                Erp,
                "Zaakceptowany",
                "on_order",
            )
            .both(Shop)
        }
        .expect(Skip(ConflictLost { winner: Shop })),
        Case {
            known: Known {
                shop_status: Some("new".into()),
                ..Known::default()
            },
            ..Case::new(
                "conflict (the target changed since seen), the source wins",
                Erp,
                "Zaakceptowany",
                "on_order",
            )
            .both(Erp)
        }
        .expect(Write("packed")),
        Case {
            known: Known {
                erp_status: Some("Niepotwierdzony".into()),
                ..Known::default()
            },
            ..Case::new(
                "conflict (the target changed since seen), the target wins",
                Shop,
                "packed",
                "Potwierdzony",
            )
            .both(Erp)
        }
        .expect(Skip(ConflictLost { winner: Erp })),
        Case {
            known: Known {
                shop_status: Some("new".into()),
                shop_written: Some("on_order".into()),
                ..Known::default()
            },
            ..Case::new(
                "the target changed by the host's own write is no conflict",
                Erp,
                "Zaakceptowany",
                "on_order",
            )
            .both(Shop)
        }
        .expect(Write("packed")),
        Case {
            known: Known {
                shop_status: Some("new".into()),
                ..Known::default()
            },
            ..Case::new(
                "one way, a changed target is overwritten",
                Erp,
                "Zaakceptowany",
                "on_order",
            )
        }
        .expect(Write("packed")),
        Case {
            pending: Some(pending("on_order", "Potwierdzony", "new")),
            ..Case::new(
                "a newer source state replaces a pending write",
                Erp,
                "Zaakceptowany",
                "new",
            )
        }
        .expect(Write("packed")),
        Case {
            pending: Some(pending("on_order", "Potwierdzony", "new")),
            ..Case::new(
                "a newer source state the target already matches drops a pending write",
                Erp,
                "Niepotwierdzony",
                "new",
            )
        }
        .expect(Skip(InSync)),
        Case {
            pending: Some(pending("on_order", "Potwierdzony", "new")),
            ..Case::new(
                "a newer source state not mapped drops a pending write",
                Erp,
                "Odrzucony",
                "new",
            )
        }
        .expect(Skip(NotMapped)),
        Case {
            pending: Some(pending("packed", "Zaakceptowany", "new")),
            ..Case::new(
                "the same state again keeps the pending write",
                Erp,
                "Zaakceptowany",
                "new",
            )
        }
        .expect(Keep),
        Case {
            pending: Some(pending("packed", "Zaakceptowany", "new")),
            ..Case::new(
                "the same state, but the target moved: the precondition is renewed",
                Erp,
                "Zaakceptowany",
                "on_order",
            )
        }
        .expect(Write("packed")),
    ]
}

#[test]
fn every_rule() {
    let mut failures = Vec::new();
    for case in table() {
        let d = case.run();
        if got(&d) != case.expect {
            failures.push(format!(
                "{}: expected {:?}, got {:?}",
                case.name, case.expect, d.action
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn a_write_carries_the_target_status_read_as_its_precondition() {
    let d = Case::new("w", Side::Erp, "Zaakceptowany", "on_order").run();
    let Action::Write(w) = d.action else {
        panic!("{d:?}")
    };
    assert_eq!(w.expected_status, "on_order");
    assert_eq!(
        d.target_status.as_ref().map(StatusCode::as_str),
        Some("on_order")
    );
    assert_eq!(d.wanted.as_ref().map(StatusCode::as_str), Some("packed"));
    assert!(!w.won_conflict);
}

#[test]
fn a_superseded_write_is_named_whether_replaced_or_dropped() {
    for (status, expect_write) in [("Zaakceptowany", true), ("Niepotwierdzony", false)] {
        let d = Case {
            pending: Some(pending("on_order", "Potwierdzony", "new")),
            ..Case::new("s", Side::Erp, status, "new")
        }
        .run();
        assert_eq!(matches!(d.action, Action::Write(_)), expect_write, "{d:?}");
        assert_eq!(
            d.superseded.as_ref().map(|p| p.status.as_str()),
            Some("on_order"),
            "{d:?}"
        );
    }
    let kept = Case {
        pending: Some(pending("packed", "Zaakceptowany", "new")),
        ..Case::new("k", Side::Erp, "Zaakceptowany", "new")
    }
    .run();
    assert_eq!(kept.superseded, None);
}

#[test]
fn a_won_conflict_drops_the_write_the_other_way_and_a_lost_one_keeps_it() {
    let opposite = Some(pending("Potwierdzony", "on_order", "Niepotwierdzony"));
    let won = Case {
        opposite: opposite.clone(),
        ..Case::new("w", Side::Erp, "Zaakceptowany", "on_order").both(Side::Erp)
    }
    .run();
    assert!(
        matches!(&won.action, Action::Write(w) if w.won_conflict),
        "{won:?}"
    );
    assert_eq!(won.drops_opposite, opposite);
    let lost = Case {
        opposite,
        ..Case::new("l", Side::Erp, "Zaakceptowany", "on_order").both(Side::Shop)
    }
    .run();
    assert_eq!(lost.drops_opposite, None);
}

#[test]
fn a_write_is_checked_against_the_latest_source_state_before_it_is_sent() {
    let p = pending("on_order", "Potwierdzony", "new");
    let known = |erp: &str| Known {
        erp_status: Some(erp.into()),
        ..Known::default()
    };
    assert_eq!(
        before_send(Side::Shop, &p, Some(&known("Potwierdzony"))),
        BeforeSend::Send
    );
    assert_eq!(
        before_send(Side::Shop, &p, Some(&known("Niepotwierdzony"))),
        BeforeSend::Superseded {
            source_now: "Niepotwierdzony".into()
        }
    );
    assert_eq!(before_send(Side::Shop, &p, None), BeforeSend::Send);
}
