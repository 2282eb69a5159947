//! The endpoint table: each endpoint's `Handler` name (as `template.yaml`
//! gives it to its function) and the handler that serves it, and `serve`,
//! which runs one request and turns its outcome into the response.

use std::convert::Infallible;

use lambda_http::{Body, Request, Response};
use tracing::Instrument;

use super::errors::ApiError;
use super::response::Reply;
use super::{cart, catalog, orders, reviews, stripe};
use crate::app::App;
use crate::outbound::call_counter::counting;

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
    StartPayment => "start-payment" => orders::start_payment,
    CancelOrder => "cancel-order" => orders::cancel_order,
    RefundOrder => "refund-order" => orders::refund_order,
    ListReviews => "list-reviews" => reviews::list_reviews,
    CreateReview => "create-review" => reviews::create_review,
    UpdateReview => "update-review" => reviews::update_review,
    DeleteReview => "delete-review" => reviews::delete_review,
    StripeWebhook => "stripe-webhook" => stripe::webhook,
}

impl Endpoint {
    pub fn from_handler_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|e| e.handler_name() == name)
    }

    /// Serves one request; every error becomes its response here.
    ///
    /// The request runs in a span that names the endpoint and, once a token
    /// verifies, the caller (`request::record_caller`): every line it logs
    /// says who made it.
    pub async fn serve(self, app: &App, req: Request) -> Result<Response<Body>, Infallible> {
        let span = request_span(self.handler_name());
        let origin = app.config.allowed_origin.as_str();
        let (outcome, usage) = counting(self.handle(app, &req)).instrument(span.clone()).await;
        let response = match outcome {
            Ok(reply) => reply.into_response(origin),
            Err(err) => span.in_scope(|| err.into_response(origin)),
        };
        span.in_scope(|| {
            tracing::info!(
                status = response.status().as_u16(),
                aws_calls = usage.calls.len(),
                calls = %usage.operations().collect::<Vec<_>>().join(","),
                aws_wait_us = usage.aws_wait.as_micros() as u64,
                "request"
            )
        });
        Ok(response)
    }
}

/// The span a request runs in; `caller` and `admin` are filled in when a
/// token verifies.
fn request_span(endpoint: &'static str) -> tracing::Span {
    tracing::info_span!("request", endpoint, caller = tracing::field::Empty, admin = tracing::field::Empty)
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;
    use crate::outbound::cognito::tokens::Identity;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_of_a_signed_in_request_names_the_verified_caller() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::registry().with(crate::telemetry::json_logs_into(move || writer.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let admin = Identity { sub: "s-1".into(), username: None, email: None, groups: vec!["admin".into()] };
            request_span("update-product").in_scope(|| {
                super::super::request::record_caller(&admin);
                tracing::info!("request");
            });
            request_span("get-cart").in_scope(|| tracing::info!("request"));
        });
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let logged: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(logged[0]["span"]["caller"], "s-1");
        assert_eq!(logged[0]["span"]["admin"], true);
        assert_eq!(logged[0]["span"]["endpoint"], "update-product");
        assert!(logged[1]["span"].get("caller").is_none(), "an anonymous request names no caller: {}", logged[1]);
    }
}
