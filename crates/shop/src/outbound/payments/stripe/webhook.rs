//! Stripe's webhook events, checked before anything reads them: the
//! `Stripe-Signature` header (`t=<unix time>,v1=<hex>,...`) must carry, for
//! the endpoint's secret, the HMAC-SHA256 of `"{t}.{raw body}"` among its
//! `v1` signatures (compared in constant time), and `t` must be within the
//! tolerance of now (Stripe's own libraries use 300 s). Stripe's
//! documentation: "Verify webhook signatures manually"
//! (docs.stripe.com/webhooks#verify-manually).

use aws_lc_rs::hmac;
use serde::Deserialize;

use super::PaymentIntent;

/// How far the signed time may be from now, either way.
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    #[error("no Stripe-Signature header")]
    Unsigned,
    #[error("Stripe-Signature has no timestamp or no v1 signature")]
    MalformedSignature,
    #[error("signed {age_secs} s from now, beyond the tolerance")]
    Stale { age_secs: i64 },
    #[error("no v1 signature matches the body")]
    Forged,
    #[error("the signed body is not an event: {0}")]
    NotAnEvent(String),
}

/// A verified event: its id (for processing each once), its type, and the
/// object it is about.
#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub data: EventData,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EventData {
    pub object: serde_json::Value,
}

impl Event {
    /// The PaymentIntent a `payment_intent.*` event is about.
    pub fn payment_intent(&self) -> Option<PaymentIntent> {
        if !self.kind.starts_with("payment_intent.") {
            return None;
        }
        serde_json::from_value(self.data.object.clone()).ok()
    }
}

/// The event in `body`, if `signature_header` signs it with `secret` at a
/// time within the tolerance of `now`. The raw bytes are checked before
/// any JSON is parsed.
pub fn verified_event(
    secret: &str,
    signature_header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<Event, WebhookError> {
    let header = signature_header.ok_or(WebhookError::Unsigned)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v1)) => signatures.extend(hex::decode(v1).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(WebhookError::MalformedSignature)?;
    if signatures.is_empty() {
        return Err(WebhookError::MalformedSignature);
    }
    let (key, signed) = signing(secret, body, timestamp);
    if !signatures.iter().any(|tag| hmac::verify(&key, &signed, tag).is_ok()) {
        return Err(WebhookError::Forged);
    }
    // Checked after the signature, so a forger learns nothing of the clock.
    let age_secs = now - timestamp;
    if age_secs.abs() > TOLERANCE_SECS {
        return Err(WebhookError::Stale { age_secs });
    }
    serde_json::from_slice(body).map_err(|e| WebhookError::NotAnEvent(e.to_string()))
}

/// The endpoint secret's key and what Stripe signs with it: `"{t}.{body}"`.
fn signing(secret: &str, body: &[u8], timestamp: i64) -> (hmac::Key, Vec<u8>) {
    let mut signed = timestamp.to_string().into_bytes();
    signed.push(b'.');
    signed.extend_from_slice(body);
    (hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()), signed)
}

/// The `Stripe-Signature` header Stripe sends for `body` at `timestamp`
/// (tests, and the local stack's endpoint tour).
pub fn signature_header(secret: &str, body: &[u8], timestamp: i64) -> String {
    let (key, signed) = signing(secret, body, timestamp);
    format!("t={timestamp},v1={}", hex::encode(hmac::sign(&key, &signed).as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test";
    const NOW: i64 = 1_800_000_000;

    fn body() -> Vec<u8> {
        br#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","status":"succeeded","amount":600,"currency":"usd","metadata":{"order_id":"o1","buyer":"u1"}}}}"#.to_vec()
    }

    #[test]
    fn a_signed_event_within_the_tolerance_is_read() {
        let header = signature_header(SECRET, &body(), NOW - 10);
        let event = verified_event(SECRET, Some(&header), &body(), NOW).unwrap();
        assert_eq!((event.id.as_str(), event.kind.as_str()), ("evt_1", "payment_intent.succeeded"));
        let intent = event.payment_intent().unwrap();
        assert_eq!((intent.id.as_str(), intent.order_id(), intent.buyer()), ("pi_1", Some("o1"), Some("u1")));
    }

    #[test]
    fn any_of_several_v1_signatures_may_match_as_when_a_secret_is_rolled() {
        let good = signature_header(SECRET, &body(), NOW);
        let v1 = good.split_once("v1=").unwrap().1;
        let header = format!("t={NOW},v1={},v0=ignored,v1={v1}", "00".repeat(32));
        assert!(verified_event(SECRET, Some(&header), &body(), NOW).is_ok());
    }

    #[test]
    fn unsigned_forged_tampered_and_stale_events_are_refused() {
        let header = signature_header(SECRET, &body(), NOW);
        assert_eq!(verified_event(SECRET, None, &body(), NOW).unwrap_err(), WebhookError::Unsigned);
        assert_eq!(
            verified_event(SECRET, Some("v1=abcd"), &body(), NOW).unwrap_err(),
            WebhookError::MalformedSignature
        );
        assert_eq!(
            verified_event(SECRET, Some(&format!("t={NOW}")), &body(), NOW).unwrap_err(),
            WebhookError::MalformedSignature
        );
        assert_eq!(verified_event("whsec_other", Some(&header), &body(), NOW).unwrap_err(), WebhookError::Forged);
        let mut tampered = body();
        let at = tampered.len() - 5;
        tampered[at] = b'X';
        assert_eq!(verified_event(SECRET, Some(&header), &tampered, NOW).unwrap_err(), WebhookError::Forged);
        let old = signature_header(SECRET, &body(), NOW - TOLERANCE_SECS - 1);
        assert!(matches!(verified_event(SECRET, Some(&old), &body(), NOW), Err(WebhookError::Stale { .. })));
        let future = signature_header(SECRET, &body(), NOW + TOLERANCE_SECS + 1);
        assert!(matches!(verified_event(SECRET, Some(&future), &body(), NOW), Err(WebhookError::Stale { .. })));
        // A replayed header on another body does not verify either.
        assert_eq!(verified_event(SECRET, Some(&header), b"{}", NOW).unwrap_err(), WebhookError::Forged);
    }
}
