//! The payment ledger, kept in the shop's table so that "charged once" is
//! checkable: one `charge#<order>` item per order, with the outcome of its
//! charge and whether it was refunded. The sandbox provider keeps its whole
//! state here; the Stripe adapter also records the order's PaymentIntent
//! before confirming it, so that every attempt (and a retry after a crash)
//! uses the same one.

use crate::domain::OrderId;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{Store, StoreError};
use crate::use_cases::ports::ChargeOutcome;

fn ledger_key(order_id: &OrderId) -> (String, String) {
    (format!("charge#{order_id}"), "charge".to_owned())
}

/// An order's line in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub payment_intent: Option<String>,
    pub outcome: Option<ChargeOutcome>,
    pub refunded: bool,
}

impl Store {
    /// Records a charge attempt's outcome, on condition that the order has no
    /// approved charge (a declined attempt may be followed by another card).
    /// `Conflict` when it has one. An update, not a put: the order's
    /// PaymentIntent, when recorded, stays.
    pub async fn record_charge(
        &self,
        order_id: &OrderId,
        amount: u64,
        card_token: &str,
        outcome: &ChargeOutcome,
    ) -> Result<(), StoreError> {
        let (pk, sk) = ledger_key(order_id);
        let (kind, detail_name, detail) = match outcome {
            ChargeOutcome::Approved { charge_id } => ("APPROVED", "charge_id", charge_id),
            ChargeOutcome::Declined { reason } => ("DECLINED", "reason", reason),
        };
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk))
            .key("sk", AttributeValue::S(sk))
            .update_expression("SET amount = :a, cardToken = :t, outcome = :o, #d = :d, refunded = :f")
            .condition_expression("attribute_not_exists(outcome) OR outcome = :declined")
            .expression_attribute_names("#d", detail_name)
            .expression_attribute_values(":a", AttributeValue::N(amount.to_string()))
            .expression_attribute_values(":t", AttributeValue::S(card_token.to_owned()))
            .expression_attribute_values(":o", AttributeValue::S(kind.into()))
            .expression_attribute_values(":d", AttributeValue::S(detail.clone()))
            .expression_attribute_values(":f", AttributeValue::Bool(false))
            .expression_attribute_values(":declined", AttributeValue::S("DECLINED".into()))
            .send()
            .await?;
        Ok(())
    }

    /// Records the order's PaymentIntent unless one is recorded already, and
    /// answers the one recorded: concurrent payments of one order agree on
    /// the first intent.
    pub async fn record_intent(&self, order_id: &OrderId, intent_id: &str, amount: u64) -> Result<String, StoreError> {
        let (pk, sk) = ledger_key(order_id);
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk))
            .key("sk", AttributeValue::S(sk))
            .update_expression(
                "SET paymentIntent = if_not_exists(paymentIntent, :pi), amount = if_not_exists(amount, :a)",
            )
            .expression_attribute_values(":pi", AttributeValue::S(intent_id.to_owned()))
            .expression_attribute_values(":a", AttributeValue::N(amount.to_string()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await?;
        out.attributes
            .as_ref()
            .and_then(|a| a.get("paymentIntent"))
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| StoreError::Malformed("a recorded intent without its id".into()))
    }

    /// What the ledger holds of an order: its PaymentIntent (Stripe), the
    /// outcome of its charge and whether it was refunded.
    pub async fn ledger_entry(&self, order_id: &OrderId) -> Result<Option<LedgerEntry>, StoreError> {
        let (pk, sk) = ledger_key(order_id);
        let Some(item) = self.get(pk, sk, true).await? else { return Ok(None) };
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let outcome = match text("outcome").as_deref() {
            Some("APPROVED") => Some(ChargeOutcome::Approved { charge_id: text("charge_id").unwrap_or_default() }),
            Some("DECLINED") => Some(ChargeOutcome::Declined { reason: text("reason").unwrap_or_default() }),
            _ => None,
        };
        let refunded = item.get("refunded").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false);
        Ok(Some(LedgerEntry { payment_intent: text("paymentIntent"), outcome, refunded }))
    }

    /// The last recorded outcome of an order's charge, if any.
    pub async fn charge_outcome(&self, order_id: &OrderId) -> Result<Option<ChargeOutcome>, StoreError> {
        Ok(self.ledger_entry(order_id).await?.and_then(|entry| entry.outcome))
    }

    /// Marks an approved charge refunded, once: false when there was none to refund.
    pub async fn mark_charge_refunded(&self, order_id: &OrderId) -> Result<bool, StoreError> {
        let (pk, sk) = ledger_key(order_id);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
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
            Err(e) => Err(e),
        }
    }
}

/// A provider event processed is remembered this long: longer than Stripe
/// retries a delivery (three days), so a replay inside it changes nothing.
const EVENT_RETENTION_SECS: i64 = 30 * 24 * 3600;

fn event_key(event_id: &str) -> (String, String) {
    (format!("provider-event#{event_id}"), "event".to_owned())
}

impl Store {
    /// Whether a provider event (by its id) was processed already.
    pub async fn event_processed(&self, event_id: &str) -> Result<bool, StoreError> {
        let (pk, sk) = event_key(event_id);
        Ok(self.get(pk, sk, true).await?.is_some())
    }

    /// Remembers a provider event as processed (kept for
    /// `EVENT_RETENTION_SECS`, then TTL removes it).
    pub async fn mark_event_processed(&self, event_id: &str, now: i64) -> Result<(), StoreError> {
        let (pk, sk) = event_key(event_id);
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(pk))
            .item("sk", AttributeValue::S(sk))
            .item("expirationTime", AttributeValue::N((now + EVENT_RETENTION_SECS).to_string()))
            .send()
            .await?;
        Ok(())
    }
}
