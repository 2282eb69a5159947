//! The HTTP endpoints. Each Lambda function serves one [`Endpoint`], the one
//! its `Handler` names; the local stack serves them all, routed as
//! `template.yaml` declares.

use std::convert::Infallible;

use http::StatusCode;
use lambda_http::{Body, Request, Response};

use serde::Serialize;

use crate::http::{json_text, json_text_response, ApiError, Caller};
use crate::App;

mod cart;
mod catalog;
mod orders;
mod reviews;
pub mod views;

macro_rules! endpoints {
    ($($variant:ident => $name:literal => $handler:path,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Endpoint {
            $($variant,)*
        }

        impl Endpoint {
            pub const ALL: &'static [Endpoint] = &[$(Self::$variant,)*];

            /// The `Handler` (in `template.yaml`) of the function serving this endpoint.
            pub fn handler_name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }

            async fn handle(self, app: &App, req: &Request) -> Result<Reply, ApiError> {
                // Each handler's future on the heap: side by side in this
                // match they would make one future the size of all of them
                // together, and the local stack serves every endpoint.
                match self {
                    $(Self::$variant => Box::pin($handler(app, req)).await,)*
                }
            }
        }
    };
}

endpoints! {
    ListProducts => "list-products" => catalog::list_products,
    GetProduct => "get-product" => catalog::get_product,
    CreateProduct => "create-product" => catalog::create_product,
    UpdateProduct => "update-product" => catalog::update_product,
    Restock => "restock-product" => catalog::restock,
    ReshardStock => "reshard-stock" => catalog::reshard_stock,
    ListCategories => "list-categories" => catalog::list_categories,
    Bestsellers => "list-bestsellers" => catalog::bestsellers,
    GetCart => "get-cart" => cart::get_cart,
    AddToCart => "add-to-cart" => cart::add_to_cart,
    UpdateCartLine => "update-cart-line" => cart::update_cart_line,
    MigrateCart => "migrate-cart" => cart::migrate_cart,
    GetCartTotal => "get-cart-total" => cart::get_cart_total,
    Checkout => "checkout" => orders::checkout,
    ListOrders => "list-orders" => orders::list_orders,
    GetOrder => "get-order" => orders::get_order,
    PayOrder => "pay-order" => orders::pay_order,
    CancelOrder => "cancel-order" => orders::cancel_order,
    ListReviews => "list-reviews" => reviews::list_reviews,
    CreateReview => "create-review" => reviews::create_review,
    UpdateReview => "update-review" => reviews::update_review,
    DeleteReview => "delete-review" => reviews::delete_review,
}

impl Endpoint {
    pub fn from_handler_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|e| e.handler_name() == name)
    }

    /// Serves one request; every error becomes its response here.
    pub async fn serve(self, app: &App, req: Request) -> Result<Response<Body>, Infallible> {
        let origin = app.config.allowed_origin.as_str();
        let ((outcome, usage), caller) = with_caller_noted(crate::aws_calls::counting(self.handle(app, &req))).await;
        let response = match outcome {
            Ok(reply) => reply.into_response(origin),
            Err(err) => err.into_response(origin),
        };
        // The caller's `sub` on every signed-in request's line: the audit
        // trail of who changed prices and stock.
        tracing::info!(
            endpoint = self.handler_name(),
            status = response.status().as_u16(),
            caller = caller.as_ref().map(|c| c.sub.as_str()),
            admin = caller.as_ref().map(|c| c.admin),
            aws_calls = usage.calls.len(),
            calls = %usage.operations().collect::<Vec<_>>().join(","),
            aws_wait_us = usage.aws_wait.as_micros() as u64,
            "request"
        );
        Ok(response)
    }
}

/// Who a request's verified token named.
#[derive(Debug, Clone)]
pub(crate) struct NotedCaller {
    sub: String,
    admin: bool,
}

tokio::task_local! {
    static CALLER: std::cell::RefCell<Option<NotedCaller>>;
}

/// Records the verified caller of the request being served (no-op outside `serve`).
pub(crate) fn note_caller(identity: &crate::auth::Identity) {
    let noted = NotedCaller { sub: identity.sub.clone(), admin: identity.is_admin() };
    let _ = CALLER.try_with(|c| *c.borrow_mut() = Some(noted));
}

async fn with_caller_noted<T>(work: impl std::future::Future<Output = T>) -> (T, Option<NotedCaller>) {
    CALLER
        .scope(std::cell::RefCell::new(None), async {
            let out = work.await;
            (out, CALLER.with(|c| c.borrow_mut().take()))
        })
        .await
}

/// A successful answer: a JSON body (serialized straight from the handler's
/// values, without a `serde_json::Value` tree in between), and the caller when
/// a cookie must be set.
struct Reply {
    status: StatusCode,
    body: String,
    caller: Option<Caller>,
}

impl Reply {
    fn ok(body: impl Serialize) -> Self {
        Self { status: StatusCode::OK, body: json_text(&body), caller: None }
    }

    fn created(body: impl Serialize) -> Self {
        Self { status: StatusCode::CREATED, body: json_text(&body), caller: None }
    }

    fn for_caller(caller: Caller, body: impl Serialize) -> Self {
        Self { status: StatusCode::OK, body: json_text(&body), caller: Some(caller) }
    }

    fn into_response(self, origin: &str) -> Response<Body> {
        let response = json_text_response(self.status, self.body, origin);
        match self.caller {
            Some(caller) => caller.finish(response),
            None => response,
        }
    }
}

fn query_param(req: &Request, name: &str) -> Option<String> {
    use lambda_http::RequestExt;
    req.query_string_parameters_ref().and_then(|q| q.first(name)).map(str::to_owned)
}

/// `limit` between 1 and `max` (default `default`).
fn page_limit(req: &Request, default: i32, max: i32) -> Result<i32, ApiError> {
    match query_param(req, "limit") {
        None => Ok(default),
        Some(raw) => raw
            .parse::<i32>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| ApiError::BadRequest(format!("limit must be a whole number from 1 to {max}"))),
    }
}

/// The `Idempotency-Key` header: a retried request with the same key has the
/// effect of one.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

pub(crate) fn idempotency_key(req: &Request) -> Result<Option<String>, ApiError> {
    match req.headers().get(IDEMPOTENCY_HEADER) {
        None => Ok(None),
        Some(v) => {
            let text = v.to_str().map_err(|_| ApiError::BadRequest("unreadable Idempotency-Key".into()))?;
            Ok(Some(crate::domain::validate_idempotency_key(text)?.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Identity;

    #[test]
    fn the_verified_caller_reaches_the_request_log_line() {
        let admin = Identity { sub: "s-1".into(), username: None, email: None, groups: vec!["admin".into()] };
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let ((), caller) = runtime.block_on(with_caller_noted(async { note_caller(&admin) }));
        let caller = caller.expect("noted");
        assert_eq!((caller.sub.as_str(), caller.admin), ("s-1", true));
        let ((), nobody) = runtime.block_on(with_caller_noted(async {}));
        assert!(nobody.is_none(), "an anonymous request names no caller");
        note_caller(&admin); // outside a request: nothing to note, no panic
    }
}
