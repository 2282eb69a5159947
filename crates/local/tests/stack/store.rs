//! The store that never oversells: stock, checkout, payment, orders.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

fn order_id(reply: &Reply) -> String {
    reply.body["order"]["orderId"].as_str().unwrap_or_else(|| panic!("no order in {:?}", reply.body)).to_owned()
}

/// A checkout of the cart once any renewal cool-down has passed (an order of
/// the same product just ended unpaid: 3 s on this stack).
async fn checkout_when_allowed(token: &str) -> Reply {
    eventually(
        "a checkout after the renewal cool-down",
        || checkout_as(token, None),
        |r| r.status == StatusCode::CREATED,
    )
    .await
}

#[tokio::test]
async fn checkout_reserves_and_payment_commits_the_stock() {
    let product = new_product(10, 250).await;
    let token = new_user_token("buyer").await;
    assert_eq!(add_as(&token, &product, 2).await.status, StatusCode::OK);

    let reply = checkout_as(&token, None).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(lines(&reply), vec![(product.clone(), 2)], "the sample's products field");
    let order = &reply.body["order"];
    assert_eq!(order["status"], "PENDING_PAYMENT");
    assert_eq!(order["total"], 500);
    assert_eq!(order["lines"][0]["unitPrice"], 250);
    assert!(order["expiresAt"].as_i64().unwrap() > now() + 600, "default hold is 15 minutes");
    let id = order_id(&reply);
    assert_eq!(stock_of(&product).await, (8, 2, 0, 10));

    let listed = call(Method::GET, "/orders").token(&token).send().await;
    assert_eq!(listed.body["orders"][0]["orderId"], id.as_str());
    assert_eq!(order_of(&token, &id).await.body["order"]["status"], "PENDING_PAYMENT");

    let paid = pay(&token, &id, "tok_visa").await;
    assert_eq!(paid.status, StatusCode::OK, "{:?}", paid.body);
    assert_eq!(paid.body["order"]["status"], "PAID");
    let charge = paid.body["order"]["chargeId"].as_str().unwrap().to_owned();
    assert_eq!(stock_of(&product).await, (8, 0, 2, 10));
    // Bought units leave the cart.
    assert_eq!(lines(&call(Method::GET, "/cart").token(&token).send().await), vec![]);
    // Paying again charges nothing more.
    let again = pay(&token, &id, "tok_visa").await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["order"]["chargeId"], charge.as_str());
    assert_eq!(stock_of(&product).await, (8, 0, 2, 10));
    // And the product ranks among the best sellers.
    let best = call(Method::GET, "/bestsellers?limit=50").send().await;
    let ranked = best.body["products"].as_array().unwrap();
    let mine = ranked.iter().find(|p| p["productId"] == product.as_str()).expect("in best sellers");
    assert_eq!(mine["unitsSold"], 2);
    let sold: Vec<i64> = ranked.iter().map(|p| p["unitsSold"].as_i64().unwrap()).collect();
    assert!(sold.windows(2).all(|w| w[0] >= w[1]), "ordered by units sold: {sold:?}");
}

#[tokio::test]
async fn units_added_after_checkout_stay_in_the_cart() {
    let product = new_product(10, 100).await;
    let token = new_user_token("later").await;
    add_as(&token, &product, 2).await;
    let id = order_id(&checkout_as(&token, None).await);
    add_as(&token, &product, 1).await;
    assert_eq!(pay(&token, &id, "tok_visa").await.status, StatusCode::OK);
    let cart = call(Method::GET, "/cart").token(&token).send().await;
    assert_eq!(line_quantity(&cart, &product), Some(1));
}

