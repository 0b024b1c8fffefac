//! Where things live on disk: the Claude config dir, the plugins root and the settings file of
//! every scope.
//!
//! ```text
//! $CLAUDE_CONFIG_DIR or ~/.claude/
//! ├── settings.json                      user scope (enabledPlugins, extraKnownMarketplaces)
//! └── plugins/                           plugins root ($CLAUDE_CODE_PLUGIN_CACHE_DIR overrides it)
//!     ├── installed_plugins.json
//!     ├── known_marketplaces.json
//!     ├── marketplaces/<name>/           clones / downloads of remote marketplaces
//!     ├── cache/<marketplace>/<plugin>/<version>/
//!     ├── data/<plugin-id>/              ${CLAUDE_PLUGIN_DATA}
//!     ├── .plugin-state.lock             ours: held for every read-modify-write of state
//!     └── .plugin-cache.lock             ours: shared while staging, exclusive while sweeping
//! <project>/.claude/settings.json        project scope
//! <project>/.claude/settings.local.json  local scope
//! ```
//!
//! `<project>` is the root of the git work tree that holds the working directory, or the working
//! directory itself outside git. Claude Code uses the git root for `local` but the working
//! directory for `project`; one folder for both is a documented difference. A `<project>` whose
//! `.claude/settings.json` is the user settings file (the home folder, or a home that is a git
//! work tree) is no project, as git sees no repository in a home folder without one.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::fsutil::{absolutize, expand_tilde};

/// A settings scope. `Managed` is read-only: it is never written by this tool. The order is
/// settings precedence: user < project < local < managed (a higher one's file wins).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    User,
    Project,
    Local,
    Managed,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::User => "user",
            Scope::Project => "project",
            Scope::Local => "local",
            Scope::Managed => "managed",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "user" => Some(Scope::User),
            "project" => Some(Scope::Project),
            "local" => Some(Scope::Local),
            "managed" => Some(Scope::Managed),
            _ => None,
        }
    }

    /// Scopes whose installs are tied to one project (and carry `projectPath`).
    pub fn is_project_bound(self) -> bool {
        matches!(self, Scope::Project | Scope::Local)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LocationError {
    #[error(
        "cannot find your home directory; set HOME or CLAUDE_CONFIG_DIR to say where Claude's files live"
    )]
    NoHome,
    #[error("cannot read the working directory: {0}")]
    Cwd(std::io::Error),
}

/// The marketplace `plugin link` records checkouts under when no `--as` names another.
pub const DEV_MARKETPLACE: &str = "dev";

/// Resolved locations for one invocation.
#[derive(Clone, Debug)]
pub struct Locations {
    pub home: PathBuf,
    /// The user's cache folder (`$XDG_CACHE_HOME` or `~/.cache` on Linux) for our own caches.
    pub user_cache: PathBuf,
    pub config_dir: PathBuf,
    pub plugins_root: PathBuf,
    pub cwd: PathBuf,
    pub project_dir: PathBuf,
    /// Where managed settings are read from (`PLUGIN_MANAGED_SETTINGS_DIR`, else the system's
    /// folder; see `state::managed`).
    pub managed_dir: PathBuf,
    /// Read-only seed folders (`CLAUDE_CODE_PLUGIN_SEED_DIR`), first one first; see `state::seed`.
    pub seed_dirs: Vec<PathBuf>,
}

impl Locations {
    /// Read the environment (`HOME`, `CLAUDE_CONFIG_DIR`, `CLAUDE_CODE_PLUGIN_CACHE_DIR`,
    /// `PLUGIN_MANAGED_SETTINGS_DIR`, `CLAUDE_CODE_PLUGIN_SEED_DIR`) and the working directory.
    pub fn from_env() -> Result<Self, LocationError> {
        let (home, user_cache) = crate::platform::user_dirs().ok_or(LocationError::NoHome)?;
        let cwd = std::env::current_dir().map_err(LocationError::Cwd)?;
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let mut loc = Self::new(
            home,
            cwd,
            env("CLAUDE_CONFIG_DIR").as_deref(),
            env("CLAUDE_CODE_PLUGIN_CACHE_DIR").as_deref(),
        );
        loc.user_cache = user_cache;
        if let Some(dir) = env("PLUGIN_MANAGED_SETTINGS_DIR") {
            loc.managed_dir = absolutize(&expand_tilde(&dir, &loc.home), &loc.cwd);
        }
        if let Some(raw) = std::env::var_os("CLAUDE_CODE_PLUGIN_SEED_DIR") {
            loc.seed_dirs = loc.parse_seed_dirs(&raw);
        }
        Ok(loc)
    }

