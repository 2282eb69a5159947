//! The shop: a serverless shopping cart on AWS Lambda and DynamoDB.
//!
//! `domain` holds the rules (no I/O); `store` and `queue` are the DynamoDB and
//! SQS adapters; `auth` verifies Cognito tokens; `http` and `api` serve the
//! endpoints; `workers` are the queue and stream consumers. Every Lambda
//! binary builds one [`App`] per container and runs one handler from here.

pub mod api;
pub mod auth;
pub mod aws_calls;
pub mod config;
pub mod cursor;
pub mod domain;
pub mod http;
pub mod model;
pub mod orders;
pub mod payments;
pub mod queue;
pub mod reconcile;
pub mod store;
pub mod telemetry;
pub mod workers;

use std::time::{SystemTime, UNIX_EPOCH};

pub use api::Endpoint;
pub use config::{Config, ConfigError};

/// What every function needs, built once per container.
pub struct App {
    pub config: Config,
    pub store: store::Store,
    pub cleanup_queue: Option<queue::CleanupQueue>,
    pub verifier: auth::TokenVerifier,
    pub payments: payments::SandboxPayments,
}

impl App {
    /// Reads the environment and the AWS SDK's default configuration
    /// (`AWS_ENDPOINT_URL` points it at the local emulator).
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let sdk = aws_sdk_config().await?;
        Ok(Self::new(config, &sdk))
    }

    pub fn new(config: Config, sdk: &aws_config::SdkConfig) -> Self {
        let store = store::Store::new(dynamodb_client(sdk), config.table_name.clone());
        let cleanup_queue = config.cleanup_queue_url.as_ref().map(|url| {
            let sqs = aws_sdk_sqs::config::Builder::from(sdk).interceptor(aws_calls::CallCounter).build();
            queue::CleanupQueue::new(aws_sdk_sqs::Client::from_conf(sqs), url.clone())
        });
        let verifier = auth::TokenVerifier::new(config.cognito.clone());
        let payments = payments::SandboxPayments::new(store.clone());
        Self { config, store, cleanup_queue, verifier, payments }
    }
}

/// The AWS SDK's configuration from the environment, as `aws_config`'s
/// defaults read it, with [`aws_https_client`] as its HTTP client.
pub async fn aws_sdk_config() -> Result<aws_config::SdkConfig, ConfigError> {
    let http = aws_https_client()?;
    Ok(aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http).load().await)
}

/// The SDK's default HTTPS client (hyper, rustls on aws-lc-rs), trusting
/// Mozilla's root certificates compiled into the binary (`webpki-root-certs`;
/// the token verifier's client trusts the same set, from `webpki-roots`)
/// instead of the system's, which the default reads from disk on every cold
/// start (the bundle and each file of the certificate directory): about 2 ms
/// of a 7-8 ms cold start here (docs/benchmarks.md, "Cold start"). The trust store takes
/// PEM, so the DER certificates are wrapped once per container, well under a
/// millisecond.
pub fn aws_https_client() -> Result<aws_smithy_runtime_api::client::http::SharedHttpClient, ConfigError> {
    use aws_smithy_http_client::tls;
    let trust = tls::TrustStore::empty().with_native_roots(false).with_pem_certificate(trusted_roots_pem());
    // A context the SDK refuses fails the cold start, rather than quietly
    // trusting something else.
    let context =
        tls::TlsContext::builder().with_trust_store(trust).build().map_err(|_| ConfigError("TLS trust store"))?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
        .tls_context(context)
        .build_https())
}

/// `webpki-root-certs`' certificates as one PEM bundle.
fn trusted_roots_pem() -> Vec<u8> {
    use base64::Engine;
    let mut pem = Vec::with_capacity(webpki_root_certs::TLS_SERVER_ROOT_CERTS.len() * 2_200);
    for certificate in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        let encoded = base64::engine::general_purpose::STANDARD.encode(certificate.as_ref());
        pem.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
        for line in encoded.as_bytes().chunks(64) {
            pem.extend_from_slice(line);
            pem.push(b'\n');
        }
        pem.extend_from_slice(b"-----END CERTIFICATE-----\n");
    }
    pem
}

/// The DynamoDB client every function uses, with the call counter.
pub fn dynamodb_client(sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk).interceptor(aws_calls::CallCounter).build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

pub fn now_epoch_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// The workers need only the table: `TABLE_NAME` and the SDK's defaults.
pub async fn store_from_env() -> Result<store::Store, ConfigError> {
    let table = std::env::var("TABLE_NAME").map_err(|_| ConfigError("TABLE_NAME"))?;
    let sdk = aws_sdk_config().await?;
    Ok(store::Store::new(dynamodb_client(&sdk), table))
}

/// RFC 3339 UTC timestamp of an epoch second, without a date crate.
pub fn rfc3339(epoch_secs: i64) -> String {
    let (y, m, d) = civil_from_days(epoch_secs.div_euclid(86_400));
    let rem = epoch_secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    /// The SDK's client reads the bundle as this does, and panics on a
    /// certificate it cannot take as a root (`expect("cert parsable")`): every
    /// one must parse, and the roots of AWS's endpoints must be among them.
    #[test]
    fn the_compiled_in_roots_are_every_webpki_root_and_include_amazons() {
        use rustls::pki_types::pem::PemObject;
        let certificates = rustls::pki_types::CertificateDer::pem_slice_iter(&super::trusted_roots_pem())
            .collect::<Result<Vec<_>, _>>()
            .expect("valid PEM");
        assert_eq!(certificates.len(), webpki_root_certs::TLS_SERVER_ROOT_CERTS.len());
        let mut roots = rustls::RootCertStore::empty();
        for certificate in certificates {
            roots.add(certificate).expect("a usable root");
        }
        // DynamoDB, SQS and Cognito present chains to Amazon Trust Services' roots.
        let subject_names = |name: &str| {
            roots.roots.iter().any(|anchor| anchor.subject.as_ref().windows(name.len()).any(|w| w == name.as_bytes()))
        };
        for name in ["Amazon Root CA 1", "Amazon Root CA 3", "Starfield Services Root Certificate Authority - G2"] {
            assert!(subject_names(name), "{name}");
        }
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(1_795_262_461), "2026-11-21T12:01:01Z");
    }
}
