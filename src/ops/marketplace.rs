//! `marketplace add | list | update | remove`.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::renames::{self, RenameNotice};
use super::{ConfiguredMarketplace, Context, FetchError, OpError, uninstall};
use crate::fsutil::iso_timestamp;
use crate::locations::Scope;
use crate::marketplace::{Marketplace, MarketplaceError, MarketplaceSource};
use crate::policy::PolicyViolation;
use crate::schema::names::reserved_name_problem;
use crate::state::settings::writable_scopes;

/// What only the `marketplace` commands (and the registrations of `sync` and `link`) refuse.
#[derive(Debug, thiserror::Error)]
pub enum MarketplaceCommandError {
    #[error("Marketplace '{0}' not found")]
    NotConfigured(String),
    #[error("Marketplace '{name}' not found. Available marketplaces: {}", .available.join(", "))]
    NotConfiguredForUpdate {
        name: String,
        available: Vec<String>,
    },
    #[error(
        "Marketplace '{name}' is not declared in {scope} settings. Omit --scope to remove it from all scopes."
    )]
    NotDeclaredAtScope { name: String, scope: Scope },
    #[error(
        "Marketplace declared in settings as \"{key}\" is named \"{actual}\" in its marketplace.json; rename the extraKnownMarketplaces key to \"{actual}\" (and the @{key} in enabledPlugins ids)"
    )]
    DeclaredNameMismatch { key: String, actual: String },
    /// `marketplace add` of a source the policy forbids.
    #[error(transparent)]
    SourceBlocked(PolicyViolation),
    /// `marketplace update` (or the refresh before `update`) of a marketplace the policy forbids.
    #[error("{}", blocked_marketplace_message(.name, .violation))]
    UpdateBlocked {
        name: String,
        violation: PolicyViolation,
    },
    #[error("{}", seed_refusal_message(.name, .seed, *.refusal))]
    SeedManaged {
        name: String,
        seed: PathBuf,
        refusal: SeedRefusal,
    },
    #[error(
        "Marketplace \"{name}\" has plugins linked to development checkouts: {links}; run {unlink} first (it puts back what each link replaced), then remove the marketplace"
    )]
    HasLinks {
        name: String,
        /// "p@dev (user scope)", "q@dev (local scope, /proj)", …
        links: String,
        /// The `plugin unlink …` commands, quoted.
        unlink: String,
    },
}

impl MarketplaceCommandError {
    pub fn failure_code(&self) -> &'static str {
        match self {
            MarketplaceCommandError::NotConfigured(_)
            | MarketplaceCommandError::NotConfiguredForUpdate { .. }
            | MarketplaceCommandError::NotDeclaredAtScope { .. } => "not_configured",
            MarketplaceCommandError::DeclaredNameMismatch { .. } => "marketplace_name_mismatch",
            MarketplaceCommandError::SourceBlocked(_) => "source_blocked_by_policy",
            MarketplaceCommandError::UpdateBlocked { .. } => "marketplace_policy_blocked",
            MarketplaceCommandError::SeedManaged { .. } => "managed",
            MarketplaceCommandError::HasLinks { .. } => "linked",
        }
    }
}

/// What `marketplace update` / `remove` / `add` were refused on a seed marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedRefusal {
    Update,
    Remove,
    AddOtherSource,
}

/// The wording: the blocklist "blocks"; an allowlist that does not name it "does not list".
fn blocked_marketplace_message(name: &str, v: &PolicyViolation) -> String {
    if v.is_blocklisted() {
        format!("Marketplace \"{name}\" is blocked by enterprise policy")
    } else {
        format!("Marketplace \"{name}\" is not in the allowed marketplace list")
    }
}

