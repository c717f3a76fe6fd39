//! `portal-sso check-config --online`: fetches each provider's discovery document and key
//! set, and says what it found.

use std::fmt::Write as _;

use super::provider::Provider;
use super::settings::Settings;

/// One paragraph per provider: the issuer, the endpoints, the key ids and algorithms; or
/// why it could not be read. `Err` carries the same text when a provider failed.
pub async fn report(settings: &Settings) -> Result<String, String> {
    let mut out = String::new();
    let mut failed = false;
    for provider in settings.providers() {
        let name = provider.name.clone();
        let provider = Provider::new(provider.clone(), None);
        match provider.discover().await {
            Ok(found) => {
                let metadata = &found.metadata;
                let _ = writeln!(out, "oidc provider {name}: discovery OK");
                let _ = writeln!(
                    out,
                    "  issuer                  {}",
                    metadata.issuer().as_str()
                );
                let _ = writeln!(
                    out,
                    "  authorization_endpoint  {}",
                    metadata.authorization_endpoint().as_str()
                );
                let token = metadata
                    .token_endpoint()
                    .map_or("(none)", |url| url.as_str());
                let _ = writeln!(out, "  token_endpoint          {token}");
                let userinfo = metadata
                    .userinfo_endpoint()
                    .map_or("(none)", |url| url.as_str());
                let _ = writeln!(out, "  userinfo_endpoint       {userinfo}");
                let end = found
                    .end_session_endpoint()
                    .map_or("(none)", url::Url::as_str);
                let _ = writeln!(out, "  end_session_endpoint    {end}");
                let _ = writeln!(
                    out,
                    "  jwks_uri                {}",
                    metadata.jwks_uri().as_str()
                );
                let _ = writeln!(out, "  keys                    {}", found.keys().join(", "));
                let algorithms: Vec<String> = found
                    .algorithms
                    .iter()
                    .map(super::provider::algorithm_name)
                    .collect();
                let _ = writeln!(out, "  ID token algorithms     {}", algorithms.join(", "));
                let _ = writeln!(
                    out,
                    "  redirect URI to register {}",
                    provider.settings.redirect_uri
                );
            }
            Err(error) => {
                failed = true;
                let _ = writeln!(
                    out,
                    "oidc provider {name}: {} cannot be used: {error}",
                    provider.settings.issuer
                );
            }
        }
    }
    if failed { Err(out) } else { Ok(out) }
}
