//! A small client of Stripe's REST API: the PaymentIntent and Refund calls
//! the shop makes, form-encoded as Stripe takes them, with an
//! `Idempotency-Key` on every creation. Stripe's answers are read with
//! tolerant types: only the fields the shop uses, each optional where an API
//! version or an emulator may leave it out (`latest_charge` may come as an id
//! or expanded).
//!
//! Stripe's documentation: "PaymentIntents" (api/payment_intents),
//! "Idempotent requests" (api/idempotent_requests), "Errors" (api/errors:
//! 402 is a declined card; 429 and 5xx a moment's unavailability).

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;

/// What Stripe answered, or why it did not.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// The card was declined (HTTP 402, `card_error` or, on localstripe,
    /// `invalid_request_error` with `card_declined`): nothing was charged.
    #[error("declined: {code}")]
    Declined { code: String, message: String },
    /// Unreachable, timed out, rate limited (429) or failing (5xx): the call
    /// may be sent again (with the same idempotency key).
    #[error("Stripe unavailable: {0}")]
    Unavailable(String),
    /// Any other refusal (400, 401, 404...): our request was wrong.
    #[error("Stripe refused the request ({status}): {message}")]
    Refused { status: u16, code: Option<String>, message: String },
    #[error("Stripe's answer is not what was expected: {0}")]
    Unreadable(String),
}

/// A PaymentIntent's status (api/payment_intents/object#payment_intent_object-status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentStatus {
    RequiresPaymentMethod,
    RequiresConfirmation,
    RequiresAction,
    Processing,
    RequiresCapture,
    Canceled,
    Succeeded,
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PaymentError {
    pub code: Option<String>,
    pub message: Option<String>,
}

/// The fields of a PaymentIntent the shop reads.
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    pub status: IntentStatus,
    pub amount: u64,
    pub currency: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
    #[serde(default)]
    pub last_payment_error: Option<PaymentError>,
    /// The charge: its id, or the charge itself (localstripe expands it).
    #[serde(default)]
    pub latest_charge: Option<ChargeRef>,
}

impl PaymentIntent {
    /// The order the intent was made for (its `metadata[order_id]`).
    pub fn order_id(&self) -> Option<&str> {
        self.metadata.get(ORDER_METADATA).map(String::as_str)
    }

    /// The buyer's `sub` (its `metadata[buyer]`).
    pub fn buyer(&self) -> Option<&str> {
        self.metadata.get(BUYER_METADATA).map(String::as_str)
    }

    /// Cents refunded of its charge, when the charge came expanded.
    pub fn amount_refunded(&self) -> Option<u64> {
        match &self.latest_charge {
            Some(ChargeRef::Expanded { amount_refunded, .. }) => *amount_refunded,
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ChargeRef {
    Id(String),
    Expanded {
        id: String,
        #[serde(default)]
        amount_refunded: Option<u64>,
    },
}

#[derive(Debug, Clone, Deserialize)]
pub struct Refund {
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

/// The metadata keys that name an intent's order and its buyer (the
/// order's key in the table), so a webhook finds the order in one read.
pub const ORDER_METADATA: &str = "order_id";
pub const BUYER_METADATA: &str = "buyer";

/// Stripe's API at `api_base` (`https://api.stripe.com`, or localstripe),
/// authenticated with a secret key.
#[derive(Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    api_base: String,
    secret_key: String,
}

impl StripeClient {
    pub fn new(api_base: &str, secret_key: &str) -> Self {
        // One crypto provider per binary: the SDK's aws-lc-rs (see `TokenVerifier::new`).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        Self { http, api_base: api_base.trim_end_matches('/').to_owned(), secret_key: secret_key.to_owned() }
    }

    async fn send<T: serde::de::DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T, StripeError> {
        let response = request
            .basic_auth(&self.secret_key, Some(""))
            .send()
            .await
            .map_err(|e| StripeError::Unavailable(e.to_string()))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| StripeError::Unavailable(e.to_string()))?;
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|e| StripeError::Unreadable(e.to_string()));
        }
        if status.as_u16() == 429 || status.is_server_error() {
            return Err(StripeError::Unavailable(format!("HTTP {status}")));
        }
        let detail = serde_json::from_str::<ErrorBody>(&text).map(|b| b.error).ok();
        let code = detail.as_ref().and_then(|d| d.code.clone());
        let message = detail.as_ref().and_then(|d| d.message.clone()).unwrap_or_else(|| format!("HTTP {status}"));
        let card_error = detail.as_ref().and_then(|d| d.kind.as_deref()) == Some("card_error");
        if status.as_u16() == 402 || card_error {
            return Err(StripeError::Declined { code: code.unwrap_or_else(|| "card_declined".into()), message });
        }
        Err(StripeError::Refused { status: status.as_u16(), code, message })
    }

    fn post(&self, path: &str, form: &[(&str, String)], idempotency_key: Option<&str>) -> reqwest::RequestBuilder {
        let mut request = self.http.post(format!("{}{path}", self.api_base)).form(form);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        request
    }

    /// A new PaymentIntent for an order: its exact amount, unconfirmed.
    pub async fn create_intent(
        &self,
        order_id: &str,
        buyer: &str,
        amount: u64,
        currency: &str,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, StripeError> {
        let (order_key, buyer_key) = (format!("metadata[{ORDER_METADATA}]"), format!("metadata[{BUYER_METADATA}]"));
        let form = [
            ("amount", amount.to_string()),
            ("currency", currency.to_owned()),
            ("payment_method_types[]", "card".to_owned()),
            (order_key.as_str(), order_id.to_owned()),
            (buyer_key.as_str(), buyer.to_owned()),
        ];
        self.send(self.post("/v1/payment_intents", &form, Some(idempotency_key))).await
    }

    /// The intent with its charge expanded (Stripe answers only the charge's
    /// id otherwise), so what was refunded of it is known.
    pub async fn retrieve_intent(&self, id: &str) -> Result<PaymentIntent, StripeError> {
        let url = format!("{}/v1/payment_intents/{id}", self.api_base);
        self.send(self.http.get(url).query(&[("expand[]", "latest_charge")])).await
    }

    /// Sets the payment method the next confirmation charges.
    pub async fn set_payment_method(&self, id: &str, payment_method: &str) -> Result<PaymentIntent, StripeError> {
        let form = [("payment_method", payment_method.to_owned())];
        self.send(self.post(&format!("/v1/payment_intents/{id}"), &form, None)).await
    }

    /// Confirms the intent server-side: charges its payment method.
    pub async fn confirm_intent(&self, id: &str) -> Result<PaymentIntent, StripeError> {
        self.send(self.post(&format!("/v1/payment_intents/{id}/confirm"), &[], None)).await
    }

    pub async fn cancel_intent(&self, id: &str) -> Result<PaymentIntent, StripeError> {
        self.send(self.post(&format!("/v1/payment_intents/{id}/cancel"), &[], None)).await
    }

    /// Refunds the intent's charge in full.
    pub async fn refund(&self, intent_id: &str, idempotency_key: &str) -> Result<Refund, StripeError> {
        let form = [("payment_intent", intent_id.to_owned())];
        self.send(self.post("/v1/refunds", &form, Some(idempotency_key))).await
    }
}
