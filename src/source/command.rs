//! `command` sources: a shell command prints the folder that holds the plugin.
//!
//! Run as Claude Code 2.1.328 runs it: `sh -c` (`cmd.exe` on Windows) from the user's home
//! folder, stdin closed, at most `timeout` seconds (default 60), stdout capped at 64 KiB; it
//! must exit 0 having printed one absolute path of a folder with plugin content at its top. In
//! copy mode that folder is copied (under the symlink policy, at most 20,000 entries and
//! 256 MiB) and the version is `<plugin.json version>-<first 12 hex of the content hash>`; in
//! link mode the version folder holds one link per top-level entry (each must resolve inside
//! the printed folder) and the hash covers where they point. Both hashes are Claude Code's, so
//! the two tools agree on versions. Whether the command may run at all (consent, policy) is
//! decided above this layer.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::cache::copy::{PlannedEntry, TreePlan, plan_plugin_tree};
use crate::cache::{CopyReport, LinkPolicy};
use crate::fsutil::{IoContext, IoError};
use crate::schema::catalog::CommandSource;

use super::shell::{Ended, ShellLimits, ShellRun};

/// Claude Code's defaults and limits.
const DEFAULT_TIMEOUT_SECS: u64 = 60;
const STDOUT_CAP: usize = 64 * 1024;
const STDERR_CAP: usize = 64 * 1024;
const MAX_ENTRIES: usize = 20_000;
const MAX_BYTES: u64 = 256 * 1024 * 1024;
/// What the printed folder must hold at its top, one of them at least.
const PLUGIN_CONTENT: &[&str] = &[
    ".claude-plugin",
    "commands",
    "skills",
    "agents",
    "hooks",
    "themes",
    "output-styles",
    "monitors",
    "workflows",
    "SKILL.md",
    ".mcp.json",
    ".lsp.json",
];
/// The link-mode marker in the version folder: `{"target": "<printed folder>"}`.
pub const LINK_MARKER: &str = ".claude-plugin-link";
/// Top-level names that are bookkeeping, never plugin content (Claude Code's list).
const BOOKKEEPING: &[&str] = &[LINK_MARKER, ".in_use", ".orphaned_at", ".git"];

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("Plugin source command `{shown}` exited with code {code}{}", exit_detail(.stderr))]
    Exited {
        shown: String,
        code: i32,
        stderr: String,
    },
    #[error("Plugin source command `{shown}` did not finish within {secs}s and was stopped.{}", stderr_note(.stderr))]
    TimedOut {
        shown: String,
        secs: u64,
        stderr: String,
    },
    #[error(
        "Plugin source command `{shown}` printed more than 64 KB and was stopped; it must print a single absolute path."
    )]
    Overflow { shown: String },
    #[error("Plugin source command `{shown}` was killed by {signal} before it finished.{}", stderr_note(.stderr))]
    Signaled {
        shown: String,
        signal: String,
        stderr: String,
    },
    #[error("Plugin source command `{shown}` could not be started: {message}")]
    Spawn { shown: String, message: String },
    #[error(
        "Plugin source command `{shown}` printed nothing; it must print the absolute path of the plugin directory."
    )]
    PrintedNothing { shown: String },
    #[error(
        "Plugin source command `{shown}` printed {count} lines; it must print exactly one absolute path."
    )]
    PrintedLines { shown: String, count: usize },
    #[error("Plugin source command `{shown}` printed `{printed}`, which is not an absolute path.")]
    NotAbsolute { shown: String, printed: String },
    #[error(
        "Plugin source command `{shown}` printed `{printed}`, a network path (UNC or automount), which is not supported as a plugin directory."
    )]
    NetworkPath { shown: String, printed: String },
    #[error(
        "Plugin source command `{shown}` printed `{printed}`, but that path could not be resolved ({code})."
    )]
    Unresolvable {
        shown: String,
        printed: String,
        code: String,
    },
    #[error("Plugin source command `{shown}` printed `{printed}`, which is not a directory.")]
    NotDirectory { shown: String, printed: String },
    #[error(
        "Plugin source command `{shown}` printed `{printed}`, which could not be read as a directory ({code})."
    )]
    Unreadable {
        shown: String,
        printed: String,
        code: String,
    },
    #[error(
        "Plugin source command `{shown}` printed `{printed}`, but that directory has no plugin content (expected .claude-plugin/ or a commands/, skills/, agents/, hooks/, themes/, output-styles/, monitors/, workflows/, SKILL.md, .mcp.json, or .lsp.json at the top level). Nothing was installed."
    )]
    NoPluginContent { shown: String, printed: String },
    #[error(
        "Plugin source command printed the working directory or one of its parents ({0}); refusing to use it as a plugin."
    )]
    HoldsWorkingDirectory(String),
    #[error(
        "Plugin directory has more than {MAX_ENTRIES} entries; refusing to install it as a plugin."
    )]
    TooManyEntries,
    #[error("Plugin directory is larger than 256 MB; refusing to install it as a plugin.")]
    TooLarge,
    #[error(
        "A top-level entry of the plugin directory its command produced could not be resolved ({0}); refusing to link it."
    )]
    LinkUnresolvable(String),
    #[error(
        "A top-level entry of the plugin directory its command produced ({0}) points outside that directory; refusing to link it."
    )]
    LinkEscapes(String),
    #[error(
        "The plugin directory {0} changed while it was being installed; nothing was installed. Run the command again."
    )]
    ChangedMeanwhile(String),
    #[error(
        "This plugin source uses mode \"link\", which is not supported on Windows yet; the marketplace can use mode \"copy\" instead."
    )]
    LinkOnWindows,
    #[error(transparent)]
    Io(#[from] IoError),
}