#[tokio::test]
async fn a_declined_card_charges_nothing_and_the_order_can_be_paid_with_another() {
    let product = new_product(5, 100).await;
    let token = new_user_token("declined").await;
    add_as(&token, &product, 3).await;
    let id = order_id(&checkout_as(&token, None).await);
    assert_eq!(stock_of(&product).await, (2, 3, 0, 5));
    for _ in 0..2 {
        let reply = pay(&token, &id, "tok_declined").await;
        assert_eq!(reply.status, StatusCode::PAYMENT_REQUIRED);
        assert!(reply.body["message"].as_str().unwrap().contains("declined"));
        assert_eq!(reply.body["order"]["status"], "PENDING_PAYMENT");
        assert_eq!(stock_of(&product).await, (2, 3, 0, 5), "the reservation holds");
    }
    // Provider down after a decline: still nothing charged, nothing changed.
    assert_eq!(pay(&token, &id, "tok_provider_error").await.status, StatusCode::SERVICE_UNAVAILABLE);
    let paid = pay(&token, &id, "tok_visa").await;
    assert_eq!(paid.body["order"]["status"], "PAID", "{:?}", paid.body);
    assert_eq!(stock_of(&product).await, (2, 0, 3, 5));
    // Approved is final: a declined card afterwards returns the paid order.
    let again = pay(&token, &id, "tok_declined").await;
    assert_eq!((again.status, again.body["order"]["status"].clone()), (StatusCode::OK, json!("PAID")));
    assert_eq!(line_quantity(&call(Method::GET, "/cart").token(&token).send().await, &product), None);
}

#[tokio::test]
async fn a_declined_order_can_be_cancelled() {
    let product = new_product(5, 100).await;
    let token = new_user_token("declined-cancel").await;
    add_as(&token, &product, 2).await;
    let id = order_id(&checkout_as(&token, None).await);
    assert_eq!(pay(&token, &id, "tok_declined").await.status, StatusCode::PAYMENT_REQUIRED);
    let cancelled = call(Method::POST, &format!("/orders/{id}/cancel")).token(&token).send().await;
    assert_eq!(cancelled.body["order"]["status"], "CANCELLED");
    assert_eq!(stock_of(&product).await, (5, 0, 0, 5));
}

#[tokio::test]
async fn a_provider_error_changes_nothing_and_the_payment_can_be_retried() {
    let product = new_product(5, 100).await;
    let token = new_user_token("retry").await;
    add_as(&token, &product, 1).await;
    let id = order_id(&checkout_as(&token, None).await);
    let reply = pay(&token, &id, "tok_provider_error").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(order_of(&token, &id).await.body["order"]["status"], "PENDING_PAYMENT");
    assert_eq!(stock_of(&product).await, (4, 1, 0, 5));
    assert_eq!(pay(&token, &id, "tok_visa").await.body["order"]["status"], "PAID");
    assert_eq!(stock_of(&product).await, (4, 0, 1, 5));
}

#[tokio::test]
async fn cancelling_releases_the_reservation_once() {
    let product = new_product(5, 100).await;
    let token = new_user_token("cancel").await;
    add_as(&token, &product, 2).await;
    let id = order_id(&checkout_as(&token, None).await);
    let path = format!("/orders/{id}/cancel");
    for _ in 0..2 {
        let reply = call(Method::POST, &path).token(&token).send().await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body["order"]["status"], "CANCELLED");
        assert_eq!(stock_of(&product).await, (5, 0, 0, 5));
    }
    assert_eq!(pay(&token, &id, "tok_visa").await.status, StatusCode::CONFLICT);

    // A paid order cannot be cancelled. (The same lines check out again once
    // the renewal cool-down has passed.)
    let again =
        eventually("a checkout after the cool-down", || checkout_as(&token, None), |r| r.status == StatusCode::CREATED)
            .await;
    let id = order_id(&again);
    pay(&token, &id, "tok_visa").await;
    let reply = call(Method::POST, &format!("/orders/{id}/cancel")).token(&token).send().await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(stock_of(&product).await, (3, 0, 2, 5));
}

