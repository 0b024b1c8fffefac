//! `link` / `unlink`: a development checkout stands in for a plugin's version folder.
//!
//! `link` makes `cache/<m>/<p>/<version>` a symbolic link to the checkout (created under a
//! temporary name, then renamed into place), records it in `installed_plugins.json` and enables
//! it, so a host sees edits at its next reload. Claude Code tolerates such links: it never marks
//! them orphaned, never removes them, and writes nothing inside them. What the link replaced (an
//! install record, and a same-version folder moved aside) is kept in `.plugin-links.json` for
//! `unlink`, which puts it back (or uninstalls when nothing was installed before). That entry is
//! written first, as a journal: a step failing after it is undone (files put back as they were,
//! the entry dropped), and a crash leaves the entry for `unlink` to finish from.
//!
//! Without `--as`, the plugin is recorded as `<name>@dev`: `dev` is a folder marketplace we
//! write at `<plugins-root>/marketplaces/dev/`, one entry per linked plugin with the source
//! `{"source": "link", "path": "<checkout>"}`, registered in `known_marketplaces.json` and
//! declared in user settings like any added marketplace. Claude Code needs the marketplace to
//! exist and to list the plugin (else "Marketplace dev not found" / "Plugin p not found in
//! marketplace dev"); it loads the plugin from the recorded `installPath`, and refuses to
//! fetch a `link` source (its `update` fails, touching nothing). A relative entry pointing at a
//! link inside the marketplace folder would not do: Claude Code refuses paths that leave it.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::install::InstallError;
use super::marketplace::MarketplaceCommandError;
use super::{Context, LookupError, OpError, PluginRef};
use crate::fsutil::{IoContext, crash_point, iso_timestamp, remove_stale_temps, temp_path};
use crate::locations::{DEV_MARKETPLACE, Scope};
use crate::manifest::{DEFAULT_LAYOUT, read_manifest};
use crate::marketplace::MarketplaceSource;
use crate::marketplace::discover::is_plugin_dir;
use crate::schema::names::plugin_name_problem;
use crate::state::{
    InstallRecord, InstalledPlugins, LinkEntry, Links, NewInstall, SettingsFile, Transaction,
};
use crate::version;

/// What only `link` and `unlink` refuse.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("Cannot link {}: {why}", .path.display())]
    NotAPluginFolder { path: PathBuf, why: String },
    #[error("Cannot link plugin \"{name}\": {problem}. Name it with --as <name>[@<marketplace>].")]
    Name { name: String, problem: String },
    #[error(
        "Plugin \"{id}\" is already installed at {scope} scope (version {version}, {}); add --force to link over it (`plugin unlink {id}` restores it)",
        .path.display()
    )]
    OverInstalled {
        id: String,
        scope: Scope,
        version: String,
        path: PathBuf,
    },
    #[error(
        "Plugin \"{id}\" version {version} ({}) is also installed at {others}, which would run the checkout too; add --force to link over it anyway (`{unlink}` restores it)",
        .path.display()
    )]
    OverShared {
        id: String,
        version: String,
        path: PathBuf,
        /// "user scope", "project scope (/p)", …
        others: String,
        /// The `plugin unlink …` command for this link.
        unlink: String,
    },
    #[error(
        "A marketplace named \"dev\" is already configured from {}; link under another marketplace with --as <name>@<marketplace>",
        .location.display()
    )]
    DevMarketplaceTaken { location: PathBuf },
    #[error("Plugin \"{typed}\" is not linked at {scope} scope (see `plugin list`)")]
    NotLinked { typed: String, scope: Scope },
}

impl LinkError {
    pub fn failure_code(&self) -> &'static str {
        match self {
            LinkError::NotAPluginFolder { .. } | LinkError::Name { .. } => "error_validation",
            LinkError::OverInstalled { .. } | LinkError::OverShared { .. } => "already_installed",
            LinkError::DevMarketplaceTaken { .. } => "marketplace_name_mismatch",
            LinkError::NotLinked { .. } => "not_linked",
        }
    }
}

pub struct LinkRequest {
    /// The checkout, as typed.
    pub path: String,
    /// `--as name@marketplace` (or `name`, for the `dev` marketplace).
    pub as_id: Option<String>,
    pub scope: Scope,
    pub force: bool,
}

