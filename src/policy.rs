//! Enterprise marketplace policy from managed settings: `blockedMarketplaces`, then
//! `strictKnownMarketplaces` (alias `allowedMarketplaces`), checked before any network or disk
//! access to a marketplace's source (Claude Code's rules: docs §10.3, §10.4).
//!
//! - The blocklist is checked first and matches widely, so that spelling a source differently
//!   does not get round it: git URLs are compared by host and repository path (`git@host:o/r`,
//!   `ssh://git@host/o/r` and `https://host/o/r` are one repository; user, port, `.git`, trailing
//!   slash and case are ignored); a `github` entry blocks the equivalent `github.com` git URL and
//!   the other way round; `url` entries also block repositories cloned from the same https URL;
//!   an entry without `ref`/`path` blocks every ref/path; `owner/*` ignores case; a `directory`
//!   entry also blocks what lies inside it.
//! - The allowlist is exact, as Claude Code's is: `repo`/`url` as written, `ref` and `path` equal
//!   or absent on both; `owner/*` matches the repository-name position of a `github` source only
//!   (case-sensitive); `hostPattern`/`pathPattern` are regular expressions that match anywhere in
//!   the host / the path (anchor them with `^…$`). Undefined: no restriction; `[]`: lockdown.
//!
//! A policy that cannot be read (bad JSON, an entry that is not a source, a pattern that does not
//! compile) is an error: nothing may act under a policy we could not read (fail closed).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::git::url::{RepoKey, url_host};
use crate::marketplace::MarketplaceSource;
use crate::state::JsonFileError;
use crate::state::managed::ManagedSettings;

pub const BLOCKED_KEY: &str = "blockedMarketplaces";
/// The allowlist and its alias; when both are set a source must pass each.
pub const ALLOWED_KEYS: [&str; 2] = ["strictKnownMarketplaces", "allowedMarketplaces"];

const SOURCE_TYPES: &str =
    "github, git, url, npm, file, directory, hostPattern, pathPattern, skills-dir, settings";

/// The policy could not be read; every command it guards refuses to act.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error(
        "Could not read the managed settings, so no marketplace is added, installed or updated: {0}"
    )]
    Unreadable(#[from] JsonFileError),
    #[error(
        "Invalid marketplace policy in managed settings {}: {key}{}: {problem}. Nothing was changed; the managed settings must be fixed (ask your administrator)",
        .files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", "),
        .index.map(|i| format!("[{i}]")).unwrap_or_default()
    )]
    Invalid {
        /// The managed files holding the bad value (all of them when it could not be traced).
        files: Vec<PathBuf>,
        key: String,
        /// The entry's position in the list of the (first) file named.
        index: Option<usize>,
        problem: String,
    },
}

/// Why a source may not be used. The texts are Claude Code's `marketplace add` refusals.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyViolation {
    #[error("Marketplace source '{described}' is blocked by enterprise policy.")]
    Blocked { described: String },
    #[error(
        "Marketplace source '{described}' is blocked by enterprise policy. No external marketplaces are allowed."
    )]
    Lockdown { described: String },
    #[error(
        "Marketplace source '{described}' is blocked by enterprise policy. Allowed sources: {}",
        .allowed.join(", ")
    )]
    NotAllowed {
        described: String,
        allowed: Vec<String>,
    },
}

impl PolicyViolation {
    /// Refused by `blockedMarketplaces` (rather than by the allowlist).
    pub fn is_blocklisted(&self) -> bool {
        matches!(self, PolicyViolation::Blocked { .. })
    }
}

/// A regular expression of a `hostPattern` / `pathPattern` entry, with its text.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub text: String,
    regex: regex_lite::Regex,
}

impl Pattern {
    fn is_match(&self, s: &str) -> bool {
        self.regex.is_match(s)
    }
}

/// One entry of a policy list.
#[derive(Debug, Clone)]
pub enum Rule {
    /// `repo` is `owner/repo` or `owner/*`.
    Github {
        repo: String,
        reference: Option<String>,
        path: Option<String>,
    },
    Git {
        url: String,
        reference: Option<String>,
        path: Option<String>,
    },
    /// `headers` are not compared.
    Url {
        url: String,
    },
    /// Parses; matches nothing (npm marketplaces do not exist).
    Npm {
        package: String,
    },
    File {
        path: String,
    },
    Directory {
        path: String,
    },
    HostPattern(Pattern),
    PathPattern(Pattern),
    /// Concerns `@skills-dir` plugins, never a marketplace source.
    SkillsDir,
    Settings {
        name: String,
        plugins: Option<Value>,
    },
}