impl CommandError {
    /// Refusals of what the command produced (Claude Code prints them without its "Failed to"
    /// prefix); the others are failures of the run.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            CommandError::NetworkPath { .. }
                | CommandError::HoldsWorkingDirectory(_)
                | CommandError::LinkEscapes(_)
                | CommandError::LinkOnWindows
        )
    }
}

fn exit_detail(stderr: &str) -> String {
    match stderr.is_empty() {
        true => " and no error output.".into(),
        false => format!(": {stderr}"),
    }
}

fn stderr_note(stderr: &str) -> String {
    match stderr.is_empty() {
        true => String::new(),
        false => format!(" (stderr: {stderr})"),
    }
}

/// Text from a command or its output as Claude Code shows it in a message: escape sequences
/// and control characters dropped, runs of spaces made one, trimmed, backticks made `'` (the
/// message quotes it in backticks), cut to `max` characters with an ellipsis.
pub fn shown(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ params final; other escapes: drop ESC and the next char.
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&d) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
            continue;
        }
        let c = match c {
            '`' | '\u{ff40}' | '\u{02cb}' | '\u{1fef}' | '\u{2035}' => '\'',
            c if c.is_whitespace() => ' ',
            c if c.is_control() => continue,
            c => c,
        };
        if c == ' ' && out.ends_with(' ') {
            continue;
        }
        out.push(c);
    }
    let out = out.trim();
    if out.chars().count() <= max {
        return out.to_string();
    }
    let mut cut: String = out.chars().take(max).collect();
    cut.push('…');
    cut
}

/// The folder a command printed, resolved.
#[derive(Debug, Clone)]
pub struct Produced {
    /// Its real path (what `sourceProducerPath` records).
    pub dir: PathBuf,
    /// The first bytes of what the command wrote to stderr, as shown in messages.
    pub stderr: String,
}

/// Run the command from `home` and check what it printed.
pub fn run(source: &CommandSource, home: &Path) -> Result<Produced, CommandError> {
    let shown_cmd = shown(&source.command, 200);
    let secs = source.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS);
    let limits = ShellLimits {
        cwd: home,
        set_env: &[],
        remove_env: &[],
        timeout: Duration::from_secs(secs),
        stdout_cap: STDOUT_CAP,
        stderr_cap: STDERR_CAP,
    };
    let ShellRun {
        ended,
        stdout,
        stderr,
    } = super::shell::run(&source.command, &limits).map_err(|e| CommandError::Spawn {
        shown: shown_cmd.clone(),
        message: shown(&e.to_string(), 500),
    })?;
    let stderr = shown(&String::from_utf8_lossy(&stderr), 500);
    match ended {
        Ended::Overflow => return Err(CommandError::Overflow { shown: shown_cmd }),
        Ended::TimedOut => {
            return Err(CommandError::TimedOut {
                shown: shown_cmd,
                secs,
                stderr,
            });
        }
        Ended::Exited(Some(0), _) => {}
        Ended::Exited(Some(code), _) => {
            return Err(CommandError::Exited {
                shown: shown_cmd,
                code,
                stderr,
            });
        }
        Ended::Exited(None, signal) => {
            return Err(CommandError::Signaled {
                shown: shown_cmd,
                signal: signal.unwrap_or_else(|| "unknown".into()),
                stderr,
            });
        }
    }
    let text = String::from_utf8_lossy(&stdout);
    let lines: Vec<&str> = (text.split('\n'))
        .map(|l| l.strip_suffix('\r').unwrap_or(l).trim())
        .filter(|l| !l.is_empty())
        .collect();
    let printed = match lines[..] {
        [] => return Err(CommandError::PrintedNothing { shown: shown_cmd }),
        [one] => one,
        _ => {
            return Err(CommandError::PrintedLines {
                shown: shown_cmd,
                count: lines.len(),
            });
        }
    };
    let dir = check_printed(&shown_cmd, printed)?;
    Ok(Produced { dir, stderr })
}

