//! The sidecar: config file, reverse proxy, admin endpoints, demo, and the operator tools
//! behind `portal-sso kustomer-secret` and `portal-sso token`.

pub mod kustomer_secret;
pub mod token_cli;