    pub fn new(
        home: PathBuf,
        cwd: PathBuf,
        config_dir: Option<&str>,
        plugin_cache_dir: Option<&str>,
    ) -> Self {
        let expand = |raw: &str| absolutize(&expand_tilde(raw, &home), &cwd);
        let config_dir = config_dir
            .map(expand)
            .unwrap_or_else(|| home.join(".claude"));
        let plugins_root = plugin_cache_dir
            .map(expand)
            .unwrap_or_else(|| config_dir.join("plugins"));
        let project_dir = git_work_tree_root(&cwd).unwrap_or_else(|| cwd.clone());
        Self {
            user_cache: home.join(".cache"),
            home,
            config_dir,
            plugins_root,
            cwd,
            project_dir,
            managed_dir: default_managed_dir(),
            seed_dirs: Vec::new(),
        }
    }

    /// `CLAUDE_CODE_PLUGIN_SEED_DIR`: folders separated by `:` (`;` on Windows), as the platform's
    /// `PATH` is; empty entries are ignored, `~` is expanded, relative ones are taken from the
    /// working directory.
    pub fn parse_seed_dirs(&self, raw: &std::ffi::OsStr) -> Vec<PathBuf> {
        std::env::split_paths(raw)
            .filter(|p| !p.as_os_str().is_empty())
            .map(|p| self.user_path(&p.to_string_lossy()))
            .collect()
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.plugins_root.join("cache")
    }

    pub fn marketplaces_dir(&self) -> PathBuf {
        self.plugins_root.join("marketplaces")
    }

    /// Bare repositories shared by every git source and marketplace (`plugin cache` owns them,
    /// Claude Code never reads them).
    pub fn git_db_dir(&self) -> PathBuf {
        self.user_cache.join("plugin").join("git-v1").join("db")
    }

    /// Downloaded artifacts (npm tarballs, wheels, archives), named by their digest.
    pub fn downloads_dir(&self) -> PathBuf {
        self.user_cache.join("plugin").join("downloads-v1")
    }

    /// Remembered hashes of source folders by stat data (ours; see `cache::statcache`).
    pub fn stat_cache_dir(&self) -> PathBuf {
        self.user_cache.join("plugin").join("stat-v1")
    }

    /// What `plugin link` replaced (ours).
    pub fn links_file(&self) -> PathBuf {
        self.plugins_root.join(".plugin-links.json")
    }

    /// The folder of the `dev` marketplace that `plugin link` maintains.
    pub fn dev_marketplace_dir(&self) -> PathBuf {
        self.marketplaces_dir().join(DEV_MARKETPLACE)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.plugins_root.join("data")
    }

    /// A plugin's data folder (`${CLAUDE_PLUGIN_DATA}`): its id with every character outside
    /// `[A-Za-z0-9_-]` replaced by `-`.
    pub fn plugin_data_dir(&self, id: &str) -> PathBuf {
        let name: String = id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        self.data_dir().join(name)
    }

    pub fn installed_plugins_file(&self) -> PathBuf {
        self.plugins_root.join("installed_plugins.json")
    }

    pub fn known_marketplaces_file(&self) -> PathBuf {
        self.plugins_root.join("known_marketplaces.json")
    }

    pub fn state_lock_file(&self) -> PathBuf {
        self.plugins_root.join(".plugin-state.lock")
    }

    pub fn cache_lock_file(&self) -> PathBuf {
        self.plugins_root.join(".plugin-cache.lock")
    }

    /// The settings file a scope writes to; `None` for managed settings (read-only), and for
    /// project and local settings when there is no project (see [`Locations::no_project`]).
    pub fn settings_file(&self, scope: Scope) -> Option<PathBuf> {
        let project = || {
            self.no_project()
                .is_none()
                .then(|| self.project_dir.join(".claude"))
        };
        match scope {
            Scope::User => Some(self.user_settings_file()),
            Scope::Project => project().map(|d| d.join("settings.json")),
            Scope::Local => project().map(|d| d.join("settings.local.json")),
            Scope::Managed => None,
        }
    }

    fn user_settings_file(&self) -> PathBuf {
        self.config_dir.join("settings.json")
    }

    /// `Some(folder)` when the project folder's `.claude/settings.json` is the user settings file
    /// itself (run from the home folder): that folder is then no project, and project and local
    /// settings do not exist. Real paths are compared, so links and spellings do not matter, and
    /// a `CLAUDE_CONFIG_DIR` elsewhere makes the home folder a project like any other.
    pub fn no_project(&self) -> Option<&Path> {
        let project_file = self.project_dir.join(".claude").join("settings.json");
        (real_path(&project_file) == real_path(&self.user_settings_file()))
            .then_some(self.project_dir.as_path())
    }

    /// The project path recorded in `installed_plugins.json` for project-bound scopes.
    pub fn project_path(&self) -> &Path {
        &self.project_dir
    }

    /// Resolve a user-typed path (`~`, relative to the working directory).
    pub fn user_path(&self, raw: &str) -> PathBuf {
        absolutize(&expand_tilde(raw, &self.home), &self.cwd)
    }
}

/// `path` with links resolved and `.`/`..` removed, as far as it exists (a settings file or its
/// folder may not be created yet).
fn real_path(path: &Path) -> PathBuf {
    if let Ok(real) = crate::fsutil::canonicalize(path) {
        return real;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => real_path(parent).join(name),
        _ => crate::fsutil::normalize_lexically(path),
    }
}

