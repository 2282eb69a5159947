//! Checkout against a table that contends as DynamoDB does: the emulator is
//! told to throttle, or to hold transactions' items, on one test product's
//! partitions only (other tests share the stack).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

/// Sets the emulator's contention for partitions starting with `prefix`.
async fn contend(prefix: &str, wcu: f64, transaction_ms: f64) -> Value {
    let reply = http()
        .post(format!("{}/_shop/contention", stack().emulator))
        .json(&json!({ "prefix": prefix, "wcu": wcu, "transactionMs": transaction_ms }))
        .send()
        .await
        .expect("contention control");
    assert!(reply.status().is_success());
    reply.json().await.unwrap()
}

#[tokio::test]
async fn a_checkout_throttled_past_its_retries_answers_503_and_reserves_nothing() {
    let product = new_product(10, 300).await;
    let buyer = new_user_token("throttled").await;
    assert_eq!(add_as(&buyer, &product, 2).await.status, StatusCode::OK);
    // One write unit a second: a checkout's transaction needs two on the stock item.
    let before = contend(&format!("product#{product}"), 1.0, 0.0).await;
    let refused = checkout_as(&buyer, None).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", refused.body);
    assert_eq!(refused.headers["retry-after"], "1");
    assert!(refused.body["message"].as_str().unwrap().contains("nothing was changed"), "{:?}", refused.body);
    let after = contend(&format!("product#{product}"), 0.0, 0.0).await;
    assert!(after["throttled"].as_u64() > before["throttled"].as_u64(), "{after}");
    // Nothing reserved, no order, the cart as it was.
    assert_eq!(stock_of(&product).await, (10, 0, 0, 10));
    let orders = call(Method::GET, "/orders").token(&buyer).send().await;
    assert_eq!(orders.body["orders"], json!([]));
    // Once the partition has room, the same cart checks out.
    let done = checkout_as(&buyer, None).await;
    assert_eq!(done.status, StatusCode::CREATED, "{:?}", done.body);
    assert_eq!(stock_of(&product).await, (8, 2, 0, 10));
}

#[tokio::test]
async fn checkouts_that_conflict_on_a_held_stock_item_are_retried_and_all_go_through() {
    let product = new_product(20, 300).await;
    let mut buyers = Vec::new();
    for _ in 0..4 {
        let buyer = new_user_token("conflict").await;
        assert_eq!(add_as(&buyer, &product, 1).await.status, StatusCode::OK);
        buyers.push(buyer);
    }
    // Each transaction holds the stock item for 50 ms: checkouts at once collide.
    let before = contend(&format!("product#{product}"), 0.0, 50.0).await;
    let replies = futures::future::join_all(buyers.iter().map(|b| checkout_as(b, None))).await;
    let after = contend(&format!("product#{product}"), 0.0, 0.0).await;
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    }
    assert!(after["conflicts"].as_u64() > before["conflicts"].as_u64(), "no conflict was seen: {after}");
    assert_eq!(stock_of(&product).await, (16, 4, 0, 20));
}
