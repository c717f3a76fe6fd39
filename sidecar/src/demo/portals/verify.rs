//! Token checks as the mock portals make them: the one checker
//! ([`check`](crate::tools::token::check)) with the portal's shared secret (or the chat
//! widget's), the first problem it finds a sentence for the refusal.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value;

use crate::tools::token::check::{Decoded, Rules, Verdict, VerifyKey, check};
use portal_sso::{Preset, Secret, Widget};

/// How long the mocks remember the Aha! `state`s they issued and the `jti`s they took.
/// Aha! documents no time limit for a token, but a token older than this memory could be
/// replayed, so the mock Aha! takes none older.
pub(crate) const REPLAY_WINDOW_SECS: u64 = 15 * 60;

/// A token that passed every check.
pub(crate) struct Verified {
    pub(crate) alg: String,
    pub(crate) typ: Option<String>,
    pub(crate) claims: Value,
}

/// Checks `token` against what `preset`'s vendor requires, signed with `secret`, at `now`
/// (Unix seconds); the error is a sentence for the refusal page (never the token itself).
pub(crate) fn verify(
    token: &str,
    secret: &Secret,
    preset: &Preset,
    now: u64,
) -> Result<Verified, String> {
    let portal = preset.portal(secret.clone());
    let key = VerifyKey::secret(secret, "this portal's shared secret");
    let verified = checked(token, &portal, &key, now)?;
    if preset.time_rules().max_age_secs.is_none() {
        let iat = verified
            .claims
            .get("iat")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if now.saturating_sub(iat) > REPLAY_WINDOW_SECS {
            return Err(format!(
                "The token was issued {} seconds ago; this portal takes none older than {} \
                 minutes, as it remembers the tokens it took for that long.",
                now.saturating_sub(iat),
                REPLAY_WINDOW_SECS / 60
            ));
        }
    }
    Ok(verified)
}

/// Checks a JWT widget's `token` as its vendor does (Kustomer Chat: HS256 with the chat's
/// secret, `email` and `iat`, no `iat` older than 15 minutes), `widget` holding the
/// secret the vendor was given; the error is a sentence (never the token itself).
pub(crate) fn verify_widget(
    token: &str,
    widget: &Widget,
    secret: &Secret,
    now: u64,
) -> Result<Verified, String> {
    let rules = Rules::widget(widget)
        .ok_or_else(|| "This widget's value is an HMAC signature, not a token.".to_owned())?;
    let key = VerifyKey::secret(secret, "this chat's secret");
    checked(token, rules, &key, now)
}

/// The one checker's first problem with `token`, as a sentence; the token when none.
fn checked<'r>(
    token: &str,
    rules: impl Into<Rules<'r>>,
    key: &VerifyKey,
    now: u64,
) -> Result<Verified, String> {
    let decoded =
        Decoded::parse(token).map_err(|problem| format!("The token is refused: {problem}."))?;
    let at = UNIX_EPOCH + Duration::from_secs(now);
    if let Some(problem) = check(&decoded, rules, Some(key), at)
        .into_iter()
        .find(|finding| finding.verdict == Verdict::Problem)
    {
        return Err(format!("The token is refused: {}.", problem.text));
    }
    let text = |name: &str| {
        decoded
            .header
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Ok(Verified {
        alg: text("alg").unwrap_or_default(),
        typ: text("typ"),
        claims: Value::Object(decoded.claims.clone()),
    })
}
#[cfg(test)]
mod tests {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use serde_json::json;

    use super::*;

    const SECRET: &str = "demo-secret-demo-secret-demo-secret-0123";
    const NOW: u64 = 1_800_000_000;

    fn sign(claims: &Value, secret: &str) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn verify_as(kind: &str, claims: &Value, secret: &str) -> Result<Verified, String> {
        let preset = Preset::named(kind).unwrap();
        verify(&sign(claims, secret), &Secret::new(SECRET), preset, NOW)
    }

    #[test]
    fn accepts_a_fresh_token_and_refuses_another_secret_saying_why() {
        let claims = json!({"email": "a@b.c", "iat": NOW - 60});
        let verified = verify_as("kustomer", &claims, SECRET).unwrap();
        assert_eq!(
            (verified.alg.as_str(), verified.typ.as_deref()),
            ("HS256", Some("JWT"))
        );
        let err = verify_as("kustomer", &claims, "another-secret-another-secret-0123")
            .err()
            .unwrap();
        assert!(err.contains("signature is invalid"), "{err}");
        assert!(!err.contains("eyJ"), "{err}");
    }

    #[test]
    fn aha_tokens_are_taken_only_within_the_replay_window() {
        let claims = |iat: u64| json!({"iat": iat, "jti": "x", "first_name": "", "last_name": "", "email": "a@b.c"});
        assert!(verify_as("aha", &claims(NOW - REPLAY_WINDOW_SECS), SECRET).is_ok());
        let err = verify_as("aha", &claims(NOW - REPLAY_WINDOW_SECS - 1), SECRET)
            .err()
            .unwrap();
        assert!(err.contains("15 minutes"), "{err}");
    }

    #[test]
    fn chat_tokens_are_checked_as_kustomer_chat_does() {
        let preset = portal_sso::WidgetPreset::named("kustomer-chat").unwrap();
        let secret = Secret::new(SECRET);
        let widget = preset.widget(secret.clone());
        let verify_chat =
            |claims: &Value, key: &str| verify_widget(&sign(claims, key), &widget, &secret, NOW);
        let fresh = json!({"email": "a@b.c", "iat": NOW - 60});
        assert_eq!(verify_chat(&fresh, SECRET).unwrap().claims, fresh);
        let old = json!({"email": "a@b.c", "iat": NOW - 15 * 60 - 1});
        let err = verify_chat(&old, SECRET).err().unwrap();
        assert!(err.contains("15 minutes after its iat"), "{err}");
        let err = verify_chat(&fresh, "another-secret-another-secret-0123")
            .err()
            .unwrap();
        assert!(err.contains("signature is invalid"), "{err}");
        assert!(err.contains("this chat's secret"), "{err}");
        let err = verify_chat(&json!({"iat": NOW}), SECRET).err().unwrap();
        assert!(err.contains("email is missing"), "{err}");
    }
}
