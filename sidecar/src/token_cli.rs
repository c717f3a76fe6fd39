//! `portal-sso token`: sign a portal token as the layer does, or inspect one against what
//! the vendor requires.
//!
//! `token sign` builds the claims with the layer's own code (Kustomer `{"email", "iat"}`,
//! Aha! `{"iat", "jti", "first_name", "last_name", "email"}`) and signs them with the
//! layer's HS256 signer, so what it prints is what a browser would carry.
//!
//! `token inspect` decodes the header and claims, checks the signature when given the
//! secret, and checks each thing the vendor's document asks for (the rules the demo's mock
//! portals also apply): header `alg` `HS256` and `typ` `JWT`; for Kustomer an `email`
//! address and an integer `iat` no older than 15 minutes and not in the future; for Aha!
//! an integer `iat` and the strings `jti` (non-empty), `first_name`, `last_name` and
//! `email`. Exit code 0 when every check passes, 1 when any fails, 2 when the input cannot
//! be read or decoded.
//!
//! The other presets (`--kind zendesk`, `gitbook`, `canny`, `helpscout`, `frill`, `readme`,
//! `mintlify`, `helpjuice`, `helpdocs`, `freshworks`) are signed by running one sign-in
//! through the layer with the core's preset (`--field` adds identity fields, `--param`
//! request parameters), and inspected for the header's `alg` and `typ`, the HS*
//! signature when the secret is given, and each claim the preset always signs.
//!
//! Secrets are read from an environment variable named with `--secret-env` and are never
//! printed; `Debug` of the arguments does not show the token.

mod check;
mod preset;

use std::fmt;
use std::io::{self, Read as _};
use std::process::ExitCode;
use std::str::FromStr;

use check::{Decoded, Verdict, check, guess_kind, print_report};

use crate::now_unix;
use crate::token_rules::Vendor;
use portal_sso::Identity;
use portal_sso::token::{AhaClaims, KustomerClaims, TokenSigner};
use portal_sso::{MIN_SECRET_LEN, Secret};

pub use crate::token_rules::{CLOCK_LEEWAY_SECS, KUSTOMER_WINDOW_SECS};

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

/// Which vendor a token is for.
// Vendor names (GitBook, HelpDocs, ReadMe) are prose in the help text, not code.
#[allow(clippy::doc_markdown)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Kustomer custom sign-on: `{"email", "iat"}`, valid for 15 minutes.
    Kustomer,
    /// Aha! JWT SSO: `{"iat", "jti", "first_name", "last_name", "email"}`.
    Aha,
    /// Zendesk JWT SSO: `{"iat", "jti", "email", "name"}`, HS256.
    Zendesk,
    /// GitBook visitor authentication: `{"iat", "exp", "email"}`, HS256.
    Gitbook,
    /// Canny SSO: `{"email", "id", "name"}`, HS256.
    Canny,
    /// Help Scout Docs: `{"sub", "exp"}`, HS512.
    Helpscout,
    /// Frill SSO: `{"email", "id"}`, HS256.
    Frill,
    /// ReadMe custom login: `{"email"}` and `name`, HS256.
    Readme,
    /// Mintlify JWT auth: `{"exp", "expiresAt"}`, `EdDSA`.
    Mintlify,
    /// Helpjuice JWT SSO: `{"jti", "iat"}` (milliseconds) and `email`, HS256.
    Helpjuice,
    /// HelpDocs custom JWT: `{"iat", "exp", "aud"}`, HS256.
    Helpdocs,
    /// Freshworks custom JWT: `{"sub", "email", "iat", "nonce"}`, RS256.
    Freshworks,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Kustomer => "kustomer",
            Kind::Aha => "aha",
            Kind::Zendesk => "zendesk",
            Kind::Gitbook => "gitbook",
            Kind::Canny => "canny",
            Kind::Helpscout => "helpscout",
            Kind::Frill => "frill",
            Kind::Readme => "readme",
            Kind::Mintlify => "mintlify",
            Kind::Helpjuice => "helpjuice",
            Kind::Helpdocs => "helpdocs",
            Kind::Freshworks => "freshworks",
        }
    }

    /// Kustomer's and Aha!'s rules, checked in full; `None` for the other presets.
    fn vendor(self) -> Option<Vendor> {
        match self {
            Kind::Kustomer => Some(Vendor::Kustomer),
            Kind::Aha => Some(Vendor::Aha),
            _ => None,
        }
    }
}

