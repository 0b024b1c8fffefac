//! Consent before a marketplace's `command` source runs on this machine, as Claude Code
//! 2.1.328 asks for it.
//!
//! A command runs only when this person accepted it: now (a prompt in a terminal, `-y/--yes`,
//! or `--accept-command <sha256>` naming exactly what was shown), or earlier — an installation
//! of the plugin records the command it ran (`sourceCommand`), and the same command (and mode)
//! runs again without asking. A changed command is shown again and not run until accepted.
//! `sync` and `update --all` never ask: they run only what was accepted before. Managed
//! settings can turn command sources off (`disableCommandPluginSources`, or
//! `allowManagedHooksOnly` unless `disableCommandPluginSources` is `false`).
//!
//! How a person is asked is the caller's ([`CommandReview`]); what was shown and what an
//! acceptance names ([`ShownCommand`], its `sha256`) are Claude Code's, so an acceptance
//! hash printed by either tool is accepted by the other.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::install::{FoundPlugin, InstallError};
use super::{Context, OpError};
use crate::schema::{CommandSource, Marketplace};

/// What is shown before a command runs, and what accepting it names (Claude Code's
/// `shownCommand` in `--json` output).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ShownCommand {
    /// `command_source` or `entry_helper` (an archive entry's `headersHelper`).
    pub kind: &'static str,
    pub plugin_id: String,
    pub command: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'static str>,
    /// Where a helper's headers go: the archive URL without credentials, query or fragment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_url: Option<String>,
    /// What the catalog was when it was shown: `git:<commit>` or `sha256:<hash of the catalog>`.
    pub catalog_revision: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_acceptance: Option<&'static str>,
    pub sha256: String,
}

impl ShownCommand {
    fn new(
        plugin_id: &str,
        source: &CommandSource,
        catalog_revision: String,
        previous: Option<&'static str>,
    ) -> Self {
        let kind = "command_source";
        let named = serde_json::json!([
            kind,
            plugin_id,
            source.command,
            source.mode(),
            catalog_revision
        ]);
        Self {
            kind,
            plugin_id: plugin_id.to_string(),
            command: source.command.clone(),
            mode: Some(source.mode()),
            archive_url: None,
            sha256: hex::encode(Sha256::digest(named.to_string().as_bytes())),
            catalog_revision,
            previous_acceptance: previous,
        }
    }

    /// An archive entry's `headersHelper`, whose headers go to `destination`.
    pub fn entry_helper(
        plugin_id: &str,
        command: &str,
        destination: &str,
        catalog_revision: String,
    ) -> Self {
        let kind = "entry_helper";
        let named = serde_json::json!([kind, plugin_id, command, destination, catalog_revision]);
        Self {
            kind,
            plugin_id: plugin_id.to_string(),
            command: command.to_string(),
            mode: None,
            archive_url: Some(destination.to_string()),
            sha256: hex::encode(Sha256::digest(named.to_string().as_bytes())),
            catalog_revision,
            previous_acceptance: None,
        }
    }

    /// Whether `--accept-command <hash>` names this.
    pub fn named_by(&self, hash: &str) -> bool {
        hash.trim().eq_ignore_ascii_case(&self.sha256)
    }
}

/// A person's answer to a shown command.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Answer {
    Accepted,
    Declined,
    /// Shown but not accepted (no terminal to ask in, or a hash that names something else).
    Unconfirmed,
}

/// How the person running this process is asked about a command (the edge shows the text).
pub trait CommandReview: Send + Sync {
    fn review(&self, shown: &ShownCommand, disclosure: &str) -> Answer;
    /// Whether a person is asked (a command naming its plugin), or nobody is (`sync`, `update
    /// --all`): an archive's `headersHelper` runs only in the first case.
    fn asks(&self) -> bool {
        true
    }
}

/// Nobody is asked (`sync`, `update --all`, library use): only what was accepted before runs.
pub struct NoReview;

