//! Cart endpoints: the anonymous (cookie) and signed-in carts, migration on
//! sign-in, and the admin's per-product cart totals.

use lambda_http::Request;
use serde::Deserialize;

use super::errors::ApiError;
use super::request::{admin, caller, cart_cookie_owner, idempotency_key, json_body, path_param, signed_in};
use super::response::Reply;
use super::views::{cart_view, CartTotal, LineChanged, ProductList};
use crate::app::App;
use crate::domain::{validate_delta, validate_target, CartOwner, LineChange, ProductId};
use crate::use_cases::cart::{change_line, live_cart, migrate_cart as migrate};
use crate::use_cases::SystemClock;

pub(super) async fn get_cart(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let caller = caller(app, req).await?;
    let cart = caller.cart_owner()?;
    let lines = live_cart(&app.store, &SystemClock, &cart).await?;
    Ok(Reply::for_cart(&cart, ProductList { products: &cart_view(&lines), next_cursor: None }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddToCartBody {
    product_id: String,
    #[serde(deserialize_with = "whole_number")]
    quantity: i64,
}

#[derive(Deserialize)]
struct SetQuantityBody {
    #[serde(deserialize_with = "whole_number")]
    quantity: i64,
}

/// A quantity as a JSON integer or as a string holding exactly one (`"4"`,
/// `"-1"`; `^-?[0-9]{1,3}$`): the AWS sample's storefront sends its input
/// field's value. The same limits apply after; `"4.5"`, `" 4"` and `"many"`
/// are refused.
fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    struct WholeNumber;
    impl serde::de::Visitor<'_> for WholeNumber {
        type Value = i64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number, or a string holding one")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom("quantity out of range"))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<i64, E> {
            let digits = v.strip_prefix('-').unwrap_or(v);
            // At most three digits: no line holds more than 100 units.
            if !(1..=3).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(E::invalid_value(serde::de::Unexpected::Str(v), &self));
            }
            v.parse().map_err(|_| E::custom("quantity out of range"))
        }
    }
    deserializer.deserialize_any(WholeNumber)
}

pub(super) async fn add_to_cart(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let body: AddToCartBody = json_body(req)?;
    let delta = validate_delta(body.quantity)?;
    let request = idempotency_key(req)?;
    let caller = caller(app, req).await?;
    let id = ProductId::parse(&body.product_id)?;
    let change = LineChange::By { delta, request: request.as_deref() };
    let cart = caller.cart_owner()?;
    let quantity = change_line(&app.store, &SystemClock, &cart, &id, change).await?;
    Ok(Reply::for_cart(&cart, LineChanged { product_id: &id, quantity, message: "product added to cart" }))
}

pub(super) async fn update_cart_line(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let raw_id = path_param(req, "product_id")?;
    let body: SetQuantityBody = json_body(req)?;
    let target = validate_target(body.quantity)?;
    let caller = caller(app, req).await?;
    let id = ProductId::parse(&raw_id)?;
    let cart = caller.cart_owner()?;
    let quantity = change_line(&app.store, &SystemClock, &cart, &id, LineChange::To(target)).await?;
    Ok(Reply::for_cart(&cart, LineChanged { product_id: &id, quantity, message: "cart updated" }))
}

pub(super) async fn migrate_cart(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let identity = signed_in(app, req).await?;
    let user = CartOwner::user(&identity.sub)?;
    let lines = match cart_cookie_owner(req)? {
        Some(anonymous) => migrate(&app.store, &SystemClock, app.cleanup_queue.as_ref(), &anonymous, &user).await?,
        None => live_cart(&app.store, &SystemClock, &user).await?,
    };
    Ok(Reply::ok(ProductList { products: &cart_view(&lines), next_cursor: None }))
}

pub(super) async fn get_cart_total(app: &App, req: &Request) -> Result<Reply, ApiError> {
    admin(app, req).await?;
    let id = ProductId::parse(&path_param(req, "product_id")?)?;
    let found = app.store.product_total(&id).await?;
    if found.product.is_none() {
        return Err(ApiError::NotFound(format!("product {id} not found")));
    }
    Ok(Reply::ok(CartTotal { product: &id, quantity: found.in_carts }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quantity_may_be_a_string_holding_a_whole_number() {
        let quantity = |body: &str| serde_json::from_str::<SetQuantityBody>(body).map(|b| b.quantity);
        assert_eq!(quantity(r#"{"quantity": 4}"#).unwrap(), 4);
        assert_eq!(quantity(r#"{"quantity": "4"}"#).unwrap(), 4);
        assert_eq!(quantity(r#"{"quantity": "-1"}"#).unwrap(), -1);
        for refused in
            [r#""many""#, r#""4.5""#, r#"" 4""#, r#""""#, r#""-""#, "4.5", "true", r#""99999999999999999999""#]
        {
            assert!(quantity(&format!(r#"{{"quantity": {refused}}}"#)).is_err(), "{refused}");
        }
    }
}
