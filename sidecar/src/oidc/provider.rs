//! One OpenID provider at run time: its discovery document and key set, fetched in the
//! background with retries and backoff until they arrive, and the key set fetched again
//! (at most once a minute) when a token names a key it does not hold.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType,
    CoreSubjectIdentifierType,
};
use openidconnect::{
    AuthType, ClientId, ClientSecret, EmptyAdditionalProviderMetadata, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, JsonWebKey as _, LogoutProviderMetadata,
    ProviderMetadata, RedirectUrl,
};
use tokio::sync::{Notify, watch};
use url::Url;

use super::events::{self, Event};
use super::http::{IdpClient, IdpError};
use super::settings::ProviderSettings;
use crate::metrics::Metrics;

/// The discovery document as read, with the end-session endpoint.
pub(crate) type Metadata = ProviderMetadata<
    LogoutProviderMetadata<EmptyAdditionalProviderMetadata>,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The relying-party client made from the discovery document.
pub(crate) type OidcClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The signature algorithms an ID token may use: asymmetric ones only, so never `none`
/// and never an HMAC, whose key (the client secret) the IdP's users' browsers never see
/// but which a public key in the key set could be mistaken for.
const ASYMMETRIC: [CoreJwsSigningAlgorithm; 10] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EcdsaP521Sha512,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// The shortest time between two key-set fetches for an unknown `kid`.
const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// The first wait before discovery is tried again; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long a sign-in waits for a discovery attempt it asked for.
const SIGN_IN_WAIT: Duration = Duration::from_secs(5);

/// What a provider's discovery gave: the client, ready to use.
pub(crate) struct Discovered {
    pub(crate) metadata: Metadata,
    pub(crate) client: OidcClient,
    /// The algorithms accepted for ID tokens: those the IdP advertises, asymmetric only.
    pub(crate) algorithms: Vec<CoreJwsSigningAlgorithm>,
}

impl Discovered {
    fn new(metadata: Metadata, settings: &ProviderSettings) -> Result<Self, String> {
        let algorithms: Vec<CoreJwsSigningAlgorithm> = metadata
            .id_token_signing_alg_values_supported()
            .iter()
            .filter(|alg| ASYMMETRIC.contains(alg))
            .cloned()
            .collect();
        if algorithms.is_empty() {
            return Err(
                "the IdP signs ID tokens with no asymmetric algorithm (RS256, ES256, ...)"
                    .to_owned(),
            );
        }
        // client_secret_basic unless the IdP says it only takes the secret in the form.
        let auth_type = match metadata.token_endpoint_auth_methods_supported() {
            Some(methods)
                if !methods.contains(&CoreClientAuthMethod::ClientSecretBasic)
                    && methods.contains(&CoreClientAuthMethod::ClientSecretPost) =>
            {
                AuthType::RequestBody
            }
            _ => AuthType::BasicAuth,
        };
        let secret = String::from_utf8_lossy(settings.client_secret.expose()).into_owned();
        let client = CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(settings.client_id.clone()),
            Some(ClientSecret::new(secret)),
        )
        .set_auth_type(auth_type)
        .set_redirect_uri(RedirectUrl::from_url(settings.redirect_uri.clone()));
        Ok(Self {
            metadata,
            client,
            algorithms,
        })
    }

    /// The end-session endpoint, when the IdP advertises one.
    pub(crate) fn end_session_endpoint(&self) -> Option<&Url> {
        self.metadata
            .additional_metadata()
            .end_session_endpoint
            .as_ref()
            .map(openidconnect::EndSessionUrl::url)
    }

    /// The key ids and algorithms of the key set, for `check-config --online`.
    pub(crate) fn keys(&self) -> Vec<String> {
        self.metadata
            .jwks()
            .keys()
            .iter()
            .map(|key| {
                let kid = key.key_id().map_or("(no kid)", |kid| kid.as_str());
                let alg = match key.signing_alg() {
                    openidconnect::JsonWebKeyAlgorithm::Algorithm(alg) => algorithm_name(alg),
                    _ => format!("{:?} key, any algorithm", key.key_type()),
                };
                format!("{kid} ({alg})")
            })
            .collect()
    }
}

/// Where discovery stands.
#[derive(Clone)]
pub(crate) enum Status {
    /// Not discovered yet: how many attempts failed, and why the last one did.
    Pending {
        attempts: u32,
        error: Option<String>,
    },
    Ready(Arc<Discovered>),
}

/// One provider: its settings, its discovery, its client.
pub(crate) struct Provider {
    pub(crate) settings: ProviderSettings,
    pub(crate) http: IdpClient,
    status: watch::Sender<Status>,
    /// Wakes the discovery loop for an attempt now (a sign-in is waiting).
    kick: Notify,
    /// When the key set was last fetched again for an unknown `kid`.
    refetched: Mutex<Option<Instant>>,
    metrics: Option<Arc<Metrics>>,
}

impl Provider {
    pub(crate) fn new(settings: ProviderSettings, metrics: Option<Arc<Metrics>>) -> Arc<Self> {
        let http = IdpClient::new(settings.tls.as_deref());
        Arc::new(Self {
            settings,
            http,
            status: watch::Sender::new(Status::Pending {
                attempts: 0,
                error: None,
            }),
            kick: Notify::new(),
            refetched: Mutex::new(None),
            metrics,
        })
    }

