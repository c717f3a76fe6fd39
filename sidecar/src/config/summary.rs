//! What `portal-sso check-config` prints: one line per setting that matters, each secret
//! shown only as REDACTED and where it is read from.

use std::fmt::Write as _;

use super::{SidecarConfig, Source};

impl SidecarConfig {
    /// A few lines describing the configuration, secrets shown only by where they come
    /// from.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let _ = writeln!(out, "listen            {} ({scheme})", self.listen);
        match &self.upstream.uri {
            Some(uri) => {
                let _ = writeln!(out, "upstream          {uri}");
            }
            None => {
                let _ = writeln!(
                    out,
                    "upstream          none: SSO routes only, 404 elsewhere"
                );
            }
        }
        match self.admin_listen {
            Some(admin) => {
                let _ = writeln!(out, "admin_listen      {admin}");
            }
            None => {
                let _ = writeln!(out, "admin_listen      (none)");
            }
        }
        let _ = writeln!(out, "session.cookie    {}", self.session_cookie.name());
        let _ = match &self.source {
            Source::Introspect { url, cache_ttl, .. } => writeln!(
                out,
                "identity          introspect {url} (cache {} s)",
                cache_ttl.as_secs()
            ),
            Source::Jwt {
                algorithm,
                secret_from,
                audience,
                issuer,
                ..
            } => {
                let listed = |values: &Option<Vec<String>>, absent: &str| {
                    values
                        .as_ref()
                        .map_or_else(|| absent.to_owned(), |v| v.join(", "))
                };
                writeln!(
                    out,
                    "identity          jwt {algorithm:?}, secret REDACTED (from {secret_from}), \
                     audience {}, issuer {}",
                    listed(audience, "none (tokens with aud refused)"),
                    listed(issuer, "not checked"),
                )
            }
            Source::Signed { mode, key_from, .. } => writeln!(
                out,
                "identity          signed cookie ({mode:?}), key REDACTED (from {key_from})"
            ),
            Source::Oidc(settings) => {
                oidc_lines(&mut out, settings);
                Ok(())
            }
        };
        let _ = writeln!(
            out,
            "login             {} (return parameter `{}`)",
            self.login_url, self.return_param
        );
        for (index, portal) in self.portals.iter().enumerate() {
            let _ = writeln!(
                out,
                "portal[{index}]         {} {} -> {}, {}, claims {}, {} REDACTED (from {})",
                portal.kind,
                portal.path,
                portal.target,
                portal.portal.algorithm(),
                portal.claims,
                portal.key_name(),
                portal.key_from
            );
        }
        let _ = writeln!(
            out,
            "cookie key        REDACTED, derived from the secrets above: replicas of this \
             config share it"
        );
        out
    }
}

/// The identity lines of `session.oidc`: each provider and its rules.
fn oidc_lines(out: &mut String, settings: &crate::oidc::Settings) {
    for provider in settings.providers() {
        let rules = &provider.rules;
        let listed = |list: &[String]| {
            if list.is_empty() {
                "any".to_owned()
            } else {
                list.join(", ")
            }
        };
        let _ = writeln!(
            out,
            "identity          oidc {} ({}) issuer {}, client {}, secret REDACTED (from {}), \
                         scopes {}, redirect URI {}",
            provider.name,
            provider.label,
            provider.issuer,
            provider.client_id,
            provider.secret_from,
            provider.scopes.join(" "),
            provider.redirect_uri,
        );
        let _ = writeln!(
            out,
            "                  rules: email_verified {}, domains {}, groups {} (claim `{}`); \
                         session {} s; end_session {}",
            if rules.require_email_verified {
                "required"
            } else {
                "not required"
            },
            listed(&rules.allowed_email_domains),
            listed(&rules.allowed_groups),
            rules.groups_claim,
            provider.session_ttl.as_secs(),
            provider.end_session,
        );
    }
}
