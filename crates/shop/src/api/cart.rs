//! Cart endpoints: the anonymous (cookie) and signed-in carts, migration on
//! sign-in, and the admin's per-product cart totals.

use lambda_http::Request;
use serde::Deserialize;

use super::views::{cart_view, CartTotal, LineChanged, ProductList};
use super::{idempotency_key, Reply};
use crate::domain::{validate_delta, validate_target, CartOwner, LineChange, ProductId};
use crate::http::{cart_cookie_owner, json_body, path_param, ApiError};
use crate::use_cases::cart::{change_line, live_cart, migrate_cart as migrate};
use crate::use_cases::SystemClock;
use crate::App;

pub(super) async fn get_cart(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let caller = app.caller(req).await?;
    let lines = live_cart(&app.store, &SystemClock, &caller.cart_owner()?).await?;
    Ok(Reply::for_caller(caller, ProductList { products: &cart_view(&lines), next_cursor: None }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddToCartBody {
    product_id: String,
    quantity: i64,
}

#[derive(Deserialize)]
struct SetQuantityBody {
    quantity: i64,
}

pub(super) async fn add_to_cart(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let body: AddToCartBody = json_body(req)?;
    let delta = validate_delta(body.quantity)?;
    let request = idempotency_key(req)?;
    let caller = app.caller(req).await?;
    let id = ProductId::parse(&body.product_id)?;
    let change = LineChange::By { delta, request: request.as_deref() };
    let quantity = change_line(&app.store, &SystemClock, &caller.cart_owner()?, &id, change).await?;
    Ok(Reply::for_caller(caller, LineChanged { product_id: &id, quantity, message: "product added to cart" }))
}

pub(super) async fn update_cart_line(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let raw_id = path_param(req, "product_id")?;
    let body: SetQuantityBody = json_body(req)?;
    let target = validate_target(body.quantity)?;
    let caller = app.caller(req).await?;
    let id = ProductId::parse(&raw_id)?;
    let quantity = change_line(&app.store, &SystemClock, &caller.cart_owner()?, &id, LineChange::To(target)).await?;
    Ok(Reply::for_caller(caller, LineChanged { product_id: &id, quantity, message: "cart updated" }))
}

pub(super) async fn migrate_cart(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let identity = app.signed_in(req).await?;
    let user = CartOwner::user(&identity.sub)?;
    let lines = match cart_cookie_owner(req)? {
        Some(anonymous) => migrate(&app.store, &SystemClock, app.cleanup_queue.as_ref(), &anonymous, &user).await?,
        None => live_cart(&app.store, &SystemClock, &user).await?,
    };
    Ok(Reply::ok(ProductList { products: &cart_view(&lines), next_cursor: None }))
}

pub(super) async fn get_cart_total(app: &App, req: &Request) -> Result<Reply, ApiError> {
    app.admin(req).await?;
    let id = ProductId::parse(&path_param(req, "product_id")?)?;
    let found = app.store.product_total(&id).await?;
    if found.product.is_none() {
        return Err(ApiError::NotFound(format!("product {id} not found")));
    }
    Ok(Reply::ok(CartTotal { product: &id, quantity: found.in_carts }))
}
