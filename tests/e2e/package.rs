//! The Debian package: built with `cargo deb` from this workspace's build outputs, then read
//! back with `dpkg-deb` as an installer would see it, and the packaged binary run from an
//! unpacked copy (it must find its plugins in `usr/lib/orderlink/plugins`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use orderlink_e2e::workspace_root;

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Builds the package from the `cargo build --workspace` outputs (no rebuild: the release
/// profile is for real packages; this checks what goes where).
fn build_package(out_dir: &Path) -> PathBuf {
    let version = run(Command::new("cargo").args(["deb", "--version"]));
    assert!(
        version.status.success(),
        "cargo-deb is missing: install it with `cargo install cargo-deb --locked` (.ci/run does it)\n{}",
        text(&version)
    );
    let deb = out_dir.join("orderlink.deb");
    let build = run(Command::new("cargo")
        .current_dir(workspace_root())
        .args(["deb", "-p", "orderlink", "--no-build", "--profile", "dev"])
        .args(["--strip", "--no-dbgsym", "--fast", "-o"])
        .arg(&deb));
    assert!(
        build.status.success(),
        "cargo deb failed:\n{}",
        text(&build)
    );
    deb
}

#[test]
fn the_debian_package_installs_binary_plugins_config_unit_and_a_user() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let deb = build_package(tmp.path());

    let listing = run(Command::new("dpkg-deb").arg("-c").arg(&deb));
    assert!(listing.status.success(), "{}", text(&listing));
    let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
    for path in [
        "./usr/bin/orderlink",
        "./usr/lib/orderlink/plugins/liborderlink_idosell.so",
        "./usr/lib/orderlink/plugins/liborderlink_enova365.so",
        "./etc/orderlink/orderlink.toml",
        "./etc/orderlink/mapping.toml",
        "/systemd/system/orderlink.service",
        "./usr/share/doc/orderlink/README.md",
        "./usr/share/doc/orderlink/enova365-addon.md",
    ] {
        assert!(
            listing.contains(path),
            "no {path} in the package:\n{listing}"
        );
    }

    let info = run(Command::new("dpkg-deb").arg("-I").arg(&deb));
    let info = text(&info);
    assert!(info.contains("Package: orderlink"), "{info}");
    assert!(info.contains("conffiles"), "{info}");
    let conffiles = run(Command::new("dpkg-deb")
        .arg("-I")
        .arg(&deb)
        .arg("conffiles"));
    let conffiles = text(&conffiles);
    assert!(
        conffiles.contains("/etc/orderlink/orderlink.toml")
            && conffiles.contains("/etc/orderlink/mapping.toml"),
        "config files are not conffiles:\n{conffiles}"
    );
    let postinst = text(&run(Command::new("dpkg-deb")
        .arg("-I")
        .arg(&deb)
        .arg("postinst")));
    assert!(postinst.contains("useradd --system"), "{postinst}");

    let root = tmp.path().join("root");
    let unpack = run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    assert!(unpack.status.success(), "{}", text(&unpack));

    // The unit: a dedicated user, restart on failure, hardening, state in /var/lib/orderlink.
    let unit_path = ["lib", "usr/lib"]
        .iter()
        .map(|p| root.join(p).join("systemd/system/orderlink.service"))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no unit file unpacked:\n{listing}"));
    let unit = std::fs::read_to_string(&unit_path).unwrap_or_else(|e| panic!("{e}"));
    for line in [
        "ExecStart=/usr/bin/orderlink run",
        "User=orderlink",
        "Restart=on-failure",
        "StateDirectory=orderlink",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
    ] {
        assert!(
            unit.lines().any(|l| l == line),
            "no `{line}` in the unit:\n{unit}"
        );
    }
    if let Ok(out) = Command::new("systemd-analyze").arg("--version").output() {
        if out.status.success() {
            // Verified as installed, with the unpacked binary standing in for /usr/bin.
            let binary = root.join("usr/bin/orderlink");
            let copy = tmp.path().join("orderlink.service");
            std::fs::write(
                &copy,
                unit.replace("/usr/bin/orderlink", &binary.display().to_string()),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            let verify = run(Command::new("systemd-analyze").arg("verify").arg(&copy));
            let report = text(&verify);
            let problems: Vec<&str> = report
                .lines()
                .filter(|l| l.contains("orderlink.service"))
                .filter(|l| !l.contains("User=orderlink") && !l.contains("user orderlink"))
                .collect();
            assert!(problems.is_empty(), "systemd-analyze verify:\n{report}");
        }
    }

    // The packaged binary finds the packaged plugins by itself.
    let plugins = run(Command::new(root.join("usr/bin/orderlink"))
        .args(["plugins", "--json"])
        .env_remove("ORDERLINK_PLUGIN_DIR"));
    let listed = text(&plugins);
    assert!(plugins.status.success(), "{listed}");
    assert!(
        listed.contains("idosell") && listed.contains("enova365"),
        "{listed}"
    );

    // The example config and mapping are valid as shipped.
    let show = run(Command::new(root.join("usr/bin/orderlink"))
        .args(["mapping", "show"])
        .env(
            "ORDERLINK_CONFIG",
            root.join("etc/orderlink/orderlink.toml"),
        )
        .env("SHOP1_API_KEY", "example-key")
        .env("ENOVA_PASSWORD", "example-password"));
    assert!(show.status.success(), "{}", text(&show));
    assert!(text(&show).contains("Potwierdzony"), "{}", text(&show));
}