    /// Starts discovery in the background on the current runtime; it stops once done or
    /// once the provider is dropped (a reload made another).
    pub(crate) fn start(self: &Arc<Self>) {
        tokio::spawn(discover_until_done(Arc::downgrade(self)));
    }

    /// Why sign-ins cannot start yet, or `None` once discovered.
    pub(crate) fn not_ready(&self) -> Option<String> {
        match &*self.status.borrow() {
            Status::Ready(_) => None,
            Status::Pending { error, .. } => Some(format!(
                "identity provider {} ({}) not reached yet: {}",
                self.settings.name,
                self.settings.issuer,
                error.as_deref().unwrap_or("discovery in progress")
            )),
        }
    }

    /// The discovered client; when discovery has not succeeded yet, asks for an attempt
    /// now and waits for it (a few seconds at most). The error says why.
    pub(crate) async fn ready(&self) -> Result<Arc<Discovered>, String> {
        let mut status = self.status.subscribe();
        let seen = match &*status.borrow_and_update() {
            Status::Ready(discovered) => return Ok(Arc::clone(discovered)),
            Status::Pending { attempts, .. } => *attempts,
        };
        self.kick.notify_one();
        let answered = status.wait_for(|now| match now {
            Status::Ready(_) => true,
            Status::Pending { attempts, .. } => *attempts > seen,
        });
        let answer = match tokio::time::timeout(SIGN_IN_WAIT, answered).await {
            Ok(Ok(now)) => now.clone(),
            _ => self.status.borrow().clone(),
        };
        match answer {
            Status::Ready(discovered) => Ok(discovered),
            Status::Pending { error, .. } => {
                Err(error.unwrap_or_else(|| "the discovery document has not arrived".to_owned()))
            }
        }
    }

    /// One discovery: the document, then the key set it names.
    pub(crate) async fn discover(&self) -> Result<Discovered, String> {
        let issuer = IssuerUrl::new(self.settings.issuer.clone()).map_err(|err| err.to_string())?;
        let http = self.http.caller();
        let metadata = Metadata::discover_async(issuer, &http)
            .await
            .map_err(|err| describe_discovery_error(&err))?;
        Discovered::new(metadata, &self.settings)
    }

    /// Fetches the key set again for a token naming a key it does not hold, unless that
    /// was done less than a minute ago; `Some` with the new client when fetched.
    pub(crate) async fn refetch_keys(&self, current: &Discovered) -> Option<Arc<Discovered>> {
        {
            let mut last = self
                .refetched
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.is_some_and(|at| at.elapsed() < JWKS_REFETCH_INTERVAL) {
                return None;
            }
            *last = Some(Instant::now());
        }
        let http = self.http.caller();
        let keys = CoreJsonWebKeySet::fetch_async(current.metadata.jwks_uri(), &http).await;
        let keys = match keys {
            Ok(keys) => keys,
            Err(err) => {
                self.record(
                    Event::KeysRefetchFailed,
                    Some(&describe_discovery_error(&err)),
                );
                return None;
            }
        };
        let metadata = current.metadata.clone().set_jwks(keys);
        let discovered = Arc::new(Discovered::new(metadata, &self.settings).ok()?);
        self.status
            .send_replace(Status::Ready(Arc::clone(&discovered)));
        self.record(Event::KeysRefetched, None);
        Some(discovered)
    }

    fn record(&self, event: Event, detail: Option<&str>) {
        events::record(self.metrics.as_deref(), event, &self.settings.name, detail);
    }
}

/// Tries discovery until it succeeds, waiting 1 s, 2 s, 4 s ... 30 s between attempts,
/// or less when a sign-in asks (at most one attempt a second).
async fn discover_until_done(provider: Weak<Provider>) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let Some(this) = provider.upgrade() else {
            return;
        };
        let started = Instant::now();
        match this.discover().await {
            Ok(discovered) => {
                this.status
                    .send_replace(Status::Ready(Arc::new(discovered)));
                this.record(Event::Discovered, None);
                return;
            }
            Err(error) => {
                this.record(Event::DiscoveryFailed, Some(&error));
                this.status.send_modify(|status| {
                    if let Status::Pending {
                        attempts,
                        error: last,
                    } = status
                    {
                        *attempts += 1;
                        *last = Some(error);
                    }
                });
            }
        }
        let wait = tokio::time::sleep(backoff);
        tokio::select! {
            () = wait => {}
            () = this.kick.notified() => {
                let since = started.elapsed();
                if let Some(rest) = FIRST_BACKOFF.checked_sub(since) {
                    tokio::time::sleep(rest).await;
                }
            }
        }
        drop(this);
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// An algorithm's JOSE name (`RS256`).
pub(crate) fn algorithm_name(alg: &CoreJwsSigningAlgorithm) -> String {
    serde_json::to_value(alg)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{alg:?}"))
}

/// A discovery failure in one line, without the library's nesting.
fn describe_discovery_error(err: &openidconnect::DiscoveryError<IdpError>) -> String {
    use openidconnect::DiscoveryError;
    match err {
        DiscoveryError::Request(err) => format!("the request failed: {err}"),
        DiscoveryError::Response(status, _, _) => {
            format!("it answered HTTP {}", status.as_u16())
        }
        DiscoveryError::Parse(err) => format!("its answer is not a valid document: {err}"),
        DiscoveryError::Validation(err) => format!("its document does not check out: {err}"),
        DiscoveryError::UrlParse(err) => format!("a URL is not usable: {err}"),
        other => other.to_string(),
    }
}
