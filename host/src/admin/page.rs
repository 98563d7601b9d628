//! The status page at `/`: links with their state, lag, last success and last error; each
//! link's mapping ("Statusy"); dead letters with retry and discard buttons; one order's history.
//! Plain server-rendered HTML with forms: no JavaScript.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};
use orderlink_plugin_api::model::Vocabulary;
use serde::Deserialize;

use super::api::{
    apply_dead_letter_action, authorize, link_views, order_history, DeadLetterAction, LinkView,
};
use super::{blocking, AdminState, ApiError};
use crate::mapping::MappingFile;
use crate::store::{AuditEntry, DeadLetter};

/// One row of the "Statusy" table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRow {
    /// The ERP (enova365) status.
    pub erp: String,
    /// The shop status it sets (`[to_shop]`), if any.
    pub to_shop: Option<String>,
    /// The shop statuses that set it (`[to_erp]`).
    pub from_shop: Vec<String>,
}

/// A link's mapping as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statusy {
    /// Each ERP status beside its shop status.
    pub rows: Vec<StatusRow>,
    /// Shop statuses in neither table (`None` when the shop's list could not be read).
    pub unmapped_shop: Option<Vec<String>>,
}

/// Lays a mapping file out as ERP statuses beside shop statuses, and finds the shop statuses it
/// leaves out (names as the shop's status list shows them).
pub fn statusy(file: &MappingFile, shop: Option<&Vocabulary>) -> Statusy {
    let to_shop = file.to_shop.clone().unwrap_or_default();
    let to_erp = file.to_erp.clone().unwrap_or_default();
    let mut rows: Vec<StatusRow> = Vec::new();
    for r in &to_shop {
        rows.push(StatusRow {
            erp: r.from.clone(),
            to_shop: Some(r.to.clone()),
            from_shop: Vec::new(),
        });
    }
    for r in &to_erp {
        match rows.iter_mut().find(|row| row.erp == r.to) {
            Some(row) => row.from_shop.push(r.from.clone()),
            None => rows.push(StatusRow {
                erp: r.to.clone(),
                to_shop: None,
                from_shop: vec![r.from.clone()],
            }),
        }
    }
    let unmapped_shop = shop.map(|vocab| {
        let code_of = |name: &str| vocab.resolve(name).map(|s| s.code.clone());
        let mapped: Vec<String> = to_shop
            .iter()
            .filter_map(|r| code_of(&r.to))
            .chain(to_erp.iter().filter_map(|r| code_of(&r.from)))
            .collect();
        vocab
            .statuses
            .iter()
            .filter(|s| !mapped.contains(&s.code))
            .map(|s| {
                if s.name.is_empty() || s.name == s.code {
                    s.code.clone()
                } else {
                    format!("{} ({})", s.name, s.code)
                }
            })
            .collect()
    });
    Statusy {
        rows,
        unmapped_shop,
    }
}

/// The query of `/`.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// An order key whose history to show.
    pub order: Option<String>,
    /// A message from the last action.
    pub msg: Option<String>,
}

struct PageData {
    links: Vec<LinkView>,
    mappings: Vec<(String, Result<Statusy, String>, String, String)>,
    dead_letters: Vec<DeadLetter>,
    history: Option<(String, Vec<AuditEntry>)>,
    needs_token: bool,
    store_error: Option<String>,
}

fn load(state: &AdminState, order: Option<String>) -> Result<PageData, ApiError> {
    let config = state.config();
    let links = link_views(state)?;
    let mut mappings = Vec::new();
    for link in config.links.values() {
        let shop_connector = config
            .endpoints
            .get(&link.shop)
            .map(|e| e.connector.clone())
            .unwrap_or_default();
        let erp_connector = config
            .endpoints
            .get(&link.erp)
            .map(|e| e.connector.clone())
            .unwrap_or_default();
        let table = MappingFile::load(&link.mapping)
            .map_err(|e| e.to_string())
            .map(|file| statusy(&file, state.vocabulary(&link.shop).ok().as_ref()));
        mappings.push((link.name.clone(), table, erp_connector, shop_connector));
    }
    let (dead_letters, history, store_error) = match state.store() {
        Ok(store) => {
            let dl = store.dead_letters(None).map_err(ApiError::internal)?;
            let history = match order.filter(|o| !o.trim().is_empty()) {
                Some(key) => {
                    let key = key.trim().to_owned();
                    Some((key.clone(), order_history(state, &key, None)?))
                }
                None => None,
            };
            (dl, history, None)
        }
        Err(e) => (Vec::new(), None, Some(e.message)),
    };
    Ok(PageData {
        links,
        mappings,
        dead_letters,
        history,
        needs_token: state.admin().is_some_and(|a| a.writes_need_token()),
        store_error,
    })
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "never".to_owned())
}

