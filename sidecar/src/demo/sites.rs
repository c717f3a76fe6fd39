//! Where each part of the demo runs, and the text printed at start that says so.

use std::fmt::Write as _;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::app::USERS;

/// The addresses of the demo's parts.
pub(crate) struct Sites {
    /// The app as the browser sees it: the sidecar's origin.
    pub(crate) app: String,
    /// The mock Kustomer portal's origin.
    pub(crate) kustomer: String,
    /// The mock Aha! knowledge base's origin.
    pub(crate) aha: String,
    /// Where the sidecar listens (`listen`).
    pub(crate) sidecar_listen: SocketAddr,
    /// Where the mock portals listen.
    pub(crate) kustomer_listen: SocketAddr,
    pub(crate) aha_listen: SocketAddr,
    /// The sidecar's admin listener (`admin_listen`), always on loopback.
    pub(crate) admin_listen: SocketAddr,
}

impl Sites {
    /// The sites for `--listen` `listen`: the sidecar there, the portals on the next two
    /// ports of the same address, the admin listener on the port after them on loopback.
    pub(crate) fn new(listen: SocketAddr) -> io::Result<Self> {
        let port = listen.port();
        if port == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "demo: give a fixed port (the mock portals and the sidecar's admin listener \
                 use the next three), not port 0",
            ));
        }
        let Some(admin_port) = port.checked_add(3) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "demo: port {port} leaves no room for the two mock portals and the \
                     sidecar's admin listener on the next three ports"
                ),
            ));
        };
        let ip = listen.ip();
        // A wildcard address is reached through loopback.
        let host = match ip {
            IpAddr::V4(v4) if v4.is_unspecified() => Ipv4Addr::LOCALHOST.to_string(),
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) if v6.is_unspecified() => format!("[{}]", Ipv6Addr::LOCALHOST),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        let origin = |offset: u16| format!("http://{host}:{}", port + offset);
        Ok(Self {
            app: origin(0),
            kustomer: origin(1),
            aha: origin(2),
            sidecar_listen: listen,
            kustomer_listen: SocketAddr::new(ip, port + 1),
            aha_listen: SocketAddr::new(ip, port + 2),
            admin_listen: SocketAddr::new(loopback(ip), admin_port),
        })
    }

    /// The admin listener's URL for `path`.
    pub(crate) fn admin(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin_listen)
    }
}

/// The loopback address of `ip`'s family: the internal parts are never on the network.
pub(crate) fn loopback(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
    }
}

/// What runs where, the demo users and what to click; `app_listen` is the app's own
/// (internal) address.
pub(crate) fn banner(sites: &Sites, app_listen: SocketAddr) -> String {
    let users = USERS.iter().fold(String::new(), |mut out, user| {
        let _ = writeln!(out, "    {:<20} password: {}", user.email, user.password);
        out
    });
    format!(
        "portal-sso demo: single sign-on from an app into two knowledge-base portals,\n\
         through the portal-sso sidecar.\n\
         \n\
         \x20 The app, through the sidecar (open this)  {app}/\n\
         \x20 Mock Kustomer portal                      {kustomer}/\n\
         \x20 Mock Aha! knowledge base                  {aha}/\n\
         \x20 Sidecar admin: metrics, recent events     {metrics}  {events}\n\
         \x20 The app itself, no SSO code (internal)    http://{app_listen}/\n\
         \n\
         Demo users:\n{users}\
         \n\
         What to click:\n\
         \x20 1. Open the Kustomer portal and click \"Log in\". You land on the app's login form;\n\
         \x20    sign in as alice@example.com / wonderland and you are back on the portal,\n\
         \x20    \"Signed in as alice@example.com\", with the token's claims. The app's pages\n\
         \x20    carry a mock Kustomer Chat: \"Chat: anonymous\" before, \"Chat: signed in as\n\
         \x20    alice@example.com\" now (its token from the sidecar's /sso/widget/kustomer-chat).\n\
         \x20 2. Open the Aha! knowledge base and click \"Log in\": signed in at once, no second login.\n\
         \x20 3. Click \"Log out\" on the knowledge base: its Remote logout URL signs you out of the app.\n\
         \x20 4. Sign in again, then click \"Log out\" in the app: the knowledge base is signed out too.\n\
         \x20 Then look at /metrics and /events on the admin address: every request and SSO decision.\n\
         \n\
         The sidecar runs from a config generated for this run: the app's session read through\n\
         its \"who am I\" endpoint (session.introspect), its logout followed on to Aha!\n\
         (app_logout_path), its own cookies signed with cookie_key, the chat's token from a\n\
         [[widget]]. The shared secrets and the cookie key were generated for this run and are\n\
         not shown. Ctrl-C stops the demo.",
        app = sites.app,
        kustomer = sites.kustomer,
        aha = sites.aha,
        metrics = sites.admin("/metrics"),
        events = sites.admin("/events"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_follow_the_listen_port() {
        let sites = Sites::new(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 8080))).unwrap();
        assert_eq!(sites.app, "http://127.0.0.1:8080");
        assert_eq!(sites.kustomer, "http://127.0.0.1:8081");
        assert_eq!(sites.aha, "http://127.0.0.1:8082");
        assert_eq!(sites.kustomer_listen.to_string(), "0.0.0.0:8081");
        assert_eq!(sites.admin("/metrics"), "http://127.0.0.1:8083/metrics");
        let sites = Sites::new(SocketAddr::from((Ipv6Addr::LOCALHOST, 9000))).unwrap();
        assert_eq!(sites.aha, "http://[::1]:9002");
        assert_eq!(sites.admin("/events"), "http://[::1]:9003/events");
    }

    #[test]
    fn ports_without_room_are_refused() {
        for port in [0, 65_533] {
            let err = Sites::new(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
                .err()
                .unwrap();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{port}");
        }
    }
}
