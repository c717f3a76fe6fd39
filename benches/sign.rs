//! HS256 signing: the crate's signer for both vendors against the raw floor.
//!
//! `cargo bench --bench sign`. The floor is HMAC-SHA256 over the same `header.claims`
//! bytes plus base64url of the tag, so `kustomer / floor` is what the claims' JSON, the
//! base64 of the claims and the token string cost on top of the cryptography.

mod common;

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, Throughput};
use hmac::Mac as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use portal_sso::token::TokenSigner;
use portal_sso::{Identity, JwtAlgorithm, Secret};
use serde_json::json;

const SECRET: &str = "kustomer-secret-kustomer-secret-0123456789";
const IAT: u64 = 1_763_700_000;
const JTI: &str = "0f9d8e7c6b5a49382716059483726150";

/// The Kustomer token for `identity`, as `/sso/kustomer` signs it.
fn kustomer(signer: &TokenSigner, identity: &Identity, iat: u64) -> String {
    signer
        .sign(&json!({ "email": identity.email(), "iat": iat }))
        .expect("Kustomer claims serialize")
}

/// The Aha! token for `identity`, with `jti` when given (a fresh one otherwise).
fn aha(signer: &TokenSigner, identity: &Identity, iat: u64, jti: Option<&str>) -> String {
    let jti = jti.map_or_else(
        || {
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes).expect("random source");
            format!("{:032x}", u128::from_be_bytes(bytes))
        },
        str::to_owned,
    );
    let claims = json!({
        "iat": iat,
        "jti": jti,
        "first_name": identity.first_name(),
        "last_name": identity.last_name(),
        "email": identity.email(),
    });
    signer.sign(&claims).expect("Aha! claims serialize")
}

fn identity() -> Identity {
    Identity::new("alice.example@example.com")
        .expect("valid email")
        .with_first_name("Alice")
        .with_last_name("Example")
}

fn sign(c: &mut Criterion) {
    let secret = Secret::new(SECRET);
    let signer = TokenSigner::new(JwtAlgorithm::HS256, &secret).unwrap();
    let identity = identity();
    let kustomer_token = kustomer(&signer, &identity, IAT);
    let aha_token = aha(&signer, &identity, IAT, Some(JTI));
    let kustomer_input = common::signing_input(&kustomer_token).as_bytes().to_vec();
    let aha_input = common::signing_input(&aha_token).as_bytes().to_vec();
    let keyed = common::HmacSha256::new_from_slice(SECRET.as_bytes()).expect("any key length");
    let jwt_key = EncodingKey::from_secret(SECRET.as_bytes());
    let jwt_header = Header::new(Algorithm::HS256);
    let kustomer_claims = serde_json::json!({ "email": identity.email(), "iat": IAT });

    let mut group = c.benchmark_group("sign");
    group.throughput(Throughput::Elements(1));

    group.bench_function("floor_kustomer", |b| {
        b.iter(|| common::floor(black_box(SECRET.as_bytes()), black_box(&kustomer_input)));
    });
    group.bench_function("floor_prekeyed_kustomer", |b| {
        b.iter(|| common::floor_prekeyed(black_box(&keyed), black_box(&kustomer_input)));
    });
    group.bench_function("kustomer", |b| {
        b.iter(|| kustomer(&signer, black_box(&identity), black_box(IAT)));
    });
    group.bench_function("floor_aha", |b| {
        b.iter(|| common::floor(black_box(SECRET.as_bytes()), black_box(&aha_input)));
    });
    group.bench_function("floor_prekeyed_aha", |b| {
        b.iter(|| common::floor_prekeyed(black_box(&keyed), black_box(&aha_input)));
    });
    group.bench_function("aha", |b| {
        b.iter(|| aha(&signer, black_box(&identity), black_box(IAT), Some(JTI)));
    });
    group.bench_function("aha_fresh_jti", |b| {
        b.iter(|| aha(&signer, black_box(&identity), black_box(IAT), None));
    });
    // What signing cost through jsonwebtoken (a boxed signer keyed per call).
    group.bench_function("jsonwebtoken_crypto_sign_kustomer", |b| {
        b.iter(|| {
            jsonwebtoken::crypto::sign(black_box(&kustomer_input), &jwt_key, Algorithm::HS256)
                .expect("HS256 signs")
        });
    });
    group.bench_function("jsonwebtoken_encode_kustomer", |b| {
        b.iter(|| {
            jsonwebtoken::encode(&jwt_header, black_box(&kustomer_claims), &jwt_key)
                .expect("HS256 signs")
        });
    });
    group.finish();
}

fn main() {
    let started = SystemTime::now();
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    sign(&mut criterion);
    criterion.final_summary();
    common::report(
        "ratios (this run)",
        started,
        &[
            ("kustomer / floor", "sign/kustomer", "sign/floor_kustomer"),
            (
                "kustomer / prekeyed floor",
                "sign/kustomer",
                "sign/floor_prekeyed_kustomer",
            ),
            ("aha / floor", "sign/aha", "sign/floor_aha"),
            (
                "aha / prekeyed floor",
                "sign/aha",
                "sign/floor_prekeyed_aha",
            ),
            (
                "aha with fresh jti / floor",
                "sign/aha_fresh_jti",
                "sign/floor_aha",
            ),
            (
                "jsonwebtoken::encode / kustomer",
                "sign/jsonwebtoken_encode_kustomer",
                "sign/kustomer",
            ),
        ],
    );
}
