//! A config-like file held in memory, to turn byte offsets into `file:line` in messages.

use std::ops::Range;
use std::path::{Path, PathBuf};

/// One key of a TOML document: its dotted name, where the key is written and where its value
/// is (both byte ranges from the TOML parser).
#[derive(Debug, Clone)]
struct KeyEntry {
    key: String,
    depth: usize,
    at: Range<usize>,
    value: Option<Range<usize>>,
}

/// Every key of a TOML document with its spans, read with `toml_edit`.
#[derive(Debug, Default)]
struct KeyIndex {
    entries: Vec<KeyEntry>,
}

impl KeyIndex {
    /// Indexes a document; an unparsable one gives an empty index.
    fn parse(text: &str) -> KeyIndex {
        let mut index = KeyIndex::default();
        if let Ok(doc) = toml_edit::ImDocument::parse(text) {
            index.table(doc.as_table(), "", 0);
        }
        index
    }

    fn table(&mut self, table: &toml_edit::Table, prefix: &str, depth: usize) {
        for (name, item) in table.iter() {
            let key = join(prefix, name);
            let key_span = table.key(name).and_then(toml_edit::Key::span);
            self.item(item, key, key_span, depth + 1);
        }
    }

    fn item(
        &mut self,
        item: &toml_edit::Item,
        key: String,
        key_span: Option<Range<usize>>,
        depth: usize,
    ) {
        match item {
            toml_edit::Item::None => {}
            toml_edit::Item::Value(v) => self.value(v, key, key_span, depth),
            toml_edit::Item::Table(t) => {
                // A `[header]` table: its line is the header's; an implicit parent table
                // (`links` of `[links.main]`) has no span of its own.
                let at = t.span().or(key_span);
                if let Some(at) = at {
                    self.entries.push(KeyEntry {
                        key: key.clone(),
                        depth,
                        at,
                        value: None,
                    });
                }
                self.table(t, &key, depth);
            }
            toml_edit::Item::ArrayOfTables(a) => {
                for (i, t) in a.iter().enumerate() {
                    let k = format!("{key}[{i}]");
                    if let Some(at) = t.span() {
                        self.entries.push(KeyEntry {
                            key: k.clone(),
                            depth,
                            at,
                            value: None,
                        });
                    }
                    self.table(t, &k, depth + 1);
                }
            }
        }
    }

    fn value(
        &mut self,
        value: &toml_edit::Value,
        key: String,
        key_span: Option<Range<usize>>,
        depth: usize,
    ) {
        let value_span = value.span();
        let Some(at) = key_span.clone().or(value_span.clone()) else {
            return;
        };
        self.entries.push(KeyEntry {
            key: key.clone(),
            depth,
            at,
            value: value_span,
        });
        match value {
            toml_edit::Value::InlineTable(t) => {
                for (name, v) in t.iter() {
                    let span = t.key(name).and_then(toml_edit::Key::span);
                    self.value(v, join(&key, name), span, depth + 1);
                }
            }
            toml_edit::Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    self.value(v, format!("{key}[{i}]"), None, depth + 1);
                }
            }
            _ => {}
        }
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

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
            let message = e
                .message()
                .trim()
                .replace("expected i64", "expected an integer")
                .replace("expected u32", "expected an integer");
            let key = e
                .span()
                .and_then(|span| self.key_at(span.start))
                .unwrap_or_default();
            self.error_at(e.span(), &key, message)
        })
    }

    /// The line where a dotted key is defined (`links.main.shop`, `endpoints.s.config.url`,
    /// `links.main.protected_shop[0]`), from the TOML parser's spans: keys in `[table]`
    /// headers, dotted keys and inline tables alike. For messages about values that serde
    /// already accepted.
    pub fn line_of_key(&self, dotted: &str) -> Option<usize> {
        let index = KeyIndex::parse(&self.text);
        index
            .entries
            .iter()
            .find(|e| e.key == dotted)
            .map(|e| self.line_of(e.at.start))
    }

    /// The text of a key's value as written (`"${env:KEY}"`, `-5`), when the key is written.
    pub fn value_text(&self, dotted: &str) -> Option<&str> {
        let index = KeyIndex::parse(&self.text);
        let span = index.entries.into_iter().find(|e| e.key == dotted)?.value?;
        self.text.get(span)
    }

    /// The innermost dotted key whose key or value covers a byte offset (for turning the
    /// TOML parser's complaints, which come with a span, into `key: message`).
    pub fn key_at(&self, offset: usize) -> Option<String> {
        KeyIndex::parse(&self.text)
            .entries
            .into_iter()
            .filter(|e| {
                e.at.contains(&offset)
                    || e.value
                        .as_ref()
                        .is_some_and(|v| v.contains(&offset) || v.start == offset)
            })
            .max_by_key(|e| e.depth)
            .map(|e| e.key)
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
    fn finds_keys_in_inline_tables_dotted_keys_and_arrays() {
        let s = src("[endpoints.s]\nconnector = \"x\"\nconfig = { url = \"u\", api = { v = 6 } }\n\n[links.l]\nx.y = 1\nlist = [\n  \"a\",\n  \"b\",\n]\n\"Packed by B\" = 2\n");
        assert_eq!(s.line_of_key("endpoints.s.config"), Some(3));
        assert_eq!(s.line_of_key("endpoints.s.config.url"), Some(3));
        assert_eq!(s.line_of_key("endpoints.s.config.api.v"), Some(3));
        assert_eq!(s.line_of_key("links.l"), Some(5));
        assert_eq!(s.line_of_key("links.l.x.y"), Some(6));
        assert_eq!(s.line_of_key("links.l.list[1]"), Some(9));
        assert_eq!(s.line_of_key("links.l.Packed by B"), Some(11));
        let offset = s.text.find("6 }").unwrap();
        assert_eq!(
            s.key_at(offset).as_deref(),
            Some("endpoints.s.config.api.v")
        );
        let offset = s.text.find("\"b\"").unwrap();
        assert_eq!(s.key_at(offset).as_deref(), Some("links.l.list[1]"));
    }

    #[test]
    fn error_display_names_file_line_and_key() {
        let s = src("[a]\nb = 1\n");
        let e = s.error_for_key("a.b", "must be a string");
        assert_eq!(e.to_string(), "c.toml:2: a.b: must be a string");
    }
}
