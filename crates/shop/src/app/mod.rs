//! The composition root: what every function needs, built once per
//! container from its settings. The one place that chooses the adapters
//! behind the use cases' ports (the store, the queue, Cognito, the payment
//! provider); endpoints and workers alike run on an [`App`].

pub mod config;

use crate::outbound::payments::stripe::{KeysSource, StripePayments};
use crate::outbound::payments::{sandbox::SandboxPayments, Payments};
use crate::outbound::{aws, call_counter, cognito, dynamodb, sqs};
use crate::use_cases::payment::Orders;
use crate::use_cases::ports::PaymentError;
use crate::use_cases::SystemClock;
use config::{Config, ConfigError, PaymentConfig};

pub struct App {
    pub config: Config,
    pub store: dynamodb::Store,
    pub cleanup_queue: Option<sqs::CleanupQueue>,
    pub verifier: cognito::tokens::TokenVerifier,
    /// Whether an admin has an authenticator app (Cognito, asked only for admins).
    pub authenticators: cognito::authenticators::AuthenticatorCheck,
    pub payments: Payments,
}

impl App {
    /// Reads the environment and the AWS SDK's default configuration
    /// (`AWS_ENDPOINT_URL` points it at the local emulator).
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let sdk = aws::aws_sdk_config().await.map_err(|_| ConfigError("TLS trust store"))?;
        Ok(Self::new(config, &sdk))
    }

    pub fn new(config: Config, sdk: &aws_config::SdkConfig) -> Self {
        let store = dynamodb::Store::new(aws::dynamodb_client(sdk), config.table_name.clone(), config.index_partitions);
        let cleanup_queue = config.cleanup_queue_url.as_ref().map(|url| {
            let sqs = aws_sdk_sqs::config::Builder::from(sdk).interceptor(call_counter::CallCounter).build();
            sqs::CleanupQueue::new(aws_sdk_sqs::Client::from_conf(sqs), url.clone())
        });
        let verifier = cognito::tokens::TokenVerifier::new(config.cognito.clone());
        let cognito_client =
            aws_sdk_cognitoidentityprovider::config::Builder::from(sdk).interceptor(call_counter::CallCounter).build();
        let authenticators = cognito::authenticators::AuthenticatorCheck::new(
            aws_sdk_cognitoidentityprovider::Client::from_conf(cognito_client),
            config.cognito.user_pool_id().to_owned(),
        );
        // The one place the payment provider is chosen.
        let payments = match &config.payments {
            PaymentConfig::Sandbox => Payments::Sandbox(SandboxPayments::new(store.clone())),
            PaymentConfig::Stripe(stripe) => {
                let secrets = matches!(stripe.keys, KeysSource::SecretsManager { .. }).then(|| {
                    let config = aws_sdk_secretsmanager::config::Builder::from(sdk)
                        .interceptor(call_counter::CallCounter)
                        .build();
                    aws_sdk_secretsmanager::Client::from_conf(config)
                });
                Payments::Stripe(StripePayments::new(stripe, store.clone(), secrets))
            }
        };
        Self { config, store, cleanup_queue, verifier, authenticators, payments }
    }

    /// The Stripe webhook's signing secret, when the shop pays with Stripe
    /// (read with its keys, once per container).
    pub async fn stripe_webhook_secret(&self) -> Result<Option<String>, PaymentError> {
        match &self.payments {
            Payments::Stripe(stripe) => stripe.webhook_secret().await,
            Payments::Sandbox(_) => Ok(None),
        }
    }

    /// Orders as the use cases pay, cancel and expire them, on this app's
    /// store, payment provider and the system clock.
    pub fn orders(&self) -> Orders<'_, dynamodb::Store, Payments, SystemClock> {
        Orders {
            store: &self.store,
            payments: &self.payments,
            clock: &SystemClock,
            renewal_cooldown_secs: self.config.holds.renewal_cooldown_secs,
        }
    }
}
