//! The sidecar's integration tests, one module per behaviour, built as one test binary that
//! drives the real `portal-sso` binary.

mod support;

mod admin_safe_by_default;
mod cli_kustomer_secret;
mod cli_token;
mod cli_token_presets;
mod demo_browser;
mod demo_chat_widget;
mod demo_mock_portals;
mod demo_sign_in;
mod demo_sign_out;
mod demo_through_sidecar;
mod deploy;
mod front_proxy_names;
mod header_names_never_reach_the_app;
mod hostile_review;
mod oidc_browser;
mod oidc_flows;
mod oidc_hostile_tokens;
mod oidc_provider;
mod operator_tools_never_echo_a_secret;
mod public_url;
mod reload;
mod reload_never_stops_serving;
mod replicas;
mod sidecar_admin;
mod sidecar_attacks;
mod sidecar_config;
mod sidecar_logout;
mod sidecar_presets;
mod sidecar_presets_check_config;
mod sidecar_presets_jwt;
mod sidecar_proxying;
mod sidecar_session_attacks;
mod sidecar_session_sources;
mod sidecar_shutdown;
mod sidecar_slow_clients;
mod sidecar_sso_flows;
mod sidecar_upstream_errors;
mod sidecar_widgets;
mod sidecar_widgets_config;
mod sso_routes_only;
mod tls;
mod widget_browser;
mod zendesk_host_mapped;
