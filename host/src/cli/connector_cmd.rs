//! `orderlink connector`: drive one connector by hand (for connector authors and support):
//! check it, list its vocabulary, read its change feed, read or update orders. Prints JSON.

use std::io::Write;

use anyhow::Context;
use orderlink_plugin_api::model::{ApplyRequest, ChangesRequest, ReadRequest, StatusUpdate};
use orderlink_plugin_api::sdk::Connector;

use super::{plugins_cmd, BadInput, PluginArgs, EXIT_OK};

/// What to ask the connector.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ConnectorCall {
    /// Check the config and that the system answers.
    Check,
    /// List the statuses the system knows.
    Vocabulary,
    /// One page of the change feed.
    Changes {
        /// Continue from this cursor (default: the connector's start point).
        #[arg(long)]
        cursor: Option<String>,
        /// Page size.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Read orders by key.
    Read {
        /// Order keys.
        #[arg(required = true)]
        keys: Vec<String>,
    },
    /// API requests the connector made in this run (ABI 1.1; older plugins say unsupported).
    ApiUsage,
    /// Set statuses: `KEY=STATUS` pairs.
    Apply {
        /// `KEY=STATUS` pairs.
        #[arg(required = true)]
        updates: Vec<String>,
    },
}

/// The `connector` command's arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectorArgs {
    /// Where to look for plugins.
    #[command(flatten)]
    pub plugins: PluginArgs,
    /// The connector name.
    #[arg(long)]
    pub connector: String,
    /// The connector's config: JSON, or `@FILE` holding JSON.
    #[arg(long)]
    pub config: String,
    /// The call.
    #[command(subcommand)]
    pub call: ConnectorCall,
}

fn parse_config(text: &str) -> anyhow::Result<serde_json::Value> {
    let (source, body) = match text.strip_prefix('@') {
        Some(path) => (
            path.to_owned(),
            std::fs::read_to_string(path)
                .map_err(|e| BadInput(format!("cannot read config file {path}: {e}")))?,
        ),
        None => ("--config".to_owned(), text.to_owned()),
    };
    serde_json::from_str(&body)
        .map_err(|e| BadInput(format!("{source}: not valid JSON: {e}")).into())
}

/// Runs one call and prints its JSON answer.
pub fn run(args: &ConnectorArgs) -> anyhow::Result<u8> {
    let set = plugins_cmd::load(&args.plugins);
    for p in &set.problems {
        eprintln!("warning: {}", p.message);
    }
    let (lib, _) = set.connector(&args.connector).ok_or_else(|| {
        BadInput(format!(
            "no plugin provides connector `{}` (available: {})",
            args.connector,
            set.connector_names().join(", ")
        ))
    })?;
    let config = parse_config(&args.config)?;
    let connector = lib
        .create(&args.connector, &config)
        .with_context(|| format!("creating connector `{}`", args.connector))?;
    let answer = match &args.call {
        ConnectorCall::Check => serde_json::to_value(connector.check()?)?,
        ConnectorCall::Vocabulary => serde_json::to_value(connector.vocabulary()?)?,
        ConnectorCall::Changes { cursor, limit } => {
            serde_json::to_value(connector.changes(&ChangesRequest {
                cursor: cursor.clone(),
                limit: *limit,
            })?)?
        }
        ConnectorCall::ApiUsage => {
            if connector.has_api_usage() {
                serde_json::to_value(connector.api_usage())?
            } else {
                serde_json::json!({"unsupported": format!(
                    "plugin `{}` was built for ABI {}, before api_usage (ABI 1.1)",
                    lib.manifest().plugin,
                    lib.abi_version()
                )})
            }
        }
        ConnectorCall::Read { keys } => {
            serde_json::to_value(connector.read(&ReadRequest { keys: keys.clone() })?)?
        }
        ConnectorCall::Apply { updates } => {
            let updates = updates
                .iter()
                .map(|u| {
                    u.split_once('=')
                        .map(|(k, s)| StatusUpdate {
                            key: k.to_owned(),
                            status: s.to_owned(),
                            expected_version: None,
                            expected_status: None,
                        })
                        .ok_or_else(|| BadInput(format!("`{u}` is not KEY=STATUS")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            serde_json::to_value(connector.apply(&ApplyRequest { updates })?)?
        }
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &answer)?;
    writeln!(out)?;
    Ok(EXIT_OK)
}