#[tokio::test]
async fn a_short_line_reserves_nothing_and_says_what_is_available() {
    let (plenty, scarce) = (new_product(10, 100).await, new_product(3, 100).await);
    let token = new_user_token("short").await;
    add_as(&token, &plenty, 2).await;
    add_as(&token, &scarce, 3).await;
    // Someone else buys two of the scarce product first.
    let rival = new_user_token("rival").await;
    add_as(&rival, &scarce, 2).await;
    assert_eq!(checkout_as(&rival, None).await.status, StatusCode::CREATED);

    let reply = checkout_as(&token, None).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(
        reply.body["shortLines"],
        json!([{ "productId": scarce, "name": reply.body["shortLines"][0]["name"], "requested": 3, "available": 1 }])
    );
    assert_eq!(stock_of(&plenty).await, (10, 0, 0, 10), "nothing half-reserved");
    assert_eq!(stock_of(&scarce).await, (1, 2, 0, 3));
}

#[tokio::test]
async fn the_cart_refuses_more_than_is_available() {
    let product = new_product(4, 100).await;
    let token = new_user_token("greedy").await;
    let reply = add_as(&token, &product, 5).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.body["available"], 4);
    let reply =
        call(Method::PUT, &format!("/cart/{product}")).token(&token).json(json!({ "quantity": 9 })).send().await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(add_as(&token, &product, 4).await.status, StatusCode::OK);
    // Taking units out is always allowed.
    assert_eq!(add_as(&token, &product, -1).await.status, StatusCode::OK);
}

