//! The shop: a serverless shopping cart on AWS Lambda and DynamoDB.
//!
//! `domain` holds the rules (no I/O); `store` and `queue` are the DynamoDB and
//! SQS adapters; `auth` verifies Cognito tokens; `http` and `api` serve the
//! endpoints; `workers` are the queue and stream consumers. Every Lambda
//! binary builds one [`App`] per container and runs one handler from here.

pub mod api;
pub mod auth;
pub mod config;
pub mod domain;
pub mod http;
pub mod model;
pub mod queue;
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
}

impl App {
    /// Reads the environment and the AWS SDK's default configuration
    /// (`AWS_ENDPOINT_URL` points it at the local emulator).
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let sdk = aws_config::load_from_env().await;
        Ok(Self::new(config, &sdk))
    }

    pub fn new(config: Config, sdk: &aws_config::SdkConfig) -> Self {
        let store = store::Store::new(
            aws_sdk_dynamodb::Client::new(sdk),
            config.table_name.clone(),
        );
        let cleanup_queue = config
            .cleanup_queue_url
            .as_ref()
            .map(|url| queue::CleanupQueue::new(aws_sdk_sqs::Client::new(sdk), url.clone()));
        let verifier = auth::TokenVerifier::new(config.cognito.clone());
        Self {
            config,
            store,
            cleanup_queue,
            verifier,
        }
    }
}

pub fn now_epoch_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The workers need only the table: `TABLE_NAME` and the SDK's defaults.
pub async fn store_from_env() -> Result<store::Store, ConfigError> {
    let table = std::env::var("TABLE_NAME").map_err(|_| ConfigError("TABLE_NAME"))?;
    let sdk = aws_config::load_from_env().await;
    Ok(store::Store::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        table,
    ))
}
