use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

async fn new_cart() -> String {
    let reply = call(Method::GET, "/cart").send().await;
    assert_eq!(reply.status, StatusCode::OK);
    cart_id_from(&reply)
}

async fn add(cart: &str, product: &str, quantity: i64) -> Reply {
    call(Method::POST, "/cart").cookie(cart).json(json!({ "productId": product, "quantity": quantity })).send().await
}

async fn cart_of(cart: &str) -> Reply {
    call(Method::GET, "/cart").cookie(cart).send().await
}

#[tokio::test]
async fn an_anonymous_shopper_gets_a_cart_cookie_and_keeps_their_lines() {
    let reply = call(Method::GET, "/cart").send().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({ "products": [] }));
    let cookie = reply.set_cookie.clone().unwrap();
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    // The answer depends on the cookie: nothing may cache it, nothing sniff it.
    assert_eq!(reply.headers["cache-control"], "no-store");
    assert_eq!(reply.headers["x-content-type-options"], "nosniff");
    let cart = cart_id_from(&reply);
    uuid::Uuid::parse_str(&cart).expect("cartId is a UUID");

    let product = product_for(20).await;
    let reply = add(&cart, &product, 2).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["quantity"], 2);
    let reply = cart_of(&cart).await;
    assert_eq!(lines(&reply), vec![(product.clone(), 2)]);
    let line = &reply.body["products"][0];
    assert_eq!(line["productDetail"]["productId"], product.as_str());
    assert!(line["productDetail"]["price"].is_u64());
}

#[tokio::test]
async fn quantities_never_go_below_zero() {
    let cart = new_cart().await;
    let product = product_for(21).await;
    assert_eq!(add(&cart, &product, 2).await.body["quantity"], 2);
    assert_eq!(add(&cart, &product, -1).await.body["quantity"], 1);
    let reply = add(&cart, &product, -5).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["quantity"], 0);
    assert_eq!(lines(&cart_of(&cart).await), vec![]);
    // Removing from an empty line is a no-op, not a negative line.
    assert_eq!(add(&cart, &product, -1).await.body["quantity"], 0);
    assert_eq!(lines(&cart_of(&cart).await), vec![]);
    assert_eq!(items_under(&format!("cart#{cart}")).await, 0);
}

#[tokio::test]
async fn put_sets_a_line_and_zero_removes_it() {
    let cart = new_cart().await;
    let product = product_for(22).await;
    let path = format!("/cart/{product}");
    let reply = call(Method::PUT, &path).cookie(&cart).json(json!({ "quantity": 4 })).send().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(line_quantity(&cart_of(&cart).await, &product), Some(4));
    call(Method::PUT, &path).cookie(&cart).json(json!({ "quantity": 1 })).send().await;
    assert_eq!(line_quantity(&cart_of(&cart).await, &product), Some(1));
    let reply = call(Method::PUT, &path).cookie(&cart).json(json!({ "quantity": 0 })).send().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(lines(&cart_of(&cart).await), vec![]);
}

