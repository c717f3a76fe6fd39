//! The `portal-sso` command: `serve`, `check-config`, `demo`.
fn main() {}
