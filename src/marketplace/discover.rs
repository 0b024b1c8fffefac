//! Finding a marketplace's index, or discovering plugins when there is none.
//!
//! Index order: `.claude-plugin/marketplace.json` (Claude Code) first, then the open plugin
//! spec's order: `marketplace.json`, `.plugin/marketplace.json`, `.<tool>-plugin/marketplace.json`.
//! Without an index, the open spec's fallback: the folder itself is a plugin, else plugins are
//! looked for in subfolders up to two levels deep; the marketplace is named after the folder.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::containment::real_path_inside;
use crate::fsutil::{JSON_FILE_LIMIT, read_regular_text};
use crate::manifest::{DEFAULT_LAYOUT, find_manifest};
use crate::schema::names::is_valid_id_part;

pub const INDEX_PATHS: &[&str] = &[
    ".claude-plugin/marketplace.json",
    "marketplace.json",
    ".plugin/marketplace.json",
    ".qoder-plugin/marketplace.json",
    ".cursor-plugin/marketplace.json",
    ".codex-plugin/marketplace.json",
];

/// The first index file present under `root`.
pub fn find_index(root: &Path) -> Option<PathBuf> {
    INDEX_PATHS
        .iter()
        .map(|p| root.join(p))
        .find(|p| p.is_file())
}

/// The marketplace root for an index file: the folder that holds its metadata folder
/// (`.claude-plugin/`, `.plugin/`, `.<tool>-plugin/`), else the file's own folder.
pub fn root_of_index(file: &Path) -> PathBuf {
    let parent = file.parent().unwrap_or(Path::new("/"));
    let in_metadata_dir = parent
        .file_name()
        .map(|n| n.to_string_lossy())
        .is_some_and(|n| n == ".plugin" || (n.starts_with('.') && n.ends_with("-plugin")));
    match (in_metadata_dir, parent.parent()) {
        (true, Some(grand)) => grand.to_path_buf(),
        _ => parent.to_path_buf(),
    }
}

/// A manifest or one of the [`DEFAULT_LAYOUT`] paths makes `dir` a plugin.
pub fn is_plugin_dir(dir: &Path) -> bool {
    find_manifest(dir).is_some() || DEFAULT_LAYOUT.iter().any(|m| dir.join(m).exists())
}

/// [`is_plugin_dir`] for guessing plugins in a repository without an index: a `bin/` folder
/// alone is not taken as one (many repositories keep scripts there).
fn looks_like_plugin(dir: &Path) -> bool {
    find_manifest(dir).is_some()
        || (DEFAULT_LAYOUT.iter())
            .filter(|m| **m != "bin")
            .any(|m| dir.join(m).exists())
}

/// The name of the plugin in `dir`: its manifest's `name` when the manifest lies inside `root`
/// (a link out of the marketplace is never read), else the folder's name.
fn plugin_name(dir: &Path, root: &Path) -> Option<String> {
    let from_manifest = find_manifest(dir)
        .filter(|p| matches!(real_path_inside(p, root), Ok(Some(_))))
        .and_then(|p| read_regular_text(&p, JSON_FILE_LIMIT).ok())
        .and_then(|t| serde_json::from_str::<Value>(crate::state::json::strip_bom(&t)).ok())
        .and_then(|v| v.get("name").and_then(Value::as_str).map(String::from))
        .filter(|n| is_valid_id_part(n));
    from_manifest.or_else(|| {
        dir.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| is_valid_id_part(n))
    })
}

/// The folders below `dir` that discovery looks into: not hidden, not `node_modules`, and
/// inside `root` (a folder linked out of the marketplace is not looked into).
fn subdirs(dir: &Path, root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            !n.starts_with('.')
                && n != "node_modules"
                && e.path().is_dir()
                && matches!(real_path_inside(&e.path(), root), Ok(Some(_)))
        })
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// A catalog synthesised from the plugins found in `root`, or `None` when there are none.
pub fn synthesize(root: &Path) -> Option<Value> {
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let entry = |dir: &Path| -> Option<Value> {
        let rel = dir.strip_prefix(root).ok()?;
        let source = if rel.as_os_str().is_empty() {
            "./".to_string()
        } else {
            format!("./{}", crate::fsutil::slash_path(rel))
        };
        Some(json!({"name": plugin_name(dir, root)?, "source": source}))
    };
    let mut plugins = Vec::new();
    if looks_like_plugin(root) {
        plugins.extend(entry(root));
    } else {
        for d in subdirs(root, root) {
            if looks_like_plugin(&d) {
                plugins.extend(entry(&d));
                continue;
            }
            plugins.extend(
                subdirs(&d, root)
                    .iter()
                    .filter(|d| looks_like_plugin(d))
                    .filter_map(|d| entry(d)),
            );
        }
    }
    (!plugins.is_empty())
        .then(|| json!({"name": name, "owner": {"name": name}, "plugins": plugins}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_order_and_roots() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        assert_eq!(find_index(r), None);
        fs::create_dir_all(r.join(".plugin")).unwrap();
        fs::write(r.join(".plugin/marketplace.json"), "{}").unwrap();
        assert_eq!(find_index(r).unwrap(), r.join(".plugin/marketplace.json"));
        fs::write(r.join("marketplace.json"), "{}").unwrap();
        assert_eq!(find_index(r).unwrap(), r.join("marketplace.json"));
        fs::create_dir_all(r.join(".claude-plugin")).unwrap();
        fs::write(r.join(".claude-plugin/marketplace.json"), "{}").unwrap();
        assert_eq!(
            find_index(r).unwrap(),
            r.join(".claude-plugin/marketplace.json")
        );
        assert_eq!(root_of_index(&r.join(".claude-plugin/marketplace.json")), r);
        assert_eq!(root_of_index(&r.join("loose/cat.json")), r.join("loose"));
    }

    #[test]
    fn fallback_discovery_two_levels() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path().join("mine");
        fs::create_dir_all(r.join("a/commands")).unwrap();
        fs::create_dir_all(r.join("group/b/.claude-plugin")).unwrap();
        fs::write(
            r.join("group/b/.claude-plugin/plugin.json"),
            r#"{"name":"bee"}"#,
        )
        .unwrap();
        fs::create_dir_all(r.join("x/y/z/commands")).unwrap();
        // A repository's scripts folder does not make it (or a folder) a plugin when guessing.
        fs::create_dir_all(r.join("bin")).unwrap();
        fs::create_dir_all(r.join("tools/bin")).unwrap();
        assert!(is_plugin_dir(&r.join("tools")));
        let v = synthesize(&r).unwrap();
        assert_eq!(
            v["plugins"],
            json!([{"name":"a","source":"./a"},{"name":"bee","source":"./group/b"}])
        );
        assert_eq!(v["name"], "mine");
        fs::write(r.join("SKILL.md"), "x").unwrap();
        assert_eq!(
            synthesize(&r).unwrap()["plugins"],
            json!([{"name":"mine","source":"./"}])
        );
    }
}
