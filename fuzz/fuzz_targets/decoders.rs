//! The decoders of client-held state: page cursors, the cart cookie, ids and
//! idempotency keys. None may panic; a cursor that decodes re-encodes to one
//! that decodes to the same key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shop::cursor;

fuzz_target!(|text: &str| {
    for expected in [&["pk", "sk"][..], &["pk", "sk", "category", "productId"], &["pk", "sk", "orderList", "orderId"]] {
        if let Ok(key) = cursor::decode(text, expected, |name, value| name != "pk" || value.starts_with("user#")) {
            let again = cursor::decode(&cursor::encode(&key), expected, |_, _| true);
            assert_eq!(again.as_ref(), Ok(&key));
        }
    }
    if let Ok(value) = http::HeaderValue::from_str(text) {
        if let Ok(request) = http::Request::builder().header("cookie", value).body(lambda_http::Body::Empty) {
            if let Ok(Some(owner)) = shop::http::cart_cookie_owner(&request) {
                assert!(shop::store::keys::is_cart_pk(&shop::store::keys::cart_pk(&owner)));
            }
        }
    }
    let _ = shop::domain::CartOwner::anonymous_from_cookie(text);
    if let Ok(id) = shop::domain::ProductId::parse(text) {
        assert_eq!(shop::store::keys::product_of_key(&shop::store::keys::product_pk(&id)).as_ref().map(|p| p.as_str()), Some(text));
    }
    let _ = shop::domain::validate_idempotency_key(text);
});
