//! The environment variables that change how `plugin` fetches and waits, read once into one
//! struct by `cli` ([`Environment::from_process`]) and carried in `ops::Context`. Modules deep
//! down (git, registry, lock) are handed the values they need and never read `std::env`
//! themselves, so every variable the program honours is listed here.
//!
//! Not here: the folders (`HOME`, `CLAUDE_CONFIG_DIR`, …), which `locations` reads at the edge;
//! `${VAR}` in `.npmrc` values, which npm's configuration names itself; and the test hooks of
//! `fsutil::test_hook`, which release builds never read.

use std::path::PathBuf;
use std::time::Duration;

/// The environment variables a GitHub token is read from, in order.
pub const GITHUB_TOKEN_VARS: &[&str] = &["GITHUB_TOKEN", "GH_TOKEN"];

/// Lowers the unpacked-size cap of one install (a number of bytes, see `registry::unpack`); a
/// larger or unreadable value is ignored.
pub const MAX_UNPACKED_VAR: &str = "PLUGIN_MAX_UNPACK_BYTES";

#[derive(Clone)]
pub struct Environment {
    /// The limit for one network operation: `CLAUDE_CODE_PLUGIN_GIT_TIMEOUT_MS`, default 120 s
    /// (Claude Code's variable and default), for git and HTTP alike.
    pub network_timeout: Duration,
    /// `PLUGIN_GITHUB_BASE_URL`: where `owner/repo` sources live instead of github.com (GitHub
    /// Enterprise, mirrors and tests).
    pub github_base_url: Option<String>,
    /// The first non-blank of [`GITHUB_TOKEN_VARS`].
    pub github_token: Option<String>,
    /// How long to wait for a file lock: `PLUGIN_LOCK_TIMEOUT` seconds, default 300.
    pub lock_timeout: Duration,
    /// [`MAX_UNPACKED_VAR`], as a positive number of bytes.
    pub max_unpacked: Option<u64>,
    /// `npm_config_registry`, npm's own override of the configured registry.
    pub npm_registry: Option<String>,
    /// `PIP_INDEX_URL`, pip's own override of the configured index.
    pub pip_index_url: Option<String>,
    /// `PIP_CONFIG_FILE`, the pip configuration file read first.
    pub pip_config_file: Option<PathBuf>,
    /// `PLUGIN_LINK_MODE` as given (`hardlink`, `clone` or `copy`; checked where the content
    /// store is opened, see `cache::store`).
    pub link_mode: Option<String>,
}

/// Not derived: the token, and registry or index URLs (which may carry a user and password),
/// never reach a debug print; only whether they are set.
impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |v: &Option<String>| v.as_ref().map(|_| "<set>");
        f.debug_struct("Environment")
            .field("network_timeout", &self.network_timeout)
            .field("github_base_url", &self.github_base_url)
            .field("github_token", &set(&self.github_token))
            .field("lock_timeout", &self.lock_timeout)
            .field("max_unpacked", &self.max_unpacked)
            .field("npm_registry", &set(&self.npm_registry))
            .field("pip_index_url", &set(&self.pip_index_url))
            .field("pip_config_file", &self.pip_config_file)
            .field("link_mode", &self.link_mode)
            .finish()
    }
}

impl Environment {
    /// The process's environment, read now.
    pub fn from_process() -> Self {
        let var = |k: &str| std::env::var(k).ok();
        let non_empty = |k: &str| var(k).filter(|v| !v.is_empty());
        Self {
            network_timeout: var("CLAUDE_CODE_PLUGIN_GIT_TIMEOUT_MS")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|&ms| ms > 0)
                .map(Duration::from_millis)
                .unwrap_or(Duration::from_secs(120)),
            github_base_url: non_empty("PLUGIN_GITHUB_BASE_URL"),
            github_token: GITHUB_TOKEN_VARS
                .iter()
                .find_map(|k| var(k).filter(|t| !t.trim().is_empty())),
            lock_timeout: var("PLUGIN_LOCK_TIMEOUT")
                .and_then(|v| v.parse::<u64>().ok())
                .map(Duration::from_secs)
                .unwrap_or(Duration::from_secs(300)),
            max_unpacked: var(MAX_UNPACKED_VAR)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|&v| v > 0),
            npm_registry: non_empty("npm_config_registry"),
            pip_index_url: non_empty("PIP_INDEX_URL"),
            pip_config_file: var("PIP_CONFIG_FILE").map(PathBuf::from),
            link_mode: non_empty("PLUGIN_LINK_MODE"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_print_keeps_secrets_out() {
        let env = Environment {
            network_timeout: Duration::from_secs(1),
            github_base_url: None,
            github_token: Some("ghp_SECRET".into()),
            lock_timeout: Duration::from_secs(1),
            max_unpacked: None,
            npm_registry: Some("https://u:PASSWORD@npm.example/".into()),
            pip_index_url: Some("https://u:PASSWORD@pypi.example/simple".into()),
            pip_config_file: None,
            link_mode: None,
        };
        let printed = format!("{env:?}");
        assert!(
            !printed.contains("SECRET") && !printed.contains("PASSWORD"),
            "{printed}"
        );
        assert!(
            printed.contains("github_token: Some(\"<set>\")"),
            "{printed}"
        );
    }
}
