//! A link's mapping as written and as resolved against the live status lists: each name with
//! its status code, the statuses of each side that no rule maps, and any name that does not
//! resolve.

use orderlink_plugin_api::model::{StatusInfo, Vocabulary};
use serde::Serialize;

use super::ServiceError;
use crate::config::{Config, Link};
use crate::engine::plan::Endpoints;
use crate::mapping::{MappingFile, Rule};

/// One line of a mapping table, as written and resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleView {
    /// The source status as written.
    pub from: String,
    /// Its code in the source system (None: not resolved, or not a status there).
    pub from_code: Option<String>,
    /// The target status as written.
    pub to: String,
    /// Its code in the target system.
    pub to_code: Option<String>,
    /// Its line in the mapping file.
    pub line: Option<usize>,
}

/// A status of one system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusRef {
    /// Its code.
    pub code: String,
    /// Its name in the system's UI.
    pub name: String,
    /// A closed (final) status.
    pub closed: bool,
    /// A status the mapping may leave out.
    pub optional: bool,
}

impl From<&StatusInfo> for StatusRef {
    fn from(s: &StatusInfo) -> Self {
        StatusRef {
            code: s.code.clone(),
            name: s.name.clone(),
            closed: s.closed,
            optional: s.optional,
        }
    }
}

/// One link's mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MappingView {
    /// The link.
    pub link: String,
    /// Its direction (`to_shop`, `to_erp`, `both`).
    pub direction: String,
    /// Its scope, in words.
    pub scope: String,
    /// The mapping file.
    pub file: String,
    /// The shop's connector name.
    pub shop_connector: String,
    /// The ERP's connector name.
    pub erp_connector: String,
    /// Whether names were resolved against the live status lists.
    pub resolved: bool,
    /// Why they were not, when not.
    pub unresolved_reason: Option<String>,
    /// `[to_shop]`: ERP status -> shop status (None: no such table).
    pub to_shop: Option<Vec<RuleView>>,
    /// `[to_erp]`: shop status -> ERP status (None: no such table).
    pub to_erp: Option<Vec<RuleView>>,
    /// ERP statuses no `[to_shop]` rule maps (their changes do not reach the shop).
    pub unmapped_erp: Vec<StatusRef>,
    /// Shop statuses no `[to_erp]` rule maps (their changes leave the ERP alone).
    pub unmapped_shop: Vec<StatusRef>,
    /// What is wrong with the mapping against the live lists (the link refuses to start).
    pub problems: Vec<String>,
}

fn rules_view(
    rules: &Option<Vec<Rule>>,
    from: Option<&Vocabulary>,
    to: Option<&Vocabulary>,
) -> Option<Vec<RuleView>> {
    let code = |v: Option<&Vocabulary>, name: &str| {
        v.and_then(|v| v.resolve(name)).map(|s| s.code.clone())
    };
    rules.as_ref().map(|rules| {
        rules
            .iter()
            .map(|r| RuleView {
                from: r.from.clone(),
                from_code: code(from, &r.from),
                to: r.to.clone(),
                to_code: code(to, &r.to),
                line: r.line,
            })
            .collect()
    })
}

fn unmapped(vocab: &Vocabulary, rules: &Option<Vec<RuleView>>) -> Vec<StatusRef> {
    let mapped: Vec<&str> = rules
        .iter()
        .flatten()
        .filter_map(|r| r.from_code.as_deref())
        .collect();
    vocab
        .statuses
        .iter()
        .filter(|s| !mapped.contains(&s.code.as_str()))
        .map(StatusRef::from)
        .collect()
}