impl Rule {
    /// Read one list entry; the error is the problem, worded for the admin.
    pub fn parse(v: &Value) -> Result<Rule, String> {
        let Some(obj) = v.as_object() else {
            return Err(format!(
                "{v} is not a marketplace source (expected an object such as {{\"source\": \"github\", \"repo\": \"owner/repo\"}})"
            ));
        };
        let Some(kind) = obj.get("source").and_then(Value::as_str) else {
            return Err(format!("{v} has no \"source\" (one of {SOURCE_TYPES})"));
        };
        let required = |key: &str| -> Result<String, String> {
            match obj.get(key) {
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                _ => Err(format!(
                    "a \"{kind}\" entry needs \"{key}\" (a non-empty string): {v}"
                )),
            }
        };
        let optional = |key: &str| -> Result<Option<String>, String> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("\"{key}\" must be a string: {v}")),
            }
        };
        let pattern = |key: &str| -> Result<Pattern, String> {
            let text = required(key)?;
            match regex_lite::Regex::new(&text) {
                Ok(regex) => Ok(Pattern { text, regex }),
                Err(e) => Err(format!(
                    "{key} \"{text}\" is not a valid regular expression ({e})"
                )),
            }
        };
        Ok(match kind {
            "github" => {
                let repo = required("repo")?;
                let valid = repo
                    .split_once('/')
                    .is_some_and(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'));
                if !valid {
                    return Err(format!("repo \"{repo}\" is not owner/repo or owner/*: {v}"));
                }
                Rule::Github {
                    repo,
                    reference: optional("ref")?,
                    path: optional("path")?,
                }
            }
            "git" => Rule::Git {
                url: required("url")?,
                reference: optional("ref")?,
                path: optional("path")?,
            },
            "url" => Rule::Url {
                url: required("url")?,
            },
            "npm" => Rule::Npm {
                package: required("package")?,
            },
            "file" => Rule::File {
                path: required("path")?,
            },
            "directory" => Rule::Directory {
                path: required("path")?,
            },
            "hostPattern" => Rule::HostPattern(pattern("hostPattern")?),
            "pathPattern" => Rule::PathPattern(pattern("pathPattern")?),
            "skills-dir" => Rule::SkillsDir,
            "settings" => Rule::Settings {
                name: required("name")?,
                plugins: obj.get("plugins").cloned(),
            },
            other => {
                return Err(format!(
                    "unknown source \"{other}\" (expected one of {SOURCE_TYPES})"
                ));
            }
        })
    }

    /// Short form for messages, in the style of [`MarketplaceSource::describe`].
    pub fn describe(&self) -> String {
        let pinned = |base: String, reference: &Option<String>, path: &Option<String>| {
            let mut s = base;
            if let Some(r) = reference {
                let _ = write!(s, "#{r}");
            }
            if let Some(p) = path {
                let _ = write!(s, " (path {p})");
            }
            s
        };
        match self {
            Rule::Github {
                repo,
                reference,
                path,
            } => pinned(format!("github:{repo}"), reference, path),
            Rule::Git {
                url,
                reference,
                path,
            } => pinned(format!("git:{url}"), reference, path),
            Rule::Url { url } => format!("url:{url}"),
            Rule::Npm { package } => format!("npm:{package}"),
            Rule::File { path } => format!("file:{path}"),
            Rule::Directory { path } => format!("dir:{path}"),
            Rule::HostPattern(p) => format!("hostPattern:{}", p.text),
            Rule::PathPattern(p) => format!("pathPattern:{}", p.text),
            Rule::SkillsDir => "skills-dir".to_string(),
            Rule::Settings { name, .. } => format!("settings:{name}"),
        }
    }

    /// Blocklist matching (wide; see the module documentation).
    fn blocks(&self, s: &Subject) -> bool {
        let key = s.repo_key();
        let pins_ok = |reference: &Option<String>, path: &Option<String>| {
            reference.is_none() || reference.as_deref() == s.reference()
        } && (path.is_none() || path.as_deref() == s.path());
        match self {
            Rule::Github {
                repo,
                reference,
                path,
            } => {
                let repo_ok = match (repo.strip_suffix("/*"), &key) {
                    (Some(owner), Some(k)) => {
                        k.host == "github.com"
                            && k.path.split_once('/').is_some_and(|(o, r)| {
                                o.eq_ignore_ascii_case(owner) && !r.contains('/')
                            })
                    }
                    (None, Some(k)) => *k == RepoKey::github(repo),
                    (_, None) => false,
                };
                repo_ok && pins_ok(reference, path)
            }
            Rule::Git {
                url,
                reference,
                path,
            } => {
                let repo_ok = match (RepoKey::of_url(url), &key) {
                    (Some(rule), Some(k)) => rule == *k,
                    _ => s.url() == Some(url.as_str()),
                };
                repo_ok && pins_ok(reference, path)
            }
            // Any ref of the repository the URL names.
            Rule::Url { url } => match (RepoKey::of_url(url), &key) {
                (Some(rule), Some(k)) => rule == *k,
                _ => s.url() == Some(url.as_str()),
            },
            Rule::File { path } => match s {
                Subject::File(p) => lexical(path) == lexical(p),
                _ => false,
            },
            Rule::Directory { path } => match s {
                Subject::File(p) | Subject::Directory(p) => lexical(p).starts_with(lexical(path)),
                _ => false,
            },
            Rule::HostPattern(_) | Rule::PathPattern(_) | Rule::Settings { .. } => self.allows(s),
            Rule::Npm { .. } | Rule::SkillsDir => false,
        }
    }

    /// Allowlist matching (exact; see the module documentation).
    fn allows(&self, s: &Subject) -> bool {
        match (self, s) {
            (
                Rule::Github {
                    repo,
                    reference,
                    path,
                },
                Subject::Github {
                    repo: r,
                    reference: sr,
                    path: sp,
                },
            ) => match repo.strip_suffix("/*") {
                Some(owner) => {
                    r.split_once('/')
                        .is_some_and(|(o, n)| o == owner && !n.is_empty() && !n.contains('/'))
                        && reference == sr
                        && (path.is_none() || path == sp)
                }
                None => repo == r && reference == sr && path == sp,
            },
            (
                Rule::Git {
                    url,
                    reference,
                    path,
                },
                Subject::Git {
                    url: u,
                    reference: sr,
                    path: sp,
                },
            ) => url == u && reference == sr && path == sp,
            (Rule::Url { url }, Subject::Url(u)) => url == u,
            (Rule::File { path }, Subject::File(p)) => path == p,
            (Rule::Directory { path }, Subject::Directory(p)) => path == p,
            (Rule::HostPattern(re), s) => s.host().is_some_and(|h| re.is_match(&h)),
            (Rule::PathPattern(re), Subject::File(p) | Subject::Directory(p)) => re.is_match(p),
            (
                Rule::Settings { name, plugins },
                Subject::Settings {
                    name: n,
                    plugins: p,
                },
            ) => name == n && plugins == p,
            _ => false,
        }
    }
}