/// The nearest ancestor of `dir` (itself included) that holds a `.git` entry.
fn git_work_tree_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The system's managed settings folder ([`crate::platform::MANAGED_SETTINGS_DIR`], Claude
/// Code's place on each OS). `PLUGIN_MANAGED_SETTINGS_DIR` overrides it, for tests and for
/// users who cannot write the system folder.
fn default_managed_dir() -> PathBuf {
    PathBuf::from(crate::platform::MANAGED_SETTINGS_DIR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_data_dir_names() {
        let l = Locations::new(PathBuf::from("/h"), PathBuf::from("/w"), None, None);
        assert_eq!(
            l.plugin_data_dir("a.b@m.x_Y"),
            PathBuf::from("/h/.claude/plugins/data/a-b-m-x_Y")
        );
        assert_eq!(
            l.plugin_data_dir("p1@m1"),
            PathBuf::from("/h/.claude/plugins/data/p1-m1")
        );
    }

    #[test]
    fn plugins_root_precedence() {
        let home = PathBuf::from("/h");
        let cwd = PathBuf::from("/w");
        let l = Locations::new(home.clone(), cwd.clone(), None, None);
        assert_eq!(l.plugins_root, PathBuf::from("/h/.claude/plugins"));
        let l = Locations::new(home.clone(), cwd.clone(), Some("/c"), None);
        assert_eq!(l.plugins_root, PathBuf::from("/c/plugins"));
        assert_eq!(
            l.settings_file(Scope::User),
            Some(PathBuf::from("/c/settings.json"))
        );
        let l = Locations::new(home, cwd, Some("/c"), Some("~/pc"));
        assert_eq!(l.plugins_root, PathBuf::from("/h/pc"));
    }

    #[cfg(unix)] // `:` separates them on Unix, `;` on Windows (std::env::split_paths)
    #[test]
    fn seed_dirs_split_like_path() {
        let l = Locations::new(PathBuf::from("/h"), PathBuf::from("/w"), None, None);
        assert_eq!(
            l.parse_seed_dirs(std::ffi::OsStr::new("/a::rel/s:~/s2:")),
            vec![
                PathBuf::from("/a"),
                PathBuf::from("/w/rel/s"),
                PathBuf::from("/h/s2")
            ]
        );
        assert!(l.parse_seed_dirs(std::ffi::OsStr::new("")).is_empty());
    }

    #[test]
    fn project_dir_is_git_root() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("repo/.git")).unwrap();
        std::fs::create_dir_all(t.path().join("repo/a/b")).unwrap();
        let l = Locations::new(PathBuf::from("/h"), t.path().join("repo/a/b"), None, None);
        assert_eq!(l.project_dir, t.path().join("repo"));
        assert_eq!(
            l.settings_file(Scope::Local).unwrap(),
            t.path().join("repo/.claude/settings.local.json")
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_home_folder_is_no_project() {
        let t = tempfile::tempdir().unwrap();
        let home = crate::fsutil::canonicalize(t.path()).unwrap().join("home");
        std::fs::create_dir_all(home.join("sub")).unwrap();
        // ~/.claude does not exist yet: still the same file.
        let l = Locations::new(home.clone(), home.clone(), None, None);
        assert_eq!(l.no_project(), Some(home.as_path()));
        assert_eq!(l.settings_file(Scope::Project), None);
        assert_eq!(l.settings_file(Scope::Local), None);
        std::fs::create_dir_all(home.join(".claude")).unwrap();
        // Another spelling of the same folder (a link to it, a `..`).
        std::os::unix::fs::symlink(&home, t.path().join("link")).unwrap();
        let l = Locations::new(home.clone(), t.path().join("link"), None, None);
        assert!(l.no_project().is_some());
        let l = Locations::new(home.clone(), home.join("sub/.."), None, None);
        assert!(l.no_project().is_some());
        // A home that is a git work tree: its sub-folders are not projects either.
        std::fs::create_dir_all(home.join(".git")).unwrap();
        let l = Locations::new(home.clone(), home.join("sub"), None, None);
        assert!(l.no_project().is_some());
        // With CLAUDE_CONFIG_DIR elsewhere, ~/.claude/settings.json is a project's file.
        let config = t.path().join("config");
        let l = Locations::new(home.clone(), home.clone(), config.to_str(), None);
        assert_eq!(l.no_project(), None);
        assert_eq!(
            l.settings_file(Scope::Project),
            Some(home.join(".claude/settings.json"))
        );
        // … and the folder whose .claude/ CLAUDE_CONFIG_DIR names is none.
        let proj = t.path().join("proj");
        std::fs::create_dir_all(proj.join(".claude")).unwrap();
        let config = proj.join(".claude");
        let l = Locations::new(home.clone(), proj.clone(), config.to_str(), None);
        assert!(l.no_project().is_some());
        let l = Locations::new(home, t.path().join("work"), None, None);
        assert_eq!(l.no_project(), None);
    }
}
