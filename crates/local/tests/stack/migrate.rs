use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

async fn anonymous_cart_with(product: &str, quantity: i64) -> String {
    let reply = call(Method::POST, "/cart").json(json!({ "productId": product, "quantity": quantity })).send().await;
    assert_eq!(reply.status, StatusCode::OK);
    cart_id_from(&reply)
}

async fn user_cart(token: &str) -> Vec<(String, i64)> {
    let mut l = lines(&call(Method::GET, "/cart").token(token).send().await);
    l.sort();
    l
}

#[tokio::test]
async fn migrating_twice_gives_the_same_cart() {
    let product = product_for(30).await;
    let cart = anonymous_cart_with(&product, 2).await;
    let token = new_user_token("twice").await;
    for _ in 0..2 {
        let reply = call(Method::POST, "/cart/migrate").cookie(&cart).token(&token).send().await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    assert_eq!(user_cart(&token).await, vec![(product.clone(), 2)]);
}

#[tokio::test]
async fn concurrent_and_repeated_migrations_give_the_same_cart_while_cleanup_runs() {
    let (a, b) = (new_product(50, 100).await, new_product(50, 100).await);
    let cart = anonymous_cart_with(&a, 2).await;
    call(Method::POST, "/cart").cookie(&cart).json(json!({ "productId": b, "quantity": 5 })).send().await;
    let token = new_user_token("race").await;
    call(Method::POST, "/cart").token(&token).json(json!({ "productId": a, "quantity": 1 })).send().await;
    let mut expected = vec![(a.clone(), 3), (b.clone(), 5)];
    expected.sort();
    let migrate = || async {
        let reply = call(Method::POST, "/cart/migrate").cookie(&cart).token(&token).send().await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        let mut l = lines(&reply);
        l.sort();
        l
    };

    // Eight at once: every one answers the merged cart.
    let replies = futures::future::join_all((0..8).map(|_| migrate())).await;
    assert!(replies.iter().all(|l| *l == expected), "{replies:?}");
    // Again and again while the cleanup worker deletes the migrated lines.
    let anonymous = format!("cart#{cart}");
    let mut cleaned = false;
    for _ in 0..150 {
        assert_eq!(migrate().await, expected);
        if items_under(&anonymous).await == 0 {
            cleaned = true;
            break;
        }
    }
    assert!(cleaned, "the cleanup worker never deleted the migrated lines");
    assert_eq!(migrate().await, expected);
    assert_eq!(user_cart(&token).await, expected);
    assert_eq!(lines(&call(Method::GET, "/cart").cookie(&cart).send().await), vec![]);
    // Each unit counted once in the products' totals.
    let admin = admin_token().await;
    for (product, quantity) in &expected {
        let path = format!("/cart/{product}/total");
        eventually(
            "the total after migration",
            || call(Method::GET, &path).token(&admin).send(),
            |r| r.body["quantity"] == *quantity,
        )
        .await;
    }
}

#[tokio::test]
async fn migration_without_a_cookie_or_with_an_empty_cart_changes_nothing() {
    let product = product_for(33).await;
    let token = new_user_token("nocookie").await;
    call(Method::POST, "/cart").token(&token).json(json!({ "productId": product, "quantity": 1 })).send().await;
    let reply = call(Method::POST, "/cart/migrate").token(&token).send().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(lines(&reply), vec![(product.clone(), 1)]);
    let empty = uuid::Uuid::new_v4().to_string();
    let reply = call(Method::POST, "/cart/migrate").token(&token).cookie(&empty).send().await;
    assert_eq!(lines(&reply), vec![(product.clone(), 1)]);
    let reply = call(Method::POST, "/cart/migrate").token(&token).header("Cookie", "cartId=garbage").send().await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_merged_line_is_capped_not_refused() {
    let product = new_product(200, 100).await;
    let cart = anonymous_cart_with(&product, 80).await;
    let token = new_user_token("cap").await;
    call(Method::POST, "/cart").token(&token).json(json!({ "productId": product, "quantity": 50 })).send().await;
    let reply = call(Method::POST, "/cart/migrate").cookie(&cart).token(&token).send().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(lines(&reply), vec![(product.clone(), 100)]);
}

#[tokio::test]
async fn expired_anonymous_lines_are_not_migrated() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let product = product_for(35).await;
    let cart = anonymous_cart_with(&product, 2).await;
    dynamodb()
        .await
        .update_item()
        .table_name(&stack().table)
        .key("pk", AttributeValue::S(format!("cart#{cart}")))
        .key("sk", AttributeValue::S(format!("product#{product}")))
        .update_expression("SET expirationTime = :past")
        .expression_attribute_values(":past", AttributeValue::N("1000".into()))
        .send()
        .await
        .unwrap();
    let token = new_user_token("expired").await;
    let reply = call(Method::POST, "/cart/migrate").cookie(&cart).token(&token).send().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(lines(&reply), vec![]);
}
