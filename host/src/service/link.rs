//! Setting up one link for a service call: its config entry, its connectors, its plan.

use crate::config::{Config, Link};
use crate::engine::plan::Endpoints;
use crate::engine::{connect_endpoints, plan_link, LinkPlan};
use crate::plugins::PluginSet;

use super::ServiceError;

/// The link of that name, or a bad-input error listing the links.
pub fn find<'a>(config: &'a Config, name: &str) -> Result<&'a Link, ServiceError> {
    config.links.get(name).ok_or_else(|| {
        ServiceError::BadInput(format!(
            "no link named `{name}` (links: {})",
            config.links.keys().cloned().collect::<Vec<_>>().join(", ")
        ))
    })
}

/// The link named, or the only link when none is named; a bad-input error otherwise.
pub fn one<'a>(config: &'a Config, name: Option<&str>) -> Result<&'a Link, ServiceError> {
    match name {
        Some(n) => find(config, n),
        None if config.links.len() == 1 => Ok(config
            .links
            .values()
            .next()
            .ok_or_else(|| ServiceError::BadInput("no links defined".into()))?),
        None => Err(ServiceError::BadInput(format!(
            "more than one link: name one with --link (links: {})",
            config.links.keys().cloned().collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Plans a link with already connected endpoints (reads both vocabularies).
pub fn plan_with(
    config: &Config,
    link: &Link,
    endpoints: &Endpoints,
) -> Result<LinkPlan, ServiceError> {
    let ep = |name: &str| match endpoints.get(name) {
        Some(Ok(e)) => Ok(e.clone()),
        Some(Err(e)) if e.is_bad_input() => {
            Err(ServiceError::BadInput(format!("link `{}`: {e}", link.name)))
        }
        Some(Err(e)) => Err(ServiceError::Unavailable(format!(
            "link `{}`: {e}",
            link.name
        ))),
        None => Err(ServiceError::BadInput(format!(
            "link `{}`: no endpoint named `{name}`",
            link.name
        ))),
    };
    let (shop, erp) = (ep(&link.shop)?, ep(&link.erp)?);
    Ok(plan_link(config, link, shop, erp)?)
}

/// Connects the link's endpoints and plans it.
pub fn plan(config: &Config, plugins: &PluginSet, link: &Link) -> Result<LinkPlan, ServiceError> {
    let endpoints = connect_endpoints(config, plugins);
    plan_with(config, link, &endpoints)
}
