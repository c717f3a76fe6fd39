//! The `portal-sso` sidecar: a reverse proxy in front of an app written in any language,
//! answering the SSO routes itself (through `portal_sso::SsoLayer`) by reading the app's
//! session.
//!
//! - [`config`]: the TOML file, checked once, secrets from the environment or files;
//! - [`proxy`]: forwards everything that is not an SSO route to the app;
//! - [`forwarding`]: which `X-Forwarded-*` and like headers the app gets, from whom;
//! - [`server`]: connections, timeouts, limits and graceful shutdown, on one runtime per
//!   CPU (`runtimes`); each connection is served with the `generation` made from the config in force;
//! - [`reload`]: the config read again on SIGHUP;
//! - [`admin`]: `/healthz`, `/readyz`, `/metrics`, `/events` on a separate port;
//! - [`introspect`]: the identity source that asks the app "who am I";
//! - [`oidc`]: identity from an OpenID provider, through the sidecar's own login and
//!   callback routes;
//! - [`demo`]: the whole flow on one machine, an example app behind this sidecar;
//! - [`tools`]: the operator tools behind `portal-sso token`, `portal-sso kustomer-secret`
//!   and `portal-sso healthcheck`.
//!
//! The `portal-sso` command is a thin layer over these modules.

pub mod admin;
pub mod config;
pub mod demo;
pub mod forwarding;
mod generation;
mod host;
mod http_client;
pub mod introspect;
pub mod metrics;
pub mod oidc;
pub mod page;
pub mod proxy;
pub mod recent;
pub mod reload;
mod runtimes;
pub mod server;
pub mod tools;

pub use config::{ConfigFileError, SidecarConfig};
pub use introspect::Introspect;
pub use server::serve;

/// Seconds since the Unix epoch, for `iat` and token ages.
pub(crate) fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
