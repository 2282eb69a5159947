//! The Stripe adapter against a strict fake of Stripe's HTTP contract, where
//! localstripe is lenient: an `Idempotency-Key` replays the first answer
//! (and refuses other parameters), a charge refuses a second refund
//! (`charge_already_refunded`), a succeeded intent refuses another
//! confirmation, and an intent's charge comes as an id unless expanded.
//! The shop must hold under both.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use shop::domain::{Order, OrderId, OrderStatus};
use shop::outbound::payments::stripe::{KeysSource, StripeConfig, StripeKeys, StripePayments};
use shop::use_cases::ports::{ChargeOutcome, PaymentProvider};

use crate::support::*;

#[derive(Default)]
struct Strict {
    intents: HashMap<String, Value>,
    /// Idempotency-Key → (the request's parameters, the answer given).
    replays: HashMap<String, (Vec<(String, String)>, Value)>,
    created: usize,
    refunds: Vec<String>,
}

type Shared = Arc<Mutex<Strict>>;

fn form(body: &[u8]) -> Vec<(String, String)> {
    fn decode(text: &str) -> String {
        let bytes = text.replace('+', " ").into_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    let text = String::from_utf8_lossy(body);
    let mut pairs: Vec<(String, String)> = text
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    pairs.sort();
    pairs
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn refused(status: StatusCode, code: &str) -> Response {
    (status, Json(json!({ "error": { "type": "invalid_request_error", "code": code, "message": code } })))
        .into_response()
}

/// The intent as Stripe answers it: its charge an id, or expanded when asked.
fn shown(intent: &Value, expand_charge: bool) -> Value {
    let mut shown = intent.clone();
    if !expand_charge {
        if let Some(id) = intent["latest_charge"]["id"].as_str() {
            shown["latest_charge"] = json!(id);
        }
    }
    shown
}

async fn create(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let pairs = form(&body);
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut strict = s.lock().unwrap();
    if let Some((first, answer)) = key.as_ref().and_then(|k| strict.replays.get(k)) {
        return if *first == pairs {
            Json(answer.clone()).into_response()
        } else {
            refused(StatusCode::BAD_REQUEST, "idempotency_error")
        };
    }
    strict.created += 1;
    let id = format!("pi_strict_{}", uuid::Uuid::new_v4().simple());
    let intent = json!({
        "id": id, "object": "payment_intent", "status": "requires_payment_method",
        "amount": param(&pairs, "amount").and_then(|a| a.parse::<u64>().ok()),
        "currency": param(&pairs, "currency"),
        "client_secret": format!("{id}_secret_x"),
        "metadata": { "order_id": param(&pairs, "metadata[order_id]"), "buyer": param(&pairs, "metadata[buyer]") },
        "latest_charge": null,
    });
    strict.intents.insert(id, intent.clone());
    if let Some(key) = key {
        strict.replays.insert(key, (pairs, intent.clone()));
    }
    Json(intent).into_response()
}

async fn retrieve(State(s): State<Shared>, Path(id): Path<String>, RawQuery(query): RawQuery) -> Response {
    let expand = query.unwrap_or_default().contains("latest_charge");
    match s.lock().unwrap().intents.get(&id) {
        Some(intent) => Json(shown(intent, expand)).into_response(),
        None => refused(StatusCode::NOT_FOUND, "resource_missing"),
    }
}

async fn update(State(s): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    let pairs = form(&body);
    let mut strict = s.lock().unwrap();
    let Some(intent) = strict.intents.get_mut(&id) else { return refused(StatusCode::NOT_FOUND, "resource_missing") };
    if matches!(intent["status"].as_str(), Some("succeeded" | "canceled")) {
        return refused(StatusCode::BAD_REQUEST, "payment_intent_unexpected_state");
    }
    intent["payment_method"] = json!(param(&pairs, "payment_method"));
    intent["status"] = json!("requires_confirmation");
    Json(shown(intent, false)).into_response()
}

async fn confirm(State(s): State<Shared>, Path(id): Path<String>) -> Response {
    let mut strict = s.lock().unwrap();
    let Some(intent) = strict.intents.get_mut(&id) else { return refused(StatusCode::NOT_FOUND, "resource_missing") };
    if intent["status"] != "requires_confirmation" {
        return refused(StatusCode::BAD_REQUEST, "payment_intent_unexpected_state");
    }
    if intent["payment_method"] == "pm_card_visa" {
        intent["status"] = json!("succeeded");
        intent["latest_charge"] = json!({ "id": format!("ch_{id}"), "amount_refunded": 0 });
        Json(shown(intent, false)).into_response()
    } else {
        intent["status"] = json!("requires_payment_method");
        intent["last_payment_error"] = json!({ "code": "card_declined", "message": "declined" });
        (StatusCode::PAYMENT_REQUIRED, Json(json!({ "error": { "type": "card_error", "code": "card_declined" } })))
            .into_response()
    }
}

async fn cancel(State(s): State<Shared>, Path(id): Path<String>) -> Response {
    let mut strict = s.lock().unwrap();
    let Some(intent) = strict.intents.get_mut(&id) else { return refused(StatusCode::NOT_FOUND, "resource_missing") };
    intent["status"] = json!("canceled");
    Json(shown(intent, false)).into_response()
}

async fn refund(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let pairs = form(&body);
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut strict = s.lock().unwrap();
    if let Some((_, answer)) = key.as_ref().and_then(|k| strict.replays.get(k)) {
        return Json(answer.clone()).into_response();
    }
    let id = param(&pairs, "payment_intent").unwrap_or_default().to_owned();
    let Some(intent) = strict.intents.get_mut(&id) else { return refused(StatusCode::NOT_FOUND, "resource_missing") };
    let amount = intent["amount"].as_u64().unwrap_or(0);
    if intent["latest_charge"]["amount_refunded"].as_u64() >= Some(amount) {
        return refused(StatusCode::BAD_REQUEST, "charge_already_refunded");
    }
    intent["latest_charge"]["amount_refunded"] = json!(amount);
    let answer = json!({ "id": format!("re_{id}"), "status": "succeeded" });
    strict.refunds.push(id);
    if let Some(key) = key {
        strict.replays.insert(key, (pairs, answer.clone()));
    }
    Json(answer).into_response()
}

/// The strict fake on a free loopback port, and its state.
async fn strict_stripe() -> (String, Shared) {
    let state = Shared::default();
    let router = Router::new()
        .route("/v1/payment_intents", post(create))
        .route("/v1/payment_intents/{id}", get(retrieve).post(update))
        .route("/v1/payment_intents/{id}/confirm", post(confirm))
        .route("/v1/payment_intents/{id}/cancel", post(cancel))
        .route("/v1/refunds", post(refund))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, state)
}

async fn adapter(api_base: &str) -> StripePayments {
    let store = shop_local::stack::store_at(&stack().emulator, &stack().table, stack().index_partitions).await;
    let keys = KeysSource::Given(StripeKeys { secret_key: "sk_test_strict".into(), webhook_secret: None });
    StripePayments::new(&StripeConfig { api_base: api_base.into(), keys, currency: "usd".into() }, store, None)
}

fn order(total: u64) -> Order {
    Order {
        order_id: OrderId::new(),
        owner: "strict-buyer".into(),
        status: OrderStatus::PendingPayment,
        lines: Vec::new(),
        total,
        created_at: now(),
        updated_at: now(),
        expires_at: now() + 900,
        idempotency_key: None,
        charge_id: None,
        failure_reason: None,
        counts_pending: false,
        refund_due: false,
        renew_after: None,
    }
}

#[tokio::test]
async fn payments_at_once_confirm_one_intent_that_stripe_creates_once() {
    let (url, strict) = strict_stripe().await;
    let payments = adapter(&url).await;
    let order = order(700);
    let outcomes = futures::future::join_all((0..5).map(|_| payments.charge(&order, "tok_visa"))).await;
    let ids: Vec<String> = outcomes
        .into_iter()
        .map(|o| match o.unwrap() {
            ChargeOutcome::Approved { charge_id } => charge_id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "one intent: {ids:?}");
    let strict = strict.lock().unwrap();
    assert_eq!(strict.created, 1, "the key replays the first create");
    assert_eq!(strict.intents[&ids[0]]["amount"], 700);
}

#[tokio::test]
async fn another_card_after_a_decline_pays_the_same_intent() {
    let (url, strict) = strict_stripe().await;
    let payments = adapter(&url).await;
    let order = order(300);
    let declined = payments.charge(&order, "tok_declined").await.unwrap();
    assert!(matches!(&declined, ChargeOutcome::Declined { reason } if reason == "card_declined"), "{declined:?}");
    let approved = payments.charge(&order, "tok_visa").await.unwrap();
    assert!(matches!(approved, ChargeOutcome::Approved { .. }));
    assert_eq!(strict.lock().unwrap().created, 1);
    // Paying again answers the approved charge without calling Stripe to confirm.
    assert!(matches!(payments.charge(&order, "tok_visa").await.unwrap(), ChargeOutcome::Approved { .. }));
}

#[tokio::test]
async fn a_refund_is_made_once_even_after_a_crash_before_its_record() {
    let (url, strict) = strict_stripe().await;
    let payments = adapter(&url).await;
    let order = order(500);
    let ChargeOutcome::Approved { charge_id } = payments.charge(&order, "tok_visa").await.unwrap() else {
        panic!("approved")
    };
    assert!(payments.refund(&order.order_id).await.unwrap());
    assert!(!payments.refund(&order.order_id).await.unwrap(), "the ledger says it was refunded");
    assert_eq!(strict.lock().unwrap().refunds, std::slice::from_ref(&charge_id));

    // Refunded at Stripe, then the process died before the ledger said so.
    let crashed = self::order(400);
    let ChargeOutcome::Approved { charge_id } = payments.charge(&crashed, "tok_visa").await.unwrap() else {
        panic!("approved")
    };
    let refund_at_stripe = http().post(format!("{url}/v1/refunds")).form(&[("payment_intent", charge_id.as_str())]);
    assert!(refund_at_stripe.send().await.unwrap().status().is_success());
    assert!(payments.refund(&crashed.order_id).await.unwrap(), "recorded, not refunded again");
    let strict = strict.lock().unwrap();
    assert_eq!(strict.refunds.iter().filter(|id| **id == charge_id).count(), 1);
}

/// A new stack's secret holds a generated password until an operator puts
/// the keys: payments answer "unavailable" (503, nothing charged) meanwhile,
/// and the first payment after the keys are put reads them.
#[tokio::test]
async fn a_secret_without_keys_yet_is_a_moments_unavailability_not_a_failure() {
    use shop::use_cases::ports::PaymentError;
    let (url, _strict) = strict_stripe().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&shop_local::stack::emulator_sdk(&stack().emulator).await);
    let name = format!("stripe-keys-{}", uuid::Uuid::new_v4().simple());
    let created = secrets.create_secret().name(&name).secret_string("Zq8vG1generatedpassword").send().await.unwrap();
    let secret_id = created.arn().unwrap().to_owned();
    let store = shop_local::stack::store_at(&stack().emulator, &stack().table, stack().index_partitions).await;
    let config = StripeConfig {
        api_base: url,
        keys: KeysSource::SecretsManager { secret_id: secret_id.clone() },
        currency: "usd".into(),
    };
    let payments = StripePayments::new(&config, store, Some(secrets.clone()));
    let order = order(250);
    assert!(matches!(payments.charge(&order, "tok_visa").await, Err(PaymentError::Unavailable)));
    let keys = json!({ "secretKey": "sk_test_strict", "webhookSecret": "whsec_strict" }).to_string();
    secrets.put_secret_value().secret_id(&secret_id).secret_string(keys).send().await.unwrap();
    assert!(matches!(payments.charge(&order, "tok_visa").await.unwrap(), ChargeOutcome::Approved { .. }));
    assert_eq!(payments.webhook_secret().await.unwrap().as_deref(), Some("whsec_strict"));
}
