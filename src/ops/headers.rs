//! Headers that marketplaces declare for what is downloaded from them, as Claude Code 2.1.328
//! sends them: a `url` marketplace's `headers` (and what its `headersHelper` prints) go to its
//! catalog and to plugin archives on the same origin; an archive entry's own `headers` and
//! `headersHelper` replace same-named ones for its archive. Each set is bound to its origin
//! ([`HeaderGrant`]): a redirect elsewhere drops it.
//!
//! Who declared them decides what may run and be sent. A marketplace declared in the person's
//! own (user) or managed settings is trusted: its routing headers are kept and its helper runs
//! (https only; when managed settings turn marketplace commands off, only a helper managed
//! settings declare). A marketplace declared in project or local settings, or only recorded in
//! `known_marketplaces.json`, gets its static headers without routing or identity headers, and
//! no helper runs. An entry's helper is the catalog's: it runs only for the plugin a command
//! names, once the person accepted it (shown first, as a `command` source is), for entries that
//! inline their manifest (`"strict": false`), and from the config folder with credential-looking
//! variables left out of its environment.

use serde_json::Value;

use super::consent::{Answer, ShownCommand};
use super::install::{FoundPlugin, InstallError};
use super::{Context, OpError};
use crate::credential::{HeaderGrant, overlay_headers, usable_headers};
use crate::locations::Scope;
use crate::schema::PluginSource;
use crate::source::shell::headers_helper;

/// A `url` marketplace's declared headers and helper.
struct MarketplaceHeaders {
    url: String,
    headers: Vec<(String, String)>,
    /// Only from a trusted declaration.
    helper: Option<String>,
    /// Declared in managed settings.
    managed: bool,
}

/// The headers of `url` marketplace `name`: its settings declaration for this URL when there
/// is one, else what `known_marketplaces.json` recorded.
fn declared(ctx: &Context, name: &str) -> Option<MarketplaceHeaders> {
    let recorded = ctx.known().ok()?.all().into_iter().find(|k| k.name == name);
    let recorded_url = recorded
        .as_ref()
        .and_then(|k| url_of(&k.source).map(str::to_string));
    let declaration = super::sync::settings_view(ctx)
        .ok()
        .and_then(|v| v.effective.marketplaces.get(name).cloned());
    if let Some(d) = declaration
        && let Some(url) = url_of(d.source())
        && recorded_url.as_deref().is_none_or(|r| r == url)
    {
        let operator = matches!(d.winner.scope, Scope::User | Scope::Managed);
        let (headers, _) = usable_headers(string_pairs(d.source().get("headers")), operator);
        let helper = (d.source().get("headersHelper"))
            .and_then(Value::as_str)
            .filter(|h| operator && !h.is_empty())
            .map(str::to_string);
        return Some(MarketplaceHeaders {
            url: url.to_string(),
            headers,
            helper,
            managed: d.winner.scope == Scope::Managed,
        });
    }
    let recorded = recorded?;
    let (headers, _) = usable_headers(string_pairs(recorded.source.get("headers")), false);
    Some(MarketplaceHeaders {
        url: recorded_url?,
        headers,
        helper: None,
        managed: false,
    })
}

fn url_of(source: &Value) -> Option<&str> {
    (source.get("source")?.as_str()? == "url")
        .then(|| source.get("url")?.as_str())
        .flatten()
}

/// The string-valued members of a JSON object (others are the schema's business).
fn string_pairs(v: Option<&Value>) -> impl Iterator<Item = (&str, &str)> {
    (v.and_then(Value::as_object).into_iter().flatten())
        .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
}

