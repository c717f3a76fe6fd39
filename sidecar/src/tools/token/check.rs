//! The one token checker: a compact JWT against what a portal's or a JWT widget's vendor
//! requires, with the [`Rules`] read from the portal or widget itself (its algorithm,
//! claims and key ID) and its preset (the vendor's time rules). `portal-sso token
//! inspect` prints its findings; the demo's mock portals refuse a token on the first
//! problem, as the vendors do.

mod rules;

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::DecodingKey;
use serde_json::{Map, Value};

use portal_sso::{ClaimSource, JwtAlgorithm, Secret, TimeRules, TimeUnit};

pub use rules::Rules;

/// A compact JWS split and decoded; the signature is kept as text.
pub struct Decoded<'a> {
    /// The header's members.
    pub header: Map<String, Value>,
    /// The claims.
    pub claims: Map<String, Value>,
    signing_input: &'a str,
    signature: &'a str,
}

impl<'a> Decoded<'a> {
    /// Splits and decodes `token`; an error says why it is not a JWT.
    pub fn parse(token: &'a str) -> Result<Self, String> {
        if token.is_empty() {
            return Err("the token is empty".to_owned());
        }
        let parts: Vec<&str> = token.split('.').collect();
        let [header, claims, signature] = parts[..] else {
            return Err(format!(
                "this is not a JWT: a signed token has three parts separated by dots, this has {}",
                parts.len()
            ));
        };
        Ok(Self {
            header: decode_part(header, "header")?,
            claims: decode_part(claims, "claims")?,
            signing_input: &token[..header.len() + 1 + claims.len()],
            signature,
        })
    }

    /// Whether the signature is `algorithm`'s with `key`.
    fn verifies(&self, algorithm: JwtAlgorithm, key: &DecodingKey) -> bool {
        jsonwebtoken::crypto::verify(
            self.signature,
            self.signing_input.as_bytes(),
            key,
            algorithm.into(),
        )
        .unwrap_or(false)
    }
}

fn decode_part(part: &str, name: &str) -> Result<Map<String, Value>, String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| {
            format!("the {name} part is not unpadded base64url, as RFC 7515 requires for a JWT")
        })?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(format!("the {name} part is JSON but not an object")),
        Err(_) => Err(format!("the {name} part does not decode to JSON")),
    }
}

/// The key a signature is checked with, and how a report names it.
pub struct VerifyKey {
    key: DecodingKey,
    named: String,
}

impl VerifyKey {
    /// A shared secret (HS*), named for the report (`the secret in KUSTOMER_SECRET`).
    pub fn secret(secret: &Secret, named: impl Into<String>) -> Self {
        Self {
            key: DecodingKey::from_secret(secret.expose()),
            named: named.into(),
        }
    }

    /// A PEM public key for `algorithm` (RS256, ES256, `EdDSA`); an error when `pem` is
    /// not one.
    pub fn public(
        algorithm: JwtAlgorithm,
        pem: &[u8],
        named: impl Into<String>,
    ) -> Result<Self, String> {
        let key = match algorithm {
            JwtAlgorithm::EdDSA => DecodingKey::from_ed_pem(pem),
            JwtAlgorithm::ES256 => DecodingKey::from_ec_pem(pem),
            _ => DecodingKey::from_rsa_pem(pem),
        }
        .map_err(|_| format!("is not a PEM public key for {algorithm}"))?;
        Ok(Self {
            key,
            named: named.into(),
        })
    }
}

/// What one line of a report says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A rule the token meets.
    Ok,
    /// A rule the vendor would refuse the token for.
    Problem,
    /// Neither: something not checked, or worth a look.
    Note,
}

/// One line of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Met, broken, or a note.
    pub verdict: Verdict,
    /// What was found, in a sentence.
    pub text: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.verdict {
            Verdict::Ok => "OK",
            Verdict::Problem => "PROBLEM",
            Verdict::Note => "NOTE",
        };
        write!(f, "{label:<8}{}", self.text)
    }
}

/// The findings so far.
#[derive(Default)]
struct Findings(Vec<Finding>);

impl Findings {
    /// `ok` when `passed`, else `problem`.
    fn either(&mut self, passed: bool, ok: impl Into<String>, problem: impl Into<String>) {
        if passed {
            self.push(true, ok);
        } else {
            self.push(false, problem);
        }
    }

    fn push(&mut self, passed: bool, text: impl Into<String>) {
        let verdict = if passed {
            Verdict::Ok
        } else {
            Verdict::Problem
        };
        self.0.push(Finding {
            verdict,
            text: text.into(),
        });
    }

    fn note(&mut self, text: impl Into<String>) {
        self.0.push(Finding {
            verdict: Verdict::Note,
            text: text.into(),
        });
    }
}

