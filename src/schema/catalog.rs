//! Typed `marketplace.json`: the catalog, its entries and their sources.
//!
//! The catalog is parsed leniently per entry, as Claude Code does: one broken entry never fails
//! the marketplace. An entry whose name is unusable is listed in [`MarketplaceManifest::problems`];
//! an entry with a usable name but other defects keeps them in [`PluginEntry::defects`] and is
//! refused when someone installs it. Unknown keys are kept in `extra` maps.

use serde_json::{Map, Value};

use super::names::{marketplace_name_problem, plugin_name_problem};

/// Lives with the manifest checks, which sit below the catalog.
pub use super::shape::type_name as json_type;

fn expected(field: &str, ty: &str, got: Option<&Value>) -> String {
    format!(
        "{field}: Invalid input: expected {ty}, received {}",
        json_type(got)
    )
}

/// A problem that makes the whole catalog unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("Invalid schema: {}", .0.join(", "))]
pub struct SchemaError(pub Vec<String>);

/// An entry that cannot be addressed at all (no usable name).
#[derive(Debug, Clone, PartialEq)]
pub struct EntryProblem {
    pub index: usize,
    pub name: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct MarketplaceManifest {
    pub name: String,
    pub owner: Option<Value>,
    pub description: Option<String>,
    pub plugin_root: Option<String>,
    pub entries: Vec<PluginEntry>,
    pub problems: Vec<EntryProblem>,
    /// `renames`: old plugin names mapped to new ones (or `null`).
    pub renames: super::renames::Renames,
    /// Every top-level key, unknown ones included, as read.
    pub raw: Map<String, Value>,
}

impl MarketplaceManifest {
    pub fn from_value(value: Value) -> Result<Self, SchemaError> {
        let Value::Object(raw) = value else {
            return Err(SchemaError(vec![format!(
                "Invalid input: expected object, received {}",
                json_type(Some(&value))
            )]));
        };
        let mut errors = Vec::new();
        let name = match raw.get("name") {
            Some(Value::String(s)) => {
                if let Some(p) = marketplace_name_problem(s) {
                    errors.push(format!("name: {p}"));
                }
                s.clone()
            }
            other => {
                errors.push(expected("name", "string", other));
                String::new()
            }
        };
        let plugins = match raw.get("plugins") {
            Some(Value::Array(a)) => a.clone(),
            other => {
                errors.push(expected("plugins", "array", other));
                Vec::new()
            }
        };
        if let Some(owner) = raw.get("owner")
            && !owner.is_object()
        {
            errors.push(expected("owner", "object", Some(owner)));
        }
        let metadata = raw.get("metadata").and_then(Value::as_object);
        let plugin_root = metadata
            .and_then(|m| m.get("pluginRoot"))
            .and_then(Value::as_str)
            .map(String::from);
        if !errors.is_empty() {
            return Err(SchemaError(errors));
        }
        let description = raw
            .get("description")
            .or_else(|| metadata.and_then(|m| m.get("description")))
            .and_then(Value::as_str)
            .map(String::from);
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        for (index, v) in plugins.into_iter().enumerate() {
            match PluginEntry::from_value(index, v) {
                Ok(e) => entries.push(e),
                Err(p) => problems.push(p),
            }
        }
        Ok(Self {
            name,
            owner: raw.get("owner").cloned(),
            description,
            plugin_root,
            entries,
            problems,
            renames: super::renames::Renames::parse(raw.get("renames")),
            raw,
        })
    }

    /// Entries named `name`, in catalog order.
    pub fn entries_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a PluginEntry> {
        self.entries.iter().filter(move |e| e.name == name)
    }
}

/// One reason an entry cannot be installed: where in the entry (`agents.0`, `source.url`) and
/// what, in Claude Code's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryDefect {
    pub path: String,
    pub message: String,
    /// The keys of an "Unrecognized key" finding (Claude Code's install message lists them bare).
    pub unrecognized: Vec<String>,
}

impl EntryDefect {
    /// From `path: message`.
    fn parse(joined: &str) -> Self {
        let (path, message) = joined.split_once(": ").unwrap_or(("", joined));
        Self {
            path: path.to_string(),
            message: message.to_string(),
            unrecognized: Vec::new(),
        }
    }
}

