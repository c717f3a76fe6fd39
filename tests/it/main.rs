//! The library's integration tests, one module per behaviour, built as one test binary.

mod common;

mod aha;
mod builder;
mod events;
mod hostile_review;
mod identity_sources;
mod jwt_engine;
mod jwt_engine_config;
mod kustomer_redirect_uri;
mod kustomer_signed_out;
mod kustomer_token;
mod login_loop;
mod parameters;
mod passthrough;
mod passthrough_real_server;
mod preset_attacks;
mod presets_docs;
mod presets_feedback;
mod presets_support;
mod redirect_attacks;
mod redirect_props;
mod remote_logout_marker;
mod return_address;
mod security_classes_addresses;
mod security_classes_cookies;
mod security_classes_identity;
mod shared_cookie_key;
mod widget_route;
mod widget_values;