impl CommandReview for NoReview {
    fn review(&self, _: &ShownCommand, _: &str) -> Answer {
        Answer::Unconfirmed
    }

    fn asks(&self) -> bool {
        false
    }
}

/// Before `found`'s source is fetched: nothing to do unless it is a `command` source; then it
/// may run only when policy allows command sources and this person accepted this command.
pub fn check(ctx: &Context, found: &FoundPlugin) -> Result<(), OpError> {
    let crate::schema::PluginSource::Command(source) = &found.entry.source else {
        return Ok(());
    };
    if disabled_by_policy(ctx)? {
        return Err(InstallError::CommandSourcesDisabled.into());
    }
    if source.link && cfg!(windows) {
        return Err(OpError::from_source(
            crate::source::command::CommandError::LinkOnWindows.into(),
        ));
    }
    let id = found.id();
    let records = ctx.installed()?.records(&id);
    let key = source.accepted_as();
    if records
        .iter()
        .any(|r| r.source_command.as_deref() == Some(key.as_str()))
    {
        return Ok(());
    }
    let accepted_before = records.iter().find_map(|r| r.source_command.clone());
    let shown = ShownCommand::new(
        &id,
        source,
        catalog_revision(&found.marketplace),
        accepted_before.as_ref().map(|_| "changed"),
    );
    match ctx.command_review.review(
        &shown,
        &disclosure(found, source, accepted_before.is_some()),
    ) {
        Answer::Accepted => Ok(()),
        Answer::Declined => Err(InstallError::CommandDeclined {
            shown: Box::new(shown),
        }
        .into()),
        Answer::Unconfirmed => Err(InstallError::CommandNotAccepted {
            message: refusal(&id, source, !records.is_empty(), accepted_before.is_some()),
            shown: Box::new(shown),
        }
        .into()),
    }
}

/// `disableCommandPluginSources`, and `allowManagedHooksOnly` when that is not set.
pub(super) fn disabled_by_policy(ctx: &Context) -> Result<bool, OpError> {
    let managed = ctx.managed()?;
    Ok(match managed.get("disableCommandPluginSources") {
        Some(v) if !v.is_null() => v == &Value::Bool(true),
        _ => managed.get("allowManagedHooksOnly") == Some(&Value::Bool(true)),
    })
}

/// Claude Code's text before a command runs (on stdout).
fn disclosure(found: &FoundPlugin, source: &CommandSource, changed: bool) -> String {
    use crate::source::command::shown;
    let how = match source.link {
        true => "mode \"link\": its output directory is used in place (linked, not copied)",
        false => "mode \"copy\": its output directory is copied into the plugin cache",
    };
    format!(
        "\"{}\" is installed by running a command from marketplace \"{}\" on this machine{}:\n  {}\n  ({how})\n",
        shown(&found.entry.name, 200),
        shown(&found.marketplace_name, 200),
        match changed {
            true => " — and that command (or how its output is used) CHANGED since you accepted it",
            false => "",
        },
        source.command,
    )
}

/// Claude Code's refusal of a command that was not accepted: for an installed plugin, how to
/// review it with `update`; else with `install`.
fn refusal(id: &str, source: &CommandSource, installed: bool, accepted_before: bool) -> String {
    let shown =
        crate::source::command::shown(&source.command, crate::schema::catalog::COMMAND_MAX_CHARS)
            + if source.link { " [mode: link]" } else { "" };
    let update = format!(
        "run `plugin update {id}` in a terminal (add `--scope` for a project/local install)"
    );
    match (installed, accepted_before) {
        (_, true) => format!(
            "{id}'s marketplace changed the command that installs it, or how its output is used (now `{shown}`), since it was accepted, so it was not run. Review and accept the new command: {update}."
        ),
        (true, false) => format!(
            "{id}'s marketplace entry now installs it by running a command on this machine (`{shown}`) that has not been reviewed yet, so it was not run. Review and accept it: {update}."
        ),
        (false, false) => format!(
            "{id} is installed by running a command on this machine (`{shown}`) that has not been reviewed yet, so it was not run. Review and accept it from its /plugin details pane, or in a terminal: run `plugin install {id}`."
        ),
    }
}

