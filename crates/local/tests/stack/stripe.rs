//! Paying with Stripe (localstripe) as the storefront does: the page starts
//! the order's PaymentIntent, confirms it with Stripe, and says so; Stripe's
//! signed webhook says so too. Whichever arrives first sells the order, once;
//! the page's word alone sells nothing; a payment that arrives after the
//! order ended is refunded; forged, stale and replayed events change nothing.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

/// What the buyer's page does with Stripe.js: pays the intent with a card.
async fn confirm_with_card(intent_id: &str, payment_method: &str) -> Value {
    localstripe_post(&format!("/v1/payment_intents/{intent_id}"), &[("payment_method", payment_method)]).await;
    localstripe_post(&format!("/v1/payment_intents/{intent_id}/confirm"), &[]).await
}

async fn start(token: &str, order: &str) -> Reply {
    call(Method::POST, &format!("/orders/{order}/payment/intent")).token(token).send().await
}

async fn page_says_confirmed(token: &str, order: &str) -> Reply {
    call(Method::POST, &format!("/orders/{order}/payment")).token(token).json(json!({ "confirmed": true })).send().await
}

/// A buyer with a pending order of `units` of a new product (5 in stock, 100 each).
async fn pending_order(tag: &str, units: i64) -> (String, String, String) {
    let product = new_product(5, 100).await;
    let token = new_user_token(tag).await;
    assert_eq!(add_as(&token, &product, units).await.status, StatusCode::OK);
    let checkout = checkout_as(&token, None).await;
    assert_eq!(checkout.status, StatusCode::CREATED, "{:?}", checkout.body);
    (token, product, checkout.body["order"]["orderId"].as_str().unwrap().to_owned())
}

async fn started_intent(token: &str, order: &str) -> String {
    let started = start(token, order).await;
    assert_eq!(started.status, StatusCode::OK, "{:?}", started.body);
    assert!(started.body["paymentIntent"]["clientSecret"].as_str().unwrap().contains("_secret_"));
    started.body["paymentIntent"]["id"].as_str().unwrap().to_owned()
}

async fn status_of(token: &str, order: &str) -> String {
    order_of(token, order).await.body["order"]["status"].as_str().unwrap_or_default().to_owned()
}

/// Posts an event to the shop's webhook, signed as Stripe signs it at `signed_at`.
async fn deliver(event: &Value, signed_at: i64, secret: &str) -> Reply {
    let body = serde_json::to_vec(event).unwrap();
    let signature = shop::outbound::payments::stripe::webhook::signature_header(secret, &body, signed_at);
    call(Method::POST, "/stripe/webhook")
        .header("Stripe-Signature", &signature)
        .header("Content-Type", "application/json")
        .raw(std::str::from_utf8(&body).unwrap())
        .send()
        .await
}

fn succeeded_event(event_id: &str, intent: &Value) -> Value {
    json!({ "id": event_id, "type": "payment_intent.succeeded", "api_version": "2017-08-15", "data": { "object": intent } })
}

fn secret() -> &'static str {
    stack().webhook_secret.as_deref().expect("a webhook secret")
}

#[tokio::test]
async fn the_page_starts_one_intent_per_order_for_its_exact_total() {
    let (token, _, order) = pending_order("stripe-start", 2).await;
    let first = started_intent(&token, &order).await;
    let again = started_intent(&token, &order).await;
    assert_eq!(first, again, "one PaymentIntent per order");
    let pi = localstripe_intent(&first).await;
    assert_eq!((pi["amount"].as_u64(), pi["currency"].as_str()), (Some(200), Some("usd")));
    assert_eq!(pi["metadata"]["order_id"], order.as_str());
    // Another user's order is not found; the page's word alone sells nothing.
    let stranger = new_user_token("stripe-stranger").await;
    assert_eq!(start(&stranger, &order).await.status, StatusCode::NOT_FOUND);
    let early = page_says_confirmed(&token, &order).await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{:?}", early.body);
    assert_eq!(early.body["order"]["status"], "PENDING_PAYMENT");
}

