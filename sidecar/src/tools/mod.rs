//! The operator tools of the `portal-sso` command beside `serve`.

pub mod token;