/// An OS error as Node names it (`ENOENT`…), which Claude Code's messages show.
fn error_code(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "ENOENT".into(),
        K::PermissionDenied => "EACCES".into(),
        K::NotADirectory => "ENOTDIR".into(),
        _ if crate::platform::is_link_loop(e) => "ELOOP".into(),
        _ => "unknown error".into(),
    }
}

/// The printed line: an absolute, local, readable folder with plugin content, not holding the
/// folder this command runs in. Its real path.
fn check_printed(shown_cmd: &str, printed: &str) -> Result<PathBuf, CommandError> {
    let shown_path = shown(printed, 200);
    let path = Path::new(printed);
    if !path.is_absolute() {
        return Err(CommandError::NotAbsolute {
            shown: shown_cmd.into(),
            printed: shown_path,
        });
    }
    if cfg!(windows) && (printed.starts_with("\\\\") || printed.starts_with("//")) {
        return Err(CommandError::NetworkPath {
            shown: shown_cmd.into(),
            printed: shown_path,
        });
    }
    let real = crate::fsutil::canonicalize(path).map_err(|e| CommandError::Unresolvable {
        shown: shown_cmd.into(),
        printed: shown_path.clone(),
        code: error_code(&e),
    })?;
    let names = match std::fs::read_dir(&real) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect::<Vec<_>>(),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory || real.is_file() => {
            return Err(CommandError::NotDirectory {
                shown: shown_cmd.into(),
                printed: shown_path,
            });
        }
        Err(e) => {
            return Err(CommandError::Unreadable {
                shown: shown_cmd.into(),
                printed: shown_path,
                code: error_code(&e),
            });
        }
    };
    if !names.iter().any(|n| PLUGIN_CONTENT.contains(&n.as_str())) {
        return Err(CommandError::NoPluginContent {
            shown: shown_cmd.into(),
            printed: shown_path,
        });
    }
    if let Ok(cwd) = std::env::current_dir().and_then(crate::fsutil::canonicalize)
        && cwd.starts_with(&real)
    {
        return Err(CommandError::HoldsWorkingDirectory(shown(
            &real.to_string_lossy(),
            300,
        )));
    }
    Ok(real)
}

/// Copy mode: what the copy of `dir` will hold (links inside it kept, links out of it left
/// out, `.git` left out), within Claude Code's limits.
pub fn plan_copy(dir: &Path) -> Result<TreePlan, CommandError> {
    let plan = plan_plugin_tree(&copy_policy(dir))?;
    if plan.entries.len() + plan.links > MAX_ENTRIES {
        return Err(CommandError::TooManyEntries);
    }
    let bytes: u64 = (plan.entries.iter())
        .map(|e| match e {
            PlannedEntry::File { stat, .. } => stat.size,
            _ => 0,
        })
        .sum();
    if bytes > MAX_BYTES {
        return Err(CommandError::TooLarge);
    }
    Ok(plan)
}

fn copy_policy(dir: &Path) -> LinkPolicy {
    LinkPolicy {
        plugin_root: dir.to_path_buf(),
        container: Some(dir.to_path_buf()),
    }
}

/// Claude Code's content hash of a copied plugin: every file by its `/`-separated path (in
/// string order) with its size and bytes, then every link with its target.
pub fn content_hash(root: &Path, plan: &TreePlan) -> Result<String, CommandError> {
    let rel_of = |p: &Path| {
        (p.components())
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut files = Vec::new();
    let mut links = Vec::new();
    for e in &plan.entries {
        match e {
            PlannedEntry::File { rel, src, .. } => {
                let top = rel.components().next().map(|c| c.as_os_str());
                if top.is_some_and(|t| BOOKKEEPING.iter().any(|b| t == *b)) {
                    continue;
                }
                files.push((rel_of(rel), src.clone()));
            }
            PlannedEntry::Link { rel, target } => {
                links.push((rel_of(rel), target.to_string_lossy().into_owned()))
            }
            PlannedEntry::Dir(_) => {}
        }
    }
    files.sort();
    links.sort();
    let mut h = Sha256::new();
    for (rel, src) in &files {
        let src = if src.is_absolute() {
            src.clone()
        } else {
            root.join(src)
        };
        // The file itself, never a link put in its place meanwhile.
        let mut file = crate::platform::open_nofollow(&src).at("read", &src)?;
        let size = file.metadata().at("read", &src)?.len();
        h.update(format!("f {rel}\0{size}\0").as_bytes());
        let mut copied = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = file.read(&mut buf).at("read", &src)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            copied += n as u64;
        }
        if copied != size {
            return Err(CommandError::ChangedMeanwhile(shown(
                &src.to_string_lossy(),
                300,
            )));
        }
    }
    for (rel, target) in &links {
        h.update(format!("l {rel}\0{}\0{target}", target.len()).as_bytes());
    }
    Ok(hex::encode(h.finalize()))
}