#[tokio::test]
async fn paid_by_card_form_the_order_is_sold_once_whether_webhook_or_page_comes_first() {
    // The webhook first (localstripe sends it about a second after the payment).
    let (token, product, order) = pending_order("stripe-webhook-first", 1).await;
    let pi = started_intent(&token, &order).await;
    assert_eq!(confirm_with_card(&pi, "pm_card_visa").await["status"], "succeeded");
    eventually("sold by the webhook", || status_of(&token, &order), |s| s == "PAID").await;
    let page = page_says_confirmed(&token, &order).await;
    assert_eq!((page.status, page.body["order"]["status"].clone()), (StatusCode::OK, json!("PAID")));
    assert_eq!(stock_of(&product).await, (4, 0, 1, 5));

    // The page first: sold at once; the webhook a second later changes nothing.
    let (token, product, order) = pending_order("stripe-page-first", 1).await;
    let pi = started_intent(&token, &order).await;
    confirm_with_card(&pi, "pm_card_visa").await;
    let page = page_says_confirmed(&token, &order).await;
    assert_eq!(page.body["order"]["status"], "PAID", "{:?}", page.body);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(stock_of(&product).await, (4, 0, 1, 5));
    assert_eq!(localstripe_intent(&pi).await["latest_charge"]["amount_refunded"], 0);
}

#[tokio::test]
async fn ten_confirmations_and_the_webhook_at_once_sell_the_order_once() {
    let (token, product, order) = pending_order("stripe-stampede", 2).await;
    let pi = started_intent(&token, &order).await;
    confirm_with_card(&pi, "pm_card_visa").await;
    let answers = futures::future::join_all((0..10).map(|_| page_says_confirmed(&token, &order))).await;
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        assert_eq!(answer.body["order"]["status"], "PAID");
    }
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(stock_of(&product).await, (3, 0, 2, 5), "sold once");
    assert_eq!(localstripe_intent(&pi).await["latest_charge"]["amount_refunded"], 0, "nothing refunded");
}

#[tokio::test]
async fn a_declined_card_leaves_the_order_payable_with_another() {
    let (token, product, order) = pending_order("stripe-declined", 1).await;
    let pi = started_intent(&token, &order).await;
    let declined = confirm_with_card(&pi, "pm_card_chargeCustomerFail").await;
    assert_eq!(declined["error"]["code"], "card_declined", "{declined}");
    let page = page_says_confirmed(&token, &order).await;
    assert_eq!(page.status, StatusCode::PAYMENT_REQUIRED, "{:?}", page.body);
    assert_eq!(page.body["order"]["status"], "PENDING_PAYMENT");
    // Another card, the same intent.
    assert_eq!(started_intent(&token, &order).await, pi);
    assert_eq!(confirm_with_card(&pi, "pm_card_visa").await["status"], "succeeded");
    assert_eq!(page_says_confirmed(&token, &order).await.body["order"]["status"], "PAID");
    assert_eq!(stock_of(&product).await, (4, 0, 1, 5));
}

#[tokio::test]
async fn a_payment_after_the_order_expired_is_refunded_and_sells_nothing() {
    let (token, product, order) = pending_order("stripe-late", 1).await;
    let pi = started_intent(&token, &order).await;
    set_expiry(&token, &order, now() - 1).await;
    eventually("expired by the sweeper", || status_of(&token, &order), |s| s == "EXPIRED").await;
    // The buyer's card goes through anyway (their page was still open).
    assert_eq!(confirm_with_card(&pi, "pm_card_visa").await["status"], "succeeded");
    let refunded = || async { localstripe_intent(&pi).await["latest_charge"]["amount_refunded"].as_u64() };
    eventually("refunded after the webhook", refunded, |r| *r == Some(100)).await;
    assert_eq!(status_of(&token, &order).await, "EXPIRED");
    assert_eq!(stock_of(&product).await, (5, 0, 0, 5), "not sold");
    let page = page_says_confirmed(&token, &order).await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{:?}", page.body);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(localstripe_intent(&pi).await["latest_charge"]["amount_refunded"], 100, "refunded once");
}

#[tokio::test]
async fn forged_stale_replayed_and_unknown_events_change_nothing() {
    let (token, product, order) = pending_order("stripe-events", 1).await;
    let pi = started_intent(&token, &order).await;
    // Succeeded at Stripe; the test delivers its events itself.
    confirm_with_card(&pi, "pm_card_visa").await;
    let event = succeeded_event(&format!("evt_{}", uuid::Uuid::new_v4().simple()), &localstripe_intent(&pi).await);

    let forged = deliver(&event, now(), "whsec_not_the_shops").await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    let stale = deliver(&event, now() - 3600, secret()).await;
    assert_eq!(stale.status, StatusCode::BAD_REQUEST);
    let unsigned = call(Method::POST, "/stripe/webhook").json(event.clone()).send().await;
    assert_eq!(unsigned.status, StatusCode::BAD_REQUEST);

    let first = deliver(&event, now(), secret()).await;
    assert_eq!((first.status, first.body["outcome"].clone()), (StatusCode::OK, json!("processed")), "{:?}", first.body);
    let replayed = deliver(&event, now(), secret()).await;
    assert_eq!(replayed.body["outcome"], "duplicate");
    assert_eq!(status_of(&token, &order).await, "PAID");
    assert_eq!(stock_of(&product).await, (4, 0, 1, 5));

    // An intent that names no order of this shop, an unknown type: acknowledged, ignored.
    let stranger =
        json!({ "id": "pi_unknown", "status": "succeeded", "amount": 100, "currency": "usd", "metadata": {} });
    let unknown = deliver(&succeeded_event("evt_unknown_pi", &stranger), now(), secret()).await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert!(unknown.body["outcome"].as_str().unwrap().starts_with("ignored"), "{:?}", unknown.body);
    let other_type = json!({ "id": "evt_other", "type": "customer.created", "data": { "object": {} } });
    assert_eq!(deliver(&other_type, now(), secret()).await.body["outcome"], "ignored: not a payment event");
}

