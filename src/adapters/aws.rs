//! The AWS configuration and SDK clients, built on first use rather than at start.
//!
//! Most of a cold start's own work used to be TLS set-up: reading and parsing the system's
//! store of root certificates (about 300 certificates on Debian, 80 % of the instructions
//! before the first answer; see BENCHMARKS.md). So the trust store is by default Mozilla's
//! roots compiled in, already parsed (`tls.rs`); the configuration is loaded when the first
//! invocation that needs AWS asks for a client, and each client is built only if used: a status
//! query never builds the EKS, Lambda or EventBridge clients, and a malformed event is refused
//! without any of it. `TLS_TRUST_ROOTS=system` reads the platform's store instead (for a
//! TLS-inspecting proxy whose CA is installed there), `amazon` trusts only the five roots of
//! Amazon Trust Services.

use crate::config::ConfigError;
use aws_config::timeout::TimeoutConfig;
use aws_config::SdkConfig;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// The roots that sign AWS's public service endpoints, for `TLS_TRUST_ROOTS=amazon`.
const AMAZON_TRUST_SERVICES_ROOTS: &[u8] = include_bytes!("amazon-trust-services.pem");

/// Which root certificates the function trusts for its HTTPS calls (`TLS_TRUST_ROOTS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustRoots {
    /// `mozilla` (the default): the public CAs of Mozilla's root program, compiled in
    /// (`webpki-roots`): the CAs a system store trusts, with no file to read or parse.
    Mozilla,
    /// `system`: the platform's store, as the AWS SDK does by default; for a TLS-inspecting
    /// proxy or a private CA installed there.
    System,
    /// `amazon`: only the roots of Amazon Trust Services, which AWS's public endpoints for EKS,
    /// DynamoDB, Lambda and EventBridge chain to. Faster to set up, and a narrower trust; do not
    /// use it behind a TLS-inspecting proxy or with endpoints that present another CA.
    AmazonTrustServices,
}

impl TrustRoots {
    pub const VARIABLE: &'static str = "TLS_TRUST_ROOTS";

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::parse(std::env::var(Self::VARIABLE).ok().as_deref())
    }

    pub fn parse(value: Option<&str>) -> Result<Self, ConfigError> {
        match value.map(str::trim) {
            None | Some("") | Some("mozilla") => Ok(Self::Mozilla),
            Some("system") => Ok(Self::System),
            Some("amazon") => Ok(Self::AmazonTrustServices),
            Some(other) => Err(ConfigError(format!(
                "{} is {other:?}: expected \"mozilla\" (the public CAs, compiled in; the default), \"system\" \
                 (the platform's root certificates) or \"amazon\" (only Amazon Trust Services' roots)",
                Self::VARIABLE
            ))),
        }
    }
}

/// `aws_config::load_from_env`, run once, on first use, by whichever client needs it first.
#[derive(Clone)]
pub struct AwsConfig {
    roots: TrustRoots,
    /// The longest one call may take, retries included (`OPERATION_TIMEOUT_SECONDS`); none:
    /// the SDK's default (no limit).
    operation_timeout: Option<Duration>,
    loaded: Arc<OnceCell<SdkConfig>>,
}

impl AwsConfig {
    pub fn new(roots: TrustRoots) -> Self {
        Self {
            roots,
            operation_timeout: None,
            loaded: Arc::new(OnceCell::new()),
        }
    }

    /// A configuration already loaded (tests, tools): what [`AwsConfig::get`] answers.
    pub fn ready(config: SdkConfig) -> Self {
        Self {
            roots: TrustRoots::Mozilla,
            operation_timeout: None,
            loaded: Arc::new(OnceCell::new_with(Some(config))),
        }
    }

    /// Every call ends within `secs`, its retries included, so no call hangs past the
    /// invocation's safety margin; each attempt within a third of it, and a connection within a
    /// tenth (at least a second).
    pub fn with_operation_timeout(mut self, secs: i64) -> Self {
        self.operation_timeout = Some(Duration::from_secs(secs.max(1) as u64));
        self
    }

    fn timeouts(&self) -> Option<TimeoutConfig> {
        let total = self.operation_timeout?;
        Some(
            TimeoutConfig::builder()
                .operation_timeout(total)
                .operation_attempt_timeout(total / 3)
                .connect_timeout((total / 10).max(Duration::from_secs(1)))
                .build(),
        )
    }

