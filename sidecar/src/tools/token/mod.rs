//! `portal-sso token`: sign a portal token as the layer does, or inspect one against what
//! the vendor requires. Both take any portal preset of the core's registry by its kind
//! name; `inspect` takes the JWT widget presets too (`kustomer-chat`...).
//!
//! `token sign` runs one sign-in through the layer with the preset's portal (a fixed
//! identity, one request to its route) and prints the token from the answer, so what it
//! prints is exactly what a browser would carry. `token inspect` decodes the header and
//! claims and runs the one checker ([`check`]): the algorithm and `typ`, the signature when
//! given the secret or public key, each claim the preset signs (present, JSON type, unit,
//! value) and the vendor's time rules. Exit code 0 when every check passes, 1 when any
//! fails, 2 when the input cannot be read or decoded.
//!
//! Secrets are read from an environment variable named with `--secret-env` and are never
//! printed; `Debug` of the arguments does not show the token.

pub mod check;
mod sign;

use std::fmt;
use std::io::{self, Read as _};
use std::process::ExitCode;
use std::str::FromStr;
use std::time::SystemTime;

use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use serde_json::{Map, Value};

use check::{Decoded, Finding, Rules, Verdict, VerifyKey};
use portal_sso::{
    ClaimSource, JwtPortal, MIN_SECRET_LEN, Preset, Secret, WidgetFormat, WidgetPreset,
};

/// The longest token or standard input accepted.
const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// `portal-sso token ...`.
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Decode a token and check it against what the vendor requires (exit 0 all pass,
    /// 1 a check failed, 2 unreadable input).
    Inspect(InspectArgs),
    /// Print a token signed exactly as the layer signs it.
    Sign(SignArgs),
}

/// `--kind`: a preset of the registry, by its kind name.
fn kind_parser() -> impl clap::builder::TypedValueParser<Value = &'static Preset> {
    PossibleValuesParser::new(Preset::all().map(Preset::kind))
        .map(|kind| Preset::named(&kind).expect("a possible value is a preset"))
}

/// What `token inspect --kind` names: a portal preset, or a JWT widget preset.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A portal's preset.
    Portal(&'static Preset),
    /// An in-app widget's preset that signs a JWT.
    Widget(&'static WidgetPreset),
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Portal(preset) => preset.kind(),
            Kind::Widget(preset) => preset.kind(),
        }
    }
}

/// `--kind` of `inspect`: a portal preset or a JWT widget preset, by its kind name.
fn inspect_kind_parser() -> impl clap::builder::TypedValueParser<Value = Kind> {
    let widgets = WidgetPreset::all()
        .filter(|preset| matches!(preset.format(), WidgetFormat::Jwt(_)))
        .map(WidgetPreset::kind);
    PossibleValuesParser::new(Preset::all().map(Preset::kind).chain(widgets)).map(|kind| {
        Preset::named(&kind).map_or_else(
            || Kind::Widget(WidgetPreset::named(&kind).expect("a possible value is a preset")),
            Kind::Portal,
        )
    })
}

/// Arguments of `portal-sso token inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The token, or `-` to read it from standard input.
    #[arg(value_name = "TOKEN")]
    pub token: TokenArg,
    /// The preset whose rules to check (a portal's, or a JWT widget's); guessed among the
    /// portals from the claims when left out.
    #[arg(long, value_parser = inspect_kind_parser())]
    pub kind: Option<Kind>,
    /// The environment variable holding the shared secret; the signature is checked only
    /// with it or with `--public-key`.
    #[arg(long, value_name = "VAR")]
    pub secret_env: Option<String>,
    /// The PEM public key of a preset signed with a private key, to check the signature
    /// with.
    #[arg(long, value_name = "FILE", conflicts_with = "secret_env")]
    pub public_key: Option<std::path::PathBuf>,
}

