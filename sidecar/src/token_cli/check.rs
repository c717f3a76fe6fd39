//! `token inspect`'s work: the token split and decoded, each check against the vendor's
//! rules ([`token_rules`]) as one line of the report, and the report.

use std::fmt;
use std::io;

use base64::Engine as _;
use portal_sso::JwtAlgorithm;
use serde_json::{Map, Value};

use super::Kind;
use crate::token_rules::{self, Age, Expect, Problem, Vendor};
use portal_sso::Secret;

/// Writes the report: the kind, the header and claims, one line per check, the result.
pub(super) fn print_report(
    out: &mut impl io::Write,
    kind: Kind,
    guessed: Option<&str>,
    decoded: &Decoded<'_>,
    findings: &[Finding],
) -> io::Result<()> {
    match guessed {
        Some(reason) => writeln!(
            out,
            "Kind: {} (guessed: {reason}; pass --kind to choose)",
            kind.name()
        )?,
        None => writeln!(out, "Kind: {}", kind.name())?,
    }
    let pretty = |map: &Map<String, Value>| {
        serde_json::to_string_pretty(map).unwrap_or_else(|_| "(unprintable)".to_owned())
    };
    writeln!(out, "Header:\n{}", pretty(&decoded.header))?;
    writeln!(out, "Claims:\n{}", pretty(&decoded.claims))?;
    writeln!(out, "Checks:")?;
    for finding in findings {
        writeln!(out, "{finding}")?;
    }
    let count = |verdict| findings.iter().filter(|f| f.verdict == verdict).count();
    let (problems, passed) = (count(Verdict::Problem), count(Verdict::Ok));
    if problems == 0 {
        writeln!(out, "Result: all {passed} checks passed")?;
    } else {
        let plural = if problems == 1 { "" } else { "s" };
        writeln!(
            out,
            "Result: {problems} problem{plural} found, {passed} checks passed"
        )?;
    }
    out.flush()
}

/// A compact JWS split and decoded; the signature is kept as text.
pub(super) struct Decoded<'a> {
    pub(super) header: Map<String, Value>,
    pub(super) claims: Map<String, Value>,
    pub(super) signing_input: &'a str,
    pub(super) signature: &'a str,
}

