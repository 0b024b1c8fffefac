//! `plugin validate <path>`: check a marketplace folder, a marketplace.json file or a plugin
//! folder without installing anything.
//!
//! The report has the shape of Claude Code 2.1.328's `claude plugin validate --json` (§11 of the
//! behaviour spec) and uses its messages where it has them. On top of its checks come the ones
//! it misses (§16 B12): entry name vs plugin.json name, version disagreement, `strict` with
//! inline components, reserved names, duplicates always, unknown fields with "did you mean",
//! component paths that escape or do not exist, symlinks the install would skip, unpinned
//! `npm`/`pip` sources, and each relative-path plugin folder of a marketplace.
//! Every finding carries a stable `code` naming its kind (Claude Code prints `null` there).

mod content;
mod fields;
mod marketplace;
mod plugin;
mod provides;

pub use provides::Provides;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// One finding: where (`path` inside the file, Claude Code's notation), what, and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub path: String,
    pub message: String,
    /// Stable kind of the finding (`unknown-field`, `path-not-found`, …).
    pub code: &'static str,
}

impl Issue {
    /// `<what> <path> leads outside <root>: <link>; an install refuses this <refused>`: a file an
    /// install would refuse to read because a symlink takes it out of its marketplace.
    pub fn escape(
        code: &'static str,
        what: &str,
        e: &crate::containment::LinkEscape,
        refused: &str,
    ) -> Self {
        Self::new(
            "",
            code,
            format!(
                "{what} {} leads outside {}: {}; an install refuses this {refused}",
                e.path.display(),
                e.root.display(),
                e.link_text()
            ),
        )
    }

    pub fn new(path: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
            code,
        }
    }

    /// The same finding, its path prefixed (`plugins[2] plugin.json → `).
    fn prefixed(mut self, prefix: &str) -> Self {
        self.path = format!("{prefix}{}", self.path);
        self
    }
}

/// Errors and warnings of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
}

impl Findings {
    pub fn error(&mut self, path: impl Into<String>, code: &'static str, msg: impl Into<String>) {
        self.errors.push(Issue::new(path, code, msg));
    }

    pub fn warn(&mut self, path: impl Into<String>, code: &'static str, msg: impl Into<String>) {
        self.warnings.push(Issue::new(path, code, msg));
    }

    /// An `author` / `owner` value: an object with a non-empty `name` string.
    fn check_person(&mut self, key: &str, v: Option<&Value>) {
        match v {
            Some(Value::Object(o)) => match o.get("name") {
                Some(Value::String(n)) if !n.trim().is_empty() => {}
                Some(Value::String(_)) => self.error(
                    format!("{key}.name"),
                    "schema",
                    "Author name cannot be empty",
                ),
                other => self.error(format!("{key}.name"), "schema", expected("string", other)),
            },
            other => self.error(key, "schema", expected("object", other)),
        }
    }

    /// Append `other`'s findings with their paths prefixed.
    fn absorb(&mut self, other: Findings, prefix: &str) {
        self.errors
            .extend(other.errors.into_iter().map(|i| i.prefixed(prefix)));
        self.warnings
            .extend(other.warnings.into_iter().map(|i| i.prefixed(prefix)));
    }
}

/// What a checked file is (Claude Code's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Plugin,
    Marketplace,
    Command,
    Skill,
    Agent,
    Hooks,
    Mcp,
    /// A file at the plugin root judged as part of the plugin (root `CLAUDE.md`).
    RootFile,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Plugin => "plugin",
            FileKind::Marketplace => "marketplace",
            FileKind::Command => "command",
            FileKind::Skill => "skill",
            FileKind::Agent => "agent",
            FileKind::Hooks => "hooks",
            FileKind::Mcp => "mcp",
            FileKind::RootFile => "plugin",
        }
    }

    /// The word in "Validating <what>: <file>".
    pub fn heading(self) -> &'static str {
        match self {
            FileKind::Plugin => "plugin manifest",
            FileKind::Marketplace => "marketplace manifest",
            FileKind::Command => "command",
            FileKind::Skill => "skill",
            FileKind::Agent => "agent",
            FileKind::Hooks => "hooks",
            FileKind::Mcp => "MCP servers",
            FileKind::RootFile => "plugin",
        }
    }
}