/// Arguments of `portal-sso token sign`.
#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The preset to sign for.
    #[arg(long, value_parser = kind_parser())]
    pub kind: &'static Preset,
    /// The user's email address.
    #[arg(long, value_name = "E")]
    pub email: String,
    /// The user's first name (default: empty).
    #[arg(long, value_name = "F")]
    pub first_name: Option<String>,
    /// The user's last name (default: empty).
    #[arg(long, value_name = "L")]
    pub last_name: Option<String>,
    /// The environment variable holding the portal's shared secret, or its PEM private key
    /// for a preset that signs with one.
    #[arg(long, value_name = "VAR")]
    pub secret_env: String,
    /// Another identity field, e.g. `id=1017` or `external_id=u-17` (JSON values are
    /// read as JSON, anything else as a string); repeatable.
    #[arg(long = "field", value_name = "NAME=VALUE")]
    pub fields: Vec<String>,
    /// A parameter of the portal's request, e.g. `nonce=n-0S6`; repeatable.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// The preset's callback URL (an `aud` may be read from it). Default: a placeholder.
    #[arg(long, value_name = "URL")]
    pub callback_url: Option<String>,
}

/// A token given on the command line, or `-` for standard input. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenArg(String);

impl FromStr for TokenArg {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value.len() > MAX_TOKEN_BYTES {
            return Err(format!("longer than {MAX_TOKEN_BYTES} bytes"));
        }
        Ok(Self(value.to_owned()))
    }
}

impl fmt::Debug for TokenArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == "-" {
            f.write_str("TokenArg(stdin)")
        } else {
            f.write_str("TokenArg(REDACTED)")
        }
    }
}

/// Runs `portal-sso token inspect|sign` and returns its exit code.
pub fn run(command: TokenCommand) -> ExitCode {
    let outcome = match command {
        TokenCommand::Inspect(args) => inspect(&args),
        TokenCommand::Sign(args) => sign(&args),
    };
    match outcome {
        Ok(code) => code,
        Err(message) => {
            eprintln!("portal-sso token: {message}");
            ExitCode::from(2)
        }
    }
}

/// Reads the secret from `var`; never says what it holds.
fn read_secret(var: &str) -> Result<Secret, String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Ok(Secret::new(value)),
        Ok(_) => Err(format!("the environment variable {var} is empty")),
        Err(std::env::VarError::NotPresent) => {
            Err(format!("the environment variable {var} is not set"))
        }
        Err(std::env::VarError::NotUnicode(_)) => Err(format!(
            "the environment variable {var} does not hold UTF-8 text"
        )),
    }
}

