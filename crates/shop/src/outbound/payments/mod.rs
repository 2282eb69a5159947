//! The payment providers behind the `PaymentProvider` port: the sandbox
//! (decides by test token, keeps everything in the shop's table) and Stripe
//! (PaymentIntents). [`Payments`] is the one the composition root chose.

pub mod sandbox;
pub mod stripe;

use crate::domain::OrderId;
use crate::use_cases::ports::{ChargeOutcome, PaymentError, PaymentProvider};

/// The provider this deployment charges with (`PAYMENT_PROVIDER`).
#[derive(Clone)]
pub enum Payments {
    Sandbox(sandbox::SandboxPayments),
    Stripe(stripe::StripePayments),
}

impl PaymentProvider for Payments {
    async fn charge(&self, order_id: &OrderId, amount: u64, card_token: &str) -> Result<ChargeOutcome, PaymentError> {
        match self {
            Self::Sandbox(sandbox) => sandbox.charge(order_id, amount, card_token).await,
            Self::Stripe(stripe) => stripe.charge(order_id, amount, card_token).await,
        }
    }

    async fn refund(&self, order_id: &OrderId) -> Result<bool, PaymentError> {
        match self {
            Self::Sandbox(sandbox) => sandbox.refund(order_id).await,
            Self::Stripe(stripe) => stripe.refund(order_id).await,
        }
    }
}
