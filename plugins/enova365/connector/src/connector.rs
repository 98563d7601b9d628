//! The enova365 connector: the change feed by (`Zmieniono`, `ID`) with an overlap and without
//! orderlink's own writes, the listing of the orders in scope, reads by key, `Potwierdzenie`
//! writes in batches of up to 100 with a compare-and-set per document, and the vocabulary.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Europe::Warsaw;
use orderlink_plugin_api::model::{
    ApiUsage, ApplyOutcome, ApplyRequest, ApplyResponse, ChangesPage, ChangesRequest, CheckReport,
    Finding, ListPage, ListRequest, OrderState, ReadRequest, ReadResponse, StatusInfo, Vocabulary,
};
use orderlink_plugin_api::sdk::{block_on, Connector};
use orderlink_plugin_api::{ConnectorError, ErrorKind};

use crate::cecha_index::CechaIndex;
use crate::config::{Config, OrderKey, Transport, MAX_CHANGES};
use crate::contract::{
    EnumValue, PobierzZamowienia, UstawPotwierdzenia, Wynik, Wyniki, Zamowienia, Zmiana, Zo,
    POTWIERDZENIE,
};
use crate::feed::{format_time, FeedCursor};
use crate::order_state::{order_state, parse_time};
use crate::outcome::from_result;
use crate::webapi::WebApi;

const POBIERZ: &str = "PobierzZamowienia";
const USTAW: &str = "UstawPotwierdzenia";
const SLOWNIK: &str = "PobierzPotwierdzenia";

/// One configured enova365 database.
#[derive(Debug)]
pub struct Enova365 {
    api: WebApi,
    key: OrderKey,
    page_size: u32,
    overlap: Duration,
    /// `PominOperatora`: the operator orderlink writes as, when configured.
    own_operator: Option<String>,
    /// Only with a cecha key.
    index: Option<Mutex<CechaIndex>>,
}

/// How one update names its document.
#[derive(Debug, Clone)]
enum Target {
    Id(u64),
    Obcy(String),
}

/// An update ready to send.
#[derive(Debug)]
struct Prepared {
    /// Position in the request.
    at: usize,
    key: String,
    target: Target,
    status: String,
    expected: Option<String>,
}

