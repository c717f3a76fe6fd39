//! The operator tools of the `portal-sso` command beside `serve`: sign or inspect a
//! portal token, fetch a Kustomer knowledge base's secret, ask a running sidecar whether
//! it is healthy.

pub mod healthcheck;
pub mod kustomer_secret;
pub mod token;