/// What a policy is checked against: a marketplace source, as typed or as recorded.
#[derive(Debug, Clone, PartialEq)]
enum Subject {
    Github {
        repo: String,
        reference: Option<String>,
        path: Option<String>,
    },
    Git {
        url: String,
        reference: Option<String>,
        path: Option<String>,
    },
    Url(String),
    File(String),
    Directory(String),
    Settings {
        name: String,
        plugins: Option<Value>,
    },
    /// A type no rule names (e.g. `npm`): allowed by no allowlist, blocked by no blocklist entry.
    Other,
}

impl Subject {
    /// A `source` object as stored in `known_marketplaces.json` (keeps `path`, which
    /// [`MarketplaceSource`] does not model).
    fn of_json(v: &Value) -> Self {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
        let kind = v.get("source").and_then(Value::as_str).unwrap_or_default();
        let subject = match kind {
            "github" => s("repo").map(|repo| Subject::Github {
                repo,
                reference: s("ref"),
                path: s("path"),
            }),
            "git" => s("url").map(|url| Subject::Git {
                url,
                reference: s("ref"),
                path: s("path"),
            }),
            "url" => s("url").map(Subject::Url),
            "file" => s("path").map(Subject::File),
            "directory" => s("path").map(Subject::Directory),
            "settings" => s("name").map(|name| Subject::Settings {
                name,
                plugins: v.get("plugins").cloned(),
            }),
            _ => None,
        };
        subject.unwrap_or(Subject::Other)
    }

    fn reference(&self) -> Option<&str> {
        match self {
            Subject::Github { reference, .. } | Subject::Git { reference, .. } => {
                reference.as_deref()
            }
            _ => None,
        }
    }

    fn path(&self) -> Option<&str> {
        match self {
            Subject::Github { path, .. } | Subject::Git { path, .. } => path.as_deref(),
            _ => None,
        }
    }

    fn url(&self) -> Option<&str> {
        match self {
            Subject::Git { url, .. } | Subject::Url(url) => Some(url),
            _ => None,
        }
    }

    fn repo_key(&self) -> Option<RepoKey> {
        match self {
            Subject::Github { repo, .. } => Some(RepoKey::github(repo)),
            Subject::Git { url, .. } | Subject::Url(url) => RepoKey::of_url(url),
            _ => None,
        }
    }

    /// The host a `hostPattern` is matched against.
    fn host(&self) -> Option<String> {
        match self {
            Subject::Github { .. } => Some("github.com".to_string()),
            Subject::Git { url, .. } | Subject::Url(url) => url_host(url),
            _ => None,
        }
    }

