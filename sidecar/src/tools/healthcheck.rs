//! `portal-sso healthcheck`: asks a running sidecar's admin `/healthz` whether it is up.
//!
//! Made for health checks that run the binary itself, without a shell, such as Docker's
//! exec-form `HEALTHCHECK`: the address comes from the config file's `admin_listen` (only
//! that key is read, so the secrets need not be readable where the check runs) or from
//! `--url`. An unspecified address (`0.0.0.0`, `::`) is asked on loopback.
//!
//! | exit code | meaning |
//! |---|---|
//! | 0 | `/healthz` answered 200 |
//! | 1 | anything else, with one line on standard error saying why: no `admin_listen`, connection refused, no answer within the timeout, another status |
//!
//! Every failure is exit code 1, config errors included: Docker reserves 2, and any other
//! code would only be read as "unhealthy" anyway. Only a malformed option (say, a
//! `--timeout-secs` that is not a number) exits 2, as for every subcommand.

use std::error::Error as StdError;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http::uri::Scheme;
use http::{Request, StatusCode, Uri, header};
use http_body_util::Empty;

use crate::config;
use crate::http_client;

/// Arguments of `portal-sso healthcheck`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The address is the config file's admin_listen (only that key is read; \
                  0.0.0.0 and :: are asked on loopback), or --url, which wins when both \
                  are given."
)]
pub struct HealthcheckArgs {
    /// The config file (TOML) whose `admin_listen` is asked.
    // Not required by clap, whose usage errors exit 2: a missing address is exit 1 below.
    #[arg(long, env = "PORTAL_SSO_CONFIG")]
    pub config: Option<PathBuf>,
    /// The URL to ask instead, such as `http://127.0.0.1:9901/healthz`.
    #[arg(long, value_name = "URL")]
    pub url: Option<Uri>,
    /// How long connecting and the answer may take together, in seconds.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 3,
        value_parser = clap::value_parser!(u64).range(1..=60)
    )]
    pub timeout_secs: u64,
}

/// Runs `portal-sso healthcheck`: exit code 0 when healthy, 1 with a line on standard
/// error otherwise.
pub fn run(args: &HealthcheckArgs) -> ExitCode {
    match check(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("portal-sso healthcheck: {why}");
            ExitCode::FAILURE
        }
    }
}

fn check(args: &HealthcheckArgs) -> Result<(), String> {
    let url = target(args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the runtime: {err}"))?;
    runtime.block_on(ask(url, Duration::from_secs(args.timeout_secs)))
}

/// The URL to ask: `--url`, else `/healthz` on the config's `admin_listen`.
fn target(args: &HealthcheckArgs) -> Result<Uri, String> {
    if let Some(url) = &args.url {
        if url.scheme() != Some(&Scheme::HTTP) || url.authority().is_none() {
            return Err(format!(
                "--url {url}: give an http:// URL, such as http://127.0.0.1:9901/healthz"
            ));
        }
        return Ok(url.clone());
    }
    let Some(path) = &args.config else {
        return Err("give --config FILE (or PORTAL_SSO_CONFIG) or --url URL".to_owned());
    };
    let admin = config::read_admin_listen(path)
        .map_err(|err| format!("config error: {err}"))?
        .ok_or_else(|| {
            format!(
                "{} has no admin_listen, so there is no /healthz to ask: set admin_listen, or give --url",
                path.display()
            )
        })?;
    healthz_url(admin)
}

/// `http://ADDR/healthz`, with an unspecified address replaced by loopback of its family.
fn healthz_url(admin: SocketAddr) -> Result<Uri, String> {
    if admin.port() == 0 {
        return Err(
            "admin_listen has port 0, which is chosen when the sidecar starts: give a fixed port, or --url"
                .to_owned(),
        );
    }
    let ip = match admin.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/healthz", SocketAddr::new(ip, admin.port()))
        .parse()
        .map_err(|err| format!("admin_listen {admin}: {err}"))
}

/// One GET; healthy only on a 200. The whole exchange is bounded by `limit`.
async fn ask(url: Uri, limit: Duration) -> Result<(), String> {
    let client = http_client::http(limit);
    let request = Request::get(url.clone())
        .header(
            header::USER_AGENT,
            concat!("portal-sso-healthcheck/", env!("CARGO_PKG_VERSION")),
        )
        .body(Empty::<Bytes>::new())
        .map_err(|err| format!("{url}: {err}"))?;
    let answer = tokio::time::timeout(limit, client.request(request))
        .await
        .map_err(|_| format!("{url}: no answer within {} s", limit.as_secs()))?
        .map_err(|err| format!("{url}: {}", reason(&err)))?;
    match answer.status() {
        StatusCode::OK => Ok(()),
        status => Err(format!("{url} answered {status}")),
    }
}

/// The innermost cause, in words for the two cases an operator meets most.
fn reason(err: &(dyn StdError + 'static)) -> String {
    let mut innermost = err;
    while let Some(cause) = innermost.source() {
        innermost = cause;
    }
    match innermost.downcast_ref::<io::Error>().map(io::Error::kind) {
        Some(io::ErrorKind::ConnectionRefused) => {
            "connection refused: is the sidecar running, with admin_listen there?".to_owned()
        }
        Some(io::ErrorKind::TimedOut) => "connecting timed out".to_owned(),
        _ => innermost.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_are_asked_on_loopback() {
        let url = |addr: &str| healthz_url(addr.parse().unwrap()).unwrap().to_string();
        assert_eq!(url("0.0.0.0:9901"), "http://127.0.0.1:9901/healthz");
        assert_eq!(url("[::]:9901"), "http://[::1]:9901/healthz");
        assert_eq!(url("10.1.2.3:9901"), "http://10.1.2.3:9901/healthz");
    }

    #[test]
    fn port_zero_cannot_be_asked() {
        let err = healthz_url("127.0.0.1:0".parse().unwrap()).unwrap_err();
        assert!(err.contains("port 0"), "{err}");
    }
}
