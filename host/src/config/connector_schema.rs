//! An endpoint's connector config checked against the JSON Schema the connector publishes in its
//! manifest, before the connector is created: each problem names the config key's own line
//! (`endpoints.shop.config.api_version`) and what the schema allows. Values of secret settings
//! (`"secret": true` or `writeOnly`) and values that came from a secret placeholder are never
//! shown.

use serde_json::Value;

use super::source::{FileError, SourceFile};

/// Checks one endpoint's (secret-resolved) connector config against the connector's schema.
/// An empty list when it fits, or when the schema itself cannot be compiled (the connector
/// then judges its config alone).
pub fn check(
    src: &SourceFile,
    endpoint: &str,
    connector: &str,
    schema: &Value,
    config: &Value,
) -> Vec<FileError> {
    let validator = match jsonschema::validator_for(schema) {
        Ok(v) => v,
        Err(e) => {
            tracing::debug!(
                connector,
                "the connector's config schema does not compile: {e}"
            );
            return Vec::new();
        }
    };
    let base = format!("endpoints.{endpoint}.config");
    let mut errors: Vec<FileError> = validator
        .iter_errors(config)
        .map(|e| {
            let path = pointer_to_key(config, e.instance_path.as_str());
            let key = format!("{base}{path}");
            let property = property_schema(schema, config, e.instance_path.as_str());
            let message = match &e.kind {
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                    let known = property
                        .and_then(|p| p.get("properties"))
                        .and_then(Value::as_object)
                        .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
                        .unwrap_or_default();
                    let key = format!("{key}.{}", unexpected.join(", "));
                    return error(
                        src,
                        &key,
                        format!("`{connector}` has no such setting (its settings: {known})"),
                    );
                }
                jsonschema::error::ValidationErrorKind::Required { property: name } => {
                    let name = name.as_str().unwrap_or_default();
                    let about = property
                        .and_then(|p| p.pointer(&format!("/properties/{name}/description")))
                        .and_then(Value::as_str)
                        .map(|d| format!(" ({d})"))
                        .unwrap_or_default();
                    return error(
                        src,
                        &format!("{key}.{name}"),
                        format!("`{name}` is required by connector `{connector}`{about}"),
                    );
                }
                _ => {
                    let hidden = is_secret(property) || from_placeholder(src, &key);
                    let what = if hidden {
                        "this value is not valid (not shown: it is a secret)".to_owned()
                    } else {
                        e.to_string()
                    };
                    match property.map(expected) {
                        Some(expected) if !expected.is_empty() => format!("{what}; {expected}"),
                        _ => what,
                    }
                }
            };
            error(src, &key, message)
        })
        .collect();
    // One problem per key is enough (a value can break several rules at once).
    let mut seen = std::collections::HashSet::new();
    errors.retain(|e| seen.insert(e.key.clone()));
    errors.sort_by_key(|e| e.line.unwrap_or(usize::MAX));
    errors
}

fn error(src: &SourceFile, key: &str, message: String) -> FileError {
    let line = src.line_of_key(key).or_else(|| {
        // A key that is not written (a required one): the config table's line.
        let mut parent = key;
        while let Some((p, _)) = parent.rsplit_once('.') {
            if let Some(line) = src.line_of_key(p) {
                return Some(line);
            }
            parent = p;
        }
        None
    });
    FileError {
        file: src.path.clone(),
        line,
        key: Some(key.to_owned()),
        message,
    }
}

/// `/a/0/b` in `config` as the config file's key suffix `.a[0].b`.
fn pointer_to_key(config: &Value, pointer: &str) -> String {
    let mut out = String::new();
    let mut at = Some(config);
    for raw in pointer.split('/').skip(1) {
        let part = raw.replace("~1", "/").replace("~0", "~");
        match at {
            Some(Value::Array(items)) => {
                out.push_str(&format!("[{part}]"));
                at = part.parse::<usize>().ok().and_then(|i| items.get(i));
            }
            Some(Value::Object(map)) => {
                out.push('.');
                out.push_str(&part);
                at = map.get(&part);
            }
            _ => {
                out.push('.');
                out.push_str(&part);
                at = None;
            }
        }
    }
    out
}

/// The sub-schema describing the value at `pointer` (following `properties` and `items`).
fn property_schema<'s>(schema: &'s Value, config: &Value, pointer: &str) -> Option<&'s Value> {
    let mut s = schema;
    let mut at = Some(config);
    for raw in pointer.split('/').skip(1) {
        let part = raw.replace("~1", "/").replace("~0", "~");
        match at {
            Some(Value::Array(items)) => {
                s = s.get("items")?;
                at = part.parse::<usize>().ok().and_then(|i| items.get(i));
            }
            _ => {
                s = s.get("properties")?.get(&part)?;
                at = at.and_then(|v| v.get(&part));
            }
        }
    }
    Some(s)
}