    fn describe(&self, raw: Option<&Value>) -> String {
        match self {
            Subject::Github { repo, .. } => format!("github:{repo}"),
            Subject::Git { url, .. } => format!("git:{url}"),
            Subject::Url(u) => format!("url:{u}"),
            Subject::File(p) => format!("file:{p}"),
            Subject::Directory(p) => format!("dir:{p}"),
            Subject::Settings { name, .. } => format!("settings:{name}"),
            Subject::Other => raw.map(Value::to_string).unwrap_or_default(),
        }
    }
}

/// `path` with `.` removed and `..` applied, without touching the disk.
fn lexical(path: &str) -> PathBuf {
    crate::fsutil::normalize_lexically(Path::new(path))
}

/// One allowlist as read from managed settings.
#[derive(Debug, Clone)]
struct AllowList {
    rules: Vec<Rule>,
}

/// The marketplace policy of the merged managed settings.
#[derive(Debug, Clone, Default)]
pub struct MarketplacePolicy {
    blocked: Vec<Rule>,
    /// One per allowlist key set (undefined: none; `[]`: lockdown).
    allowed: Vec<AllowList>,
}

impl MarketplacePolicy {
    /// Read the policy lists of `managed`; any entry that is not a valid source fails the whole
    /// policy, naming the file(s), key and index.
    pub fn from_managed(managed: &ManagedSettings) -> Result<Self, PolicyError> {
        let list = |key: &str| -> Result<Option<Vec<Rule>>, PolicyError> {
            let Some(value) = managed.get(key) else {
                return Ok(None);
            };
            let Some(items) = value.as_array() else {
                let (files, _) = locate(managed, key, None);
                return Err(PolicyError::Invalid {
                    files,
                    key: key.to_string(),
                    index: None,
                    problem: format!("must be a list of marketplace sources, not {value}"),
                });
            };
            items
                .iter()
                .map(|item| {
                    Rule::parse(item).map_err(|problem| {
                        let (files, index) = locate(managed, key, Some(item));
                        PolicyError::Invalid {
                            files,
                            key: key.to_string(),
                            index,
                            problem,
                        }
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
        };
        let blocked = list(BLOCKED_KEY)?.unwrap_or_default();
        let mut allowed = Vec::new();
        for key in ALLOWED_KEYS {
            if let Some(rules) = list(key)? {
                allowed.push(AllowList { rules });
            }
        }
        Ok(Self { blocked, allowed })
    }

    /// May this source be used (added, fetched, installed from)?
    pub fn check_source(&self, source: &MarketplaceSource) -> Result<(), PolicyViolation> {
        // `to_json` writes the keys `of_json` reads: one reading of a source for both.
        self.check(&Subject::of_json(&source.to_json()), || source.describe())
    }

    /// The same check for a `source` object as stored in `known_marketplaces.json`.
    pub fn check_recorded(&self, source: &Value) -> Result<(), PolicyViolation> {
        let subject = Subject::of_json(source);
        self.check(&subject, || subject.describe(Some(source)))
    }

    fn check(
        &self,
        subject: &Subject,
        describe: impl Fn() -> String,
    ) -> Result<(), PolicyViolation> {
        if self.blocked.iter().any(|r| r.blocks(subject)) {
            return Err(PolicyViolation::Blocked {
                described: describe(),
            });
        }
        for list in &self.allowed {
            if list.rules.is_empty() {
                return Err(PolicyViolation::Lockdown {
                    described: describe(),
                });
            }
            if !list.rules.iter().any(|r| r.allows(subject)) {
                return Err(PolicyViolation::NotAllowed {
                    described: describe(),
                    allowed: list.rules.iter().map(Rule::describe).collect(),
                });
            }
        }
        Ok(())
    }
}

/// The managed files whose `key` holds `item` (or, without `item`, holds a value that is not a
/// list), with the item's index in the first; every file read when none can be found.
fn locate(
    managed: &ManagedSettings,
    key: &str,
    item: Option<&Value>,
) -> (Vec<PathBuf>, Option<usize>) {
    let mut files = Vec::new();
    let mut index = None;
    for d in &managed.layers {
        let f = &d.path;
        let Some(value) = d.map.get(key) else {
            continue;
        };
        let position = match (item, value.as_array()) {
            (Some(item), Some(items)) => items.iter().position(|x| x == item),
            (None, None) => Some(0),
            _ => None,
        };
        if let Some(p) = position {
            if files.is_empty() && item.is_some() {
                index = Some(p);
            }
            files.push(f.clone());
        }
    }
    if files.is_empty() {
        files = managed.sources().map(Path::to_path_buf).collect();
    }
    (files, index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::json::JsonDoc;
    use serde_json::json;

    fn policy(v: Value) -> MarketplacePolicy {
        let map = v.as_object().cloned().unwrap_or_default();
        let managed = ManagedSettings {
            layers: vec![JsonDoc::in_memory(
                Path::new("/etc/claude-code/managed-settings.json"),
                map.clone(),
            )],
            map,
        };
        MarketplacePolicy::from_managed(&managed).unwrap()
    }

    fn git(url: &str) -> MarketplaceSource {
        MarketplaceSource::Git {
            url: url.into(),
            reference: None,
        }
    }

    fn git_ref(url: &str, r: &str) -> MarketplaceSource {
        MarketplaceSource::Git {
            url: url.into(),
            reference: Some(r.into()),
        }
    }

    fn gh(repo: &str) -> MarketplaceSource {
        MarketplaceSource::Github {
            repo: repo.into(),
            reference: None,
        }
    }

    fn gh_ref(repo: &str, r: &str) -> MarketplaceSource {
        MarketplaceSource::Github {
            repo: repo.into(),
            reference: Some(r.into()),
        }
    }

    fn dir(p: &str) -> MarketplaceSource {
        MarketplaceSource::Directory(p.into())
    }

    fn ok(p: &MarketplacePolicy, s: &MarketplaceSource) -> bool {
        p.check_source(s).is_ok()
    }

    fn blocked(entries: Value) -> MarketplacePolicy {
        policy(json!({ "blockedMarketplaces": entries }))
    }

    fn allowed(entries: Value) -> MarketplacePolicy {
        policy(json!({ "strictKnownMarketplaces": entries }))
    }

    #[test]
    fn undefined_lists_allow_everything() {
        let p = policy(json!({"model": "x"}));
        assert!(p.blocked.is_empty() && p.allowed.is_empty());
        for s in [gh("a/b"), git("https://h/x.git"), dir("/x")] {
            assert!(ok(&p, &s));
        }
    }

    #[test]
    fn empty_allowlist_is_lockdown_with_claude_codes_message() {
        for key in ALLOWED_KEYS {
            let p = policy(json!({ key: [] }));
            assert_eq!(
                p.check_source(&dir("/fx/m1")).unwrap_err().to_string(),
                "Marketplace source 'dir:/fx/m1' is blocked by enterprise policy. No external marketplaces are allowed."
            );
        }
        // The blocklist alone never locks down.
        assert!(ok(&blocked(json!([])), &dir("/fx/m1")));
    }

    #[test]
    fn not_allowed_lists_the_allowed_sources() {
        let p = allowed(json!([
            {"source": "directory", "path": "/fx/m1"},
            {"source": "github", "repo": "acme/m", "ref": "v1"},
            {"source": "hostPattern", "hostPattern": "^git\\.acme\\.com$"}
        ]));
        assert!(ok(&p, &dir("/fx/m1")));
        let e = p.check_source(&dir("/fx/mA")).unwrap_err();
        assert!(!e.is_blocklisted());
        assert_eq!(
            e.to_string(),
            "Marketplace source 'dir:/fx/mA' is blocked by enterprise policy. Allowed sources: dir:/fx/m1, github:acme/m#v1, hostPattern:^git\\.acme\\.com$"
        );
    }

    #[test]
    fn blocklist_comes_first_and_has_its_own_message() {
        let p = policy(json!({
            "blockedMarketplaces": [{"source": "directory", "path": "/fx/mA"}],
            "strictKnownMarketplaces": [{"source": "directory", "path": "/fx/mA"}]
        }));
        let e = p.check_source(&dir("/fx/mA")).unwrap_err();
        assert!(e.is_blocklisted());
        assert_eq!(
            e.to_string(),
            "Marketplace source 'dir:/fx/mA' is blocked by enterprise policy."
        );
    }

    #[test]
    fn blocklist_canonicalises_git_urls() {
        let p = blocked(json!([{"source": "git", "url": "https://git.acme.com/team/m.git"}]));
        for url in [
            "https://git.acme.com/team/m.git",
            "https://git.acme.com/team/m",
            "https://git.acme.com/team/m/",
            "https://GIT.Acme.com/team/m.git",
            "https://user@git.acme.com:443/team/m.git",
            "git@git.acme.com:team/m.git",
            "git@git.acme.com:team/m",
            "ssh://git@git.acme.com/team/m.git",
            "ssh://git@git.acme.com:22/team/m",
            "http://git.acme.com/team/m.git#main",
        ] {
            assert!(!ok(&p, &git(url)), "{url} should be blocked");
        }
        for url in [
            "https://git.acme.com/team/other.git",
            "https://git.acme.com/team/m2.git",
            "https://other.com/team/m.git",
            "git@git.acme.com:team/m/sub.git",
        ] {
            assert!(ok(&p, &git(url)), "{url} should pass");
        }
        // The entry's own spelling is canonicalised too.
        let p = blocked(json!([{"source": "git", "url": "git@git.acme.com:team/m"}]));
        assert!(!ok(&p, &git("https://git.acme.com/team/m.git")));
    }

    #[test]
    fn blocklist_github_and_git_are_equivalent() {
        let p = blocked(json!([{"source": "github", "repo": "acme/m"}]));
        for s in [
            gh("acme/m"),
            gh("ACME/M"),
            gh_ref("acme/m", "v2"),
            git("https://github.com/acme/m.git"),
            git("git@github.com:acme/m.git"),
            git("ssh://git@github.com/acme/m"),
        ] {
            assert!(!ok(&p, &s), "{s:?} should be blocked");
        }
        assert!(ok(&p, &gh("acme/other")));
        assert!(ok(&p, &git("https://gitlab.com/acme/m.git")));
        let p = blocked(json!([{"source": "git", "url": "https://github.com/acme/m.git"}]));
        assert!(!ok(&p, &gh("acme/m")));
        assert!(!ok(&p, &gh_ref("Acme/M", "main")));
    }

    #[test]
    fn blocklist_ref_and_path_pins() {
        let p = blocked(json!([{"source": "github", "repo": "acme/m", "ref": "bad"}]));
        assert!(!ok(&p, &gh_ref("acme/m", "bad")));
        assert!(!ok(&p, &git_ref("https://github.com/acme/m", "bad")));
        assert!(ok(&p, &gh_ref("acme/m", "good")));
        assert!(ok(&p, &gh("acme/m")));
        let p = blocked(json!([{"source": "github", "repo": "acme/m", "path": "x/m.json"}]));
        assert!(ok(&p, &gh("acme/m")), "a pinned path blocks only that path");
        assert!(
            p.check_recorded(&json!({"source": "github", "repo": "acme/m", "path": "x/m.json"}))
                .is_err()
        );
    }

    #[test]
    fn blocklist_owner_wildcard_is_case_insensitive() {
        let p = blocked(json!([{"source": "github", "repo": "Acme/*"}]));
        for s in [
            gh("acme/one"),
            gh("ACME/two"),
            git("https://github.com/acme/three.git"),
            git("git@github.com:acme/four"),
        ] {
            assert!(!ok(&p, &s), "{s:?} should be blocked");
        }
        assert!(ok(&p, &gh("acme-corp/one")));
        assert!(ok(&p, &git("https://gitlab.com/acme/one.git")));
    }

    #[test]
    fn blocklist_url_entries_block_the_same_https_repository() {
        let p = blocked(
            json!([{"source": "url", "url": "https://git.acme.com/team/m", "headers": {"X": "y"}}]),
        );
        assert!(!ok(&p, &git("https://git.acme.com/team/m.git")));
        assert!(!ok(&p, &git_ref("https://git.acme.com/team/m.git", "v1")));
        assert!(!ok(
            &p,
            &MarketplaceSource::Url("https://git.acme.com/team/m".into())
        ));
        assert!(ok(&p, &git("https://git.acme.com/team/n.git")));
        let p = blocked(json!([{"source": "url", "url": "https://github.com/acme/m.git"}]));
        assert!(!ok(&p, &gh("acme/m")));
    }

    #[test]
    fn blocklist_paths_are_normalised_and_cover_their_contents() {
        let p = blocked(json!([{"source": "directory", "path": "/fx/mA/"}]));
        assert!(!ok(&p, &dir("/fx/mA")));
        assert!(!ok(&p, &dir("/fx/./x/../mA")));
        assert!(!ok(&p, &dir("/fx/mA/sub")));
        assert!(!ok(
            &p,
            &MarketplaceSource::File("/fx/mA/.claude-plugin/marketplace.json".into())
        ));
        assert!(ok(&p, &dir("/fx/mAB")));
        let p = blocked(json!([{"source": "file", "path": "/fx/m.json"}]));
        assert!(!ok(&p, &MarketplaceSource::File("/fx/./m.json".into())));
        assert!(ok(&p, &dir("/fx")));
    }

    #[test]
    fn blocklist_patterns() {
        let p = blocked(json!([{"source": "hostPattern", "hostPattern": "evil\\.com$"}]));
        assert!(!ok(&p, &git("https://git.evil.com/x.git")));
        assert!(!ok(&p, &git("git@git.evil.com:x.git")));
        assert!(ok(&p, &gh("evil/x")));
        let p = blocked(json!([{"source": "pathPattern", "pathPattern": "^/tmp/"}]));
        assert!(!ok(&p, &dir("/tmp/m")));
        assert!(ok(&p, &dir("/opt/m")));
    }

    #[test]
    fn allowlist_is_exact() {
        let p = allowed(json!([
            {"source": "git", "url": "https://git.acme.com/team/m.git"},
            {"source": "github", "repo": "acme/m"},
            {"source": "directory", "path": "/fx/m1"},
            {"source": "url", "url": "https://acme.com/m.json"}
        ]));
        assert!(ok(&p, &git("https://git.acme.com/team/m.git")));
        for s in [
            git("https://git.acme.com/team/m"),
            git("https://git.acme.com/team/m.git/"),
            git("ssh://git@git.acme.com/team/m.git"),
            git("https://GIT.acme.com/team/m.git"),
            git_ref("https://git.acme.com/team/m.git", "main"),
            git("https://github.com/acme/m.git"),
            gh("Acme/m"),
            gh_ref("acme/m", "v1"),
            dir("/fx/m1/"),
            dir("/fx/./m1"),
            MarketplaceSource::File("/fx/m1".into()),
            MarketplaceSource::Url("https://acme.com/m.json/".into()),
        ] {
            assert!(!ok(&p, &s), "{s:?} should not be allowed");
        }
        assert!(ok(&p, &gh("acme/m")));
        assert!(ok(&p, &dir("/fx/m1")));
        assert!(ok(
            &p,
            &MarketplaceSource::Url("https://acme.com/m.json".into())
        ));
    }

    #[test]
    fn allowlist_ref_and_path_must_agree() {
        let p = allowed(json!([{"source": "github", "repo": "acme/m", "ref": "v1"}]));
        assert!(ok(&p, &gh_ref("acme/m", "v1")));
        assert!(!ok(&p, &gh("acme/m")));
        assert!(!ok(&p, &gh_ref("acme/m", "v2")));
        let p = allowed(json!([{"source": "github", "repo": "acme/m", "path": "x.json"}]));
        assert!(!ok(&p, &gh("acme/m")));
        assert!(
            p.check_recorded(&json!({"source": "github", "repo": "acme/m", "path": "x.json"}))
                .is_ok()
        );
        let p = allowed(json!([{"source": "github", "repo": "acme/m"}]));
        assert!(
            p.check_recorded(&json!({"source": "github", "repo": "acme/m", "path": "x.json"}))
                .is_err()
        );
    }

    #[test]
    fn allowlist_owner_wildcard() {
        let p = allowed(json!([{"source": "github", "repo": "acme/*"}]));
        assert!(ok(&p, &gh("acme/one")));
        assert!(ok(&p, &gh("acme/two")));
        assert!(!ok(&p, &gh("Acme/one")), "case-sensitive");
        assert!(!ok(&p, &gh("acme-corp/one")));
        assert!(!ok(&p, &gh_ref("acme/one", "v1")), "ref must agree");
        assert!(
            !ok(&p, &git("https://github.com/acme/one.git")),
            "owner/repo spelling only"
        );
        // Any path unless pinned.
        assert!(
            p.check_recorded(&json!({"source": "github", "repo": "acme/one", "path": "x.json"}))
                .is_ok()
        );
        let p = allowed(json!([{"source": "github", "repo": "acme/*", "ref": "stable"}]));
        assert!(ok(&p, &gh_ref("acme/one", "stable")));
        assert!(!ok(&p, &gh("acme/one")));
    }

    #[test]
    fn host_pattern_hosts() {
        let p = allowed(json!([{"source": "hostPattern", "hostPattern": "^git\\.acme\\.com$"}]));
        for s in [
            git("https://git.acme.com/x.git"),
            git("https://user@git.acme.com:8443/x"),
            git("ssh://git@git.acme.com/x.git"),
            git("git@git.acme.com:team/x.git"),
            MarketplaceSource::Url("https://git.acme.com/m.json".into()),
        ] {
            assert!(ok(&p, &s), "{s:?} should be allowed");
        }
        for s in [
            git("https://git.acme.com.evil.net/x.git"),
            gh("acme/x"),
            dir("/git.acme.com"),
        ] {
            assert!(!ok(&p, &s), "{s:?} should not be allowed");
        }
        // GitHub sources count as github.com; patterns match anywhere unless anchored.
        let p = allowed(json!([{"source": "hostPattern", "hostPattern": "github"}]));
        assert!(ok(&p, &gh("anyone/any")));
        assert!(ok(&p, &git("https://notgithub.example/x.git")));
        // Schemeless forms other than user@host:path have no host.
        assert_eq!(url_host("git.acme.com/x"), None);
        assert_eq!(url_host("git@git.acme.com:x"), Some("git.acme.com".into()));
        assert_eq!(url_host("/srv/x:y"), None);
        assert_eq!(url_host("file:///srv/x.git"), None);
    }

    #[test]
    fn path_pattern_matches_file_and_directory_paths() {
        let p = allowed(json!([{"source": "pathPattern", "pathPattern": "^/opt/approved/"}]));
        assert!(ok(&p, &dir("/opt/approved/m")));
        assert!(ok(
            &p,
            &MarketplaceSource::File("/opt/approved/m/marketplace.json".into())
        ));
        assert!(!ok(&p, &dir("/home/u/opt/approved/m")));
        assert!(!ok(&p, &git("https://h/opt/approved/m.git")));
        // Unanchored: anywhere in the path.
        let p = allowed(json!([{"source": "pathPattern", "pathPattern": "approved"}]));
        assert!(ok(&p, &dir("/home/u/not-approved")));
    }

    #[test]
    fn npm_skills_dir_and_settings_entries() {
        let p = allowed(json!([
            {"source": "npm", "package": "@acme/m"},
            {"source": "skills-dir"},
            {"source": "settings", "name": "team", "plugins": [{"name": "a"}]}
        ]));
        assert!(!ok(&p, &gh("acme/m")));
        assert!(
            p.check_recorded(&json!({"source": "npm", "package": "@acme/m"}))
                .is_err()
        );
        assert!(
            p.check_recorded(
                &json!({"source": "settings", "name": "team", "plugins": [{"name": "a"}]})
            )
            .is_ok()
        );
        assert!(
            p.check_recorded(
                &json!({"source": "settings", "name": "team", "plugins": [{"name": "b"}]})
            )
            .is_err()
        );
    }

    #[test]
    fn both_allowlist_keys_must_pass() {
        let p = policy(json!({
            "strictKnownMarketplaces": [{"source": "github", "repo": "acme/a"}, {"source": "github", "repo": "acme/b"}],
            "allowedMarketplaces": [{"source": "github", "repo": "acme/b"}]
        }));
        assert!(!ok(&p, &gh("acme/a")));
        assert!(ok(&p, &gh("acme/b")));
    }

    #[test]
    fn bad_entries_fail_closed_naming_file_key_index_and_problem() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        std::fs::write(
            dir.join(crate::state::managed::FILE),
            json!({"strictKnownMarketplaces": [{"source": "github", "repo": "acme/m"}]})
                .to_string(),
        )
        .unwrap();
        let drop_ins = dir.join(crate::state::managed::DROP_IN_DIR);
        std::fs::create_dir(&drop_ins).unwrap();
        let bad = drop_ins.join("10-x.json");
        std::fs::write(
            &bad,
            json!({"strictKnownMarketplaces": [{"source": "hostPattern", "hostPattern": "^(git"}]})
                .to_string(),
        )
        .unwrap();
        let managed = ManagedSettings::load(dir).unwrap();
        let e = MarketplacePolicy::from_managed(&managed)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!(
                "Invalid marketplace policy in managed settings {}: strictKnownMarketplaces[0]: hostPattern \"^(git\" is not a valid regular expression (",
                bad.display()
            )),
            "{e}"
        );

        let err = |v: Value| {
            let map = v.as_object().cloned().unwrap();
            let m = ManagedSettings {
                layers: vec![JsonDoc::in_memory(
                    Path::new("/m/managed-settings.json"),
                    map.clone(),
                )],
                map,
            };
            MarketplacePolicy::from_managed(&m).unwrap_err().to_string()
        };
        let e =
            err(json!({"blockedMarketplaces": [{"source": "pathPattern", "pathPattern": "["}]}));
        assert!(
            e.contains(
                "blockedMarketplaces[0]: pathPattern \"[\" is not a valid regular expression"
            ),
            "{e}"
        );
        // JavaScript-only syntax (look-around) does not compile here: refused, not ignored.
        let e = err(
            json!({"strictKnownMarketplaces": [{"source": "hostPattern", "hostPattern": "^(?!evil)"}]}),
        );
        assert!(
            e.contains("hostPattern \"^(?!evil)\" is not a valid regular expression"),
            "{e}"
        );
        let e = err(json!({"blockedMarketplaces": ["acme/m"]}));
        assert!(e.contains("\"acme/m\" is not a marketplace source"), "{e}");
        let e = err(json!({"allowedMarketplaces": [{"source": "svn", "url": "x"}]}));
        assert!(
            e.contains("allowedMarketplaces[0]: unknown source \"svn\""),
            "{e}"
        );
        let e = err(json!({"strictKnownMarketplaces": [{"repo": "acme/m"}]}));
        assert!(e.contains("has no \"source\""), "{e}");
        let e = err(json!({"strictKnownMarketplaces": [{"source": "github"}]}));
        assert!(e.contains("a \"github\" entry needs \"repo\""), "{e}");
        let e = err(json!({"strictKnownMarketplaces": [{"source": "github", "repo": "acme"}]}));
        assert!(
            e.contains("repo \"acme\" is not owner/repo or owner/*"),
            "{e}"
        );
        let e = err(json!({"strictKnownMarketplaces": [{"source": "git", "url": "u", "ref": 3}]}));
        assert!(e.contains("\"ref\" must be a string"), "{e}");
        let e = err(json!({"strictKnownMarketplaces": {"source": "github", "repo": "a/b"}}));
        assert!(
            e.starts_with("Invalid marketplace policy in managed settings /m/managed-settings.json: strictKnownMarketplaces: must be a list"),
            "{e}"
        );
    }
}