/// `path: message`, as `validate` reports it.
impl std::fmt::Display for EntryDefect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl From<super::shape::Issue> for EntryDefect {
    fn from(i: super::shape::Issue) -> Self {
        Self {
            path: i.dotted(),
            message: i.message,
            unrecognized: i.unrecognized,
        }
    }
}

/// Claude Code's account of an invalid entry at install: its first three defects (keys that do
/// not read as names shown as `<key>`, long messages cut), then how many more. A bad `source`
/// is all it tells, when there is one.
pub fn entry_defects_message(defects: &[EntryDefect]) -> String {
    let of_source: Vec<EntryDefect> = defects
        .iter()
        .filter(|d| d.path == "source" || d.path.starts_with("source."))
        .cloned()
        .collect();
    let defects = if of_source.is_empty() {
        defects
    } else {
        &of_source[..]
    };
    let key = |k: &str| {
        let plain = (1..=40).contains(&k.len())
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.' | '-'));
        if plain {
            k.to_string()
        } else {
            "<key>".to_string()
        }
    };
    let shown: Vec<String> = defects
        .iter()
        .take(3)
        .map(|d| {
            let path = d.path.split('.').map(key).collect::<Vec<_>>().join(".");
            let what = if d.unrecognized.is_empty() {
                cut(&d.message, 160)
            } else {
                let word = if d.unrecognized.len() == 1 {
                    "field"
                } else {
                    "fields"
                };
                let keys: Vec<String> = d.unrecognized.iter().map(|k| key(k)).collect();
                format!("Unrecognized {word}: {}", keys.join(", "))
            };
            if d.path.is_empty() {
                what
            } else {
                format!("{path}: {what}")
            }
        })
        .collect();
    match defects.len().saturating_sub(3) {
        0 => shown.join(", "),
        more => format!("{} (+{more} more)", shown.join(", ")),
    }
}

/// `s` cut to `max` characters, the last one an ellipsis.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// What Claude Code's entry schema finds wrong with an entry, in its order (plugin.json's
/// fields, `source`, then the entry's own keys; `name` included), and the entry's source.
pub fn entry_defects(raw: &Map<String, Value>) -> (PluginSource, Vec<EntryDefect>) {
    let issues = super::plugin_manifest::MARKETPLACE_ENTRY.check(Some(&Value::Object(raw.clone())));
    let (tail, head): (Vec<_>, Vec<_>) = issues.into_iter().partition(|i| {
        i.path
            .first()
            .is_some_and(|k| super::plugin_manifest::ENTRY_TAIL.contains(&k.as_str()))
    });
    let mut defects: Vec<EntryDefect> = head.into_iter().map(EntryDefect::from).collect();
    let source = match raw.get("source") {
        None => {
            defects.push(EntryDefect::parse(&expected(
                "source",
                "string or object",
                None,
            )));
            PluginSource::Missing
        }
        Some(s) => PluginSource::parse(s).unwrap_or_else(|e| {
            defects.push(EntryDefect::parse(&e));
            PluginSource::Invalid(s.clone())
        }),
    };
    defects.extend(tail.into_iter().map(EntryDefect::from));
    (source, defects)
}

/// One entry of `plugins[]`.
#[derive(Debug, Clone)]
pub struct PluginEntry {
    pub index: usize,
    pub name: String,
    pub source: PluginSource,
    pub version: Option<String>,
    pub description: Option<String>,
    pub strict: Option<bool>,
    /// Problems that make this entry uninstallable (Claude Code: "marketplace entry is invalid").
    pub defects: Vec<EntryDefect>,
    pub raw: Map<String, Value>,
}

