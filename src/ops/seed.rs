//! Seed folders in the operations: which plugin version a seed provides, found without any
//! network access, and the install that copies it from the seed instead of fetching.
//!
//! The version a plugin would get is worked out as far as it can be without fetching:
//! * a relative-path plugin is read from its marketplace (a seed's copy, a local folder, or a
//!   clone), so its version is exact;
//! * any other source: the entry's `version`, else the pinned `sha` (first 12 hex), else it is
//!   unknown, and the seed's only version folder of that plugin is taken (Claude Code's rule).
//!
//! `$SEED/cache/<m>/<p>/<version>/` is then copied like a folder source (the symlink policy
//! with the version folder as the container); the seed's bookkeeping files are not copied.

use std::path::PathBuf;

use super::install::{FoundPlugin, find_plugin, resolve_plugin};
use super::{Context, OpError, PluginRef};
use crate::cache::{Marker, read_marker};
use crate::marketplace::PluginSource;
use crate::source::{Fetched, ResolvedPlugin};
use crate::state::SeedVersion;
use crate::version;

/// A seed version folder an install copies from.
#[derive(Debug, Clone)]
pub struct SeedCopy {
    /// `$SEED/cache/<m>/<p>/<version>/`.
    pub dir: PathBuf,
    /// The seed's completion marker when it was built by `plugin` and names this plugin and
    /// version: its provenance is kept when our copy has the digest it records.
    pub marker: Option<Marker>,
}

/// A plugin a seed provides, as Claude Code would load it without installing it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeededPlugin {
    /// `name@marketplace`.
    pub id: String,
    pub seed: PathBuf,
    /// The version folder inside the seed.
    pub dir: PathBuf,
    pub version: String,
}

/// Is `plugin` (`name` or `name@marketplace`) provided by a seed, and where? Nothing is fetched:
/// `None` when no seed holds the version it would get (or that version cannot be known
/// without fetching and the seed holds several).
pub fn seeded_plugin(ctx: &Context, plugin: &str) -> Result<Option<SeededPlugin>, OpError> {
    if ctx.seeds().is_empty() {
        return Ok(None);
    }
    provided_by_seed(ctx, &find_plugin(ctx, &PluginRef::parse(plugin))?)
}

/// [`seeded_plugin`] for a plugin already found in its marketplace.
pub fn provided_by_seed(
    ctx: &Context,
    found: &FoundPlugin,
) -> Result<Option<SeededPlugin>, OpError> {
    if ctx.seeds().is_empty() {
        return Ok(None);
    }
    let hit = if found.entry.source.is_relative() {
        let resolved = resolve_plugin(ctx, found)?;
        exact(ctx, found, &resolved.version).map(|v| (v, resolved.version))
    } else {
        without_fetching(ctx, found)
    };
    Ok(hit.map(|(v, version)| SeededPlugin {
        id: found.id(),
        seed: v.seed,
        dir: v.dir,
        version,
    }))
}

/// Resolve the found plugin for an install, taking its files from a seed when one holds the
/// version it resolves to. Only a source whose version cannot be known from a seed is fetched.
pub(super) fn resolve_for_install(
    ctx: &Context,
    found: &FoundPlugin,
) -> Result<(ResolvedPlugin, Option<SeedCopy>), OpError> {
    // A `command` source's version is known only by running it, and its record must say
    // which command ran.
    if ctx.seeds().is_empty() || matches!(found.entry.source, PluginSource::Command(_)) {
        return Ok((resolve_plugin(ctx, found)?, None));
    }
    if !found.entry.source.is_relative()
        && let Some((v, version)) = without_fetching(ctx, found)
    {
        let commit = recorded_commit(ctx, found, &v);
        return Ok(from_seed(found, v, version, commit));
    }
    let resolved = resolve_plugin(ctx, found)?;
    Ok(match exact(ctx, found, &resolved.version) {
        Some(v) => {
            let version = resolved.version.clone();
            let commit = resolved.git_commit.clone();
            from_seed(found, v, version, commit)
        }
        None => (resolved, None),
    })
}

