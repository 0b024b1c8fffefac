//! Seed folders (`CLAUDE_CODE_PLUGIN_SEED_DIR`): read-only plugins roots prepared ahead of time
//! (in a container image, on a shared volume), laid out like `~/.claude/plugins`:
//!
//! ```text
//! $SEED/
//! ├── known_marketplaces.json          {"<name>": {"source", "installLocation", …}}
//! ├── marketplaces/<name>/             a git marketplace's clone (or <name> / <name>.json: a catalog)
//! ├── cache/<marketplace>/<plugin>/<version>/
//! └── installed_plugins.json           (optional; only its gitCommitSha values are read)
//! ```
//!
//! Built with `CLAUDE_CODE_PLUGIN_CACHE_DIR=$SEED plugin marketplace add …` and `… install …`.
//! Nothing here ever writes into a seed. A seed may have been moved since it was built, so the
//! paths it stores (`installLocation`, `installPath`) are never followed: a marketplace's
//! content is found by probing `$SEED/marketplaces/<name>` and `$SEED/marketplaces/<name>.json`
//! (Claude Code's rule), and a plugin's by probing `$SEED/cache/<m>/<p>/<version>/`. The first
//! seed that holds a marketplace (or a plugin version) wins.
//!
//! One difference from Claude Code: a seed entry whose source is a local `directory` or `file`
//! and that has no copy under `marketplaces/` is read from its recorded path when that exists
//! (it is the source itself, not a stored copy); Claude Code skips such entries.
//!
//! An unreadable or invalid seed `known_marketplaces.json` is not fatal (as in Claude Code):
//! that seed provides no marketplaces and the problem is kept for the caller to show.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::installed::InstalledPlugins;
use super::json::JsonDoc;

/// A marketplace a seed provides.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedMarketplace {
    pub name: String,
    /// The seed folder (an entry of `CLAUDE_CODE_PLUGIN_SEED_DIR`).
    pub seed: PathBuf,
    /// The `source` object the seed recorded when it was built. This, not where the content now
    /// lies, is what allow/block-list policy judges (Claude Code checks the seed's recorded
    /// source).
    pub recorded_source: Value,
    /// Where the content is now: `$SEED/marketplaces/<name>` (a clone folder or a catalog file),
    /// `$SEED/marketplaces/<name>.json`, or, for a local source, its recorded path.
    pub root: PathBuf,
    pub last_updated: Option<String>,
}

/// A plugin version folder inside a seed's cache.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedVersion {
    pub seed: PathBuf,
    /// `$SEED/cache/<marketplace>/<plugin>/<version folder>`.
    pub dir: PathBuf,
}

