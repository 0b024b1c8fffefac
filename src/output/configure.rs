//! `configure`: a plugin's options as Claude Code lists them, or the outcome of setting them.

use super::json::{ConfigureRefusal, ConfigureSavedJson};
use super::{Out, json_pretty};
use crate::ops::OpError;
use crate::ops::configure::{ConfigureError, OptionsView, SaveReport};

pub fn options(out: &Out, r: Result<OptionsView, OpError>) -> i32 {
    let v = match r {
        Ok(v) => v,
        Err(e) => return failed(out, &e),
    };
    if out.json {
        json_pretty(&v);
        return 0;
    }
    if v.schema.is_empty() {
        println!(
            "{} ({}) has no options to set.",
            v.display_name, v.plugin_id
        );
        return 0;
    }
    println!("Options for {} ({}):", v.display_name, v.plugin_id);
    for (key, o) in &v.schema {
        let flag = |k: &str| o.get(k) == Some(&serde_json::Value::Bool(true));
        let mut notes = vec![if flag("required") {
            "required"
        } else {
            "optional"
        }];
        if flag("sensitive") {
            notes.push("sensitive");
        }
        notes.push(if v.configured.contains(key) {
            "set"
        } else {
            "not set"
        });
        let title = o
            .get("title")
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty() && t != key)
            .map(|t| format!(" — {t}"))
            .unwrap_or_default();
        println!("  ❯ {key}{title} ({})", notes.join(", "));
    }
    println!();
    println!(
        "Set values with /plugin configure <plugin> in Claude Code, or pipe a JSON object to `plugin configure <plugin> --values-stdin`."
    );
    0
}

pub fn saved(out: &Out, r: Result<SaveReport, OpError>) -> i32 {
    let s = match r {
        Ok(s) => s,
        Err(e) => return failed(out, &e),
    };
    if out.json {
        json_pretty(&ConfigureSavedJson {
            plugin_id: s.plugin_id,
            display_name: s.display_name,
            saved: Some(s.saved),
            unconfigured: Some(s.unconfigured),
            refused: None,
        });
    } else if s.saved.is_empty() {
        println!("No configuration changes.");
    } else {
        println!("Configuration saved. Restart Claude Code to apply it.");
    }
    0
}

/// A refusal: with `--json`, Claude Code's `refused` document for a value it refused; the
/// `✘` line on stderr always.
fn failed(out: &Out, e: &OpError) -> i32 {
    if let (
        true,
        OpError::Configure(ConfigureError::Refused {
            plugin_id,
            display_name,
            option,
            message,
        }),
    ) = (out.json, e)
    {
        json_pretty(&ConfigureSavedJson {
            plugin_id: plugin_id.clone(),
            display_name: display_name.clone(),
            saved: None,
            unconfigured: None,
            refused: Some(ConfigureRefusal {
                option: option.clone(),
                message: message.clone(),
            }),
        });
    }
    eprintln!("✘ {e}");
    1
}
