//! Which plugins a host accepts, decided from ABI versions alone (semantic versions, read with
//! the `semver` crate): the same major version (the ABI generation), any minor. A plugin built
//! against an older minor lacks the fields appended since (they read as `None`); one built
//! against a newer minor has fields and values this host does not know (ignored, or read as
//! `Unknown`).

use semver::{Comparator, Op, Prerelease, Version, VersionReq};

/// How an accepted plugin's ABI version stands to the host's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbiFit {
    /// Built against the host's own minor version.
    Same,
    /// Built against an older minor version: its prefix-type modules are a prefix of the
    /// host's, and the fields it lacks read as `None`.
    OlderMinor,
    /// Built against a newer minor version: the host uses the fields it knows and reads the
    /// capabilities and values it does not know as `Unknown`.
    NewerMinor,
}

/// Why a plugin's ABI version is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AbiMismatch {
    /// The version is not a semantic version (`MAJOR.MINOR.PATCH`).
    #[error("ABI version `{version}` is not a semantic version MAJOR.MINOR.PATCH ({reason})")]
    Unparseable {
        /// The version as declared.
        version: String,
        /// What the parser said.
        reason: String,
    },
    /// Another ABI generation (another major version).
    #[error("ABI major version {plugin_major} is another generation than {host_major}")]
    OtherMajor {
        /// The plugin's ABI major version.
        plugin_major: u64,
        /// The host's ABI major version.
        host_major: u64,
    },
    /// A pre-release of this generation (`1.3.0-rc.1`): its types may still change.
    #[error("ABI {plugin} is a pre-release, whose types may still change")]
    PreRelease {
        /// The plugin's ABI version.
        plugin: String,
    },
}

/// The versions a host of ABI `host` accepts: `^MAJOR` (every `MAJOR.x.y`, no pre-release).
pub fn accepted(host: &Version) -> VersionReq {
    VersionReq {
        comparators: vec![Comparator {
            op: Op::Caret,
            major: host.major,
            minor: None,
            patch: None,
            pre: Prerelease::EMPTY,
        }],
    }
}

fn parse(version: &str) -> Result<Version, AbiMismatch> {
    Version::parse(version).map_err(|e| AbiMismatch::Unparseable {
        version: version.to_owned(),
        reason: e.to_string(),
    })
}

/// Whether a host of ABI `host_abi` accepts a plugin built against ABI `plugin_abi`, and how
/// they stand to each other. Pure: versions in, decision out.
pub fn compatible(host_abi: &str, plugin_abi: &str) -> Result<AbiFit, AbiMismatch> {
    let host = parse(host_abi)?;
    let plugin = parse(plugin_abi)?;
    if !accepted(&host).matches(&plugin) {
        return Err(if plugin.major == host.major {
            AbiMismatch::PreRelease {
                plugin: plugin.to_string(),
            }
        } else {
            AbiMismatch::OtherMajor {
                plugin_major: plugin.major,
                host_major: host.major,
            }
        });
    }
    Ok(match plugin.minor.cmp(&host.minor) {
        std::cmp::Ordering::Less => AbiFit::OlderMinor,
        std::cmp::Ordering::Equal => AbiFit::Same,
        std::cmp::Ordering::Greater => AbiFit::NewerMinor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_generation_is_accepted_at_any_minor_and_patch() {
        for (plugin, fit) in [
            ("1.2.0", AbiFit::Same),
            ("1.2.7", AbiFit::Same),
            ("1.0.0", AbiFit::OlderMinor),
            ("1.1.3", AbiFit::OlderMinor),
            ("1.3.0", AbiFit::NewerMinor),
            ("1.40.0", AbiFit::NewerMinor),
            ("1.3.0+build.5", AbiFit::NewerMinor),
        ] {
            assert_eq!(compatible("1.2.0", plugin), Ok(fit), "{plugin}");
        }
    }

    #[test]
    fn another_major_version_is_refused_naming_both() {
        for plugin in ["2.0.0", "2.3.1", "0.9.0", "0.1.0"] {
            let err = compatible("1.2.0", plugin).expect_err(plugin);
            assert!(matches!(err, AbiMismatch::OtherMajor { .. }), "{plugin}");
            let major = plugin.split('.').next().unwrap_or_default();
            assert_eq!(
                err.to_string(),
                format!("ABI major version {major} is another generation than 1")
            );
        }
    }

    #[test]
    fn a_version_that_is_not_semver_is_refused_naming_it() {
        for plugin in [
            "",
            "1",
            "1.3",
            "one.three.zero",
            "1.3.x",
            "v1.3.0",
            "1.3.0.0",
            " 1.3.0",
        ] {
            let err = compatible("1.2.0", plugin).expect_err(plugin);
            assert!(matches!(err, AbiMismatch::Unparseable { .. }), "{plugin}");
            assert!(err.to_string().contains(&format!("`{plugin}`")), "{err}");
        }
    }

    #[test]
    fn a_pre_release_of_the_generation_is_refused() {
        assert!(matches!(
            compatible("1.2.0", "1.3.0-rc.1"),
            Err(AbiMismatch::PreRelease { .. })
        ));
        assert!(matches!(
            compatible("1.2.0", "2.0.0-alpha"),
            Err(AbiMismatch::OtherMajor { .. })
        ));
    }

    #[test]
    fn the_accepted_range_reads_as_caret_major() {
        let host = Version::new(1, 2, 0);
        assert_eq!(accepted(&host).to_string(), "^1");
    }
}
