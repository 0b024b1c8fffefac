//! `sync` and `settings`: what settings ask for, and what was done about it.

use serde_json::Value;

use super::json::{
    self, CommandFailure, DeclarationOverride, DeclarationSetting, EnabledOverride, EnabledSetting,
    OWN, Outcome, SCHEMA_VERSION, SettingsFileJson, SyncedMarketplace, SyncedPlugin,
};
use super::{Out, json_pretty, lossy, print_renames, renames_json, source_label};
use crate::definition::Named;
use crate::locations::Scope;
use crate::ops::OpError;
use crate::ops::sync::{
    MarketplaceAction, MarketplaceSync, PluginAction, PluginSync, SettingsView, SyncReport,
};
use crate::state::effective::EffectiveSettings;

/// The advice to trust the settings of the project at `dir`, with the folder filled in (quoted
/// for a shell when it needs it).
fn trust_hint(dir: &std::path::Path) -> String {
    let dir = dir.display().to_string();
    let plain = (dir.chars()).all(|c| c.is_ascii_alphanumeric() || "/._-~+,:@".contains(c));
    let shown = if plain {
        dir
    } else {
        format!("'{}'", dir.replace('\'', "'\\''"))
    };
    format!("run `plugin sync --project {shown}` to trust this project's settings")
}

fn marketplace_row(m: &MarketplaceSync) -> SyncedMarketplace {
    let mut row = SyncedMarketplace {
        name: m.name.clone(),
        scope: m.scope,
        source: m.source.clone(),
        previous_source: None,
        message: None,
        failure_code: None,
        action: String::new(),
    };
    let action = match &m.action {
        MarketplaceAction::Present => "present",
        MarketplaceAction::Registered => "registered",
        MarketplaceAction::Repointed { previous } => {
            row.previous_source = Some(previous.clone());
            "repointed"
        }
        MarketplaceAction::WouldRegister => "would-register",
        MarketplaceAction::Untrusted => "untrusted",
        MarketplaceAction::Failed { message, code } => {
            row.message = Some(message.clone());
            row.failure_code = Some(code.to_string());
            "failed"
        }
    };
    row.action = action.into();
    row
}

fn plugin_row(p: &PluginSync) -> SyncedPlugin {
    let mut row = SyncedPlugin {
        id: p.id.clone(),
        scope: p.scope,
        version: None,
        seed_folder: None,
        message: None,
        failure_code: None,
        action: String::new(),
    };
    let action = match &p.action {
        PluginAction::Present { version } => {
            row.version = Some(version.clone());
            "present"
        }
        PluginAction::Installed { version } => {
            row.version = Some(version.clone());
            "installed"
        }
        PluginAction::Seeded { version, dir } => {
            row.version = Some(version.clone());
            row.seed_folder = Some(lossy(dir));
            "seeded"
        }
        PluginAction::WouldInstall => "would-install",
        PluginAction::Untrusted => "untrusted",
        PluginAction::Pruned { version } => {
            row.version = Some(version.clone());
            "pruned"
        }
        PluginAction::WouldPrune { version } => {
            row.version = Some(version.clone());
            "would-prune"
        }
        PluginAction::Failed { message, code } => {
            row.message = Some(message.clone());
            row.failure_code = Some(code.to_string());
            "failed"
        }
    };
    row.action = action.into();
    row
}

/// A line for what changed or needs attention; `None` for what was already in place.
fn marketplace_line(m: &MarketplaceSync, trust: &str) -> Option<String> {
    let src = source_label(&m.source);
    Some(match &m.action {
        MarketplaceAction::Present => return None,
        MarketplaceAction::Registered => {
            format!(
                "✔ Marketplace {}: registered from {src} ({} settings)",
                m.name, m.scope
            )
        }
        MarketplaceAction::Repointed { previous } => format!(
            "✔ Marketplace {}: source changed to {src} (was {previous}); fetched again",
            m.name
        ),
        MarketplaceAction::WouldRegister => {
            format!("· Marketplace {}: would be registered from {src}", m.name)
        }
        MarketplaceAction::Untrusted => format!(
            "! Marketplace {}: declared in project settings only, so not registered; {trust}",
            m.name
        ),
        MarketplaceAction::Failed { message, .. } => {
            format!("✘ Marketplace {}: {message}", m.name)
        }
    })
}

