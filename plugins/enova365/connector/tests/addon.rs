//! The enova365 add-on (C#, `plugins/enova365/addon/`) compiled with Mono's `mcs` against the
//! stub of the Soneta API, and its tests run with `mono` over the shared contract examples
//! (`plugins/enova365/contract/`). Needs the Debian packages `mono-mcs` and `mono-runtime`
//! (`.ci/run` installs them); without them this test fails, it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|x| x == "cs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn run(program: &str, args: &[&std::ffi::OsStr]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {program} ({e}): install Mono with \
             `apt-get update && apt-get install -y mono-mcs mono-runtime` (.ci/run does)"
            )
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{program} failed:\n{text}");
    text
}

#[test]
fn the_addon_compiles_against_the_stub_and_its_logic_tests_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../addon");
    let contract = Path::new(env!("CARGO_MANIFEST_DIR")).join("../contract");
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let stub = out.path().join("Soneta.Stub.dll");
    let exe = out.path().join("testy.exe");

    let mut args: Vec<std::ffi::OsString> = vec![
        "-langversion:7.2".into(),
        "-warnaserror+".into(),
        "-target:library".into(),
        format!("-out:{}", stub.display()).into(),
    ];
    args.extend(sources(&root.join("stub")).into_iter().map(Into::into));
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    run("mcs", &refs);

    // The add-on itself as the library it ships as, then with its tests as a program.
    let addon: Vec<PathBuf> = sources(&root.join("src"));
    assert!(addon.len() >= 5, "add-on sources: {addon:?}");
    for (target, out_file, extra) in [
        ("library", out.path().join("OrderLink.Enova365.dll"), vec![]),
        ("exe", exe.clone(), sources(&root.join("tests"))),
    ] {
        let mut args: Vec<std::ffi::OsString> = vec![
            "-langversion:7.2".into(),
            "-warnaserror+".into(),
            format!("-target:{target}").into(),
            format!("-r:{}", stub.display()).into(),
            format!("-out:{}", out_file.display()).into(),
        ];
        args.extend(addon.iter().cloned().map(Into::into));
        args.extend(extra.into_iter().map(Into::into));
        let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        run("mcs", &refs);
    }

    let text = run("mono", &[exe.as_os_str(), contract.as_os_str()]);
    let summary = text
        .lines()
        .find(|l| l.ends_with(" failed") && l.contains(" passed, "))
        .unwrap_or_else(|| panic!("no summary line:\n{text}"));
    let passed: u32 = summary
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(summary.ends_with(", 0 failed"), "{text}");
    assert!(passed >= 20, "only {passed} add-on tests ran:\n{text}");
}