fn u32_len(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A ZO's change time, or a permanent error naming the document.
fn changed_at(zo: &Zo) -> Result<DateTime<Utc>, ConnectorError> {
    parse_time(&zo.zmieniono).ok_or_else(|| {
        ConnectorError::permanent(format!(
            "enova365 {POBIERZ}: ZO {} has Zmieniono {:?}, not an ISO 8601 time",
            zo.id, zo.zmieniono
        ))
    })
}

impl Enova365 {
    /// A connector for this config (no network call).
    pub fn new(config: &Config) -> Result<Self, ConnectorError> {
        Ok(Enova365 {
            api: WebApi::new(config)?,
            index: match &config.order_key {
                OrderKey::ObcyNumer => None,
                key @ OrderKey::Cecha(_) => Some(Mutex::new(CechaIndex::new(key.clone()))),
            },
            key: config.order_key.clone(),
            page_size: config.page_size,
            overlap: Duration::seconds(i64::try_from(config.feed_overlap_secs).unwrap_or(300)),
            own_operator: config
                .own_operator()
                .filter(|_| config.skip_own_writes)
                .map(str::to_owned),
        })
    }

    async fn pobierz(&self, pars: &PobierzZamowienia) -> Result<Zamowienia, ConnectorError> {
        self.api.call(POBIERZ, Some(pars)).await
    }

    /// Every page of a listing (no `ZmienioneOd`), by `ID`.
    async fn listing(&self, mut pars: PobierzZamowienia) -> Result<Vec<Zo>, ConnectorError> {
        let mut out = Vec::new();
        loop {
            let page = self.pobierz(&pars).await?;
            let last = page.zamowienia.last().map(|z| z.id);
            out.extend(page.zamowienia);
            match last {
                Some(id) if page.czy_jest_wiecej => pars.po_id = Some(id),
                _ => return Ok(out),
            }
        }
    }

    /// Documents with these foreign numbers, `page_size` numbers per request.
    async fn by_obcy(&self, keys: &[String]) -> Result<Vec<Zo>, ConnectorError> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(self.page_size as usize) {
            out.extend(
                self.listing(PobierzZamowienia {
                    obcy_numery: Some(chunk.to_vec()),
                    limit: Some(u32_len(chunk.len())),
                    ..PobierzZamowienia::default()
                })
                .await?,
            );
        }
        Ok(out)
    }

    fn server_time(&self, page: &Zamowienia) -> Option<DateTime<Utc>> {
        page.czas_serwera.as_deref().and_then(parse_time)
    }

    /// With a cecha key: the index, brought up to date (a full listing the first time, then the
    /// feed since the last scan). `None` with the `ObcyNumer` key.
    fn fresh_index(&self) -> Result<Option<MutexGuard<'_, CechaIndex>>, ConnectorError> {
        let Some(index) = &self.index else {
            return Ok(None);
        };
        let mut ix = index
            .lock()
            .map_err(|_| ConnectorError::internal("the cecha index is poisoned"))?;
        let limit = Some(self.page_size);
        block_on(async {
            let mut pars = match ix.scanned_to() {
                None => PobierzZamowienia {
                    limit,
                    ..PobierzZamowienia::default()
                },
                Some(t) => PobierzZamowienia {
                    zmienione_od: Some(format_time((t - self.overlap).timestamp())),
                    po_id: Some(0),
                    limit,
                    ..PobierzZamowienia::default()
                },
            };
            let mut started: Option<DateTime<Utc>> = None;
            loop {
                let page = self.pobierz(&pars).await?;
                started = started.or_else(|| self.server_time(&page));
                for zo in &page.zamowienia {
                    ix.observe(zo);
                }
                let Some(last) = page.zamowienia.last().filter(|_| page.czy_jest_wiecej) else {
                    break;
                };
                if pars.zmienione_od.is_some() {
                    pars.zmienione_od = Some(format_time(changed_at(last)?.timestamp()));
                }
                pars.po_id = Some(last.id);
            }
            if let Some(t) = started {
                ix.scanned(t);
            }
            Ok::<(), ConnectorError>(())
        })?;
        Ok(Some(ix))
    }

    async fn vocabulary_names(&self) -> Result<Vec<String>, ConnectorError> {
        let names: Vec<EnumValue> = self.api.call::<(), _>(SLOWNIK, None).await?;
        let mut seen = HashSet::new();
        Ok(names
            .iter()
            .map(|n| n.name(&POTWIERDZENIE))
            .filter(|n| seen.insert(n.clone()))
            .collect())
    }

    /// Turns updates into changes to send (or into outcomes decided here).
    fn prepare(
        &self,
        request: &ApplyRequest,
        outcomes: &mut [Option<ApplyOutcome>],
    ) -> Result<Vec<Prepared>, ConnectorError> {
        let mut prepared = Vec::with_capacity(request.updates.len());
        for (at, u) in request.updates.iter().enumerate() {
            if u.key.trim().is_empty() {
                outcomes[at] = Some(ApplyOutcome::failed(&u.key, "not_found", "empty order key"));
                continue;
            }
            prepared.push(Prepared {
                at,
                key: u.key.clone(),
                target: Target::Obcy(u.key.trim().to_owned()),
                status: u.status.trim().to_owned(),
                expected: u
                    .expected_status
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            });
        }
        if let Some(ix) = self.fresh_index()? {
            prepared.retain_mut(|p| match ix.get(p.key.trim()) {
                Some(entry) => {
                    p.target = Target::Id(entry.id);
                    true
                }
                None => {
                    outcomes[p.at] = Some(ApplyOutcome::failed(
                        &p.key,
                        "not_found",
                        format!("no ZO has {} = {:?}", self.key, p.key),
                    ));
                    false
                }
            });
        }
        Ok(prepared)
    }

    /// Sends one batch and matches the results (in request order) to the updates.
    fn send(
        &self,
        batch: &[Prepared],
        outcomes: &mut [Option<ApplyOutcome>],
    ) -> Result<(), ConnectorError> {
        let pars = UstawPotwierdzenia {
            zmiany: batch
                .iter()
                .map(|p| Zmiana {
                    id: match p.target {
                        Target::Id(id) => Some(id),
                        Target::Obcy(_) => None,
                    },
                    obcy_numer: match &p.target {
                        Target::Obcy(o) => Some(o.clone()),
                        Target::Id(_) => None,
                    },
                    potwierdzenie: p.status.clone(),
                    oczekiwane_potwierdzenie: p.expected.clone(),
                })
                .collect(),
        };
        let wyniki: Wyniki = block_on(self.api.call(USTAW, Some(&pars)))?;
        // Results come in request order; match by identity too, in case a server reorders.
        let ident = |t: &Target| match t {
            Target::Id(id) => format!("id:{id}"),
            Target::Obcy(o) => format!("obcy:{o}"),
        };
        let ident_of = |w: &Wynik, by_id: bool| -> Option<String> {
            if by_id {
                w.id.map(|i| format!("id:{i}"))
            } else {
                w.obcy_numer
                    .as_deref()
                    .map(|o| format!("obcy:{}", o.trim()))
            }
        };
        let mut results: HashMap<String, VecDeque<&Wynik>> = HashMap::new();
        for (w, p) in wyniki.wyniki.iter().zip(batch) {
            let by_id = matches!(p.target, Target::Id(_));
            if let Some(i) = ident_of(w, by_id) {
                results.entry(i).or_default().push_back(w);
            }
        }
        for p in batch {
            let assumed_change = p.expected.as_deref() != Some(p.status.as_str());
            outcomes[p.at] = Some(
                match results
                    .get_mut(&ident(&p.target))
                    .and_then(VecDeque::pop_front)
                {
                    Some(w) => from_result(&p.key, w, assumed_change, |t| self.api.scrub(t)),
                    None => ApplyOutcome::retry(
                        &p.key,
                        None,
                        "no_result",
                        "the service returned no result for this document",
                    ),
                },
            );
        }
        Ok(())
    }

    fn observe(&self, zos: &[Zo]) {
        if let Some(index) = &self.index {
            if let Ok(mut ix) = index.lock() {
                for zo in zos {
                    ix.observe(zo);
                }
            }
        }
    }
}

