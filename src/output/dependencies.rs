//! `plugin prune`: Claude Code's texts for auto-installed plugins nothing needs.

use std::io::BufRead;

use super::json::{DependenciesPruned, Outcome, SCHEMA_VERSION, UnneededPlugin};
use super::{CommandFailure, Out, json_line};
use crate::locations::Scope;
use crate::ops::OpError;
use crate::ops::dependencies::Unneeded;

/// What `prune` does once it knows what is unneeded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PruneDecision {
    /// A dry run, nothing unneeded, or nothing can be told.
    Nothing,
    Remove,
    /// Not asked at a terminal and no `-y`.
    NeedsYes,
    /// Asked, and the answer was not yes.
    Aborted,
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "plugin" } else { "plugins" }
}

use crate::ops::plugin_name as name;

/// `N auto-installed plugins no longer needed at <scope> scope:` and one line each.
fn listing(found: &Unneeded, scope: Scope) -> String {
    let n = found.plugins.len();
    let mut text = format!(
        "{n} auto-installed {} no longer needed at {scope} scope:",
        plural(n)
    );
    for (id, version) in &found.plugins {
        text.push_str(&format!("\n  {id}"));
        if !version.is_empty() {
            text.push_str(&format!(" ({version})"));
        }
    }
    text
}

/// At a terminal: the list, then `Remove? [y/N]`.
pub fn confirm_prune(found: &Unneeded, scope: Scope) -> bool {
    println!("{}", listing(found, scope));
    print!("Remove? [y/N] ");
    super::stdio::flush_stdout();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// What `prune` prints (always exit 0, as Claude Code).
pub fn prune(
    out: &Out,
    scope: Scope,
    dry_run: bool,
    found: &Unneeded,
    decision: PruneDecision,
    removed: Option<&Unneeded>,
) -> i32 {
    let removed_ids: Vec<String> = removed
        .map(|r| r.plugins.iter().map(|(id, _)| id.clone()).collect())
        .unwrap_or_default();
    let message = if !found.unloadable.is_empty() {
        format!(
            "Skipped — cannot determine orphans: {} failed to load. Fix or uninstall, then retry.",
            found.unloadable.join(", ")
        )
    } else if found.plugins.is_empty() {
        match found.auto_count {
            0 => format!("Nothing to prune (no auto-installed plugins at {scope} scope)."),
            n => format!(
                "Nothing to prune ({n} auto-installed {} at {scope} scope, all still needed).",
                plural(n)
            ),
        }
    } else if dry_run {
        format!("{}\n(dry run — nothing removed)", listing(found, scope))
    } else {
        match decision {
            PruneDecision::NeedsYes => {
                let flag = match scope {
                    Scope::User => String::new(),
                    other => format!(" --scope {other}"),
                };
                format!(
                    "{}\nNot a TTY — run `plugin prune{flag} -y` to remove.",
                    listing(found, scope)
                )
            }
            PruneDecision::Aborted => "Aborted.".to_string(),
            PruneDecision::Remove | PruneDecision::Nothing => format!(
                "Removed {} auto-installed {}: {}",
                removed_ids.len(),
                plural(removed_ids.len()),
                removed_ids
                    .iter()
                    .map(|id| name(id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    };
    if out.json {
        json_line(&DependenciesPruned {
            schema_version: SCHEMA_VERSION,
            command: "prune".into(),
            outcome: Outcome::Ok,
            scope,
            dry_run,
            unneeded: (found.plugins.iter())
                .map(|(id, version)| UnneededPlugin {
                    plugin_id: id.clone(),
                    version: version.clone(),
                })
                .collect(),
            removed: removed_ids,
            unloadable: found.unloadable.clone(),
            message,
        });
    } else {
        println!("{message}");
    }
    0
}

pub fn prune_failed(out: &Out, e: &OpError) -> i32 {
    if out.json {
        json_line(&CommandFailure::new(Some(SCHEMA_VERSION), "prune", e));
    }
    eprintln!("✘ Failed to prune plugins: {e}");
    1
}

/// What `plugin tag` prints: all on stdout (Claude Code's), a failure's line breaks as spaces.
/// `plugin tag`'s flags.
pub struct TagFlags<'a> {
    pub dry_run: bool,
    pub force: bool,
    pub push: bool,
    pub remote: &'a str,
}

pub fn tag(
    flags: &TagFlags,
    warnings: &[String],
    plan: Result<crate::ops::tag::TagPlan, crate::ops::tag::TagError>,
    // Created (and pushed, when asked).
    created: Option<Result<(), crate::ops::tag::TagError>>,
) -> i32 {
    let TagFlags {
        dry_run,
        force,
        push,
        remote,
    } = *flags;
    let failed = |e: &dyn std::fmt::Display| {
        println!("✘ {}", e.to_string().replace('\n', " "));
        1
    };
    for w in warnings {
        println!("⚠ {w}");
    }
    let plan = match plan {
        Ok(p) => p,
        Err(e) => return failed(&e),
    };
    println!("Plugin:  {}", plan.name);
    println!("Version: {} (from {})", plan.version, plan.version_from);
    if let Some((index, file, version)) = &plan.entry {
        let v = version
            .as_ref()
            .map(|v| format!(" (version: {v})"))
            .unwrap_or_default();
        println!(
            "Marketplace entry: plugins[{index}] in {}{v}",
            file.display()
        );
    }
    println!("Tag:     {}", plan.tag);
    println!();
    let root = plan.root.display();
    let force_flag = if force { " --force" } else { "" };
    let push_line = format!(
        "git -C {root} push{force_flag} {remote} refs/tags/{}",
        plan.tag
    );
    if dry_run {
        println!(
            "✔ Dry run — would create tag {} at HEAD in {root}",
            plan.tag
        );
        println!(
            "  git -C {root} tag{} -a {} -m \"{}\"",
            if force { " -f" } else { "" },
            plan.tag,
            plan.message
        );
        println!("  {push_line}");
        return 0;
    }
    if let Some(Err(e)) = created {
        return failed(&e);
    }
    println!("✔ Created tag {}", plan.tag);
    if push {
        println!("✔ Pushed to {remote}");
        return 0;
    }
    println!("  Push with: {push_line}");
    0
}