fn plugin_line(p: &PluginSync, trust: &str) -> Option<String> {
    let (id, scope) = (&p.id, p.scope);
    Some(match &p.action {
        PluginAction::Present { .. } => return None,
        PluginAction::Installed { version } => {
            format!("✔ {id} ({scope}): installed {version}")
        }
        PluginAction::Seeded { .. } => return None,
        PluginAction::WouldInstall => format!("· {id} ({scope}): would be installed"),
        PluginAction::Untrusted => format!(
            "! Plugin \"{}\" is enabled in project settings but isn't installed here; {trust}",
            id.split('@').next().unwrap_or(id)
        ),
        PluginAction::Pruned { version } => {
            format!("✔ {id} ({scope}): uninstalled {version} (no settings file enables it)")
        }
        PluginAction::WouldPrune { version } => {
            format!(
                "· {id} ({scope}): {version} would be uninstalled (no settings file enables it)"
            )
        }
        PluginAction::Failed { message, .. } => format!("✘ {id} ({scope}): {message}"),
    })
}

pub fn sync(out: &Out, dry_run: bool, r: Result<SyncReport, OpError>) -> i32 {
    let report = match r {
        Ok(r) => r,
        Err(e) => {
            if out.json {
                json_pretty(&CommandFailure::new(OWN, "sync", &e));
            }
            eprintln!("✘ Failed to sync: {e}");
            return 1;
        }
    };
    let failed = report.failed();
    let renames = Ok(report.renames.clone());
    if out.json {
        json_pretty(&json::Synced {
            schema_version: SCHEMA_VERSION,
            command: "sync".into(),
            outcome: Outcome::of(failed),
            dry_run,
            marketplaces: report.marketplaces.iter().map(marketplace_row).collect(),
            plugins: report.plugins.iter().map(plugin_row).collect(),
            renames: renames_json(&report.renames),
        });
        return i32::from(failed);
    }
    print_renames(&renames);
    let trust = trust_hint(&report.project_dir);
    let lines: Vec<String> = (report.marketplaces.iter())
        .filter_map(|m| marketplace_line(m, &trust))
        .chain(report.plugins.iter().filter_map(|p| plugin_line(p, &trust)))
        .collect();
    for l in &lines {
        if l.starts_with('✘') {
            eprintln!("{l}");
        } else {
            println!("{l}");
        }
    }
    let count =
        |f: fn(&PluginAction) -> bool| report.plugins.iter().filter(|p| f(&p.action)).count();
    let present = count(|a| {
        matches!(
            a,
            PluginAction::Present { .. } | PluginAction::Seeded { .. }
        )
    });
    let installed = count(|a| matches!(a, PluginAction::Installed { .. }));
    let would_install = count(|a| matches!(a, PluginAction::WouldInstall));
    let failures = count(|a| matches!(a, PluginAction::Failed { .. }));
    if lines.is_empty() && report.renames.is_empty() {
        println!(
            "In sync: {present} enabled plugin{} installed, {} declared marketplace{} registered.",
            plural(present),
            report.marketplaces.len(),
            plural(report.marketplaces.len())
        );
    } else {
        let mut parts = vec![
            if dry_run {
                format!("{would_install} would be installed")
            } else {
                format!("{installed} installed")
            },
            format!("{present} already installed"),
        ];
        if failures > 0 {
            let verb = if dry_run { "would fail" } else { "failed" };
            parts.push(format!("{failures} {verb}"));
        }
        println!(
            "{}{}.",
            if dry_run { "Dry run: " } else { "" },
            parts.join(", ")
        );
    }
    i32::from(failed)
}

/// Why project and local settings are missing when run from the home folder.
fn no_project_note(dir: &std::path::Path) -> String {
    format!(
        "no project or local settings: {}, so this folder is no project (as your home folder is none); run from a project's folder, or name one with --project",
        no_project_reason(dir)
    )
}

