//! `[tls]`, HTTPS on `listen`, and the roots an `https://` upstream is verified with:
//! the PEM files read and turned into rustls configs, every problem naming its key.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use serde::Deserialize;

use super::ConfigFileError;
use super::secret_ref::SecretRef;

/// `[tls]`: the certificate chain and private key served on `listen`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TlsFile {
    cert: SecretRef,
    key: SecretRef,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The server side: TLS 1.2 and 1.3, HTTP/1.1 offered by ALPN.
pub(super) fn server_config(file: &TlsFile) -> Result<Arc<ServerConfig>, ConfigFileError> {
    let chain = certificates(&file.cert, "tls.cert")?;
    let key = file.key.read("tls.key")?;
    let key = PrivateKeyDer::from_pem_slice(key.expose()).map_err(|_| {
        ConfigFileError::new(
            "tls.key",
            "holds no PEM private key (PKCS#8, PKCS#1 or SEC1)",
        )
    })?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|err| ConfigFileError::new("tls", err.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|err| {
            ConfigFileError::new("tls.key", format!("cannot be used with tls.cert: {err}"))
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The client side for the app over `https://` (the upstream, or the introspection URL,
/// named by `key`): the certificates of `ca` when given, else the system's roots.
pub(super) fn upstream_config(
    ca: Option<&SecretRef>,
    key: &str,
) -> Result<Arc<ClientConfig>, ConfigFileError> {
    let mut roots = RootCertStore::empty();
    if let Some(ca) = ca {
        for cert in certificates(ca, "upstream_ca")? {
            roots.add(cert).map_err(|err| {
                ConfigFileError::new(
                    "upstream_ca",
                    format!("holds an unusable certificate: {err}"),
                )
            })?;
        }
    } else {
        let native = rustls_native_certs::load_native_certs();
        let (added, _) = roots.add_parsable_certificates(native.certs);
        if added == 0 {
            return Err(ConfigFileError::new(
                key,
                "is https:// but the system has no CA certificates: install them or set upstream_ca",
            ));
        }
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|err| ConfigFileError::new(key, err.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Every PEM certificate `source` holds, at least one.
fn certificates(
    source: &SecretRef,
    key: &str,
) -> Result<Vec<CertificateDer<'static>>, ConfigFileError> {
    let pem = source.read(key)?;
    let chain = CertificateDer::pem_slice_iter(pem.expose())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ConfigFileError::new(key, "is not a PEM certificate file"))?;
    if chain.is_empty() {
        return Err(ConfigFileError::new(key, "holds no PEM certificate"));
    }
    Ok(chain)
}