#[derive(Debug, Clone)]
pub struct LinkReport {
    pub id: String,
    pub scope: Scope,
    pub checkout: PathBuf,
    pub link_path: PathBuf,
    pub version: String,
    /// The version of the installation the link replaced (restored by `unlink`).
    pub replaced: Option<String>,
}

#[derive(Debug, Clone)]
pub struct UnlinkReport {
    pub id: String,
    pub scope: Scope,
    pub checkout: PathBuf,
    pub outcome: UnlinkOutcome,
}

#[derive(Debug, Clone, PartialEq)]
pub enum UnlinkOutcome {
    /// The installation the link replaced is back.
    Restored { version: String },
    /// Nothing was installed before: the plugin is uninstalled (its data folder is kept).
    Uninstalled,
    /// The replaced installation's folder is gone (removed by hand or by a cache cleanup).
    PreviousGone { version: String, path: PathBuf },
}

/// What `link` links: the checkout (a plugin folder), the id it is recorded under, and its
/// version; refused before anything is touched when the policy or the marketplace forbids it.
struct LinkTarget {
    checkout: PathBuf,
    name: String,
    marketplace: String,
    version: String,
}

fn link_target(ctx: &Context, req: &LinkRequest) -> Result<LinkTarget, OpError> {
    let typed = ctx.loc.user_path(&req.path);
    if !typed.is_dir() {
        return Err(LinkError::NotAPluginFolder {
            path: typed,
            why: "it is not a folder".into(),
        }
        .into());
    }
    let checkout = crate::fsutil::canonicalize(&typed).at("resolve", &typed)?;
    if !is_plugin_dir(&checkout) {
        return Err(LinkError::NotAPluginFolder {
            path: checkout,
            why: format!(
                "it has no .claude-plugin/plugin.json and none of {}; create one with `plugin init <name>`",
                DEFAULT_LAYOUT.join(", ")
            ),
        }.into());
    }
    let folder_name = (checkout.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let manifest = read_manifest(&checkout, &checkout, &folder_name)?;
    let (name, mkt) = match &req.as_id {
        Some(raw) => {
            let r = PluginRef::parse_checked(raw)?;
            let m = r.marketplace.unwrap_or_else(|| DEV_MARKETPLACE.to_string());
            (r.name, m)
        }
        None => (
            (manifest.as_ref())
                .map(|m| m.name.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or(folder_name),
            DEV_MARKETPLACE.to_string(),
        ),
    };
    if let Some(problem) = plugin_name_problem(&name) {
        return Err(LinkError::Name { name, problem }.into());
    }
    let id = format!("{name}@{mkt}");
    if super::enable::managed_value(ctx.managed()?, &id) == Some(false) {
        return Err(InstallError::PolicyBlocked { name }.into());
    }
    if mkt == DEV_MARKETPLACE {
        let dev_dir = ctx.loc.dev_marketplace_dir();
        let source = MarketplaceSource::Directory(dev_dir.clone());
        ctx.policy()?
            .check_source(&source)
            .map_err(MarketplaceCommandError::SourceBlocked)?;
        if let Some(k) = ctx.known()?.get(DEV_MARKETPLACE)
            && k.install_location != dev_dir
        {
            return Err(LinkError::DevMarketplaceTaken {
                location: k.install_location,
            }
            .into());
        }
    } else {
        let configured = ctx.configured_marketplaces()?;
        if !configured.iter().any(|c| c.name == mkt) {
            return Err(LookupError::UnknownMarketplace {
                name: mkt,
                known: configured.iter().map(|c| c.name.clone()).collect(),
            }
            .into());
        }
    }
    let version = (manifest.as_ref())
        .and_then(|m| m.version.clone())
        .unwrap_or_else(|| version::UNKNOWN.to_string());
    Ok(LinkTarget {
        checkout,
        name,
        marketplace: mkt,
        version,
    })
}

/// Where `link` puts the checkout, worked out before the state lock is taken.
struct LinkPlan {
    id: String,
    name: String,
    marketplace: String,
    checkout: PathBuf,
    version: String,
    scope: Scope,
    project: Option<PathBuf>,
    dev_dir: PathBuf,
    /// `cache/<m>/<p>`.
    plugin_dir: PathBuf,
    /// The version folder's name, and `cache/<m>/<p>/<folder>`: where the link goes.
    folder: String,
    link_path: PathBuf,
}

fn plan_link(ctx: &Context, req: &LinkRequest) -> Result<LinkPlan, OpError> {
    let LinkTarget {
        checkout,
        name,
        marketplace,
        version,
    } = link_target(ctx, req)?;
    let folder = version::folder_name(&version);
    let cache = ctx.cache();
    cache.check_names(&marketplace, &name, &folder)?;
    let plugin_dir = cache.plugin_dir(&marketplace, &name);
    Ok(LinkPlan {
        id: format!("{name}@{marketplace}"),
        link_path: plugin_dir.join(&folder),
        dev_dir: ctx.loc.dev_marketplace_dir(),
        scope: req.scope,
        project: ctx.project_for(req.scope),
        name,
        marketplace,
        checkout,
        version,
        plugin_dir,
        folder,
    })
}

/// What the link takes the place of, kept in its journal entry for `unlink`.
struct Replaced {
    /// The install record and `enabledPlugins[id]` from before the first link.
    previous: Option<InstallRecord>,
    previous_enabled: Option<bool>,
    /// Where the same-version installed folder is (or is about to be) moved aside.
    aside: Option<PathBuf>,
    /// Whether this link moves that folder aside (else `aside` is an earlier link's).
    moves_aside: bool,
}

/// A link over a link keeps what the first one replaced. An earlier link at another version
/// folder is taken down first: what it moved aside goes back where it was.
fn replaced_by_link(
    plan: &LinkPlan,
    earlier: Option<LinkEntry>,
    installed: &InstalledPlugins,
    settings: &SettingsFile,
) -> Replaced {
    let (previous, previous_enabled, mut aside) = match earlier {
        Some(e) => {
            let same_folder = e.link_path == plan.link_path;
            (
                e.previous,
                e.previous_enabled,
                e.aside.filter(|_| same_folder),
            )
        }
        None => (
            installed.find(&plan.id, plan.scope, plan.project.as_deref()),
            settings.enabled(&plan.id),
            None,
        ),
    };
    // An installed copy of the same version is kept beside the link for `unlink`.
    let moves_aside = plan.link_path.is_dir() && !plan.link_path.is_symlink();
    if moves_aside {
        aside = Some(
            plan.plugin_dir
                .join(format!(".{}.plugin-unlinked", plan.folder)),
        );
    }
    Replaced {
        previous,
        previous_enabled,
        aside,
        moves_aside,
    }
}

pub fn link(ctx: &Context, req: &LinkRequest) -> Result<LinkReport, OpError> {
    ctx.policy()?;
    let plan = plan_link(ctx, req)?;
    let (id, scope, link_path) = (&plan.id, plan.scope, &plan.link_path);
    let project = plan.project.as_deref();

    let _lock = ctx.lock_state()?;
    let mut installed = ctx.installed()?;
    let mut settings = ctx.settings(scope).map_err(OpError::settings_write)?;
    let mut links = Links::read(&ctx.loc.links_file())?;
    let earlier = links.find(id, scope, project).cloned();
    if !req.force {
        refuse_to_replace(
            &installed,
            earlier.as_ref(),
            id,
            scope,
            project,
            link_path,
            &plan.version,
        )?;
    }
    let stale = (earlier.as_ref())
        .filter(|e| &e.link_path != link_path)
        .cloned();
    let replaced = replaced_by_link(&plan, earlier, &installed, &settings);
    let old_target = fs::read_link(link_path).ok();

    // The journal's write, and the steps' writes of the other files: each put back when a step
    // fails (the journal only once everything else is back).
    let (mut journal, mut tx) = (Transaction::new(), Transaction::new());
    let new_dirs: Vec<PathBuf> = [&plan.plugin_dir, &plan.dev_dir]
        .into_iter()
        .flat_map(|d| missing_dirs(d, &ctx.loc.plugins_root))
        .collect();
    remove_stale_temps(&plan.plugin_dir, TEMP_LINK_PREFIX);

    let mut done = Done::default();
    // The earlier link's journal entry stays until the new one replaces it: a crash in between
    // leaves `unlink` (or `link` again) to finish the same steps, which skip what is done.
    if let Some(e) = &stale
        && let Err(err) = done.take_down(e)
    {
        done.undo(link_path, None, None);
        return Err(err);
    }

    // The journal first: from here on, a crash or a failure leaves `unlink` able to put back
    // what the link replaces (the folder moved aside above all).
    links.upsert(journal_entry(&plan, &replaced));
    if let Err(e) = links.write(&mut journal) {
        done.undo(link_path, None, None);
        return Err(e.into());
    }
    crash_point();

    let result = put_link_in_place(&plan, &replaced, &mut done)
        .and_then(|()| record_link(ctx, &plan, &mut installed, &mut settings, &mut tx));
    if let Err(e) = result {
        // Every step is undone, whatever happened to the others.
        let files = tx.roll_back();
        let steps_undone =
            undo_link_steps(&plan, &done, old_target.as_deref(), &replaced, &new_dirs);
        // Forget the journal only once everything is back; else `unlink` finishes the job.
        if files.is_ok() && steps_undone {
            let _ = journal.roll_back();
        } else {
            journal.commit();
        }
        return Err(super::after_rollback(e, files));
    }
    tx.commit();
    journal.commit();
    Ok(LinkReport {
        id: plan.id,
        scope,
        checkout: plan.checkout,
        link_path: plan.link_path,
        version: plan.version,
        replaced: replaced.previous.map(|p| p.version),
    })
}

/// The `.plugin-links.json` entry recording the link and what it replaced.
fn journal_entry(plan: &LinkPlan, replaced: &Replaced) -> LinkEntry {
    LinkEntry {
        id: plan.id.clone(),
        scope: plan.scope.as_str().to_string(),
        project_path: (plan.project.as_ref()).map(|p| p.to_string_lossy().into_owned()),
        checkout: plan.checkout.clone(),
        link_path: plan.link_path.clone(),
        aside: replaced.aside.clone(),
        previous: replaced.previous.clone(),
        previous_enabled: replaced.previous_enabled,
    }
}

/// The cache steps: move the installed folder aside, then put the link in its place (created
/// under a temporary name, renamed over).
fn put_link_in_place(plan: &LinkPlan, replaced: &Replaced, done: &mut Done) -> Result<(), OpError> {
    let (plugin_dir, link_path) = (&plan.plugin_dir, &plan.link_path);
    fs::create_dir_all(plugin_dir).at("create directory", plugin_dir)?;
    if let (true, Some(a)) = (replaced.moves_aside, &replaced.aside) {
        if a.exists() {
            crate::fsutil::remove_tree(a)?;
        }
        crate::fsutil::rename(link_path, a).at("move aside", link_path)?;
        done.moved_aside = true;
        crash_point();
    }
    let tmp = temp_path(plugin_dir, TEMP_LINK_PREFIX);
    crate::platform::folder_link(&plan.checkout, &tmp).at("create link", &tmp)?;
    crash_point();
    if let Err(e) = crate::fsutil::rename(&tmp, link_path) {
        let _ = fs::remove_file(&tmp);
        return Err(crate::fsutil::IoError::new("link", link_path, e).into());
    }
    done.linked = true;
    crash_point();
    Ok(())
}

/// The state steps: the `dev` marketplace entry, the install record, and the plugin enabled.
fn record_link(
    ctx: &Context,
    plan: &LinkPlan,
    installed: &mut InstalledPlugins,
    settings: &mut SettingsFile,
    tx: &mut Transaction,
) -> Result<(), OpError> {
    if plan.marketplace == DEV_MARKETPLACE {
        let add = Some((plan.checkout.as_path(), plan.version.as_str()));
        register_dev(ctx, tx, &plan.dev_dir, &plan.name, add)?;
        // It may have declared the marketplace in user settings.
        *settings = ctx.settings(plan.scope).map_err(OpError::settings_write)?;
    }
    installed.upsert(
        &plan.id,
        &NewInstall {
            scope: plan.scope,
            project_path: plan.project.clone(),
            install_path: plan.link_path.clone(),
            version: plan.version.clone(),
            git_commit_sha: None,
            produced_by: None,
            resolved_version: None,
            auto: None,
            timestamp: iso_timestamp(),
        },
    );
    installed.write(tx)?;
    crash_point();
    settings.set_enabled(&plan.id, true);
    settings.write(tx).map_err(OpError::settings_write)?;
    crash_point();
    Ok(())
}

/// Undo the cache steps and remove the folders the link created; whether all of it worked.
fn undo_link_steps(
    plan: &LinkPlan,
    done: &Done,
    old_target: Option<&Path>,
    replaced: &Replaced,
    new_dirs: &[PathBuf],
) -> bool {
    let mut undone = done.undo(&plan.link_path, old_target, replaced.aside.as_deref());
    if new_dirs.contains(&plan.dev_dir) {
        undone &= crate::fsutil::remove_tree(&plan.dev_dir).is_ok();
    }
    for d in new_dirs {
        let _ = fs::remove_dir(d);
    }
    undone
}

/// Without `--force`, a link does not take the place of an installation that is not an earlier
/// link's, nor of a version folder that other installations (another scope or project) use.
fn refuse_to_replace(
    installed: &InstalledPlugins,
    earlier: Option<&LinkEntry>,
    id: &str,
    scope: Scope,
    project: Option<&Path>,
    link_path: &Path,
    version: &str,
) -> Result<(), LinkError> {
    // Linking again (a new version, another checkout) needs no --force while the record is
    // still the earlier link's (not since replaced by an install).
    if let Some(rec) = installed.find(id, scope, project)
        && earlier.is_none_or(|e| Path::new(&rec.install_path) != e.link_path)
    {
        return Err(LinkError::OverInstalled {
            id: id.to_string(),
            scope,
            version: rec.version.clone(),
            path: PathBuf::from(&rec.install_path),
        });
    }
    // The folder the link takes the place of may serve other installations too (another scope,
    // another project): they would all run the checkout.
    let others: Vec<String> = (installed.all().into_iter())
        .filter(|(i, r)| {
            Path::new(&r.install_path) == link_path && !(*i == id && r.matches(scope, project))
        })
        .map(|(_, r)| match &r.project_path {
            Some(p) if r.scope().is_some_and(Scope::is_project_bound) => {
                format!("{} scope ({p})", r.scope)
            }
            _ => format!("{} scope", r.scope),
        })
        .collect();
    if !others.is_empty() {
        return Err(LinkError::OverShared {
            unlink: unlink_command(id, scope),
            id: id.to_string(),
            version: version.to_string(),
            path: link_path.to_path_buf(),
            others: others.join(", "),
        });
    }
    Ok(())
}

pub fn unlink(ctx: &Context, raw: &str, scope: Scope) -> Result<UnlinkReport, OpError> {
    let r = PluginRef::parse_checked(raw)?;
    let project = ctx.project_for(scope);
    let _lock = ctx.lock_state()?;
    let mut links = Links::read(&ctx.loc.links_file())?;
    let mut ids: Vec<String> = (links.entries.iter())
        .filter(|e| r.matches(&e.id))
        .map(|e| e.id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    let id = match ids.len() {
        0 => {
            return Err(LinkError::NotLinked {
                typed: raw.to_string(),
                scope,
            }
            .into());
        }
        1 => ids.remove(0),
        _ => {
            return Err(LookupError::Ambiguous {
                name: r.name,
                candidates: ids,
            }
            .into());
        }
    };
    let Some(entry) = links.find(&id, scope, project.as_deref()).cloned() else {
        return Err(LinkError::NotLinked {
            typed: raw.to_string(),
            scope,
        }
        .into());
    };
    let installed = ctx.installed()?;
    let settings = ctx.settings(scope).map_err(OpError::settings_write)?;

    if let Some(dir) = entry.link_path.parent() {
        remove_stale_temps(dir, TEMP_LINK_PREFIX);
    }
    // Every step below is undone when one fails (the link and the folder it moved aside too).
    let mut done = Done::default();
    let result = done
        .take_down(&entry)
        .and_then(|()| unlink_records(ctx, &entry, scope, &mut links, installed, settings));
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(e) => {
            done.undo(&entry.link_path, None, None);
            return Err(e);
        }
    };
    // Empty plugin and marketplace folders of the cache go (Claude Code's own rule).
    if let Some(plugin_dir) = entry.link_path.parent() {
        let _ = fs::remove_dir(plugin_dir);
        if let Some(m) = plugin_dir.parent() {
            let _ = fs::remove_dir(m);
        }
    }
    Ok(UnlinkReport {
        id: entry.id,
        scope,
        checkout: entry.checkout,
        outcome,
    })
}

/// The state files' part of `unlink` (after the link is taken down), in one transaction.
fn unlink_records(
    ctx: &Context,
    entry: &LinkEntry,
    scope: Scope,
    links: &mut Links,
    mut installed: InstalledPlugins,
    mut settings: SettingsFile,
) -> Result<UnlinkOutcome, OpError> {
    let id = entry.id.clone();
    let project = ctx.project_for(scope);
    let outcome = match &entry.previous {
        Some(prev) if Path::new(&prev.install_path).is_dir() => {
            restore(&mut installed, &id, scope, project.clone(), prev);
            set_enabled(&mut settings, &id, entry.previous_enabled);
            UnlinkOutcome::Restored {
                version: prev.version.clone(),
            }
        }
        other => {
            installed.remove(&id, scope, project.as_deref());
            settings.remove_enabled(&id);
            match other {
                Some(prev) => UnlinkOutcome::PreviousGone {
                    version: prev.version.clone(),
                    path: PathBuf::from(&prev.install_path),
                },
                None => UnlinkOutcome::Uninstalled,
            }
        }
    };
    super::in_transaction(|tx| {
        if let UnlinkOutcome::Restored { .. } = outcome
            && let Some(prev) = &entry.previous
        {
            // Claude Code may have marked it while no record used it.
            crate::cache::clear_orphan_mark(Path::new(&prev.install_path), tx)?;
        }
        settings.write(tx).map_err(OpError::settings_write)?;
        crash_point();
        installed.write(tx)?;
        crash_point();
        // The journal entry goes last: until then, `unlink` again redoes every step (each one
        // is idempotent), whatever step a crash stopped at.
        let name = PluginRef::parse(&id).name;
        let linked_elsewhere = (links.entries.iter())
            .any(|e| e.id == id && !e.matches(&id, scope, project.as_deref()));
        if id.ends_with(&format!("@{DEV_MARKETPLACE}")) && !linked_elsewhere {
            register_dev(ctx, tx, &ctx.loc.dev_marketplace_dir(), &name, None)?;
        }
        links.remove(&id, scope, project.as_deref());
        links.write(tx)?;
        Ok(())
    })?;
    Ok(outcome)
}

/// The cache steps of `link` that took place.
#[derive(Default)]
struct Done {
    /// An earlier link of the installation (at another version folder) was removed: its path
    /// and target.
    unlinked: Option<(PathBuf, PathBuf)>,
    /// The folder that earlier link had moved aside was put back: its aside name and place.
    put_back: Option<(PathBuf, PathBuf)>,
    moved_aside: bool,
    linked: bool,
}

impl Done {
    /// Remove the link of `e` and put back the folder it moved aside; a step already done (by an
    /// interrupted run) is skipped.
    fn take_down(&mut self, e: &LinkEntry) -> Result<(), OpError> {
        if let Ok(target) = fs::read_link(&e.link_path) {
            fs::remove_file(&e.link_path).at("remove link", &e.link_path)?;
            self.unlinked = Some((e.link_path.clone(), target));
            crash_point();
        }
        if let Some(a) = &e.aside
            && a.is_dir()
            && fs::symlink_metadata(&e.link_path).is_err()
        {
            crate::fsutil::rename(a, &e.link_path).at("restore", a)?;
            self.put_back = Some((a.clone(), e.link_path.clone()));
            crash_point();
        }
        Ok(())
    }

    /// Undo them, latest first; whether all of it worked.
    fn undo(&self, link_path: &Path, old_target: Option<&Path>, aside: Option<&Path>) -> bool {
        let ok = self.undo_link(link_path, old_target, aside);
        let mut earlier = true;
        if let Some((aside, place)) = &self.put_back {
            earlier &= crate::fsutil::rename(place, aside).is_ok();
        }
        if let Some((path, target)) = &self.unlinked {
            earlier &= crate::platform::folder_link(target, path).is_ok();
        }
        ok && earlier
    }

    fn undo_link(&self, link_path: &Path, old_target: Option<&Path>, aside: Option<&Path>) -> bool {
        let mut ok = true;
        if self.linked {
            ok &= match old_target {
                // A link over a link: the earlier link comes back.
                Some(target) => link_path.parent().is_some_and(|dir| {
                    let tmp = temp_path(dir, TEMP_LINK_PREFIX);
                    crate::platform::folder_link(target, &tmp).is_ok()
                        && crate::fsutil::rename(&tmp, link_path).is_ok()
                }),
                None => fs::remove_file(link_path).is_ok(),
            };
        }
        if let (true, Some(a)) = (self.moved_aside, aside) {
            ok &= crate::fsutil::rename(a, link_path).is_ok();
        }
        ok
    }
}

/// Name prefix of a link being created (renamed into place right after).
const TEMP_LINK_PREFIX: &str = ".plugin-link-";

/// `dir` and those of its ancestors below `root` that do not exist, deepest first.
fn missing_dirs(dir: &Path, root: &Path) -> Vec<PathBuf> {
    dir.ancestors()
        .take_while(|d| d.starts_with(root) && *d != root && !d.exists())
        .map(Path::to_path_buf)
        .collect()
}

/// The command that undoes a link of `id` at `scope`.
pub(super) fn unlink_command(id: &str, scope: Scope) -> String {
    match scope {
        Scope::User => format!("plugin unlink {id}"),
        _ => format!("plugin unlink {id} --scope {scope}"),
    }
}

fn restore(
    installed: &mut InstalledPlugins,
    id: &str,
    scope: Scope,
    project: Option<PathBuf>,
    prev: &crate::state::InstallRecord,
) {
    installed.upsert(
        id,
        &NewInstall {
            scope,
            project_path: project,
            install_path: PathBuf::from(&prev.install_path),
            version: prev.version.clone(),
            git_commit_sha: prev.git_commit_sha.clone(),
            produced_by: None,
            resolved_version: None,
            auto: None,
            timestamp: iso_timestamp(),
        },
    );
}

fn set_enabled(settings: &mut SettingsFile, id: &str, value: Option<bool>) {
    match value {
        Some(v) => settings.set_enabled(id, v),
        None => {
            settings.remove_enabled(id);
        }
    }
}

/// Add (`Some((checkout, version))`) or remove (`None`) plugin `name` in the `dev`
/// marketplace's catalog; register the marketplace while it lists plugins, forget it (and its
/// folder) once it lists none. The caller holds the state lock.
fn register_dev(
    ctx: &Context,
    tx: &mut Transaction,
    dir: &Path,
    name: &str,
    add: Option<(&Path, &str)>,
) -> Result<(), OpError> {
    let catalog_path = dir.join(".claude-plugin").join("marketplace.json");
    let mut catalog: Value = crate::fsutil::read_regular_text(&catalog_path, crate::fsutil::JSON_FILE_LIMIT)
        .ok()
        .and_then(|t| serde_json::from_str(crate::state::json::strip_bom(&t)).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| {
            json!({
                "name": DEV_MARKETPLACE,
                "owner": {"name": "plugin link"},
                "description": "Plugins linked to development checkouts by `plugin link`; written by plugin (edits are overwritten).",
                "plugins": []
            })
        });
    let mut plugins: Vec<Value> = (catalog.get("plugins"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    plugins.retain(|p| p.get("name").and_then(Value::as_str) != Some(name));
    if let Some((checkout, version)) = add {
        let mut entry = json!({
            "name": name,
            "source": {"source": "link", "path": checkout.to_string_lossy()},
        });
        if version != version::UNKNOWN {
            entry["version"] = json!(version);
        }
        plugins.push(entry);
    }
    let mut known = ctx.known()?;
    let mut user = ctx.settings(Scope::User).map_err(OpError::settings_write)?;
    if plugins.is_empty() {
        if known.remove(DEV_MARKETPLACE) {
            known.write(tx)?;
            crash_point();
        }
        if user.undeclare_marketplace(DEV_MARKETPLACE) {
            user.write(tx).map_err(OpError::settings_write)?;
            crash_point();
        }
        // Its catalog is all the folder holds: put back with the rest if a later step fails.
        tx.remember(&catalog_path)?;
        crate::fsutil::remove_tree(dir)?;
        crash_point();
        return Ok(());
    }
    catalog["plugins"] = Value::Array(plugins);
    let parent = catalog_path.parent().unwrap_or(dir);
    fs::create_dir_all(parent).at("create directory", parent)?;
    let text = serde_json::to_string_pretty(&catalog).unwrap_or_default() + "\n";
    tx.write(&catalog_path, text.as_bytes())?;
    crash_point();
    let source = MarketplaceSource::Directory(dir.to_path_buf()).to_json();
    if known.get(DEV_MARKETPLACE).is_none() {
        known.upsert(DEV_MARKETPLACE, &source, dir, &iso_timestamp());
        known.write(tx)?;
        crash_point();
    }
    if user.declared_marketplace(DEV_MARKETPLACE).is_none() {
        user.declare_marketplace(DEV_MARKETPLACE, &source);
        user.write(tx).map_err(OpError::settings_write)?;
        crash_point();
    }
    Ok(())
}