impl Drop for Enova365 {
    fn drop(&mut self) {
        self.api.logout_blocking();
    }
}

fn finding(name: &str, value: impl Into<String>, detail: impl Into<String>) -> Finding {
    Finding {
        name: name.into(),
        value: value.into(),
        detail: detail.into(),
    }
}

impl Connector for Enova365 {
    fn check(&self) -> Result<CheckReport, ConnectorError> {
        let names = block_on(self.vocabulary_names())?;
        let mut findings = vec![
            finding(
                "transport",
                self.api.transport().as_str(),
                match self.api.transport() {
                    Transport::Dynamic => "Dynamic WebAPI: LoginApi with the application token, /api/ZamowieniaApi/{Method}",
                    Transport::MethodInvoker => "legacy MethodInvoker: the login in every request",
                },
            ),
            finding(
                "service",
                "answers",
                format!("the orderlink add-on answers; Potwierdzenie values: {}", names.join(", ")),
            ),
        ];
        let version = block_on(self.api.current_version());
        findings.push(match &version {
            Ok(v) => finding("server_version", v.clone(), "GET /api/CurrentVersion"),
            Err(e) => finding("server_version", "unknown", e.message.clone()),
        });
        let other = block_on(self.api.other_transport_answers());
        let (other_name, other_value) = match self.api.transport() {
            Transport::Dynamic => ("method_invoker", other),
            Transport::MethodInvoker => ("dynamic_login", other),
        };
        findings.push(finding(
            other_name,
            match other_value {
                Some(true) => "on",
                Some(false) => "off",
                None => "unknown",
            },
            "whether the other transport answers at this server",
        ));
        findings.push(match &self.own_operator {
            Some(op) => finding(
                "own_writes_in_feed",
                "left_out",
                format!("the feed leaves out documents last changed by operator {op} (PominOperatora)"),
            ),
            None => finding(
                "own_writes_in_feed",
                "included",
                "set operator (and skip_own_writes = true) to leave orderlink's own writes out of the feed: fewer requests with direction both",
            ),
        });
        findings.push(finding(
            "order_key",
            self.key.to_string(),
            "the ZO field holding the shop's order key",
        ));
        Ok(CheckReport {
            details: format!(
                "enova365 WebAPI {} ({}, version {}): the order service answers; order key {}; \
                 Potwierdzenie values: {}",
                self.api.base(),
                self.api.transport().as_str(),
                version.as_deref().unwrap_or("unknown"),
                self.key,
                names.join(", ")
            ),
            findings,
        })
    }