/// Every check of `decoded` against what the vendor of `rules` (a `&JwtPortal`, or
/// [`Rules::widget`]) requires, at `now`: the header, the signature when `key` is given,
/// each claim it signs (present when it always signs it; of the JSON type, unit and value
/// it signs), and the vendor's time rules. In the order a reader goes through the token.
pub fn check<'r>(
    decoded: &Decoded<'_>,
    rules: impl Into<Rules<'r>>,
    key: Option<&VerifyKey>,
    now: SystemTime,
) -> Vec<Finding> {
    let rules = rules.into();
    let (vendor, algorithm) = (rules.vendor, rules.algorithm);
    let mut findings = Findings::default();
    let alg = decoded.header.get("alg");
    findings.push(
        alg.and_then(Value::as_str) == Some(algorithm.name()),
        match alg {
            Some(alg) if alg.as_str() == Some(algorithm.name()) => {
                format!("header alg is {algorithm}")
            }
            Some(other) => format!("header alg is {other}, but {vendor} requires {algorithm}"),
            None => format!("header has no alg; {vendor} requires {algorithm}"),
        },
    );
    let typ = decoded.header.get("typ");
    findings.push(
        typ.and_then(Value::as_str) == Some("JWT"),
        match typ {
            Some(typ) if typ.as_str() == Some("JWT") => "header typ is JWT".to_owned(),
            Some(other) => format!("header typ is {other}, but typ JWT is required"),
            None => "header has no typ; typ JWT is required".to_owned(),
        },
    );
    rules.check_key_id(&mut findings, decoded.header.get("kid"));
    match (decoded.signature.is_empty(), key) {
        (true, _) => findings.push(
            false,
            format!("the token has no signature; {vendor} requires a {algorithm} signature"),
        ),
        (false, Some(key)) if decoded.verifies(algorithm, &key.key) => findings.push(
            true,
            format!("signature is valid ({algorithm} with {})", key.named),
        ),
        (false, Some(key)) => findings.push(
            false,
            format!(
                "signature is invalid: the token was not signed with {}, or it was changed \
                 after signing",
                key.named
            ),
        ),
        (false, None) => findings.note(
            "signature not checked: pass --secret-env VAR (shared secrets) or --public-key \
             FILE (private keys) to check it",
        ),
    }
    let now = i64::try_from(now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs())
        .unwrap_or(i64::MAX);
    let times = Times {
        now,
        rules: rules.times,
        vendor,
    };
    for (name, claim) in &rules.claims {
        check_claim(
            &mut findings,
            name,
            claim.source(),
            decoded.claims.get(*name),
            &times,
        );
    }
    findings.0
}

/// What the time checks compare with.
struct Times<'a> {
    now: i64,
    rules: TimeRules,
    vendor: &'a str,
}

/// The checks of one claim the portal signs from `source`, found as `value`.
fn check_claim(
    findings: &mut Findings,
    name: &str,
    source: ClaimSource<'_>,
    value: Option<&Value>,
    times: &Times<'_>,
) {
    let always = match source {
        ClaimSource::Identity { required, .. } => required,
        ClaimSource::Param { .. } => false,
        _ => true,
    };
    let Some(value) = value else {
        if always {
            findings.push(false, format!("{name} is missing"));
        }
        return;
    };
    match source {
        ClaimSource::Identity {
            field, as_string, ..
        } => check_identity(findings, name, field, as_string, value, times.vendor),
        ClaimSource::Time { unit, add_secs } => {
            if let Some(at) = integer_time(findings, name, unit, value, times.vendor) {
                if add_secs == 0 && name == "iat" {
                    check_issued_at(findings, at, times);
                } else if add_secs > 0 {
                    check_not_past(findings, name, at, times.now);
                }
            }
        }
        ClaimSource::Expiry { unit } => {
            if let Some(at) = integer_time(findings, name, unit, value, times.vendor) {
                check_not_past(findings, name, at, times.now);
            }
        }
        ClaimSource::Random => match value.as_str() {
            Some("") => findings.push(
                false,
                format!("{name} is an empty string; it must not be empty"),
            ),
            Some(_) => findings.push(true, format!("{name} is a string")),
            None => findings.push(false, format!("{name} is not a string")),
        },
        ClaimSource::Param { .. } => findings.either(
            value.is_string(),
            format!("{name} is a string"),
            format!("{name} is not a string"),
        ),
        ClaimSource::Value(constant) => findings.push(
            value == constant,
            if value == constant {
                format!("{name} is {constant}")
            } else {
                format!("{name} is {value}, but this portal signs {constant}")
            },
        ),
        ClaimSource::TargetOrigin => findings.push(
            value.as_str().is_some_and(|origin| {
                origin.starts_with("https://") || origin.starts_with("http://")
            }),
            format!("{name} is an origin (https://…)"),
        ),
        _ => findings.note(format!("{name} is present")),
    }
}

