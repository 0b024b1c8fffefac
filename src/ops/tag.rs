//! `plugin tag [path]`: the release tag `{name}--v{version}` that dependency ranges resolve
//! against, created as Claude Code 2.1.328's `claude plugin tag` creates it — after checking that
//! the plugin validates, that plugin.json and the enclosing marketplace entry agree on the
//! version, that it is semver, and (unless `force`) that nothing the tag covers is uncommitted
//! and the tag does not exist — but written by gix, with the person's git identity.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::git::tag::TagError as GitTagError;

#[derive(Debug, thiserror::Error)]
pub enum TagError {
    #[error("Path not found: {}", .0.display())]
    PathNotFound(PathBuf),
    #[error("No plugin manifest found. Expected {}.", .0.display())]
    NoManifest(PathBuf),
    #[error("Plugin validation failed for {}:\n{}", .file.display(), .problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        file: PathBuf,
        problems: Vec<String>,
    },
    #[error("plugin.json at {} has no \"name\" field", .0.display())]
    NoName(PathBuf),
    #[error(
        "No version to tag. Set \"version\" in {manifest}{}. Tags are only used for dependency version constraints and for finding an older version that fits this Claude Code, which require an explicit semver — the git-SHA fallback does not need a tag.",
        .entry.as_ref().map(|(file, i)| format!(" or in the marketplace entry at {file} plugins[{i}]")).unwrap_or_default()
    )]
    NoVersion {
        manifest: String,
        entry: Option<(String, usize)>,
    },
    #[error(
        "Version mismatch: plugin.json says \"{manifest}\" but {file} plugins[{index}].version says \"{entry}\". plugin.json wins at install time, so update the marketplace entry to \"{manifest}\" (or remove it) before tagging."
    )]
    Mismatch {
        manifest: String,
        entry: String,
        file: String,
        index: usize,
    },
    #[error(
        "Version \"{0}\" is not valid semver. Dependency resolution (resolveVersionRange) ignores tags whose suffix doesn't parse as semver, so this tag would never be selected."
    )]
    NotSemver(String),
    #[error(
        "Computed tag name \"{0}\" is not a valid git ref. Check the plugin name for characters git rejects (spaces, ~, ^, :, ?, *, [, \\, or sequences like .., @{{, //)."
    )]
    BadRefName(String),
    #[error(
        "{} is not inside a git repository. Dependency tags are resolved via git ls-remote, so the plugin must live in a git repo.",
        .0.display()
    )]
    NotInRepository(PathBuf),
    #[error(
        "Uncommitted changes affecting this release — commit them first so the tag points at the version you intend to release (or use --force):\n{}",
        dirty_list(.0)
    )]
    Dirty(Vec<String>),
    #[error(
        "Tag \"{tag}\" already exists locally. Bump the version in {}, or re-run with --force to move the tag.",
        if *.from_entry { "marketplace entry" } else { "plugin.json" }
    )]
    Exists { tag: String, from_entry: bool },
    #[error("{0}")]
    Git(#[from] GitTagError),
    #[error("Tag created locally but not pushed: \"{0}\" is not a valid remote name.")]
    BadRemote(String),
    #[error("Tag created locally but push failed: {0}")]
    Push(#[from] crate::git::push::PushError),
}

fn dirty_list(paths: &[String]) -> String {
    let mut lines: Vec<String> = paths.iter().take(5).map(|p| format!("  {p}")).collect();
    if paths.len() > 5 {
        lines.push(format!("  …and {} more", paths.len() - 5));
    }
    lines.join("\n")
}

/// What is about to be tagged.
#[derive(Debug, Clone)]
pub struct TagPlan {
    pub name: String,
    pub version: String,
    /// `plugin.json` or `marketplace entry`.
    pub version_from: &'static str,
    /// The enclosing catalog's entry: its index, the catalog file, its `version`.
    pub entry: Option<(usize, PathBuf, Option<String>)>,
    pub tag: String,
    /// The git work tree.
    pub root: PathBuf,
    pub message: String,
}

/// Check everything and say what would be tagged (nothing is written), with validate's
/// warnings (printed whatever the outcome).
pub fn plan(
    path: &Path,
    cwd: &Path,
    force: bool,
    message: Option<&str>,
) -> (Vec<String>, Result<TagPlan, TagError>) {
    let mut warnings = Vec::new();
    let plan = checked(path, cwd, force, message, &mut warnings);
    (warnings, plan)
}

fn checked(
    path: &Path,
    cwd: &Path,
    force: bool,
    message: Option<&str>,
    warnings: &mut Vec<String>,
) -> Result<TagPlan, TagError> {
    let abs = crate::fsutil::normalize_lexically(&cwd.join(path));
    let meta = std::fs::metadata(&abs).map_err(|_| TagError::PathNotFound(abs.clone()))?;
    let (manifest_file, plugin_root) = if meta.is_file() {
        let root = (abs.parent().and_then(Path::parent))
            .unwrap_or(&abs)
            .to_path_buf();
        (abs.clone(), root)
    } else if abs.join(".claude-plugin/plugin.json").is_file() {
        (abs.join(".claude-plugin/plugin.json"), abs.clone())
    } else if abs.join("plugin.json").is_file() {
        let root = abs.parent().unwrap_or(&abs).to_path_buf();
        (abs.join("plugin.json"), root)
    } else {
        return Err(TagError::NoManifest(abs.join(".claude-plugin/plugin.json")));
    };
    let report = super::validate::validate(&plugin_root, false);
    let rel = |p: &Path| crate::fsutil::slash_path(&crate::fsutil::relative_path(cwd, p));
    let mut problems = Vec::new();
    for f in report.manifest.iter().chain(&report.contents) {
        for w in &f.findings.warnings {
            warnings.push(format!("{}: {}", rel(&f.file), w.message));
        }
        for e in &f.findings.errors {
            problems.push(format!("{}: {}", e.path, e.message));
        }
    }
    if !problems.is_empty() {
        return Err(TagError::Invalid {
            file: manifest_file,
            problems,
        });
    }
    let text = crate::fsutil::read_regular_text(&manifest_file, crate::fsutil::JSON_FILE_LIMIT)
        .map_err(|_| TagError::NoManifest(manifest_file.clone()))?;
    let manifest: Value = serde_json::from_str(&text).unwrap_or_default();
    let Some(name) = manifest
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return Err(TagError::NoName(manifest_file));
    };
    let git_root = crate::git::tag::work_tree_of(&plugin_root);
    let entry = enclosing_entry(&plugin_root, git_root.as_deref(), &name);
    let own = (manifest.get("version").and_then(Value::as_str))
        .filter(|v| !v.is_empty())
        .map(str::to_string);
    let entry_version = entry.as_ref().and_then(|(_, _, v)| v.clone());
    let (version, version_from) = match (&own, &entry_version) {
        (Some(m), Some(e)) if m != e => {
            let (index, file, _) = entry
                .as_ref()
                .map_or((0, PathBuf::new(), None), Clone::clone);
            return Err(TagError::Mismatch {
                manifest: m.clone(),
                entry: e.clone(),
                file: rel(&file),
                index,
            });
        }
        (Some(m), _) => (m.clone(), "plugin.json"),
        (None, Some(e)) => (e.clone(), "marketplace entry"),
        (None, None) => {
            return Err(TagError::NoVersion {
                manifest: rel(&manifest_file),
                entry: entry.as_ref().map(|(i, f, _)| (rel(f), *i)),
            });
        }
    };
    if nodejs_semver::Version::parse(&version).is_err() {
        return Err(TagError::NotSemver(version));
    }
    let tag = format!("{name}--v{version}");
    if gix::refs::FullName::try_from(format!("refs/tags/{tag}")).is_err() {
        return Err(TagError::BadRefName(tag));
    }
    let Some(root) = git_root else {
        return Err(TagError::NotInRepository(plugin_root));
    };
    if !force {
        let mut scopes = vec![crate::fsutil::slash_path(&crate::fsutil::relative_path(
            &root,
            &plugin_root,
        ))];
        if let Some((_, file, _)) = &entry {
            scopes.push(crate::fsutil::slash_path(&crate::fsutil::relative_path(
                &root, file,
            )));
        }
        for s in &mut scopes {
            if s == "." {
                s.clear();
            }
        }
        let dirty = crate::git::tag::uncommitted(&root, &scopes)?;
        if !dirty.is_empty() {
            return Err(TagError::Dirty(dirty));
        }
        if crate::git::tag::tag_exists(&root, &tag)? {
            return Err(TagError::Exists {
                tag,
                from_entry: version_from == "marketplace entry",
            });
        }
    }
    let message = match message {
        Some(m) => m.replace("%s", &version),
        None => format!("{name} {version}"),
    };
    Ok(TagPlan {
        name,
        version,
        version_from,
        entry,
        tag,
        root,
        message,
    })
}