#[tokio::test]
async fn checkout_needs_a_cart_and_a_user() {
    let token = new_user_token("empty").await;
    let reply = checkout_as(&token, None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["message"], "the cart is empty");
    assert_eq!(call(Method::POST, "/cart/checkout").send().await.status, StatusCode::UNAUTHORIZED);
    let reply = checkout_as(&token, Some("has spaces in it")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_cart_too_large_for_one_transaction_is_refused_clearly() {
    let token = new_user_token("bulk").await;
    // Products of its own: other tests check the totals of the seeded ones.
    let ids = futures::future::join_all((0..50).map(|_| new_product(5, 100))).await;
    for id in &ids {
        assert_eq!(add_as(&token, id, 1).await.status, StatusCode::OK);
    }
    let reply = checkout_as(&token, None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["message"].as_str().unwrap().contains("at most 48"), "{:?}", reply.body);
}

#[tokio::test]
async fn a_retried_checkout_with_the_same_key_returns_the_same_order() {
    let product = new_product(10, 100).await;
    let token = new_user_token("idem").await;
    add_as(&token, &product, 2).await;
    let key = uuid::Uuid::new_v4().to_string();
    let first = checkout_as(&token, Some(&key)).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = checkout_as(&token, Some(&key)).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(order_id(&first), order_id(&second));
    assert_eq!(stock_of(&product).await, (8, 2, 0, 10));
    // Concurrent retries of one key: still one order.
    let key = uuid::Uuid::new_v4().to_string();
    add_as(&token, &product, 1).await;
    let replies = futures::future::join_all((0..4).map(|_| checkout_as(&token, Some(&key)))).await;
    let ids: std::collections::HashSet<String> = replies.iter().map(order_id).collect();
    assert_eq!(ids.len(), 1, "{replies:?}");
    assert_eq!(stock_of(&product).await, (5, 5, 0, 10));
}

#[tokio::test]
async fn two_checkouts_of_one_cart_at_once_make_one_order() {
    let product = new_product(10, 100).await;
    let token = new_user_token("double").await;
    add_as(&token, &product, 3).await;
    let (a, b) = tokio::join!(checkout_as(&token, None), checkout_as(&token, None));
    assert!(a.status.is_success() && b.status.is_success(), "{a:?} {b:?}");
    assert_eq!(order_id(&a), order_id(&b));
    assert_eq!(stock_of(&product).await, (7, 3, 0, 10));
}

#[tokio::test]
async fn a_flash_sale_sells_exactly_the_stock() {
    let product = new_product(5, 999).await;
    let buyers = futures::future::join_all((0..16).map(|_| new_user_token("flash"))).await;
    for token in &buyers {
        assert_eq!(add_as(token, &product, 1).await.status, StatusCode::OK);
    }
    let checkouts = futures::future::join_all(buyers.iter().map(|t| checkout_as(t, None))).await;
    let won: Vec<(&String, String)> = buyers
        .iter()
        .zip(&checkouts)
        .filter(|(_, r)| r.status == StatusCode::CREATED)
        .map(|(t, r)| (t, order_id(r)))
        .collect();
    for reply in &checkouts {
        assert!(reply.status == StatusCode::CREATED || reply.status == StatusCode::CONFLICT, "{reply:?}");
    }
    assert_eq!(won.len(), 5, "exactly the stock is reserved");
    let payments = futures::future::join_all(won.iter().map(|(t, id)| pay(t, id, "tok_visa"))).await;
    assert!(payments.iter().all(|p| p.status == StatusCode::OK));
    assert_eq!(stock_of(&product).await, (0, 0, 5, 5));
}

#[tokio::test]
async fn paying_twice_at_once_charges_once() {
    let product = new_product(5, 100).await;
    let token = new_user_token("twice").await;
    add_as(&token, &product, 1).await;
    let id = order_id(&checkout_as(&token, None).await);
    let replies = futures::future::join_all((0..4).map(|_| pay(&token, &id, "tok_visa"))).await;
    let charges: std::collections::HashSet<String> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::OK, "{r:?}");
            r.body["order"]["chargeId"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(charges.len(), 1);
    assert_eq!(stock_of(&product).await, (4, 0, 1, 5));
}

#[tokio::test]
async fn an_unpaid_order_expires_and_its_stock_returns_within_a_minute() {
    let product = new_product(5, 100).await;
    let token = new_user_token("slow").await;
    add_as(&token, &product, 2).await;
    let id = order_id(&checkout_as(&token, None).await);
    set_expiry(&token, &id, now() - 1).await;
    // The scheduled sweeper (every second here, every minute deployed) expires it.
    eventually("expiry", || order_of(&token, &id), |r| r.body["order"]["status"] == "EXPIRED").await;
    assert_eq!(stock_of(&product).await, (5, 0, 0, 5));
    let reply = pay(&token, &id, "tok_visa").await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn payment_racing_expiry_moves_the_stock_once() {
    let product = new_product(20, 100).await;
    let token = new_user_token("racer").await;
    for round in 0..4 {
        add_as(&token, &product, 1).await;
        let id = order_id(&checkout_when_allowed(&token).await);
        set_expiry(&token, &id, now() + 1).await;
        tokio::time::sleep(std::time::Duration::from_millis(700 + 100 * round)).await;
        let reply = pay(&token, &id, "tok_visa").await;
        let status = order_of(&token, &id).await.body["order"]["status"].as_str().unwrap().to_owned();
        match reply.status {
            StatusCode::OK => assert_eq!(status, "PAID"),
            StatusCode::CONFLICT => assert_eq!(status, "EXPIRED", "{:?}", reply.body),
            other => panic!("unexpected {other}: {:?}", reply.body),
        }
        let (available, reserved, sold, added) = stock_of(&product).await;
        assert_eq!(reserved, 0);
        assert_eq!(available + sold, added);
    }
}

#[tokio::test]
async fn orders_are_private_and_admins_see_all() {
    let product = new_product(5, 100).await;
    let owner = new_user_token("owner").await;
    let stranger = new_user_token("stranger").await;
    add_as(&owner, &product, 1).await;
    let id = order_id(&checkout_as(&owner, None).await);
    assert_eq!(order_of(&stranger, &id).await.status, StatusCode::NOT_FOUND);
    assert_eq!(pay(&stranger, &id, "tok_visa").await.status, StatusCode::NOT_FOUND);
    let cancel = call(Method::POST, &format!("/orders/{id}/cancel")).token(&stranger).send().await;
    assert_eq!(cancel.status, StatusCode::NOT_FOUND);
    assert_eq!(call(Method::GET, "/orders").token(&stranger).send().await.body["orders"], json!([]));
    assert_eq!(call(Method::GET, "/orders?all=true").token(&stranger).send().await.status, StatusCode::FORBIDDEN);
    assert_eq!(order_of(&owner, "not-a-uuid").await.status, StatusCode::BAD_REQUEST);

    let admin = admin_token().await;
    assert_eq!(order_of(&admin, &id).await.body["order"]["orderId"], id.as_str());
    let all = call(Method::GET, "/orders?all=true&limit=100").token(&admin).send().await;
    assert!(all.body["orders"].as_array().unwrap().iter().any(|o| o["orderId"] == id.as_str()));
    assert_eq!(stock_of(&product).await, (4, 1, 0, 5), "nothing a stranger did moved stock");
}

#[tokio::test]
async fn order_history_is_newest_first_and_paged() {
    let product = new_product(10, 100).await;
    let token = new_user_token("history").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        add_as(&token, &product, 1).await;
        let id = order_id(&checkout_when_allowed(&token).await);
        call(Method::POST, &format!("/orders/{id}/cancel")).token(&token).send().await;
        ids.push(id);
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/orders?limit=2&cursor={c}"),
            None => "/orders?limit=2".to_owned(),
        };
        let page = call(Method::GET, &path).token(&token).send().await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        seen.extend(page.body["orders"].as_array().unwrap().iter().map(|o| o["orderId"].as_str().unwrap().to_owned()));
        match page.body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let whole = call(Method::GET, "/orders?limit=3").token(&token).send().await;
    assert_eq!(whole.body["orders"].as_array().unwrap().len(), 3);
    assert!(whole.body.get("nextCursor").is_none(), "a full last page has no cursor");
    let bad = call(Method::GET, "/orders?cursor=garbage").token(&token).send().await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(call(Method::GET, "/orders?limit=0").token(&token).send().await.status, StatusCode::BAD_REQUEST);
}

/// A charge recorded for an order that then ends unsold (as when a payment
/// crashed after charging, before recording the sale) is refunded.
#[tokio::test]
async fn a_charge_left_behind_is_refunded_when_the_order_is_released() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let product = new_product(5, 100).await;
    let token = new_user_token("crashed").await;
    let db = dynamodb().await;
    let ledger = |order: String| {
        let db = db.clone();
        async move {
            db.get_item()
                .table_name(&stack().table)
                .key("pk", AttributeValue::S(format!("charge#{order}")))
                .key("sk", AttributeValue::S("charge".into()))
                .consistent_read(true)
                .send()
                .await
                .unwrap()
                .item
        }
    };
    let (mut orders, mut charges) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        add_as(&token, &product, 1).await;
        let id = order_id(&checkout_as(&token, None).await);
        // The charge the crashed payment made.
        charges.push(crashed_charge(&id, 100).await);
        orders.push(id);
    }
    // One is cancelled by the buyer, the other expires.
    let cancelled = call(Method::POST, &format!("/orders/{}/cancel", orders[0])).token(&token).send().await;
    assert_eq!(cancelled.status, StatusCode::OK);
    set_expiry(&token, &orders[1], now() - 1).await;
    eventually("expiry", || order_of(&token, &orders[1]), |r| r.body["order"]["status"] == "EXPIRED").await;
    for (id, charge) in orders.iter().zip(&charges) {
        let record = ledger(id.clone()).await.expect("ledger entry");
        assert_eq!(record["refunded"], AttributeValue::Bool(true), "{id}");
        // With Stripe, the money went back: once, in full.
        if let Some(refunded) = stripe_refunded(charge).await {
            assert_eq!(refunded, 100, "{id}");
        }
    }
    assert_eq!(stock_of(&product).await, (5, 0, 0, 5));
}

