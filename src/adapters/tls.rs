//! The HTTPS client of `TLS_TRUST_ROOTS=mozilla` (the default): the root certificates of
//! Mozilla's root program, compiled into the binary already parsed (`webpki-roots`), so a cold
//! start reads and parses no certificate file. The AWS SDK's own client takes roots only as PEM
//! (parsed at start), so this is a small client of its own: hyper-util's pooled client over
//! hyper-rustls, with the same TLS provider (aws-lc-rs) and HTTP/1.1.

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::body::SdkBody;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use std::time::Duration;

/// The TLS configuration: Mozilla's roots as compiled in, aws-lc-rs, TLS 1.2 and 1.3.
pub fn client_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("aws-lc-rs supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// An SDK HTTP client trusting the compiled-in roots; connections time out after `connect`.
pub fn compiled_roots_http_client(connect: Option<Duration>) -> SharedHttpClient {
    let mut tcp = TcpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(connect);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(client_config())
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    SharedHttpClient::new(CompiledRootsClient {
        client: Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(https),
    })
}

#[derive(Clone, Debug)]
struct CompiledRootsClient {
    client: Client<HttpsConnector<TcpConnector>, SdkBody>,
}

impl HttpClient for CompiledRootsClient {
    fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for CompiledRootsClient {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(e) => return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into()))),
        };
        let sent = self.client.request(request);
        HttpConnectorFuture::new(async move {
            match sent.await {
                Ok(response) => Response::try_from(response.map(SdkBody::from_body_1_x))
                    .map_err(|e| ConnectorError::other(e.into(), None)),
                // A connection that failed or broke is worth a retry, as the SDK's own client
                // classifies it; anything else is not.
                Err(e) if e.is_connect() || std::error::Error::source(&e).is_some() => {
                    Err(ConnectorError::io(e.into()))
                }
                Err(e) => Err(ConnectorError::other(e.into(), None)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_compiled_in_roots_are_the_public_cas_aws_endpoints_chain_to() {
        let roots = webpki_roots::TLS_SERVER_ROOTS;
        assert!(roots.len() > 100, "{} roots", roots.len());
        // Amazon Root CA 1's subject, DER: C=US, O=Amazon, CN=Amazon Root CA 1.
        let amazon = roots.iter().any(|r| {
            let subject: &[u8] = r.subject.as_ref();
            subject.windows(16).any(|w| w == b"Amazon Root CA 1")
        });
        assert!(amazon, "Amazon Root CA 1 is trusted");
        let _ = super::client_config();
    }
}
