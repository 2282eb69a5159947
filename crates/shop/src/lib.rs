//! The shop: a serverless shopping cart on AWS Lambda and DynamoDB.
//!
//! Layers, each depending only on the ones before it:
//! - `domain`: the rules and types, no I/O, no storage formats;
//! - `use_cases`: the operations (checkout, payment, cart changes and
//!   merge), taking their ports (`use_cases::ports`) and answering domain
//!   values or their own error;
//! - adapters: `store` (DynamoDB: key formats, items, the ports' store),
//!   `queue` (SQS), `payments` (the sandbox provider), `auth` (Cognito
//!   tokens), `authenticator` (whether an admin has TOTP, from Cognito);
//! - entry points: `http` and `api` (parse, call a use case, answer; errors
//!   mapped in `http`), `workers` (queue, stream and schedule).
//!
//! Every Lambda binary builds one [`App`] per container (`aws` makes its
//! clients, `clock` tells the time) and runs one handler from here.

pub mod api;
pub mod auth;
pub mod authenticator;
pub mod aws;
pub mod aws_calls;
pub mod clock;
pub mod config;
pub mod cursor;
pub mod domain;
pub mod http;
pub mod payments;
pub mod queue;
pub mod reconcile;
pub mod store;
pub mod telemetry;
pub mod use_cases;
pub mod workers;

pub use api::Endpoint;
pub use aws::{aws_sdk_config, store_from_env};
pub use clock::{now_epoch_secs, rfc3339};
pub use config::{Config, ConfigError};

/// What every function needs, built once per container.
pub struct App {
    pub config: Config,
    pub store: store::Store,
    pub cleanup_queue: Option<queue::CleanupQueue>,
    pub verifier: auth::TokenVerifier,
    /// Whether an admin has an authenticator app (Cognito, asked only for admins).
    pub authenticators: authenticator::AuthenticatorCheck,
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
        let store = store::Store::new(aws::dynamodb_client(sdk), config.table_name.clone(), config.index_partitions);
        let cleanup_queue = config.cleanup_queue_url.as_ref().map(|url| {
            let sqs = aws_sdk_sqs::config::Builder::from(sdk).interceptor(aws_calls::CallCounter).build();
            queue::CleanupQueue::new(aws_sdk_sqs::Client::from_conf(sqs), url.clone())
        });
        let verifier = auth::TokenVerifier::new(config.cognito.clone());
        let cognito =
            aws_sdk_cognitoidentityprovider::config::Builder::from(sdk).interceptor(aws_calls::CallCounter).build();
        let authenticators = authenticator::AuthenticatorCheck::new(
            aws_sdk_cognitoidentityprovider::Client::from_conf(cognito),
            config.cognito.user_pool_id().to_owned(),
        );
        let payments = payments::SandboxPayments::new(store.clone());
        Self { config, store, cleanup_queue, verifier, authenticators, payments }
    }
}