    pub async fn get(&self) -> &SdkConfig {
        // Boxed: loading is a large future, and every adapter call's future would hold it.
        let load = self.loaded.get_or_init(|| async {
            let mut loader = aws_config::from_env();
            if let Some(timeouts) = self.timeouts() {
                loader = loader.timeout_config(timeouts);
            }
            match self.roots {
                TrustRoots::Mozilla => {
                    let connect = self.timeouts().and_then(|t| t.connect_timeout());
                    loader
                        .http_client(super::tls::compiled_roots_http_client(connect))
                        .load()
                        .await
                }
                TrustRoots::System => loader.load().await,
                TrustRoots::AmazonTrustServices => loader.http_client(amazon_roots_http_client()).load().await,
            }
        });
        Box::pin(load).await
    }

    /// A client built from this configuration the first time it is asked for.
    pub fn lazy<C>(&self, build: BuildClient<C>) -> LazyClient<C> {
        LazyClient {
            client: OnceCell::new(),
            source: Some((self.clone(), build)),
        }
    }
}

fn amazon_roots_http_client() -> aws_sdk_eks::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
    let trust = TrustStore::empty().with_pem_certificate(AMAZON_TRUST_SERVICES_ROOTS);
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("a TLS context of PEM roots always builds");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https()
}

/// An SDK client that is either given (tests, tools) or built from an [`AwsConfig`] on first use.
#[derive(Clone)]
pub struct LazyClient<C> {
    client: OnceCell<C>,
    source: Option<(AwsConfig, BuildClient<C>)>,
}

/// How a client is made from the configuration: `aws_sdk_eks::Client::new` and the like.
pub type BuildClient<C> = fn(&SdkConfig) -> C;

impl<C> LazyClient<C> {
    pub fn ready(client: C) -> Self {
        Self {
            client: OnceCell::new_with(Some(client)),
            source: None,
        }
    }

    pub async fn get(&self) -> &C {
        self.client
            .get_or_init(|| async {
                let (aws, build) = self.source.as_ref().expect("a client that is not ready has a source");
                build(Box::pin(aws.get()).await)
            })
            .await
    }
}

impl<C> std::fmt::Debug for LazyClient<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.client.initialized() {
            "built"
        } else {
            "not built yet"
        };
        f.debug_struct("LazyClient").field("client", &state).finish()
    }
}

impl<C> From<C> for LazyClient<C> {
    fn from(client: C) -> Self {
        Self::ready(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_roots_are_named_in_errors() {
        assert_eq!(TrustRoots::parse(None).unwrap(), TrustRoots::Mozilla);
        assert_eq!(TrustRoots::parse(Some("mozilla")).unwrap(), TrustRoots::Mozilla);
        assert_eq!(TrustRoots::parse(Some("system")).unwrap(), TrustRoots::System);
        assert_eq!(
            TrustRoots::parse(Some(" amazon ")).unwrap(),
            TrustRoots::AmazonTrustServices
        );
        let err = TrustRoots::parse(Some("everything")).unwrap_err();
        assert!(
            err.0.contains("TLS_TRUST_ROOTS") && err.0.contains("\"everything\""),
            "{err}"
        );
    }

    #[tokio::test]
    async fn nothing_is_loaded_or_built_until_a_client_is_asked_for() {
        let aws = AwsConfig::new(TrustRoots::Mozilla);
        let eks = aws.lazy(aws_sdk_eks::Client::new);
        let dynamodb = aws.lazy(aws_sdk_dynamodb::Client::new);
        assert!(!aws.loaded.initialized() && !eks.client.initialized());
        let _ = dynamodb.get().await;
        assert!(aws.loaded.initialized() && dynamodb.client.initialized());
        assert!(!eks.client.initialized(), "only the client asked for is built");
        let _ = eks.get().await;
        assert!(eks.client.initialized());
    }

    #[test]
    fn the_bundled_roots_are_the_five_of_amazon_trust_services() {
        let pem = std::str::from_utf8(AMAZON_TRUST_SERVICES_ROOTS).unwrap();
        assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 5);
        for subject in [
            "CN = Amazon Root CA 1",
            "CN = Amazon Root CA 2",
            "CN = Amazon Root CA 3",
            "CN = Amazon Root CA 4",
            "CN = Starfield Services Root Certificate Authority - G2",
        ] {
            assert!(pem.contains(subject), "{subject} is missing");
        }
    }
}