impl<'a> Decoded<'a> {
    pub(super) fn parse(token: &'a str) -> Result<Self, String> {
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

/// Aha! claims carry `jti` and names; Kustomer's carry only `email` and `iat`.
pub(super) fn guess_kind(claims: &Map<String, Value>) -> (Kind, String) {
    let kustomer = Vendor::Kustomer.claims();
    let aha_only: Vec<&str> = Vendor::Aha
        .claims()
        .iter()
        .map(|claim| claim.name)
        .filter(|name| kustomer.iter().all(|claim| claim.name != *name))
        .collect();
    let present: Vec<&str> = aha_only
        .iter()
        .copied()
        .filter(|name| claims.contains_key(*name))
        .collect();
    if present.is_empty() {
        let (last, rest) = aha_only.split_last().unwrap_or((&"", &[]));
        let names = if rest.is_empty() {
            (*last).to_owned()
        } else {
            format!("{} or {last}", rest.join(", "))
        };
        (Kind::Kustomer, format!("no {names} claim"))
    } else {
        (Kind::Aha, format!("{} present", present.join(", ")))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Ok,
    Problem,
    Note,
}

/// One line of the report.
#[derive(Debug)]
pub(super) struct Finding {
    pub(super) verdict: Verdict,
    text: String,
}

impl Finding {
    /// A check that passed or found a problem.
    pub(super) fn new(passed: bool, text: String) -> Self {
        let verdict = if passed {
            Verdict::Ok
        } else {
            Verdict::Problem
        };
        Self { verdict, text }
    }

    /// A note, neither passed nor failed.
    pub(super) fn note(text: &str) -> Self {
        Self {
            verdict: Verdict::Note,
            text: text.to_owned(),
        }
    }
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

#[derive(Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn ok(&mut self, text: impl Into<String>) {
        self.push(Verdict::Ok, text);
    }
    fn problem(&mut self, text: impl Into<String>) {
        self.push(Verdict::Problem, text);
    }
    fn note(&mut self, text: impl Into<String>) {
        self.push(Verdict::Note, text);
    }
    fn push(&mut self, verdict: Verdict, text: impl Into<String>) {
        self.0.push(Finding {
            verdict,
            text: text.into(),
        });
    }
}

/// Every check for `kind`, in the order a reader would go through the token.
pub(super) fn check(
    decoded: &Decoded<'_>,
    vendor: Vendor,
    secret: Option<&(&str, Secret)>,
    now: i64,
) -> Vec<Finding> {
    let mut findings = Findings::default();
    check_header(&decoded.header, &mut findings);
    check_signature(decoded, secret, &mut findings);
    check_claims(vendor, &decoded.claims, now, &mut findings);
    findings.0
}

fn check_header(header: &Map<String, Value>, findings: &mut Findings) {
    match token_rules::check_alg(header) {
        Ok(()) => findings.ok("header alg is HS256"),
        Err(Some(other)) => findings.problem(format!(
            "header alg is {other}, but both vendors require HS256"
        )),
        Err(None) => findings.problem("header has no alg; both vendors require HS256"),
    }
    match token_rules::check_typ(header) {
        Ok(()) => findings.ok("header typ is JWT"),
        Err(Some(other)) => findings.problem(format!(
            "header typ is {other}, but the vendors require JWT"
        )),
        Err(None) => findings.problem("header has no typ; the vendors require typ JWT"),
    }
}

fn check_signature(
    decoded: &Decoded<'_>,
    secret: Option<&(&str, Secret)>,
    findings: &mut Findings,
) {
    if decoded.signature.is_empty() {
        findings.problem("the token has no signature; both vendors require an HS256 signature");
        return;
    }
    let Some((var, secret)) = secret else {
        findings.note("signature not checked: pass --secret-env VAR to check it");
        return;
    };
    if decoded.verify_hmac(JwtAlgorithm::HS256, secret) {
        findings.ok(format!(
            "signature is valid (HS256 with the secret in {var})"
        ));
    } else {
        findings.problem(format!(
            "signature is invalid: the token was not signed with the secret in {var}, \
             or it was changed after signing"
        ));
    }
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

/// A hint for an `iat` that seems to be in milliseconds.
fn millis_hint(iat: i64) -> &'static str {
    if iat > 100_000_000_000 {
        " (it looks like milliseconds; iat must be in seconds)"
    } else {
        ""
    }
}

/// The vendor's claims, in its document's order.
fn check_claims(vendor: Vendor, claims: &Map<String, Value>, now: i64, findings: &mut Findings) {
    for claim in vendor.claims() {
        if claim.expect == Expect::Seconds {
            check_iat(vendor, claims, now, findings);
            continue;
        }
        let name = claim.name;
        match (claim.expect, token_rules::check_claim(claims, *claim)) {
            (Expect::Address, Ok(())) => findings.ok(format!("{name} is present")),
            (Expect::Address, Err(Problem::Missing)) => findings.problem(format!(
                "{name} is missing; {} signs the user in by it",
                vendor.name()
            )),
            (Expect::Address, Err(Problem::Empty)) => findings.problem(format!(
                "{name} is an empty string; {} signs the user in by it",
                vendor.name()
            )),
            (Expect::Address, Err(Problem::NotAnAddress)) => {
                findings.problem(format!("{name} does not look like an address (no @)"));
            }
            (Expect::Address, Err(_)) => findings.problem(format!(
                "{name} is not a string; it must be the user's address"
            )),
            (_, Ok(())) if claims.get(name) == Some(&Value::from("")) => {
                findings.ok(format!("{name} is a string (empty)"));
            }
            (_, Ok(())) => findings.ok(format!("{name} is a string")),
            (_, Err(Problem::Missing)) => findings.problem(format!("{name} is missing")),
            (_, Err(Problem::Empty)) => {
                findings.problem(format!("{name} is an empty string; it must not be empty"));
            }
            (_, Err(_)) => {
                findings.problem(format!("{name} is not a string; it must be a JSON string"));
            }
        }
    }
}

/// `iat` and, for a vendor with a window, whether the token is inside it.
fn check_iat(vendor: Vendor, claims: &Map<String, Value>, now: i64, findings: &mut Findings) {
    let iat = match token_rules::issued_at(claims) {
        Ok(iat) => iat,
        Err(problem) => return findings.problem(iat_problem(&problem)),
    };
    let name = vendor.name();
    let Some(window) = vendor.window_secs() else {
        match token_rules::age(iat, now, None) {
            Age::Ahead(ahead) => {
                findings.ok("iat is an integer");
                findings.note(format!(
                    "iat is {} in the future{}; {name} documents no window, but check the clock",
                    span(ahead),
                    millis_hint(iat)
                ));
            }
            Age::Fresh(age) | Age::Expired(age) => {
                findings.ok(format!("iat is an integer (issued {} ago)", span(age)));
            }
        }
        return;
    };
    findings.ok("iat is an integer");
    let minutes = window / 60;
    match token_rules::age(iat, now, Some(window)) {
        Age::Ahead(ahead) => findings.problem(format!(
            "iat is {} in the future{}; the signing machine's clock is probably ahead",
            span(ahead),
            millis_hint(iat)
        )),
        Age::Expired(age) => findings.problem(format!(
            "the token is {} old; {name} accepts a token only for {minutes} minutes after its iat",
            span(age)
        )),
        Age::Fresh(age) => findings.ok(format!(
            "issued {} ago, inside {name}'s {minutes}-minute window ({} left)",
            span(age),
            span(window - age)
        )),
    }
}

fn iat_problem(problem: &Problem) -> String {
    match problem {
        Problem::Missing => {
            "iat is missing: it must be the signing time in seconds since 1970".to_owned()
        }
        Problem::NotWhole(number) => {
            format!("iat is {number}, not a whole number of seconds since 1970")
        }
        Problem::Quoted => {
            "iat is a string; it must be a JSON integer (seconds since 1970), not quoted".to_owned()
        }
        _ => "iat is not a number; it must be an integer (seconds since 1970)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token_rules::{CLOCK_LEEWAY_SECS, KUSTOMER_WINDOW_SECS};

    const NOW: i64 = 1_800_000_000;

    fn token(header: &str, claims: &str, signature: &str) -> String {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.{signature}",
            engine.encode(header),
            engine.encode(claims)
        )
    }

    fn problems(kind: Kind, claims: &str) -> Vec<String> {
        let token = token(r#"{"alg":"HS256","typ":"JWT"}"#, claims, "c2ln");
        let decoded = Decoded::parse(&token).unwrap();
        check(&decoded, kind.vendor().unwrap(), None, NOW)
            .into_iter()
            .filter(|finding| finding.verdict == Verdict::Problem)
            .map(|finding| finding.text)
            .collect()
    }

    #[test]
    fn kustomer_window_edges() {
        let at = |iat: i64| {
            problems(
                Kind::Kustomer,
                &format!(r#"{{"email":"a@b.c","iat":{iat}}}"#),
            )
        };
        assert!(at(NOW).is_empty());
        assert!(at(NOW - KUSTOMER_WINDOW_SECS).is_empty());
        assert!(at(NOW + CLOCK_LEEWAY_SECS).is_empty());
        assert!(at(NOW - KUSTOMER_WINDOW_SECS - 1)[0].contains("15 minutes"));
        assert!(at(NOW + CLOCK_LEEWAY_SECS + 1)[0].contains("in the future"));
        assert!(at(NOW * 1000)[0].contains("milliseconds"));
    }

    #[test]
    fn iat_must_be_an_integer() {
        for (iat, expected) in [
            (r#""1800000000""#, "string"),
            ("1800000000.5", "whole number"),
            ("null", "not a number"),
        ] {
            let found = problems(
                Kind::Kustomer,
                &format!(r#"{{"email":"a@b.c","iat":{iat}}}"#),
            );
            assert!(found[0].contains(expected), "{iat}: {found:?}");
        }
    }

    #[test]
    fn aha_requires_every_claim() {
        let found = problems(Kind::Aha, r#"{"iat":1800000000,"jti":""}"#);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].contains("jti is an empty string"));
        assert!(found[1].contains("first_name is missing"));
        assert!(found[2].contains("last_name is missing"));
        assert!(found[3].contains("email is missing"));
        assert!(
            problems(
                Kind::Aha,
                r#"{"iat":1,"jti":"x","first_name":"","last_name":"","email":"a@b.c"}"#
            )
            .is_empty()
        );
    }

    #[test]
    fn kind_is_guessed_from_claims() {
        let claims = |json: &str| serde_json::from_str::<Map<String, Value>>(json).unwrap();
        assert_eq!(
            guess_kind(&claims(r#"{"email":"a","iat":1}"#)),
            (
                Kind::Kustomer,
                "no jti, first_name or last_name claim".to_owned()
            )
        );
        assert_eq!(
            guess_kind(&claims(r#"{"jti":"x","last_name":"","iat":1}"#)),
            (Kind::Aha, "jti, last_name present".to_owned())
        );
    }

    #[test]
    fn malformed_tokens_are_refused() {
        assert!(Decoded::parse("").is_err());
        assert!(Decoded::parse("abc").is_err());
        assert!(Decoded::parse("a.b").is_err());
        assert!(Decoded::parse("a.b.c.d").is_err());
        assert!(Decoded::parse("!!.e30.x").is_err());
        assert!(Decoded::parse(&token("[1]", "{}", "x")).is_err());
        assert!(Decoded::parse(&token("{}", "{}", "")).is_ok());
    }

    #[test]
    fn header_is_checked() {
        let decoded_token = token(r#"{"alg":"none"}"#, r#"{"email":"a@b.c","iat":1}"#, "");
        let decoded = Decoded::parse(&decoded_token).unwrap();
        let found: Vec<String> = check(&decoded, Vendor::Kustomer, None, 1)
            .into_iter()
            .filter(|finding| finding.verdict == Verdict::Problem)
            .map(|finding| finding.text)
            .collect();
        assert!(found[0].contains("alg is \"none\""), "{found:?}");
        assert!(found[1].contains("no typ"), "{found:?}");
        assert!(found[2].contains("no signature"), "{found:?}");
    }
}