fn same_origin(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

/// What marketplace `m`'s headers come to: static ones, then its helper's (https only).
fn marketplace_headers(
    ctx: &Context,
    name: &str,
    m: &MarketplaceHeaders,
) -> Result<Vec<(String, String)>, OpError> {
    let Some(helper) = &m.helper else {
        return Ok(m.headers.clone());
    };
    // (The tests' loopback servers speak http: debug builds may lift the rule for them.)
    let http_allowed =
        crate::fsutil::test_hook("PLUGIN_ALLOW_HTTP_HELPERS").is_some_and(|v| v == "1");
    if !m.url.to_ascii_lowercase().starts_with("https://") && !http_allowed {
        return Ok(m.headers.clone());
    }
    if super::consent::disabled_by_policy(ctx)? && !m.managed {
        return Err(
            InstallError::MarketplaceHelperDisabled(crate::source::command::shown(name, 300))
                .into(),
        );
    }
    let env = [
        ("CLAUDE_CODE_MARKETPLACE_URL".to_string(), m.url.clone()),
        ("CLAUDE_CODE_MARKETPLACE_NAME".to_string(), name.to_string()),
    ];
    let printed = headers_helper(helper, &ctx.loc.config_dir, &env, false)
        .map_err(|f| InstallError::MarketplaceHelperFailed(f.reason()))?;
    let (printed, _) = usable_headers(printed.iter().map(|(k, v)| (k.as_str(), v.as_str())), true);
    Ok(overlay_headers(m.headers.clone(), printed))
}

/// The headers to send when fetching the catalog of `url` marketplace `name` at `url`.
pub fn for_catalog(ctx: &Context, name: &str, url: &str) -> Result<Option<HeaderGrant>, OpError> {
    let Some(m) = declared(ctx, name).filter(|m| m.url == url) else {
        return Ok(None);
    };
    let headers = marketplace_headers(ctx, name, &m)?;
    Ok((!headers.is_empty())
        .then(|| HeaderGrant::for_origin(url, headers))
        .flatten())
}

/// The headers to send with `found`'s archive download (none for other sources). An entry's
/// `headersHelper` is shown and runs only when accepted.
pub fn for_archive(ctx: &Context, found: &FoundPlugin) -> Result<Option<HeaderGrant>, OpError> {
    let PluginSource::Archive { url, .. } = &found.entry.source else {
        return Ok(None);
    };
    let name = &found.entry.name;
    let marketplace = declared(ctx, &found.marketplace_name);
    let mut headers = match &marketplace {
        Some(m) if same_origin(&m.url, url) => {
            marketplace_headers(ctx, &found.marketplace_name, m)?
        }
        _ => Vec::new(),
    };
    let (own, _) = usable_headers(string_pairs(found.entry.raw.get("headers")), false);
    headers = overlay_headers(headers, own);
    if let Some(helper) = (found.entry.raw.get("headersHelper"))
        .and_then(Value::as_str)
        .filter(|h| !h.is_empty())
    {
        let shown_name = crate::source::command::shown(name, 300);
        if found.entry.strict != Some(false) {
            return Err(InstallError::HelperNotInlined(shown_name).into());
        }
        if super::consent::disabled_by_policy(ctx)?
            && !marketplace.as_ref().is_some_and(|m| m.managed)
        {
            return Err(InstallError::HelperDisabled(shown_name).into());
        }
        if !ctx.command_review.asks() {
            return Err(InstallError::HelperDeferred(shown_name).into());
        }
        let destination = crate::credential::redact_url(url);
        let shown = ShownCommand::entry_helper(
            &found.id(),
            helper,
            &destination,
            super::consent::catalog_revision(&found.marketplace),
        );
        let disclosure = format!(
            "Fetching this plugin's archive sends helper-minted headers to {destination}; the local command it runs (headersHelper) is: {}\n",
            escaped(helper)
        );
        match ctx.command_review.review(&shown, &disclosure) {
            Answer::Accepted => {}
            answer => {
                return Err(InstallError::HelperNotConfirmed {
                    shown: Box::new(shown),
                    declined: answer == Answer::Declined,
                }
                .into());
            }
        }
        let env = [
            ("CLAUDE_CODE_PLUGIN_NAME".to_string(), name.clone()),
            ("CLAUDE_CODE_PLUGIN_ARCHIVE_URL".to_string(), url.clone()),
        ];
        let printed = headers_helper(helper, &ctx.loc.config_dir, &env, true).map_err(|f| {
            InstallError::HelperFailed {
                name: shown_name,
                reason: f.reason(),
            }
        })?;
        let (printed, _) =
            usable_headers(printed.iter().map(|(k, v)| (k.as_str(), v.as_str())), false);
        headers = overlay_headers(headers, printed);
    }
    Ok((!headers.is_empty())
        .then(|| HeaderGrant::for_origin(url, headers))
        .flatten())
}

/// A command as Claude Code shows it for consent: what is not printable ASCII as `\u{…}`, and
/// backslashes doubled, so nothing hides in it.
fn escaped(command: &str) -> String {
    command
        .chars()
        .map(|c| match c {
            '\\' => "\\\\".to_string(),
            ' '..='~' => c.to_string(),
            c => format!("\\u{{{:x}}}", c as u32),
        })
        .collect()
}
