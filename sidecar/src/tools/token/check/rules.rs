//! [`Rules`]: what the checker reads from a portal or a JWT widget: the vendor's name,
//! the algorithm, the claims signed, the vendor's time rules and whether its header names
//! the key.

use serde_json::Value;

use super::Findings;
use portal_sso::{
    Claim, JwtAlgorithm, JwtPortal, Preset, TimeRules, Widget, WidgetFormat, WidgetPreset,
    WidgetSetting,
};

/// The rules one token is checked against, read from the portal or widget that signs it.
pub struct Rules<'r> {
    pub(super) vendor: &'r str,
    pub(super) algorithm: JwtAlgorithm,
    pub(super) claims: Vec<(&'r str, &'r Claim)>,
    pub(super) times: TimeRules,
    pub(super) key_id: KeyId<'r>,
}

/// What the header's `kid` must be.
pub(super) enum KeyId<'r> {
    /// Anything, or nothing: the vendor does not name its keys.
    Free,
    /// Present: the vendor names its keys, and which one is not known here.
    Required,
    /// This key's ID.
    Exactly(&'r str),
}

impl<'r> From<&'r JwtPortal> for Rules<'r> {
    fn from(portal: &'r JwtPortal) -> Self {
        Self {
            vendor: portal.preset().map_or("the portal", Preset::vendor),
            algorithm: portal.algorithm(),
            claims: portal.claims().collect(),
            times: portal
                .preset()
                .map_or(TimeRules::UNDOCUMENTED, Preset::time_rules),
            key_id: KeyId::Free,
        }
    }
}

impl<'r> Rules<'r> {
    /// The header's `kid`, when the vendor names its keys.
    pub(super) fn check_key_id(&self, findings: &mut Findings, kid: Option<&Value>) {
        let vendor = self.vendor;
        match (&self.key_id, kid.and_then(Value::as_str)) {
            (KeyId::Free, _) => {}
            (KeyId::Required, Some(kid)) => findings.push(true, format!("header kid is {kid}")),
            (KeyId::Exactly(expected), Some(kid)) => findings.either(
                kid == *expected,
                format!("header kid is {kid}"),
                format!("header kid is {kid}, but the key's ID is {expected}"),
            ),
            (_, None) => findings.push(
                false,
                format!("header has no kid; {vendor} finds the key by its ID there"),
            ),
        }
    }

    /// The algorithm the vendor takes.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }

    /// The rules of a JWT widget; `None` for an HMAC widget, whose value is no token.
    pub fn widget(widget: &'r Widget) -> Option<Self> {
        let WidgetFormat::Jwt(algorithm) = widget.format() else {
            return None;
        };
        let named = widget
            .preset()
            .is_some_and(|preset| preset.settings().contains(&WidgetSetting::KeyId));
        let key_id = match widget.key_id() {
            Some(kid) => KeyId::Exactly(kid),
            None if named => KeyId::Required,
            None => KeyId::Free,
        };
        Some(Self {
            vendor: widget
                .preset()
                .map_or("the widget", |preset| preset.vendor()),
            algorithm,
            claims: widget.claims().collect(),
            times: widget
                .preset()
                .map_or(TimeRules::UNDOCUMENTED, WidgetPreset::time_rules),
            key_id,
        })
    }
}
