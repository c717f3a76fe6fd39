//! `portal-sso kustomer-secret`: fetches a Kustomer knowledge base's signing secret.
//!
//! Kustomer's "Set up custom sign on for your portal" gets the secret with one API call,
//! `GET https://ORG.api.kustomerapp.com/v1/auth/kb/:id/settings`, or, without the
//! organization's name, `https://api.kustomerapp.com` in the Americas and
//! `https://api.prod2.kustomerapp.com` in Europe, authorized by an API key with the
//! `org.admin` role as a bearer token. The answer is a JSON payload with the secret inside
//! its `attributes` field.
//!
//! The API key is read from `KUSTOMER_API_KEY` and never appears in any output. The secret
//! goes to standard output alone (plus a newline) or, with `--out FILE`, into a file with
//! mode `0600`.
//!
//! | exit code | meaning |
//! |---|---|
//! | 0 | the secret was printed or written |
//! | 2 | usage: `KUSTOMER_API_KEY` missing, invalid `--kb-id`, `--org` or `--api-base` |
//! | 3 | Kustomer answered 401: the API key was not accepted |
//! | 4 | Kustomer answered 403: the API key may not read knowledge base settings |
//! | 5 | Kustomer answered 404: no knowledge base with that ID there |
//! | 6 | Kustomer answered another unexpected status |
//! | 7 | the answer was not JSON, had no secret in its `attributes`, or one with control characters |
//! | 8 | network error: DNS, connection, TLS |
//! | 9 | no complete answer within the timeout |
//! | 10 | the secret could not be written to standard output or `--out` |

mod answer;
mod endpoint;

use std::error::Error as StdError;
use std::fmt;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt as _, Empty, LengthLimitError, Limited};
use url::Url;

use answer::find_secret;
use endpoint::{api_base, settings_url};

use crate::http_client;

/// The environment variable holding the Kustomer API key.
pub const API_KEY_ENV: &str = "KUSTOMER_API_KEY";

/// The most of an answer that is read; a settings payload is a few hundred bytes.
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// Where a Kustomer organization's data lives, for the API host without `--org`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Region {
    /// The Americas: `https://api.kustomerapp.com`.
    Us,
    /// Europe: `https://api.prod2.kustomerapp.com`.
    Eu,
}

/// Arguments of `portal-sso kustomer-secret`.
#[derive(Debug, clap::Args)]
#[command(
    about = "Fetch a Kustomer knowledge base's signing secret (API key in KUSTOMER_API_KEY)",
    after_help = "The API key (Settings > Security > API Keys, role org.admin) is read from \
                  KUSTOMER_API_KEY. The secret is printed alone on standard output, or written \
                  to --out FILE with mode 0600."
)]
pub struct KustomerSecretArgs {
    /// The Knowledge Base ID (Settings > Knowledge Base > Configuration, General tab,
    /// Additional Information).
    #[arg(long = "kb-id", value_name = "ID")]
    pub kb_id: String,
    /// The Kustomer organization's name: asks `https://NAME.api.kustomerapp.com`.
    #[arg(long, value_name = "NAME", conflicts_with = "region")]
    pub org: Option<String>,
    /// Without --org: `us` (the Americas, `https://api.kustomerapp.com`; the default) or
    /// `eu` (`https://api.prod2.kustomerapp.com`).
    #[arg(long, value_enum)]
    pub region: Option<Region>,
    /// Asks this base URL instead (https; http only for `127.0.0.1`, `[::1]` or `localhost`).
    #[arg(long, value_name = "URL")]
    pub api_base: Option<String>,
    /// Writes the secret to FILE (created or truncated, mode 0600; not a symbolic link)
    /// instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Gives up when the whole exchange takes longer than this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub timeout: u64,
}

/// Runs `portal-sso kustomer-secret`: prints or writes the secret, or says on standard error
/// what went wrong and returns the matching exit code (see the module docs).
pub async fn run(args: KustomerSecretArgs) -> ExitCode {
    let api_key = std::env::var(API_KEY_ENV).unwrap_or_default();
    let api_key = api_key.trim();
    match fetch_and_deliver(&args, api_key).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let message = failure.to_string();
            // The key is never put into a message; this is a second line of defence in case
            // an underlying error ever echoes a header. A very short value would match
            // ordinary words, and no real API key is that short.
            let message = if api_key.len() < 8 {
                message
            } else {
                message.replace(api_key, "REDACTED")
            };
            eprintln!("portal-sso kustomer-secret: {message}");
            ExitCode::from(failure.exit_code())
        }
    }
}

async fn fetch_and_deliver(args: &KustomerSecretArgs, api_key: &str) -> Result<(), Failure> {
    let base = api_base(args.org.as_deref(), args.region, args.api_base.as_deref())?;
    let url = settings_url(&base, &args.kb_id)?;
    if api_key.is_empty() {
        return Err(Failure::Usage(format!(
            "{API_KEY_ENV} is not set: create an API key with the org.admin role in Kustomer \
             (Settings > Security > API Keys) and export it as {API_KEY_ENV}"
        )));
    }
    let mut authorization = HeaderValue::from_str(&format!("Bearer {api_key}")).map_err(|_| {
        Failure::Usage(format!(
            "{API_KEY_ENV} contains characters that cannot be sent in an HTTP header"
        ))
    })?;
    authorization.set_sensitive(true);

    let timeout = Duration::from_secs(args.timeout);
    let (status, body) = tokio::time::timeout(timeout, get(&url, authorization, timeout))
        .await
        .map_err(|_| Failure::Timeout {
            url: url.to_string(),
            secs: args.timeout,
        })??;
    check_status(status, &url, &args.kb_id)?;
    let secret = find_secret(&body)?;
    deliver(&secret, args.out.as_deref())
}

