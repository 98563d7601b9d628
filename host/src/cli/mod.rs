//! The `orderlink` command line: argument parsing and one module per command.

pub mod check_cmd;
pub mod connector_cmd;
pub mod context;
pub mod explain_cmd;
pub mod history_cmd;
pub mod leases;
pub mod mapping_cmd;
pub mod plugins_cmd;
pub mod reconcile_cmd;
pub mod resync_cmd;
pub mod run_cmd;
pub mod status_cmd;
pub mod store_cmd;
pub mod sync_cmd;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::logging::ColorChoice;

/// The config file used when neither `--config` nor `ORDERLINK_CONFIG` names one.
pub const DEFAULT_CONFIG: &str = "/etc/orderlink/orderlink.toml";

/// A failure caused by what the user gave (arguments, config, mapping, plugins): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code for a failure that is not the user's input.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for bad input: config, arguments, plugins.
pub const EXIT_BAD_INPUT: u8 = 2;

/// Keeps order statuses in step between e-shops (IdoSell) and ERPs (enova365), through
/// connector plugins.
#[derive(Debug, Parser)]
#[command(name = "orderlink", version, about, long_about = None)]
pub struct Cli {
    /// Log filter (e.g. `info`, `orderlink=debug`); overrides `RUST_LOG`.
    #[arg(long, global = true)]
    pub log: Option<String>,
    /// Print logs as JSON lines (fields as JSON values).
    #[arg(long, global = true)]
    pub log_json: bool,
    /// Colour the text logs: `auto` (only when stderr is a terminal), `always`, `never`.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Where to find plugins.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PluginArgs {
    /// A directory of plugin libraries (repeatable). Default: `$ORDERLINK_PLUGIN_DIR`, else
    /// `plugins/` beside the executable, else the executable's directory.
    #[arg(long = "plugin-dir", value_name = "DIR")]
    pub plugin_dirs: Vec<PathBuf>,
    /// One plugin library file (repeatable).
    #[arg(long = "plugin", value_name = "FILE")]
    pub plugin_files: Vec<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List plugins and their connectors.
    Plugins {
        /// Where to look.
        #[command(flatten)]
        plugins: PluginArgs,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Drive one connector by hand: check, vocabulary, changes, read, apply (prints JSON).
    Connector(connector_cmd::ConnectorArgs),
    /// Check the config, the mapping, the plugins and that each endpoint answers. Writes nothing.
    Check {
        /// The config file.
        #[arg(long, short, env = "ORDERLINK_CONFIG", default_value = DEFAULT_CONFIG)]
        config: PathBuf,
    },
    /// Run one sync cycle and print what changed (or would change).
    Sync {
        /// The config file.
        #[arg(long, short, env = "ORDERLINK_CONFIG", default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// One cycle, then exit (the only mode of `sync`; `run` keeps going).
        #[arg(long)]
        once: bool,
        /// Only this link (also runs a link whose sync is off).
        #[arg(long)]
        link: Option<String>,
        /// Decide, but write nothing anywhere.
        #[arg(long)]
        dry_run: bool,
    },
    /// Keep every enabled link in sync until SIGTERM or Ctrl-C; SIGHUP reloads the config.
    Run {
        /// The config file.
        #[arg(long, short, env = "ORDERLINK_CONFIG", default_value = DEFAULT_CONFIG)]
        config: PathBuf,
    },
    /// Per link: enabled, direction, last cycle, changes applied, pending, dead letters, last error.
    Status {
        /// The config file.
        #[arg(long, short, env = "ORDERLINK_CONFIG", default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List, retry or discard writes that failed for good.
    DeadLetters {
        /// The config file (before or after the action).
        #[arg(long, short, global = true, env = "ORDERLINK_CONFIG", default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// What to do.
        #[command(subcommand)]
        action: status_cmd::DeadLetterAction,
    },
    /// Move the state between stores: `store migrate --to postgres://...` copies a single
    /// host's store file into an empty PostgreSQL store that several hosts can share.
    Store {
        /// The config file (its [store] path is the source).
        #[arg(long, short, global = true, env = "ORDERLINK_CONFIG", default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// What to do.
        #[command(subcommand)]
        action: store_cmd::StoreAction,
    },
    /// Every decision recorded about one order (written, left alone and why, dead letters), or
    /// that no link has ever seen it.
    History {
        /// The config file.
        #[arg(long, short, env = "ORDERLINK_CONFIG", default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// The order key (e.g. the IdoSell order serial number).
        #[arg(long)]
        order: String,
        /// Only this link.
        #[arg(long)]
        link: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Read both systems now and say what the next cycle would do with an order, and why.
    /// Writes nothing.
    Explain {
        /// The config file.
        #[arg(long, short)]
        config: PathBuf,
        /// The order key.
        #[arg(long)]
        order: String,
        /// The link (needed when there are several).
        #[arg(long)]
        link: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Compare every order in the link's scope on both sides and report drift and why; with
    /// --fix, queue the writes in the outbox.
    Reconcile {
        /// The config file.
        #[arg(long, short)]
        config: PathBuf,
        /// The link.
        #[arg(long)]
        link: String,
        /// Queue the writes that fix the drift (the next cycle applies them).
        #[arg(long)]
        fix: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Re-read changes from a moment (or given orders) and sync them again; orders already in
    /// sync are left alone.
    Resync {
        /// The config file.
        #[arg(long, short)]
        config: PathBuf,
        /// The link.
        #[arg(long)]
        link: String,
        /// What to re-read.
        #[command(flatten)]
        what: resync_cmd::ResyncWhat,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the status mapping.
    Mapping {
        /// What to show.
        #[command(subcommand)]
        action: MappingAction,
    },
}

/// `orderlink mapping` subcommands.
#[derive(Debug, Subcommand)]
pub enum MappingAction {
    /// Print each link's mapping tables side by side, names resolved to codes, and the
    /// statuses of each side no rule maps.
    Show {
        /// The config file.
        #[arg(long, short, env = "ORDERLINK_CONFIG", default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// Only this link.
        #[arg(long)]
        link: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the parsed command; the binary maps the error to an exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Plugins { plugins, json } => plugins_cmd::run(&plugins, json),
        Command::Connector(args) => connector_cmd::run(&args),
        Command::Check { config } => check_cmd::run(&config),
        Command::Sync {
            config,
            once: _,
            link,
            dry_run,
        } => sync_cmd::sync_once(&config, link.as_deref(), dry_run),
        Command::Run { config } => run_cmd::run(&config),
        Command::Status { config, json } => status_cmd::status(&config, json),
        Command::DeadLetters { config, action } => status_cmd::dead_letters(&config, &action),
        Command::Store { config, action } => store_cmd::run(&config, &action),
        Command::History {
            config,
            order,
            link,
            json,
        } => history_cmd::run(&config, &order, link.as_deref(), json),
        Command::Explain {
            config,
            order,
            link,
            json,
        } => explain_cmd::run(&config, &order, link.as_deref(), json),
        Command::Reconcile {
            config,
            link,
            fix,
            json,
        } => reconcile_cmd::run(&config, &link, fix, json),
        Command::Resync {
            config,
            link,
            what,
            json,
        } => resync_cmd::run(&config, &link, &what, json),
        Command::Mapping {
            action: MappingAction::Show { config, link, json },
        } => mapping_cmd::show(&config, link.as_deref(), json),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::path::Path;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn dead_letters_take_the_config_before_or_after_the_action() {
        for args in [
            &["orderlink", "dead-letters", "--config", "c.toml", "list"][..],
            &[
                "orderlink",
                "dead-letters",
                "list",
                "--json",
                "--config",
                "c.toml",
            ][..],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert!(matches!(
                cli.command,
                Command::DeadLetters { config, .. } if config == Path::new("c.toml")
            ));
        }
    }
}
