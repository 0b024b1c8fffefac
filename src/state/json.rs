//! Reading and writing the JSON state files while keeping what we do not own.
//!
//! Documents are held as `serde_json` maps with insertion order preserved, so unknown keys and
//! the existing key order survive a rewrite. A file that is not valid JSON is never overwritten
//! or moved aside: the error names the file, line and column.

use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::transaction::Transaction;
use crate::fsutil::{IoError, JSON_FILE_LIMIT, read_regular_text};

#[derive(Debug, thiserror::Error)]
pub enum JsonFileError {
    #[error(transparent)]
    Io(#[from] IoError),
    #[error(
        "{}:{line}:{column}: invalid JSON: {message}. The file was left unchanged; fix it (or move it away) and try again",
        path.display()
    )]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}:{line}:{column}: {message}. The file was left unchanged; {hint}", path.display())]
    Shape {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        hint: String,
    },
}

impl JsonFileError {
    pub fn path(&self) -> Option<&Path> {
        match self {
            JsonFileError::Io(e) => Some(&e.path),
            JsonFileError::Syntax { path, .. } | JsonFileError::Shape { path, .. } => Some(path),
        }
    }
}

/// A JSON object file as read from disk: the parsed map plus the raw text (for positions).
#[derive(Debug, Clone)]
pub struct JsonDoc {
    pub path: PathBuf,
    pub map: Map<String, Value>,
    raw: String,
    pub existed: bool,
}

impl JsonDoc {
    /// Read `path`; a missing file is an empty document.
    pub fn read(path: &Path) -> Result<Self, JsonFileError> {
        Self::read_reusing(path, None)
    }

    /// [`JsonDoc::read`], taking `previous` (a reading of the same file) instead of parsing the
    /// text again when the text is the same.
    pub fn read_reusing(path: &Path, previous: Option<&JsonDoc>) -> Result<Self, JsonFileError> {
        let raw = match read_regular_text(path, JSON_FILE_LIMIT) {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Self {
                    path: path.to_path_buf(),
                    map: Map::new(),
                    raw: String::new(),
                    existed: false,
                });
            }
            Err(e) => return Err(IoError::new("read", path, e).into()),
        };
        let raw = match raw.strip_prefix(UTF8_BOM) {
            Some(rest) => rest.to_string(),
            None => raw,
        };
        if let Some(previous) = previous
            && previous.existed
            && previous.path == path
            && previous.raw == raw
        {
            return Ok(previous.clone());
        }
        let value: Value = serde_json::from_str(&raw).map_err(|e| JsonFileError::Syntax {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })?;
        let Value::Object(map) = value else {
            return Err(JsonFileError::Shape {
                path: path.to_path_buf(),
                line: 1,
                column: 1,
                message: "expected a JSON object at the top level".into(),
                hint: "fix it (or move it away) and try again".into(),
            });
        };
        Ok(Self {
            path: path.to_path_buf(),
            map,
            raw,
            existed: true,
        })
    }

    /// A document that was never on disk (tests of what consumes parsed settings).
    #[cfg(test)]
    pub fn in_memory(path: &Path, map: Map<String, Value>) -> Self {
        Self {
            path: path.to_path_buf(),
            map,
            raw: String::new(),
            existed: true,
        }
    }

    /// An error about the value of top-level `key`, positioned at the key in the raw text.
    pub fn shape_error(&self, key: &str, message: String, hint: &str) -> JsonFileError {
        let (line, column) = position_of_key(&self.raw, key);
        JsonFileError::Shape {
            path: self.path.clone(),
            line,
            column,
            message,
            hint: hint.to_string(),
        }
    }

    /// Write back atomically as part of `tx`, pretty-printed with two-space indentation.
    pub fn write(&self, trailing_newline: bool, tx: &mut Transaction) -> Result<(), JsonFileError> {
        let mut text = serde_json::to_string_pretty(&self.map).unwrap_or_else(|_| "{}".into());
        if trailing_newline {
            text.push('\n');
        }
        tx.write(&self.path, text.as_bytes())?;
        Ok(())
    }

    /// Write back as part of `tx` for a file only its owner may read (`0600`), compact, as
    /// Claude Code writes its credentials file.
    pub fn write_private(&self, tx: &mut Transaction) -> Result<(), JsonFileError> {
        let text = serde_json::to_string(&self.map).unwrap_or_else(|_| "{}".into());
        tx.write_private(&self.path, text.as_bytes())?;
        Ok(())
    }

    /// The object under `key`, created (at the end) when missing or not an object.
    pub fn object_mut(&mut self, key: &str) -> &mut Map<String, Value> {
        let entry = self
            .map
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        match entry {
            Value::Object(m) => m,
            _ => unreachable!("just made an object"),
        }
    }

    pub fn object(&self, key: &str) -> Option<&Map<String, Value>> {
        self.map.get(key).and_then(Value::as_object)
    }
}

/// The UTF-8 byte-order mark some Windows editors write at the start of a file.
const UTF8_BOM: &str = "\u{feff}";

/// `text` without a leading UTF-8 byte-order mark. Claude Code 2.1.328 reads settings files,
/// catalogs and plugin manifests that start with one (and drops it when it rewrites a file);
/// so do we, for every state file too.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix(UTF8_BOM).unwrap_or(text)
}

/// [`strip_bom`] for bytes.
pub fn strip_bom_bytes(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(UTF8_BOM.as_bytes()).unwrap_or(bytes)
}

/// The message for a JSON syntax error in `text`: a leading byte-order mark is named as the
/// cause (for the component files where Claude Code refuses one, e.g. hooks.json) instead of
/// serde's `expected value`.
pub fn syntax_message(text: &str, e: &serde_json::Error) -> String {
    if text.starts_with(UTF8_BOM) {
        "the file starts with a UTF-8 byte-order mark (BOM), which Claude Code does not accept here; re-save it as UTF-8 without a BOM".into()
    } else {
        strip_position(&e.to_string())
    }
}

/// serde_json appends " at line X column Y"; we print the position ourselves.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Line and column (1-based) of the first `"key"` in `raw`, or 1:1.
fn position_of_key(raw: &str, key: &str) -> (usize, usize) {
    let needle = format!("\"{key}\"");
    let Some(offset) = raw.find(&needle) else {
        return (1, 1);
    };
    let before = &raw[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn syntax_error_names_line_and_column() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.json");
        fs::write(&p, "{\n  \"a\": 1,\n  // c\n}").unwrap();
        let e = JsonDoc::read(&p).unwrap_err().to_string();
        assert!(e.contains("s.json:3:3: invalid JSON"), "{e}");
        assert_eq!(fs::read_to_string(&p).unwrap(), "{\n  \"a\": 1,\n  // c\n}");
    }

    #[test]
    fn keeps_key_order_and_unknown_keys() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.json");
        fs::write(&p, r#"{"zeta":1,"alpha":{"y":1,"x":2},"theme":"dark"}"#).unwrap();
        let mut doc = JsonDoc::read(&p).unwrap();
        doc.object_mut("enabledPlugins")
            .insert("a@b".into(), Value::Bool(true));
        let mut tx = Transaction::new();
        doc.write(true, &mut tx).unwrap();
        tx.commit();
        let text = fs::read_to_string(&p).unwrap();
        let keys: Vec<_> = serde_json::from_str::<Map<String, Value>>(&text)
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["zeta", "alpha", "theme", "enabledPlugins"]);
        assert!(text.contains("\"y\": 1,\n    \"x\": 2"));
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn key_position() {
        assert_eq!(position_of_key("{\n  \"version\": 3\n}", "version"), (2, 3));
    }
}