#[tokio::test]
async fn bad_input_is_a_clear_4xx_and_changes_nothing() {
    let cart = new_cart().await;
    let product = product_for(23).await;
    add(&cart, &product, 3).await;
    let before = lines(&cart_of(&cart).await);
    let huge = format!(r#"{{"productId":"{product}","quantity":1,"pad":"{}"}}"#, "x".repeat(20_000));
    let posts: Vec<(&str, String, StatusCode)> = vec![
        ("malformed JSON", r#"{"productId": "#.into(), StatusCode::BAD_REQUEST),
        ("empty body", "".into(), StatusCode::BAD_REQUEST),
        ("an array", "[]".into(), StatusCode::BAD_REQUEST),
        ("missing productId", r#"{"quantity":1}"#.into(), StatusCode::BAD_REQUEST),
        ("missing quantity", format!(r#"{{"productId":"{product}"}}"#), StatusCode::BAD_REQUEST),
        ("quantity as a word", format!(r#"{{"productId":"{product}","quantity":"many"}}"#), StatusCode::BAD_REQUEST),
        (
            "quantity as a decimal text",
            format!(r#"{{"productId":"{product}","quantity":"4.5"}}"#),
            StatusCode::BAD_REQUEST,
        ),
        (
            "quantity text with a space",
            format!(r#"{{"productId":"{product}","quantity":" 4"}}"#),
            StatusCode::BAD_REQUEST,
        ),
        ("fractional quantity", format!(r#"{{"productId":"{product}","quantity":1.5}}"#), StatusCode::BAD_REQUEST),
        ("zero quantity", format!(r#"{{"productId":"{product}","quantity":0}}"#), StatusCode::BAD_REQUEST),
        ("huge quantity", format!(r#"{{"productId":"{product}","quantity":1000000}}"#), StatusCode::BAD_REQUEST),
        ("huge negative", format!(r#"{{"productId":"{product}","quantity":-1000000}}"#), StatusCode::BAD_REQUEST),
        (
            "overflowing quantity",
            format!(r#"{{"productId":"{product}","quantity":99999999999999999999}}"#),
            StatusCode::BAD_REQUEST,
        ),
        ("line over the limit", format!(r#"{{"productId":"{product}","quantity":98}}"#), StatusCode::BAD_REQUEST),
        ("productId a number", r#"{"productId":5,"quantity":1}"#.into(), StatusCode::BAD_REQUEST),
        ("malformed productId", r#"{"productId":"a#b","quantity":1}"#.into(), StatusCode::BAD_REQUEST),
        ("unknown product", r#"{"productId":"no-such-product","quantity":1}"#.into(), StatusCode::NOT_FOUND),
        ("body over the limit", huge, StatusCode::PAYLOAD_TOO_LARGE),
    ];
    for (what, body, expected) in posts {
        let reply = call(Method::POST, "/cart").cookie(&cart).raw(&body).send().await;
        assert_eq!(reply.status, expected, "{what}: {:?}", reply.body);
        assert!(reply.body["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {:?}", reply.body);
    }
    let path = format!("/cart/{product}");
    for (what, body) in [
        ("negative", r#"{"quantity":-1}"#),
        ("too many", r#"{"quantity":101}"#),
        ("missing", r#"{}"#),
        ("text", r#"{"quantity":"two"}"#),
    ] {
        let reply = call(Method::PUT, &path).cookie(&cart).raw(body).send().await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "PUT {what}");
    }
    let reply = call(Method::PUT, "/cart/no-such-product").cookie(&cart).raw(r#"{"quantity":1}"#).send().await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(lines(&cart_of(&cart).await), before, "a rejected request changed the cart");

    let reply = call(Method::GET, "/cart").header("Cookie", "cartId=not-a-uuid").send().await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["message"].as_str().unwrap().contains("cartId"));
}

#[tokio::test]
async fn a_user_never_sees_another_users_or_a_cookie_cart() {
    let product = product_for(24).await;
    let alice = new_user_token("alice").await;
    let bob = new_user_token("bob").await;
    let reply =
        call(Method::POST, "/cart").token(&alice).json(json!({ "productId": product, "quantity": 2 })).send().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.set_cookie.is_none(), "signed-in callers get no cart cookie");
    assert_eq!(lines(&call(Method::GET, "/cart").token(&bob).send().await), vec![]);
    assert_eq!(line_quantity(&call(Method::GET, "/cart").token(&alice).send().await, &product), Some(2));

    // A signed-in request uses the user's cart, whatever cookie it carries.
    let cart = new_cart().await;
    add(&cart, &product, 1).await;
    let reply = call(Method::GET, "/cart").token(&bob).cookie(&cart).send().await;
    assert_eq!(lines(&reply), vec![]);
}

#[tokio::test]
async fn concurrent_adds_to_one_line_are_never_lost_or_doubled() {
    let cart = new_cart().await;
    let product = product_for(25).await;
    let adds = (0..16).map(|_| add(&cart, &product, 1));
    let replies = futures::future::join_all(adds).await;
    let applied = replies.iter().filter(|r| r.status == StatusCode::OK).count() as i64;
    for reply in &replies {
        assert!(reply.status == StatusCode::OK || reply.status == StatusCode::CONFLICT, "unexpected {:?}", reply);
    }
    assert!(applied > 0);
    assert_eq!(line_quantity(&cart_of(&cart).await, &product), Some(applied));
}

#[tokio::test]
async fn lines_carry_the_ttl_of_their_cart_and_expired_lines_are_never_shown() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let cart = new_cart().await;
    let product = product_for(26).await;
    add(&cart, &product, 2).await;
    let db = dynamodb().await;
    let key = |pk: String| {
        std::collections::HashMap::from([
            ("pk".to_owned(), AttributeValue::S(pk)),
            ("sk".to_owned(), AttributeValue::S(format!("product#{product}"))),
        ])
    };
    let expiry_of = |pk: String| {
        let request = db.get_item().table_name(&stack().table).set_key(Some(key(pk)));
        async move {
            let item = request.send().await.unwrap().item.unwrap();
            item["expirationTime"].as_n().unwrap().parse::<i64>().unwrap()
        }
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let expires = expiry_of(format!("cart#{cart}")).await;
    assert!((expires - (now + 86_400)).abs() < 120, "anonymous line expires in {} s", expires - now);

    let user = new_user_token("ttl").await;
    call(Method::POST, "/cart").token(&user).json(json!({ "productId": product, "quantity": 1 })).send().await;
    let expires = expiry_of(format!("user#{}", sub_of(&user))).await;
    assert!((expires - (now + 7 * 86_400)).abs() < 120, "user line expires in {} s", expires - now);

    // Past its expirationTime, a line is gone for the shopper even before TTL deletes it.
    db.update_item()
        .table_name(&stack().table)
        .set_key(Some(key(format!("cart#{cart}"))))
        .update_expression("SET expirationTime = :past")
        .expression_attribute_values(":past", AttributeValue::N((now - 10).to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(lines(&cart_of(&cart).await), vec![]);
    // Adding to it starts from zero, not from the stale quantity.
    assert_eq!(add(&cart, &product, 1).await.body["quantity"], 1);
}

pub fn sub_of(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sub"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_retried_add_with_the_same_idempotency_key_adds_once() {
    let cart = new_cart().await;
    let product = product_for(27).await;
    let body = json!({ "productId": product, "quantity": 2 });
    let send = |key: &'static str| {
        call(Method::POST, "/cart").cookie(&cart).header("Idempotency-Key", key).json(body.clone()).send()
    };
    // The client's retries, some at the same time as the first attempt.
    let replies = futures::future::join_all((0..5).map(|_| send("add-1"))).await;
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        assert_eq!(reply.body["quantity"], 2, "{:?}", reply.body);
    }
    assert_eq!(line_quantity(&cart_of(&cart).await, &product), Some(2));
    // A new key is a new change; the old one is still remembered.
    assert_eq!(send("add-2").await.body["quantity"], 4);
    assert_eq!(send("add-1").await.body["quantity"], 4);
    // Without a key each request is a change, as the sample frontend expects.
    add(&cart, &product, 1).await;
    add(&cart, &product, 1).await;
    assert_eq!(line_quantity(&cart_of(&cart).await, &product), Some(6));
    // The same key with another quantity is another request: refused, not replayed.
    let reused = call(Method::POST, "/cart")
        .cookie(&cart)
        .header("Idempotency-Key", "add-2")
        .json(json!({ "productId": product, "quantity": 5 }))
        .send()
        .await;
    assert_eq!(reused.status, StatusCode::CONFLICT, "{:?}", reused.body);
    assert!(reused.body["message"].as_str().unwrap().contains("used for a different request"), "{:?}", reused.body);
    assert_eq!(line_quantity(&cart_of(&cart).await, &product), Some(6));
}

#[tokio::test]
async fn a_cross_site_form_post_changes_no_cart() {
    // What a page on another site can make a visitor's browser send with their
    // cookie: a form post, whose Content-Type is never application/json.
    let cart = new_cart().await;
    let product = product_for(23).await;
    let body = json!({ "productId": product, "quantity": 1 }).to_string();
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        let reply =
            call(Method::POST, "/cart").cookie(&cart).header("Content-Type", content_type).raw(&body).send().await;
        assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}");
        assert_eq!(reply.body["message"], "Content-Type must be application/json");
        let put = call(Method::PUT, &format!("/cart/{product}"))
            .cookie(&cart)
            .header("Content-Type", content_type)
            .raw(r#"{"quantity": 5}"#)
            .send()
            .await;
        assert_eq!(put.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}");
    }
    assert!(lines(&cart_of(&cart).await).is_empty(), "nothing was added");
    // The same request as JSON is the shopper's own, and works.
    assert_eq!(add(&cart, &product, 1).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_sample_storefronts_quantity_as_text_is_taken() {
    // The AWS sample's Vue storefront sends its input's value: {"quantity": "4"}.
    let cart = new_cart().await;
    let product = product_for(24).await;
    let added = call(Method::POST, "/cart")
        .cookie(&cart)
        .raw(&format!(r#"{{"productId":"{product}","quantity":"2"}}"#))
        .send()
        .await;
    assert_eq!((added.status, added.body["quantity"].as_i64()), (StatusCode::OK, Some(2)), "{:?}", added.body);
    let set = call(Method::PUT, &format!("/cart/{product}")).cookie(&cart).raw(r#"{"quantity":"4"}"#).send().await;
    assert_eq!((set.status, set.body["quantity"].as_i64()), (StatusCode::OK, Some(4)), "{:?}", set.body);
    assert_eq!(lines(&cart_of(&cart).await), vec![(product.clone(), 4)]);
    // The same limits: text past the line limit is refused like the number.
    let over = call(Method::PUT, &format!("/cart/{product}")).cookie(&cart).raw(r#"{"quantity":"101"}"#).send().await;
    assert_eq!(over.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn fifty_parallel_adds_to_one_line_all_count() {
    // Two tabs, a double click, a flash sale's impatient shopper: every add counts.
    let product = new_product(200, 100).await;
    let cart = new_cart().await;
    assert_eq!(add(&cart, &product, 1).await.status, StatusCode::OK);
    let replies = futures::future::join_all((0..50).map(|_| add(&cart, &product, 1))).await;
    let refused: Vec<_> = replies.iter().filter(|r| r.status != StatusCode::OK).map(|r| &r.body).collect();
    assert!(refused.is_empty(), "refused: {refused:?}");
    assert_eq!(lines(&cart_of(&cart).await), vec![(product.clone(), 51)]);

    let token = new_user_token("parallel").await;
    assert_eq!(add_as(&token, &product, 1).await.status, StatusCode::OK);
    let replies = futures::future::join_all((0..49).map(|i| {
        let key = format!("tab-{i}");
        let token = token.clone();
        let product = product.clone();
        async move {
            call(Method::POST, "/cart")
                .token(&token)
                .header("Idempotency-Key", &key)
                .json(json!({ "productId": product, "quantity": 1 }))
                .send()
                .await
        }
    }))
    .await;
    assert!(
        replies.iter().all(|r| r.status == StatusCode::OK),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let mine = call(Method::GET, "/cart").token(&token).send().await;
    assert_eq!(lines(&mine), vec![(product, 50)]);
}
