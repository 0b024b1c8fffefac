//! Everything the user sees. The only module that prints.
//!
//! Human mode follows Claude Code's texts: progress and results on stdout, failures as one
//! `✘ …` line on stderr, warnings as `warning: …` lines on stderr.
//!
//! `--json` prints one JSON document on stdout, serialised from a type of [`json`] (its schema is
//! docs/schemas/<command>.schema.json; docs/json.md describes each). On failure the document
//! says `"outcome": "failed"` with a `failureCode`, and the `✘` line still goes to stderr. One
//! line for Claude Code's single-plugin and marketplace commands and for `link`, `unlink`,
//! `init` and `cache prune`; pretty-printed (two spaces) for `list`, `marketplace list`,
//! `validate`, `update`, `outdated`, `cache verify`, `sync`, `settings` and `resolve`.
//!
//! Exit codes, for every command:
//! - 0: done (also when there was nothing to do, and `outdated` with updates pending);
//! - 1: failed (anything that went wrong while working; `validate`: errors found, or warnings
//!   with `--strict`; a write to stdout that failed turns 0 into 1);
//! - 2: usage (arguments clap refuses: an unknown flag, a missing argument) or unexpected
//!   (`validate`: the path cannot be read). The usage errors Claude Code itself reports
//!   (`Unknown scope "…"`, `--json needs a marketplace name`) exit 1, as there;
//! - `outdated --exit-code <CODE>` (2–255): updates are pending, as the caller asked.
#![allow(clippy::print_stdout, clippy::print_stderr)]

// `print!`, `println!`, `eprint!` and `eprintln!` are shadowed here, for this module and the
// modules below it, by versions that never panic: a closed pipe (`plugin list | head -c 0`) ends
// printing quietly while the command finishes its work and exits with its own code, as `git` and
// `cargo` end quietly. Defined before `mod` lines so the child modules see them too.
macro_rules! print {
    ($($arg:tt)*) => { $crate::output::stdio::stdout(format_args!($($arg)*)) };
}
macro_rules! println {
    () => { print!("\n") };
    ($($arg:tt)*) => { print!("{}\n", format_args!($($arg)*)) };
}
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::output::stdio::stderr(format_args!($($arg)*)) };
}
macro_rules! eprintln {
    () => { eprint!("\n") };
    ($($arg:tt)*) => { eprint!("{}\n", format_args!($($arg)*)) };
}

pub mod configure;
pub mod consent;
mod dependencies;
mod details;
pub mod json;
mod resolve;
pub mod stdio;
mod sync;
pub use dependencies::{PruneDecision, confirm_prune, prune, prune_failed};
pub use dependencies::{TagFlags, tag};
pub use details::details;
pub use resolve::resolve;
pub use sync::{no_project_reason, settings, sync};

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use json::{CommandFailure, OWN, Outcome, PluginFailure, PluginHead, SCHEMA_VERSION};

use crate::cache::Skipped;
use crate::cache::prune::KeepReason;
use crate::cache::store::ObjectProblem;
use crate::locations::Scope;
use crate::ops::OpError;
use crate::ops::cache::{CacheUsage, PruneReport};
use crate::ops::dependencies::Held;
use crate::ops::enable::{DisableAllReport, EnableReport};
use crate::ops::init::InitReport;
use crate::ops::install::{AlreadyNote, InstallOutcome, InstallReport};
use crate::ops::link::{LinkReport, UnlinkOutcome, UnlinkReport};
use crate::ops::list::{AvailableRow, InstalledRow};
use crate::ops::marketplace::{
    AddOutcome, AddReport, MarketplaceRow, RemoveReport, RenamesFollowed, UpdateAllReport,
    UpdateReport,
};
use crate::ops::renames::{RenameChange, RenameNotice};
use crate::ops::uninstall::UninstallReport;
use crate::ops::update::{PinReason, UpdateOutcome, UpdateResult};
use crate::ops::verify::{StoreCheck, VerifyResult, VerifyStatus};

/// Output mode of one invocation.
pub struct Out {
    json: bool,
    /// Stdout is a terminal: a progress line is redrawn by its result, as Claude Code does.
    terminal: bool,
}

/// Carriage return and "erase the line": the cursor's line is blank again.
const CLEAR_LINE: &str = "\r\x1b[2K";

impl Out {
    pub fn new(json: bool) -> Self {
        use std::io::IsTerminal;
        Self {
            json,
            terminal: !json && std::io::stdout().is_terminal(),
        }
    }

    /// Text printed before a result on the same line (no newline).
    pub fn progress(&self, text: &str) {
        print!("{text}");
        stdio::flush_stdout();
    }

    /// Before the result of a [`Out::progress`] line: on a terminal the line is cleared, so the
    /// result replaces it; elsewhere the result follows on the same line (Claude Code's bytes).
    fn progress_done(&self) {
        if self.terminal {
            print!("{CLEAR_LINE}");
        }
    }

    /// Before a failure after a [`Out::progress`] line (the `✘` line on stderr says what
    /// happened): cleared on a terminal, else ended.
    fn progress_failed(&self) {
        if self.terminal {
            print!("{CLEAR_LINE}");
            stdio::flush_stdout();
        } else {
            println!();
        }
    }
}

/// Progress of fetches and clones: a spinner on stderr when it is a terminal (indicatif hides
/// itself otherwise), nothing with `--json`.
pub struct TerminalReporter {
    hidden: bool,
    /// Tasks running at once (parallel updates) get a line each.
    lines: indicatif::MultiProgress,
}

impl TerminalReporter {
    pub fn new(json: bool) -> Self {
        Self {
            hidden: json,
            lines: indicatif::MultiProgress::new(),
        }
    }
}

struct SpinnerTask {
    bar: indicatif::ProgressBar,
    label: String,
}

impl crate::progress::Task for SpinnerTask {
    fn detail(&self, text: &str) {
        self.bar.set_message(format!("{}: {text}", self.label));
    }
}