/// One GET with the bearer key; returns the status and at most 1 MiB of body.
async fn get(
    url: &Url,
    authorization: HeaderValue,
    connect_timeout: Duration,
) -> Result<(StatusCode, Bytes), Failure> {
    let network = |problem: String| Failure::Network {
        url: url.to_string(),
        problem,
    };
    let client = http_client::https(connect_timeout)
        .map_err(|error| network(format!("TLS setup failed: {error}")))?;
    let uri: Uri = url
        .as_str()
        .parse()
        .map_err(|_| network("the URL is not a valid request target".to_owned()))?;
    let request = Request::get(uri)
        .header(header::AUTHORIZATION, authorization)
        .header(header::ACCEPT, "application/json")
        .header(
            header::USER_AGENT,
            concat!("portal-sso/", env!("CARGO_PKG_VERSION")),
        )
        .body(Empty::new())
        .map_err(|_| network("the request could not be built".to_owned()))?;
    let response = client
        .request(request)
        .await
        .map_err(|error| network(error_chain(&error)))?;
    let status = response.status();
    let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
        .collect()
        .await
        .map_err(|error| {
            if error.is::<LengthLimitError>() {
                Failure::Payload("the answer is larger than 1 MiB".to_owned())
            } else {
                network(format!(
                    "the answer broke off: {}",
                    error_chain(error.as_ref())
                ))
            }
        })?
        .to_bytes();
    Ok((status, body))
}

/// `outer: inner: innermost`, so "connection refused" is not hidden behind "client error".
fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn check_status(status: StatusCode, url: &Url, kb_id: &str) -> Result<(), Failure> {
    match status {
        status if status.is_success() => Ok(()),
        StatusCode::UNAUTHORIZED => Err(Failure::Unauthorized),
        StatusCode::FORBIDDEN => Err(Failure::Forbidden),
        StatusCode::NOT_FOUND => Err(Failure::NotFound {
            kb_id: kb_id.to_owned(),
            host: url.host_str().unwrap_or_default().to_owned(),
        }),
        status => Err(Failure::Status(status)),
    }
}

fn deliver(secret: &str, out: Option<&Path>) -> Result<(), Failure> {
    match out {
        None => {
            let mut stdout = io::stdout().lock();
            writeln!(stdout, "{secret}")
                .and_then(|()| stdout.flush())
                .map_err(|error| {
                    Failure::Output(format!("could not write to standard output: {error}"))
                })
        }
        Some(path) => {
            write_secret_file(path, secret).map_err(|error| {
                Failure::Output(format!("could not write {}: {error}", path.display()))
            })?;
            eprintln!(
                "portal-sso kustomer-secret: wrote the secret ({} bytes) to {} with mode 0600",
                secret.len(),
                path.display()
            );
            Ok(())
        }
    }
}

/// Writes exactly `secret` (no newline) to `path`. A new file is created with mode 0600; an
/// existing one gets mode 0600 before it is emptied, so the secret is never readable by
/// others, not even for an instant. A symbolic link is refused, so a link planted in a
/// shared directory cannot turn the write onto another file.
fn write_secret_file(path: &Path, secret: &str) -> io::Result<()> {
    let refused = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is a symbolic link or was replaced while being opened; give the real path",
        )
    };
    if std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink()) {
        return Err(refused());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is not a regular file",
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
        // The file opened must still be the one the path names, with no link in between.
        let opened = file.metadata()?;
        let named = std::fs::symlink_metadata(path)?;
        if named.file_type().is_symlink()
            || (opened.dev(), opened.ino()) != (named.dev(), named.ino())
        {
            return Err(refused());
        }
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.set_len(0)?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()
}

/// Why no secret came out. Messages name what to do and never carry the key or the secret.
#[derive(Debug)]
enum Failure {
    Usage(String),
    Unauthorized,
    Forbidden,
    NotFound { kb_id: String, host: String },
    Status(StatusCode),
    Payload(String),
    Network { url: String, problem: String },
    Timeout { url: String, secs: u64 },
    Output(String),
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Unauthorized => 3,
            Failure::Forbidden => 4,
            Failure::NotFound { .. } => 5,
            Failure::Status(_) => 6,
            Failure::Payload(_) => 7,
            Failure::Network { .. } => 8,
            Failure::Timeout { .. } => 9,
            Failure::Output(_) => 10,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(message) | Failure::Output(message) => f.write_str(message),
            Failure::Unauthorized => write!(
                f,
                "Kustomer answered 401 Unauthorized: the API key in {API_KEY_ENV} was not \
                 accepted (mistyped, revoked or expired, or from another organization or region)"
            ),
            Failure::Forbidden => f.write_str(
                "Kustomer answered 403 Forbidden: the API key may not read knowledge base \
                 settings; create one with the org.admin role (Settings > Security > API Keys)",
            ),
            Failure::NotFound { kb_id, host } => write!(
                f,
                "Kustomer answered 404 Not Found: {host} has no knowledge base with ID \
                 {kb_id:?}; check the Knowledge Base ID and --org/--region"
            ),
            Failure::Status(status) => {
                let hint = if status.is_server_error() {
                    "; this is a problem on Kustomer's side, try again later"
                } else if *status == StatusCode::TOO_MANY_REQUESTS {
                    "; too many requests, wait a minute and try again"
                } else {
                    ""
                };
                write!(
                    f,
                    "Kustomer answered {status}, expected 200 with the settings{hint}"
                )
            }
            Failure::Payload(message) => write!(f, "unexpected answer from Kustomer: {message}"),
            Failure::Network { url, problem } => write!(f, "could not reach {url}: {problem}"),
            Failure::Timeout { url, secs } => {
                write!(f, "no complete answer from {url} within {secs} s")
            }
        }
    }
}