/// What the catalog is at the moment a command is shown, as Claude Code names it: the commit
/// of a cloned marketplace, else a hash of its `marketplace.json` (and a `package.json`
/// beside its `.claude-plugin` folder), keys sorted. An unreadable catalog gets a name that
/// no acceptance can match.
pub(super) fn catalog_revision(m: &Marketplace) -> String {
    let unreadable = || format!("unreadable:{:016x}", fastrand::u64(..));
    if !m.local
        && m.root.join(".git").exists()
        && let Some(commit) = crate::git::head_commit_within(&m.root, &m.root)
    {
        return format!("git:{commit}");
    }
    let Some(index) = &m.index else {
        return unreadable();
    };
    let read = |p: &std::path::Path| -> Option<Value> {
        let text = crate::fsutil::read_regular_text(p, 64 * 1024 * 1024).ok()?;
        serde_json::from_str(text.trim_start_matches('\u{feff}')).ok()
    };
    let Some(catalog) = read(index) else {
        return unreadable();
    };
    let in_folder = index.ends_with(".claude-plugin/marketplace.json");
    let package = match in_folder {
        true => {
            let p = m.root.join("package.json");
            match p.exists() {
                true => match read(&p) {
                    Some(v) => canonical(&v),
                    None => return unreadable(),
                },
                false => Value::Null,
            }
        }
        false => Value::Null,
    };
    let doc = Value::Array(vec![canonical(&catalog), package]);
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(doc.to_string().as_bytes()))
    )
}

/// Claude Code's order-free form of a JSON value: arrays as `["[", …]`, objects as
/// `["{", [key, value]…]` with keys sorted.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(
            std::iter::once(Value::from("["))
                .chain(items.iter().map(canonical))
                .collect(),
        ),
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            Value::Array(
                std::iter::once(Value::from("{"))
                    .chain(
                        keys.into_iter().map(|k| {
                            Value::Array(vec![Value::from(k.as_str()), canonical(&map[k])])
                        }),
                    )
                    .collect(),
            )
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acceptance_hash_is_claude_codes() {
        // Recorded from Claude Code 2.1.328 (`plugin install lp@cmk --json` in a pipe).
        let source = CommandSource {
            command: "echo /tmp/cmdp/prod".into(),
            timeout: None,
            link: true,
        };
        let shown = ShownCommand::new(
            "lp@cmk",
            &source,
            "sha256:221aeec209bcfe412f7050372a8cd93a3b99601cfaaf308f16b823e68082c724".into(),
            None,
        );
        assert_eq!(
            shown.sha256,
            "13575304f1c589aacd2cd5874b72fe03e8e9bc95b6d143efd303dbc428b01c43"
        );
        assert!(
            shown.named_by(" 13575304F1C589AACD2CD5874B72FE03E8E9BC95B6D143EFD303DBC428B01C43\n")
        );
    }

    #[test]
    fn catalog_hash_is_claude_codes() {
        let catalog = serde_json::json!({"name":"cmk","owner":{"name":"o"},"plugins":[
            {"name":"cp","source":{"source":"command","command":"echo /tmp/cmdp/prod"}},
            {"name":"lp","source":{"source":"command","command":"echo /tmp/cmdp/prod","mode":"link"}},
            {"name":"bad","source":{"source":"command","command":"echo relative/x"}},
            {"name":"fail","source":{"source":"command","command":"echo oops >&2; exit 3"}},
            {"name":"slow","source":{"source":"command","command":"sleep 5","timeout":1}}
        ]});
        let doc = Value::Array(vec![canonical(&catalog), Value::Null]);
        assert_eq!(
            hex::encode(Sha256::digest(doc.to_string().as_bytes())),
            "221aeec209bcfe412f7050372a8cd93a3b99601cfaaf308f16b823e68082c724"
        );
    }
}
