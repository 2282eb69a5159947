//! Stripe's webhook: a public route (no Cognito; Stripe signs instead).
//! The signature is checked on the raw bytes before anything is parsed; an
//! event is processed once by its id; `payment_intent.succeeded` and
//! `payment_intent.payment_failed` settle the order as the buyer's own
//! confirmation does (whichever arrives first, once); any other type is
//! acknowledged and ignored. Stripe retries an answer other than 2xx for
//! three days, so only a moment's failure (the store, Stripe itself) answers
//! 503; what can never succeed is acknowledged and logged.
//!
//! The signature covers the exact bytes Stripe sent. They arrive intact:
//! CloudFront's `/api/*` behaviour forwards every viewer header
//! (`AllViewerExceptHostHeader`, "Use managed origin request policies"), so
//! `Stripe-Signature` reaches the API, and API Gateway's proxy integration
//! hands a text body to the function unchanged (base64 only for binary media
//! types, which `lambda_http` decodes: "Input format of a Lambda function
//! for proxy integration").

use lambda_http::{Body, Request};

use super::errors::ApiError;
use super::response::Reply;
use super::views::WebhookReceived;
use crate::app::App;
use crate::clock::now_epoch_secs;
use crate::domain::{CartOwner, OrderId};
use crate::outbound::payments::stripe::webhook::{verified_event, Event};
use crate::use_cases::payment::OrderError;
use crate::use_cases::ports::PaymentError;

const SIGNATURE_HEADER: &str = "stripe-signature";

fn raw_body(req: &Request) -> &[u8] {
    match req.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    }
}

fn received(outcome: &'static str) -> Reply {
    Reply::ok(WebhookReceived { received: true, outcome })
}

pub(super) async fn webhook(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let secret = app.stripe_webhook_secret().await.map_err(|e| match e {
        PaymentError::Unavailable => ApiError::PaymentUnavailable,
        other => ApiError::Internal(other.to_string()),
    })?;
    let Some(secret) = secret else {
        return Err(ApiError::NotFound("no Stripe webhook here: the shop does not pay with Stripe".into()));
    };
    let signature = req.headers().get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let event = verified_event(&secret, signature, raw_body(req), now_epoch_secs()).map_err(|e| {
        tracing::warn!(error = %e, "webhook refused");
        ApiError::BadRequest("invalid Stripe-Signature".into())
    })?;
    if app.store.event_processed(&event.id).await? {
        return Ok(received("duplicate"));
    }
    let outcome = settle(app, &event).await?;
    app.store.mark_event_processed(&event.id, now_epoch_secs()).await?;
    tracing::info!(event = %event.id, kind = %event.kind, outcome, "webhook");
    Ok(received(outcome))
}

/// What the event does to its order; an error only for a moment's failure.
async fn settle(app: &App, event: &Event) -> Result<&'static str, ApiError> {
    if !matches!(event.kind.as_str(), "payment_intent.succeeded" | "payment_intent.payment_failed") {
        return Ok("ignored: not a payment event");
    }
    let Some(intent) = event.payment_intent() else { return Ok("ignored: no payment intent") };
    let order = intent.order_id().and_then(|id| OrderId::parse(id).ok());
    let buyer = intent.buyer().and_then(|sub| CartOwner::user(sub).ok());
    let (Some(order), Some(buyer)) = (order, buyer) else {
        tracing::warn!(intent = %intent.id, "webhook for an intent that names no order of this shop");
        return Ok("ignored: not an order of this shop");
    };
    match app.orders().provider_notified(&buyer, &order).await {
        Ok(_) => Ok("processed"),
        Err(OrderError::NotFound(_)) => {
            tracing::warn!(intent = %intent.id, order = %order, "webhook for an order that does not exist");
            Ok("ignored: no such order")
        }
        // Logged by the adapter with both amounts (an alarm watches for it).
        Err(OrderError::Payment(PaymentError::Mismatch(_))) => Ok("refused: the payment does not match the order"),
        // A moment's failure answers as it would anyone (503, 409, 500): any
        // answer but 2xx has Stripe deliver the event again.
        Err(
            err @ (OrderError::Payment(PaymentError::Unavailable)
            | OrderError::Store(_)
            | OrderError::ChargedNotRecorded
            | OrderError::Busy),
        ) => {
            tracing::warn!(intent = %intent.id, order = %order, error = %err, "webhook not processed yet; Stripe retries");
            Err(err.into())
        }
        // Declined, not confirmed yet, ended and refunded: settled as it stands.
        Err(other) => {
            tracing::info!(intent = %intent.id, order = %order, outcome = %other, "webhook settled nothing more");
            Ok("processed")
        }
    }
}
