//! The Python sample frontend's whole journey, against the real API.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::cart::sub_of;
use crate::support::*;

#[tokio::test]
async fn browse_shop_anonymously_sign_in_migrate_and_admin_reads_totals() {
    // Browse.
    let products = catalog().await;
    assert!(!products.is_empty());
    let (apples, pears) = (product_for(10).await, product_for(11).await);
    let detail = call(Method::GET, &format!("/product/{apples}")).send().await;
    assert_eq!(detail.status, StatusCode::OK);

    // Add anonymously: the first call issues the cart cookie.
    let first = call(Method::POST, "/cart").json(json!({ "productId": apples, "quantity": 1 })).send().await;
    assert_eq!(first.status, StatusCode::OK);
    let cart = cart_id_from(&first);
    let add = |product: &str, quantity: i64| {
        call(Method::POST, "/cart").cookie(&cart).json(json!({ "productId": product, "quantity": quantity })).send()
    };
    add(&apples, 1).await;
    add(&apples, 1).await;
    add(&pears, 1).await;
    // Remove one, as the sample's "-" button does.
    let reply = add(&apples, -1).await;
    assert_eq!(reply.body["quantity"], 2);
    // Set a quantity.
    let reply = call(Method::PUT, &format!("/cart/{pears}")).cookie(&cart).json(json!({ "quantity": 3 })).send().await;
    assert_eq!(reply.status, StatusCode::OK);
    let anonymous = call(Method::GET, "/cart").cookie(&cart).send().await;
    let mut seen = lines(&anonymous);
    seen.sort();
    let mut expected = vec![(apples.clone(), 2), (pears.clone(), 3)];
    expected.sort();
    assert_eq!(seen, expected);

    // Sign in with Cognito: this user already had one apple in their cart.
    let token = new_user_token("journey").await;
    call(Method::POST, "/cart").token(&token).json(json!({ "productId": apples, "quantity": 1 })).send().await;

    // Migrate: quantities merge.
    let migrated = call(Method::POST, "/cart/migrate").cookie(&cart).token(&token).send().await;
    assert_eq!(migrated.status, StatusCode::OK);
    let mut merged = lines(&migrated);
    merged.sort();
    let mut expected = vec![(apples.clone(), 3), (pears.clone(), 3)];
    expected.sort();
    assert_eq!(merged, expected);
    let mut user_cart = lines(&call(Method::GET, "/cart").token(&token).send().await);
    user_cart.sort();
    assert_eq!(user_cart, expected);

    // The cookie cart is empty at once...
    assert_eq!(lines(&call(Method::GET, "/cart").cookie(&cart).send().await), vec![]);
    // ...and the cleanup worker deletes its old lines through SQS.
    let cart_pk = format!("cart#{cart}");
    eventually("migrated lines deleted", || items_under(&cart_pk), |n| *n == 0).await;
    assert_eq!(items_under(&format!("user#{}", sub_of(&token))).await, 2);

    // The admin reads per-product totals once the stream has drained.
    let admin = admin_token().await;
    for (product, units) in [(&apples, 3), (&pears, 3)] {
        let path = format!("/cart/{product}/total");
        let reply =
            eventually("cart total", || call(Method::GET, &path).token(&admin).send(), |r| r.body["quantity"] == units)
                .await;
        assert_eq!(reply.body, json!({ "product": product, "quantity": units }));
    }
}
