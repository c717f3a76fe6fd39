//! Shared by the benchmarks: the raw signing floor and the ratio report.

// Each benchmark binary uses its own part of this module.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256 from the `hmac` and `sha2` crates.
pub type HmacSha256 = Hmac<Sha256>;

/// The length of an unpadded base64url HMAC-SHA256 tag.
pub const TAG_B64_LEN: usize = 43;

/// The raw signing floor: key HMAC-SHA256 with `key`, MAC `signing_input`
/// (`header.claims`), base64url the 32-byte tag into a stack buffer. No JSON, no
/// allocation.
pub fn floor(key: &[u8], signing_input: &[u8]) -> [u8; TAG_B64_LEN] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(signing_input);
    encode_tag(mac)
}

/// The floor with the key schedule done once: clone a keyed state, MAC, base64url.
pub fn floor_prekeyed(keyed: &HmacSha256, signing_input: &[u8]) -> [u8; TAG_B64_LEN] {
    let mut mac = keyed.clone();
    mac.update(signing_input);
    encode_tag(mac)
}

fn encode_tag(mac: HmacSha256) -> [u8; TAG_B64_LEN] {
    let tag = mac.finalize().into_bytes();
    let mut out = [0u8; TAG_B64_LEN];
    let written = URL_SAFE_NO_PAD
        .encode_slice(tag, &mut out)
        .expect("43 bytes hold a base64url SHA-256 tag");
    debug_assert_eq!(written, TAG_B64_LEN);
    out
}

/// `header.claims` of a compact JWS: what its signature covers.
pub fn signing_input(token: &str) -> &str {
    &token[..token.rfind('.').expect("a compact JWS has two dots")]
}

/// Where criterion writes its estimates: `$CRITERION_HOME`, else `<target>/criterion`
/// with `<target>` found from this binary's path (`<target>/<profile>/deps/<bench>`).
fn criterion_home() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Some(home.into());
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(target).join("criterion"));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("criterion"))
}

/// The time per iteration criterion estimated for `group/function` in this run (slope
/// when it fitted one, else the mean), in nanoseconds. `None` when the benchmark did not
/// run in this process (filtered out, or `--list`/`--test`).
pub fn estimate_ns(id: &str, since: SystemTime) -> Option<f64> {
    let path = criterion_home()?
        .join(id)
        .join("new")
        .join("estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < since {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    json["slope"]["point_estimate"]
        .as_f64()
        .or_else(|| json["mean"]["point_estimate"].as_f64())
}

/// Prints `label: numerator / denominator = ratio` for each row whose two estimates this
/// run produced.
pub fn report(title: &str, since: SystemTime, rows: &[(&str, &str, &str)]) {
    let mut lines = Vec::new();
    for &(label, numerator, denominator) in rows {
        if let (Some(n), Some(d)) = (
            estimate_ns(numerator, since),
            estimate_ns(denominator, since),
        ) {
            lines.push(format!(
                "  {label:<44} {n:>10.1} ns / {d:>10.1} ns = {:>6.3}x  ({:+.1} ns)",
                n / d,
                n - d
            ));
        }
    }
    if lines.is_empty() {
        return;
    }
    println!("\n{title}");
    for line in lines {
        println!("{line}");
    }
}
