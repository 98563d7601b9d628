//! The `orderlink` binary: parses arguments, sets up logging, runs a command, maps errors to
//! exit codes (0 ok, 2 bad input, 1 anything else).

use std::process::ExitCode;

use clap::Parser;
use orderlink::cli::{self, BadInput, Cli, EXIT_BAD_INPUT, EXIT_FAILURE};
use orderlink::store::StoreError;
use orderlink_plugin_api::{ConnectorError, ErrorKind};
use tracing_subscriber::EnvFilter;

fn init_logging(cli: &Cli) {
    let filter = cli
        .log
        .as_deref()
        .map(EnvFilter::new)
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cli.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    match cli::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            let config_error = e
                .chain()
                .filter_map(|c| c.downcast_ref::<ConnectorError>())
                .any(|c| c.kind == ErrorKind::Config);
            let store_input = e
                .chain()
                .filter_map(|c| c.downcast_ref::<StoreError>())
                .any(StoreError::is_bad_input);
            if e.downcast_ref::<BadInput>().is_some() || config_error || store_input {
                ExitCode::from(EXIT_BAD_INPUT)
            } else {
                ExitCode::from(EXIT_FAILURE)
            }
        }
    }
}