#[tokio::test]
async fn nobody_holds_more_unpaid_orders_than_the_cap() {
    let token = new_user_token("hoarder").await;
    let product = new_product(20, 100).await;
    let mut orders = Vec::new();
    for _ in 0..3 {
        assert_eq!(add_as(&token, &product, 1).await.status, StatusCode::OK);
        let reply = checkout_as(&token, None).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        orders.push(reply.body["order"]["orderId"].as_str().unwrap().to_owned());
    }
    let reserved = stock_of(&product).await.1;
    assert_eq!(add_as(&token, &product, 1).await.status, StatusCode::OK);
    let refused = checkout_as(&token, None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
    assert!(refused.body["message"].as_str().unwrap().contains("awaiting payment"), "{:?}", refused.body);
    assert_eq!(stock_of(&product).await.1, reserved, "the refused checkout reserved nothing");
    // Cancelling one frees a place (once the renewal cool-down has passed).
    let cancelled = call(Method::POST, &format!("/orders/{}/cancel", orders[0])).token(&token).send().await;
    assert_eq!(cancelled.status, StatusCode::OK);
    eventually("a checkout after the cool-down", || checkout_as(&token, None), |r| r.status == StatusCode::CREATED)
        .await;
}

#[tokio::test]
async fn one_account_cannot_hold_a_products_stock_and_renews_its_hold_only_after_a_cool_down() {
    let product = new_product(50, 100).await;
    let hoarder = new_user_token("hoarder-units").await;
    // One line over the cap (10 units of a product held awaiting payment).
    assert_eq!(add_as(&hoarder, &product, 11).await.status, StatusCode::OK);
    let refused = checkout_as(&hoarder, None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
    assert!(refused.body["message"].as_str().unwrap().contains("at most 10"), "{:?}", refused.body);
    assert_eq!(stock_of(&product).await, (50, 0, 0, 50));
    // 6 held, then 5 more in a second order: over the cap across orders.
    let set_line = |quantity: i64| {
        call(Method::PUT, &format!("/cart/{product}")).token(&hoarder).json(json!({ "quantity": quantity })).send()
    };
    assert_eq!(set_line(6).await.status, StatusCode::OK);
    let first = order_id(&checkout_as(&hoarder, None).await);
    let other = new_user_token("hoarder-other").await;
    assert_eq!(set_line(5).await.status, StatusCode::OK);
    let refused = checkout_as(&hoarder, None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
    assert!(refused.body["message"].as_str().unwrap().contains("you hold 6"), "{:?}", refused.body);
    assert_eq!(stock_of(&product).await, (44, 6, 0, 50), "the refused checkout reserved nothing");
    // Cancelling does not renew the hold at once: the units go to others first.
    let cancelled = call(Method::POST, &format!("/orders/{first}/cancel")).token(&hoarder).send().await;
    assert_eq!(cancelled.status, StatusCode::OK);
    // Even with the cart line edited since (no link to the old order left).
    assert_eq!(set_line(6).await.status, StatusCode::OK);
    let renewed = checkout_as(&hoarder, None).await;
    assert_eq!(renewed.status, StatusCode::CONFLICT, "{:?}", renewed.body);
    assert!(
        renewed.body["message"].as_str().unwrap().contains("offered to other shoppers first"),
        "{:?}",
        renewed.body
    );
    assert_eq!(add_as(&other, &product, 10).await.status, StatusCode::OK);
    assert_eq!(checkout_as(&other, None).await.status, StatusCode::CREATED, "another shopper takes them meanwhile");
    // After the cool-down (3 s on this stack) the hoarder may check out again.
    let again = eventually(
        "a checkout after the cool-down",
        || checkout_as(&hoarder, None),
        |r| r.status == StatusCode::CREATED,
    )
    .await;
    assert_eq!(again.body["order"]["lines"][0]["quantity"], 6);
    assert_eq!(stock_of(&product).await, (34, 16, 0, 50));
    assert_eq!(crate::admin::reconcile(&product, false).0, Vec::<String>::new());
}
