//! Plugin sources: from a marketplace entry to a fetched tree with its version, ready to be
//! written into a staging folder.
//!
//! * relative paths: a folder of a local marketplace, copied under the symlink policy;
//! * `github`, `url` (and git URL strings), `git-subdir`: fetched into the shared git database,
//!   then the commit's tree (or one folder of it) is written straight from the object store.
//!
//! Version (Claude Code's order): plugin.json → entry → source-derived (git: first 12 hex of the
//! commit; git-subdir: `<sha12>-<first 8 hex of sha256(path)>`) → `unknown`.

pub mod archive;
pub mod command;
pub mod shell;

use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::cache::{CopyReport, LinkPolicy, Provenance, TreeListing};
use crate::environment::Environment;
use crate::fsutil::{IoContext, IoError};
use crate::git::{ExportError, GitDatabase, GitError, GitUrl, GitUrlError, Revision, export_tree};
use crate::manifest::{self, ManifestError, PluginManifest};
use crate::registry::UnpackBudget;
use crate::schema::{Marketplace, PluginEntry, PluginSource, RelativeSourceError};
use crate::version;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("This plugin's marketplace entry is invalid: {}", crate::schema::catalog::entry_defects_message(.0))]
    EntryInvalid(Vec<crate::schema::catalog::EntryDefect>),
    #[error(
        "source type {0} is not supported yet (this version installs relative-path and git plugins)"
    )]
    Unsupported(String),
    #[error(transparent)]
    Relative(#[from] RelativeSourceError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Url(#[from] GitUrlError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Io(#[from] IoError),
    #[error(
        "git-subdir path \"{0}\" must be a relative path inside the repository (no \"..\", leading \"/\" or backslash)"
    )]
    SubdirPath(String),
    #[error(transparent)]
    Npm(#[from] crate::registry::npm::NpmError),
    #[error(transparent)]
    Pypi(#[from] crate::registry::pypi::PypiError),
    #[error(transparent)]
    Archive(#[from] archive::ArchiveError),
    #[error(transparent)]
    Zip(#[from] crate::registry::zipfile::ZipError),
    #[error(transparent)]
    Command(#[from] command::CommandError),
    #[error("cannot read the git repository {}: {message}", .dir.display())]
    LocalRepository { dir: PathBuf, message: String },
    #[error("{url} gave commit {got} for the pinned sha {want}")]
    ShaMismatch {
        url: String,
        want: String,
        got: String,
    },
}

impl SourceError {
    /// The `failureCode` of `--json` output.
    pub fn failure_code(&self) -> &'static str {
        match self {
            SourceError::Unsupported(_) | SourceError::Io(_) => "error_unknown",
            SourceError::Command(e) if !e.is_refusal() => "error_unknown",
            SourceError::Npm(crate::registry::npm::NpmError::Download(_)) => "error_network",
            SourceError::Npm(
                crate::registry::npm::NpmError::NotFound { .. }
                | crate::registry::npm::NpmError::NoVersion { .. },
            ) => "error_not_found",
            SourceError::Pypi(crate::registry::pypi::PypiError::Download(_))
            | SourceError::Archive(archive::ArchiveError::Download(_)) => "error_network",
            SourceError::Pypi(
                crate::registry::pypi::PypiError::NotFound { .. }
                | crate::registry::pypi::PypiError::NoVersion { .. },
            ) => "error_not_found",
            SourceError::Relative(RelativeSourceError::Missing(_)) => "error_not_found",
            SourceError::Git(e) => e.failure_code(),
            SourceError::Export(ExportError::PathMissing { .. }) => "error_not_found",
            SourceError::Export(ExportError::Io(_) | ExportError::Object { .. }) => "error_unknown",
            _ => "error_validation",
        }
    }
}

/// Where the plugin's files come from.
pub enum Fetched {
    Folder {
        dir: PathBuf,
        /// The marketplace root: links into it are dereferenced.
        container: PathBuf,
        /// Claude Code loads plugins of local marketplaces from their folder, not the cache.
        in_place: bool,
    },
    /// A verified npm tarball in the download cache.
    Npm {
        tarball: PathBuf,
        package: String,
        registry: crate::registry::npm::NpmRegistry,
        downloads: PathBuf,
    },
    /// A verified zip (wheel or archive) in the download cache, and the plugin's folder in it.
    Zip { path: PathBuf, prefix: PathBuf },
    /// The folder a `command` source printed, copied or linked to as the hash was taken.
    Command {
        produced: command::Produced,
        source: crate::schema::catalog::CommandSource,
        hash: String,
    },
    /// A folder of the local repository whose work tree is `repo` (a folder marketplace), as
    /// it is at `commit` (a tag's), not as the work tree has it.
    LocalCommit {
        repo: PathBuf,
        commit: String,
        subdir: String,
    },
    Git {
        /// The git database's folder: opened again where the files are written (a repository
        /// handle stays on its thread; dependencies are fetched on several).
        db: PathBuf,
        url: crate::git::GitUrl,
        commit: String,
        subdir: String,
        /// The git cache (submodules are fetched into it while writing).
        git_root: PathBuf,
    },
}

/// A plugin whose source is fetched and whose version is known.
pub struct ResolvedPlugin {
    pub fetched: Fetched,
    pub version: String,
    pub git_commit: Option<String>,
    /// The exact release or commit, recorded in the cache's completion marker.
    pub provenance: Option<Provenance>,
    /// The version of the `{name}--v{version}` tag it was resolved from (a dependency with a
    /// range), recorded as `resolvedVersion`.
    pub resolved_version: Option<String>,
}

impl ResolvedPlugin {
    /// The folder a local marketplace's plugin is loaded from in place (Claude Code's rule).
    pub fn in_place_folder(&self) -> Option<&Path> {
        match &self.fetched {
            Fetched::Folder { dir, in_place, .. } => in_place.then_some(dir.as_path()),
            Fetched::Git { .. }
            | Fetched::LocalCommit { .. }
            | Fetched::Npm { .. }
            | Fetched::Zip { .. }
            | Fetched::Command { .. } => None,
        }
    }

    /// For a `command` source: what it records as `sourceCommand` (the accepted command) and
    /// `sourceProducerPath` (the folder it printed).
    pub fn produced_by(&self) -> Option<(String, &Path)> {
        match &self.fetched {
            Fetched::Command {
                produced, source, ..
            } => Some((source.accepted_as(), produced.dir.as_path())),
            _ => None,
        }
    }

    /// The content digest of what writing a folder source would produce, taken from the source
    /// itself (no copy), reusing what stat data kept under `stat_dir` vouches for (see
    /// `cache::statcache`): the whole folder's digest when nothing in it changed, else the
    /// hashes of the files that did not.
    pub fn digest_with_stat_cache(&self, stat_dir: &Path) -> Result<Option<String>, SourceError> {
        if let Fetched::Folder { dir, container, .. } = &self.fetched {
            let policy = folder_policy(dir, container)?;
            let cache = crate::cache::statcache::StatCache::load(stat_dir, &policy.plugin_root);
            if let Some(digest) = cache.unchanged_tree() {
                return Ok(Some(digest));
            }
        }
        Ok(self
            .listing_with_stat_cache(stat_dir)?
            .map(|(listing, _)| listing.digest()))
    }

    /// A folder source's listing as a copy would make it, with what the copy would leave out;
    /// each file's hash taken from the stat cache where it vouches for it, the others read now
    /// (and remembered). `None` for other sources.
    pub fn listing_with_stat_cache(
        &self,
        stat_dir: &Path,
    ) -> Result<Option<(TreeListing, Vec<crate::cache::Skipped>)>, SourceError> {
        let Fetched::Folder { dir, container, .. } = &self.fetched else {
            return Ok(None);
        };
        let policy = folder_policy(dir, container)?;
        let mut cache = crate::cache::statcache::StatCache::load(stat_dir, &policy.plugin_root);
        let (listing, skipped) = TreeListing::of_source_cached(&policy, &mut cache)?;
        cache.save(&listing.digest());
        Ok(Some((listing, skipped)))
    }

    /// Write the plugin into the existing, empty folder `dst` (`env`: the limits of unpacking
    /// and of the fetches of dependencies and submodules).
    /// A folder source takes what it can from the content store (`reuse`: the store, and where
    /// the stat cache lives).
    pub fn write_to(
        &self,
        dst: &Path,
        env: &Environment,
        reporter: &dyn crate::progress::Reporter,
        reuse: (&crate::cache::store::Store, &Path),
    ) -> Result<CopyReport, SourceError> {
        match &self.fetched {
            Fetched::Folder { dir, container, .. } => {
                let (store, stat_dir) = reuse;
                let reuse = crate::cache::copy::Reuse { store, stat_dir };
                Ok(crate::cache::copy::copy_plugin_tree_reusing(
                    dst,
                    &folder_policy(dir, container)?,
                    &reuse,
                )?)
            }
            Fetched::Npm {
                tarball,
                package,
                registry,
                downloads,
            } => {
                use crate::registry::npm;
                // One cap for the package and its dependencies together.
                let budget = UnpackBudget::for_install(env.max_unpacked);
                let mut report = npm::extract(tarball, package, dst, &budget)?;
                let _task = reporter.start(&format!("Installing the dependencies of {package}"));
                let deps = npm::install_dependencies(
                    dst,
                    registry,
                    downloads,
                    env.network_timeout,
                    &budget,
                )?;
                report.files += deps.files;
                report.bytes += deps.bytes;
                report.skipped.extend(deps.skipped);
                report.notes = deps.notes;
                Ok(report)
            }
            Fetched::Command {
                produced,
                source,
                hash,
            } => Ok(command::write(produced, source.link, hash, dst)?),
            Fetched::LocalCommit {
                repo,
                commit,
                subdir,
            } => Ok(export_tree(
                &open_local(repo)?,
                commit,
                subdir,
                dst,
                None,
                Some(reuse.0),
            )?),
            Fetched::Zip { path, prefix } => Ok(crate::registry::zipfile::extract(
                path,
                prefix,
                dst,
                &UnpackBudget::for_install(env.max_unpacked),
            )?),
            Fetched::Git {
                db,
                url,
                commit,
                subdir,
                git_root,
            } => {
                let submodules = crate::git::export::Submodules {
                    git_root: git_root.clone(),
                    superproject: url.clone(),
                    env: env.clone(),
                    depth: 0,
                    task: reporter.start("Writing plugin files"),
                };
                Ok(export_tree(
                    &open_local(db)?,
                    commit,
                    subdir,
                    dst,
                    Some(&submodules),
                    Some(reuse.0),
                )?)
            }
        }
    }
}

/// Links of a marketplace folder's plugin: kept inside the plugin, dereferenced inside the
/// marketplace, skipped beyond it. The plugin folder itself must lie inside the marketplace
/// (checked again here, where its files are read, whatever found the folder).
fn folder_policy(dir: &Path, container: &Path) -> Result<LinkPolicy, SourceError> {
    let real = crate::containment::real_path_inside(dir, container)
        .map_err(|e| SourceError::Relative(RelativeSourceError::LinksOutside(Box::new(e))))?;
    Ok(LinkPolicy {
        // `None`: it cannot be resolved; canonicalize says why.
        plugin_root: match real {
            Some(real) => real,
            None => crate::fsutil::canonicalize(dir).at("resolve", dir)?,
        },
        container: Some(crate::fsutil::canonicalize(container).at("resolve", container)?),
    })
}

/// Everything `resolve` needs besides the entry.
pub struct SourceContext<'a> {
    /// The git database root (`<cache>/plugin/git-v1/db`).
    pub git_root: &'a Path,
    /// Downloaded artifacts, keyed by digest (`<cache>/plugin/downloads-v1`).
    pub downloads: &'a Path,
    /// Where npm configuration (`.npmrc`) is looked for: the project, then the home folder.
    pub project: &'a Path,
    pub home: &'a Path,
    pub reporter: &'a dyn crate::progress::Reporter,
    /// Time limits, GitHub base and token, npm and pip overrides.
    pub env: &'a Environment,
    /// What an archive download sends besides (the marketplace's and the entry's `headers`,
    /// and what their `headersHelper`s printed), for the archive's origin.
    pub archive_headers: Option<crate::credential::HeaderGrant>,
}

/// Fetch the entry's source and work out its version.
pub fn resolve(
    marketplace: &Marketplace,
    entry: &PluginEntry,
    cx: &SourceContext,
) -> Result<ResolvedPlugin, SourceError> {
    if !entry.defects.is_empty() {
        return Err(SourceError::EntryInvalid(entry.defects.clone()));
    }
    let (url, reference, sha, subdir) = match &entry.source {
        PluginSource::Relative(_) | PluginSource::Bare(_) => {
            return resolve_folder(marketplace, entry);
        }
        PluginSource::Github {
            repo,
            reference,
            sha,
        } => (github_url(repo, cx)?, reference, sha, None),
        PluginSource::GitUrl {
            url,
            reference,
            sha,
        } => (GitUrl::parse(url)?, reference, sha, None),
        PluginSource::GitSubdir {
            url,
            path,
            reference,
            sha,
        } => {
            let url = if is_owner_repo(url) {
                github_url(url, cx)?
            } else {
                GitUrl::parse(url)?
            };
            (url, reference, sha, Some(subdir_path(path)?))
        }
        PluginSource::Npm {
            package,
            version,
            registry,
        } => return resolve_npm(entry, package, version.as_deref(), registry.as_deref(), cx),
        PluginSource::Pip {
            package,
            version,
            registry,
        } => return resolve_pip(entry, package, version.as_deref(), registry.as_deref(), cx),
        PluginSource::Archive { url, sha256 } => {
            return resolve_archive(entry, url, sha256.as_deref(), cx);
        }
        PluginSource::Command(source) => return resolve_command(entry, source, cx),
        other => return Err(SourceError::Unsupported(other.kind().to_string())),
    };
    resolve_git(
        entry,
        &url,
        reference.as_deref(),
        sha.as_deref(),
        subdir.unwrap_or_default(),
        cx,
    )
}

/// A folder of a local marketplace (a relative source): read in place, versioned by the commit
/// of the work tree it is in when nothing else says.
fn resolve_folder(
    marketplace: &Marketplace,
    entry: &PluginEntry,
) -> Result<ResolvedPlugin, SourceError> {
    let dir = marketplace.resolve_relative(entry)?;
    let manifest = manifest::read_manifest(&dir, &marketplace.root, &entry.name)?;
    let git_commit = crate::git::head_commit_within(&dir, &marketplace.root);
    let version = pick_version(
        manifest.as_ref(),
        entry,
        git_commit.as_deref().map(short_sha),
    );
    Ok(ResolvedPlugin {
        resolved_version: None,
        fetched: Fetched::Folder {
            dir,
            container: marketplace.root.clone(),
            in_place: marketplace.local,
        },
        version,
        git_commit,
        provenance: None,
    })
}

/// A git source: `reference` or `sha` fetched into the git database, and the plugin folder
/// `subdir` (empty: the whole tree) of that commit checked.
fn resolve_git(
    entry: &PluginEntry,
    url: &GitUrl,
    reference: Option<&str>,
    sha: Option<&str>,
    subdir: String,
    cx: &SourceContext,
) -> Result<ResolvedPlugin, SourceError> {
    let rev = Revision::from_pin(reference, sha);
    let task = cx.reporter.start(&format!("Fetching {url}"));
    let (db, commit) = GitDatabase::fetch_timed(cx.git_root, url, rev, cx.env, task.clone())?;
    if let Some(want) = sha
        && want != commit
    {
        return Err(SourceError::ShaMismatch {
            url: url.to_string(),
            want: want.to_string(),
            got: commit,
        });
    }
    crate::git::export::check_folder(db.repo(), &commit, &subdir)?;
    let manifest = git_manifest(&db, &commit, &subdir, &entry.name)?;
    let derived = if subdir.is_empty() {
        short_sha(&commit)
    } else {
        let path_hash = hex::encode(Sha256::digest(subdir.as_bytes()));
        format!("{}-{}", short_sha(&commit), &path_hash[..8])
    };
    let version = pick_version(manifest.as_ref(), entry, Some(derived));
    Ok(ResolvedPlugin {
        resolved_version: None,
        fetched: Fetched::Git {
            url: db.url().clone(),
            db: db.path().to_path_buf(),
            commit: commit.clone(),
            subdir,
            git_root: cx.git_root.to_path_buf(),
        },
        version,
        provenance: Some(Provenance {
            kind: "git".into(),
            what: commit.clone(),
            integrity: None,
        }),
        git_commit: Some(commit),
    })
}

/// An npm package: resolved with npm's rules, downloaded once (by digest) and verified.
fn resolve_npm(
    entry: &PluginEntry,
    package: &str,
    spec: Option<&str>,
    registry: Option<&str>,
    cx: &SourceContext,
) -> Result<ResolvedPlugin, SourceError> {
    use crate::registry::npm;
    let reg = npm::NpmRegistry::for_package(
        package,
        registry,
        cx.env.npm_registry.as_deref(),
        cx.project,
        cx.home,
    );
    let timeout = cx.env.network_timeout;
    let task = cx
        .reporter
        .start(&format!("Fetching npm package {package}"));
    let (release, tarball) =
        npm::resolve_and_fetch(&reg, package, spec, cx.downloads, timeout, Some(&*task))?;
    let candidates: Vec<String> = manifest::MANIFEST_DIRS
        .iter()
        .map(|dir| format!("{dir}/plugin.json"))
        .collect();
    let manifest = match npm::read_first(&tarball, package, &candidates)? {
        Some((rel, bytes)) => {
            let shown = PathBuf::from(format!("{package}@{}:{rel}", release.version));
            Some(parse_found(&bytes, shown, &entry.name)?)
        }
        None => None,
    };
    let integrity = (release.integrity.clone())
        .or_else(|| release.shasum.as_ref().map(|h| format!("sha1:{h}")));
    Ok(ResolvedPlugin {
        resolved_version: None,
        provenance: Some(Provenance {
            kind: "npm".into(),
            what: format!("{package}@{}", release.version),
            integrity,
        }),
        version: pick_version(manifest.as_ref(), entry, Some(release.version.clone())),
        fetched: Fetched::Npm {
            tarball,
            package: package.to_string(),
            registry: reg,
            downloads: cx.downloads.to_path_buf(),
        },
        git_commit: None,
    })
}

/// A Python package: its pure-Python wheel, verified, with the plugin folder found inside.
fn resolve_pip(
    entry: &PluginEntry,
    package: &str,
    spec: Option<&str>,
    registry: Option<&str>,
    cx: &SourceContext,
) -> Result<ResolvedPlugin, SourceError> {
    use crate::registry::{pypi, zipfile};
    let index = pypi::index_url(registry, cx.env, cx.home);
    let timeout = cx.env.network_timeout;
    let task = cx
        .reporter
        .start(&format!("Fetching Python package {package}"));
    let files = pypi::list_files(&index, package, cx.downloads, timeout)?;
    let wheel = pypi::choose(package, &files, spec)?;
    let path = pypi::fetch_wheel(&index, &wheel, cx.downloads, timeout, Some(&*task))?;
    let prefix = pypi::plugin_root(&zipfile::file_names(&path)?);
    let manifest = zip_manifest(
        &path,
        &prefix,
        &format!("{package} {}", wheel.version),
        &entry.name,
    )?;
    Ok(ResolvedPlugin {
        resolved_version: None,
        provenance: Some(Provenance {
            kind: "pip".into(),
            what: format!("{package}=={}", wheel.version),
            integrity: wheel.file.sha256.as_ref().map(|h| format!("sha256:{h}")),
        }),
        version: pick_version(manifest.as_ref(), entry, Some(wheel.version.clone())),
        fetched: Fetched::Zip { path, prefix },
        git_commit: None,
    })
}

/// A zip archive over HTTPS: pinned by sha256 or not, versioned by its digest when nothing
/// else says.
fn resolve_archive(
    entry: &PluginEntry,
    url: &str,
    pin: Option<&str>,
    cx: &SourceContext,
) -> Result<ResolvedPlugin, SourceError> {
    let timeout = cx.env.network_timeout;
    let shown = crate::credential::redact_url(url);
    let task = cx.reporter.start(&format!("Downloading {shown}"));
    let (path, sha256) = archive::fetch(
        url,
        pin,
        cx.downloads,
        timeout,
        cx.archive_headers.clone(),
        Some(&*task),
    )?;
    let prefix = archive::layout(&path, &shown)?;
    let manifest = zip_manifest(&path, &prefix, &shown, &entry.name)?;
    Ok(ResolvedPlugin {
        resolved_version: None,
        provenance: Some(Provenance {
            kind: "archive".into(),
            what: shown,
            integrity: Some(format!("sha256:{sha256}")),
        }),
        version: pick_version(manifest.as_ref(), entry, Some(sha256[..12].to_string())),
        fetched: Fetched::Zip { path, prefix },
        git_commit: None,
    })
}

/// A `command` source (its running was accepted above this layer): run, and versioned by the
/// content hash of what the printed folder gives.
fn resolve_command(
    entry: &PluginEntry,
    source: &crate::schema::catalog::CommandSource,
    cx: &SourceContext,
) -> Result<ResolvedPlugin, SourceError> {
    if source.link && cfg!(windows) {
        return Err(command::CommandError::LinkOnWindows.into());
    }
    let task = cx.reporter.start(&format!(
        "Running the command of {}",
        command::shown(&entry.name, 80)
    ));
    let produced = command::run(source, cx.home)?;
    drop(task);
    let hash = match source.link {
        true => command::links_hash(&produced.dir, &command::plan_links(&produced.dir)?),
        false => command::content_hash(&produced.dir, &command::plan_copy(&produced.dir)?)?,
    };
    let manifest = manifest::read_manifest(&produced.dir, &produced.dir, &entry.name)?;
    Ok(ResolvedPlugin {
        resolved_version: None,
        version: command::version(manifest.as_ref().and_then(|m| m.version.as_deref()), &hash),
        provenance: Some(Provenance {
            kind: "command".into(),
            what: produced.dir.to_string_lossy().into_owned(),
            integrity: Some(format!("sha256:{hash}")),
        }),
        fetched: Fetched::Command {
            produced,
            source: source.clone(),
            hash,
        },
        git_commit: None,
    })
}

fn open_local(dir: &Path) -> Result<gix::Repository, SourceError> {
    gix::open(dir).map_err(|e| SourceError::LocalRepository {
        dir: dir.to_path_buf(),
        message: e.to_string(),
    })
}

/// `entry`, a relative plugin of the folder marketplace whose work tree is `repo`, as it is at
/// `commit` (a `{name}--v{version}` tag's), with `tag_version` (what `resolvedVersion` says).
/// Its version is Claude Code's for a tagged dependency: `<plugin.json version>-<sha12>`.
pub fn resolve_local_commit(
    marketplace: &Marketplace,
    entry: &PluginEntry,
    repo: &Path,
    commit: &str,
    tag_version: &str,
) -> Result<ResolvedPlugin, SourceError> {
    let dir = marketplace.resolve_relative(entry)?;
    let rel = crate::fsutil::slash_path(&crate::fsutil::relative_path(repo, &dir));
    let subdir = match rel.as_str() {
        "." => String::new(),
        rel => subdir_path(rel)?,
    };
    let repository = open_local(repo)?;
    crate::git::export::check_folder(&repository, commit, &subdir)?;
    let manifest = first_manifest(&entry.name, |rel| {
        let path = match subdir.is_empty() {
            true => rel.to_string(),
            false => format!("{subdir}/{rel}"),
        };
        let bytes = crate::git::export::read_file(&repository, commit, &path)?;
        Ok(bytes.map(|b| (b, repo.join(&path))))
    })?;
    let base = pick_version(manifest.as_ref(), entry, Some(tag_version.to_string()));
    Ok(ResolvedPlugin {
        version: version::with_commit(&base, commit),
        resolved_version: Some(tag_version.to_string()),
        provenance: Some(Provenance {
            kind: "git".into(),
            what: commit.to_string(),
            integrity: None,
        }),
        git_commit: Some(commit.to_string()),
        fetched: Fetched::LocalCommit {
            repo: repo.to_path_buf(),
            commit: commit.to_string(),
            subdir,
        },
    })
}

/// The plugin manifest inside a zip, under `prefix`.
fn zip_manifest(
    zip: &Path,
    prefix: &Path,
    shown: &str,
    plugin: &str,
) -> Result<Option<PluginManifest>, SourceError> {
    first_manifest(plugin, |rel| {
        let inner = prefix.join(rel);
        let bytes = crate::registry::zipfile::read_file(zip, &inner)?;
        Ok(bytes.map(|b| (b, PathBuf::from(format!("{shown}:{}", inner.display())))))
    })
}

/// The first manifest `read` finds, in the usual folder order. `read` gets
/// `<dir>/plugin.json` and returns its bytes and the name to show in messages.
fn first_manifest(
    plugin: &str,
    mut read: impl FnMut(&str) -> Result<Option<(Vec<u8>, PathBuf)>, SourceError>,
) -> Result<Option<PluginManifest>, SourceError> {
    for dir in manifest::MANIFEST_DIRS {
        if let Some((bytes, shown)) = read(&format!("{dir}/plugin.json"))? {
            return Ok(Some(parse_found(&bytes, shown, plugin)?));
        }
    }
    Ok(None)
}

fn parse_found(bytes: &[u8], shown: PathBuf, plugin: &str) -> Result<PluginManifest, SourceError> {
    Ok(manifest::parse_manifest(
        &String::from_utf8_lossy(bytes),
        shown,
        plugin,
    )?)
}

fn pick_version(
    manifest: Option<&PluginManifest>,
    entry: &PluginEntry,
    derived: Option<String>,
) -> String {
    version::resolve(
        manifest.and_then(|m| m.version.as_deref()),
        entry.version.as_deref(),
        derived.as_deref(),
    )
}

/// The first 12 hex of a commit, the version of a git plugin that declares none.
fn short_sha(commit: &str) -> String {
    commit.chars().take(12).collect()
}

/// The URL of `owner/repo` on GitHub, or on the configured GitHub base.
fn github_url(repo: &str, cx: &SourceContext) -> Result<GitUrl, GitUrlError> {
    GitUrl::github(repo, cx.env.github_base_url.as_deref())
}

/// `owner/repo` shorthand (git-subdir accepts it besides URLs).
fn is_owner_repo(s: &str) -> bool {
    !s.contains(':') && s.split('/').count() == 2
}

fn subdir_path(path: &str) -> Result<String, SourceError> {
    let trimmed = path.trim_start_matches("./").trim_end_matches('/');
    let ok = !trimmed.is_empty()
        && !trimmed.contains('\\')
        && Path::new(trimmed)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if ok {
        Ok(trimmed.to_string())
    } else {
        Err(SourceError::SubdirPath(path.to_string()))
    }
}

/// The plugin manifest inside the fetched tree, looked for in the usual order.
fn git_manifest(
    db: &GitDatabase,
    commit: &str,
    subdir: &str,
    plugin: &str,
) -> Result<Option<PluginManifest>, SourceError> {
    first_manifest(plugin, |rel| {
        let rel = if subdir.is_empty() {
            rel.to_string()
        } else {
            format!("{subdir}/{rel}")
        };
        let bytes = crate::git::export::read_file(db.repo(), commit, &rel)?;
        Ok(bytes.map(|b| {
            let shown = PathBuf::from(format!("{}@{}:{rel}", db.url(), &commit[..12]));
            (b, shown)
        }))
    })
}
