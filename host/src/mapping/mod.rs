//! The declarative mapping file: one status table per direction.
//!
//! ```toml
//! # enova365 Potwierdzenie -> IdoSell status (every ERP status must be mapped)
//! [to_shop]
//! Niepotwierdzony = "new"
//! Potwierdzony = "on_order"
//! Zaakceptowany = "packed"
//!
//! # IdoSell status -> enova365 Potwierdzenie (a shop status not listed leaves the ZO alone)
//! [to_erp]
//! new = "Niepotwierdzony"
//! on_order = "Potwierdzony"
//! "Packed by team B" = "Zaakceptowany"
//! ```
//! Names are written as the systems show them (codes, panel names, or `id:N` for IdoSell custom
//! statuses) and resolved to status codes against each connector's live vocabulary.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use orderlink_plugin_api::model::Vocabulary;
use serde::Deserialize;

use crate::config::{Direction, FileError, SourceFile};

/// One line of a table: `from = "to"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The source status as written.
    pub from: String,
    /// The target status as written.
    pub to: String,
    /// Its line in the file.
    pub line: Option<usize>,
}

/// A mapping file as written (not yet checked against vocabularies).
#[derive(Debug, Clone)]
pub struct MappingFile {
    /// The file.
    pub source: SourceFile,
    /// ERP status -> shop status.
    pub to_shop: Option<Vec<Rule>>,
    /// Shop status -> ERP status.
    pub to_erp: Option<Vec<Rule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    to_shop: Option<BTreeMap<String, String>>,
    to_erp: Option<BTreeMap<String, String>>,
}

/// The mapping resolved to status codes, ready for the engine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    /// ERP code -> shop code.
    pub to_shop: HashMap<String, String>,
    /// Shop code -> ERP code.
    pub to_erp: HashMap<String, String>,
}

impl Mapping {
    /// The status the target should have for a source status, if the table maps it.
    pub fn target_for(&self, into_shop: bool, source_status: &str) -> Option<&str> {
        let table = if into_shop {
            &self.to_shop
        } else {
            &self.to_erp
        };
        table.get(source_status).map(String::as_str)
    }

    /// Whether a shop status and an ERP status tell the same story: either maps to the other.
    pub fn in_sync(&self, shop_status: &str, erp_status: &str) -> bool {
        self.to_shop.get(erp_status).map(String::as_str) == Some(shop_status)
            || self.to_erp.get(shop_status).map(String::as_str) == Some(erp_status)
    }
}

fn rules(
    src: &SourceFile,
    table: &str,
    map: Option<BTreeMap<String, String>>,
) -> Option<Vec<Rule>> {
    let mut rules: Vec<Rule> = map?
        .into_iter()
        .map(|(from, to)| Rule {
            line: src.line_of_key(&format!("{table}.{from}")),
            from,
            to,
        })
        .collect();
    rules.sort_by_key(|r| r.line.unwrap_or(usize::MAX));
    Some(rules)
}

impl MappingFile {
    /// Reads and parses a mapping file (no vocabulary checks yet).
    pub fn load(path: &Path) -> Result<MappingFile, FileError> {
        let source = SourceFile::read(path)?;
        let raw: RawMapping = source.parse_toml()?;
        let to_shop = rules(&source, "to_shop", raw.to_shop);
        let to_erp = rules(&source, "to_erp", raw.to_erp);
        Ok(MappingFile {
            source,
            to_shop,
            to_erp,
        })
    }

    /// Checks that the tables a direction needs are there (no vocabularies needed).
    pub fn check_tables(&self, direction: Direction) -> Vec<FileError> {
        let mut errors = Vec::new();
        if direction.into_shop() && self.to_shop.is_none() {
            errors.push(self.source.error_at(
                None,
                "to_shop",
                "the link's direction goes into the shop, but the mapping has no [to_shop] table (ERP status = \"shop status\")",
            ));
        }
        if direction.into_erp() && self.to_erp.is_none() {
            errors.push(self.source.error_at(
                None,
                "to_erp",
                "the link's direction goes into the ERP, but the mapping has no [to_erp] table (shop status = \"ERP status\")",
            ));
        }
        errors
    }

