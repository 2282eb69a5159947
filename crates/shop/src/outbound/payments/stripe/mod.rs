//! The Stripe payment provider: one PaymentIntent per order, for the
//! order's exact amount, recorded in the ledger before it is confirmed, so
//! that every attempt to pay an order (another card after a decline, a
//! retry, two requests at once) confirms the same intent, and Stripe lets an
//! intent succeed once. Nothing relies on Stripe's idempotency keys (they
//! are sent, but localstripe ignores them) or on Stripe refusing a second
//! refund (localstripe does not): the ledger says what was done.
//!
//! Server-side confirmation serves the API's `cardToken`: the documented
//! test tokens map to Stripe's test payment methods
//! (docs.stripe.com/testing#cards).

mod client;
pub mod webhook;

pub use client::{IntentStatus, PaymentIntent, StripeClient, StripeError, BUYER_METADATA, ORDER_METADATA};

use crate::domain::{Order, OrderId};
use crate::outbound::dynamodb::{LedgerEntry, Store, StoreError};
use crate::use_cases::ports::{ChargeOutcome, PaymentError, PaymentProvider, PaymentStart};

/// Where Stripe is, where the shop's keys for it are, and the currency its
/// prices are in.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// `https://api.stripe.com`, or localstripe's address.
    pub api_base: String,
    pub keys: KeysSource,
    /// ISO code, lowercase (`usd`): the prices' cents are this currency's.
    pub currency: String,
}

/// The shop's Stripe keys: the secret key it calls Stripe with (`sk_test_`
/// in test mode, `sk_live_` in live mode) and the webhook endpoint's signing
/// secret (`whsec_`).
#[derive(Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StripeKeys {
    pub secret_key: String,
    #[serde(default)]
    pub webhook_secret: Option<String>,
}

impl std::fmt::Debug for StripeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StripeKeys { .. }")
    }
}

/// Where the keys are: given (the local stack), or a Secrets Manager secret
/// (`{"secretKey": ..., "webhookSecret": ...}`) read the first time a
/// container needs them, then kept: functions that never call Stripe never
/// read it, and need no permission to ("Use Secrets Manager secrets in Lambda
/// functions", lambda/latest/dg/with-secrets-manager.html).
#[derive(Debug, Clone)]
pub enum KeysSource {
    Given(StripeKeys),
    SecretsManager { secret_id: String },
}

/// The provider is down: what `tok_provider_error` stands for.
const UNREACHABLE: &str = "tok_provider_error";

/// The payment method a card token charges: the API's documented test
/// tokens as Stripe's test payment methods, a payment method id as it is.
fn payment_method_of(card_token: &str) -> Option<&str> {
    match card_token {
        "tok_visa" => Some("pm_card_visa"),
        // The card localstripe declines as Stripe's test card 4000000000000341 does.
        "tok_declined" => Some("pm_card_chargeCustomerFail"),
        pm if pm.starts_with("pm_") => Some(pm),
        _ => None,
    }
}

impl From<StripeError> for PaymentError {
    fn from(err: StripeError) -> Self {
        match err {
            StripeError::Unavailable(_) => Self::Unavailable,
            other => Self::Failed(other.to_string()),
        }
    }
}

#[derive(Clone)]
pub struct StripePayments {
    api_base: String,
    source: KeysSource,
    secrets: Option<aws_sdk_secretsmanager::Client>,
    keys: std::sync::Arc<tokio::sync::OnceCell<(StripeKeys, StripeClient)>>,
    ledger: Store,
    currency: String,
}

impl StripePayments {
    /// `secrets` reads the keys when they are in Secrets Manager.
    pub fn new(config: &StripeConfig, ledger: Store, secrets: Option<aws_sdk_secretsmanager::Client>) -> Self {
        Self {
            api_base: config.api_base.clone(),
            source: config.keys.clone(),
            secrets,
            keys: Default::default(),
            ledger,
            currency: config.currency.clone(),
        }
    }

    /// The keys and a client authenticated with them, read once per container.
    async fn keyed(&self) -> Result<&(StripeKeys, StripeClient), PaymentError> {
        self.keys
            .get_or_try_init(|| async {
                let keys = match &self.source {
                    KeysSource::Given(keys) => keys.clone(),
                    KeysSource::SecretsManager { secret_id } => {
                        let secrets = self.secrets.as_ref().ok_or(PaymentError::Unavailable)?;
                        let secret = secrets.get_secret_value().secret_id(secret_id).send().await.map_err(|e| {
                            tracing::error!(error = ?e, "the Stripe keys could not be read from Secrets Manager");
                            PaymentError::Unavailable
                        })?;
                        // Until an operator puts the keys (a new stack's secret holds a
                        // generated password), payments answer 503 and nothing is
                        // charged; the next payment reads the secret again.
                        let text = secret.secret_string().unwrap_or_default();
                        serde_json::from_str::<StripeKeys>(text).map_err(|_| {
                            tracing::error!(
                                "the Stripe secret holds no keys: put {{\"secretKey\", \"webhookSecret\"}} (docs/deploy.md)"
                            );
                            PaymentError::Unavailable
                        })?
                    }
                };
                let client = StripeClient::new(&self.api_base, &keys.secret_key);
                Ok((keys, client))
            })
            .await
    }