/// Link mode: each top-level entry of `dir` (bookkeeping names aside) and its real path, which
/// must lie inside `dir`; in name order.
pub fn plan_links(dir: &Path) -> Result<Vec<(String, PathBuf)>, CommandError> {
    if cfg!(windows) {
        return Err(CommandError::LinkOnWindows);
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .at("read", dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !BOOKKEEPING.contains(&n.as_str()))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let shown_name = shown(&name, 80);
        let real = crate::fsutil::canonicalize(dir.join(&name))
            .map_err(|_| CommandError::LinkUnresolvable(shown_name.clone()))?;
        if real == dir || !real.starts_with(dir) {
            return Err(CommandError::LinkEscapes(shown_name));
        }
        out.push((name, real));
    }
    Ok(out)
}

/// Claude Code's hash of a link farm: the printed folder, then each name and target.
pub fn links_hash(dir: &Path, links: &[(String, PathBuf)]) -> String {
    let mut h = Sha256::new();
    h.update(format!("{}\0", dir.to_string_lossy()).as_bytes());
    for (name, target) in links {
        let target = target.to_string_lossy();
        h.update(format!("{}\0{name}", name.len()).as_bytes());
        h.update(format!("{}\0{target}", target.len()).as_bytes());
    }
    hex::encode(h.finalize())
}

/// Write the version folder of a `command` plugin into the empty folder `dst`, and check that
/// it is what `hash` was taken of (the printed folder may change while we work).
pub fn write(
    produced: &Produced,
    link: bool,
    hash: &str,
    dst: &Path,
) -> Result<CopyReport, CommandError> {
    let changed = || CommandError::ChangedMeanwhile(shown(&produced.dir.to_string_lossy(), 300));
    if link {
        let links = plan_links(&produced.dir)?;
        if links_hash(&produced.dir, &links) != hash {
            return Err(changed());
        }
        for (name, target) in &links {
            let at = dst.join(name);
            crate::platform::symlink(target, &at).at("create link", &at)?;
        }
        let marker = dst.join(LINK_MARKER);
        let body = serde_json::json!({ "target": produced.dir.to_string_lossy() }).to_string();
        crate::fsutil::write_atomic(&marker, body.as_bytes())?;
        return Ok(CopyReport {
            links: links.len() as u64,
            ..CopyReport::default()
        });
    }
    let plan = plan_copy(&produced.dir)?;
    let report = crate::cache::copy::copy_planned(dst, plan)?;
    let copied = plan_plugin_tree(&LinkPolicy {
        plugin_root: crate::fsutil::canonicalize(dst).at("resolve", dst)?,
        container: None,
    })?;
    if content_hash(dst, &copied)? != hash {
        return Err(changed());
    }
    Ok(report)
}

/// The version of a `command` plugin: `<plugin.json version>-<hash12>`, or the hash alone.
pub fn version(manifest_version: Option<&str>, hash: &str) -> String {
    let short = &hash[..12.min(hash.len())];
    match manifest_version.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => format!("{v}-{short}"),
        None => short.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_show_commands_as_claude_code_does() {
        assert_eq!(shown("echo  `x`   y ", 200), "echo 'x' y");
        assert_eq!(shown("abcdef", 3), "abc…");
        assert_eq!(shown("a\u{1b}[31mred\u{1b}[0m", 50), "ared");
    }

    #[test]
    fn versions_join_manifest_version_and_hash() {
        assert_eq!(
            version(Some("3.1.0"), "95ac1429ec7e0000"),
            "3.1.0-95ac1429ec7e"
        );
        assert_eq!(version(None, "95ac1429ec7e0000"), "95ac1429ec7e");
        assert_eq!(version(Some(" "), "95ac1429ec7e0000"), "95ac1429ec7e");
    }
}