fn state_name(v: &LinkView) -> String {
    serde_json::to_value(v.state)
        .ok()
        .and_then(|s| s.as_str().map(str::to_owned))
        .unwrap_or_default()
        .replace('_', " ")
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #bbb;padding:.3em .6em;text-align:left;vertical-align:top}th{background:#eee}.bad{color:#a00}.ok{color:#070}.msg{background:#ffd;padding:.4em;border:1px solid #cc9}form.inline{display:inline}";

fn render(data: &PageData, msg: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="refresh" content="30";
                title { "orderlink status" }
                style { (STYLE) }
            }
            body {
                h1 { "orderlink" }
                @if let Some(m) = msg { p.msg role="status" { (m) } }
                @if let Some(e) = &data.store_error { p.bad { "State store: " (e) } }
                h2 { "Links" }
                table id="links" {
                    tr { th { "Link" } th { "State" } th { "Direction" } th { "Lag" } th { "Last success" } th { "Applied" } th { "Pending" } th { "Dead letters" } th { "Last error" } }
                    @for l in &data.links {
                        tr data-link=(l.link) {
                            td { (l.link) }
                            td class=(if l.ready { "ok" } else { "bad" }) { (state_name(l)) @if !l.enabled { " (sync off)" } }
                            td { (l.direction) " (" (l.shop) " / " (l.erp) ")" }
                            td { (format!("{:.0} s", l.lag_secs)) }
                            td { (when(l.last_success_at)) }
                            td { (l.applied) }
                            td { (l.pending) }
                            td { (l.dead_letters) }
                            td.bad { (l.last_error.as_deref().unwrap_or("")) }
                        }
                    }
                }
                h2 { "Statusy" }
                @for (link, table, erp, shop) in &data.mappings {
                    h3 { "Link " (link) }
                    @match table {
                        Err(e) => p.bad { "Mapping cannot be read: " (e) },
                        Ok(t) => {
                            table.statusy {
                                tr { th { (erp) " status" } th { "→ " (shop) " status" } th { (shop) " statuses → " (erp) } }
                                @for r in &t.rows {
                                    tr { td { (r.erp) } td { (r.to_shop.as_deref().unwrap_or("—")) } td { (r.from_shop.join(", ")) } }
                                }
                            }
                            @match &t.unmapped_shop {
                                Some(u) if u.is_empty() => p { "Every " (shop) " status is mapped." },
                                Some(u) => p { (shop) " statuses not mapped (left alone): " (u.join(", ")) },
                                None => p { (shop) " statuses not mapped: unknown (the shop's status list cannot be read now)" },
                            }
                        }
                    }
                }
                h2 { "Dead letters" }
                @if data.dead_letters.is_empty() {
                    p id="no-dead-letters" { "No dead letters." }
                } @else {
                    table id="dead-letters" {
                        tr { th { "Id" } th { "Link" } th { "Side" } th { "Order" } th { "Status" } th { "Code" } th { "Reason" } th { "Attempts" } th { "When" } th { "" } }
                        @for d in &data.dead_letters {
                            tr data-id=(d.id) {
                                td { (d.id) } td { (d.link) } td { (d.target) } td { (d.key) } td { (d.status) }
                                td { (d.code) } td { (d.reason) } td { (d.attempts) } td { (d.at) }
                                td {
                                    @for (action, label) in [("retry", "Retry"), ("discard", "Discard")] {
                                        form.inline method="post" action=(format!("/dead-letters/{}/{action}", d.id)) {
                                            @if data.needs_token { input type="password" name="token" placeholder="admin token" required; }
                                            button type="submit" name="action" value=(action) { (label) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                h2 { "Order history" }
                form method="get" action="/" {
                    label { "Order key " input type="search" name="order" value=(data.history.as_ref().map(|h| h.0.as_str()).unwrap_or("")); }
                    " " button type="submit" { "Show history" }
                }
                @if let Some((key, entries)) = &data.history {
                    @if entries.is_empty() {
                        p { "No history for order " (key) "." }
                    } @else {
                        table id="history" {
                            tr { th { "When" } th { "Link" } th { "Side" } th { "From" } th { "To" } th { "What" } th { "Why" } }
                            @for a in entries {
                                tr { td { (a.at) } td { (a.link) } td { (a.target) } td { (a.from_status.as_deref().unwrap_or("")) } td { (a.to_status) } td { (a.action) } td { (a.why) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /[?order=KEY]`.
pub async fn index(
    State(state): State<AdminState>,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, ApiError> {
    let data = blocking(move || load(&state, q.order)).await?;
    Ok(Html(render(&data, q.msg.as_deref()).into_string()))
}

/// The fields of a retry or discard form.
#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    /// The admin token (when the server is not on loopback).
    pub token: Option<String>,
}

/// `POST /dead-letters/{id}/{retry|discard}` from the page's forms: acts, then back to `/`.
pub async fn dead_letter_form(
    State(state): State<AdminState>,
    Path((id, action)): Path<(i64, String)>,
    headers: HeaderMap,
    Form(form): Form<ActionForm>,
) -> Response {
    let result = async {
        let action = DeadLetterAction::parse(&action)?;
        authorize(&state, &headers, form.token.as_deref())?;
        blocking(move || apply_dead_letter_action(&state, id, action)).await?;
        Ok::<_, ApiError>(format!("Dead letter {id} {}.", action.done()))
    }
    .await;
    let msg = match result {
        Ok(m) => m,
        Err(e) if e.status == axum::http::StatusCode::FORBIDDEN => {
            return (
                e.status,
                Html(format!(
                    "<p>{}</p><p><a href=\"/\">Back</a></p>",
                    maud::html! { (e.message) }.into_string()
                )),
            )
                .into_response()
        }
        Err(e) => e.message,
    };
    let query = serde_urlencoded_msg(&msg);
    Redirect::to(&format!("/?msg={query}")).into_response()
}

/// Percent-encodes a message for a query string.
fn serde_urlencoded_msg(msg: &str) -> String {
    msg.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use orderlink_plugin_api::model::StatusInfo;

    #[test]
    fn erp_statuses_sit_beside_shop_statuses_and_unmapped_ones_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.toml");
        std::fs::write(
            &p,
            "[to_shop]\nNiepotwierdzony = \"new\"\nPotwierdzony = \"on_order\"\n[to_erp]\nnew = \"Niepotwierdzony\"\npacked = \"Zaakceptowany\"\n",
        )
        .unwrap();
        let file = MappingFile::load(&p).unwrap();
        let status = |code: &str, name: &str| {
            serde_json::from_value::<StatusInfo>(serde_json::json!({"code": code, "name": name}))
                .unwrap()
        };
        let vocab = Vocabulary {
            statuses: vec![
                status("new", "new"),
                status("on_order", "on_order"),
                status("packed", "packed"),
                status("finished", "Zakończone"),
            ],
        };
        let s = statusy(&file, Some(&vocab));
        assert_eq!(s.rows.len(), 3);
        assert_eq!(s.rows[0].erp, "Niepotwierdzony");
        assert_eq!(s.rows[0].to_shop.as_deref(), Some("new"));
        assert_eq!(s.rows[0].from_shop, vec!["new".to_owned()]);
        assert_eq!(s.rows[2].erp, "Zaakceptowany");
        assert_eq!(s.rows[2].to_shop, None);
        assert_eq!(
            s.unmapped_shop,
            Some(vec!["Zakończone (finished)".to_owned()])
        );
        assert_eq!(statusy(&file, None).unmapped_shop, None);
    }

    #[test]
    fn messages_are_percent_encoded() {
        assert_eq!(
            serde_urlencoded_msg("Dead letter 3 requeued."),
            "Dead%20letter%203%20requeued."
        );
    }
}