impl PluginEntry {
    pub fn from_value(index: usize, v: Value) -> Result<Self, EntryProblem> {
        let Value::Object(raw) = v else {
            return Err(EntryProblem {
                index,
                name: None,
                message: format!(
                    "plugins.{index}: Invalid input: expected object, received {}",
                    json_type(Some(&v))
                ),
            });
        };
        let name = match raw.get("name") {
            Some(Value::String(s)) => s.clone(),
            other => {
                return Err(EntryProblem {
                    index,
                    name: None,
                    message: format!("plugins.{index}.{}", expected("name", "string", other)),
                });
            }
        };
        if let Some(p) = plugin_name_problem(&name) {
            return Err(EntryProblem {
                index,
                name: Some(name),
                message: format!("plugins.{index}.name: {p}"),
            });
        }
        let (source, defects) = entry_defects(&raw);
        let version = raw
            .get("version")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(String::from);
        let strict = raw.get("strict").and_then(Value::as_bool);
        Ok(Self {
            index,
            name,
            source,
            version,
            description: raw
                .get("description")
                .and_then(Value::as_str)
                .map(String::from),
            strict,
            defects,
            raw,
        })
    }
}

/// Where an entry's plugin comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum PluginSource {
    /// `"./path"`, `"."` or `"./"`: a folder inside the marketplace.
    Relative(String),
    /// A bare single-segment name, resolved under `metadata.pluginRoot`.
    Bare(String),
    Github {
        repo: String,
        reference: Option<String>,
        sha: Option<String>,
    },
    /// A git URL, from `{"source":"url"}` or a plain URL string.
    GitUrl {
        url: String,
        reference: Option<String>,
        sha: Option<String>,
    },
    GitSubdir {
        url: String,
        path: String,
        reference: Option<String>,
        sha: Option<String>,
    },
    Npm {
        package: String,
        version: Option<String>,
        registry: Option<String>,
    },
    Pip {
        package: String,
        version: Option<String>,
        registry: Option<String>,
    },
    Archive {
        url: String,
        sha256: Option<String>,
    },
    /// `{"source":"command"}`: a shell command prints the folder holding the plugin.
    Command(CommandSource),
    /// An object with a `source` type this tool does not know.
    Unknown(String),
    /// No `source` at all (reported as a defect).
    Missing,
    /// A source that could not be read (reported as a defect).
    Invalid(Value),
}

impl PluginSource {
    /// The commit a git source is pinned to with `sha`.
    pub fn pinned_sha(&self) -> Option<&str> {
        match self {
            PluginSource::Github { sha, .. }
            | PluginSource::GitUrl { sha, .. }
            | PluginSource::GitSubdir { sha, .. } => sha.as_deref(),
            _ => None,
        }
    }

    /// A path inside the marketplace (`./x`, or a bare folder name).
    pub fn is_relative(&self) -> bool {
        matches!(self, PluginSource::Relative(_) | PluginSource::Bare(_))
    }

    /// The type name used in messages (`relative`, `github`, `url`, …).
    pub fn kind(&self) -> &str {
        match self {
            PluginSource::Relative(_) | PluginSource::Bare(_) => "relative",
            PluginSource::Github { .. } => "github",
            PluginSource::GitUrl { .. } => "url",
            PluginSource::GitSubdir { .. } => "git-subdir",
            PluginSource::Npm { .. } => "npm",
            PluginSource::Pip { .. } => "pip",
            PluginSource::Archive { .. } => "archive",
            PluginSource::Command { .. } => "command",
            PluginSource::Unknown(k) => k,
            PluginSource::Missing | PluginSource::Invalid(_) => "invalid",
        }
    }

    pub fn parse(v: &Value) -> Result<Self, String> {
        match v {
            Value::String(s) => Self::parse_string(s),
            Value::Object(o) => Self::parse_object(o),
            other => Err(format!(
                "source: Invalid input: expected string or object, received {}",
                json_type(Some(other))
            )),
        }
    }

    fn parse_string(s: &str) -> Result<Self, String> {
        if s == "." || s == "./" || s.starts_with("./") {
            return Ok(PluginSource::Relative(s.to_string()));
        }
        let is_url = [
            "https://",
            "http://",
            "git@",
            "ssh://",
            "git+ssh://",
            "file://",
        ]
        .iter()
        .any(|p| s.starts_with(p));
        if is_url {
            return Ok(PluginSource::GitUrl {
                url: s.to_string(),
                reference: None,
                sha: None,
            });
        }
        if !s.is_empty() && !s.contains(['/', '\\']) && !s.starts_with('.') {
            return Ok(PluginSource::Bare(s.to_string()));
        }
        Err("source: Invalid string: must start with \"./\"".into())
    }