impl SeedVersion {
    /// The version folder's name (the sanitised version).
    pub fn folder(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

#[derive(Clone, Debug)]
struct Seed {
    dir: PathBuf,
    /// `known_marketplaces.json` entries in file order.
    known: Vec<(String, Value)>,
}

/// Every configured seed folder, in order.
#[derive(Clone, Debug, Default)]
pub struct SeedFolders {
    seeds: Vec<Seed>,
    problems: Vec<String>,
}

impl SeedFolders {
    /// Read each seed's `known_marketplaces.json`. A missing seed folder or file provides
    /// nothing; an unreadable or invalid file is a problem (see [`SeedFolders::problems`]).
    pub fn read(dirs: &[PathBuf]) -> Self {
        let mut out = SeedFolders::default();
        for dir in dirs {
            let path = dir.join("known_marketplaces.json");
            let known = match JsonDoc::read(&path) {
                Ok(doc) => doc.map.into_iter().collect(),
                Err(e) => {
                    out.problems.push(format!(
                        "seed folder {} (CLAUDE_CODE_PLUGIN_SEED_DIR) provides no marketplaces: {e}",
                        dir.display()
                    ));
                    Vec::new()
                }
            };
            out.seeds.push(Seed {
                dir: dir.clone(),
                known,
            });
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.seeds.is_empty()
    }

    /// What made a seed unusable (to be shown as warnings).
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// The marketplace `name` from the first seed that records it and holds its content.
    pub fn marketplace(&self, name: &str) -> Option<SeedMarketplace> {
        self.seeds.iter().find_map(|s| s.marketplace(name))
    }

    /// Every marketplace the seeds provide: seed order, then file order; the first seed wins
    /// for a name.
    pub fn marketplaces(&self) -> Vec<SeedMarketplace> {
        let mut out: Vec<SeedMarketplace> = Vec::new();
        for seed in &self.seeds {
            for (name, _) in &seed.known {
                if out.iter().all(|m| &m.name != name)
                    && let Some(m) = seed.marketplace(name)
                {
                    out.push(m);
                }
            }
        }
        out
    }

    /// `$SEED/cache/<marketplace>/<plugin>/<folder>/` in the first seed that has it.
    pub fn version(&self, marketplace: &str, plugin: &str, folder: &str) -> Option<SeedVersion> {
        if ![marketplace, plugin, folder].iter().all(|n| plain_name(n)) {
            return None;
        }
        self.seeds.iter().find_map(|s| {
            let dir = s
                .dir
                .join("cache")
                .join(marketplace)
                .join(plugin)
                .join(folder);
            usable_version_dir(&dir).then(|| SeedVersion {
                seed: s.dir.clone(),
                dir,
            })
        })
    }

    /// The only version folder of a plugin in the first seed that holds exactly one (orphaned
    /// and staging folders aside): what a plugin whose version cannot be known without fetching
    /// is taken from (Claude Code's rule for a version that is `unknown`).
    pub fn only_version(&self, marketplace: &str, plugin: &str) -> Option<SeedVersion> {
        if ![marketplace, plugin].iter().all(|n| plain_name(n)) {
            return None;
        }
        self.seeds.iter().find_map(|s| {
            let parent = s.dir.join("cache").join(marketplace).join(plugin);
            let found: Vec<PathBuf> = fs::read_dir(&parent)
                .ok()?
                .filter_map(|e| e.ok())
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path())
                .filter(|d| usable_version_dir(d) && !d.join(".orphaned_at").exists())
                .collect();
            match found.as_slice() {
                [one] => Some(SeedVersion {
                    seed: s.dir.clone(),
                    dir: one.clone(),
                }),
                _ => None,
            }
        })
    }

    /// The commit the seed's `installed_plugins.json` records for `id` installed in `v`'s folder
    /// (matched by the last components of `installPath`, since the seed may have moved).
    pub fn recorded_commit(&self, id: &str, v: &SeedVersion) -> Option<String> {
        let installed = InstalledPlugins::read(&v.seed.join("installed_plugins.json")).ok()?;
        let folder = v.folder();
        let plugin_dir = v.dir.parent()?.file_name()?;
        installed
            .records(id)
            .into_iter()
            .filter(|r| {
                let p = Path::new(&r.install_path);
                p.file_name().is_some_and(|n| n.to_string_lossy() == folder)
                    && p.parent().and_then(Path::file_name) == Some(plugin_dir)
            })
            .find_map(|r| r.git_commit_sha.filter(|s| !s.is_empty()))
    }
}

impl Seed {
    fn marketplace(&self, name: &str) -> Option<SeedMarketplace> {
        let (_, entry) = self.known.iter().find(|(n, _)| n == name)?;
        if !plain_name(name) {
            return None;
        }
        let source = entry.get("source")?.clone();
        let stored = self.dir.join("marketplaces");
        let probed = [stored.join(name), stored.join(format!("{name}.json"))]
            .into_iter()
            .find(|p| p.exists());
        let local_path = || {
            let kind = source.get("source").and_then(Value::as_str)?;
            let path = source.get("path").and_then(Value::as_str)?;
            let p = PathBuf::from(path);
            (matches!(kind, "directory" | "file") && p.is_absolute() && p.exists()).then_some(p)
        };
        let root = probed.or_else(local_path)?;
        Some(SeedMarketplace {
            name: name.to_string(),
            seed: self.dir.clone(),
            recorded_source: source,
            root,
            last_updated: entry
                .get("lastUpdated")
                .and_then(Value::as_str)
                .map(String::from),
        })
    }
}

/// A name usable as one path component under a seed (it came from a file or a command line).
fn plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// A version folder worth copying: a real, non-empty folder.
fn usable_version_dir(dir: &Path) -> bool {
    fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir())
        && fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(p: &Path, text: &str) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    #[test]
    fn first_seed_wins_and_content_is_probed_not_read_from_stored_paths() {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        let git = r#"{"source":{"source":"git","url":"https://h/x.git"},"installLocation":"/gone/marketplaces/"#;
        write(
            &a.join("known_marketplaces.json"),
            &format!(r#"{{"m": {git}m"}}, "absent": {git}absent"}}}}"#),
        );
        write(
            &a.join("marketplaces/m/.claude-plugin/marketplace.json"),
            "{}",
        );
        write(
            &b.join("known_marketplaces.json"),
            &format!(r#"{{"m": {git}m"}}, "n": {git}n"}}, "absent": {git}absent"}}}}"#),
        );
        write(&b.join("marketplaces/m/x"), "");
        write(&b.join("marketplaces/n.json"), "{}");
        let seeds = SeedFolders::read(&[a.clone(), b.clone(), t.path().join("missing")]);
        assert!(seeds.problems().is_empty());
        let m = seeds.marketplace("m").unwrap();
        assert_eq!((m.seed, m.root), (a.clone(), a.join("marketplaces/m")));
        assert_eq!(
            seeds.marketplace("n").unwrap().root,
            b.join("marketplaces/n.json")
        );
        assert_eq!(
            seeds.marketplace("absent"),
            None,
            "no content under marketplaces/"
        );
        let names: Vec<String> = seeds.marketplaces().into_iter().map(|m| m.name).collect();
        assert_eq!(names, ["m", "n"]);
        assert_eq!(
            seeds.marketplace("m").unwrap().recorded_source["url"],
            "https://h/x.git"
        );
    }

    #[test]
    fn versions_are_probed_in_seed_order() {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        write(&a.join("cache/m/p/1.0.0/f"), "a");
        write(&b.join("cache/m/p/1.0.0/f"), "b");
        write(&b.join("cache/m/p/2.0.0/f"), "b");
        write(&b.join("cache/m/q/old/.orphaned_at"), "1");
        write(&b.join("cache/m/q/new/f"), "b");
        fs::create_dir_all(b.join("cache/m/p/empty")).unwrap();
        let seeds = SeedFolders::read(&[a.clone(), b.clone()]);
        assert_eq!(
            seeds.version("m", "p", "1.0.0").unwrap().dir,
            a.join("cache/m/p/1.0.0")
        );
        assert_eq!(seeds.version("m", "p", "2.0.0").unwrap().seed, b);
        assert_eq!(seeds.version("m", "p", "empty"), None);
        assert_eq!(seeds.version("m", "p", ".."), None);
        assert_eq!(
            seeds.only_version("m", "p").unwrap().seed,
            a,
            "a holds one version"
        );
        assert_eq!(seeds.only_version("m", "q").unwrap().folder(), "new");
    }

    #[test]
    fn an_invalid_seed_file_is_a_problem_not_an_error() {
        let t = tempfile::tempdir().unwrap();
        write(&t.path().join("known_marketplaces.json"), "{nope");
        let seeds = SeedFolders::read(&[t.path().to_path_buf()]);
        assert!(seeds.marketplaces().is_empty());
        assert!(
            seeds.problems()[0].contains("known_marketplaces.json"),
            "{:?}",
            seeds.problems()
        );
    }
}
