//! What the sidecar's integration tests share, re-exported here so that `use support::*;`
//! brings it in: the app behind the sidecar (`app`), the sidecar process and its config
//! (`sidecar`), the browser's HTTP client (`client`) and reading tokens (`tokens`). What
//! only one family of test files uses keeps its module path, so that short names such as
//! `alice` or `now` cannot clash: the reverse proxies (`front`), the app with a sidecar
//! in front of it (`stack`), the vendor presets' configs and token checks (`presets`),
//! running the binary's subcommands (`cli`), a real Chromium (`browser`), the widgets'
//! secrets and configs (`widgets`) and clicking through `portal-sso demo` (`demo`).
#![allow(dead_code)] // each test file uses a different part of this module

mod app;
mod client;
mod sidecar;
mod tokens;

pub mod browser;
pub mod cli;
pub mod demo;
pub mod fake_idp;
pub mod front;
pub mod oidc;
pub mod presets;
pub mod stack;
pub mod widgets;

#[allow(unused_imports)] // likewise, a test file may use nothing from one of these parts
pub use {app::*, client::*, sidecar::*, tokens::*};
