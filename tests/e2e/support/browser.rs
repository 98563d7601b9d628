//! Debian's headless Chromium, driven over the DevTools protocol, for tests of the status page.
//! Never downloads a browser: `.ci/run` installs the `chromium` package.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::time::Duration;

use headless_chrome::{Browser, LaunchOptions};

/// Where Debian puts Chromium.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// A fresh headless Chromium with its own profile directory (kept until the browser is dropped).
pub struct Chromium {
    /// The browser.
    pub browser: Browser,
    _profile: tempfile::TempDir,
}

/// Starts Chromium; panics with the install hint when it is missing.
pub fn chromium() -> Chromium {
    let path = PathBuf::from(CHROMIUM);
    assert!(
        path.exists(),
        "{CHROMIUM} is missing: install Debian's `chromium` package (`apt-get install -y chromium`; .ci/run does it)"
    );
    let profile = tempfile::tempdir().unwrap_or_else(|e| panic!("no temp dir: {e}"));
    let data_dir = format!("--user-data-dir={}", profile.path().display());
    let flags = [
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        data_dir.as_str(),
    ];
    let args: Vec<&OsStr> = flags.iter().map(OsStr::new).collect();
    let options = LaunchOptions::default_builder()
        .path(Some(path))
        .headless(true)
        .sandbox(false)
        .args(args)
        .idle_browser_timeout(Duration::from_secs(60))
        .build()
        .unwrap_or_else(|e| panic!("chromium options: {e}"));
    let browser = Browser::new(options).unwrap_or_else(|e| panic!("cannot start chromium: {e}"));
    Chromium {
        browser,
        _profile: profile,
    }
}