    fn vocabulary(&self) -> Result<Vocabulary, ConnectorError> {
        let names = block_on(self.vocabulary_names())?;
        Ok(Vocabulary {
            statuses: names
                .into_iter()
                .map(|n| StatusInfo {
                    code: n.clone(),
                    // Shop integrations map the first three; `Odrzucony` exists in newer
                    // versions only.
                    optional: n == "Odrzucony",
                    name: n,
                    aliases: vec![],
                    closed: false,
                })
                .collect(),
        })
    }

    fn changes(&self, request: &ChangesRequest) -> Result<ChangesPage, ConnectorError> {
        let mut cursor =
            FeedCursor::parse(request.cursor.as_deref()).map_err(ConnectorError::permanent)?;
        let start = cursor.start();
        let pars = PobierzZamowienia {
            zmienione_od: Some(start.from.clone()),
            po_id: Some(start.po_id),
            pomin_operatora: self.own_operator.clone(),
            limit: Some(request.limit.clamp(1, self.page_size)),
            ..PobierzZamowienia::default()
        };
        let page = block_on(self.pobierz(&pars))?;
        self.observe(&page.zamowienia);
        let states: Vec<Option<OrderState>> = page
            .zamowienia
            .iter()
            .map(|zo| order_state(zo, &self.key))
            .collect();
        let positions = page
            .zamowienia
            .iter()
            .zip(&states)
            .map(|(zo, state)| {
                let fp = match state {
                    Some(s) => FeedCursor::fingerprint(&[
                        &s.key,
                        &s.status,
                        if s.fulfilled == Some(true) { "1" } else { "0" },
                    ]),
                    None => 0,
                };
                Ok((zo.id, changed_at(zo)?, fp))
            })
            .collect::<Result<Vec<_>, ConnectorError>>()?;
        let fresh = cursor.absorb(
            &positions,
            page.czy_jest_wiecej,
            self.server_time(&page),
            self.overlap,
        );
        let orders: Vec<OrderState> = states
            .into_iter()
            .zip(&fresh)
            .filter(|(_, f)| **f)
            .filter_map(|(state, _)| state)
            .collect();
        tracing::debug!(
            from = start.from,
            documents = page.zamowienia.len(),
            orders = orders.len(),
            more = page.czy_jest_wiecej,
            "enova365 change feed page"
        );
        Ok(ChangesPage {
            orders,
            next_cursor: cursor.render(),
            has_more: cursor.paging(),
            poll_after_ms: None,
        })
    }