/// Arguments of `portal-sso token inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The token, or `-` to read it from standard input.
    #[arg(value_name = "TOKEN")]
    pub token: TokenArg,
    /// The vendor whose rules to check; guessed from the claims when left out.
    #[arg(long, value_enum)]
    pub kind: Option<Kind>,
    /// The environment variable holding the secret; the signature is checked only with it.
    #[arg(long, value_name = "VAR")]
    pub secret_env: Option<String>,
    /// The PEM public key of a preset signed with a private key (Mintlify, Freshworks),
    /// to check the signature with.
    #[arg(long, value_name = "FILE", conflicts_with = "secret_env")]
    pub public_key: Option<std::path::PathBuf>,
}

/// Arguments of `portal-sso token sign`.
#[allow(clippy::doc_markdown)]
#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The vendor to sign for.
    #[arg(long, value_enum)]
    pub kind: Kind,
    /// The user's email address.
    #[arg(long, value_name = "E")]
    pub email: String,
    /// The user's first name (Aha! only; default: empty).
    #[arg(long, value_name = "F")]
    pub first_name: Option<String>,
    /// The user's last name (Aha! only; default: empty).
    #[arg(long, value_name = "L")]
    pub last_name: Option<String>,
    /// The environment variable holding the portal's secret (HS*) or PEM private key
    /// (Mintlify, Freshworks).
    #[arg(long, value_name = "VAR")]
    pub secret_env: String,
    /// Another identity field, e.g. `id=1017` or `external_id=u-17` (JSON values are
    /// read as JSON, anything else as a string); repeatable. Presets other than Kustomer
    /// and Aha! only.
    #[arg(long = "field", value_name = "NAME=VALUE")]
    pub fields: Vec<String>,
    /// A parameter of the portal's request, e.g. `nonce=n-0S6`; repeatable. Presets
    /// other than Kustomer and Aha! only.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// The preset's callback URL (HelpDocs reads `aud` from it). Default: a placeholder.
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

/// `NAME=VALUE` split, naming the option when there is no `=`.
fn pair<'a>(option: &str, text: &'a str) -> Result<(&'a str, &'a str), String> {
    text.split_once('=')
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| format!("{option} takes NAME=VALUE, not `{text}`"))
}

/// A preset other than Kustomer and Aha!, signed by the layer itself.
fn sign_preset(args: &SignArgs, secret: Secret) -> Result<ExitCode, String> {
    let mut identity = Identity::new(args.email.clone())
        .map_err(|error| format!("--email is not usable: {error}"))?
        .with_first_name(args.first_name.clone().unwrap_or_default())
        .with_last_name(args.last_name.clone().unwrap_or_default());
    for field in &args.fields {
        let (name, value) = pair("--field", field)?;
        let value = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::from(value.to_owned()));
        identity = identity.with_field(name, value);
    }
    let params = args
        .params
        .iter()
        .map(|param| pair("--param", param).map(|(n, v)| (n.to_owned(), v.to_owned())))
        .collect::<Result<Vec<_>, _>>()?;
    let token = preset::sign(
        args.kind,
        secret,
        identity,
        args.callback_url.as_deref(),
        &params,
    )?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

