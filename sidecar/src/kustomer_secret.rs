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
//! | 7 | the answer was not JSON or had no secret in its `attributes` |
//! | 8 | network error: DNS, connection, TLS |
//! | 9 | no complete answer within the timeout |
//! | 10 | the secret could not be written to standard output or `--out` |

use std::error::Error as StdError;
use std::fmt;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt as _, Empty, LengthLimitError, Limited};
use serde_json::Value;
use url::{Host, Url};

use crate::http_client;

/// The environment variable holding the Kustomer API key.
pub const API_KEY_ENV: &str = "KUSTOMER_API_KEY";

/// The API in the Americas, used when neither `--org` nor `--region` is given.
const US_BASE: &str = "https://api.kustomerapp.com";
/// The API in Europe.
const EU_BASE: &str = "https://api.prod2.kustomerapp.com";
/// The most of an answer that is read; a settings payload is a few hundred bytes.
const MAX_ANSWER_BYTES: usize = 1 << 20;
/// Where the secret is looked for, as JSON pointers, in order.
const SECRET_POINTERS: [&str; 2] = ["/data/attributes/secret", "/attributes/secret"];

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

/// The API base for `--org`, `--region` or `--api-base` (which wins over both).
fn api_base(
    org: Option<&str>,
    region: Option<Region>,
    api_base: Option<&str>,
) -> Result<Url, Failure> {
    if let Some(raw) = api_base {
        return custom_base(raw);
    }
    let base = match (org, region) {
        (Some(org), _) => {
            let org = valid_org(org)?;
            format!("https://{org}.api.kustomerapp.com")
        }
        (None, None | Some(Region::Us)) => US_BASE.to_owned(),
        (None, Some(Region::Eu)) => EU_BASE.to_owned(),
    };
    Url::parse(&base).map_err(|_| Failure::Usage(format!("`{base}` is not a valid URL")))
}

/// An organization name as it stands in `ORG.api.kustomerapp.com`: one DNS label.
fn valid_org(org: &str) -> Result<String, Failure> {
    let fits = !org.is_empty()
        && org.len() <= 63
        && org.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !org.starts_with('-')
        && !org.ends_with('-');
    if fits {
        Ok(org.to_ascii_lowercase())
    } else {
        Err(Failure::Usage(format!(
            "--org {org:?} is not an organization name: use the NAME of \
             NAME.api.kustomerapp.com (letters, digits and inner hyphens, at most 63)"
        )))
    }
}

fn custom_base(raw: &str) -> Result<Url, Failure> {
    let refuse = |why: &str| Failure::Usage(format!("--api-base {raw:?} is refused: {why}"));
    let url = Url::parse(raw).map_err(|_| refuse("it is not an absolute URL"))?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
                Some(Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
                Some(Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
                None => false,
            };
            if !loopback {
                return Err(refuse(
                    "http is allowed only for 127.0.0.1, [::1] or localhost; use https",
                ));
            }
        }
        _ => return Err(refuse("the scheme must be https")),
    }
    if url.host().is_none() {
        return Err(refuse("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("it must not carry a user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("it must not have a query or fragment"));
    }
    Ok(url)
}

