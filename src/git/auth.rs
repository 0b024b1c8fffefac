//! Credentials for fetches, never by prompting: a GitHub token from `GITHUB_TOKEN` / `GH_TOKEN`
//! for GitHub hosts (github.com and the host of `PLUGIN_GITHUB_BASE_URL`), otherwise the user's
//! configured git credential helpers (with prompts and askpass programs disabled).

use gix::credentials::helper::{Action, NextAction};
use gix::credentials::protocol::Outcome;
use gix::remote::AuthenticateFn;
use gix::sec::identity::Account;

use super::url::{GitUrl, url_host};
use crate::credential::{Credential, CredentialError, Scope, redact_url};
use crate::environment::{Environment, GITHUB_TOKEN_VARS};

/// Whether `url` is served by GitHub (or by `github_base`, the configured GitHub base).
pub fn is_github_host(url: &GitUrl, github_base: Option<&str>) -> bool {
    let Some(host) = url_host(url.as_str()) else {
        return false;
    };
    let base = github_base.and_then(url_host);
    host == "github.com" || host.ends_with(".github.com") || base.is_some_and(|b| b == host)
}

/// The credential callback for fetches from `url`. What it answers is bound to the origin of
/// `url` ([`Scope`]): asked for another URL (the server redirected there), it answers with an
/// error naming both, and neither the token nor a helper is consulted.
pub fn authenticator(
    repo: &gix::Repository,
    url: &GitUrl,
    env: &Environment,
) -> AuthenticateFn<'static> {
    let scope = Scope::origin_of(url.as_str());
    let token = is_github_host(url, env.github_base_url.as_deref())
        .then(|| env.github_token.clone())
        .flatten()
        .zip(scope.clone())
        .map(|(token, scope)| Credential::bearer(scope, &token));
    let helpers = gix::Url::try_from(url.as_str())
        .ok()
        .and_then(|u| repo.config_snapshot().credential_helpers(u).ok());
    let no_prompt = gix::prompt::Options {
        askpass: None,
        mode: gix::prompt::Mode::Disable,
    };
    let mut cascade = helpers.map(|(cascade, _, _)| cascade);
    Box::new(move |action: Action| {
        if let Action::Get(ctx) = &action {
            let asked = ctx.url.as_ref().map(|u| u.to_string()).unwrap_or_default();
            match &scope {
                Some(scope) if scope.admits(&asked) => {}
                Some(scope) => {
                    let refused = CredentialError::OutOfScope {
                        scope: scope.clone(),
                        url: redact_url(&asked),
                    };
                    return Err(gix::Error::from_error(refused));
                }
                None => return Ok(None),
            }
            if let Some(token) = &token {
                let (user, password) = token.user_and_password();
                return Ok(Some(Outcome {
                    identity: Account {
                        username: user.into(),
                        password: password.into(),
                        oauth_refresh_token: None,
                    },
                    next: NextAction::from(ctx.clone()),
                }));
            }
        }
        match cascade.as_mut() {
            Some(c) => c.invoke(action, no_prompt.clone()).or_else(|_| Ok(None)),
            None => Ok(None),
        }
    })
}

/// What to tell a user whose fetch from `url` was refused for lack of credentials.
pub fn auth_hint(url: &GitUrl, github_base: Option<&str>) -> String {
    if is_github_host(url, github_base) {
        format!(
            "set {} to a token that can read the repository",
            GITHUB_TOKEN_VARS.join(" or ")
        )
    } else {
        "configure a git credential helper for this host (git config credential.helper), or use a URL your git configuration can reach".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(
            url_host("https://user@GitHub.com:443/o/r").as_deref(),
            Some("github.com")
        );
        assert!(is_github_host(
            &GitUrl::parse("https://github.com/o/r").unwrap(),
            None
        ));
        assert!(!is_github_host(
            &GitUrl::parse("https://gitlab.com/o/r").unwrap(),
            None
        ));
        let enterprise = Some("https://git.example.com/");
        assert!(is_github_host(
            &GitUrl::parse("https://git.example.com/o/r").unwrap(),
            enterprise
        ));
    }
}