fn sign(args: &SignArgs) -> Result<ExitCode, String> {
    let secret = read_secret(&args.secret_env)?;
    if args.kind.vendor().is_none() {
        if preset::algorithm(args.kind).uses_secret() && secret.len() < MIN_SECRET_LEN {
            eprintln!(
                "portal-sso token: warning: the secret in {} is {} bytes; the layer refuses \
                 secrets shorter than {MIN_SECRET_LEN} bytes unless short secrets are allowed",
                args.secret_env,
                secret.len()
            );
        }
        return sign_preset(args, secret);
    }
    if !args.fields.is_empty() || !args.params.is_empty() || args.callback_url.is_some() {
        return Err(format!(
            "--field, --param and --callback-url are for the other presets; {} tokens carry \
             fixed claims",
            args.kind.name()
        ));
    }
    if secret.len() < MIN_SECRET_LEN {
        eprintln!(
            "portal-sso token: warning: the secret in {} is {} bytes; the layer refuses \
             secrets shorter than {MIN_SECRET_LEN} bytes unless short secrets are allowed",
            args.secret_env,
            secret.len()
        );
    }
    let identity = Identity::new(args.email.clone())
        .map_err(|error| format!("--email is not usable: {error}"))?
        .with_first_name(args.first_name.clone().unwrap_or_default())
        .with_last_name(args.last_name.clone().unwrap_or_default());
    let signer = TokenSigner::hs256(&secret);
    let now = now_unix();
    let result = if args.kind == Kind::Kustomer {
        if args.first_name.is_some() || args.last_name.is_some() {
            eprintln!(
                "portal-sso token: note: Kustomer tokens carry only email and iat; \
                 the names are left out"
            );
        }
        signer.sign(&KustomerClaims::new(&identity, now))
    } else {
        let claims = AhaClaims::new(&identity, now).map_err(|_| {
            "the operating system's random source failed; no jti could be made".to_owned()
        })?;
        signer.sign(&claims)
    };
    let token = result.map_err(|_| "signing failed".to_owned())?;
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
        let (kind, reason) = guess_kind(&decoded.claims);
        (kind, Some(reason))
    };
    let Some(vendor) = kind.vendor() else {
        return inspect_preset(
            kind,
            guessed.as_deref(),
            &decoded,
            secret.as_ref(),
            args.public_key.as_deref(),
        );
    };
    if args.public_key.is_some() {
        // Both vendors' tokens are HS256 (`token_rules::check_alg`).
        return Err(public_key_refused(kind, "HS256"));
    }
    let findings = check(&decoded, vendor, secret.as_ref(), now_secs());
    let problems = findings
        .iter()
        .filter(|finding| finding.verdict == Verdict::Problem)
        .count();
    print_report(
        &mut io::stdout().lock(),
        kind,
        guessed.as_deref(),
        &decoded,
        &findings,
    )
    .map_err(|error| format!("could not write the report: {error}"))?;
    Ok(if problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Why `--public-key` cannot check `kind`'s tokens, signed `algorithm` with a shared
/// secret.
fn public_key_refused(kind: Kind, algorithm: &str) -> String {
    format!(
        "{} tokens are signed {algorithm} with a shared secret: use --secret-env, not \
         --public-key",
        kind.name()
    )
}

/// `inspect` for a preset other than Kustomer and Aha!: the header, the signature when
/// an HS* secret or a public key is given, and the claims the preset always signs.
fn inspect_preset(
    kind: Kind,
    guessed: Option<&str>,
    decoded: &Decoded<'_>,
    secret: Option<&(&str, Secret)>,
    public_key: Option<&std::path::Path>,
) -> Result<ExitCode, String> {
    let algorithm = preset::algorithm(kind);
    let signature = match (secret, public_key) {
        (Some((var, secret)), _) if algorithm.uses_secret() => Some((
            format!("the secret in {var}"),
            decoded.verify_hmac(algorithm, secret),
        )),
        (Some((var, _)), _) => {
            return Err(format!(
                "{} tokens are signed {algorithm} with a private key: the secret in {var} \
                 cannot check them; give its public key with --public-key",
                kind.name()
            ));
        }
        (None, Some(_)) if algorithm.uses_secret() => {
            return Err(public_key_refused(kind, &algorithm.to_string()));
        }
        (None, Some(path)) => {
            let pem = std::fs::read(path)
                .map_err(|err| format!("cannot read {}: {}", path.display(), err.kind()))?;
            let valid = decoded
                .verify_public(algorithm, &pem)
                .map_err(|problem| format!("{} {problem}", path.display()))?;
            Some((format!("the public key in {}", path.display()), valid))
        }
        (None, None) => None,
    };
    let lines = preset::check(
        kind,
        &decoded.header,
        &decoded.claims,
        signature
            .as_ref()
            .map(|(key, valid)| (key.as_str(), *valid)),
        now_secs(),
    );
    let findings: Vec<check::Finding> = lines
        .into_iter()
        .map(|(passed, text)| check::Finding::new(passed, text))
        .collect();
    let mut findings = findings;
    if signature.is_none() {
        findings.push(check::Finding::note(
            "signature not checked: pass --secret-env VAR (HS* presets) or --public-key FILE \
             (the others) to check it",
        ));
    }
    let problems = findings
        .iter()
        .filter(|finding| finding.verdict == Verdict::Problem)
        .count();
    print_report(&mut io::stdout().lock(), kind, guessed, decoded, &findings)
        .map_err(|error| format!("could not write the report: {error}"))?;
    Ok(if problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
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

fn now_secs() -> i64 {
    i64::try_from(now_unix()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_arg_debug_hides_the_token() {
        let arg: TokenArg = "eyJhbGciOiJIUzI1NiJ9.e30.c2ln".parse().unwrap();
        assert_eq!(format!("{arg:?}"), "TokenArg(REDACTED)");
    }
}
