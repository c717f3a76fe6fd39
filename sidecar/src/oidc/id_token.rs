//! The ID token's checks beyond what `openidconnect` makes (`azp`, `iat`, the algorithm
//! list), its claims as JSON for the identity pointers and the access rules, and the
//! fields userinfo completes.

use openidconnect::core::{CoreIdToken, CoreIdTokenClaims};
use openidconnect::{AccessToken, ClaimsVerificationError, Nonce, SignatureVerificationError};
use serde_json::Value;

use super::Oidc;
use super::provider::{Discovered, Provider};

/// Clock skew allowed on `exp` and `iat`.
const SKEW_SECS: i64 = 60;

/// Why an ID token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum VerifyError {
    UnknownKey,
    Other(&'static str),
}

impl VerifyError {
    pub(super) fn reason(self) -> &'static str {
        match self {
            VerifyError::UnknownKey => "id_token_unknown_key",
            VerifyError::Other(reason) => reason,
        }
    }
}

/// Verifies `id_token` against the discovered key set and the sign-in's nonce.
pub(super) fn verify(
    discovered: &Discovered,
    id_token: &CoreIdToken,
    nonce: &Nonce,
) -> Result<CoreIdTokenClaims, VerifyError> {
    let now = chrono::Utc::now();
    let skew = chrono::Duration::seconds(SKEW_SECS);
    let verifier = discovered
        .client
        .id_token_verifier()
        .set_allowed_algs(discovered.algorithms.iter().cloned())
        .set_time_fn(move || chrono::Utc::now() - skew)
        .set_issue_time_verifier_fn(move |iat| {
            if iat > now + skew {
                Err(format!("issued in the future ({iat})"))
            } else {
                Ok(())
            }
        });
    let claims = id_token.claims(&verifier, nonce).map_err(|err| {
        VerifyError::Other(match err {
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            ) => {
                return VerifyError::UnknownKey;
            }
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::DisallowedAlg(_)
                | SignatureVerificationError::UnsupportedAlg(_)
                | SignatureVerificationError::NoSignature,
            ) => "id_token_algorithm",
            ClaimsVerificationError::SignatureVerification(_) => "id_token_signature",
            ClaimsVerificationError::InvalidIssuer(_) => "id_token_issuer",
            ClaimsVerificationError::InvalidAudience(_) => "id_token_audience",
            ClaimsVerificationError::Expired(_) => "id_token_expired",
            ClaimsVerificationError::InvalidNonce(_) => "id_token_nonce",
            _ => "id_token_invalid",
        })
    })?;
    // The library leaves `azp` to the client: when present it must be this client.
    if claims
        .authorized_party()
        .is_some_and(|azp| azp.as_str() != discovered.client.client_id().as_str())
    {
        return Err(VerifyError::Other("id_token_audience"));
    }
    Ok(claims.clone())
}

/// The verified ID token's claims as JSON, for the identity field pointers and the rules.
pub(super) fn payload(id_token: &CoreIdToken) -> Option<Value> {
    use base64::Engine as _;
    let compact = id_token.to_string();
    let payload = compact.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .filter(Value::is_object)
}

/// Whether a field the identity or the rules read is missing from the ID token.
pub(super) fn needs_userinfo(
    oidc: &Oidc,
    settings: &super::ProviderSettings,
    json: &Value,
) -> bool {
    let missing = |pointer: &str| json.pointer(pointer).is_none_or(Value::is_null);
    oidc.settings
        .fields
        .iter()
        .any(|(_, pointer)| missing(pointer))
        || (settings.rules.require_email_verified && missing("/email_verified"))
        || (!settings.rules.allowed_groups.is_empty() && {
            let claim = &settings.rules.groups_claim;
            if claim.starts_with('/') {
                missing(claim)
            } else {
                json.get(claim).is_none()
            }
        })
}

/// Adds what userinfo says to `json` where the ID token said nothing. Only a JSON answer
/// whose `sub` is the ID token's is used (OIDC Core 5.3.2); any failure leaves `json` as
/// it is: the fields stay missing, and the checks that need them refuse.
pub(super) async fn complete_from_userinfo(
    discovered: &Discovered,
    provider: &Provider,
    access_token: &AccessToken,
    claims: &CoreIdTokenClaims,
    json: &mut Value,
) {
    let Some(endpoint) = discovered.client.user_info_url() else {
        return;
    };
    let request = http::Request::get(endpoint.as_str())
        .header(
            http::header::AUTHORIZATION,
            format!("Bearer {}", access_token.secret()),
        )
        .header(http::header::ACCEPT, "application/json")
        .body(Vec::new());
    let Ok(request) = request else { return };
    let answer = match provider.http.send(request).await {
        Ok(answer) if answer.status().is_success() => answer,
        Ok(answer) => {
            tracing::warn!(target: "portal_sso::oidc", status = answer.status().as_u16(), "userinfo refused; the ID token's claims are used alone");
            return;
        }
        Err(err) => {
            tracing::warn!(target: "portal_sso::oidc", %err, "userinfo failed; the ID token's claims are used alone");
            return;
        }
    };
    let Ok(Value::Object(userinfo)) = serde_json::from_slice::<Value>(answer.body()) else {
        tracing::warn!(target: "portal_sso::oidc", "userinfo is not a JSON object; the ID token's claims are used alone");
        return;
    };
    if userinfo.get("sub").and_then(Value::as_str) != Some(claims.subject().as_str()) {
        tracing::warn!(target: "portal_sso::oidc", "userinfo names another subject; it is not used");
        return;
    }
    let Some(object) = json.as_object_mut() else {
        return;
    };
    for (name, value) in userinfo {
        object.entry(name).or_insert(value);
    }
}