impl Drop for SpinnerTask {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

impl crate::progress::Reporter for TerminalReporter {
    fn start(&self, label: &str) -> std::sync::Arc<dyn crate::progress::Task> {
        let bar = if self.hidden {
            indicatif::ProgressBar::hidden()
        } else {
            let bar = self.lines.add(indicatif::ProgressBar::new_spinner());
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            {
                bar.set_style(style);
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        };
        bar.set_message(label.to_string());
        std::sync::Arc::new(SpinnerTask {
            bar,
            label: label.to_string(),
        })
    }
}

/// A command refused before it starts (a bad `--scope`, conflicting options, no home folder):
/// the one failure shape, `✘ ` and the message (which says what to do), on stderr. Claude Code's
/// texts are kept after the mark; a message that already carries it is printed as it is.
pub fn fatal(msg: &str) {
    match msg.strip_prefix("✘ ") {
        Some(_) => eprintln!("{msg}"),
        None => eprintln!("✘ {msg}"),
    }
}

/// `warning: …` lines on stderr.
pub fn warnings(lines: &[String]) {
    for l in lines {
        eprintln!("warning: {l}");
    }
}

pub fn waiting_for_lock(path: &Path) {
    eprintln!(
        "waiting for lock on {} (another plugin process is running)",
        path.display()
    );
}

/// A report on one line (Claude Code's single-plugin and marketplace commands).
fn json_line(v: &impl Serialize) {
    println!("{}", serde_json::to_string(v).unwrap_or_default());
}

/// A report pretty-printed with two spaces (Claude Code's `list`, `marketplace list`,
/// `validate`).
fn json_pretty(v: &impl Serialize) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

impl CommandFailure {
    fn new(schema_version: Option<u32>, command: &str, e: &OpError) -> Self {
        Self {
            schema_version,
            command: command.into(),
            marketplace: None,
            outcome: Outcome::Failed,
            plugin: None,
            all: None,
            message: e.to_string(),
            failure_code: e.failure_code().into(),
        }
    }
}

impl PluginHead {
    fn ok(command: &str, plugin: &str, id: &str, scope: Scope) -> Self {
        Self {
            command: command.into(),
            outcome: Outcome::Ok,
            plugin: plugin.into(),
            plugin_id: id.into(),
            scope,
        }
    }
}

fn lossy(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn print_notes(notes: &[String]) {
    for n in notes {
        eprintln!("note: {n}");
    }
}

fn warn_skipped(skipped: &[Skipped]) {
    for s in skipped {
        // A path inside the plugin, written as the catalog and the listing write it (`/`).
        let path = crate::fsutil::slash_path(&s.path);
        match &s.target {
            Some(t) => eprintln!(
                "warning: skipped {} {path} -> {}: {}",
                s.reason.link_kind(),
                t.display(),
                s.reason.describe()
            ),
            None => eprintln!("warning: skipped {path}: {}", s.reason.describe()),
        }
    }
}

/// A failure of a single-plugin command (install, uninstall, enable, disable; link, unlink and
/// resolve with `schema_version`).
fn plugin_failure(
    out: &Out,
    schema_version: Option<u32>,
    command: &str,
    verb: &str,
    plugin: &str,
    scope: Option<Scope>,
    e: &OpError,
) -> i32 {
    if out.json {
        json_line(&PluginFailure {
            schema_version,
            command: command.into(),
            outcome: Outcome::Failed,
            plugin: plugin.into(),
            scope,
            message: e.to_string(),
            failure_code: e.failure_code().into(),
            installed_scope: e.installed_scope(),
            already_in_goal_state: e.is_already_in_goal_state().then_some(true),
            shown_command: e.shown_command().cloned(),
            reverse_dependents: e.reverse_dependents(),
            disable_first: e.disable_first(),
            dependencies: e.missing_dependencies(),
        });
    } else if command == "install" {
        out.progress_failed();
    }
    if e.stands_alone() {
        eprintln!("{e}");
    } else {
        eprintln!("✘ Failed to {verb} plugin \"{plugin}\": {e}");
    }
    1
}

pub fn install(
    out: &Out,
    typed: &str,
    scope: Scope,
    r: Result<InstallReport, OpError>,
    after: &crate::ops::configure::AfterInstall,
) -> i32 {
    // Printed once the work is done (a progress spinner may have used the line meanwhile);
    // the bytes on stdout are the same as printing it first.
    // Warnings first, so they do not split the progress line and its result.
    if let Ok(InstallReport {
        outcome:
            InstallOutcome::Installed {
                skipped,
                notes,
                from_seed,
                ..
            },
        ..
    }) = &r
    {
        warn_skipped(skipped);
        print_notes(notes);
        if let Some(dir) = from_seed {
            print_notes(&[format!(
                "copied from the seed folder {} (CLAUDE_CODE_PLUGIN_SEED_DIR); nothing was fetched",
                dir.display()
            )]);
        }
    }
    // Claude Code's word on a command it did not run again (before its progress line).
    if let Ok(InstallReport {
        outcome:
            InstallOutcome::AlreadyInstalled {
                note:
                    AlreadyNote::CommandNotRun {
                        unreviewed: Some(text),
                    },
                ..
            },
        ..
    }) = &r
    {
        println!("{text}");
    }
    let adds_marketplace = matches!(&r, Ok(rep) if rep.added_marketplace.is_some());
    if !out.json && !adds_marketplace {
        out.progress(&format!("Installing plugin \"{typed}\"..."));
    }
    let r = match r {
        Ok(r) => r,
        Err(e) => return plugin_failure(out, None, "install", "install", typed, Some(scope), &e),
    };
    if let (false, Some(a)) = (out.json, &r.added_marketplace) {
        println!("Adding marketplace…");
        println!("✔ {}", add_message(a).replace('\n', "\n  "));
        print_renames(&a.renames);
        out.progress(&format!("Installing plugin \"{}\"...", r.id));
    }
    let plugin = if r.added_marketplace.is_some() {
        r.id.as_str()
    } else {
        typed
    };
    // Claude Code's lines about the plugin's options follow its own.
    let message = std::iter::once(install_message(&r, scope))
        .chain(after.lines.iter().cloned())
        .collect::<Vec<_>>()
        .join("\n");
    if out.json {
        // Claude Code's line exactly (scripts/conformance.sh m1-reinstall): the content check
        // shows in human output only.
        let mut line = install_json(plugin, &r, scope, message);
        line.config_applied = after.config_applied;
        line.unset_option_count = after.unset_option_count;
        json_line(&line);
    } else {
        out.progress_done();
        println!("✔ {message}");
        if let InstallOutcome::AlreadyInstalled {
            installed_version,
            note: AlreadyNote::Unchanged { .. },
            ..
        } = &r.outcome
        {
            // The digest itself is for `cache verify` and --json readers, not for this line.
            println!(
                "  Content unchanged since version {installed_version} was installed: nothing was copied. `--force` reinstalls it."
            );
        }
    }
    0
}

/// The `✔` line of an install (and its `message` in `--json`).
fn install_message(r: &InstallReport, scope: Scope) -> String {
    use crate::ops::dependencies::{installed_suffix, not_found_warning};
    let name = crate::ops::plugin_name(&r.id);
    format!(
        "{}{}{}",
        install_line(r, scope),
        installed_suffix(&r.dependencies),
        not_found_warning(&r.dependencies, name)
    )
}

/// The `✔` line of an install without what its dependencies add.
fn install_line(r: &InstallReport, scope: Scope) -> String {
    match &r.outcome {
        InstallOutcome::Installed { .. } => {
            format!("Successfully installed plugin: {} (scope: {scope})", r.id)
        }
        InstallOutcome::AlreadyInstalled {
            installed_version,
            available_version,
            in_place_from,
            note,
        } => {
            let mut m = format!("Plugin \"{}\" is already installed (scope: {scope})", r.id);
            if r.marked_manual {
                m.push_str(" — marked as manually installed");
            }
            if let AlreadyNote::Linked(checkout) = note {
                m.push_str(&format!(
                    ", linked to the development checkout {}",
                    checkout.display()
                ));
            } else if let Some(dir) = in_place_from {
                m.push_str(&format!(
                    " — it loads in place from {}, so edits there take effect at the next session start or /reload-plugins",
                    dir.display()
                ));
            }
            if installed_version != available_version {
                m.push_str(&format!(
                    "; `plugin update {}` re-records its version, {installed_version} to {available_version}",
                    r.id
                ));
            }
            m
        }
    }
}

/// `install --json`: Claude Code's line, and what we add for an already installed plugin.
fn install_json(plugin: &str, r: &InstallReport, scope: Scope, message: String) -> json::Installed {
    let mut line = json::Installed {
        head: PluginHead::ok("install", plugin, &r.id, scope),
        message,
        config_applied: None,
        unset_option_count: None,
        from_seed: None,
        installed_version: None,
        available_version: None,
        linked_to: None,
    };
    match &r.outcome {
        InstallOutcome::Installed { from_seed, .. } => {
            line.from_seed = from_seed.as_deref().map(lossy);
        }
        InstallOutcome::AlreadyInstalled {
            installed_version,
            available_version,
            note,
            ..
        } => {
            line.installed_version = Some(installed_version.clone());
            // Not known when the source was not run (Claude Code leaves it out then too).
            if !matches!(note, AlreadyNote::CommandNotRun { .. }) {
                line.available_version = Some(available_version.clone());
            }
            if let AlreadyNote::Linked(checkout) = note {
                line.linked_to = Some(lossy(checkout));
            }
        }
    }
    line
}

pub fn uninstall(
    out: &Out,
    typed: &str,
    scope: Scope,
    r: Result<UninstallReport, OpError>,
    required_by: &[String],
    unneeded: Option<&str>,
) -> i32 {
    match r {
        Ok(r) => {
            let mut message = format!(
                "Successfully uninstalled plugin: {} (scope: {})",
                r.name, r.scope
            );
            if !required_by.is_empty() {
                message.push_str(&format!(
                    " — warning: required by {}",
                    required_by.join(", ")
                ));
            }
            // Claude Code's line about dependencies left unneeded follows its own.
            if let Some(note) = unneeded {
                message = format!("{message}\n{note}");
            }
            if out.json {
                json_line(&json::Uninstalled {
                    head: PluginHead::ok("uninstall", typed, &r.id, r.scope),
                    kept_data: r.kept_data,
                    message,
                });
            } else {
                println!("✔ {message}");
            }
            0
        }
        Err(e) => plugin_failure(out, None, "uninstall", "uninstall", typed, Some(scope), &e),
    }
}

pub fn toggle(
    out: &Out,
    enable: bool,
    typed: &str,
    scope: Option<Scope>,
    r: Result<EnableReport, OpError>,
) -> i32 {
    let (command, verb) = if enable {
        ("enable", "enabled")
    } else {
        ("disable", "disabled")
    };
    match r {
        Ok(r) => {
            let mut message = format!(
                "Successfully {verb} plugin: {} (scope: {})",
                r.name, r.scope
            );
            if !r.also_enabled.is_empty() {
                let n = r.also_enabled.len();
                let names: Vec<&str> = (r.also_enabled.iter())
                    .map(|i| crate::ops::plugin_name(i))
                    .collect();
                let word = if n == 1 { "dependency" } else { "dependencies" };
                message.push_str(&format!(" (also enabled {n} {word}: {})", names.join(", ")));
            }
            if out.json {
                json_line(&json::Toggled {
                    head: PluginHead::ok(command, typed, &r.id, r.scope),
                    message,
                });
            } else {
                println!("✔ {message}");
            }
            0
        }
        Err(e) => plugin_failure(out, None, command, command, typed, scope, &e),
    }
}

pub fn disable_all(out: &Out, r: Result<DisableAllReport, OpError>) -> i32 {
    match r {
        Ok(r) => {
            let skipped = match r.skipped_managed.len() {
                0 => String::new(),
                n => format!(" (skipped {n} required by your organization)"),
            };
            let message = match r.disabled.len() {
                0 => format!("No enabled plugins to disable{skipped}"),
                1 => format!("Disabled 1 plugin{skipped}"),
                n => format!("Disabled {n} plugins{skipped}"),
            };
            if out.json {
                json_line(&json::DisabledAll {
                    command: "disable".into(),
                    outcome: Outcome::Ok,
                    all: true,
                    message,
                    skipped_managed: r.skipped_managed,
                });
            } else {
                println!("✔ {message}");
            }
            0
        }
        Err(e) => {
            if out.json {
                json_line(&CommandFailure {
                    all: Some(true),
                    ..CommandFailure::new(None, "disable", &e)
                });
            }
            eprintln!("✘ Failed to disable plugins: {e}");
            1
        }
    }
}

fn installed_json(r: &InstalledRow) -> json::InstalledPlugin {
    json::InstalledPlugin {
        id: r.id.clone(),
        version: r.version.clone(),
        scope: r.scope.clone(),
        enabled: r.enabled,
        install_path: r.install_path.clone(),
        read_from_folder: r.read_from_folder.as_deref().map(lossy),
        folder_version: r.folder_version.clone(),
        installed_at: r.installed_at.clone(),
        last_updated: r.last_updated.clone(),
        project_path: r.project_path.clone(),
        project_enabled: r.project_enabled,
        errors: r.errors.clone(),
        error_details: (r.error_details.iter())
            .map(|d| json::ErrorDetail {
                kind: d.kind.to_string(),
                plugin: d.plugin.clone(),
                path: d.path.as_deref().map(lossy),
                dependency: d.dependency.clone(),
            })
            .collect(),
    }
}

fn available_json(a: &AvailableRow) -> json::AvailablePlugin {
    json::AvailablePlugin {
        plugin_id: a.plugin_id.clone(),
        name: a.name.clone(),
        description: a.description.clone(),
        marketplace_name: a.marketplace_name.clone(),
        version: a.version.clone(),
        source: shown_source(&a.source),
    }
}

/// A marketplace or plugin source as shown: its addresses without their secrets (what is
/// recorded in state files stays as written).
fn shown_source(source: &Value) -> Value {
    let mut shown = source.clone();
    for k in ["url", "registry"] {
        if let Some(Value::String(u)) = shown.get_mut(k) {
            *u = crate::credential::redact_url(u);
        }
    }
    shown
}

pub fn list(
    out: &Out,
    available: bool,
    r: Result<(Vec<InstalledRow>, Vec<AvailableRow>), OpError>,
) -> i32 {
    let (rows, avail) = match r {
        Ok(x) => x,
        Err(e) => {
            eprintln!("✘ Failed to list plugins: {e}");
            return 1;
        }
    };
    if out.json {
        let installed = rows.iter().map(installed_json).collect();
        json_pretty(&if available {
            json::PluginList::WithAvailable {
                installed,
                available: avail.iter().map(available_json).collect(),
            }
        } else {
            json::PluginList::Installed(installed)
        });
        return 0;
    }
    if rows.is_empty() {
        println!("No plugins installed. Use `plugin install` to install a plugin.");
        if available {
            println!();
        }
    } else {
        print_installed(&rows);
    }
    // Claude Code ignores --available without --json; we list them (docs/differences.md 36).
    if available {
        print_available(&avail);
    }
    0
}

fn print_available(avail: &[AvailableRow]) {
    if avail.is_empty() {
        println!("No plugins available: add a marketplace with `plugin marketplace add`.");
        return;
    }
    println!("Available plugins:\n");
    for a in avail {
        println!("  ❯ {}", a.plugin_id);
        if let Some(v) = &a.version {
            println!("    Version: {v}");
        }
        if let Some(d) = &a.description {
            println!("    Description: {d}");
        }
        println!();
    }
}

fn print_installed(rows: &[InstalledRow]) {
    println!("Installed plugins:\n");
    for r in rows {
        println!("  ❯ {}", r.id);
        println!("    Version: {}", r.version);
        if let Some(f) = &r.read_from_folder {
            println!("    Read from: {}", f.display());
        }
        println!("    Scope: {}", r.scope);
        if r.errors.is_empty() {
            println!(
                "    Status: {}",
                if r.enabled {
                    "✔ enabled"
                } else {
                    "✘ disabled"
                }
            );
        } else {
            println!("    Status: ✘ failed to load");
            for e in &r.errors {
                println!("    Error: {e}");
            }
        }
        println!();
    }
}

fn add_message(a: &AddReport) -> String {
    match &a.outcome {
        AddOutcome::Added => format!(
            "Successfully added marketplace: {} (declared in {} settings)",
            a.name, a.scope
        ),
        AddOutcome::AlreadyOnDisk => format!(
            "Marketplace '{}' already on disk — declared in {} settings",
            a.name, a.scope
        ),
        AddOutcome::Repointed { previous } => format!(
            "Successfully added marketplace: {} (declared in {} settings)\nMarketplace '{}' was already added from {previous} and now points at {}.\nPlugins already installed from it now update from the new source. To undo, add the previous source again.",
            a.name,
            a.scope,
            a.name,
            a.source.describe()
        ),
    }
}

/// Where a rename notice applies, for messages: `user settings (<path>)`.
fn notice_place(n: &RenameNotice) -> String {
    match (n.scope, &n.file) {
        (Some(s), Some(f)) => crate::state::settings::describe(s, f),
        _ => format!("marketplace {}", n.marketplace),
    }
}

/// Human lines for followed renames: changes on stdout, problems as warnings on stderr.
fn print_renames(r: &RenamesFollowed) {
    let notices = match r {
        Ok(n) => n,
        Err(e) => {
            eprintln!("warning: renames were not followed: {e}");
            return;
        }
    };
    for n in notices {
        match &n.change {
            RenameChange::Renamed {
                new_id,
                kept_existing,
                ..
            } => {
                let kept = if *kept_existing {
                    format!(" ({new_id} was already set there and keeps its value)")
                } else {
                    String::new()
                };
                println!(
                    "{} → {new_id} in {}: {}{kept}",
                    n.old_id,
                    notice_place(n),
                    n.message()
                );
            }
            RenameChange::Removed => println!(
                "{} dropped from {}: {}",
                n.old_id,
                notice_place(n),
                n.message()
            ),
            RenameChange::Unresolved { .. } => {
                eprintln!("warning: {}: {}", notice_place(n), n.message())
            }
            RenameChange::InvalidRenames(_) => eprintln!("warning: {}", n.message()),
        }
    }
}

/// `renames` of a marketplace command's JSON line, when there is any.
fn renames_json(notices: &[RenameNotice]) -> Option<Vec<json::FollowedRename>> {
    if notices.is_empty() {
        return None;
    }
    let row = |n: &RenameNotice| {
        let (outcome, new_plugin_id) = match &n.change {
            RenameChange::Renamed { new_id, .. } => {
                (json::RenameOutcome::Renamed, Some(new_id.clone()))
            }
            RenameChange::Removed => (json::RenameOutcome::Removed, None),
            RenameChange::Unresolved { .. } => (json::RenameOutcome::Unresolved, None),
            RenameChange::InvalidRenames(_) => (json::RenameOutcome::Invalid, None),
        };
        json::FollowedRename {
            plugin_id: n.old_id.clone(),
            new_plugin_id,
            scope: n.scope,
            file: n.file.as_deref().map(lossy),
            outcome,
            message: n.message(),
        }
    };
    Some(notices.iter().map(row).collect())
}

/// The line of a successful `marketplace add/update/remove`.
fn marketplace_done(
    command: &str,
    name: &str,
    message: String,
    renames: &RenamesFollowed,
) -> json::MarketplaceDone {
    let (renames, renames_error) = match renames {
        Ok(n) => (renames_json(n), None),
        Err(e) => (None, Some(e.clone())),
    };
    json::MarketplaceDone {
        command: command.into(),
        outcome: Outcome::Ok,
        marketplace: name.into(),
        message,
        renames,
        renames_error,
    }
}

pub fn marketplace_add(out: &Out, r: Result<AddReport, OpError>) -> i32 {
    match r {
        Ok(a) => {
            for p in &a.entry_problems {
                eprintln!(
                    "warning: marketplace {}: entry cannot be installed: {p}",
                    a.name
                );
            }
            let message = a
                .steps
                .iter()
                .cloned()
                .chain([add_message(&a)])
                .collect::<Vec<_>>()
                .join("\n");
            if out.json {
                json_line(&marketplace_done(
                    "marketplace-add",
                    &a.name,
                    message,
                    &a.renames,
                ));
            } else {
                let result = add_message(&a).replace('\n', "\n  ");
                if a.steps.is_empty() {
                    out.progress("Adding marketplace…");
                    out.progress_done();
                    println!("✔ {result}");
                } else {
                    println!("Adding marketplace…\n{}\n✔ {result}", a.steps.join("\n"));
                }
                print_renames(&a.renames);
            }
            0
        }
        Err(e) => {
            if out.json {
                json_line(&CommandFailure::new(None, "marketplace-add", &e));
            } else if e.failure_code() != "invalid_source" {
                println!("Adding marketplace…");
            }
            eprintln!("✘ Failed to add marketplace: {e}");
            1
        }
    }
}

fn marketplace_listed(m: &MarketplaceRow) -> json::MarketplaceListed {
    let source = &shown_source(&m.source);
    let field = |k: &str| source.get(k).cloned();
    json::MarketplaceListed {
        name: m.name.clone(),
        source: field("source").unwrap_or(Value::Null),
        repo: field("repo"),
        url: field("url"),
        path: field("path"),
        git_ref: field("ref"),
        install_location: lossy(&m.install_location),
        seed: m.seed.as_deref().map(lossy),
    }
}

fn source_label(source: &Value) -> String {
    let source = &shown_source(source);
    let s = |k: &str| {
        source
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    match source
        .get("source")
        .and_then(Value::as_str)
        .unwrap_or_default()
    {
        "directory" => format!("Folder ({})", s("path")),
        "file" => format!("File ({})", s("path")),
        "git" => format!("Git ({})", s("url")),
        "github" => format!("GitHub ({})", s("repo")),
        "url" => format!("URL ({})", s("url")),
        other => other.to_string(),
    }
}

pub fn marketplace_list(out: &Out, r: Result<Vec<MarketplaceRow>, OpError>) -> i32 {
    let mut rows = match r {
        Ok(r) => r,
        Err(e) => {
            eprintln!("✘ Failed to list marketplaces: {e}");
            return 1;
        }
    };
    if out.json {
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        let items: Vec<_> = rows.iter().map(marketplace_listed).collect();
        json_pretty(&items);
        return 0;
    }
    if rows.is_empty() {
        println!("No marketplaces configured");
        return 0;
    }
    println!("Configured marketplaces:\n");
    for m in &rows {
        println!("  ❯ {}", m.name);
        println!("    Source: {}", source_label(&m.source));
        if let Some(seed) = &m.seed {
            println!("    Seed: {} (read-only)", seed.display());
        }
        println!();
    }
    0
}

pub fn marketplace_update_one(out: &Out, name: &str, r: Result<UpdateReport, OpError>) -> i32 {
    if !out.json {
        out.progress(&format!("Updating marketplace: {name}..."));
    }
    match r {
        Ok(u) => {
            if out.json {
                json_line(&marketplace_done(
                    "marketplace-update",
                    &u.name,
                    u.steps.join("\n"),
                    &u.renames,
                ));
            } else {
                let (last, before) = u
                    .steps
                    .split_last()
                    .map(|(l, b)| (l.clone(), b.to_vec()))
                    .unwrap_or_default();
                out.progress_done();
                for s in before {
                    println!("{s}");
                }
                println!("✔ {last}");
                print_renames(&u.renames);
            }
            0
        }
        Err(e) => {
            if out.json {
                json_line(&CommandFailure {
                    marketplace: Some(name.into()),
                    ..CommandFailure::new(None, "marketplace-update", &e)
                });
            } else {
                out.progress_failed();
            }
            eprintln!("✘ Failed to update marketplace(s): {e}");
            1
        }
    }
}

pub fn marketplace_update_all(r: Result<UpdateAllReport, OpError>) -> i32 {
    print!("Updating marketplaces...");
    let (results, skipped_seeds) = match r {
        Ok(r) => (r.updates, r.skipped_seeds),
        Err(e) => {
            println!();
            eprintln!("✘ Failed to update marketplace(s): {e}");
            return 1;
        }
    };
    println!();
    for (name, seed) in &skipped_seeds {
        println!(
            "Skipped seed marketplace {name} (read-only, from {})",
            seed.display()
        );
    }
    let (mut failed, mut skipped) = (0, 0);
    for (name, r) in &results {
        match r {
            // Left alone by policy: said, not a failure.
            Err(e) if e.is_marketplace_update_blocked() => {
                skipped += 1;
                eprintln!("! Skipped marketplace {name}: {e}");
            }
            Ok(u) => print_renames(&u.renames),
            Err(e) => {
                failed += 1;
                eprintln!("✘ Failed to update marketplace {name}: {e}");
            }
        }
    }
    let ok = results.len() - failed - skipped;
    match ok {
        0 if failed == 0 => println!("No marketplaces needed updating"),
        0 => {}
        1 => println!("✔ Successfully updated 1 marketplace"),
        n => println!("✔ Successfully updated {n} marketplaces"),
    }
    i32::from(failed > 0)
}

pub fn marketplace_remove(out: &Out, name: &str, r: Result<RemoveReport, OpError>) -> i32 {
    match r {
        Ok(rep) => {
            let mut message = format!("Successfully removed marketplace: {}", rep.name);
            if let Some(s) = rep.only_scope {
                message.push_str(&format!(" (from {s} settings)"));
            }
            if !rep.uninstalled.is_empty() {
                let n = rep.uninstalled.len();
                message.push_str(&format!(
                    "\nAlso uninstalled {n} plugin{} from this marketplace:\n{}\nThe removal also deletes their saved options, secrets and data where it can.\nTo use a plugin again, add the marketplace back and reinstall the plugin.",
                    if n == 1 { "" } else { "s" },
                    rep.uninstalled.iter().map(|i| format!("  {i}")).collect::<Vec<_>>().join("\n")
                ));
            }
            if out.json {
                json_line(&marketplace_done(
                    "marketplace-remove",
                    &rep.name,
                    message,
                    &Ok(Vec::new()),
                ));
            } else {
                println!("✔ {message}");
            }
            0
        }
        Err(e) => {
            if out.json {
                json_line(&CommandFailure {
                    marketplace: Some(name.into()),
                    ..CommandFailure::new(None, "marketplace-remove", &e)
                });
            }
            eprintln!("✘ Failed to remove marketplace: {e}");
            1
        }
    }
}

/// One installation's update outcome as a sentence (after `<id> (<scope>): `); with the ranges
/// other plugins hold it to, in Claude Code's words.
fn update_message(r: &UpdateResult, applied: bool) -> String {
    let names = |by: &[String]| {
        (by.iter())
            .map(|i| crate::ops::plugin_name(i))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let within = match &r.constraint {
        Some(c) if c.tagged => {
            format!(
                " (highest tag satisfying {} from {})",
                c.ranges,
                names(&c.by)
            )
        }
        Some(c) => format!(" (satisfying {}, required by {})", c.ranges, names(&c.by)),
        None => String::new(),
    };
    match &r.outcome {
        UpdateOutcome::Updated { from, to } if from != to => {
            if applied {
                format!("updated {from} → {to}{within}")
            } else {
                format!("{from} → {to} available{within}")
            }
        }
        UpdateOutcome::Updated { from, .. } if from == crate::version::UNKNOWN => {
            if applied {
                "refreshed from source (its version is unknown, and its content changed)".into()
            } else {
                "content changed upstream (its version is unknown); update refreshes it".into()
            }
        }
        UpdateOutcome::Updated { from, .. } => {
            if applied {
                format!("reinstalled {from}")
            } else {
                format!("would be reinstalled at {from}")
            }
        }
        UpdateOutcome::Current { version } => match &r.constraint {
            Some(c) => format!(
                "current {version}: the latest version satisfying {} (required by {})",
                c.ranges,
                names(&c.by)
            ),
            None => format!("current {version}"),
        },
        UpdateOutcome::ChangedSameVersion { version } => format!(
            "content changed upstream but version {version} is unchanged; use --force to reinstall"
        ),
        UpdateOutcome::Pinned { version, reason } => match reason {
            PinReason::Sha(sha) => {
                format!(
                    "pinned to commit {} (version {version})",
                    &sha[..sha.len().min(12)]
                )
            }
            PinReason::Linked(dir) => format!(
                "pinned: its version folder links to the checkout {} (version {version})",
                dir.display()
            ),
            PinReason::Range(held) => {
                let (ranges, by) = (r.constraint.as_ref())
                    .map(|c| (c.ranges.as_str(), c.by.join(", ")))
                    .unwrap_or_default();
                let name = crate::ops::plugin_name(&r.id);
                match held {
                    Held::Conflict => format!(
                        "held at {version}: conflicting version requirements (no version satisfies all of: {ranges}; required by {by})"
                    ),
                    Held::Outside(found) => format!(
                        "held at {version}: {by} requires {name} at a version range ({ranges}) that {found} does not satisfy"
                    ),
                }
            }
        },
        UpdateOutcome::Failed { message, .. } => format!("failed: {message}"),
    }
}

/// What installing an updated plugin's missing dependencies came to, after its row (Claude
/// Code's words).
fn dependencies_suffix(r: &UpdateResult) -> String {
    match &r.dependencies {
        None => String::new(),
        Some(Ok(report)) => {
            let mut out = crate::ops::dependencies::installed_suffix(report);
            let unresolved = report.unresolved();
            if !unresolved.is_empty() {
                let n = unresolved.len();
                let word = if n == 1 { "dependency" } else { "dependencies" };
                out += &format!(" — {n} {word} still unresolved: {}.", unresolved.join(", "));
            }
            out
        }
        Some(Err(e)) => format!(" — dependencies not installed: {e}"),
    }
}

/// `update` and `outdated`: a line per installation and a summary; `--json`: the rows in a
/// report.
pub fn update(out: &Out, applied: bool, r: Result<Vec<UpdateResult>, OpError>) -> i32 {
    let command = if applied { "update" } else { "outdated" };
    let results = match r {
        Ok(r) => r,
        Err(e) => {
            if out.json {
                json_pretty(&CommandFailure::new(OWN, command, &e));
            }
            eprintln!("✘ Failed to {command}: {e}");
            return 1;
        }
    };
    let failed = results
        .iter()
        .any(|r| matches!(r.outcome, UpdateOutcome::Failed { .. }));
    if out.json {
        json_pretty(&json::PluginUpdates {
            schema_version: SCHEMA_VERSION,
            command: command.into(),
            outcome: Outcome::of(failed),
            plugins: results.iter().map(|r| update_row(r, applied)).collect(),
        });
        return i32::from(failed);
    }
    if results.is_empty() {
        println!("No installed plugins to {command}.");
        return 0;
    }
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for r in &results {
        if let Some(rep) = &r.report {
            warn_skipped(&rep.skipped);
            print_notes(&rep.notes);
        }
        let who = match (r.scope, &r.project_path) {
            (Some(s), Some(p)) if s.is_project_bound() => {
                format!("{} ({s}, {})", r.id, p.display())
            }
            (Some(s), _) => format!("{} ({s})", r.id),
            (None, _) => r.id.clone(),
        };
        let line = format!("{who}: {}", update_message(r, applied));
        let line = line + &dependencies_suffix(r);
        match &r.outcome {
            UpdateOutcome::Failed { .. } => eprintln!("✘ {line}"),
            UpdateOutcome::ChangedSameVersion { .. } => println!("! {line}"),
            UpdateOutcome::Updated { .. } if !applied => println!("↑ {line}"),
            _ => println!("✔ {line}"),
        }
        let name = r.outcome.name();
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => counts.push((name, 1)),
        }
    }
    let summary: Vec<String> = counts
        .iter()
        .map(|(n, c)| match (*n, applied) {
            ("updated", false) => format!("{c} outdated"),
            _ => format!("{c} {n}"),
        })
        .collect();
    let restart = applied
        && results
            .iter()
            .any(|r| matches!(r.outcome, UpdateOutcome::Updated { .. }));
    println!(
        "{}{}",
        summary.join(", "),
        if restart {
            ". Restart Claude Code (or /reload-plugins) to apply changes."
        } else {
            ""
        }
    );
    i32::from(failed)
}

fn update_row(r: &UpdateResult, applied: bool) -> json::UpdateRow {
    let new_version = match &r.outcome {
        UpdateOutcome::Updated { to, .. } => Some(to.clone()),
        UpdateOutcome::Current { version }
        | UpdateOutcome::ChangedSameVersion { version }
        | UpdateOutcome::Pinned { version, .. } => Some(version.clone()),
        UpdateOutcome::Failed { .. } => None,
    };
    let pinned_to = match &r.outcome {
        UpdateOutcome::Pinned { reason, .. } => Some(match reason {
            PinReason::Sha(sha) => json::PinnedTo::Commit(sha.clone()),
            PinReason::Linked(dir) => json::PinnedTo::Checkout(lossy(dir)),
            PinReason::Range(_) => json::PinnedTo::Range(
                (r.constraint.as_ref()).map_or(String::new(), |c| c.ranges.clone()),
            ),
        }),
        _ => None,
    };
    let (message, failure_code) = match &r.outcome {
        UpdateOutcome::Failed { message, code } => (message.clone(), Some(code.to_string())),
        _ => (update_message(r, applied) + &dependencies_suffix(r), None),
    };
    json::UpdateRow {
        plugin: r.id.clone(),
        // A name that matched no installation has no id.
        plugin_id: r.old_version.as_ref().map(|_| r.id.clone()),
        scope: r.scope,
        project_path: r.project_path.as_deref().map(lossy),
        outcome: r.outcome.name().into(),
        old_version: r.old_version.clone(),
        new_version,
        pinned_to,
        dependencies: (r.dependencies.as_ref()).map(|d| match d {
            Ok(report) => json::UpdateDependencies {
                installed: report.installed.clone(),
                unresolved: report.unresolved(),
                error: None,
            },
            Err(e) => json::UpdateDependencies {
                installed: Vec::new(),
                unresolved: Vec::new(),
                error: Some(e.clone()),
            },
        }),
        constraint: (r.constraint.as_ref()).map(|c| json::UpdateConstraint {
            ranges: c.ranges.clone(),
            required_by: c.by.clone(),
        }),
        applied: applied && matches!(r.outcome, UpdateOutcome::Updated { .. }),
        message,
        failure_code,
    }
}

/// `cache verify`: a line per installation (and per changed file), or one JSON report.
pub fn verify(
    out: &Out,
    r: Result<Vec<VerifyResult>, OpError>,
    store: Option<Result<StoreCheck, OpError>>,
) -> i32 {
    let checked = r.and_then(|r| Ok((r, store.transpose()?)));
    let (results, store) = match checked {
        Ok(r) => r,
        Err(e) => {
            if out.json {
                json_pretty(&CommandFailure::new(OWN, "cache-verify", &e));
            }
            eprintln!("✘ Failed to verify: {e}");
            return 1;
        }
    };
    let damaged = store
        .as_ref()
        .is_some_and(|s| !s.damaged.is_empty() && !s.repaired);
    let failed = results.iter().any(|r| r.status.is_failure()) || damaged;
    if out.json {
        json_pretty(&json::VerifyList {
            schema_version: SCHEMA_VERSION,
            command: "cache-verify".into(),
            outcome: Outcome::of(failed),
            plugins: results.iter().map(verified).collect(),
            store: store.as_ref().map(|s| json::StoreVerified {
                objects: s.objects,
                damaged: (s.damaged.iter())
                    .map(|d| json::DamagedObject {
                        path: lossy(&d.path),
                        problem: d.problem.as_str().into(),
                    })
                    .collect(),
                repaired: s.repaired,
            }),
        });
        return i32::from(failed);
    }
    if results.is_empty() {
        println!("No installed plugins to verify.");
    }
    for r in &results {
        let who = match r.scope {
            Some(s) => format!("{} ({s})", r.id),
            None => r.id.clone(),
        };
        match &r.status {
            VerifyStatus::Intact { files } => println!("✔ {who}: intact ({files} files)"),
            VerifyStatus::Modified(d) => {
                eprintln!(
                    "✘ {who}: {} differs from what was installed ({} modified, {} missing, {} extra); `plugin update {} --force` reinstalls it",
                    r.install_path.display(),
                    d.modified.len(),
                    d.missing.len(),
                    d.extra.len(),
                    r.id
                );
                for (label, paths) in [
                    ("modified", &d.modified),
                    ("missing", &d.missing),
                    ("extra", &d.extra),
                ] {
                    for p in paths {
                        eprintln!("    {label}: {p}");
                    }
                }
            }
            VerifyStatus::FolderMissing => eprintln!(
                "✘ {who}: {} is missing; `plugin update {} --force` reinstalls it",
                r.install_path.display(),
                r.id
            ),
            VerifyStatus::Unrecorded => println!(
                "? {who}: no content listing was recorded (installed by Claude Code or an older plugin); `plugin update {} --force` records one",
                r.id
            ),
            VerifyStatus::Linked(dir) => {
                println!(
                    "✔ {who}: links to the checkout {} (not verified)",
                    dir.display()
                )
            }
        }
    }
    if let Some(s) = &store {
        verify_store_lines(s);
    }
    i32::from(failed)
}

/// `cache verify`'s lines about the content store.
fn verify_store_lines(s: &StoreCheck) {
    if s.damaged.is_empty() {
        if s.objects > 0 {
            println!("✔ content store: {} objects intact", s.objects);
        }
        return;
    }
    for d in &s.damaged {
        let what = match d.problem {
            ObjectProblem::ContentDiffers => {
                "its content is not what its name says (an installed file was edited in place)"
            }
            ObjectProblem::Touched => "it was written to since it was stored",
            ObjectProblem::Unreadable => "it cannot be read",
        };
        let then = if s.repaired {
            "; taken out of the store"
        } else {
            "; `plugin cache verify --repair` takes it out of the store"
        };
        eprintln!("✘ store object {}: {what}{then}", d.path.display());
    }
    if s.repaired {
        println!(
            "Taken out of the store: {} of {} objects. Installations that shared them are listed above as modified; `plugin update <plugin> --force` writes them again.",
            s.damaged.len(),
            s.objects
        );
    }
}

fn verified(r: &VerifyResult) -> json::Verified {
    let mut v = json::Verified {
        plugin_id: r.id.clone(),
        scope: r.scope,
        project_path: r.project_path.clone(),
        install_path: lossy(&r.install_path),
        files: None,
        modified: None,
        missing: None,
        extra: None,
        checkout: None,
        status: json::VerifyState::Intact,
    };
    v.status = match &r.status {
        VerifyStatus::Intact { files } => {
            v.files = Some(*files);
            json::VerifyState::Intact
        }
        VerifyStatus::Modified(d) => {
            v.modified = Some(d.modified.clone());
            v.missing = Some(d.missing.clone());
            v.extra = Some(d.extra.clone());
            json::VerifyState::Modified
        }
        VerifyStatus::FolderMissing => json::VerifyState::FolderMissing,
        VerifyStatus::Unrecorded => json::VerifyState::Unrecorded,
        VerifyStatus::Linked(dir) => {
            v.checkout = Some(lossy(dir));
            json::VerifyState::Linked
        }
    };
    v
}

pub fn cache_dir(dir: &Path, usage: Option<CacheUsage>) -> i32 {
    println!("{}", dir.display());
    if let Some(u) = usage {
        println!(
            "{} version folders, {} files, {}; on disk {} ({} of the files are shared through the content store, {})",
            u.versions,
            u.files,
            human_bytes(u.logical),
            human_bytes(u.disk),
            u.shared_files,
            u.link_mode.map_or("no store yet", |m| m.as_str())
        );
    }
    0
}

/// `cache prune`: one line per removed (or removable) entry, kept entry and newly marked orphan,
/// then the total; `--json`: `{"removed":[{path,kind,bytes}],"kept":[{path,reason,pid}],
/// "marked":[path],"bytes","dryRun"}` with absolute paths.
pub fn cache_prune(out: &Out, r: Result<PruneReport, OpError>) -> i32 {
    let rep = match r {
        Ok(rep) => rep,
        Err(e) => {
            if out.json {
                json_line(&CommandFailure::new(OWN, "cache-prune", &e));
            }
            eprintln!("✘ Failed to prune the cache: {e}");
            return 1;
        }
    };
    if out.json {
        json_line(&pruned_json(&rep));
        return 0;
    }
    // Inside the plugins root: relative, with `/` (as the catalogs write paths).
    let shown = |p: &Path| match p.strip_prefix(&rep.plugins_root) {
        Ok(rel) => crate::fsutil::slash_path(rel),
        Err(_) => p.display().to_string(),
    };
    let (verb, mark) = if rep.dry_run {
        ("would remove", "would mark")
    } else {
        ("removed", "marked")
    };
    for r in &rep.removed {
        let (kind, size) = (r.kind.as_str(), human_bytes(r.bytes));
        println!("{verb} {} ({kind}, {size})", shown(&r.path));
    }
    if rep.store_objects > 0 {
        let n = rep.store_objects;
        println!(
            "{verb} {n} store object{} no version folder uses ({})",
            if n == 1 { "" } else { "s" },
            human_bytes(rep.store_bytes)
        );
    }
    for k in &rep.kept {
        match k.reason.pid() {
            Some(pid) => println!(
                "kept {}: in use by pid {pid} ({})",
                shown(&k.path),
                k.reason.what()
            ),
            // Only a fetch lock names no process.
            None => println!("kept {}: a git fetch into it is running", shown(&k.path)),
        }
    }
    for k in &rep.kept_versions {
        let why = match k.reason {
            KeepReason::Installed => "installed".to_string(),
            KeepReason::Newest if rep.keep == 1 => "the newest orphan (--keep 1)".to_string(),
            KeepReason::Newest => format!("one of the {} newest orphans (--keep)", rep.keep),
            KeepReason::Recent => "orphaned more recently than --older-than".to_string(),
        };
        println!("kept {} {}: {why}", k.id, k.version);
    }
    for m in &rep.marked {
        println!("{mark} {} orphaned (it ages from now)", shown(m));
    }
    let folders = rep.removed.iter().filter(|r| r.is_dir).count();
    let files = rep.removed.len() - folders;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut counts = plural(folders, "folder");
    if files > 0 {
        counts.push_str(&format!(" and {}", plural(files, "file")));
    }
    if rep.store_objects > 0 {
        let n = rep.store_objects as usize;
        counts.push_str(&format!(" and {}", plural(n, "store object")));
    }
    let total = if rep.dry_run {
        "Would remove"
    } else {
        "Removed"
    };
    println!("{total} {counts}, {}", human_bytes(rep.bytes));
    0
}

fn pruned_json(rep: &PruneReport) -> json::Pruned {
    let removed = (rep.removed.iter())
        .map(|r| json::PrunedEntry {
            path: lossy(&r.path),
            kind: r.kind.as_str().into(),
            bytes: r.bytes,
        })
        .collect();
    let kept = (rep.kept.iter())
        .map(|k| json::KeptEntry {
            path: lossy(&k.path),
            reason: k.reason.what().into(),
            pid: k.reason.pid(),
        })
        .collect();
    let kept_versions = (rep.kept_versions.iter())
        .map(|k| json::KeptVersionEntry {
            path: lossy(&k.path),
            plugin: k.id.clone(),
            version: k.version.clone(),
            reason: match k.reason {
                KeepReason::Installed => json::KeepReasonJson::Installed,
                KeepReason::Newest => json::KeepReasonJson::Keep,
                KeepReason::Recent => json::KeepReasonJson::OlderThan,
            },
        })
        .collect();
    json::Pruned {
        schema_version: SCHEMA_VERSION,
        command: "cache-prune".into(),
        outcome: Outcome::Ok,
        removed,
        kept,
        marked: rep.marked.iter().map(|p| lossy(p)).collect(),
        kept_versions,
        bytes: rep.bytes,
        store_objects: rep.store_objects,
        store_bytes: rep.store_bytes,
        dry_run: rep.dry_run,
    }
}

/// `keptVersions[].reason`: `installed`, `keep` or `older-than` (the option that kept it).
/// Decimal units, one decimal place: `512 B`, `12.4 kB`, `3.0 MB`.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

fn validate_file_json(f: &crate::ops::validate::FileReport) -> json::ValidatedFile {
    let issues = |list: &[crate::ops::validate::Issue]| {
        (list.iter())
            .map(|i| json::ValidateIssue {
                path: i.path.clone(),
                message: i.message.clone(),
                code: i.code.into(),
            })
            .collect()
    };
    json::ValidatedFile {
        file: lossy(&f.file),
        kind: f.kind.as_str().into(),
        errors: issues(&f.findings.errors),
        warnings: issues(&f.findings.warnings),
        notes: [],
        gating_hooks: [],
        wasm: [],
        modules: [],
    }
}

fn print_validate_file(f: &crate::ops::validate::FileReport) {
    println!("Validating {}: {}\n", f.kind.heading(), f.file.display());
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    for (mark, word, list) in [
        ("✘", "error", &f.findings.errors),
        ("⚠", "warning", &f.findings.warnings),
    ] {
        if list.is_empty() {
            continue;
        }
        println!("{mark} Found {}:\n", plural(list.len(), word));
        for i in list {
            if i.path.is_empty() {
                println!("  ❯ {}", i.message);
            } else {
                println!("  ❯ {}: {}", i.path, i.message);
            }
        }
        println!();
    }
}

/// `plugin validate`: Claude Code's report, human or `--json` (pretty, like Claude Code's).
pub fn validate(out: &Out, r: &crate::ops::validate::ValidateReport) -> i32 {
    if out.json {
        json_pretty(&json::Validated {
            success: r.success(),
            strict: r.strict,
            target: lossy(&r.target),
            manifest: r.manifest.as_ref().map(validate_file_json),
            contents: r.contents.iter().map(validate_file_json).collect(),
            provides: r.provides.clone(),
            hosts: None,
            advice: [],
            directory: None,
        });
        return r.exit_code();
    }
    match &r.manifest {
        Some(m) => print_validate_file(m),
        None => println!(
            "Validating plugin: {} (no plugin.json)\n",
            r.target.display()
        ),
    }
    for c in &r.contents {
        print_validate_file(c);
    }
    let last = if r.unexpected {
        "✘ Validation could not run"
    } else if r.error_count() > 0 {
        "✘ Validation failed"
    } else if r.strict && r.warning_count() > 0 {
        "✘ Validation failed (--strict treats warnings as errors)"
    } else if r.warning_count() > 0 {
        "✔ Validation passed with warnings"
    } else {
        "✔ Validation passed"
    };
    println!("{last}");
    r.exit_code()
}

pub fn link(out: &Out, typed: &str, scope: Scope, r: Result<LinkReport, OpError>) -> i32 {
    let r = match r {
        Ok(r) => r,
        Err(e) => return plugin_failure(out, OWN, "link", "link", typed, Some(scope), &e),
    };
    let mut message = format!(
        "Linked plugin {} (scope: {scope}): {} → {}; edits there take effect at the next session start or /reload-plugins",
        r.id,
        r.link_path.display(),
        r.checkout.display()
    );
    if let Some(v) = &r.replaced {
        message.push_str(&format!(
            ". `plugin unlink {}` restores the installed version {v}",
            r.id
        ));
    }
    if out.json {
        json_line(&json::Linked {
            schema_version: SCHEMA_VERSION,
            head: PluginHead::ok("link", typed, &r.id, scope),
            message,
            version: r.version.clone(),
            install_path: lossy(&r.link_path),
            checkout: lossy(&r.checkout),
            replaced_version: r.replaced.clone(),
        });
    } else {
        println!("✔ {message}");
    }
    0
}

pub fn unlink(out: &Out, typed: &str, scope: Scope, r: Result<UnlinkReport, OpError>) -> i32 {
    let r = match r {
        Ok(r) => r,
        Err(e) => return plugin_failure(out, OWN, "unlink", "unlink", typed, Some(scope), &e),
    };
    let what = match &r.outcome {
        UnlinkOutcome::Restored { version } => format!("restored the installed version {version}"),
        UnlinkOutcome::Uninstalled => {
            "it was not installed before, so it is uninstalled (its data folder is kept)".into()
        }
        UnlinkOutcome::PreviousGone { version, path } => format!(
            "the installed version {version} it replaced is gone ({}), so it is uninstalled; `plugin install {}` installs it again",
            path.display(),
            r.id
        ),
    };
    let message = format!(
        "Unlinked plugin {} (scope: {scope}) from {}; {what}",
        r.id,
        r.checkout.display()
    );
    if out.json {
        let restored_version = match &r.outcome {
            UnlinkOutcome::Restored { version } => Some(version.clone()),
            UnlinkOutcome::Uninstalled | UnlinkOutcome::PreviousGone { .. } => None,
        };
        json_line(&json::Unlinked {
            schema_version: SCHEMA_VERSION,
            head: PluginHead::ok("unlink", typed, &r.id, scope),
            message,
            uninstalled: restored_version.is_none().then_some(true),
            restored_version,
        });
    } else {
        println!("✔ {message}");
    }
    0
}

pub fn init(out: &Out, name: &str, r: Result<InitReport, OpError>) -> i32 {
    let r = match r {
        Ok(r) => r,
        Err(e) => {
            if out.json {
                json_line(&CommandFailure {
                    plugin: Some(name.into()),
                    ..CommandFailure::new(OWN, "init", &e)
                });
            }
            eprintln!("✘ {e}");
            return 1;
        }
    };
    if out.json {
        json_line(&json::Initialised {
            schema_version: SCHEMA_VERSION,
            command: "init".into(),
            outcome: Outcome::Ok,
            plugin: r.name.clone(),
            dir: lossy(&r.dir),
            files: r.files.clone(),
        });
        return 0;
    }
    println!("✔ Created plugin \"{}\" in {}", r.name, r.dir.display());
    for f in &r.files {
        println!("  {f}");
    }
    println!(
        "Next: `plugin link {}` installs it as {}@dev, linked to the folder; edit, then /reload-plugins",
        r.dir.display(),
        r.name
    );
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_du_si() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1000), "1.0 kB");
        assert_eq!(human_bytes(12_400_000), "12.4 MB");
        assert_eq!(human_bytes(999_999), "1.0 MB");
    }
}