    async fn client(&self) -> Result<&StripeClient, PaymentError> {
        Ok(&self.keyed().await?.1)
    }

    /// The webhook endpoint's signing secret, if the keys carry one.
    pub async fn webhook_secret(&self) -> Result<Option<String>, PaymentError> {
        Ok(self.keyed().await?.0.webhook_secret.clone())
    }

    async fn entry(&self, order_id: &OrderId) -> Result<Option<LedgerEntry>, PaymentError> {
        self.ledger.ledger_entry(order_id).await.map_err(ledger_error)
    }

    /// The order's PaymentIntent: the one the ledger names, or a new one,
    /// recorded (if two payments make one each, both use the first recorded
    /// and the other is cancelled).
    async fn intent_for(&self, order: &Order, entry: Option<&LedgerEntry>) -> Result<PaymentIntent, PaymentError> {
        let (order_id, amount) = (&order.order_id, order.total);
        if let Some(id) = entry.and_then(|e| e.payment_intent.as_deref()) {
            return self.checked(self.client().await?.retrieve_intent(id).await?, order);
        }
        let created = self
            .client()
            .await?
            .create_intent(&order_id.to_string(), &order.owner, amount, &self.currency, &format!("order-{order_id}-pi"))
            .await?;
        let recorded = self.ledger.record_intent(order_id, &created.id, amount).await.map_err(ledger_error)?;
        if recorded == created.id {
            return self.checked(created, order);
        }
        if let Err(e) = self.client().await?.cancel_intent(&created.id).await {
            tracing::warn!(order = %order_id, intent = %created.id, error = %e, "a duplicate intent was not cancelled");
        }
        self.checked(self.client().await?.retrieve_intent(&recorded).await?, order)
    }

    /// The intent, if it is for exactly the order's total, in the shop's
    /// currency, and names the order: nothing is sold for another amount.
    fn checked(&self, intent: PaymentIntent, order: &Order) -> Result<PaymentIntent, PaymentError> {
        let order_id = order.order_id.to_string();
        if intent.amount != order.total
            || intent.currency != self.currency
            || intent.order_id() != Some(order_id.as_str())
        {
            tracing::error!(
                order = %order_id,
                intent = %intent.id,
                amount = intent.amount,
                currency = %intent.currency,
                "payment does not match its order"
            );
            return Err(PaymentError::Mismatch(format!(
                "intent {} is for {} {} (order {:?}); order {order_id} is {} {}",
                intent.id,
                intent.amount,
                intent.currency,
                intent.order_id(),
                order.total,
                self.currency
            )));
        }
        Ok(intent)
    }

    /// Records an approved charge of the intent, and answers it.
    async fn approved(
        &self,
        order_id: &OrderId,
        intent: &PaymentIntent,
        method: &str,
    ) -> Result<ChargeOutcome, PaymentError> {
        let outcome = ChargeOutcome::Approved { charge_id: intent.id.clone() };
        match self.ledger.record_charge(order_id, intent.amount, method, &outcome).await {
            // Another request recorded it first: the same intent, the same charge.
            Ok(()) | Err(StoreError::Conflict) => Ok(outcome),
            Err(e) => Err(ledger_error(e)),
        }
    }

    async fn declined(
        &self,
        order_id: &OrderId,
        amount: u64,
        method: &str,
        reason: String,
    ) -> Result<ChargeOutcome, PaymentError> {
        let outcome = ChargeOutcome::Declined { reason };
        match self.ledger.record_charge(order_id, amount, method, &outcome).await {
            Ok(()) => Ok(outcome),
            // An approved charge stands (another request's, on the same intent).
            Err(StoreError::Conflict) => {
                self.ledger.charge_outcome(order_id).await.map_err(ledger_error)?.ok_or(PaymentError::Unavailable)
            }
            Err(e) => Err(ledger_error(e)),
        }
    }
}

fn ledger_error(err: StoreError) -> PaymentError {
    PaymentError::Failed(format!("payment ledger: {err}"))
}