/// The findings of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub file: PathBuf,
    pub kind: FileKind,
    pub findings: Findings,
}

/// The result of one `validate`.
#[derive(Debug, Clone)]
pub struct ValidateReport {
    pub strict: bool,
    /// The manifest file checked, or the folder when there is none.
    pub target: PathBuf,
    /// `None` for a plugin folder without a manifest (components only).
    pub manifest: Option<FileReport>,
    /// Component files checked on their own (commands, hooks.json, .mcp.json, root CLAUDE.md).
    pub contents: Vec<FileReport>,
    /// What the plugin loads (Claude Code's `provides`); `None` for a marketplace, or a plugin
    /// without a manifest or whose manifest has errors.
    pub provides: Option<Provides>,
    /// Set when the path could not be read at all (exit code 2).
    pub unexpected: bool,
}

impl ValidateReport {
    fn all(&self) -> impl Iterator<Item = &FileReport> {
        self.manifest.iter().chain(&self.contents)
    }

    pub fn error_count(&self) -> usize {
        self.all().map(|f| f.findings.errors.len()).sum()
    }

    pub fn warning_count(&self) -> usize {
        self.all().map(|f| f.findings.warnings.len()).sum()
    }

    /// No errors, and with `--strict` no warnings either.
    pub fn success(&self) -> bool {
        !self.unexpected && self.error_count() == 0 && !(self.strict && self.warning_count() > 0)
    }

    /// 0 pass, 1 fail, 2 the path could not be read.
    pub fn exit_code(&self) -> i32 {
        if self.unexpected {
            2
        } else if self.success() {
            0
        } else {
            1
        }
    }
}

/// Validate `path`: a marketplace folder, a marketplace index file, or a plugin folder.
pub fn validate(path: &Path, strict: bool) -> ValidateReport {
    let path = crate::fsutil::normalize_lexically(
        &std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
    );
    let unreadable = |target: &Path, what: String| ValidateReport {
        strict,
        target: target.to_path_buf(),
        manifest: Some(FileReport {
            file: target.to_path_buf(),
            kind: FileKind::Plugin,
            findings: Findings {
                errors: vec![Issue::new("file", "unreadable", what)],
                warnings: Vec::new(),
            },
        }),
        contents: Vec::new(),
        provides: None,
        unexpected: true,
    };
    let meta = match fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return unreadable(
                &path,
                format!(
                    "Path does not exist: {}; name a marketplace folder, a marketplace.json file or a plugin folder",
                    path.display()
                ),
            );
        }
        Err(e) => return unreadable(&path, format!("Cannot read {}: {e}", path.display())),
    };
    let result = if meta.is_dir() {
        if let Some(index) = crate::marketplace::discover::find_index(&path) {
            match crate::containment::real_path_inside(&index, &path) {
                Err(e) => Ok(marketplace::escaping_catalog(&index, &e, strict)),
                Ok(_) => marketplace::validate_catalog(&index, strict),
            }
        } else if let Some(manifest) = crate::manifest::find_manifest(&path) {
            plugin::validate_plugin_folder(&path, Some(&manifest), strict)
        } else if crate::marketplace::discover::is_plugin_dir(&path) {
            plugin::validate_plugin_folder(&path, None, strict)
        } else {
            Ok(ValidateReport {
                strict,
                target: path.clone(),
                manifest: Some(FileReport {
                    file: path.clone(),
                    kind: FileKind::Plugin,
                    findings: Findings {
                        errors: vec![Issue::new(
                            "directory",
                            "no-manifest",
                            "No manifest found in directory. Expected .claude-plugin/marketplace.json or .claude-plugin/plugin.json",
                        )],
                        warnings: Vec::new(),
                    },
                }),
                contents: Vec::new(),
                provides: None,
                unexpected: false,
            })
        }
    } else if path.file_name().is_some_and(|n| n == "plugin.json") {
        let root = crate::marketplace::discover::root_of_index(&path);
        plugin::validate_plugin_folder(&root, Some(&path), strict)
    } else {
        marketplace::validate_catalog(&path, strict)
    };
    result.unwrap_or_else(|(file, e)| {
        unreadable(&file, format!("Cannot read {}: {e}", file.display()))
    })
}

