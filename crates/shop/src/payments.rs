//! The payment-provider port and its sandbox adapter.
//!
//! The port is three calls: charge an order (idempotent per order: a second
//! charge of the same order returns the first outcome), look up, refund. The
//! sandbox decides by card token and keeps its ledger in the shop's table, so
//! "charged once" is checkable. A real provider's adapter implements the same
//! calls, passing the order id as the provider's idempotency key.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError};

/// Approved.
pub const CARD_APPROVED: &str = "tok_visa";
/// Declined by the issuer: the order fails and its reservation is released.
pub const CARD_DECLINED: &str = "tok_declined";
/// The provider is down: nothing changes; the payment can be retried.
pub const CARD_PROVIDER_ERROR: &str = "tok_provider_error";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChargeOutcome {
    Approved { charge_id: String },
    Declined { reason: String },
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("payment provider unavailable")]
    Unavailable,
    #[error(transparent)]
    Ledger(#[from] StoreError),
}

/// What the sandbox ledger stores per order.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChargeRecord {
    pk: String,
    sk: String,
    amount: u64,
    card_token: String,
    #[serde(flatten)]
    outcome: ChargeOutcome,
    #[serde(default)]
    refunded: bool,
}

#[derive(Clone)]
pub struct SandboxPayments {
    store: Store,
}

fn ledger_key(order_id: &str) -> (String, String) {
    (format!("charge#{order_id}"), "charge".to_owned())
}

impl SandboxPayments {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Charges `amount` cents for an order, at most once per order: an
    /// approved charge is final, a declined attempt may be followed by another
    /// card. The outcome is written first, on condition that the order has no
    /// approved charge; only when it has one (a retry, a race) is that read
    /// back and returned.
    pub async fn charge(&self, order_id: &str, amount: u64, card_token: &str) -> Result<ChargeOutcome, PaymentError> {
        let outcome = match card_token {
            // Down: nothing new is charged, but an earlier approved charge still stands.
            CARD_PROVIDER_ERROR => {
                return match self.lookup(order_id).await? {
                    Some(approved @ ChargeOutcome::Approved { .. }) => Ok(approved),
                    _ => Err(PaymentError::Unavailable),
                }
            }
            CARD_APPROVED => ChargeOutcome::Approved { charge_id: format!("ch_{}", uuid::Uuid::new_v4().simple()) },
            CARD_DECLINED => ChargeOutcome::Declined { reason: "card_declined".into() },
            _ => ChargeOutcome::Declined { reason: "invalid_card".into() },
        };
        let (pk, sk) = ledger_key(order_id);
        let record = ChargeRecord {
            pk,
            sk,
            amount,
            card_token: card_token.to_owned(),
            outcome: outcome.clone(),
            refunded: false,
        };
        let written = self
            .store
            .client
            .put_item()
            .table_name(&self.store.table)
            .set_item(Some(serde_dynamo::to_item(&record).map_err(StoreError::from)?))
            .condition_expression("attribute_not_exists(pk) OR outcome = :declined")
            .expression_attribute_values(":declined", AttributeValue::S("DECLINED".into()))
            .send()
            .await
            .map_err(StoreError::from);
        match written {
            Ok(_) => Ok(outcome),
            // An approved charge of the same order (a retry, a race) stands.
            Err(StoreError::Conflict) => self.lookup(order_id).await?.ok_or(PaymentError::Unavailable),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn lookup(&self, order_id: &str) -> Result<Option<ChargeOutcome>, PaymentError> {
        Ok(self.record(order_id).await?.map(|r| r.outcome))
    }

    async fn record(&self, order_id: &str) -> Result<Option<ChargeRecord>, StoreError> {
        let (pk, sk) = ledger_key(order_id);
        Ok(self.store.get(pk, sk, true).await?.map(serde_dynamo::from_item).transpose()?)
    }

    /// Refunds an approved charge, once.
    pub async fn refund(&self, order_id: &str) -> Result<bool, PaymentError> {
        let (pk, sk) = ledger_key(order_id);
        let result = self
            .store
            .client
            .update_item()
            .table_name(&self.store.table)
            .key("pk", AttributeValue::S(pk))
            .key("sk", AttributeValue::S(sk))
            .update_expression("SET refunded = :t")
            .condition_expression("outcome = :approved AND refunded = :f")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":f", AttributeValue::Bool(false))
            .expression_attribute_values(":approved", AttributeValue::S("APPROVED".into()))
            .send()
            .await
            .map_err(StoreError::from);
        match result {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
