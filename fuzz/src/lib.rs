//! What the fuzz targets share: the real `App` over an AWS that answers every
//! call at once with an empty success (no item, no page, write accepted), so a
//! request runs through parsing, validation and the handler's logic without a
//! network, and a token check finds no keys. Any panic, and any 500 (our
//! fault on a healthy, empty table), is a finding.

use std::sync::OnceLock;

use aws_smithy_http_client::test_util::infallible_client_fn;
use shop::app::config::Config;
use shop::outbound::cognito::tokens::CognitoConfig;
use shop::app::App;

pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime"))
}

pub fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let http =
            infallible_client_fn(|_request| http::Response::builder().status(200).body("{}").expect("canned response"));
        let sdk = runtime().block_on(
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region("us-east-1")
                .endpoint_url("http://127.0.0.1:9")
                .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("fuzz", "fuzz", None, None, "fuzz"))
                .http_client(http)
                .load(),
        );
        let config = Config {
            table_name: "fuzz".into(),
            cleanup_queue_url: Some("http://127.0.0.1:9/000000000000/cleanup".into()),
            cognito: CognitoConfig {
                issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_fuzz".into(),
                // Nothing listens here: every token's keys are unavailable at once.
                jwks_url: "http://127.0.0.1:9/jwks.json".into(),
                client_id: "fuzz-client".into(),
            },
            allowed_origin: "http://localhost:8080".into(),
            holds: shop::domain::HoldPolicy::default(),
            admin_mfa_required: false,
            index_partitions: shop::outbound::dynamodb::IndexPartitions::DEFAULT,
            payments: shop::app::config::PaymentConfig::Sandbox,
        };
        App::new(config, &sdk)
    })
}

/// Serves `request` with `endpoint` and checks the answer is ours: never a
/// 500, always JSON with a `message` when refused.
pub fn serve_and_check(endpoint: shop::inbound::http::Endpoint, request: lambda_http::Request) {
    let response = runtime().block_on(endpoint.serve(app(), request)).expect("infallible");
    let status = response.status().as_u16();
    assert_ne!(status, 500, "{endpoint:?} answered 500");
    if status >= 400 {
        let body = match response.body() {
            lambda_http::Body::Text(text) => text.as_bytes().to_vec(),
            lambda_http::Body::Binary(bytes) => bytes.clone(),
            _ => Vec::new(),
        };
        let json: serde_json::Value = serde_json::from_slice(&body).expect("a refusal is JSON");
        assert!(json["message"].is_string(), "{endpoint:?}: refusal without a message: {json}");
    }
}
