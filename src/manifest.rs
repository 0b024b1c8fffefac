//! The plugin manifest (`plugin.json`) and where it is looked for.
//!
//! Order: `.claude-plugin/plugin.json` (Claude Code), `.plugin/plugin.json` (open plugin spec),
//! then `.<tool>-plugin/plugin.json` of other tools (Qoder, Cursor, Codex first, then any other
//! `.<tool>-plugin` folder in name order). A plugin without a manifest is valid.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::containment::{LinkEscape, real_path_inside};
use crate::schema::plugin_manifest::Document;

/// Manifest folders in the order they are looked for (other `.<tool>-plugin` folders follow).
/// Claude Code's default layout: the files and folders it loads from a plugin without a
/// manifest naming them (docs §5.1). One of them makes a folder a plugin without a manifest
/// (`validate`, `link`, discovery without an index); `definition` loads the same paths.
pub const DEFAULT_LAYOUT: &[&str] = &[
    "commands",
    "agents",
    "skills",
    "output-styles",
    "hooks/hooks.json",
    ".mcp.json",
    ".lsp.json",
    "monitors/monitors.json",
    "bin",
    "SKILL.md",
];

pub const MANIFEST_DIRS: &[&str] = &[
    ".claude-plugin",
    ".plugin",
    ".qoder-plugin",
    ".cursor-plugin",
    ".codex-plugin",
];

#[derive(Debug, Clone, thiserror::Error)]
pub enum ManifestError {
    #[error("Plugin {plugin} has a corrupt manifest file at {}.\n\nJSON parse error: {message}", path.display())]
    Corrupt {
        plugin: String,
        path: PathBuf,
        message: String,
    },
    #[error("Plugin {plugin} has an invalid manifest file at {}.\n\nValidation errors: {}", path.display(), errors.join(", "))]
    Invalid {
        plugin: String,
        path: PathBuf,
        errors: Vec<String>,
    },
    #[error("cannot read {}: {message}", path.display())]
    Unreadable { path: PathBuf, message: String },
    #[error("Plugin {plugin} has a manifest file {} that leads outside {}: {}; refusing to read it (a manifest must lie inside the marketplace it comes from)", escape.path.display(), escape.root.display(), escape.link_text())]
    LinksOutside {
        plugin: String,
        escape: Box<LinkEscape>,
    },
}

/// A parsed `plugin.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginManifest {
    pub path: PathBuf,
    pub name: String,
    /// `None` when absent or empty.
    pub version: Option<String>,
    pub raw: Map<String, Value>,
}

/// The manifest file of the plugin in `dir`, if any.
pub fn find_manifest(dir: &Path) -> Option<PathBuf> {
    for d in MANIFEST_DIRS {
        let p = dir.join(d).join("plugin.json");
        if p.is_file() {
            return Some(p);
        }
    }
    let mut others: Vec<PathBuf> = fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.starts_with('.') && n.ends_with("-plugin") && !MANIFEST_DIRS.contains(&n.as_ref())
        })
        .map(|e| e.path().join("plugin.json"))
        .filter(|p| p.is_file())
        .collect();
    others.sort();
    others.into_iter().next()
}

/// Read and check the manifest in `dir`. The file must lie, after symlinks, inside `within`
/// (the marketplace the plugin comes from, or the plugin folder itself), so a linked
/// `.claude-plugin/` cannot take the plugin's version from a file elsewhere. `plugin` names the
/// plugin in messages.
pub fn read_manifest(
    dir: &Path,
    within: &Path,
    plugin: &str,
) -> Result<Option<PluginManifest>, ManifestError> {
    let Some(path) = find_manifest(dir) else {
        return Ok(None);
    };
    if !crate::containment::plainly_inside(&path, within) {
        real_path_inside(&path, within).map_err(|escape| ManifestError::LinksOutside {
            plugin: plugin.to_string(),
            escape: Box::new(escape),
        })?;
    }
    read_manifest_file(path, plugin).map(Some)
}

/// Read and check the manifest file `path`.
pub fn read_manifest_file(path: PathBuf, plugin: &str) -> Result<PluginManifest, ManifestError> {
    let text =
        crate::fsutil::read_regular_text(&path, crate::fsutil::JSON_FILE_LIMIT).map_err(|e| {
            ManifestError::Unreadable {
                path: path.clone(),
                message: e.to_string(),
            }
        })?;
    parse_manifest(&text, path, plugin)
}

pub fn parse_manifest(
    text: &str,
    path: PathBuf,
    plugin: &str,
) -> Result<PluginManifest, ManifestError> {
    let value: Value = serde_json::from_str(crate::state::json::strip_bom(text)).map_err(|e| {
        ManifestError::Corrupt {
            plugin: plugin.to_string(),
            path: path.clone(),
            message: e.to_string(),
        }
    })?;
    // Claude Code's own check (schema, hooks, display fields): what it refuses, we refuse.
    let check = crate::schema::plugin_manifest::check(&value, Document::PluginJson);
    let (Value::Object(raw), false) = (value, check.refused()) else {
        return Err(ManifestError::Invalid {
            plugin: plugin.to_string(),
            path,
            errors: check.all().map(|f| f.joined()).collect(),
        });
    };
    let name = raw
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let version = raw
        .get("version")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    Ok(PluginManifest {
        path,
        name,
        version,
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, sub: &str, text: &str) {
        fs::create_dir_all(dir.join(sub)).unwrap();
        fs::write(dir.join(sub).join("plugin.json"), text).unwrap();
    }

    #[test]
    fn claude_manifest_wins_then_open_spec_then_tools() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), ".zed-plugin", r#"{"name":"z"}"#);
        assert_eq!(
            read_manifest(d.path(), d.path(), "p")
                .unwrap()
                .unwrap()
                .name,
            "z"
        );
        write(d.path(), ".cursor-plugin", r#"{"name":"c"}"#);
        assert_eq!(
            read_manifest(d.path(), d.path(), "p")
                .unwrap()
                .unwrap()
                .name,
            "c"
        );
        write(d.path(), ".plugin", r#"{"name":"o"}"#);
        assert_eq!(
            read_manifest(d.path(), d.path(), "p")
                .unwrap()
                .unwrap()
                .name,
            "o"
        );
        write(d.path(), ".claude-plugin", r#"{"name":"cc","version":""}"#);
        let m = read_manifest(d.path(), d.path(), "p").unwrap().unwrap();
        assert_eq!((m.name.as_str(), m.version), ("cc", None));
    }

    #[test]
    fn messages_match_claude_code() {
        let p = PathBuf::from("/x/.claude-plugin/plugin.json");
        let e = parse_manifest(r#"{"name":"n","version":3}"#, p.clone(), "numver").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Plugin numver has an invalid manifest file at /x/.claude-plugin/plugin.json.\n\nValidation errors: version: Invalid input: expected string, received number"
        );
        let e = parse_manifest(r#"{"name":"badjson",}"#, p, "b").unwrap_err();
        assert!(e.to_string().starts_with("Plugin b has a corrupt manifest file at /x/.claude-plugin/plugin.json.\n\nJSON parse error: "));
    }
}
