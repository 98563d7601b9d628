//! The `orderlink` binary: parses arguments, sets up logging, runs a command, maps errors to
//! exit codes (0 ok, 2 bad input, 1 anything else).

use std::process::ExitCode;

use clap::Parser;
use orderlink::cli::{self, BadInput, Cli, Command, EXIT_BAD_INPUT, EXIT_FAILURE};
use orderlink::logging::{self, LogOptions};
use orderlink::store::StoreError;
use orderlink_plugin_api::{ConnectorError, ErrorKind};

/// Lets a closed stdout (`orderlink ... | head`) end the process quietly, as it does other
/// Unix tools, instead of a panic in `println!`. Not for `run`: a restarted log reader must not
/// stop the service.
fn exit_quietly_on_closed_pipe() {
    // SAFETY: restoring a signal's default disposition at start, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Run { .. }) {
        exit_quietly_on_closed_pipe();
    }
    logging::init(&LogOptions {
        filter: cli.log.clone(),
        json: cli.log_json,
        color: cli.color,
    });
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
