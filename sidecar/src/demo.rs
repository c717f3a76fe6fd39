//! `portal-sso demo`: the whole single sign-on flow on one machine, nothing to configure.
//!
//! Three sites, with secrets generated at random for each run:
//! - on the `--listen` port P, a small app with its own login and session cookie, wrapped by
//!   [`SsoLayer`](crate::SsoLayer) exactly as a user would wrap theirs;
//! - on P+1, a mock Kustomer portal whose "Log in" starts custom sign-on;
//! - on P+2, a mock Aha! knowledge base whose "Log in" starts JWT single sign-on, with
//!   single sign-out in both directions.
//!
//! The mocks check the tokens by the vendors' rules, the ones `portal-sso token inspect`
//! applies (HS256 with the shared secret, header `typ` `JWT`, the required claims present
//! and typed, Kustomer's 15-minute window); the mock Aha! also checks its `state`, takes
//! each `jti` once and no token older than 15 minutes. They say why when they refuse one.

mod aha;
mod app;
mod kustomer;
mod page;
mod session;
mod verify;

use std::fmt::Write as _;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use portal_sso::Secret;

/// How long open connections get to finish once shutdown is asked for.
const DRAIN_DEADLINE: Duration = Duration::from_secs(5);

/// Runs the demo on `listen` (the app), the next port (mock Kustomer) and the one after
/// (mock Aha!) until `shutdown` completes.
///
/// Prints the three URLs, the demo users and what to click. Fails with a message naming
/// the port when one of the three cannot be bound.
pub async fn run(
    listen: SocketAddr,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let port = listen.port();
    let (Some(kustomer_port), Some(aha_port)) = (port.checked_add(1), port.checked_add(2)) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("demo: port {port} leaves no room for the two mock portals on the next ports"),
        ));
    };
    if port == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "demo: give a fixed port (the mock portals use the next two), not port 0",
        ));
    }
    let app_listener = bind(listen, "the demo app").await?;
    let kustomer_listener = bind(
        SocketAddr::new(listen.ip(), kustomer_port),
        "the mock Kustomer portal",
    )
    .await?;
    let aha_listener = bind(
        SocketAddr::new(listen.ip(), aha_port),
        "the mock Aha! knowledge base",
    )
    .await?;

    let sites = Arc::new(Sites::new(listen.ip(), port));
    let kustomer_secret = random_secret();
    let aha_secret = random_secret();
    let app = app::router(
        Arc::clone(&sites),
        cookie::Key::generate(),
        kustomer_secret.clone(),
        aha_secret.clone(),
    )
    .map_err(|err| io::Error::other(format!("demo: the app's SsoLayer: {err}")))?;
    let kustomer = kustomer::router(Arc::clone(&sites), kustomer_secret);
    let aha = aha::router(Arc::clone(&sites), aha_secret);

    println!("{}", banner(&sites));

    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let serve = |listener: TcpListener, router: axum::Router| {
        let mut stopped = stopped.clone();
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            })
            .into_future()
    };
    let servers = async {
        tokio::try_join!(
            serve(app_listener, app),
            serve(kustomer_listener, kustomer),
            serve(aha_listener, aha),
        )
        .map(|_| ())
    };
    let mut deadline = stopped.clone();
    let deadline = async move {
        let _ = deadline.wait_for(|stop| *stop).await;
        tokio::time::sleep(DRAIN_DEADLINE).await;
    };
    tokio::select! {
        result = servers => result,
        () = deadline => Ok(()),
    }
}

async fn bind(addr: SocketAddr, what: &str) -> io::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|err| {
        io::Error::new(
            err.kind(),
            format!(
                "demo: cannot listen on {addr} (port {}) for {what}: {err}",
                addr.port()
            ),
        )
    })
}

/// The three sites' origins, as the browser reaches them.
pub(crate) struct Sites {
    pub(crate) app: String,
    pub(crate) kustomer: String,
    pub(crate) aha: String,
}

impl Sites {
    fn new(ip: IpAddr, port: u16) -> Self {
        // A wildcard address is reached through loopback.
        let host = match ip {
            IpAddr::V4(v4) if v4.is_unspecified() => Ipv4Addr::LOCALHOST.to_string(),
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) if v6.is_unspecified() => format!("[{}]", Ipv6Addr::LOCALHOST),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        let origin = |offset: u16| format!("http://{host}:{}", port + offset);
        Self {
            app: origin(0),
            kustomer: origin(1),
            aha: origin(2),
        }
    }
}

fn banner(sites: &Sites) -> String {
    let users = app::USERS.iter().fold(String::new(), |mut out, user| {
        let _ = writeln!(out, "    {:<20} password: {}", user.email, user.password);
        out
    });
    format!(
        "portal-sso demo: single sign-on from an app into two knowledge-base portals.\n\
         \n\
         \x20 App (its own login, wrapped by SsoLayer)   {app}/\n\
         \x20 Mock Kustomer portal                       {kustomer}/\n\
         \x20 Mock Aha! knowledge base                   {aha}/\n\
         \n\
         Demo users:\n{users}\
         \n\
         What to click:\n\
         \x20 1. Open the Kustomer portal and click \"Log in\". You land on the app's login form;\n\
         \x20    sign in as alice@example.com / wonderland and you are back on the portal,\n\
         \x20    \"Signed in as alice@example.com\", with the token's claims.\n\
         \x20 2. Open the Aha! knowledge base and click \"Log in\": signed in at once, no second login.\n\
         \x20 3. Click \"Log out\" on the knowledge base: its Remote logout URL signs you out of the app.\n\
         \x20 4. Sign in again, then click \"Log out\" in the app: the knowledge base is signed out too.\n\
         \n\
         The shared secrets were generated for this run and are not shown. Ctrl-C stops the demo.",
        app = sites.app,
        kustomer = sites.kustomer,
        aha = sites.aha,
    )
}

/// 32 random bytes as 64 hex digits.
pub(crate) fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    // Without the operating system's random source nothing here would be safe to run.
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    bytes
        .iter()
        .fold(String::with_capacity(64), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}

/// A fresh shared secret: 32 random bytes, written as 64 hex digits.
fn random_secret() -> Secret {
    Secret::new(random_hex())
}

/// The one value of `name` in a query string: `Ok(None)` when absent, an explanation when
/// it is given more than once.
pub(crate) fn query_param(query: Option<&str>, name: &str) -> Result<Option<String>, String> {
    let mut found = None;
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if key == name {
            if found.is_some() {
                return Err(format!("The parameter `{name}` is given more than once."));
            }
            found = Some(value.into_owned());
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_follow_the_listen_port() {
        let sites = Sites::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 8080);
        assert_eq!(sites.app, "http://127.0.0.1:8080");
        assert_eq!(sites.kustomer, "http://127.0.0.1:8081");
        assert_eq!(sites.aha, "http://127.0.0.1:8082");
        let sites = Sites::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 9000);
        assert_eq!(sites.aha, "http://[::1]:9002");
    }

    #[test]
    fn query_params_are_decoded_once_and_never_doubled() {
        assert_eq!(
            query_param(Some("a=1&next=%2Fx%3Fy%3D1"), "next").unwrap(),
            Some("/x?y=1".to_owned())
        );
        assert_eq!(query_param(None, "next").unwrap(), None);
        assert!(query_param(Some("jwt=a&jwt=b"), "jwt").is_err());
    }

    #[test]
    fn secrets_are_long_and_fresh() {
        let (a, b) = (random_secret(), random_secret());
        assert!(a.len() >= portal_sso::MIN_SECRET_LEN);
        assert_ne!(a.expose(), b.expose());
    }
}
