//! What Kustomer and Aha! accept in a sign-on token, as their documents say, for
//! `portal-sso token inspect` and the demo's mock portals. Each words the problems its own
//! way; the rules are only here.
//!
//! Both vendors take a JWT signed with HS256 and the shared secret, header `typ` `JWT`.
//! - Kustomer ("Set up custom sign on for your portal"): `email`, the address the user is
//!   signed in by, and `iat`; "Signed tokens will only be valid for 15 minutes."
//! - Aha! ("Configure single sign-on with JSON web token"): an integer `iat`, a random
//!   `jti` unique to the response, and the strings `first_name`, `last_name` and `email`;
//!   no time limit is documented.

use serde_json::{Map, Number, Value};

/// How long Kustomer accepts a token after its `iat`: "Signed tokens will only be valid
/// for 15 minutes."
pub const KUSTOMER_WINDOW_SECS: i64 = 15 * 60;
/// How far ahead of this machine's clock an `iat` may be: clocks differ a little.
pub const CLOCK_LEEWAY_SECS: i64 = 60;

/// The one signing algorithm both vendors take.
const ALGORITHM: &str = "HS256";
/// The header `typ` both vendors ask for.
const TYPE: &str = "JWT";

/// A vendor whose tokens these rules describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Vendor {
    Kustomer,
    Aha,
}

/// What a claim must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// A string with an `@`: the address the vendor signs the user in by.
    Address,
    /// A string, which may be empty.
    Text,
    /// A string that is not empty.
    NonEmptyText,
    /// A JSON integer: seconds since 1970.
    Seconds,
}

/// A claim the vendor requires.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Claim {
    pub(crate) name: &'static str,
    pub(crate) expect: Expect,
}

const fn claim(name: &'static str, expect: Expect) -> Claim {
    Claim { name, expect }
}

const KUSTOMER_CLAIMS: [Claim; 2] = [
    claim("email", Expect::Address),
    claim("iat", Expect::Seconds),
];

const AHA_CLAIMS: [Claim; 5] = [
    claim("iat", Expect::Seconds),
    claim("jti", Expect::NonEmptyText),
    claim("first_name", Expect::Text),
    claim("last_name", Expect::Text),
    claim("email", Expect::Text),
];

impl Vendor {
    /// The vendor's name as its documents write it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Vendor::Kustomer => "Kustomer",
            Vendor::Aha => "Aha!",
        }
    }

    /// The claims the vendor requires, in the order its document lists them.
    pub(crate) fn claims(self) -> &'static [Claim] {
        match self {
            Vendor::Kustomer => &KUSTOMER_CLAIMS,
            Vendor::Aha => &AHA_CLAIMS,
        }
    }

    /// How long after its `iat` the vendor accepts a token, when its document says.
    pub(crate) fn window_secs(self) -> Option<i64> {
        match self {
            Vendor::Kustomer => Some(KUSTOMER_WINDOW_SECS),
            Vendor::Aha => None,
        }
    }
}

/// Checks the header's `alg`; `Err` holds the value found instead, `None` when absent.
pub(crate) fn check_alg(header: &Map<String, Value>) -> Result<(), Option<&Value>> {
    expect_string(header, "alg", ALGORITHM)
}

/// Checks the header's `typ`; `Err` holds the value found instead, `None` when absent.
pub(crate) fn check_typ(header: &Map<String, Value>) -> Result<(), Option<&Value>> {
    expect_string(header, "typ", TYPE)
}

fn expect_string<'a>(
    header: &'a Map<String, Value>,
    name: &str,
    wanted: &str,
) -> Result<(), Option<&'a Value>> {
    match header.get(name) {
        Some(Value::String(value)) if value == wanted => Ok(()),
        found => Err(found),
    }
}

/// Why a claim does not hold what the vendor requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    Missing,
    NotText,
    Empty,
    /// A string without an `@` where an address belongs.
    NotAnAddress,
    /// A string where seconds belong: a quoted number, most likely.
    Quoted,
    /// A number, but not a whole one that fits in 64 bits.
    NotWhole(Number),
    NotNumber,
}

