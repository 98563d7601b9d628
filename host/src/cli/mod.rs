//! The `orderlink` command line: argument parsing and one module per command.

pub mod connector_cmd;
pub mod plugins_cmd;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
    /// Print logs as JSON lines.
    #[arg(long, global = true)]
    pub log_json: bool,
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
}

/// Runs the parsed command; the binary maps the error to an exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Plugins { plugins, json } => plugins_cmd::run(&plugins, json),
        Command::Connector(args) => connector_cmd::run(&args),
    }
}
