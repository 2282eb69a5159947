//! The stage's throttles, as the template sets them and API Gateway applies
//! them: a token bucket per method, shared by every caller, 429 past it.

use std::path::Path;

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_method_past_its_throttle_is_answered_429_and_other_routes_are_not() {
    // A stack of its own, with checkout's limit set as `sam deploy --parameter-overrides` would.
    let child = shop_local::stack::spawn_child_stack(
        Path::new(env!("CARGO_BIN_EXE_shop-local")),
        &workspace_root(),
        &[("SHOP_PARAMETER_OVERRIDES", "CheckoutRateLimit=1 CheckoutBurstLimit=3")],
    )
    .expect("a stack");
    let api = child.coordinates().expect("coordinates")["apiUrl"].as_str().unwrap().to_owned();
    let client = http();
    let replies = join_all((0..8).map(|_| client.post(format!("{api}/cart/checkout")).send())).await;
    let mut statuses = Vec::new();
    for reply in replies {
        let reply = reply.unwrap();
        let status = reply.status();
        let body: serde_json::Value = reply.json().await.unwrap();
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(body, json!({ "message": "Too Many Requests" }), "API Gateway's throttled answer");
        }
        statuses.push(status);
    }
    // Throttled before the authorizer: the burst's 3 reach it (401 without a
    // token; a fourth if a slow machine let the bucket refill), the rest wait.
    let through = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let throttled = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert!((3..=4).contains(&through) && through + throttled == 8, "{statuses:?}");
    // Another method keeps the stage's default, its own bucket.
    for _ in 0..8 {
        assert_eq!(client.get(format!("{api}/product")).send().await.unwrap().status(), StatusCode::OK);
    }
    // The bucket refills at the rate.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(client.post(format!("{api}/cart/checkout")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_default_throttles_carry_a_burst_of_shoppers() {
    // Several times what `make bench`'s load keeps in flight (8 connections),
    // at once: no 429. (The shared stack's emulator answers one call at a
    // time, so not so many that other tests' calls time out.)
    let product = product_for(41).await;
    let reads = (0..40).map(|_| call(Method::GET, "/product").send());
    let adds = (0..20).map(|_| call(Method::POST, "/cart").json(json!({ "productId": product, "quantity": 1 })).send());
    let (reads, adds) = tokio::join!(join_all(reads), join_all(adds));
    for reply in reads.iter().chain(adds.iter()) {
        assert_ne!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", reply.body);
    }
}