fn sign(args: &SignArgs) -> Result<ExitCode, String> {
    let secret = read_secret(&args.secret_env)?;
    if args.kind.algorithm().uses_secret() && secret.len() < MIN_SECRET_LEN {
        eprintln!(
            "portal-sso token: warning: the secret in {} is {} bytes; the layer refuses \
             secrets shorter than {MIN_SECRET_LEN} bytes unless short secrets are allowed",
            args.secret_env,
            secret.len()
        );
    }
    let token = sign::sign(args, secret)?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

fn inspect(args: &InspectArgs) -> Result<ExitCode, String> {
    let secret = match &args.secret_env {
        Some(var) => Some((var.as_str(), read_secret(var)?)),
        None => None,
    };
    let token = if args.token.0 == "-" {
        read_stdin()?
    } else {
        args.token.0.trim().to_owned()
    };
    let decoded = Decoded::parse(&token)?;
    let (kind, guessed) = if let Some(kind) = args.kind {
        (kind, None)
    } else {
        let (preset, reason) = guess(&decoded.claims)?;
        (Kind::Portal(preset), Some(reason))
    };
    // The checker reads the algorithm and claims; the key given here is never used.
    let (portal, widget);
    let rules = match kind {
        Kind::Portal(preset) => {
            portal = preset.portal(Secret::new(Vec::new()));
            Rules::from(&portal)
        }
        Kind::Widget(preset) => {
            widget = preset.widget(Secret::new(Vec::new()));
            Rules::widget(&widget)
                .ok_or_else(|| format!("{} answers an HMAC, not a token", preset.kind()))?
        }
    };
    let algorithm = rules.algorithm();
    let key = match (&secret, &args.public_key) {
        (Some((var, secret)), _) if algorithm.uses_secret() => {
            Some(VerifyKey::secret(secret, format!("the secret in {var}")))
        }
        (Some((var, _)), _) => {
            return Err(format!(
                "{} tokens are signed {algorithm} with a private key: the secret in {var} \
                 cannot check them; give its public key with --public-key",
                kind.name()
            ));
        }
        (None, Some(_)) if algorithm.uses_secret() => {
            return Err(format!(
                "{} tokens are signed {algorithm} with a shared secret: use --secret-env, not \
                 --public-key",
                kind.name()
            ));
        }
        (None, Some(path)) => {
            let pem = std::fs::read(path)
                .map_err(|err| format!("cannot read {}: {}", path.display(), err.kind()))?;
            Some(
                VerifyKey::public(
                    algorithm,
                    &pem,
                    format!("the public key in {}", path.display()),
                )
                .map_err(|problem| format!("{} {problem}", path.display()))?,
            )
        }
        (None, None) => None,
    };
    let findings = check::check(&decoded, rules, key.as_ref(), SystemTime::now());
    print_report(
        &mut io::stdout().lock(),
        kind.name(),
        guessed.as_deref(),
        &decoded,
        &findings,
    )
    .map_err(|error| format!("could not write the report: {error}"))?;
    let problems = findings
        .iter()
        .filter(|finding| finding.verdict == Verdict::Problem)
        .count();
    Ok(if problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The preset whose always-signed claims are all in `claims`, the one with the most of
/// them; an error when none fits or two fit equally.
fn guess(claims: &Map<String, Value>) -> Result<(&'static Preset, String), String> {
    let always = |portal: &JwtPortal| -> Vec<String> {
        portal
            .claims()
            .filter(|(_, claim)| match claim.source() {
                ClaimSource::Identity { required, .. } => required,
                ClaimSource::Param { .. } => false,
                _ => true,
            })
            .map(|(name, _)| name.to_owned())
            .collect()
    };
    let mut fits: Vec<(&'static Preset, Vec<String>)> = Preset::all()
        .map(|preset| (preset, always(&preset.portal(Secret::new(Vec::new())))))
        .filter(|(_, names)| names.iter().all(|name| claims.contains_key(name)))
        .collect();
    fits.sort_by_key(|(_, names)| std::cmp::Reverse(names.len()));
    match &fits[..] {
        [] => Err("no preset's claims are all in this token: pass --kind".to_owned()),
        [(_, first), (second, names), ..] if first.len() == names.len() => Err(format!(
            "the claims fit {} and {} alike: pass --kind",
            fits[0].0.kind(),
            second.kind()
        )),
        [(preset, names), ..] => Ok((
            *preset,
            format!("its claims {} are present", names.join(", ")),
        )),
    }
}

/// Writes the report: the kind, the header and claims, one line per check, the result.
fn print_report(
    out: &mut impl io::Write,
    kind: &str,
    guessed: Option<&str>,
    decoded: &Decoded<'_>,
    findings: &[Finding],
) -> io::Result<()> {
    match guessed {
        Some(reason) => writeln!(
            out,
            "Kind: {kind} (guessed: {reason}; pass --kind to choose)"
        )?,
        None => writeln!(out, "Kind: {kind}")?,
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

fn read_stdin() -> Result<String, String> {
    let mut input = String::new();
    io::stdin()
        .take(MAX_TOKEN_BYTES as u64 + 1)
        .read_to_string(&mut input)
        .map_err(|error| format!("could not read the token from standard input: {error}"))?;
    if input.len() > MAX_TOKEN_BYTES {
        return Err(format!(
            "the token on standard input is longer than {MAX_TOKEN_BYTES} bytes"
        ));
    }
    Ok(input.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_arg_debug_hides_the_token() {
        let arg: TokenArg = "eyJhbGciOiJIUzI1NiJ9.e30.c2ln".parse().unwrap();
        assert_eq!(format!("{arg:?}"), "TokenArg(REDACTED)");
    }

    #[test]
    fn the_kind_is_guessed_from_the_claims_every_preset_signs() {
        let claims = |json: Value| json.as_object().unwrap().clone();
        let (kustomer, _) =
            guess(&claims(serde_json::json!({"email": "a@b.c", "iat": 1}))).unwrap();
        assert_eq!(kustomer.kind(), "kustomer");
        let aha = serde_json::json!({"iat": 1, "jti": "x", "first_name": "", "last_name": "", "email": "a"});
        let (aha, reason) = guess(&claims(aha)).unwrap();
        assert_eq!(aha.kind(), "aha");
        assert!(reason.contains("jti"), "{reason}");
        assert!(guess(&claims(serde_json::json!({"x": 1}))).is_err());
    }
}
