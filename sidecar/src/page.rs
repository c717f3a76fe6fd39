//! The sidecar's own pages (a 502 from the proxy, a 400 for a malformed request, the
//! demo's sites) are the layer's: one look and one set of protective headers.

pub use portal_sso::page::{escape, page, protect, protect_html};