/// What a leading UTF-8 byte-order mark is: read past in catalogs and manifests, a syntax error
/// in hooks.json and .mcp.json (Claude Code 2.1.328 reads the former and fails to load the
/// latter).
#[derive(Clone, Copy)]
enum Bom {
    Skip,
    Refuse,
}

/// Read a JSON file: `Ok(Err(findings))` when it is not JSON (`json: Invalid JSON syntax…`),
/// `Err` when it cannot be read.
fn read_json(
    file: &Path,
    tail: &str,
    bom: Bom,
) -> Result<Result<Value, Issue>, (PathBuf, io::Error)> {
    let text = crate::fsutil::read_regular_text(file, crate::fsutil::JSON_FILE_LIMIT)
        .map_err(|e| (file.to_path_buf(), e))?;
    let text = match bom {
        Bom::Skip => crate::state::json::strip_bom(&text),
        Bom::Refuse => &text,
    };
    Ok(serde_json::from_str(text).map_err(|e| {
        let message = if text.starts_with('\u{feff}') {
            crate::state::json::syntax_message(text, &e)
        } else {
            e.to_string()
        };
        Issue::new(
            "json",
            "json-syntax",
            format!("Invalid JSON syntax: {message}{tail}"),
        )
    }))
}

/// Claude Code's unknown-field warning, with a suggestion when a known key is one edit away
/// (case ignored; a swap of two neighbours counts as one edit, as in `versoin`).
fn unknown_field(path: &str, key: &str, known: &[&str]) -> Issue {
    let lower = key.to_ascii_lowercase();
    let near = known
        .iter()
        .find(|k| osa_distance(&lower, &k.to_ascii_lowercase()) <= 1);
    match near {
        Some(k) => Issue::new(
            path,
            "unknown-field",
            format!(
                "Unknown field '{key}' — did you mean '{k}'? Claude Code ignores unrecognized fields at load time, so this field has no effect."
            ),
        ),
        None => Issue::new(
            path,
            "unknown-field",
            format!("Unknown field '{key}'. Claude Code ignores it at load time."),
        ),
    }
}

/// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions).
fn osa_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// `field: Invalid input: expected <ty>, received <type>` without the field (it is the path).
fn expected(ty: &str, got: Option<&Value>) -> String {
    format!(
        "Invalid input: expected {ty}, received {}",
        crate::schema::json_type(got)
    )
}

fn not_kebab(name: &str) -> String {
    // Claude Code words it by what else the name breaks: loading by path (`@`, `:`, spaces,
    // separators), or only being an id part (`a+b`).
    let install = if name.contains(['@', ':', '/', '\\']) || name.chars().any(char::is_whitespace) {
        "Claude Code refuses a plugin with this name when it is loaded by path (such as --plugin-dir), and cannot install it from a marketplace that lists it under this name. The"
    } else if crate::schema::names::is_valid_id_part(name) {
        "Claude Code accepts it, but the"
    } else {
        "Claude Code cannot install it from a marketplace that lists it under this name, and the"
    };
    format!(
        "Plugin name \"{name}\" is not kebab-case. {install} Claude.ai marketplace sync requires kebab-case (lowercase letters, digits, and hyphens only, e.g., \"my-plugin\")."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_warning_words_as_claude_code() {
        assert!(not_kebab("MyPlugin").contains("Claude Code accepts it, but the Claude.ai"));
        assert!(not_kebab("a+b").contains(
            "Claude Code cannot install it from a marketplace that lists it under this name, and the Claude.ai"
        ));
        assert!(not_kebab("a@b").contains(
            "Claude Code refuses a plugin with this name when it is loaded by path (such as --plugin-dir), and cannot install it from a marketplace that lists it under this name. The Claude.ai"
        ));
    }

    #[test]
    fn suggestions_match_claude_code() {
        let known = ["name", "version", "description", "author", "displayName"];
        let says = |k: &str| unknown_field(k, k, &known).message;
        assert!(says("versoin").contains("did you mean 'version'"));
        assert!(says("descrption").contains("did you mean 'description'"));
        assert!(says("displayname").contains("did you mean 'displayName'"));
        assert!(says("autho").contains("did you mean 'author'"));
        for none in ["nm", "vrsn", "descript", "xyzzy"] {
            assert!(!says(none).contains("did you mean"), "{none}");
        }
    }
}
