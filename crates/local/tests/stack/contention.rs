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

/// Each stock shard's counters, as an admin's reshard answers them (a
/// reshard to the count it has changes nothing).
async fn shards_of(product: &str, count: u32) -> Vec<(i64, i64, i64, i64)> {
    let reply = call(Method::PUT, &format!("/product/{product}/stock/shards"))
        .token(&admin_token().await)
        .json(json!({ "shards": count }))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["shardStocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let n = |k: &str| s[k].as_i64().unwrap();
            let levels = (n("available"), n("reserved"), n("sold"), n("added"));
            assert_eq!(levels.0 + levels.1 + levels.2, levels.3, "a shard's invariant: {s}");
            levels
        })
        .collect()
}

/// Buyers of one unit each, their carts filled.
async fn buyers_of(product: &str, count: usize) -> Vec<String> {
    let mut buyers = Vec::new();
    for _ in 0..count {
        let buyer = new_user_token("sale").await;
        assert_eq!(add_as(&buyer, product, 1).await.status, StatusCode::OK);
        buyers.push(buyer);
    }
    buyers
}

/// Every buyer checks out at once; those told to come back (503) do, until
/// each has an order (201) or was told it is sold out (409): the counts.
async fn sale(buyers: &[String]) -> (usize, usize) {
    let mut waiting: Vec<&String> = buyers.iter().collect();
    let (mut sold, mut sold_out) = (0, 0);
    for _round in 0..20 {
        if waiting.is_empty() {
            break;
        }
        let replies = futures::future::join_all(waiting.iter().map(|b| checkout_as(b, None))).await;
        let mut again = Vec::new();
        for (buyer, reply) in waiting.into_iter().zip(replies) {
            match reply.status {
                StatusCode::CREATED => sold += 1,
                StatusCode::CONFLICT => {
                    assert!(reply.body["shortLines"].is_array(), "{:?}", reply.body);
                    sold_out += 1
                }
                StatusCode::SERVICE_UNAVAILABLE => again.push(buyer),
                other => panic!("{other}: {:?}", reply.body),
            }
        }
        waiting = again;
    }
    assert!(waiting.is_empty(), "buyers still told to retry after 20 rounds");
    (sold, sold_out)
}

#[tokio::test]
async fn a_sale_of_a_four_shard_product_sells_exactly_its_stock_under_contention() {
    let product = new_product(12, 500).await;
    assert_eq!(shards_of(&product, 4).await.iter().map(|s| s.0).collect::<Vec<_>>(), [3, 3, 3, 3], "spread evenly");
    let buyers = buyers_of(&product, 20).await;
    // Every shard takes 20 write units a second and holds items 20 ms per transaction.
    contend(&format!("product#{product}"), 20.0, 20.0).await;
    let (sold, sold_out) = sale(&buyers).await;
    contend(&format!("product#{product}"), 0.0, 0.0).await;
    // Exactly the stock: none oversold, and no buyer told "sold out" while a unit remained.
    assert_eq!((sold, sold_out), (12, 8));
    let shards = shards_of(&product, 4).await;
    assert!(shards.iter().all(|s| s.0 == 0 && s.3 == 3), "{shards:?}");
    assert_eq!(stock_of_product(&product).await, (0, 12, 0, 12));
    // Clean once the cart-totals consumer has caught up (its writes to the
    // product's partition were contended during the sale too).
    let clean = || async { crate::admin::reconcile(&product, false).0 };
    eventually("a clean reconcile", clean, |drift: &Vec<String>| drift.is_empty()).await;
}

#[tokio::test]
async fn resharding_during_a_sale_loses_and_invents_no_unit() {
    let product = new_product(40, 500).await;
    shards_of(&product, 2).await;
    let buyers = buyers_of(&product, 24).await;
    contend(&format!("product#{product}"), 0.0, 20.0).await;
    let admin = admin_token().await;
    let reshard = |count: u32| {
        call(Method::PUT, &format!("/product/{product}/stock/shards"))
            .token(&admin)
            .json(json!({ "shards": count }))
            .send()
    };
    // The sale, and meanwhile the admin goes to 4 shards, then back to 1.
    let (outcome, grown, shrunk) = tokio::join!(sale(&buyers), reshard(4), async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        reshard(1).await
    });
    contend(&format!("product#{product}"), 0.0, 0.0).await;
    // Each reshard applied, or lost to the other (409), or found the split's
    // items held past its retries (503: nothing changed, as on a busy machine).
    for reply in [&grown, &shrunk] {
        let answers = [StatusCode::OK, StatusCode::CONFLICT, StatusCode::SERVICE_UNAVAILABLE];
        assert!(answers.contains(&reply.status), "{:?}", reply.body);
    }
    assert_eq!(outcome, (24, 0), "40 units for 24 buyers");
    let total = stock_of_product(&product).await;
    assert_eq!(total, (16, 24, 0, 40), "the sum: every unit accounted for");
    // Clean once the cart-totals consumer has caught up (its writes to the
    // product's partition were contended during the sale too).
    let clean = || async { crate::admin::reconcile(&product, false).0 };
    eventually("a clean reconcile", clean, |drift: &Vec<String>| drift.is_empty()).await;
}

/// The product's stock as its page shows it to an admin: the sum of its shards.
async fn stock_of_product(product: &str) -> (i64, i64, i64, i64) {
    let reply = call(Method::GET, &format!("/product/{product}")).token(&admin_token().await).send().await;
    let stock = &reply.body["product"]["stock"];
    let n = |k: &str| stock[k].as_i64().unwrap();
    (n("available"), n("reserved"), n("sold"), n("added"))
}

#[tokio::test]
async fn a_contended_order_is_skipped_and_the_expiry_sweep_goes_on() {
    // A hot product whose stock partition refuses every write, and another.
    let (hot, other) = (new_product(10, 300).await, new_product(10, 300).await);
    let (hot_buyer, other_buyer) = (new_user_token("hot-expiry").await, new_user_token("other-expiry").await);
    assert_eq!(add_as(&hot_buyer, &hot, 1).await.status, StatusCode::OK);
    assert_eq!(add_as(&other_buyer, &other, 1).await.status, StatusCode::OK);
    let hot_order = checkout_as(&hot_buyer, None).await.body["order"]["orderId"].as_str().unwrap().to_owned();
    let other_order = checkout_as(&other_buyer, None).await.body["order"]["orderId"].as_str().unwrap().to_owned();
    // Half a write unit a second: a transaction's two units never fit.
    contend(&format!("product#{hot}"), 0.5, 0.0).await;
    // The hot order is due first, so a sweep meets it before the other.
    set_expiry(&hot_buyer, &hot_order, now() - 120).await;
    set_expiry(&other_buyer, &other_order, now() - 60).await;
    let status = |token: String, order: String| async move {
        order_of(&token, &order).await.body["order"]["status"].as_str().unwrap_or_default().to_owned()
    };
    // The sweeper (every second here) expires the other order past the hot one.
    eventually("the other order expired", || status(other_buyer.clone(), other_order.clone()), |s| s == "EXPIRED")
        .await;
    assert_eq!(stock_of(&other).await, (10, 0, 0, 10));
    assert_eq!(status(hot_buyer.clone(), hot_order.clone()).await, "PENDING_PAYMENT", "skipped while contended");
    // Once its partition has room, the next sweep expires it too.
    contend(&format!("product#{hot}"), 0.0, 0.0).await;
    eventually("the hot order expired", || status(hot_buyer.clone(), hot_order.clone()), |s| s == "EXPIRED").await;
    assert_eq!(stock_of(&hot).await, (10, 0, 0, 10));
}