/// The catalog entry (index, catalog file, `version`) of the plugin at `plugin_root`: in the
/// nearest `.claude-plugin/marketplace.json` from it up to the git root whose entry's source
/// is this folder, or whose name is this name.
fn enclosing_entry(
    plugin_root: &Path,
    git_root: Option<&Path>,
    name: &str,
) -> Option<(usize, PathBuf, Option<String>)> {
    let stop = git_root.unwrap_or(plugin_root);
    for dir in plugin_root.ancestors().take_while(|d| d.starts_with(stop)) {
        let file = dir.join(".claude-plugin/marketplace.json");
        let Ok(text) = crate::fsutil::read_regular_text(&file, crate::fsutil::JSON_FILE_LIMIT)
        else {
            continue;
        };
        let Ok(doc) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let entries = doc.get("plugins").and_then(Value::as_array)?;
        for (i, e) in entries.iter().enumerate() {
            let by_source = (e.get("source").and_then(Value::as_str))
                .map(|s| crate::fsutil::normalize_lexically(&dir.join(s)))
                .is_some_and(|p| p == plugin_root);
            if by_source || e.get("name").and_then(Value::as_str) == Some(name) {
                let version = e.get("version").and_then(Value::as_str).map(str::to_string);
                return Some((i, file, version));
            }
        }
    }
    None
}

/// Write the tag the plan describes.
pub fn create(plan: &TagPlan, force: bool) -> Result<(), TagError> {
    Ok(crate::git::tag::create_annotated(
        &plan.root,
        &plan.tag,
        &plan.message,
        force,
    )?)
}

/// Push the tag the plan created to `remote` (a remote's name, as `git push` takes it).
pub fn push(
    plan: &TagPlan,
    remote: &str,
    force: bool,
    env: &crate::environment::Environment,
) -> Result<(), TagError> {
    // Claude Code's check of the name, before anything is sent.
    let mut chars = remote.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c));
    if !valid {
        return Err(TagError::BadRemote(remote.to_string()));
    }
    Ok(crate::git::push::push_tag(
        &plan.root, remote, &plan.tag, force, env,
    )?)
}