/// Claude Code's texts for a seed marketplace (with `plugin` for `claude plugin`, and no
/// "re-registered on next startup": we layer seeds at read time and register nothing).
fn seed_refusal_message(name: &str, seed: &Path, refusal: SeedRefusal) -> String {
    let seed = seed.display();
    match refusal {
        SeedRefusal::Update => format!(
            "Marketplace '{name}' is seed-managed ({seed}) and its content is controlled by the seed image. To update: ask your admin to update the seed."
        ),
        SeedRefusal::Remove => format!(
            "Marketplace '{name}' is registered from the read-only seed directory ({seed}) and stays configured while CLAUDE_CODE_PLUGIN_SEED_DIR names that folder. To stop using its plugins: plugin disable <plugin>@{name}"
        ),
        SeedRefusal::AddOtherSource => format!(
            "Marketplace '{name}' is seed-managed ({seed}). To use a different source, ask your admin to update the seed, or use a different marketplace name."
        ),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum AddOutcome {
    Added,
    /// Same name and source: nothing to fetch; the declaration is (re)written for the scope.
    AlreadyOnDisk,
    /// Same name, other source: re-pointed (`previous` is the old source's description).
    Repointed {
        previous: String,
    },
}

#[derive(Debug, Clone)]
pub struct AddReport {
    pub name: String,
    pub scope: Scope,
    pub source: MarketplaceSource,
    pub outcome: AddOutcome,
    /// Entries that cannot be installed (reported, never fatal).
    pub entry_problems: Vec<String>,
    /// What was done before the result (Claude Code prints the same lines for remote sources).
    pub steps: Vec<String>,
    /// The catalog's `renames` followed in the settings files (see [`renames::follow`]).
    pub renames: RenamesFollowed,
}

/// Notices of [`renames::follow`], or why it failed (the marketplace itself was still added or
/// updated; the next add, update or sync follows the renames again).
pub type RenamesFollowed = Result<Vec<RenameNotice>, String>;

fn follow_renames(ctx: &Context, name: &str, marketplace: &Marketplace) -> RenamesFollowed {
    renames::follow(ctx, name, marketplace).map_err(|e| e.to_string())
}

pub fn add(ctx: &Context, raw: &str, scope: Scope) -> Result<AddReport, OpError> {
    // Nothing happens under a policy we could not read.
    ctx.policy()?;
    let source = MarketplaceSource::parse_cli(raw, |p| ctx.loc.user_path(p))?;
    register(ctx, source, scope, None)
}

/// Fetch `source` and record it in `known_marketplaces.json`. A marketplace a command adds is
/// also declared in `scope`'s settings; one that settings already declare as `declared_as`
/// (from `sync`) is not, and its catalog's name must equal that key.
pub fn register(
    ctx: &Context,
    source: MarketplaceSource,
    scope: Scope,
    declared_as: Option<&str>,
) -> Result<AddReport, OpError> {
    // Before any fetch and any state file is read.
    ctx.policy()?
        .check_source(&source)
        .map_err(MarketplaceCommandError::SourceBlocked)?;
    let source_json = source.to_json();
    // A seed already provides this exact source: nothing to fetch, only the declaration to write.
    if let Some(seeded) =
        (ctx.seeds().marketplaces().into_iter()).find(|m| m.recorded_source == source_json)
    {
        return add_seeded(ctx, seeded, source, scope, declared_as);
    }
    // A git marketplace added before from the same source is not cloned again.
    let known_clone = ctx.known()?.all().into_iter().find(|k| {
        k.source == source_json && git_remote(ctx, &source).is_some() && k.install_location.is_dir()
    });
    let FetchedCatalog {
        marketplace,
        clone,
        catalog,
        steps,
    } = fetch_for_add(
        ctx,
        &source,
        declared_as,
        known_clone.map(|k| k.install_location).as_deref(),
    )?;
    let name = marketplace.name().to_string();
    check_addable(ctx, &source, declared_as, &name)?;
    let install_location = source
        .local_root()
        .unwrap_or_else(|| ctx.loc.marketplaces_dir().join(&name));

    let lock = ctx.lock_state()?;
    let mut known = ctx.known()?;
    let mut settings = ctx.settings(scope)?;
    let outcome = match known.get(&name) {
        Some(k) if k.source == source_json => AddOutcome::AlreadyOnDisk,
        Some(k) => AddOutcome::Repointed {
            previous: MarketplaceSource::from_json(&k.source)
                .map(|s| s.describe())
                .unwrap_or_else(|| crate::credential::redact_urls_in(&k.source.to_string())),
        },
        None => AddOutcome::Added,
    };
    fs::create_dir_all(ctx.loc.marketplaces_dir()).map_err(|e| {
        crate::fsutil::IoError::new("create directory", ctx.loc.marketplaces_dir(), e)
    })?;
    let placed = clone.map(|c| c.move_to(&install_location)).transpose()?;
    record_clone(placed, |tx| {
        if let Some(bytes) = catalog {
            tx.write(&install_location, &bytes)?;
        }
        if outcome != AddOutcome::AlreadyOnDisk {
            known.upsert(&name, &source_json, &install_location, &iso_timestamp());
            known.write(tx)?;
        }
        if declared_as.is_none() {
            declare(&mut settings, &name, &source_json, tx)?;
        }
        Ok(())
    })?;
    let entry_problems = marketplace
        .manifest
        .problems
        .iter()
        .map(|p| p.message.clone())
        .collect();
    drop(lock);
    let renames = follow_renames(ctx, &name, &marketplace);
    Ok(AddReport {
        name,
        scope,
        source,
        outcome,
        entry_problems,
        steps,
        renames,
    })
}

/// A catalog fetched or read, and what is put in place with it once it is recorded.
struct FetchedCatalog {
    marketplace: Marketplace,
    /// A fresh clone, moved to the marketplace's install location.
    clone: Option<TempClone>,
    /// A downloaded catalog's bytes, written to the install location.
    catalog: Option<Vec<u8>>,
    /// What was done, as Claude Code tells it.
    steps: Vec<String>,
}

/// The catalog of a marketplace being added: read from `known_clone` (a clone of the same
/// source added before), downloaded, freshly cloned, or read in place (local sources).
fn fetch_for_add(
    ctx: &Context,
    source: &MarketplaceSource,
    declared_as: Option<&str>,
    known_clone: Option<&Path>,
) -> Result<FetchedCatalog, OpError> {
    let read = |marketplace| FetchedCatalog {
        marketplace,
        clone: None,
        catalog: None,
        steps: Vec::new(),
    };
    Ok(match (known_clone, git_remote(ctx, source)) {
        (Some(dir), _) => read(Marketplace::load_clone(dir)?),
        (None, None) if matches!(source, MarketplaceSource::Url(_)) => {
            let (marketplace, bytes) = download_catalog(ctx, declared_as, source)?;
            FetchedCatalog {
                marketplace,
                clone: None,
                catalog: Some(bytes),
                steps: vec![
                    format!(
                        "Downloading marketplace from {}",
                        source.describe().trim_start_matches("url:")
                    ),
                    "Validating marketplace data".to_string(),
                    "Saving marketplace to cache".to_string(),
                    "Cleaning up old marketplace cache…".to_string(),
                ],
            }
        }
        (None, Some(remote)) => {
            let (url, reference) = remote?;
            let tmp = TempClone::new(&ctx.loc.marketplaces_dir())?;
            clone_timed(ctx, &url, reference, &tmp.0)?;
            let marketplace = Marketplace::load_clone(&tmp.0)?;
            let timeout = ctx.env.network_timeout.as_secs();
            FetchedCatalog {
                marketplace,
                clone: Some(tmp),
                catalog: None,
                steps: vec![
                    format!("Refreshing marketplace cache (timeout: {timeout}s)…"),
                    format!("Cloning repository (timeout: {timeout}s): {url}"),
                    "Clone complete, validating marketplace…".to_string(),
                    "Cleaning up old marketplace cache…".to_string(),
                ],
            }
        }
        (None, None) => read(Marketplace::load(source)?),
    })
}

/// Whether a catalog named `name` may be added from `source`: the name `sync` declared it as,
/// a usable folder name, reserved names only from Anthropic, and no seed's marketplace of
/// that name.
fn check_addable(
    ctx: &Context,
    source: &MarketplaceSource,
    declared_as: Option<&str>,
    name: &str,
) -> Result<(), OpError> {
    check_declared_name(declared_as, name)?;
    ctx.cache().check_marketplace_name(name)?;
    if let Some(msg) = reserved_name_problem(name)
        && !source.is_anthropics_github()
    {
        return Err(MarketplaceError::Reserved(msg).into());
    }
    // A seed's marketplace of this name wins at read time, so another source could never be used.
    if let Some(seeded) = ctx.seeds().marketplace(name) {
        return Err(MarketplaceCommandError::SeedManaged {
            name: name.to_string(),
            seed: seeded.seed,
            refusal: SeedRefusal::AddOtherSource,
        }
        .into());
    }
    Ok(())
}

/// `marketplace add` of a source a seed provides: the seed's copy is validated and the
/// declaration written for the scope; nothing is fetched and `known_marketplaces.json` is left
/// alone (seed marketplaces are layered in when read, never copied into it).
fn add_seeded(
    ctx: &Context,
    seeded: crate::state::SeedMarketplace,
    source: MarketplaceSource,
    scope: Scope,
    declared_as: Option<&str>,
) -> Result<AddReport, OpError> {
    let seed = seeded.seed.clone();
    let configured = ConfiguredMarketplace::from_seed(seeded);
    let marketplace = configured.load()?;
    check_declared_name(declared_as, &configured.name)?;
    let lock = ctx.lock_state()?;
    let mut settings = ctx.settings(scope)?;
    let source_json = source.to_json();
    if declared_as.is_none() {
        super::in_transaction(|tx| declare(&mut settings, &configured.name, &source_json, tx))?;
    }
    drop(lock);
    let renames = follow_renames(ctx, &configured.name, &marketplace);
    Ok(AddReport {
        renames,
        name: configured.name,
        scope,
        source,
        outcome: AddOutcome::AlreadyOnDisk,
        entry_problems: (marketplace.manifest.problems.iter())
            .map(|p| p.message.clone())
            .collect(),
        steps: vec![format!(
            "Using the read-only seed copy in {} (CLAUDE_CODE_PLUGIN_SEED_DIR)",
            seed.display()
        )],
    })
}

/// A marketplace settings declare under `declared_as` must carry that name in its catalog.
fn check_declared_name(declared_as: Option<&str>, name: &str) -> Result<(), OpError> {
    match declared_as {
        Some(key) if key != name => Err(MarketplaceCommandError::DeclaredNameMismatch {
            key: key.to_string(),
            actual: name.to_string(),
        }
        .into()),
        _ => Ok(()),
    }
}

/// Declare `name` with `source` in `settings` (written only when the declaration changes).
fn declare(
    settings: &mut crate::state::SettingsFile,
    name: &str,
    source: &Value,
    tx: &mut crate::state::Transaction,
) -> Result<(), OpError> {
    if settings
        .declared_marketplace(name)
        .and_then(|d| d.get("source"))
        != Some(source)
    {
        settings.declare_marketplace(name, source);
        settings.write(tx)?;
    }
    Ok(())
}

/// Download a `url` marketplace's catalog: the parsed marketplace and the bytes to store
/// (re-serialised with two-space indentation, as Claude Code stores it).
fn download_catalog(
    ctx: &Context,
    name: Option<&str>,
    source: &MarketplaceSource,
) -> Result<(Marketplace, Vec<u8>), OpError> {
    let MarketplaceSource::Url(url) = source else {
        return Err(MarketplaceError::Unsupported(source.kind().to_string()).into());
    };
    let mut req = crate::download::Request::new(url, ctx.env.network_timeout, 16 * 1024 * 1024);
    // The headers its declaration gives (a marketplace being added by URL has none yet).
    if let Some(name) = name {
        req.granted = super::headers::for_catalog(ctx, name, url)?;
    }
    let bytes = crate::download::get_bytes(&req)?;
    let marketplace = Marketplace::from_catalog_bytes(url, &bytes)?;
    let value: Value =
        serde_json::from_slice(crate::state::json::strip_bom_bytes(&bytes)).unwrap_or_default();
    let pretty = serde_json::to_vec_pretty(&value).unwrap_or(bytes);
    Ok((marketplace, pretty))
}

/// Clone a marketplace within the network time limit.
fn clone_timed(
    ctx: &Context,
    url: &crate::git::GitUrl,
    reference: Option<String>,
    dest: &Path,
) -> Result<String, OpError> {
    let (u, d, env) = (url.clone(), dest.to_path_buf(), ctx.env.clone());
    let task = ctx.reporter.start(&format!("Cloning {url}"));
    Ok(crate::git::with_timeout(
        url,
        ctx.env.network_timeout,
        move || crate::git::clone::clone_work_tree(&u, reference.as_deref(), &d, &env, task),
    )?)
}

/// The git remote and ref of a git-hosted marketplace, `github` sources on the configured base.
fn git_remote(
    ctx: &Context,
    source: &MarketplaceSource,
) -> Option<Result<(crate::git::GitUrl, Option<String>), crate::git::GitUrlError>> {
    source.git_remote(ctx.env.github_base_url.as_deref())
}

/// A fresh clone under `marketplaces/.tmp-<hex>`, removed unless moved into place.
struct TempClone(PathBuf);

impl TempClone {
    fn new(marketplaces: &Path) -> Result<Self, OpError> {
        fs::create_dir_all(marketplaces)
            .map_err(|e| crate::fsutil::IoError::new("create directory", marketplaces, e))?;
        // Clones of killed processes (`.tmp-<pid>-<hex>` whose process is gone) are removed.
        for e in fs::read_dir(marketplaces).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = name
                .strip_prefix(".tmp-")
                .and_then(|rest| rest.split('-').next())
                .and_then(|p| p.parse::<i32>().ok());
            if pid.is_some_and(|p| !crate::platform::process_alive(p)) {
                let _ = crate::fsutil::remove_tree(&e.path());
            }
        }
        Ok(Self(marketplaces.join(format!(
            ".tmp-{}-{}",
            std::process::id(),
            crate::fsutil::random_hex(8)
        ))))
    }

    /// Put the clone at `dest`, replacing what is there in one step (a crash never leaves the
    /// marketplace missing); the replaced content is kept until the result is dropped.
    fn move_to(self, dest: &Path) -> Result<PlacedClone, OpError> {
        let dest = dest.to_path_buf();
        if dest.symlink_metadata().is_ok() {
            crate::fsutil::exchange(&self.0, &dest, &aside_of(&dest))?;
            // `self` now holds what was there.
            return Ok(PlacedClone {
                dest,
                replaced: Some(self),
            });
        }
        crate::fsutil::rename(&self.0, &dest)
            .map_err(|e| crate::fsutil::IoError::new("rename into place", &dest, e))?;
        std::mem::forget(self);
        Ok(PlacedClone {
            dest,
            replaced: None,
        })
    }
}

/// A temporary name beside `dest`, named as clones are, so a crash's leftover is swept with them.
fn aside_of(dest: &Path) -> PathBuf {
    dest.with_file_name(format!(
        ".tmp-{}-old-{}",
        std::process::id(),
        crate::fsutil::random_hex(8)
    ))
}

/// A clone moved into place, and what it replaced (removed when this is dropped).
struct PlacedClone {
    dest: PathBuf,
    replaced: Option<TempClone>,
}

impl PlacedClone {
    /// The step recording it failed: the replaced clone comes back, or a clone that replaced
    /// nothing goes.
    fn undo(self) -> Result<(), crate::fsutil::IoError> {
        match &self.replaced {
            Some(old) => crate::fsutil::exchange(&old.0, &self.dest, &aside_of(&self.dest)),
            None => crate::fsutil::remove_tree(&self.dest),
        }
    }
}

/// Run the recording step `record` after `placed` was moved into place, undoing the move if
/// the step fails (its state files are put back by the step's transaction).
fn record_clone<T>(
    placed: Option<PlacedClone>,
    record: impl FnOnce(&mut crate::state::Transaction) -> Result<T, OpError>,
) -> Result<T, OpError> {
    super::in_transaction(record).map_err(|e| match placed {
        Some(p) => super::with_undo(e, p.undo()),
        None => e,
    })
}

impl Drop for TempClone {
    fn drop(&mut self) {
        let _ = crate::fsutil::remove_tree(&self.0);
    }
}

/// One row of `marketplace list`.
#[derive(Debug, Clone)]
pub struct MarketplaceRow {
    pub name: String,
    pub source: Value,
    pub install_location: PathBuf,
    /// The seed folder that provides it (read-only).
    pub seed: Option<PathBuf>,
}

/// Configured marketplaces in the order they were added, seed marketplaces in place of
/// same-name entries and after them.
pub fn list(ctx: &Context) -> Result<Vec<MarketplaceRow>, OpError> {
    Ok(ctx
        .configured_marketplaces()?
        .into_iter()
        .map(|c| MarketplaceRow {
            name: c.name,
            source: c.source,
            install_location: c.location,
            seed: c.seed,
        })
        .collect())
}

/// Refuse to change a marketplace a seed provides.
fn refuse_seeded(ctx: &Context, name: &str, refusal: SeedRefusal) -> Result<(), OpError> {
    match ctx.seeds().marketplace(name) {
        Some(m) => Err(MarketplaceCommandError::SeedManaged {
            name: name.to_string(),
            seed: m.seed,
            refusal,
        }
        .into()),
        None => Ok(()),
    }
}

#[derive(Debug, Clone)]
pub struct UpdateReport {
    pub name: String,
    pub steps: Vec<String>,
    /// The refreshed catalog's `renames` followed in the settings files.
    pub renames: RenamesFollowed,
}

/// Re-read and validate one marketplace (local sources are read in place), then follow its
/// `renames` in the settings files. A seed's marketplace is refused: its content is the seed's.
pub fn update_one(ctx: &Context, name: &str) -> Result<UpdateReport, OpError> {
    refresh_one(ctx, name, true)
}

/// [`update_one`] with `follow_renames` chosen: `plugin update` / `outdated` refresh catalogs
/// without touching settings (`outdated` applies nothing; renames are reported where followed).
pub fn refresh_one(
    ctx: &Context,
    name: &str,
    follow_renames: bool,
) -> Result<UpdateReport, OpError> {
    ctx.policy()?;
    refuse_seeded(ctx, name, SeedRefusal::Update)?;
    let known = ctx.known()?;
    let Some(entry) = known.get(name) else {
        return Err(MarketplaceCommandError::NotConfiguredForUpdate {
            name: name.to_string(),
            available: known.all().into_iter().map(|k| k.name).collect(),
        }
        .into());
    };
    // Before its source is read or fetched.
    ctx.policy()?
        .check_recorded(&entry.source)
        .map_err(|violation| MarketplaceCommandError::UpdateBlocked {
            name: name.to_string(),
            violation,
        })?;
    let source = MarketplaceSource::from_json(&entry.source)
        .ok_or_else(|| MarketplaceError::Unsupported(entry.source.to_string()))?;
    let FetchedCatalog {
        marketplace: refreshed,
        clone,
        catalog,
        mut steps,
    } = fetch_for_refresh(ctx, name, &source, &entry.install_location)?;
    let lock = ctx.lock_state()?;
    let mut known = ctx.known()?;
    known.touch(name, &iso_timestamp());
    let placed = clone
        .map(|c| c.move_to(&entry.install_location))
        .transpose()?;
    record_clone(placed, |tx| {
        if let Some(bytes) = catalog {
            tx.write(&entry.install_location, &bytes)?;
        }
        Ok(known.write(tx)?)
    })?;
    steps.push(format!("Successfully updated marketplace: {name}"));
    drop(lock);
    let renames = if follow_renames {
        self::follow_renames(ctx, name, &refreshed)
    } else {
        Ok(Vec::new())
    };
    Ok(UpdateReport {
        name: name.to_string(),
        steps,
        renames,
    })
}

/// The catalog of marketplace `name` read again: downloaded, read in place (local sources), or
/// for a clone at `install_location`, one ref negotiation when nothing moved and a fresh
/// shallow clone (to be swapped in) otherwise.
fn fetch_for_refresh(
    ctx: &Context,
    name: &str,
    source: &MarketplaceSource,
    install_location: &Path,
) -> Result<FetchedCatalog, OpError> {
    let load_error = |e| FetchError::MarketplaceLoad {
        name: name.to_string(),
        source: e,
    };
    let read = |marketplace, step: String| FetchedCatalog {
        marketplace,
        clone: None,
        catalog: None,
        steps: vec![step],
    };
    let Some(remote) = git_remote(ctx, source) else {
        if matches!(source, MarketplaceSource::Url(_)) {
            let (marketplace, bytes) = download_catalog(ctx, Some(name), source)?;
            let step = format!(
                "Downloading marketplace from {}",
                source.describe().trim_start_matches("url:")
            );
            return Ok(FetchedCatalog {
                catalog: Some(bytes),
                ..read(marketplace, step)
            });
        }
        let marketplace = Marketplace::load(source).map_err(load_error)?;
        return Ok(read(
            marketplace,
            "Validating local marketplace".to_string(),
        ));
    };
    let (url, reference) = remote?;
    let local = crate::git::clone::head_of(install_location);
    let tip = match &local {
        Some(_) => {
            let (d, u, r) = (
                install_location.to_path_buf(),
                url.clone(),
                reference.clone(),
            );
            let env = ctx.env.clone();
            crate::git::with_timeout(&url, ctx.env.network_timeout, move || {
                crate::git::clone::remote_tip(&d, &u, r.as_deref(), &env)
            })?
        }
        None => None,
    };
    if let (Some(l), Some(t)) = (&local, &tip)
        && l == t
    {
        let marketplace = Marketplace::load_clone(install_location).map_err(load_error)?;
        let step = format!("Already at the latest commit ({})", &l[..12]);
        return Ok(read(marketplace, step));
    }
    let tmp = TempClone::new(&ctx.loc.marketplaces_dir())?;
    clone_timed(ctx, &url, reference, &tmp.0)?;
    let marketplace = Marketplace::load_clone(&tmp.0).map_err(load_error)?;
    Ok(FetchedCatalog {
        marketplace,
        clone: Some(tmp),
        catalog: None,
        steps: vec![
            format!("Cloning repository: {url}"),
            "Replacing the existing marketplace clone…".to_string(),
        ],
    })
}

/// The result of updating one marketplace, by name.
pub type NamedUpdate = (String, Result<UpdateReport, OpError>);

/// What `marketplace update` without a name did.
#[derive(Debug)]
pub struct UpdateAllReport {
    /// One result per marketplace updated.
    pub updates: Vec<NamedUpdate>,
    /// Seed marketplaces, skipped (read-only), with their seed folder.
    pub skipped_seeds: Vec<(String, PathBuf)>,
}

/// Update every known marketplace except those a seed provides; one result per marketplace
/// (those the policy forbids are `MarketplaceUpdateBlocked`, untouched).
pub fn update_all(ctx: &Context) -> Result<UpdateAllReport, OpError> {
    ctx.policy()?;
    let (seeded, own): (Vec<ConfiguredMarketplace>, Vec<ConfiguredMarketplace>) = ctx
        .configured_marketplaces()?
        .into_iter()
        .partition(|c| c.seed.is_some());
    Ok(UpdateAllReport {
        updates: own
            .into_iter()
            .map(|c| {
                let r = update_one(ctx, &c.name);
                (c.name, r)
            })
            .collect(),
        skipped_seeds: (seeded.into_iter())
            .filter_map(|c| Some((c.name, c.seed?)))
            .collect(),
    })
}

#[derive(Debug, Clone)]
pub struct RemoveReport {
    pub name: String,
    /// The scope named with `--scope`, if any.
    pub only_scope: Option<Scope>,
    pub uninstalled: Vec<String>,
}

/// Remove a marketplace's declaration (from one scope, or every scope). When no declaration is
/// left, its plugins are uninstalled, their folders orphaned, and it is forgotten. A seed's
/// marketplace cannot be removed; with `--scope`, only its declaration there is.
pub fn remove(ctx: &Context, name: &str, scope: Option<Scope>) -> Result<RemoveReport, OpError> {
    let seeded = ctx.seeds().marketplace(name).is_some();
    if scope.is_none() {
        refuse_seeded(ctx, name, SeedRefusal::Remove)?;
    }
    let _lock = ctx.lock_state()?;
    let mut known = ctx.known()?;
    // Refuse an unreadable installed_plugins.json before any settings file is rewritten.
    ctx.installed()?;
    let mut files = ctx.writable_settings()?;
    let declared_in = |s: Scope| {
        files
            .iter()
            .any(|f| f.scope == s && f.declared_marketplace(name).is_some())
    };
    if let Some(s) = scope {
        if !declared_in(s) {
            return Err(MarketplaceCommandError::NotDeclaredAtScope {
                name: name.to_string(),
                scope: s,
            }
            .into());
        }
    } else if known.get(name).is_none() && !writable_scopes().iter().any(|s| declared_in(*s)) {
        return Err(MarketplaceCommandError::NotConfigured(name.to_string()).into());
    }
    // Removed from one scope, it stays configured while another scope declares it; a seed
    // marketplace stays whatever the settings say.
    let stays = scope.is_some_and(|s| {
        seeded
            || files
                .iter()
                .any(|f| f.scope != s && f.declared_marketplace(name).is_some())
    });
    // Removing the last declaration uninstalls the marketplace's plugins; a linked one would
    // lose what its link replaced (and its `dev` catalog entry), so it is unlinked first.
    if !stays {
        refuse_links(ctx, name)?;
    }
    // One step over every state file; the folders that cannot be put back go once it is done.
    let uninstalled = super::in_transaction(|tx| {
        for f in files.iter_mut() {
            if scope.is_none_or(|s| s == f.scope) && f.undeclare_marketplace(name) {
                f.write(tx)?;
            }
        }
        if stays {
            return Ok(Vec::new());
        }
        let uninstalled = uninstall::remove_marketplace_installs(ctx, name, &mut files, tx)?;
        if known.remove(name) {
            known.write(tx)?;
        }
        Ok(uninstalled)
    })?;
    if stays {
        return Ok(RemoveReport {
            name: name.to_string(),
            only_scope: scope,
            uninstalled,
        });
    }
    for id in &uninstalled {
        crate::fsutil::remove_tree(&ctx.loc.plugin_data_dir(id))?;
    }
    // A git clone (folder) or a downloaded catalog (file).
    let stored = ctx.loc.marketplaces_dir().join(name);
    if stored.is_dir() {
        crate::fsutil::remove_tree(&stored)?;
    } else if stored.is_file() {
        fs::remove_file(&stored).map_err(|e| crate::fsutil::IoError::new("remove", &stored, e))?;
    }
    Ok(RemoveReport {
        name: name.to_string(),
        only_scope: scope,
        uninstalled,
    })
}

/// [`MarketplaceCommandError::HasLinks`] when `.plugin-links.json` records links into marketplace
/// `name`.
fn refuse_links(ctx: &Context, name: &str) -> Result<(), OpError> {
    let links = crate::state::Links::read(&ctx.loc.links_file())?;
    let suffix = format!("@{name}");
    let linked: Vec<_> = (links.entries.iter())
        .filter(|e| e.id.ends_with(&suffix))
        .collect();
    if linked.is_empty() {
        return Ok(());
    }
    let described: Vec<String> = (linked.iter())
        .map(|e| match &e.project_path {
            Some(p) => format!("{} ({} scope, {p})", e.id, e.scope),
            None => format!("{} ({} scope)", e.id, e.scope),
        })
        .collect();
    let commands: Vec<String> = (linked.iter())
        .map(|e| {
            let scope = Scope::parse(&e.scope).unwrap_or(Scope::User);
            format!("`{}`", super::link::unlink_command(&e.id, scope))
        })
        .collect();
    Err(MarketplaceCommandError::HasLinks {
        name: name.to_string(),
        links: described.join(", "),
        unlink: commands.join(", "),
    }
    .into())
}
