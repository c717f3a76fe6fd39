//! What the sidecar's integration tests share, re-exported here so that `use support::*;`
//! brings it in: the app behind the sidecar (`app`), the sidecar process and its config
//! (`sidecar`), the browser's HTTP client (`client`) and reading tokens (`tokens`). The
//! reverse proxies of `front` keep their module path.
#![allow(dead_code)] // each test file uses a different part of this module

mod app;
mod client;
mod sidecar;
mod tokens;

pub mod front;

#[allow(unused_imports)] // likewise, a test file may use nothing from one of these parts
pub use {app::*, client::*, sidecar::*, tokens::*};
