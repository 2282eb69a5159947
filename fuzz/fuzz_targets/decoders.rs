//! The decoders of client-held state: page cursors, the cart cookie, ids (order ids too),
//! idempotency keys and review text. None may panic; a cursor that decodes re-encodes to one
//! that decodes to the same key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shop::outbound::dynamodb::cursor;

fuzz_target!(|text: &str| {
    for expected in [&["pk", "sk"][..], &["pk", "sk", "category", "productId"], &["pk", "sk", "orderList", "orderId"]] {
        if let Ok(key) = cursor::decode(text, expected, |name, value| name != "pk" || value.starts_with("user#")) {
            let again = cursor::decode(&cursor::encode(&key), expected, |_, _| true);
            assert_eq!(again.as_ref(), Ok(&key));
        }
    }
    if let Ok(value) = http::HeaderValue::from_str(text) {
        if let Ok(request) = http::Request::builder().header("cookie", value).body(lambda_http::Body::Empty) {
            if let Ok(Some(owner)) = shop::inbound::http::cart_cookie_owner(&request) {
                assert!(shop::outbound::dynamodb::keys::is_cart_pk(&shop::outbound::dynamodb::keys::cart_pk(&owner)));
            }
        }
    }
    let _ = shop::domain::CartOwner::anonymous_from_cookie(text);
    if let Ok(id) = shop::domain::ProductId::parse(text) {
        assert_eq!(shop::outbound::dynamodb::keys::product_of_key(&shop::outbound::dynamodb::keys::product_pk(&id)).as_ref().map(|p| p.as_str()), Some(text));
    }
    let _ = shop::domain::validate_idempotency_key(text);
    let product = shop::domain::ProductId::parse("p1").unwrap();
    if shop::outbound::dynamodb::review_page_start(text, &product).is_ok() {
        assert!(cursor::decode(text, &["pk", "sk"], |name, value| name != "pk" || value == "product#p1").is_ok());
    }
    if let Ok(id) = shop::domain::OrderId::parse(text) {
        assert_eq!(shop::domain::OrderId::parse(&id.to_string()), Ok(id));
    }
    if let Ok(id) = shop::use_cases::reviews::parse_review_id(text) {
        assert_eq!(shop::use_cases::reviews::parse_review_id(&id), Ok(id.clone()));
    }
    let stars = shop::domain::Stars::new(3).unwrap();
    if let Ok(review) = shop::domain::ReviewText::new(stars, text, text, Some(text)) {
        // Kept as given, trimmed: never emptied, never longer.
        assert!(!review.title.is_empty() && review.title.len() <= text.len());
        assert!(!review.display_name.contains('@'));
    }
});
