//! Settings read once per container from the environment the template sets.

use std::env;

use crate::domain::HoldPolicy;
use crate::outbound::cognito::tokens::CognitoConfig;
use crate::outbound::dynamodb::IndexPartitions;
use crate::outbound::payments::stripe::{KeysSource, StripeConfig, StripeKeys};

#[derive(Debug, thiserror::Error)]
#[error("missing or invalid setting {0}")]
pub struct ConfigError(pub &'static str);

#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    /// Only the migrate function sends to the queue.
    pub cleanup_queue_url: Option<String>,
    pub cognito: CognitoConfig,
    /// The frontend origin allowed to call with credentials (CORS).
    pub allowed_origin: String,
    /// How long a checkout holds its stock, and how much one buyer may hold.
    pub holds: HoldPolicy,
    /// Admin routes refuse an admin whose account has no authenticator app (TOTP).
    pub admin_mfa_required: bool,
    pub index_partitions: IndexPartitions,
    pub payments: PaymentConfig,
}

/// Which payment provider the shop charges with (`PAYMENT_PROVIDER`).
#[derive(Debug, Clone)]
pub enum PaymentConfig {
    /// Decides by test token; no money moves (the default).
    Sandbox,
    Stripe(StripeConfig),
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let issuer = required("COGNITO_ISSUER")?.trim_end_matches('/').to_owned();
        let jwks_url = optional("COGNITO_JWKS_URL").unwrap_or_else(|| format!("{issuer}/.well-known/jwks.json"));
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            cleanup_queue_url: optional("CLEANUP_QUEUE_URL"),
            cognito: CognitoConfig { issuer, jwks_url, client_id: required("COGNITO_CLIENT_ID")? },
            allowed_origin: optional("ALLOWED_ORIGIN").unwrap_or_else(|| "http://localhost:8080".into()),
            holds: hold_policy_from_env()?,
            // Required unless the template says otherwise.
            admin_mfa_required: match optional("ADMIN_MFA_REQUIRED").as_deref() {
                None | Some("true") => true,
                Some("false") => false,
                Some(_) => return Err(ConfigError("ADMIN_MFA_REQUIRED")),
            },
            index_partitions: index_partitions_from_env()?,
            payments: payment_config_from_env()?,
        })
    }
}

/// `PAYMENT_PROVIDER`: `sandbox` (the default) or `stripe`. Stripe's keys
/// come from the Secrets Manager secret `STRIPE_SECRET_ARN` names (on AWS),
/// or else from `STRIPE_SECRET_KEY` and `STRIPE_WEBHOOK_SECRET`; it takes
/// `STRIPE_API_BASE` (default Stripe's own) and `STRIPE_CURRENCY` (`usd`).
fn payment_config_from_env() -> Result<PaymentConfig, ConfigError> {
    match optional("PAYMENT_PROVIDER").as_deref() {
        None | Some("sandbox") => Ok(PaymentConfig::Sandbox),
        Some("stripe") => {
            let keys = match optional("STRIPE_SECRET_ARN") {
                Some(secret_id) => KeysSource::SecretsManager { secret_id },
                None => KeysSource::Given(StripeKeys {
                    secret_key: required("STRIPE_SECRET_KEY")?,
                    webhook_secret: optional("STRIPE_WEBHOOK_SECRET"),
                }),
            };
            Ok(PaymentConfig::Stripe(StripeConfig {
                api_base: optional("STRIPE_API_BASE").unwrap_or_else(|| "https://api.stripe.com".into()),
                keys,
                currency: optional("STRIPE_CURRENCY").unwrap_or_else(|| "usd".into()).to_ascii_lowercase(),
            }))
        }
        Some(_) => Err(ConfigError("PAYMENT_PROVIDER")),
    }
}

/// What one buyer may hold for how long, from the environment the template
/// sets (each setting's default when unset). The workers read it too.
fn hold_policy_from_env() -> Result<HoldPolicy, ConfigError> {
    let defaults = HoldPolicy::default();
    Ok(HoldPolicy {
        hold_secs: positive("RESERVATION_HOLD_SECONDS", defaults.hold_secs)?,
        hot_hold_secs: positive("HOT_PRODUCT_HOLD_SECONDS", defaults.hot_hold_secs)?,
        max_pending: positive("MAX_PENDING_ORDERS", defaults.max_pending)?,
        max_held_units: positive("MAX_HELD_UNITS_PER_PRODUCT", defaults.max_held_units)?,
        renewal_cooldown_secs: match optional("RENEWAL_COOLDOWN_SECONDS") {
            None => defaults.renewal_cooldown_secs,
            Some(v) => v.parse().ok().filter(|s| *s >= 0).ok_or(ConfigError("RENEWAL_COOLDOWN_SECONDS"))?,
        },
    })
}

/// How the table's shop-wide index lists are spread (`INDEX_PARTITIONS`, the
/// template's `IndexPartitions`; every function must read the same count,
/// so the template sets it for all of them). The workers read it too.
pub fn index_partitions_from_env() -> Result<IndexPartitions, ConfigError> {
    match optional("INDEX_PARTITIONS") {
        None => Ok(IndexPartitions::DEFAULT),
        Some(v) => v.parse().ok().and_then(IndexPartitions::new).ok_or(ConfigError("INDEX_PARTITIONS")),
    }
}

/// A setting that must be a positive number, or `default` when unset.
fn positive<T: std::str::FromStr + PartialOrd + Default>(name: &'static str, default: T) -> Result<T, ConfigError> {
    match optional(name) {
        None => Ok(default),
        Some(v) => v.parse().ok().filter(|n| *n > T::default()).ok_or(ConfigError(name)),
    }
}

fn optional(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn required(name: &'static str) -> Result<String, ConfigError> {
    optional(name).ok_or(ConfigError(name))
}