/// `<dir>/.claude/settings.json is your user settings file`.
pub fn no_project_reason(dir: &std::path::Path) -> String {
    format!(
        "{} is your user settings file",
        dir.join(".claude").join("settings.json").display()
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

pub fn settings(out: &Out, r: Result<SettingsView, OpError>) -> i32 {
    let view = match r {
        Ok(v) => v,
        Err(e) => {
            if out.json {
                json_pretty(&CommandFailure::new(OWN, "settings", &e));
            }
            eprintln!("✘ {e}");
            return 1;
        }
    };
    // Without a project, its two files were never read: not listed.
    let files: Vec<(Scope, String, bool)> = (view.files.iter())
        .filter(|f| view.no_project.is_none() || !f.scope.is_project_bound())
        .map(|f| (f.scope, f.path().display().to_string(), f.exists()))
        .chain(
            view.managed_files
                .iter()
                .map(|p| (Scope::Managed, p.display().to_string(), true)),
        )
        .collect();
    if out.json {
        json_pretty(&settings_json(&view, &files));
        return 0;
    }
    println!("Settings files, lowest precedence first:");
    for (scope, path, exists) in &files {
        let absent = if *exists { "" } else { " (absent)" };
        println!("  {:<8} {path}{absent}", scope.as_str());
    }
    if view.managed_files.is_empty() {
        println!("  managed  (no managed settings)");
    }
    if let Some(dir) = &view.no_project {
        println!("  note: {}", no_project_note(dir));
    }
    println!();
    print_enabled(&view.effective);
    println!();
    print_declared(&view.effective);
    println!();
    print_policy(&view);
    0
}

/// `settings --json`: `files` as listed.
fn settings_json(view: &SettingsView, files: &[(Scope, String, bool)]) -> json::SettingsJson {
    let e = &view.effective;
    let enabled = (e.enabled.values())
        .map(|en| {
            let overrides = (en.overridden.iter())
                .map(|o| EnabledOverride {
                    scope: o.scope,
                    value: o.value,
                    file: lossy(&o.file),
                })
                .collect();
            let setting = EnabledSetting {
                value: en.winner.value,
                scope: en.winner.scope,
                file: lossy(&en.winner.file),
                overrides,
            };
            (en.id.clone(), setting)
        })
        .collect();
    let marketplaces = (e.marketplaces.values())
        .map(|d| {
            let overrides = (d.overridden.iter())
                .map(|o| DeclarationOverride {
                    scope: o.scope,
                    file: lossy(&o.file),
                    entry: o.value.clone(),
                })
                .collect();
            let setting = DeclarationSetting {
                entry: d.winner.value.clone(),
                scope: d.winner.scope,
                file: lossy(&d.winner.file),
                overrides,
            };
            (d.name.clone(), setting)
        })
        .collect();
    let policy = (view.policy.iter())
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    json::SettingsJson {
        schema_version: SCHEMA_VERSION,
        command: "settings".into(),
        outcome: Outcome::Ok,
        files: (files.iter())
            .map(|(scope, path, exists)| SettingsFileJson {
                scope: *scope,
                path: path.clone(),
                exists: *exists,
            })
            .collect(),
        enabled_plugins: Named(enabled),
        extra_known_marketplaces: Named(marketplaces),
        policy: Named(policy),
        no_project: view.no_project.as_deref().map(no_project_note),
    }
}

fn print_enabled(e: &EffectiveSettings) {
    println!("Enabled plugins:");
    if e.enabled.is_empty() {
        println!("  (none)");
    }
    for en in e.enabled.values() {
        let mark = if en.winner.value { "✔" } else { "✘" };
        let over: Vec<String> = (en.overridden.iter())
            .map(|o| format!("{}: {}", o.scope, o.value))
            .collect();
        let over = if over.is_empty() {
            String::new()
        } else {
            format!("; overrides {}", over.join(", "))
        };
        println!(
            "  {mark} {} {} — {} ({}){over}",
            en.id,
            en.winner.value,
            en.winner.scope,
            en.winner.file.display()
        );
    }
}

fn print_declared(e: &EffectiveSettings) {
    println!("Declared marketplaces:");
    if e.marketplaces.is_empty() {
        println!("  (none)");
    }
    for d in e.marketplaces.values() {
        let over: Vec<&str> = d.overridden.iter().map(|o| o.scope.as_str()).collect();
        let over = if over.is_empty() {
            String::new()
        } else {
            format!("; replaces the declaration in {}", over.join(", "))
        };
        println!(
            "  {} {} — {} ({}){over}",
            d.name,
            source_label(d.source()),
            d.winner.scope,
            d.winner.file.display()
        );
    }
}

fn print_policy(view: &SettingsView) {
    println!("Marketplace policy (managed):");
    for (k, v) in &view.policy {
        let text = match v {
            None => "not set".to_string(),
            Some(Value::Array(a)) if a.is_empty() && crate::policy::ALLOWED_KEYS.contains(k) => {
                "[] (no marketplace may be added)".to_string()
            }
            Some(v) => v.to_string(),
        };
        println!("  {k}: {text}");
    }
}
