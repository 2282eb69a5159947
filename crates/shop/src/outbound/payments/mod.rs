//! The payment providers behind the `PaymentProvider` port: the sandbox
//! (decides by test token, keeps everything in the shop's table) and Stripe
//! (PaymentIntents). [`Payments`] is the one the composition root chose.

pub mod sandbox;
pub mod stripe;

use crate::domain::{Order, OrderId};
use crate::use_cases::ports::{ChargeOutcome, PaymentError, PaymentProvider, PaymentStart};

/// The provider this deployment charges with (`PAYMENT_PROVIDER`).
#[derive(Clone)]
pub enum Payments {
    Sandbox(sandbox::SandboxPayments),
    Stripe(stripe::StripePayments),
}

impl PaymentProvider for Payments {
    async fn charge(&self, order: &Order, card_token: &str) -> Result<ChargeOutcome, PaymentError> {
        match self {
            Self::Sandbox(sandbox) => sandbox.charge(order, card_token).await,
            Self::Stripe(stripe) => stripe.charge(order, card_token).await,
        }
    }

    async fn start(&self, order: &Order) -> Result<Option<PaymentStart>, PaymentError> {
        match self {
            Self::Sandbox(sandbox) => sandbox.start(order).await,
            Self::Stripe(stripe) => stripe.start(order).await,
        }
    }

    async fn confirmed(&self, order: &Order) -> Result<Option<ChargeOutcome>, PaymentError> {
        match self {
            Self::Sandbox(sandbox) => sandbox.confirmed(order).await,
            Self::Stripe(stripe) => stripe.confirmed(order).await,
        }
    }

    async fn refund(&self, order_id: &OrderId) -> Result<bool, PaymentError> {
        match self {
            Self::Sandbox(sandbox) => sandbox.refund(order_id).await,
            Self::Stripe(stripe) => stripe.refund(order_id).await,
        }
    }
}