    fn parse_object(o: &Map<String, Value>) -> Result<Self, String> {
        let field = |k: &str| source_string(o, k);
        let opt = |k: &str| optional_source_string(o, k);
        let sha = || source_sha(o);
        let kind = match o.get("source") {
            Some(Value::String(k)) => k.as_str(),
            other => {
                return Err(format!(
                    "source.source: Invalid input: expected string, received {}",
                    json_type(other)
                ));
            }
        };
        Ok(match kind {
            "github" => PluginSource::Github {
                repo: field("repo")?,
                reference: opt("ref")?,
                sha: sha()?,
            },
            "url" => PluginSource::GitUrl {
                url: field("url")?,
                reference: opt("ref")?,
                sha: sha()?,
            },
            "git-subdir" => PluginSource::GitSubdir {
                url: field("url")?,
                path: field("path")?,
                reference: opt("ref")?,
                sha: sha()?,
            },
            "npm" => {
                let package = field("package")?;
                if package.contains("..") {
                    return Err("source.package: must not contain \"..\"".into());
                }
                PluginSource::Npm {
                    package,
                    version: opt("version")?,
                    registry: opt("registry")?,
                }
            }
            "pip" => PluginSource::Pip {
                package: field("package")?,
                version: opt("version")?,
                registry: opt("registry")?,
            },
            "archive" => PluginSource::Archive {
                url: field("url")?,
                sha256: opt("sha256")?,
            },
            "command" => PluginSource::Command(CommandSource::parse(o)?),
            other => PluginSource::Unknown(other.to_string()),
        })
    }
}

/// A `command` source: what runs, for how long at most, and how its output folder is used.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandSource {
    pub command: String,
    /// Seconds, 1–600.
    pub timeout: Option<u64>,
    /// `"link"`: the printed folder is used in place; else (`"copy"`) it is copied.
    pub link: bool,
}

/// Claude Code's limit on `command` (what its consent prompt can show).
pub const COMMAND_MAX_CHARS: usize = 500;
/// Claude Code's limit on `timeout`, in seconds.
pub const COMMAND_MAX_TIMEOUT: u64 = 600;

impl CommandSource {
    fn parse(o: &Map<String, Value>) -> Result<Self, String> {
        let command = match o.get("command") {
            Some(Value::String(s)) => s.clone(),
            other => {
                return Err(format!(
                    "source.command: Invalid input: expected string, received {}",
                    json_type(other)
                ));
            }
        };
        if command.is_empty() {
            return Err("source.command: Too small: expected string to have >=1 characters".into());
        }
        if command.chars().count() > COMMAND_MAX_CHARS {
            return Err(
                "source.command: command must not be longer than the install consent UI can display"
                    .into(),
            );
        }
        if !shows_as_typed(&command) {
            return Err("source.command: command must be printable ASCII (letters, digits, punctuation, single spaces) with no runs of 4 or more spaces".into());
        }
        let timeout = match o.get("timeout") {
            None => None,
            Some(Value::Number(n)) => match n.as_f64() {
                Some(f) if f.fract() != 0.0 => {
                    return Err(
                        "source.timeout: Invalid input: expected int, received number".into(),
                    );
                }
                Some(f) if f <= 0.0 => {
                    return Err("source.timeout: Too small: expected number to be >0".into());
                }
                Some(f) if f > COMMAND_MAX_TIMEOUT as f64 => {
                    return Err(format!(
                        "source.timeout: Too big: expected number to be <={COMMAND_MAX_TIMEOUT}"
                    ));
                }
                Some(f) => Some(f as u64),
                None => return Err("source.timeout: Invalid input: expected number".into()),
            },
            other => {
                return Err(format!(
                    "source.timeout: Invalid input: expected number, received {}",
                    json_type(other)
                ));
            }
        };
        let link = match o.get("mode") {
            None => false,
            Some(Value::String(m)) if m == "copy" => false,
            Some(Value::String(m)) if m == "link" => true,
            Some(_) => {
                return Err(
                    "source.mode: Invalid option: expected one of \"copy\"|\"link\"".into(),
                );
            }
        };
        Ok(Self {
            command,
            timeout,
            link,
        })
    }

