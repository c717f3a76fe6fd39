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

/// Ratios of two measurements taken in alternation, which a noisy machine disturbs far
/// less than criterion's one-benchmark-after-the-other estimates.
///
/// Each of `rounds` rounds times `numerator` and `denominator` once each (in turns which
/// goes first), each returning the time per iteration of a batch it timed itself (so it
/// can build its inputs untimed). The ratios are those of each round, sorted.
pub fn paired(
    rounds: usize,
    mut numerator: impl FnMut() -> f64,
    mut denominator: impl FnMut() -> f64,
) -> Vec<f64> {
    let mut ratios: Vec<f64> = (0..rounds)
        .map(|round| {
            if round % 2 == 0 {
                let n = numerator();
                n / denominator()
            } else {
                let d = denominator();
                numerator() / d
            }
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios
}

/// Nanoseconds per call of `f` over `iterations` calls, each result passed to
/// `black_box`.
pub fn ns_per_call<T>(iterations: u32, mut f: impl FnMut() -> T) -> f64 {
    let started = std::time::Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(f());
    }
    started.elapsed().as_secs_f64() * 1e9 / f64::from(iterations)
}

/// Prints one line of [`paired`] ratios: the median and the spread.
pub fn report_paired(label: &str, ratios: &[f64]) {
    let (Some(min), Some(max)) = (ratios.first(), ratios.last()) else {
        return;
    };
    println!(
        "  {label:<44} median {:>6.3}x  (min {min:.3}, max {max:.3}, {} rounds)",
        ratios[ratios.len() / 2],
        ratios.len()
    );
}