    fn list(&self, request: &ListRequest) -> Result<ListPage, ConnectorError> {
        let after = match request.cursor.as_deref().map(str::trim) {
            None | Some("") => 0,
            Some(c) => c.parse::<u64>().map_err(|_| {
                ConnectorError::permanent(format!("list cursor {c:?} is not a ZO ID"))
            })?,
        };
        let keys: Vec<String> = request
            .keys
            .iter()
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .collect();
        let by_obcy = matches!(self.key, OrderKey::ObcyNumer) && !keys.is_empty();
        let pars = PobierzZamowienia {
            po_id: Some(after),
            obcy_numery: by_obcy.then(|| keys.clone()),
            utworzone_od: request
                .created_since
                .map(|t| t.with_timezone(&Warsaw).format("%Y-%m-%d").to_string()),
            tylko_niezrealizowane: request.unfulfilled_only.then_some(true),
            limit: Some(request.limit.clamp(1, self.page_size)),
            ..PobierzZamowienia::default()
        };
        let page = block_on(self.pobierz(&pars))?;
        self.observe(&page.zamowienia);
        let wanted: HashSet<&str> = keys.iter().map(String::as_str).collect();
        let orders = page
            .zamowienia
            .iter()
            .filter_map(|zo| order_state(zo, &self.key))
            .filter(|o| wanted.is_empty() || wanted.contains(o.key.as_str()))
            .collect();
        let next_cursor = match page.zamowienia.last() {
            Some(last) if page.czy_jest_wiecej => Some(last.id.to_string()),
            _ => None,
        };
        Ok(ListPage {
            orders,
            next_cursor,
            total: None,
        })
    }

    fn read(&self, request: &ReadRequest) -> Result<ReadResponse, ConnectorError> {
        let mut wanted: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        for k in &request.keys {
            if seen.insert(k.as_str()) {
                wanted.push(k.clone());
            }
        }
        let mut found: HashMap<String, OrderState> = HashMap::new();
        if let Some(ix) = self.fresh_index()? {
            for k in &wanted {
                if let Some(e) = ix.get(k.trim()) {
                    found.insert(k.clone(), e.state.clone());
                }
            }
        } else {
            let keys: Vec<String> = wanted
                .iter()
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty())
                .collect();
            for zo in block_on(self.by_obcy(&keys))? {
                if let Some(state) = order_state(&zo, &self.key) {
                    found.insert(state.key.clone(), state);
                }
            }
        }
        let mut orders = Vec::with_capacity(found.len());
        let mut missing = Vec::new();
        for k in wanted {
            match found.remove(k.trim()).or_else(|| found.remove(&k)) {
                Some(o) => orders.push(o),
                None => missing.push(k),
            }
        }
        Ok(ReadResponse { orders, missing })
    }

    fn apply(&self, request: &ApplyRequest) -> Result<ApplyResponse, ConnectorError> {
        if request.updates.is_empty() {
            return Ok(ApplyResponse::default());
        }
        let mut outcomes: Vec<Option<ApplyOutcome>> = vec![None; request.updates.len()];
        let prepared = self.prepare(request, &mut outcomes)?;
        for (n, batch) in prepared.chunks(MAX_CHANGES).enumerate() {
            let Err(e) = self.send(batch, &mut outcomes) else {
                continue;
            };
            // Nothing written yet, or the login/config is wrong: the whole call failed.
            if n == 0 || matches!(e.kind, ErrorKind::Auth | ErrorKind::Config) {
                return Err(e);
            }
            // Earlier batches are written: report them, and this and later batches as not done.
            let later = prepared.chunks(MAX_CHANGES).skip(n).flatten();
            let retry_ms = e
                .retry_after
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
            for p in later {
                outcomes[p.at] = Some(if e.kind.is_retryable() {
                    ApplyOutcome::retry(&p.key, retry_ms, e.kind.as_str(), e.message.clone())
                } else {
                    ApplyOutcome::failed(&p.key, e.kind.as_str(), e.message.clone())
                });
            }
            break;
        }
        let outcomes = outcomes
            .into_iter()
            .zip(&request.updates)
            .map(|(o, u)| {
                o.unwrap_or_else(|| {
                    ApplyOutcome::retry(&u.key, None, "no_result", "the update was not sent")
                })
            })
            .collect();
        Ok(ApplyResponse { outcomes })
    }

    fn api_usage(&self) -> ApiUsage {
        self.api.usage()
    }
}