    /// `copy` or `link`.
    pub fn mode(&self) -> &'static str {
        if self.link { "link" } else { "copy" }
    }

    /// What an install records as `sourceCommand` and what an acceptance is remembered by:
    /// the command, and the mode when it is `link` (Claude Code's spelling).
    pub fn accepted_as(&self) -> String {
        match self.link {
            true => format!("{}\n[mode: link]", self.command),
            false => self.command.clone(),
        }
    }
}

/// Printable ASCII without a run of four spaces: a command shown for consent is what runs.
pub fn shows_as_typed(s: &str) -> bool {
    s.bytes().all(|b| (0x20..=0x7e).contains(&b)) && !s.contains("    ")
}

/// `source.<k>`, a non-empty string.
fn source_string(o: &Map<String, Value>, k: &str) -> Result<String, String> {
    match o.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        other => Err(format!(
            "source.{k}: Invalid input: expected string, received {}",
            json_type(other)
        )),
    }
}

/// `source.<k>`, a string when present (`null` counts as absent).
fn optional_source_string(o: &Map<String, Value>, k: &str) -> Result<Option<String>, String> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        other => Err(format!(
            "source.{k}: Invalid input: expected string, received {}",
            json_type(other)
        )),
    }
}

/// `source.sha`, when present a full 40-character lowercase commit id.
fn source_sha(o: &Map<String, Value>) -> Result<Option<String>, String> {
    let sha = optional_source_string(o, "sha")?;
    if let Some(s) = &sha {
        // Claude Code's two checks, in its words.
        let mut problems = Vec::new();
        if s.len() < 40 {
            problems.push("source.sha: Too small: expected string to have exactly 40 characters");
        } else if s.len() > 40 {
            problems.push("source.sha: Too big: expected string to have exactly 40 characters");
        }
        if !(s.len() == 40
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        {
            problems.push("source.sha: Must be a full 40-character lowercase git commit SHA");
        }
        if !problems.is_empty() {
            return Err(problems.join(", "));
        }
    }
    Ok(sha)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sources_of_every_kind_parse() {
        let cases = [
            (json!("./plugins/a"), "relative"),
            (json!("."), "relative"),
            (json!("a"), "relative"),
            (json!("https://github.com/o/r"), "url"),
            (json!({"source":"github","repo":"o/r"}), "github"),
            (
                json!({"source":"url","url":"https://x/y.git","ref":"main"}),
                "url",
            ),
            (
                json!({"source":"git-subdir","url":"o/r","path":"p"}),
                "git-subdir",
            ),
            (
                json!({"source":"npm","package":"@s/p","version":"^1"}),
                "npm",
            ),
            (json!({"source":"pip","package":"p"}), "pip"),
            (
                json!({"source":"archive","url":"https://x/p.zip"}),
                "archive",
            ),
            (json!({"source":"command","command":"echo /x"}), "command"),
            (
                json!({"source":"command","command":"echo /x","timeout":600,"mode":"link"}),
                "command",
            ),
            (json!({"source":"weird"}), "weird"),
        ];
        for (v, kind) in cases {
            assert_eq!(PluginSource::parse(&v).unwrap().kind(), kind, "{v}");
        }
    }

    #[test]
    fn command_sources_follow_claude_codes_rules() {
        let bad = |v: Value| PluginSource::parse(&v).unwrap_err();
        let long = "x".repeat(COMMAND_MAX_CHARS + 1);
        assert_eq!(
            bad(json!({"source":"command","command":""})),
            "source.command: Too small: expected string to have >=1 characters"
        );
        assert_eq!(
            bad(json!({"source":"command","command": long})),
            "source.command: command must not be longer than the install consent UI can display"
        );
        for command in ["echo    /x", "echo /x\nrm -rf ~", "echo \u{e9}"] {
            assert!(
                bad(json!({"source":"command","command": command}))
                    .contains("must be printable ASCII"),
                "{command:?}"
            );
        }
        assert_eq!(
            bad(json!({"source":"command","command":"echo /x","timeout":601})),
            "source.timeout: Too big: expected number to be <=600"
        );
        assert_eq!(
            bad(json!({"source":"command","command":"echo /x","timeout":0})),
            "source.timeout: Too small: expected number to be >0"
        );
        assert_eq!(
            bad(json!({"source":"command","command":"echo /x","timeout":1.5})),
            "source.timeout: Invalid input: expected int, received number"
        );
        assert_eq!(
            bad(json!({"source":"command","command":"echo /x","mode":"move"})),
            "source.mode: Invalid option: expected one of \"copy\"|\"link\""
        );
        let Ok(PluginSource::Command(c)) = PluginSource::parse(
            &json!({"source":"command","command":"echo   /x","timeout":600,"mode":"link"}),
        ) else {
            panic!("a valid command source")
        };
        assert_eq!((c.timeout, c.link), (Some(600), true));
        assert_eq!(c.accepted_as(), "echo   /x\n[mode: link]");
    }

    #[test]
    fn bad_sources_say_why() {
        assert!(
            PluginSource::parse(&json!("plugins/a"))
                .unwrap_err()
                .contains("must start with \"./\"")
        );
        assert!(
            PluginSource::parse(&json!("../b"))
                .unwrap_err()
                .contains("must start with \"./\"")
        );
        assert!(
            PluginSource::parse(&json!("/abs"))
                .unwrap_err()
                .contains("must start with \"./\"")
        );
        assert!(
            PluginSource::parse(&json!({"source":"url"}))
                .unwrap_err()
                .contains("source.url")
        );
        assert!(
            PluginSource::parse(&json!({"source":"url","url":"x","sha":"abc"}))
                .unwrap_err()
                .contains("40-character")
        );
        assert!(
            PluginSource::parse(&json!(3))
                .unwrap_err()
                .contains("received number")
        );
    }

    #[test]
    fn one_bad_entry_does_not_fail_the_catalog() {
        let m = MarketplaceManifest::from_value(json!({
            "name": "m", "owner": {"name": "x"}, "zzz": 1,
            "plugins": [
                {"name": "ok", "source": "./ok", "yyy": 2},
                {"source": "./p"},
                {"name": "My Plugin", "source": "./p"},
                {"name": "badsrc", "source": "plugins/a"},
                {"name": "numver", "source": "./p", "version": 3}
            ]
        }))
        .unwrap();
        assert_eq!(m.entries.len(), 3);
        assert_eq!(m.problems.len(), 2);
        assert_eq!(
            m.problems[0].message,
            "plugins.1.name: Invalid input: expected string, received undefined"
        );
        assert!(m.entries[1].defects[0].message.contains("must start with"));
        assert!(
            m.entries[2].defects[0]
                .message
                .contains("expected string, received number")
        );
        assert!(m.raw.contains_key("zzz"));
        assert!(m.entries[0].raw.contains_key("yyy"));
    }

    #[test]
    fn catalog_level_errors() {
        let e = MarketplaceManifest::from_value(json!({"owner": {}})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid schema: name: Invalid input: expected string, received undefined, plugins: Invalid input: expected array, received undefined"
        );
    }

    #[test]
    fn an_invalid_entry_is_told_as_claude_code_tells_it() {
        let m = MarketplaceManifest::from_value(json!({"name":"m","owner":{"name":"o"},"plugins":[
            {"name":"a","source":"./a","homepage":"x","keywords":1,"hooks":{"Bogus":[],"Nope":[]},"agents":3},
            {"name":"b","source":{"source":"github"},"agents":3},
            {"name":"c","source":"./c","tags":["t"],"category":"c","strict":false}]}))
        .unwrap();
        let told = |i: usize| entry_defects_message(&m.entries[i].defects);
        assert_eq!(
            told(0),
            "homepage: Invalid URL, keywords: Invalid input: expected array, received number, hooks: Unrecognized fields: Bogus, Nope (+1 more)"
        );
        // A bad source is all Claude Code tells.
        assert_eq!(
            told(1),
            "source.repo: Invalid input: expected string, received undefined"
        );
        assert!(m.entries[2].defects.is_empty());
    }
}
