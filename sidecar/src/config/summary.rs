//! What `portal-sso check-config` prints: one line per setting that matters, each secret
//! shown only as REDACTED and where it is read from.

use std::fmt::Write as _;

use portal_sso::{ClaimSource, JwtPortal, TimeUnit, TokenIn, Widget, WidgetFormat};

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
        let _ = match &self.admin_token {
            Some(admin) => writeln!(
                out,
                "admin_token       REDACTED (from {}): /metrics and /events want it",
                admin.from
            ),
            None => writeln!(
                out,
                "admin_token       (none): /metrics and /events are open"
            ),
        };
        self.identity_lines(&mut out);
        let _ = match &self.public_url {
            Some(url) => writeln!(
                out,
                "public_url        {url} (every absolute URL is built on it, never on Host)"
            ),
            None => writeln!(out, "public_url        (none): return addresses are paths"),
        };
        let _ = writeln!(
            out,
            "login             {} (return parameter `{}`)",
            self.login_url, self.return_param
        );
        for (index, portal) in self.portals.iter().enumerate() {
            let _ = writeln!(
                out,
                "portal[{index}]         {}, {} REDACTED (from {})",
                describe(&portal.portal),
                portal.key_name(),
                portal.key_from
            );
        }
        for (index, widget) in self.widgets.iter().enumerate() {
            let _ = writeln!(
                out,
                "widget[{index}]         {}, {} REDACTED (from {})",
                describe_widget(&widget.widget),
                widget.key_name(),
                widget.key_from
            );
        }
        let _ = writeln!(out, "cookie key        {}", self.cookie_key);
        out
    }

    /// The session cookie and the identity source.
    fn identity_lines(&self, out: &mut String) {
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
                oidc_lines(out, settings);
                Ok(())
            }
        };
    }
}

/// One portal as the summary shows it: kind, route, where the browser goes (and how the
/// token travels, when not in the query), algorithm and claims.
fn describe(portal: &JwtPortal) -> String {
    let target = match (portal.callback_url(), portal.target_param()) {
        (Some(url), _) => url.to_owned(),
        (None, Some(param)) => format!("{param} on {}", portal.redirect_origins().join(", ")),
        (None, None) => "(no target)".to_owned(),
    };
    let token_in = match portal.token_in() {
        TokenIn::Query => String::new(),
        other => format!(" ({})", other.name()),
    };
    let claims: Vec<String> = portal
        .claims()
        .map(|(name, claim)| describe_claim(name, claim.source()))
        .collect();
    format!(
        "{} {} -> {target}{token_in}, {}, claims {}",
        portal.kind(),
        portal.path(),
        portal.algorithm(),
        claims.join(", ")
    )
}

/// One widget as the summary shows it: kind, route, what is signed and for how long, and
/// the page's call that takes it.
fn describe_widget(widget: &Widget) -> String {
    let signed = match widget.format() {
        WidgetFormat::Jwt(algorithm) => {
            let claims: Vec<String> = widget
                .claims()
                .map(|(name, claim)| describe_claim(name, claim.source()))
                .collect();
            let kid = widget
                .key_id()
                .map(|kid| format!(", kid {kid}"))
                .unwrap_or_default();
            format!(
                "{algorithm}{kid}, claims {}, expires after {} s",
                claims.join(", "),
                widget.token_ttl_secs()
            )
        }
        _ => format!(
            "HMAC-SHA256 of {} (answered as {}), never expires",
            widget.signed_field().unwrap_or_default(),
            widget.answer_field().unwrap_or_default()
        ),
    };
    let call = widget
        .preset()
        .map(|preset| format!(" -> {}", preset.page_call()))
        .unwrap_or_default();
    format!("{} {}, {signed}{call}", widget.kind(), widget.path())
}

/// A claim by name, with where its value comes from unless that is the identity field
/// of its own name; `?` marks one left out when unknown.
fn describe_claim(name: &str, source: ClaimSource<'_>) -> String {
    let unit = |unit: TimeUnit| match unit {
        TimeUnit::Milliseconds => " ms",
        _ => "",
    };
    match source {
        ClaimSource::Identity {
            field, required, ..
        } => {
            let known = if required { "" } else { "?" };
            if field == name {
                format!("{name}{known}")
            } else {
                format!("{name}{known} (identity {field})")
            }
        }
        ClaimSource::Time {
            unit: u,
            add_secs: 0,
        } => format!("{name} (time{})", unit(u)),
        ClaimSource::Time { unit: u, add_secs } => {
            format!("{name} (time{} {add_secs:+} s)", unit(u))
        }
        ClaimSource::Expiry { unit: u } => format!("{name} (expiry{})", unit(u)),
        ClaimSource::Random => format!("{name} (random)"),
        ClaimSource::Param { name: param } => format!("{name}? (param {param})"),
        ClaimSource::Value(_) => format!("{name} (value)"),
        ClaimSource::TargetOrigin => format!("{name} (target origin)"),
        _ => name.to_owned(),
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