    /// Resolves both tables against the live vocabularies and checks them: every name exists,
    /// no status is mapped twice in one table, and for the direction into the shop every
    /// (non-optional) ERP status is mapped. Returns every problem at once.
    pub fn resolve(
        &self,
        direction: Direction,
        shop: (&str, &Vocabulary),
        erp: (&str, &Vocabulary),
    ) -> Result<Mapping, Vec<FileError>> {
        let mut errors = self.check_tables(direction);
        let mut mapping = Mapping::default();
        let tables = [
            ("to_shop", &self.to_shop, erp, shop, &mut mapping.to_shop),
            ("to_erp", &self.to_erp, shop, erp, &mut mapping.to_erp),
        ];
        for (table, rules, (from_name, from_vocab), (to_name, to_vocab), out) in tables {
            let Some(rules) = rules else { continue };
            let mut seen: HashMap<String, &Rule> = HashMap::new();
            for rule in rules {
                let at = |msg: String| FileError {
                    file: self.source.path.clone(),
                    line: rule.line,
                    key: Some(format!("{table}.{}", rule.from)),
                    message: msg,
                };
                let from = from_vocab.resolve(&rule.from);
                let to = to_vocab.resolve(&rule.to);
                if from.is_none() {
                    errors.push(at(format!(
                        "`{}` is not a {from_name} status (known: {})",
                        rule.from,
                        known(from_vocab)
                    )));
                }
                if to.is_none() {
                    errors.push(at(format!(
                        "`{}` is not a {to_name} status (known: {})",
                        rule.to,
                        known(to_vocab)
                    )));
                }
                if let (Some(from), Some(to)) = (from, to) {
                    if let Some(first) = seen.get(&from.code) {
                        errors.push(at(format!(
                            "{from_name} status `{}` is mapped twice in [{table}] (also as `{}` on line {})",
                            from.name,
                            first.from,
                            first.line.map(|l| l.to_string()).unwrap_or_else(|| "?".into())
                        )));
                    } else {
                        seen.insert(from.code.clone(), rule);
                        out.insert(from.code.clone(), to.code.clone());
                    }
                }
            }
        }
        if direction.into_shop() && self.to_shop.is_some() {
            let (erp_name, erp_vocab) = erp;
            let missing: Vec<&str> = erp_vocab
                .statuses
                .iter()
                .filter(|s| !s.optional && !mapping.to_shop.contains_key(&s.code))
                .map(|s| s.name.as_str())
                .collect();
            if !missing.is_empty() {
                errors.push(self.source.error_at(
                    None,
                    "to_shop",
                    format!(
                        "{erp_name} statuses not mapped into the shop: {} (each needs a line `{} = \"shop status\"` in [to_shop])",
                        missing.join(", "),
                        missing[0]
                    ),
                ));
            }
        }
        if errors.is_empty() {
            Ok(mapping)
        } else {
            Err(errors)
        }
    }
}

fn known(vocab: &Vocabulary) -> String {
    let mut names: Vec<String> = vocab
        .statuses
        .iter()
        .map(|s| {
            if s.name == s.code {
                s.code.clone()
            } else {
                format!("{} ({})", s.code, s.name)
            }
        })
        .collect();
    if names.len() > 30 {
        names.truncate(30);
        names.push("...".into());
    }
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use orderlink_plugin_api::model::StatusInfo;

    fn vocab(items: &[(&str, &str, bool)]) -> Vocabulary {
        Vocabulary {
            statuses: items
                .iter()
                .map(|(code, name, optional)| StatusInfo {
                    code: (*code).into(),
                    name: (*name).into(),
                    aliases: vec![],
                    closed: false,
                    optional: *optional,
                })
                .collect(),
        }
    }

    fn erp() -> Vocabulary {
        vocab(&[
            ("Niepotwierdzony", "Niepotwierdzony", false),
            ("Potwierdzony", "Potwierdzony", false),
            ("Zaakceptowany", "Zaakceptowany", false),
            ("Odrzucony", "Odrzucony", true),
        ])
    }

    fn shop() -> Vocabulary {
        vocab(&[
            ("new", "not handled", false),
            ("on_order", "in progress", false),
            ("packed", "being picked", false),
            ("45", "Packed by team B", false),
        ])
    }

    fn file(text: &str) -> MappingFile {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.toml");
        std::fs::write(&p, text).unwrap();
        MappingFile::load(&p).unwrap()
    }

    #[test]
    fn missing_erp_statuses_are_listed() {
        let m = file("[to_shop]\nPotwierdzony = \"on_order\"\n");
        let errs = m
            .resolve(
                Direction::ToShop,
                ("IdoSell", &shop()),
                ("enova365", &erp()),
            )
            .unwrap_err();
        let text = errs
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(text.contains("Niepotwierdzony, Zaakceptowany"), "{text}");
        assert!(!text.contains("Odrzucony"), "{text}");
    }

    #[test]
    fn a_status_mapped_twice_under_two_names_is_an_error() {
        let m =
            file("[to_erp]\n\"Packed by team B\" = \"Zaakceptowany\"\n\"45\" = \"Potwierdzony\"\n");
        let errs = m
            .resolve(Direction::ToErp, ("IdoSell", &shop()), ("enova365", &erp()))
            .unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].to_string().contains("mapped twice"), "{}", errs[0]);
    }

    #[test]
    fn unknown_names_say_line_and_what_is_known() {
        let m = file("[to_erp]\nnew = \"Niepotwierdzony\"\nsent = \"Potwierdzony\"\n");
        let errs = m
            .resolve(Direction::ToErp, ("IdoSell", &shop()), ("enova365", &erp()))
            .unwrap_err();
        let e = errs[0].to_string();
        assert!(
            e.contains("m.toml:3: to_erp.sent: `sent` is not a IdoSell status"),
            "{e}"
        );
        assert!(e.contains("on_order (in progress)"), "{e}");
    }

    #[test]
    fn in_sync_either_way() {
        let m = file(
            "[to_shop]\nNiepotwierdzony=\"new\"\nPotwierdzony=\"on_order\"\nZaakceptowany=\"packed\"\n[to_erp]\n\"Packed by team B\"=\"Zaakceptowany\"\n",
        );
        let r = m
            .resolve(Direction::Both, ("IdoSell", &shop()), ("enova365", &erp()))
            .unwrap();
        assert!(r.in_sync("packed", "Zaakceptowany"));
        assert!(r.in_sync("45", "Zaakceptowany"));
        assert!(!r.in_sync("new", "Zaakceptowany"));
        assert_eq!(r.target_for(true, "Potwierdzony"), Some("on_order"));
    }
}