/// `{base}/v1/auth/kb/{kb_id}/settings`, after checking that the ID is safe in a path.
fn settings_url(base: &Url, kb_id: &str) -> Result<Url, Failure> {
    let fits = !kb_id.is_empty()
        && kb_id.len() <= 128
        && kb_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !fits {
        return Err(Failure::Usage(format!(
            "--kb-id {kb_id:?} is not a knowledge base ID: copy it from Settings > Knowledge \
             Base > Configuration (letters, digits, `-` and `_`, at most 128)"
        )));
    }
    let mut url = base.clone();
    let path = format!(
        "{}/v1/auth/kb/{kb_id}/settings",
        base.path().trim_end_matches('/')
    );
    url.set_path(&path);
    Ok(url)
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

/// The secret at `data.attributes.secret` or `attributes.secret` (JSON:API style).
fn find_secret(body: &[u8]) -> Result<String, Failure> {
    let payload: Value = serde_json::from_slice(body)
        .map_err(|_| Failure::Payload("the answer is not JSON".to_owned()))?;
    for pointer in SECRET_POINTERS {
        match payload.pointer(pointer) {
            None => {}
            Some(Value::String(secret)) if !secret.is_empty() => return Ok(secret.clone()),
            Some(other) => {
                return Err(Failure::Payload(format!(
                    "`{}` is {}, not a non-empty string",
                    dotted(pointer),
                    describe(other)
                )));
            }
        }
    }
    let tried = SECRET_POINTERS.map(dotted).join(" and ");
    let found = ["/data/attributes", "/attributes"]
        .into_iter()
        .find_map(|pointer| Some((pointer, payload.pointer(pointer)?)));
    let detail = match found {
        Some((pointer, Value::Object(attributes))) => {
            format!(
                "`{}` has the keys {}",
                dotted(pointer),
                key_list(attributes)
            )
        }
        Some((pointer, other)) => format!("`{}` is {}", dotted(pointer), describe(other)),
        None => match &payload {
            Value::Object(top) => format!(
                "there is no `attributes` field; the answer's top-level keys are {}",
                key_list(top)
            ),
            other => format!("the answer is {}", describe(other)),
        },
    };
    Err(Failure::Payload(format!(
        "no secret in the answer: tried {tried}; {detail}"
    )))
}

/// `/data/attributes/secret` as `data.attributes.secret`.
fn dotted(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

/// What kind of JSON value this is, never the value itself.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(text) if text.is_empty() => "an empty string",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Key names only, quoted and escaped, at most 20 of them.
fn key_list(object: &serde_json::Map<String, Value>) -> String {
    if object.is_empty() {
        return "(none)".to_owned();
    }
    let mut names: Vec<String> = object
        .keys()
        .take(20)
        .map(|key| format!("{key:?}"))
        .collect();
    if object.len() > 20 {
        names.push(format!("and {} more", object.len() - 20));
    }
    names.join(", ")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn base(org: Option<&str>, region: Option<Region>) -> String {
        api_base(org, region, None).unwrap().to_string()
    }

    #[test]
    fn org_names_the_host() {
        assert_eq!(
            base(Some("acme"), None),
            "https://acme.api.kustomerapp.com/"
        );
        assert_eq!(
            base(Some("Acme-Corp"), None),
            "https://acme-corp.api.kustomerapp.com/"
        );
    }

    #[test]
    fn region_picks_the_shared_host() {
        assert_eq!(base(None, None), "https://api.kustomerapp.com/");
        assert_eq!(base(None, Some(Region::Us)), "https://api.kustomerapp.com/");
        assert_eq!(
            base(None, Some(Region::Eu)),
            "https://api.prod2.kustomerapp.com/"
        );
    }

    #[test]
    fn settings_path_is_the_documented_one() {
        let url = settings_url(
            &api_base(Some("acme"), None, None).unwrap(),
            "5f1a2b3c4d5e6f7a8b9c0d1e",
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://acme.api.kustomerapp.com/v1/auth/kb/5f1a2b3c4d5e6f7a8b9c0d1e/settings"
        );
        let url = settings_url(
            &api_base(None, None, Some("http://127.0.0.1:8080/mock/")).unwrap(),
            "kb1",
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/mock/v1/auth/kb/kb1/settings"
        );
    }

    #[test]
    fn invalid_org_is_refused() {
        for org in [
            "",
            "-acme",
            "acme-",
            "acme.evil.com",
            "evil.com/x",
            "acme corp",
            "a@b",
            "acme#",
            "ac%2Fme",
            &"a".repeat(64),
        ] {
            let failure = api_base(Some(org), None, None).unwrap_err();
            assert_eq!(failure.exit_code(), 2, "org {org:?}");
            assert!(failure.to_string().contains("--org"), "org {org:?}");
        }
    }

    #[test]
    fn invalid_kb_id_is_refused() {
        let base = api_base(None, None, None).unwrap();
        for id in [
            "",
            "../admin",
            "a/b",
            "a?b",
            "a#b",
            "a%2e",
            "a b",
            &"1".repeat(129),
        ] {
            let failure = settings_url(&base, id).unwrap_err();
            assert_eq!(failure.exit_code(), 2, "id {id:?}");
        }
    }

    #[test]
    fn api_base_allows_http_only_on_loopback() {
        for ok in [
            "https://kustomer.example.com",
            "http://127.0.0.1:9000",
            "http://localhost:9000/",
            "http://[::1]:9000",
        ] {
            assert!(api_base(None, None, Some(ok)).is_ok(), "{ok}");
        }
        for refused in [
            "http://api.kustomerapp.com",
            "http://127.0.0.2",
            "http://localhost.evil.com",
            "ftp://127.0.0.1",
            "https://user:pw@api.kustomerapp.com",
            "https://api.kustomerapp.com/?x=1",
            "not a url",
        ] {
            let failure = api_base(None, None, Some(refused)).unwrap_err();
            assert_eq!(failure.exit_code(), 2, "{refused}");
        }
    }

    #[test]
    fn api_base_wins_over_org_and_region() {
        let url = api_base(Some("acme"), Some(Region::Eu), Some("http://127.0.0.1:1")).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:1/");
    }

    #[test]
    fn secret_is_found_in_either_shape() {
        let json_api = br#"{"data":{"type":"kb_settings","id":"x","attributes":{"secret":"s3"}}}"#;
        assert_eq!(find_secret(json_api).unwrap(), "s3");
        let flat = br#"{"attributes":{"secret":"s4","name":"kb"}}"#;
        assert_eq!(find_secret(flat).unwrap(), "s4");
    }

    #[test]
    fn missing_secret_names_paths_and_keys_but_no_values() {
        let body = br#"{"data":{"attributes":{"name":"hidden-value","token":"other-value"}}}"#;
        let message = find_secret(body).unwrap_err().to_string();
        assert!(message.contains("data.attributes.secret"), "{message}");
        assert!(message.contains("attributes.secret"), "{message}");
        assert!(message.contains("\"name\""), "{message}");
        assert!(message.contains("\"token\""), "{message}");
        assert!(!message.contains("hidden-value"), "{message}");
        assert!(!message.contains("other-value"), "{message}");

        let message = find_secret(br#"{"errors":[{"x":"y"}]}"#)
            .unwrap_err()
            .to_string();
        assert!(message.contains("\"errors\""), "{message}");

        let message = find_secret(br#"{"data":{"attributes":{"secret":42}}}"#)
            .unwrap_err()
            .to_string();
        assert!(message.contains("a number"), "{message}");
        assert!(!message.contains("42"), "{message}");

        let failure = find_secret(b"<html>secret</html>").unwrap_err();
        assert_eq!(failure.exit_code(), 7);
    }
}
