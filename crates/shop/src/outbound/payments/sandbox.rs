//! The sandbox payment provider: decides by card token, as test cards do,
//! and keeps its ledger in the shop's table (`outbound::dynamodb::charges`).
//! No money moves; `PAYMENT_PROVIDER=sandbox` chooses it (the default).

use crate::domain::{Order, OrderId};
use crate::outbound::dynamodb::{Store, StoreError};
use crate::use_cases::ports::{ChargeOutcome, PaymentError, PaymentProvider, PaymentStart};

/// Approved.
pub const CARD_APPROVED: &str = "tok_visa";
/// Declined by the issuer: nothing is charged; the order can be paid with another card.
pub const CARD_DECLINED: &str = "tok_declined";
/// The provider is down: nothing changes; the payment can be retried.
pub const CARD_PROVIDER_ERROR: &str = "tok_provider_error";

#[derive(Clone)]
pub struct SandboxPayments {
    ledger: Store,
}

impl From<StoreError> for PaymentError {
    fn from(err: StoreError) -> Self {
        Self::Failed(format!("sandbox ledger: {err}"))
    }
}

impl SandboxPayments {
    pub fn new(ledger: Store) -> Self {
        Self { ledger }
    }

    pub async fn lookup(&self, order_id: &OrderId) -> Result<Option<ChargeOutcome>, PaymentError> {
        Ok(self.ledger.charge_outcome(order_id).await?)
    }
}

impl PaymentProvider for SandboxPayments {
    /// Charges `amount` cents for an order, at most once per order: an
    /// approved charge is final, a declined attempt may be followed by another
    /// card. The outcome is written first, on condition that the order has no
    /// approved charge; only when it has one (a retry, a race) is that read
    /// back and returned.
    async fn charge(&self, order: &Order, card_token: &str) -> Result<ChargeOutcome, PaymentError> {
        let (order_id, amount) = (&order.order_id, order.total);
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
        match self.ledger.record_charge(order_id, amount, card_token, &outcome).await {
            Ok(()) => Ok(outcome),
            // An approved charge of the same order (a retry, a race) stands.
            Err(StoreError::Conflict) => self.lookup(order_id).await?.ok_or(PaymentError::Unavailable),
            Err(e) => Err(e.into()),
        }
    }

    /// Card tokens only: nothing for a page to confirm.
    async fn start(&self, _order: &Order) -> Result<Option<PaymentStart>, PaymentError> {
        Ok(None)
    }

    /// The ledger's outcome: the sandbox decides when it is charged.
    async fn confirmed(&self, order: &Order) -> Result<Option<ChargeOutcome>, PaymentError> {
        self.lookup(&order.order_id).await
    }

    /// Refunds an approved charge, once.
    async fn refund(&self, order_id: &OrderId) -> Result<bool, PaymentError> {
        Ok(self.ledger.mark_charge_refunded(order_id).await?)
    }
}
