//! Order endpoints: checkout, the buyer's (or every, for admins) orders, one
//! order, pay and cancel. The rules live in `use_cases`; this parses and answers.

use lambda_http::Request;
use serde::Deserialize;

use super::errors::ApiError;
use super::request::{
    admin, admin_rights, grants_admin, idempotency_key, json_body, page_limit, path_param, query_param, signed_in,
};
use super::response::Reply;
use super::views::{cart_view, CheckoutAnswer, OrderAnswer, OrderList, OrderView, PaymentIntentView, PaymentStarted};
use crate::app::App;
use crate::domain::{CardToken, CartOwner, OrderId};
use crate::outbound::dynamodb::order_page_start;
use crate::use_cases::checkout::{checkout as check_out, CheckoutRequest};
use crate::use_cases::ports::OrderStore;
use crate::use_cases::SystemClock;

fn order_id_param(req: &Request) -> Result<OrderId, ApiError> {
    Ok(OrderId::parse(&path_param(req, "order_id")?)?)
}

pub(super) async fn checkout(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let identity = signed_in(app, req).await?;
    let key = idempotency_key(req)?;
    let request =
        CheckoutRequest { buyer_sub: &identity.sub, idempotency_key: key.as_deref(), policy: app.config.holds };
    let done = check_out(&app.store, &SystemClock, request).await?;
    let answer = CheckoutAnswer { products: cart_view(&done.cart), order: (&done.order).into() };
    Ok(if done.created { Reply::created(answer) } else { Reply::ok(answer) })
}

pub(super) async fn list_orders(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let identity = signed_in(app, req).await?;
    let user = CartOwner::user(&identity.sub)?;
    let everyone = match query_param(req, "all").as_deref() {
        None | Some("false") => false,
        Some("true") => {
            admin_rights(app, &identity).await?;
            true
        }
        Some(_) => return Err(ApiError::BadRequest("all must be true or false".into())),
    };
    let limit = page_limit(req, 20, 100)?;
    let owner = (!everyone).then_some(&user);
    let start = query_param(req, "cursor").map(|raw| order_page_start(&raw, owner)).transpose()?;
    let (orders, next_cursor) = app.store.order_page(owner, limit, start).await?;
    Ok(Reply::ok(OrderList { orders: orders.iter().map(OrderView::from).collect(), next_cursor }))
}

pub(super) async fn get_order(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let identity = signed_in(app, req).await?;
    let order_id = order_id_param(req)?;
    let user = CartOwner::user(&identity.sub)?;
    let mut order = app.store.order(&user, &order_id).await?;
    if order.is_none() && grants_admin(app, &identity).await? {
        order = app.store.order_by_id(&order_id).await?;
    }
    // Another user's order is simply not found.
    let order = order.ok_or_else(|| ApiError::NotFound(format!("order {order_id} not found")))?;
    Ok(Reply::ok(OrderAnswer::of(&order)))
}

/// A payment: a card token, charged here; or word that the page confirmed
/// the order's payment with the provider (Stripe.js), which is checked with
/// the provider, never taken as it is.
#[derive(Deserialize)]
#[serde(untagged)]
enum Payment {
    Card(CardPayment),
    Confirmed(ConfirmedPayment),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CardPayment {
    card_token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmedPayment {
    confirmed: bool,
}

pub(super) async fn pay_order(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let identity = signed_in(app, req).await?;
    let order_id = order_id_param(req)?;
    let order = match json_body::<Payment>(req)? {
        Payment::Card(payment) => {
            let card = CardToken::parse(&payment.card_token)?;
            app.orders().pay(&identity.sub, &order_id, &card).await?
        }
        Payment::Confirmed(ConfirmedPayment { confirmed: true }) => {
            app.orders().payment_confirmed(&identity.sub, &order_id).await?
        }
        Payment::Confirmed(_) => return Err(ApiError::BadRequest("confirmed must be true".into())),
    };
    Ok(Reply::ok(OrderAnswer::of(&order)))
}

/// Refunds a paid order in full (admins): its units go back on sale.
pub(super) async fn refund_order(app: &App, req: &Request) -> Result<Reply, ApiError> {
    admin(app, req).await?;
    let order_id = order_id_param(req)?;
    let order = app.orders().refund_paid(&order_id).await?;
    Ok(Reply::ok(OrderAnswer::of(&order)))
}

/// Starts paying an order with the provider's card form: the intent the
/// page confirms with Stripe.js. A shop that takes card tokens only (the
/// sandbox provider) says so.
pub(super) async fn start_payment(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let identity = signed_in(app, req).await?;
    let order_id = order_id_param(req)?;
    let (order, start) = app.orders().start_payment(&identity.sub, &order_id).await?;
    let start = start.ok_or_else(|| {
        ApiError::Conflict(
            "this shop takes card tokens: pay with POST /orders/{order_id}/payment and a cardToken".into(),
        )
    })?;
    let intent = PaymentIntentView { id: &start.payment_id, client_secret: &start.client_secret };
    Ok(Reply::ok(PaymentStarted { order: (&order).into(), payment_intent: intent }))
}

pub(super) async fn cancel_order(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let identity = signed_in(app, req).await?;
    let order_id = order_id_param(req)?;
    let order = app.orders().cancel(&identity.sub, &order_id).await?;
    Ok(Reply::ok(OrderAnswer::of(&order)))
}