#[tokio::test]
async fn a_payment_that_does_not_match_its_order_sells_nothing() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let (token, product, order) = pending_order("stripe-mismatch", 1).await;
    // An intent of another amount, recorded as the order's (as a bug or a hand edit might).
    let wrong = localstripe_post(
        "/v1/payment_intents",
        &[
            ("amount", "1"),
            ("currency", "usd"),
            ("payment_method", "pm_card_visa"),
            ("confirm", "true"),
            ("metadata[order_id]", order.as_str()),
        ],
    )
    .await;
    dynamodb()
        .await
        .put_item()
        .table_name(&stack().table)
        .item("pk", AttributeValue::S(format!("charge#{order}")))
        .item("sk", AttributeValue::S("charge".into()))
        .item("paymentIntent", AttributeValue::S(wrong["id"].as_str().unwrap().into()))
        .send()
        .await
        .unwrap();
    let page = page_says_confirmed(&token, &order).await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{:?}", page.body);
    assert!(page.body["message"].as_str().unwrap().contains("does not match"), "{:?}", page.body);
    assert_eq!(status_of(&token, &order).await, "PENDING_PAYMENT");
    assert_eq!(stock_of(&product).await, (4, 1, 0, 5));
}

#[tokio::test]
async fn a_card_token_still_pays_as_documented() {
    let (token, product, order) = pending_order("stripe-token", 1).await;
    let declined = pay(&token, &order, "tok_declined").await;
    assert_eq!(declined.status, StatusCode::PAYMENT_REQUIRED, "{:?}", declined.body);
    let down = pay(&token, &order, "tok_provider_error").await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    let paid = pay(&token, &order, "tok_visa").await;
    assert_eq!((paid.status, paid.body["order"]["status"].clone()), (StatusCode::OK, json!("PAID")));
    assert_eq!(stock_of(&product).await, (4, 0, 1, 5));
    // Charged through Stripe: the order's one intent, succeeded for its total.
    let charge = paid.body["order"]["chargeId"].as_str().unwrap_or_default().to_owned();
    let pi = localstripe_intent(&charge).await;
    assert_eq!((pi["status"].as_str(), pi["amount"].as_u64()), (Some("succeeded"), Some(100)), "{pi}");
}

#[tokio::test]
async fn an_admin_refunds_a_paid_order_once_and_its_units_go_back_on_sale() {
    let (token, product, order) = pending_order("stripe-refund", 2).await;
    let refund = |as_token: String| {
        let order = order.clone();
        async move { call(Method::POST, &format!("/orders/{order}/refund")).token(&as_token).send().await }
    };
    // Awaiting payment: nothing to refund.
    let early = refund(admin_token().await).await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{:?}", early.body);
    let paid = pay(&token, &order, "tok_visa").await;
    assert_eq!(paid.body["order"]["status"], "PAID");
    let intent_id = paid.body["order"]["chargeId"].as_str().unwrap().to_owned();
    assert_eq!(stock_of(&product).await, (3, 0, 2, 5));

    assert_eq!(refund(token.clone()).await.status, StatusCode::FORBIDDEN, "a customer cannot refund");
    let refunded = refund(admin_token().await).await;
    assert_eq!(refunded.status, StatusCode::OK, "{:?}", refunded.body);
    assert_eq!(refunded.body["order"]["status"], "REFUNDED");
    assert_eq!(stock_of(&product).await, (5, 0, 0, 5), "the units are back on sale");
    assert_eq!(localstripe_intent(&intent_id).await["latest_charge"]["amount_refunded"], 200);
    // Again: the same answer, nothing refunded twice.
    let again = refund(admin_token().await).await;
    assert_eq!(again.body["order"]["status"], "REFUNDED");
    assert_eq!(localstripe_intent(&intent_id).await["latest_charge"]["amount_refunded"], 200);
    assert_eq!(order_of(&token, &order).await.body["order"]["status"], "REFUNDED");
}