/// Checks one claim against what it must hold.
pub(crate) fn check_claim(claims: &Map<String, Value>, claim: Claim) -> Result<(), Problem> {
    let value = claims.get(claim.name).ok_or(Problem::Missing)?;
    if claim.expect == Expect::Seconds {
        return seconds(value).map(drop);
    }
    let Value::String(text) = value else {
        return Err(Problem::NotText);
    };
    match claim.expect {
        Expect::Address | Expect::NonEmptyText if text.is_empty() => Err(Problem::Empty),
        Expect::Address if !text.contains('@') => Err(Problem::NotAnAddress),
        _ => Ok(()),
    }
}

/// The token's `iat`, in whole seconds since 1970.
pub(crate) fn issued_at(claims: &Map<String, Value>) -> Result<i64, Problem> {
    seconds(claims.get("iat").ok_or(Problem::Missing)?)
}

fn seconds(value: &Value) -> Result<i64, Problem> {
    match value {
        Value::Number(number) => number
            .as_i64()
            .ok_or_else(|| Problem::NotWhole(number.clone())),
        Value::String(_) => Err(Problem::Quoted),
        _ => Err(Problem::NotNumber),
    }
}

/// Where a token's `iat` stands against this machine's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Age {
    /// Issued this many seconds ago (0 when a little ahead, within the leeway).
    Fresh(i64),
    /// Issued this many seconds ago, longer than the window.
    Expired(i64),
    /// This many seconds ahead of the clock, more than the leeway allows.
    Ahead(i64),
}

/// How old a token issued at `iat` is at `now`, against a window (`None`: no limit).
pub(crate) fn age(iat: i64, now: i64, window_secs: Option<i64>) -> Age {
    let age = now.saturating_sub(iat);
    if age < -CLOCK_LEEWAY_SECS {
        Age::Ahead(age.saturating_neg())
    } else if window_secs.is_some_and(|window| age > window) {
        Age::Expired(age)
    } else {
        Age::Fresh(age.max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    fn problems(vendor: Vendor, json: &str) -> Vec<(&'static str, Problem)> {
        let claims = claims(json);
        vendor
            .claims()
            .iter()
            .filter_map(|claim| Some((claim.name, check_claim(&claims, *claim).err()?)))
            .collect()
    }

    #[test]
    fn kustomer_wants_an_address_and_seconds() {
        assert!(problems(Vendor::Kustomer, r#"{"email":"a@b.c","iat":1}"#).is_empty());
        assert_eq!(
            problems(Vendor::Kustomer, r#"{"email":"alice","iat":"1"}"#),
            [("email", Problem::NotAnAddress), ("iat", Problem::Quoted)]
        );
        assert_eq!(
            problems(Vendor::Kustomer, r#"{"email":"","iat":1.5}"#),
            [
                ("email", Problem::Empty),
                ("iat", Problem::NotWhole(Number::from_f64(1.5).unwrap()))
            ]
        );
    }

    #[test]
    fn aha_wants_every_claim_and_a_jti() {
        let complete = r#"{"iat":1,"jti":"x","first_name":"","last_name":"","email":""}"#;
        assert!(problems(Vendor::Aha, complete).is_empty());
        assert_eq!(
            problems(Vendor::Aha, r#"{"iat":null,"jti":"","email":7}"#),
            [
                ("iat", Problem::NotNumber),
                ("jti", Problem::Empty),
                ("first_name", Problem::Missing),
                ("last_name", Problem::Missing),
                ("email", Problem::NotText),
            ]
        );
    }

    #[test]
    fn age_edges() {
        let window = Vendor::Kustomer.window_secs();
        let now = 1_800_000_000;
        assert_eq!(
            age(now - KUSTOMER_WINDOW_SECS, now, window),
            Age::Fresh(900)
        );
        assert_eq!(age(now - 901, now, window), Age::Expired(901));
        assert_eq!(age(now + CLOCK_LEEWAY_SECS, now, window), Age::Fresh(0));
        assert_eq!(age(now + 61, now, window), Age::Ahead(61));
        assert_eq!(age(0, now, None), Age::Fresh(now));
        assert_eq!(age(i64::MIN, now, window), Age::Expired(i64::MAX));
    }

    #[test]
    fn header_wants_hs256_and_jwt() {
        let good = claims(r#"{"alg":"HS256","typ":"JWT"}"#);
        assert_eq!(check_alg(&good), Ok(()));
        assert_eq!(check_typ(&good), Ok(()));
        let bad = claims(r#"{"alg":"none"}"#);
        assert_eq!(check_alg(&bad), Err(Some(&Value::from("none"))));
        assert_eq!(check_typ(&bad), Err(None));
    }
}
