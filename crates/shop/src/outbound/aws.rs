//! The AWS clients every function builds once per container: the SDK's
//! configuration with an HTTPS client that trusts compiled-in roots, and the
//! DynamoDB client with the call counter.

use super::call_counter;

/// The SDK refused the trust store built from the compiled-in roots.
#[derive(Debug, thiserror::Error)]
#[error("the AWS clients' TLS trust store was refused")]
pub struct TlsSetupError;

/// The AWS SDK's configuration from the environment, as `aws_config`'s
/// defaults read it, with [`aws_https_client`] as its HTTP client.
pub async fn aws_sdk_config() -> Result<aws_config::SdkConfig, TlsSetupError> {
    let http = aws_https_client()?;
    Ok(aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http).load().await)
}

/// The SDK's default HTTPS client (hyper, rustls on aws-lc-rs), trusting
/// Mozilla's root certificates compiled into the binary (`webpki-root-certs`;
/// the token verifier's client trusts the same set, from `webpki-roots`)
/// instead of the system's, which the default reads from disk on every cold
/// start (the bundle and each file of the certificate directory): a large
/// share of the cold start (measured in docs/benchmarks.md, "Cold start"). The
/// trust store takes PEM, so the DER certificates are wrapped once per container.
pub fn aws_https_client() -> Result<aws_smithy_runtime_api::client::http::SharedHttpClient, TlsSetupError> {
    use aws_smithy_http_client::tls;
    let trust = tls::TrustStore::empty().with_native_roots(false).with_pem_certificate(trusted_roots_pem());
    // A context the SDK refuses fails the cold start, rather than quietly
    // trusting something else.
    let context = tls::TlsContext::builder().with_trust_store(trust).build().map_err(|_| TlsSetupError)?;
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
    let config = aws_sdk_dynamodb::config::Builder::from(sdk).interceptor(call_counter::CallCounter).build();
    aws_sdk_dynamodb::Client::from_conf(config)
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
}
