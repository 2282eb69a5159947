//! Hostile and broken input on every endpoint: each refusal is a 4xx JSON
//! `{"message"}` that says what was wrong and nothing of our internals, and
//! nothing is written. (The cart's own bodies are covered in `cart.rs`.)

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

/// Words of ours that must never reach a client.
const INTERNAL: [&str; 9] =
    ["dynamodb", "DynamoDB", "arn:", "panicked", "Error {", "serde", "TransactionCanceled", "at line", "sdk"];

fn assert_clear_refusal(what: &str, reply: &Reply, expected: StatusCode) {
    assert_eq!(reply.status, expected, "{what}: {:?}", reply.body);
    let message = reply.body["message"].as_str().unwrap_or_else(|| panic!("{what}: no message in {:?}", reply.body));
    assert!(!message.is_empty(), "{what}");
    for word in INTERNAL {
        assert!(!message.contains(word), "{what}: internal text {word:?} in {message:?}");
    }
    let content_type = reply.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(content_type.starts_with("application/json"), "{what}: {content_type}");
}

/// What, method, path, token, an extra header, body, the answer expected.
type Case<'a> = (&'a str, Method, String, Option<&'a str>, Option<(&'a str, &'a str)>, Option<String>, StatusCode);

#[tokio::test]
async fn every_endpoint_refuses_broken_input_clearly_and_writes_nothing() {
    let admin = admin_token().await;
    let user = new_user_token("hostile").await;
    let product = new_product(5, 100).await;
    let product_path = format!("/product/{product}");
    let stock_path = format!("/product/{product}/stock");
    let long_id = "p".repeat(65);
    let big = format!(r#"{{"name":"{}"}}"#, "x".repeat(20_000));
    let fresh_id = format!("hostile-{}", uuid::Uuid::new_v4().simple());
    let order = uuid::Uuid::new_v4();
    let bad_request = StatusCode::BAD_REQUEST;
    let long_key = "k".repeat(65);
    let long_cookie = format!("cartId={}", "a".repeat(5000));

    let cases: Vec<Case> = vec![
        // Catalog administration.
        (
            "create: malformed JSON",
            Method::POST,
            "/product".into(),
            Some(&admin),
            None,
            Some(r#"{"name":"#.into()),
            bad_request,
        ),
        (
            "create: missing fields",
            Method::POST,
            "/product".into(),
            Some(&admin),
            None,
            Some(r#"{"name":"x"}"#.into()),
            bad_request,
        ),
        (
            "create: unknown field",
            Method::POST,
            "/product".into(),
            Some(&admin),
            None,
            Some(format!(r#"{{"productId":"{fresh_id}","name":"x","category":"c","price":1,"isAdmin":true}}"#)),
            bad_request,
        ),
        (
            "create: unknown field in the package",
            Method::POST,
            "/product".into(),
            Some(&admin),
            None,
            Some(format!(
                r#"{{"productId":"{fresh_id}","name":"x","category":"c","price":1,"package":{{"height":1,"length":1,"weight":1,"width":1,"evil":1}}}}"#
            )),
            bad_request,
        ),
        (
            "edit: unknown field in the package",
            Method::PUT,
            product_path.clone(),
            Some(&admin),
            None,
            Some(r#"{"package":{"height":1,"length":1,"weight":1,"width":1,"evil":1}}"#.into()),
            bad_request,
        ),
        (
            "create: price as text",
            Method::POST,
            "/product".into(),
            Some(&admin),
            None,
            Some(format!(r#"{{"productId":"{fresh_id}","name":"x","category":"c","price":"1"}}"#)),
            bad_request,
        ),
        (
            "create: negative price",
            Method::POST,
            "/product".into(),
            Some(&admin),
            None,
            Some(format!(r#"{{"productId":"{fresh_id}","name":"x","category":"c","price":-1}}"#)),
            bad_request,
        ),
        (
            "create: fractional price",
            Method::POST,
            "/product".into(),
            Some(&admin),
            None,
            Some(format!(r#"{{"productId":"{fresh_id}","name":"x","category":"c","price":1.5}}"#)),
            bad_request,
        ),
        (
            "create: huge stock",
            Method::POST,
            "/product".into(),
            Some(&admin),
            None,
            Some(format!(
                r#"{{"productId":"{fresh_id}","name":"x","category":"c","price":1,"initialStock":99999999999}}"#
            )),
            bad_request,
        ),
        (
            "create: over-long id",
            Method::POST,
            "/product".into(),
            Some(&admin),
            None,
            Some(format!(r#"{{"productId":"{long_id}","name":"x","category":"c","price":1}}"#)),
            bad_request,
        ),
        (
            "create: id with a key separator",
            Method::POST,
            "/product".into(),
            Some(&admin),
            None,
            Some(r##"{"productId":"a#meta","name":"x","category":"c","price":1}"##.into()),
            bad_request,
        ),
        (
            "create: over-long name",
            Method::POST,
            "/product".into(),
            Some(&admin),
            None,
            Some(format!(r#"{{"productId":"{fresh_id}","name":"{}","category":"c","price":1}}"#, "n".repeat(201))),
            bad_request,
        ),
        (
            "create: body over the limit",
            Method::POST,
            "/product".into(),
            Some(&admin),
            None,
            Some(big.clone()),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "edit: unknown field",
            Method::PUT,
            product_path.clone(),
            Some(&admin),
            None,
            Some(r#"{"stock":1000}"#.into()),
            bad_request,
        ),
        (
            "edit: wrong type",
            Method::PUT,
            product_path.clone(),
            Some(&admin),
            None,
            Some(r#"{"tags":"a,b"}"#.into()),
            bad_request,
        ),
        (
            "edit: over-long id",
            Method::PUT,
            format!("/product/{long_id}"),
            Some(&admin),
            None,
            Some(r#"{"name":"x"}"#.into()),
            bad_request,
        ),
        (
            "edit: body over the limit",
            Method::PUT,
            product_path.clone(),
            Some(&admin),
            None,
            Some(big.clone()),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "restock: fractional",
            Method::POST,
            stock_path.clone(),
            Some(&admin),
            None,
            Some(r#"{"delta":1.5}"#.into()),
            bad_request,
        ),
        (
            "restock: huge",
            Method::POST,
            stock_path.clone(),
            Some(&admin),
            None,
            Some(r#"{"delta":1e12}"#.into()),
            bad_request,
        ),
        (
            "restock: overflowing",
            Method::POST,
            stock_path.clone(),
            Some(&admin),
            None,
            Some(r#"{"delta":99999999999999999999}"#.into()),
            bad_request,
        ),
        (
            "restock: zero",
            Method::POST,
            stock_path.clone(),
            Some(&admin),
            None,
            Some(r#"{"delta":0}"#.into()),
            bad_request,
        ),
        (
            "restock: unknown field",
            Method::POST,
            stock_path.clone(),
            Some(&admin),
            None,
            Some(r#"{"delta":1,"sold":-5}"#.into()),
            bad_request,
        ),
        (
            "restock: over-long key",
            Method::POST,
            stock_path.clone(),
            Some(&admin),
            Some(("Idempotency-Key", &long_key)),
            Some(r#"{"delta":1}"#.into()),
            bad_request,
        ),
        (
            "restock: key with spaces",
            Method::POST,
            stock_path.clone(),
            Some(&admin),
            Some(("Idempotency-Key", "a b")),
            Some(r#"{"delta":1}"#.into()),
            bad_request,
        ),
        (
            "restock: key with a comma",
            Method::POST,
            stock_path.clone(),
            Some(&admin),
            Some(("Idempotency-Key", "a,b")),
            Some(r#"{"delta":1}"#.into()),
            bad_request,
        ),
        (
            "cart: key with a comma",
            Method::POST,
            "/cart".into(),
            Some(&user),
            Some(("Idempotency-Key", "a,b")),
            Some(format!(r#"{{"productId":"{product}","quantity":1}}"#)),
            bad_request,
        ),
        (
            "restock: key with a path",
            Method::POST,
            stock_path.clone(),
            Some(&admin),
            Some(("Idempotency-Key", "../x")),
            Some(r#"{"delta":1}"#.into()),
            bad_request,
        ),
        (
            "cart: key with a path",
            Method::POST,
            "/cart".into(),
            Some(&user),
            Some(("Idempotency-Key", "../x")),
            Some(format!(r#"{{"productId":"{product}","quantity":1}}"#)),
            bad_request,
        ),
        (
            "restock: key with a star",
            Method::POST,
            stock_path.clone(),
            Some(&admin),
            Some(("Idempotency-Key", "k*")),
            Some(r#"{"delta":1}"#.into()),
            bad_request,
        ),
        (
            "cart: key with a star",
            Method::POST,
            "/cart".into(),
            Some(&user),
            Some(("Idempotency-Key", "k*")),
            Some(format!(r#"{{"productId":"{product}","quantity":1}}"#)),
            bad_request,
        ),
        (
            "restock: key with the key separator",
            Method::POST,
            stock_path.clone(),
            Some(&admin),
            Some(("Idempotency-Key", "order#1")),
            Some(r#"{"delta":1}"#.into()),
            bad_request,
        ),
        (
            "cart: key with the key separator",
            Method::POST,
            "/cart".into(),
            Some(&user),
            Some(("Idempotency-Key", "order#1")),
            Some(format!(r#"{{"productId":"{product}","quantity":1}}"#)),
            bad_request,
        ),
        // Catalog reads.
        ("product: over-long id", Method::GET, format!("/product/{long_id}"), None, None, None, bad_request),
        ("product: id with a key separator", Method::GET, "/product/a%23meta".into(), None, None, None, bad_request),
        (
            "page: bad cursor",
            Method::GET,
            "/product?category=test-goods&cursor=AAAA".into(),
            None,
            None,
            None,
            bad_request,
        ),
        ("page: negative limit", Method::GET, "/product?limit=-1".into(), None, None, None, bad_request),
        ("page: fractional limit", Method::GET, "/product?limit=1.5".into(), None, None, None, bad_request),
        ("page: huge limit", Method::GET, "/product?limit=99999999999".into(), None, None, None, bad_request),
        ("page: bad category", Method::GET, "/product?category=%00".into(), None, None, None, bad_request),
        ("bestsellers: bad limit", Method::GET, "/bestsellers?limit=abc".into(), None, None, None, bad_request),
        ("total: over-long id", Method::GET, format!("/cart/{long_id}/total"), Some(&admin), None, None, bad_request),
        // Carts.
        (
            "cart: bad cookie",
            Method::GET,
            "/cart".into(),
            None,
            Some(("Cookie", "cartId=../../etc")),
            None,
            bad_request,
        ),
        ("cart: cookie too long", Method::GET, "/cart".into(), None, Some(("Cookie", &long_cookie)), None, bad_request),
        (
            "cart line: over-long id",
            Method::PUT,
            format!("/cart/{long_id}"),
            Some(&user),
            None,
            Some(r#"{"quantity":1}"#.into()),
            bad_request,
        ),
        (
            "migrate: bad cookie",
            Method::POST,
            "/cart/migrate".into(),
            Some(&user),
            Some(("Cookie", "cartId=1")),
            None,
            bad_request,
        ),
        ("checkout: empty cart", Method::POST, "/cart/checkout".into(), Some(&user), None, None, bad_request),
        (
            "checkout: bad key",
            Method::POST,
            "/cart/checkout".into(),
            Some(&user),
            Some(("Idempotency-Key", "#")),
            None,
            bad_request,
        ),
        // Orders.
        (
            "orders: bad cursor",
            Method::GET,
            "/orders?cursor=eyJwayI6InVzZXIjb3RoZXIifQ".into(),
            Some(&user),
            None,
            None,
            bad_request,
        ),
        ("orders: bad limit", Method::GET, "/orders?limit=0".into(), Some(&user), None, None, bad_request),
        ("orders: bad all", Method::GET, "/orders?all=yes".into(), Some(&user), None, None, bad_request),
        (
            "orders: everyone's, not admin",
            Method::GET,
            "/orders?all=true".into(),
            Some(&user),
            None,
            None,
            StatusCode::FORBIDDEN,
        ),
        ("order: not a uuid", Method::GET, "/orders/123".into(), Some(&user), None, None, bad_request),
        (
            "order: over-long id",
            Method::GET,
            format!("/orders/{}", "1".repeat(200)),
            Some(&user),
            None,
            None,
            bad_request,
        ),
        ("pay: no body", Method::POST, format!("/orders/{order}/payment"), Some(&user), None, None, bad_request),
        (
            "pay: unknown field",
            Method::POST,
            format!("/orders/{order}/payment"),
            Some(&user),
            None,
            Some(r#"{"cardToken":"tok_visa","amount":0}"#.into()),
            bad_request,
        ),
        (
            "pay: token wrong type",
            Method::POST,
            format!("/orders/{order}/payment"),
            Some(&user),
            None,
            Some(r#"{"cardToken":42}"#.into()),
            bad_request,
        ),
        (
            "pay: token too long",
            Method::POST,
            format!("/orders/{order}/payment"),
            Some(&user),
            None,
            Some(format!(r#"{{"cardToken":"{}"}}"#, "t".repeat(65))),
            bad_request,
        ),
        (
            "pay: body over the limit",
            Method::POST,
            format!("/orders/{order}/payment"),
            Some(&user),
            None,
            Some(big.clone()),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "pay: unknown order",
            Method::POST,
            format!("/orders/{order}/payment"),
            Some(&user),
            None,
            Some(r#"{"cardToken":"tok_visa"}"#.into()),
            StatusCode::NOT_FOUND,
        ),
        ("cancel: not a uuid", Method::POST, "/orders/x/cancel".into(), Some(&user), None, None, bad_request),
    ];
    for (what, method, path, token, header, body, expected) in cases {
        let mut request = call(method, &path);
        if let Some(token) = token {
            request = request.token(token);
        }
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        if let Some(body) = body {
            request = request.raw(&body);
        }
        assert_clear_refusal(what, &request.send().await, expected);
    }

    // Nothing was written.
    assert_eq!(call(Method::GET, &format!("/product/{fresh_id}")).send().await.status, StatusCode::NOT_FOUND);
    let stored = call(Method::GET, &product_path).send().await.body["product"].clone();
    assert!(stored["name"].as_str().unwrap().starts_with("test product"), "{stored}");
    assert_eq!(stored["package"], json!({ "height": 0, "length": 0, "weight": 0, "width": 0 }), "{stored}");
    assert_eq!(stock_of(&product).await, (5, 0, 0, 5));
    let cart = call(Method::GET, "/cart").token(&user).send().await;
    assert_eq!(cart.body, json!({ "products": [] }));
    let orders = call(Method::GET, "/orders").token(&user).send().await;
    assert_eq!(orders.body["orders"], Value::Array(vec![]));
}

#[tokio::test]
async fn one_user_never_reaches_another_users_cart_or_orders() {
    let product = new_product(10, 100).await;
    let alice = new_user_token("alice-iso").await;
    let mallory = new_user_token("mallory").await;
    assert_eq!(add_as(&alice, &product, 2).await.status, StatusCode::OK);
    let order = checkout_as(&alice, None).await;
    assert_eq!(order.status, StatusCode::CREATED, "{:?}", order.body);
    let order_id = order.body["order"]["orderId"].as_str().unwrap().to_owned();

    // Mallory's own view never includes Alice's things.
    let cart = call(Method::GET, "/cart").token(&mallory).send().await;
    assert_eq!(cart.body, json!({ "products": [] }));
    let orders = call(Method::GET, "/orders").token(&mallory).send().await;
    assert_eq!(orders.body["orders"], json!([]));
    // Alice's order is not found for Mallory, whatever she tries.
    for (method, path, body) in [
        (Method::GET, format!("/orders/{order_id}"), None),
        (Method::POST, format!("/orders/{order_id}/payment"), Some(r#"{"cardToken":"tok_visa"}"#)),
        (Method::POST, format!("/orders/{order_id}/cancel"), None),
    ] {
        let mut request = call(method, &path).token(&mallory);
        if let Some(body) = body {
            request = request.raw(body);
        }
        let reply = request.send().await;
        assert_clear_refusal(&path, &reply, StatusCode::NOT_FOUND);
    }
    // A client-sent identity counts for nothing: only the verified token does.
    let spoofed = call(Method::GET, "/cart")
        .token(&mallory)
        .header("X-User-Id", "alice")
        .header("X-Amzn-Oidc-Identity", "alice")
        .send()
        .await;
    assert_eq!(spoofed.body, json!({ "products": [] }));
    // Alice's order is untouched and still hers.
    let mine = order_of(&alice, &order_id).await;
    assert_eq!(mine.body["order"]["status"], "PENDING_PAYMENT");
}

#[tokio::test]
async fn no_admin_route_lets_a_customer_or_a_stranger_in() {
    let product = new_product(3, 100).await;
    let customer = customer_token().await;
    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::POST, "/product".into(), Some(json!({ "name": "x", "category": "c", "price": 1 }))),
        (Method::PUT, format!("/product/{product}"), Some(json!({ "price": 1 }))),
        (Method::POST, format!("/product/{product}/stock"), Some(json!({ "delta": 100 }))),
        (Method::GET, format!("/cart/{product}/total"), None),
        (Method::GET, "/orders?all=true".into(), None),
    ];
    for (method, path, body) in routes {
        for (who, token, expected) in
            [("customer", Some(customer.as_str()), StatusCode::FORBIDDEN), ("stranger", None, StatusCode::UNAUTHORIZED)]
        {
            let mut request = call(method.clone(), &path);
            if let Some(token) = token {
                request = request.token(token);
            }
            if let Some(body) = &body {
                request = request.json(body.clone());
            }
            assert_clear_refusal(&format!("{who} {method} {path}"), &request.send().await, expected);
        }
    }
    assert_eq!(stock_of(&product).await, (3, 0, 0, 3));
    let stored = call(Method::GET, &format!("/product/{product}")).send().await;
    assert_eq!(stored.body["product"]["price"], 100);
}