fn is_secret(property: Option<&Value>) -> bool {
    property.is_some_and(|p| {
        p.get("secret") == Some(&Value::Bool(true))
            || p.get("writeOnly") == Some(&Value::Bool(true))
    })
}

/// Whether the key's value is written as a `${...}` placeholder in the file.
fn from_placeholder(src: &SourceFile, key: &str) -> bool {
    src.value_text(key).is_some_and(|t| t.contains("${"))
}

/// What a property's schema allows, in words: its type, values, bounds and description.
fn expected(property: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(values) = property.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values.iter().map(Value::to_string).collect();
        parts.push(format!("one of {}", values.join(", ")));
    } else if let Some(t) = property.get("type").and_then(Value::as_str) {
        let min = property.get("minimum").and_then(Value::as_i64);
        let max = property.get("maximum").and_then(Value::as_i64);
        parts.push(match (t, min, max) {
            ("integer", Some(a), Some(b)) => format!("an integer from {a} to {b}"),
            ("integer", Some(a), None) => format!("an integer of at least {a}"),
            ("integer", None, Some(b)) => format!("an integer of at most {b}"),
            ("integer", None, None) => "an integer".to_owned(),
            ("boolean", ..) => "true or false".to_owned(),
            ("string", ..) => match property.get("pattern").and_then(Value::as_str) {
                Some(p) => format!("a string matching {p}"),
                None => "a string".to_owned(),
            },
            (other, ..) => format!("a value of type {other}"),
        });
    }
    if let Some(d) = property.get("description").and_then(Value::as_str) {
        parts.push(format!("({d})"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("expected {}", parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["url", "api_key"],
            "properties": {
                "url": {"type": "string"},
                "api_key": {"type": "string", "secret": true, "minLength": 1},
                "api_version": {"type": "integer", "enum": [6, 7, 8], "description": "Admin API version"},
                "requests_per_second": {"type": "integer", "minimum": 1, "maximum": 1000},
            }
        })
    }

    fn src(text: &str) -> SourceFile {
        SourceFile {
            path: "o.toml".into(),
            text: text.into(),
        }
    }

    fn check_text(text: &str, config: Value) -> Vec<String> {
        check(&src(text), "s", "idosell", &schema(), &config)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_wrong_type_or_range_points_at_the_keys_own_line() {
        let text = "[endpoints.s]\nconnector = \"idosell\"\n[endpoints.s.config]\nurl = \"u\"\napi_key = \"k\"\napi_version = \"seven\"\nrequests_per_second = -5\n";
        let errors = check_text(
            text,
            json!({"url": "u", "api_key": "k", "api_version": "seven", "requests_per_second": -5}),
        );
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].starts_with("o.toml:6: endpoints.s.config.api_version: "),
            "{errors:?}"
        );
        assert!(errors[0].contains("one of 6, 7, 8"), "{errors:?}");
        assert!(
            errors[1].starts_with("o.toml:7: endpoints.s.config.requests_per_second: "),
            "{errors:?}"
        );
        assert!(errors[1].contains("from 1 to 1000"), "{errors:?}");
    }

    #[test]
    fn inline_tables_unknown_and_missing_settings_are_named() {
        let text = "[endpoints.s]\nconnector = \"idosell\"\nconfig = { url = \"u\", colour = 1 }\n";
        let errors = check_text(text, json!({"url": "u", "colour": 1}));
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("o.toml:3: endpoints.s.config.colour: ")
                    && e.contains("api_key, api_version")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e
                    .starts_with("o.toml:3: endpoints.s.config.api_key: `api_key` is required")),
            "{errors:?}"
        );
    }

    #[test]
    fn secret_values_are_never_shown() {
        let text = "[endpoints.s]\nconnector = \"idosell\"\nconfig = { url = \"${env:X}\", api_key = 12345 }\n";
        let errors = check_text(text, json!({"url": 7, "api_key": 12345})).join("\n");
        assert!(
            !errors.contains("12345") && !errors.contains('7'),
            "{errors}"
        );
        assert!(errors.contains("endpoints.s.config.api_key"), "{errors}");
        assert!(errors.contains("endpoints.s.config.url"), "{errors}");
    }
}
