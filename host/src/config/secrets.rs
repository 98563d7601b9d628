//! Secret placeholders in endpoint configs: `${env:NAME}` and `${file:PATH}`.
//!
//! Values are resolved when the config is loaded; an error names the key and the variable or
//! file, never the value.

use std::path::Path;

use serde_json::Value;

/// Resolves every placeholder in a JSON value. `key` is the dotted path for messages.
pub fn resolve(value: &mut Value, key: &str, base_dir: &Path) -> Result<(), (String, String)> {
    match value {
        Value::String(s) => {
            if s.contains("${") {
                *s = resolve_str(s, base_dir).map_err(|m| (key.to_owned(), m))?;
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                resolve(item, &format!("{key}[{i}]"), base_dir)?;
            }
            Ok(())
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                resolve(v, &format!("{key}.{k}"), base_dir)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Resolves the placeholders in one string.
pub fn resolve_str(text: &str, base_dir: &Path) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| {
            "unclosed `${` placeholder (use ${env:NAME} or ${file:PATH})".to_owned()
        })?;
        let inner = &after[..end];
        let value = match inner.split_once(':') {
            Some(("env", name)) => std::env::var(name)
                .map_err(|_| format!("environment variable `{name}` is not set"))?,
            Some(("file", path)) => {
                let p = base_dir.join(path);
                std::fs::read_to_string(&p)
                    .map(|s| s.trim_end_matches(['\r', '\n']).to_owned())
                    .map_err(|e| format!("cannot read secret file `{}`: {e}", p.display()))?
            }
            _ => {
                return Err(format!(
                    "unknown placeholder `${{{inner}}}` (use ${{env:NAME}} or ${{file:PATH}})"
                ))
            }
        };
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resolves_env_and_file_placeholders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "s3cret\n").unwrap();
        std::env::set_var("ORDERLINK_TEST_SECRET_A", "k3y");
        let mut v = json!({"a": "${env:ORDERLINK_TEST_SECRET_A}", "b": ["x-${file:pw}"]});
        resolve(&mut v, "cfg", dir.path()).unwrap();
        assert_eq!(v, json!({"a": "k3y", "b": ["x-s3cret"]}));
    }

    #[test]
    fn missing_variable_names_the_key_not_a_value() {
        let mut v = json!({"api_key": "${env:ORDERLINK_TEST_NOT_SET_XYZ}"});
        let (key, msg) = resolve(&mut v, "endpoints.shop.config", Path::new(".")).unwrap_err();
        assert_eq!(key, "endpoints.shop.config.api_key");
        assert!(msg.contains("ORDERLINK_TEST_NOT_SET_XYZ"), "{msg}");
    }
}
