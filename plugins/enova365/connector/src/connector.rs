//! The enova365 connector: the change feed by `Stamp`, reads by key in batches, `Potwierdzenie`
//! writes in batches of up to 100 with per-document outcomes, and the vocabulary from the service.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

use orderlink_plugin_api::model::{
    ApiUsage, ApplyOutcome, ApplyRequest, ApplyResponse, ChangesPage, ChangesRequest, CheckReport,
    OrderState, ReadRequest, ReadResponse, StatusInfo, Vocabulary,
};
use orderlink_plugin_api::sdk::{block_on, Connector};
use orderlink_plugin_api::{ConnectorError, ErrorKind};

use crate::cecha_index::CechaIndex;
use crate::config::{Config, OrderKey, MAX_CHANGES};
use crate::contract::{
    EnumValue, PobierzZamowienia, UstawPotwierdzenia, Wynik, Wyniki, Zamowienia, Zmiana, Zo,
    POTWIERDZENIE,
};
use crate::order_state::{key_of, order_state};
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
    expected: Option<u64>,
    /// The stamp before the write, when known.
    baseline: Option<u64>,
}

fn u32_len(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
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
        })
    }

    async fn pobierz(&self, pars: &PobierzZamowienia) -> Result<Zamowienia, ConnectorError> {
        let page: Zamowienia = self.api.call(POBIERZ, Some(pars)).await?;
        if page.czy_jest_wiecej && page.max_stamp <= pars.zmienione_od_stamp {
            return Err(ConnectorError::transient(format!(
                "enova365 {POBIERZ}: the service reported more documents but MaxStamp did not \
                 advance past {}",
                pars.zmienione_od_stamp
            )));
        }
        Ok(page)
    }

    /// Documents with these foreign numbers, `page_size` numbers per request.
    async fn by_obcy(&self, keys: &[String]) -> Result<Vec<Zo>, ConnectorError> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(self.page_size as usize) {
            let mut pars = PobierzZamowienia {
                zmienione_od_stamp: 0,
                obcy_numery: Some(chunk.to_vec()),
                limit: u32_len(chunk.len()),
            };
            loop {
                let page = self.pobierz(&pars).await?;
                out.extend(page.zamowienia);
                if !page.czy_jest_wiecej {
                    break;
                }
                pars.zmienione_od_stamp = page.max_stamp;
            }
        }
        Ok(out)
    }

    /// With a cecha key: the index, brought up to date by scanning what changed since the last
    /// scan. `None` with the `ObcyNumer` key.
    fn fresh_index(&self) -> Result<Option<MutexGuard<'_, CechaIndex>>, ConnectorError> {
        let Some(index) = &self.index else {
            return Ok(None);
        };
        let mut ix = index
            .lock()
            .map_err(|_| ConnectorError::internal("the cecha index is poisoned"))?;
        let limit = self.page_size;
        block_on(async {
            loop {
                let pars = PobierzZamowienia {
                    zmienione_od_stamp: ix.scanned_to(),
                    obcy_numery: None,
                    limit,
                };
                let page = self.pobierz(&pars).await?;
                for zo in &page.zamowienia {
                    ix.observe(zo);
                }
                ix.scanned(page.max_stamp);
                if !page.czy_jest_wiecej {
                    return Ok::<(), ConnectorError>(());
                }
            }
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

    /// Reads the stamps of documents by foreign number (for updates without a precondition).
    fn stamps_by_obcy(&self, keys: Vec<String>) -> Result<HashMap<String, u64>, ConnectorError> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let zos = block_on(self.by_obcy(&keys))?;
        let mut out = HashMap::new();
        for zo in &zos {
            if let Some(k) = key_of(zo, &OrderKey::ObcyNumer) {
                let e = out.entry(k).or_insert(zo.stamp);
                *e = (*e).max(zo.stamp);
            }
        }
        Ok(out)
    }

    /// Turns updates into changes to send (or into outcomes decided here).
    fn prepare(
        &self,
        request: &ApplyRequest,
        outcomes: &mut [Option<ApplyOutcome>],
    ) -> Result<Vec<Prepared>, ConnectorError> {
        let mut prepared = Vec::with_capacity(request.updates.len());
        for (at, u) in request.updates.iter().enumerate() {
            let expected = match u.expected_version.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(v) => match v.parse::<u64>() {
                    Ok(s) => Some(s),
                    Err(_) => {
                        outcomes[at] = Some(ApplyOutcome::failed(
                            &u.key,
                            "bad_version",
                            format!("expected_version {v:?} is not an enova365 Stamp"),
                        ));
                        continue;
                    }
                },
            };
            if u.key.trim().is_empty() {
                outcomes[at] = Some(ApplyOutcome::failed(&u.key, "not_found", "empty order key"));
                continue;
            }
            prepared.push(Prepared {
                at,
                key: u.key.clone(),
                target: Target::Obcy(u.key.trim().to_owned()),
                status: u.status.trim().to_owned(),
                expected,
                baseline: expected,
            });
        }
        match self.fresh_index()? {
            Some(ix) => {
                prepared.retain_mut(|p| match ix.get(&p.key) {
                    Some(entry) => {
                        p.target = Target::Id(entry.id);
                        p.baseline = p.expected.or(Some(entry.stamp));
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
            None => {
                let unknown: Vec<String> = prepared
                    .iter()
                    .filter(|p| p.baseline.is_none())
                    .map(|p| p.key.trim().to_owned())
                    .collect::<HashSet<_>>()
                    .into_iter()
                    .collect();
                let stamps = self.stamps_by_obcy(unknown)?;
                for p in prepared.iter_mut().filter(|p| p.baseline.is_none()) {
                    p.baseline = stamps.get(p.key.trim()).copied();
                }
            }
        }
        Ok(prepared)
    }

    /// Sends one batch and matches the results to the updates.
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
                    oczekiwany_stamp: p.expected,
                })
                .collect(),
        };
        let wyniki: Wyniki = block_on(self.api.call(USTAW, Some(&pars)))?;
        let ident_of = |w: &Wynik, by_id: bool| -> Option<String> {
            if by_id {
                w.id.map(|i| i.to_string())
            } else {
                w.obcy_numer.as_deref().map(|o| o.trim().to_owned())
            }
        };
        let by_id = matches!(batch.first().map(|p| &p.target), Some(Target::Id(_)));
        let mut results: HashMap<String, VecDeque<&Wynik>> = HashMap::new();
        for w in &wyniki.wyniki {
            if let Some(ident) = ident_of(w, by_id) {
                results.entry(ident).or_default().push_back(w);
            }
        }
        for p in batch {
            let ident = match &p.target {
                Target::Id(id) => id.to_string(),
                Target::Obcy(o) => o.clone(),
            };
            outcomes[p.at] = Some(
                match results.get_mut(&ident).and_then(VecDeque::pop_front) {
                    Some(w) => from_result(&p.key, w, p.baseline, |t| self.api.scrub(t)),
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
}

impl Connector for Enova365 {
    fn check(&self) -> Result<CheckReport, ConnectorError> {
        let names = block_on(self.vocabulary_names())?;
        Ok(CheckReport {
            details: format!(
                "enova365 WebAPI {}: service {} answers; order key {}; Potwierdzenie values: {}",
                self.api.endpoint(),
                self.api.service(),
                self.key,
                names.join(", ")
            ),
            findings: Vec::new(),
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
        let after = match request.cursor.as_deref().map(str::trim) {
            None | Some("") => 0,
            Some(c) => c.parse::<u64>().map_err(|_| {
                ConnectorError::permanent(format!("cursor {c:?} is not an enova365 Stamp"))
            })?,
        };
        let pars = PobierzZamowienia {
            zmienione_od_stamp: after,
            obcy_numery: None,
            limit: request.limit.clamp(1, self.page_size),
        };
        let page = block_on(self.pobierz(&pars))?;
        if let Some(index) = &self.index {
            if let Ok(mut ix) = index.lock() {
                for zo in &page.zamowienia {
                    ix.observe(zo);
                }
            }
        }
        let orders: Vec<OrderState> = page
            .zamowienia
            .iter()
            .filter_map(|zo| order_state(zo, &self.key))
            .collect();
        tracing::debug!(
            after,
            documents = page.zamowienia.len(),
            orders = orders.len(),
            max_stamp = page.max_stamp,
            more = page.czy_jest_wiecej,
            "enova365 change feed page"
        );
        Ok(ChangesPage {
            orders,
            next_cursor: page.max_stamp.max(after).to_string(),
            has_more: page.czy_jest_wiecej,
            poll_after_ms: None,
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
                if let Some(e) = ix.get(k) {
                    found.insert(k.clone(), e.state.clone());
                }
            }
        } else {
            let keys: Vec<String> = wanted
                .iter()
                .filter(|k| !k.trim().is_empty())
                .cloned()
                .collect();
            for zo in block_on(self.by_obcy(&keys))? {
                let Some(state) = order_state(&zo, &self.key) else {
                    continue;
                };
                let known = found
                    .get(&state.key)
                    .and_then(|old| old.version.as_deref())
                    .and_then(|v| v.parse::<u64>().ok());
                let newer = !matches!(known, Some(stamp) if stamp >= zo.stamp);
                if newer {
                    found.insert(state.key.clone(), state);
                }
            }
        }
        let mut orders = Vec::with_capacity(found.len());
        let mut missing = Vec::new();
        for k in wanted {
            match found.remove(&k) {
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