impl PaymentProvider for StripePayments {
    /// Charges the order's intent with the card's payment method, confirmed
    /// here (server-side). An approved charge is final: a second call answers
    /// it. A declined card leaves the intent ready for another.
    async fn charge(&self, order: &Order, card_token: &str) -> Result<ChargeOutcome, PaymentError> {
        let (order_id, amount) = (&order.order_id, order.total);
        let entry = self.entry(order_id).await?;
        if let Some(approved @ ChargeOutcome::Approved { .. }) = entry.as_ref().and_then(|e| e.outcome.clone()) {
            return Ok(approved);
        }
        if card_token == UNREACHABLE {
            return Err(PaymentError::Unavailable);
        }
        let Some(method) = payment_method_of(card_token) else {
            return self.declined(order_id, amount, card_token, "invalid_card".into()).await;
        };
        let intent = self.intent_for(order, entry.as_ref()).await?;
        if intent.status == IntentStatus::Succeeded {
            return self.approved(order_id, &intent, method).await;
        }
        let confirmed = match self.client().await?.set_payment_method(&intent.id, method).await {
            Ok(_) => self.client().await?.confirm_intent(&intent.id).await,
            Err(e) => Err(e),
        };
        match confirmed {
            Ok(done) if done.status == IntentStatus::Succeeded => self.approved(order_id, &done, method).await,
            Ok(done) if done.status == IntentStatus::RequiresAction => {
                self.declined(order_id, amount, method, "authentication_required".into()).await
            }
            Ok(done) => {
                let reason = done.last_payment_error.and_then(|e| e.code).unwrap_or_else(|| "card_declined".into());
                self.declined(order_id, amount, method, reason).await
            }
            Err(StripeError::Declined { code, .. }) => self.declined(order_id, amount, method, code).await,
            Err(StripeError::Unavailable(why)) => {
                tracing::warn!(order = %order_id, error = %why, "Stripe unavailable");
                Err(PaymentError::Unavailable)
            }
            // Refused: most likely another request confirmed the intent first.
            Err(refused) => {
                let now = self.client().await?.retrieve_intent(&intent.id).await?;
                if now.status == IntentStatus::Succeeded {
                    self.approved(order_id, &now, method).await
                } else {
                    Err(refused.into())
                }
            }
        }
    }

    /// The order's intent, created and recorded if it has none, for the
    /// buyer's page to confirm with Stripe.js (its client secret).
    async fn start(&self, order: &Order) -> Result<Option<PaymentStart>, PaymentError> {
        let entry = self.entry(&order.order_id).await?;
        let intent = self.intent_for(order, entry.as_ref()).await?;
        let client_secret = intent
            .client_secret
            .clone()
            .ok_or_else(|| PaymentError::Failed(format!("intent {} came without its client secret", intent.id)))?;
        Ok(Some(PaymentStart { payment_id: intent.id, client_secret }))
    }

    /// Asks Stripe about the order's recorded intent (never the page's
    /// word): succeeded for exactly the order's total is approved, and
    /// recorded; a failed last attempt is declined; otherwise nothing yet.
    async fn confirmed(&self, order: &Order) -> Result<Option<ChargeOutcome>, PaymentError> {
        let Some(entry) = self.entry(&order.order_id).await? else { return Ok(None) };
        if let Some(approved @ ChargeOutcome::Approved { .. }) = &entry.outcome {
            return Ok(Some(approved.clone()));
        }
        let Some(intent_id) = entry.payment_intent.as_deref() else { return Ok(None) };
        let intent = self.checked(self.client().await?.retrieve_intent(intent_id).await?, order)?;
        match intent.status {
            IntentStatus::Succeeded => self.approved(&order.order_id, &intent, "card form").await.map(Some),
            IntentStatus::RequiresPaymentMethod => {
                Ok(intent.last_payment_error.and_then(|e| e.code).map(|reason| ChargeOutcome::Declined { reason }))
            }
            _ => Ok(None),
        }
    }

    /// Refunds the order's approved charge in full, once: the ledger says
    /// whether it was; Stripe's charge says whether a refund already went
    /// through (a crash between the refund and its record).
    async fn refund(&self, order_id: &OrderId) -> Result<bool, PaymentError> {
        let Some(entry) = self.entry(order_id).await? else { return Ok(false) };
        let (Some(ChargeOutcome::Approved { .. }), false) = (&entry.outcome, entry.refunded) else { return Ok(false) };
        let Some(intent_id) = entry.payment_intent.as_deref() else {
            return Err(PaymentError::Failed(format!("order {order_id}: an approved charge without its intent")));
        };
        let client = self.client().await?;
        let intent = client.retrieve_intent(intent_id).await?;
        if intent.amount_refunded().is_none_or(|refunded| refunded < intent.amount) {
            match client.refund(intent_id, &format!("order-{order_id}-refund")).await {
                Ok(_) => {}
                // Refunded before (a crash between the refund and its record): done.
                Err(StripeError::Refused { code: Some(code), .. }) if code == "charge_already_refunded" => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.ledger.mark_charge_refunded(order_id).await.map_err(ledger_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_test_tokens_are_stripes_test_payment_methods() {
        assert_eq!(payment_method_of("tok_visa"), Some("pm_card_visa"));
        assert_eq!(payment_method_of("tok_declined"), Some("pm_card_chargeCustomerFail"));
        assert_eq!(payment_method_of("pm_card_mastercard"), Some("pm_card_mastercard"));
        assert_eq!(payment_method_of("tok_unknown"), None);
    }
}