/// Builds the view of a link's mapping. `vocabularies` are the live (shop, ERP) status lists,
/// or why they could not be read (the view then shows the file as written).
pub fn view(
    config: &Config,
    link: &Link,
    vocabularies: Result<(Vocabulary, Vocabulary), String>,
) -> Result<MappingView, ServiceError> {
    let file =
        MappingFile::load(&link.mapping).map_err(|e| ServiceError::BadInput(e.to_string()))?;
    let connector = |name: &str| {
        config
            .endpoints
            .get(name)
            .map(|e| e.connector.clone())
            .unwrap_or_else(|| name.to_owned())
    };
    let (shop_connector, erp_connector) = (connector(&link.shop), connector(&link.erp));
    let (shop_v, erp_v, reason) = match &vocabularies {
        Ok((s, e)) => (Some(s), Some(e), None),
        Err(why) => (None, None, Some(why.clone())),
    };
    let to_shop = rules_view(&file.to_shop, erp_v, shop_v);
    let to_erp = rules_view(&file.to_erp, shop_v, erp_v);
    let (unmapped_erp, unmapped_shop, problems) = match (shop_v, erp_v) {
        (Some(s), Some(e)) => {
            let problems =
                match file.resolve(link.direction, (&shop_connector, s), (&erp_connector, e)) {
                    Ok(_) => Vec::new(),
                    Err(errors) => errors.iter().map(ToString::to_string).collect(),
                };
            (unmapped(e, &to_shop), unmapped(s, &to_erp), problems)
        }
        _ => (
            Vec::new(),
            Vec::new(),
            file.check_tables(link.direction)
                .iter()
                .map(ToString::to_string)
                .collect(),
        ),
    };
    Ok(MappingView {
        link: link.name.clone(),
        direction: link.direction.as_str().to_owned(),
        scope: link.scope.to_string(),
        file: link.mapping.display().to_string(),
        shop_connector,
        erp_connector,
        resolved: reason.is_none(),
        unresolved_reason: reason,
        to_shop,
        to_erp,
        unmapped_erp,
        unmapped_shop,
        problems,
    })
}

/// Reads both live status lists of a link through connected endpoints, or says why not.
pub fn vocabularies(
    link: &Link,
    endpoints: &Endpoints,
) -> Result<(Vocabulary, Vocabulary), String> {
    let read = |name: &str| -> Result<Vocabulary, String> {
        match endpoints.get(name) {
            Some(Ok(ep)) => ep
                .connector
                .vocabulary()
                .map_err(|e| format!("endpoint `{name}`: {e}")),
            Some(Err(e)) => Err(e.to_string()),
            None => Err(format!("no endpoint named `{name}`")),
        }
    };
    Ok((read(&link.shop)?, read(&link.erp)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(items: &[(&str, &str)]) -> Vocabulary {
        Vocabulary {
            statuses: items
                .iter()
                .map(|(code, name)| StatusInfo {
                    code: (*code).into(),
                    name: (*name).into(),
                    aliases: vec![format!("id:{code}")],
                    closed: false,
                    optional: false,
                })
                .collect(),
        }
    }

    fn rule(from: &str, to: &str) -> Rule {
        Rule {
            from: from.into(),
            to: to.into(),
            line: Some(2),
        }
    }

    #[test]
    fn names_resolve_to_codes_and_the_rest_are_listed_as_unmapped() {
        let shop = vocab(&[
            ("new", "Not handled"),
            ("on_order", "In progress"),
            ("45", "Team B"),
        ]);
        let erp = vocab(&[("Potwierdzony", "Potwierdzony"), ("Odrzucony", "Odrzucony")]);
        let rules = Some(vec![
            rule("In progress", "Potwierdzony"),
            rule("id:45", "Potwierdzony"),
            rule("gone", "Potwierdzony"),
        ]);
        let view = rules_view(&rules, Some(&shop), Some(&erp)).unwrap();
        assert_eq!(view[0].from_code.as_deref(), Some("on_order"));
        assert_eq!(view[1].from_code.as_deref(), Some("45"));
        assert_eq!(view[2].from_code, None, "an unknown name stays unresolved");
        assert_eq!(view[0].to_code.as_deref(), Some("Potwierdzony"));
        let left: Vec<String> = unmapped(&shop, &Some(view))
            .into_iter()
            .map(|s| s.code)
            .collect();
        assert_eq!(left, vec!["new".to_owned()]);
        let unresolved = rules_view(&rules, None, None).unwrap();
        assert!(unresolved
            .iter()
            .all(|r| r.from_code.is_none() && r.to_code.is_none()));
        assert_eq!(
            unmapped(&erp, &None).len(),
            2,
            "no table: every status is unmapped"
        );
    }
}