/// An identity claim: the address a vendor signs the user in by, a name (a string, maybe
/// empty), an id (a string, or a number unless written as a string), or any JSON value.
fn check_identity(
    findings: &mut Findings,
    name: &str,
    field: &str,
    as_string: bool,
    value: &Value,
    vendor: &str,
) {
    match field {
        "email" => match value.as_str() {
            Some("") => findings.push(
                false,
                format!("{name} is an empty string; {vendor} signs the user in by it"),
            ),
            Some(text) if !text.contains('@') => findings.push(
                false,
                format!("{name} does not look like an address (no @)"),
            ),
            Some(_) => findings.push(true, format!("{name} is an address")),
            None => findings.push(
                false,
                format!("{name} is not a string; it must be the user's address"),
            ),
        },
        "first_name" | "last_name" | "name" => findings.push(
            value.is_string(),
            match value.as_str() {
                Some("") => format!("{name} is a string (empty)"),
                Some(_) => format!("{name} is a string"),
                None => format!("{name} is not a string; it must be a JSON string"),
            },
        ),
        _ if as_string => findings.either(
            value.is_string(),
            format!("{name} is a string"),
            format!("{name} is not a string; the {field} must be sent as text"),
        ),
        "id" | "external_id" => findings.either(
            value.is_string() || value.is_i64() || value.is_u64(),
            format!("{name} is a string or an integer"),
            format!("{name} is neither a string nor an integer"),
        ),
        _ => findings.push(true, format!("{name} is present")),
    }
}

/// `value` as an integer time in `unit`, converted to seconds; a problem when it is not
/// one, or looks like the other unit.
fn integer_time(
    findings: &mut Findings,
    name: &str,
    unit: TimeUnit,
    value: &Value,
    vendor: &str,
) -> Option<i64> {
    let Some(at) = value.as_i64() else {
        let problem = match value {
            Value::String(_) => "a string; it must be a JSON integer, not quoted".to_owned(),
            Value::Number(number) => format!("{number}, not a whole number"),
            _ => "not a number".to_owned(),
        };
        findings.push(false, format!("{name} is {problem}"));
        return None;
    };
    // Seconds since 1970 stay under 10^11 until the year 5138; milliseconds are over it.
    let in_millis = at > 100_000_000_000;
    match unit {
        TimeUnit::Milliseconds if !in_millis => {
            findings.push(
                false,
                format!("{name} looks like seconds, but {vendor} reads milliseconds"),
            );
            None
        }
        TimeUnit::Milliseconds => {
            findings.push(true, format!("{name} is an integer (milliseconds)"));
            Some(at / 1000)
        }
        _ if in_millis => {
            findings.push(
                false,
                format!("{name} looks like milliseconds, but {vendor} reads seconds"),
            );
            None
        }
        _ => {
            findings.push(true, format!("{name} is an integer"));
            Some(at)
        }
    }
}

/// `iat`, in seconds: not further ahead than the vendor allows, and within its window.
fn check_issued_at(findings: &mut Findings, iat: i64, times: &Times<'_>) {
    let Times { now, rules, vendor } = times;
    let age = now - iat;
    let ahead_limit = i64::try_from(rules.max_ahead_secs).unwrap_or(i64::MAX);
    if age < -ahead_limit {
        findings.push(
            false,
            format!(
                "iat is {} in the future; {vendor} refuses it (the signing machine's clock is \
                 probably ahead)",
                span(-age)
            ),
        );
        return;
    }
    match rules.max_age_secs {
        Some(window) => {
            let window = i64::try_from(window).unwrap_or(i64::MAX);
            let minutes = window / 60;
            findings.push(
                age <= window,
                if age <= window {
                    format!(
                        "issued {} ago, inside {vendor}'s {minutes}-minute window",
                        span(age.max(0))
                    )
                } else {
                    format!(
                        "the token is {} old; {vendor} accepts a token only for {minutes} \
                         minutes after its iat",
                        span(age)
                    )
                },
            );
        }
        None if age >= 0 => findings.note(format!(
            "issued {} ago; {vendor} documents no age limit",
            span(age)
        )),
        None => findings.note(format!("iat is {} ahead", span(-age))),
    }
}

/// A time that must still be ahead (`exp`).
fn check_not_past(findings: &mut Findings, name: &str, at: i64, now: i64) {
    findings.push(
        at > now,
        if at > now {
            format!("{name} is in {}", span(at - now))
        } else {
            format!("{name} passed {} ago", span(now - at))
        },
    );
}

/// "3 min 20 s" for a count of seconds.
fn span(secs: i64) -> String {
    let secs = secs.unsigned_abs();
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests;