fn from_seed(
    found: &FoundPlugin,
    v: SeedVersion,
    version: String,
    git_commit: Option<String>,
) -> (ResolvedPlugin, Option<SeedCopy>) {
    let marker = read_marker(&v.dir).filter(|m| {
        m.marketplace == found.marketplace_name
            && m.plugin == found.entry.name
            && m.version == version
    });
    let resolved = ResolvedPlugin {
        resolved_version: None,
        fetched: Fetched::Folder {
            dir: v.dir.clone(),
            // Links are kept inside the version folder and skipped beyond it.
            container: v.dir.clone(),
            in_place: false,
        },
        version,
        git_commit,
        provenance: None,
    };
    let copy = SeedCopy { dir: v.dir, marker };
    (resolved, Some(copy))
}

/// The seed version of a non-relative source and its version, decided without fetching.
fn without_fetching(ctx: &Context, found: &FoundPlugin) -> Option<(SeedVersion, String)> {
    let seeds = ctx.seeds();
    let (m, p) = (&found.marketplace_name, &found.entry.name);
    match predicted_version(&found.entry.source, found.entry.version.as_deref()) {
        Some(v) => exact(ctx, found, &v).map(|dir| (dir, v)),
        None => {
            let dir = seeds.only_version(m, p)?;
            let folder = dir.folder();
            // The marker of a seed built by `plugin` holds the raw version; else the folder name.
            let version = read_marker(&dir.dir)
                .filter(|mk| &mk.marketplace == m && &mk.plugin == p)
                .map(|mk| mk.version)
                .filter(|v| version::folder_name(v) == folder)
                .unwrap_or(folder);
            Some((dir, version))
        }
    }
}

/// The version folder of exactly `version` in the first seed that holds it.
fn exact(ctx: &Context, found: &FoundPlugin, version: &str) -> Option<SeedVersion> {
    ctx.seeds().version(
        &found.marketplace_name,
        &found.entry.name,
        &version::folder_name(version),
    )
}

/// What a non-relative source's version is without fetching it: the entry's `version`, else a
/// pinned git commit's first 12 hex; `None` when only fetching could tell.
fn predicted_version(source: &PluginSource, entry_version: Option<&str>) -> Option<String> {
    if let Some(v) = entry_version {
        return Some(v.to_string());
    }
    match source {
        PluginSource::Github { sha: Some(sha), .. }
        | PluginSource::GitUrl { sha: Some(sha), .. } => Some(sha.chars().take(12).collect()),
        _ => None,
    }
}

/// The commit a seed copy came from: the pinned `sha`, the seed's marker, or the seed's
/// `installed_plugins.json`.
fn recorded_commit(ctx: &Context, found: &FoundPlugin, v: &SeedVersion) -> Option<String> {
    if let PluginSource::Github { sha: Some(sha), .. }
    | PluginSource::GitUrl { sha: Some(sha), .. } = &found.entry.source
    {
        return Some(sha.clone());
    }
    read_marker(&v.dir)
        .and_then(|m| m.resolved)
        .filter(|r| r.kind == "git")
        .map(|r| r.what)
        .or_else(|| ctx.seeds().recorded_commit(&found.id(), v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_known_without_fetching() {
        let git = |sha: Option<&str>| PluginSource::GitUrl {
            url: "https://h/r.git".into(),
            reference: None,
            sha: sha.map(String::from),
        };
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            predicted_version(&git(None), Some("1.0.0")).as_deref(),
            Some("1.0.0")
        );
        assert_eq!(
            predicted_version(&git(Some(sha)), None).as_deref(),
            Some("0123456789ab")
        );
        assert_eq!(predicted_version(&git(None), None), None);
    }
}
