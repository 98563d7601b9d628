//! A config-like file held in memory, to turn byte offsets into `file:line` in messages.

use std::ops::Range;
use std::path::{Path, PathBuf};

/// A text file read for parsing.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Where it came from.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
}

/// An error in a config or mapping file: the file, the line, the key, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {}{message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default(), key.as_ref().map(|k| format!("{k}: ")).unwrap_or_default())]
pub struct FileError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The dotted key, when known.
    pub key: Option<String>,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl SourceFile {
    /// Reads a file.
    pub fn read(path: &Path) -> Result<SourceFile, FileError> {
        let text = std::fs::read_to_string(path).map_err(|e| FileError {
            file: path.to_path_buf(),
            line: None,
            key: None,
            message: format!("cannot read: {e}"),
        })?;
        Ok(SourceFile {
            path: path.to_path_buf(),
            text,
        })
    }

    /// The 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    /// An error at a span, for a key.
    pub fn error_at(
        &self,
        span: Option<Range<usize>>,
        key: &str,
        message: impl Into<String>,
    ) -> FileError {
        FileError {
            file: self.path.clone(),
            line: span.map(|s| self.line_of(s.start)),
            key: (!key.is_empty()).then(|| key.to_owned()),
            message: message.into(),
        }
    }

    /// Parses the file as TOML into `T`, turning serde's complaint into a [`FileError`] with
    /// the line.
    pub fn parse_toml<T: serde::de::DeserializeOwned>(&self) -> Result<T, FileError> {
        toml::from_str(&self.text).map_err(|e| {
            let message = e.message().trim().to_owned();
            self.error_at(e.span(), "", message)
        })
    }

    /// The line where a dotted key is defined (`links.main.shop`), found by scanning the text;
    /// for messages about values that serde already accepted.
    pub fn line_of_key(&self, dotted: &str) -> Option<usize> {
        let parts: Vec<&str> = dotted.split('.').collect();
        let (table, leaf) = match parts.split_last() {
            Some((leaf, table)) => (table.join("."), *leaf),
            None => return None,
        };
        let mut current = String::new();
        for (i, raw) in self.text.lines().enumerate() {
            let line = raw.trim();
            if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                current = header
                    .trim_matches(|c| c == '[' || c == ']')
                    .trim()
                    .replace(['"', ' '], "");
                if current == dotted {
                    return Some(i + 1);
                }
                continue;
            }
            if current == table {
                if let Some((k, _)) = line.split_once('=') {
                    if k.trim().trim_matches('"') == leaf {
                        return Some(i + 1);
                    }
                }
            }
        }
        None
    }

    /// An error about a dotted key, located by [`SourceFile::line_of_key`].
    pub fn error_for_key(&self, dotted: &str, message: impl Into<String>) -> FileError {
        FileError {
            file: self.path.clone(),
            line: self.line_of_key(dotted),
            key: Some(dotted.to_owned()),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> SourceFile {
        SourceFile {
            path: "c.toml".into(),
            text: text.into(),
        }
    }

    #[test]
    fn finds_lines_of_keys_in_tables() {
        let s = src("[store]\npath = \"x\"\n\n[links.main]\nshop = \"a\"\nerp = \"b\"\n");
        assert_eq!(s.line_of_key("links.main.erp"), Some(6));
        assert_eq!(s.line_of_key("links.main"), Some(4));
        assert_eq!(s.line_of_key("store.path"), Some(2));
        assert_eq!(s.line_of_key("links.other.erp"), None);
    }

    #[test]
    fn error_display_names_file_line_and_key() {
        let s = src("[a]\nb = 1\n");
        let e = s.error_for_key("a.b", "must be a string");
        assert_eq!(e.to_string(), "c.toml:2: a.b: must be a string");
    }
}
