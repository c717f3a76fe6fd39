//! The sidecar: config file, reverse proxy, admin endpoints, demo.

pub mod demo;
