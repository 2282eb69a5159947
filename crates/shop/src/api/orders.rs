//! Checkout, orders and payment. Checkout reserves every line and records the
//! order in one transaction; payment, decline, cancel and expiry are status
//! transitions guarded by the current status, each moving stock exactly once.

use std::collections::HashMap;

use http::StatusCode;
use lambda_http::Request;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::cart::cart_view;
use super::{idempotency_key, page_limit, query_param, Reply, WRITE_ATTEMPTS};
use crate::domain::{
    order_total, units_left_after_purchase, CartOwner, OrderLine, OrderStatus, ProductId, MAX_CHECKOUT_LINES,
};
use crate::http::{json_body, path_param, ApiError};
use crate::model::{CartLineItem, CartLineView, OrderItem, ORDER_PARTITION, ORDER_PREFIX, PENDING_PARTITION};
use crate::payments::{ChargeOutcome, PaymentError};
use crate::store::{CartAdjustment, CheckoutOutcome, StoreError};
use crate::{cursor, now_epoch_secs, App};

fn order_json(order: OrderItem) -> Value {
    order.view()
}

fn refusal(status: StatusCode, message: impl Into<String>, order: Option<OrderItem>) -> ApiError {
    let mut details = Map::new();
    if let Some(order) = order {
        details.insert("order".into(), order_json(order));
    }
    ApiError::Detailed { status, message: message.into(), details }
}

fn order_id_param(req: &Request) -> Result<String, ApiError> {
    let raw = path_param(req, "order_id")?;
    uuid::Uuid::parse_str(&raw)
        .map(|u| u.to_string())
        .map_err(|_| ApiError::BadRequest("order id must be a UUID".into()))
}

async fn owned_order(app: &App, owner: &CartOwner, order_id: &str) -> Result<OrderItem, ApiError> {
    app.store
        .order(&owner.partition_key(), order_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("order {order_id} not found")))
}

pub(super) async fn checkout(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let identity = app.signed_in(req).await?;
    let user = CartOwner::user(&identity.sub)?;
    let key = idempotency_key(req)?;
    if let Some(k) = &key {
        if let Some(order) = order_for_key(app, &user, k).await? {
            return checkout_reply(app, &user, order, StatusCode::OK).await;
        }
    }
    for _ in 0..WRITE_ATTEMPTS {
        let now = now_epoch_secs();
        let lines: Vec<CartLineItem> =
            app.store.cart_lines(&user).await?.into_iter().filter(|l| l.state().is_live(now)).collect();
        if lines.is_empty() {
            return Err(ApiError::BadRequest("the cart is empty".into()));
        }
        if lines.len() > MAX_CHECKOUT_LINES {
            return Err(ApiError::BadRequest(format!(
                "the cart has {} lines; one checkout takes at most {MAX_CHECKOUT_LINES}",
                lines.len()
            )));
        }
        if let Some(order) = pending_checkout_of(app, &user, &lines, now).await? {
            return checkout_reply(app, &user, order, StatusCode::OK).await;
        }
        let order = new_order(app, &user, &identity.sub, &lines, key.clone(), now).await?;
        match app.store.checkout(&order, &lines, key.as_deref()).await? {
            CheckoutOutcome::Created => {
                // The cart is the lines just checked out: no need to read it again.
                let products: Vec<CartLineView> = lines.into_iter().map(CartLineView::from).collect();
                let mut reply = Reply::ok(json!({ "products": products, "order": order_json(order) }));
                reply.status = StatusCode::CREATED;
                return Ok(reply);
            }
            CheckoutOutcome::KeyUsed => {
                let k = key.as_deref().unwrap_or_default();
                if let Some(order) = order_for_key(app, &user, k).await? {
                    return checkout_reply(app, &user, order, StatusCode::OK).await;
                }
            }
            CheckoutOutcome::Short(indexes) => {
                let short = short_lines(app, &order, &indexes).await?;
                if !short.is_empty() {
                    let mut details = Map::new();
                    details.insert("shortLines".into(), Value::Array(short));
                    return Err(ApiError::Detailed {
                        status: StatusCode::CONFLICT,
                        message: "not enough stock for some lines; nothing was reserved".into(),
                        details,
                    });
                }
            }
            CheckoutOutcome::CartChanged => {}
        }
    }
    Err(ApiError::Conflict("the cart changed during checkout; retry".into()))
}

async fn order_for_key(app: &App, user: &CartOwner, key: &str) -> Result<Option<OrderItem>, ApiError> {
    let pk = user.partition_key();
    match app.store.order_for_key(&pk, key).await? {
        Some(order_id) => Ok(app.store.order(&pk, &order_id).await?),
        None => Ok(None),
    }
}

/// An unchanged cart that is already checked out into a pending order: that
/// order (a double-clicked or concurrent checkout reserves nothing twice).
async fn pending_checkout_of(
    app: &App,
    user: &CartOwner,
    lines: &[CartLineItem],
    now: i64,
) -> Result<Option<OrderItem>, ApiError> {
    let Some(order_id) = lines[0].checkout_order.as_deref() else { return Ok(None) };
    if lines.iter().any(|l| l.checkout_order.as_deref() != Some(order_id)) {
        return Ok(None);
    }
    let order = app.store.order(&user.partition_key(), order_id).await?;
    Ok(order.filter(|o| o.status == OrderStatus::PendingPayment && o.expires_at > now))
}

async fn new_order(
    app: &App,
    user: &CartOwner,
    sub: &str,
    lines: &[CartLineItem],
    key: Option<String>,
    now: i64,
) -> Result<OrderItem, ApiError> {
    let ids: Vec<ProductId> = lines.iter().filter_map(|l| ProductId::from_key(&l.sk)).collect();
    // Today's catalog price and name, not the cart's snapshot.
    let products = app.store.products(&ids).await?;
    let order_lines: Vec<OrderLine> = lines
        .iter()
        .map(|l| {
            let product = products.get(&l.product_id).unwrap_or(&l.product_detail);
            OrderLine {
                product_id: l.product_id.clone(),
                name: product.name.clone(),
                quantity: l.quantity,
                unit_price: product.price,
            }
        })
        .collect();
    let order_id = uuid::Uuid::now_v7().to_string();
    Ok(OrderItem {
        pk: user.partition_key(),
        sk: format!("{ORDER_PREFIX}{order_id}"),
        order_id,
        owner: sub.to_owned(),
        status: OrderStatus::PendingPayment,
        total: order_total(&order_lines),
        lines: order_lines,
        created_at: now,
        updated_at: now,
        expires_at: now + app.config.reservation_hold_secs,
        order_list: ORDER_PARTITION.to_owned(),
        pending_list: Some(PENDING_PARTITION.to_owned()),
        idempotency_key: key,
        charge_id: None,
        failure_reason: None,
    })
}

async fn short_lines(app: &App, order: &OrderItem, indexes: &[usize]) -> Result<Vec<Value>, ApiError> {
    let wanted: Vec<&OrderLine> = indexes.iter().filter_map(|i| order.lines.get(*i)).collect();
    let ids: Vec<ProductId> = wanted.iter().filter_map(|l| ProductId::parse(&l.product_id).ok()).collect();
    let stock = app.store.stocks(&ids).await?;
    Ok(wanted
        .into_iter()
        .filter_map(|l| {
            let available = stock.get(&l.product_id).map_or(0, |s| s.available);
            (available < l.quantity).then(|| {
                json!({ "productId": l.product_id, "name": l.name, "requested": l.quantity, "available": available })
            })
        })
        .collect())
}

/// The sample's `products` (the cart) plus the order.
async fn checkout_reply(app: &App, user: &CartOwner, order: OrderItem, status: StatusCode) -> Result<Reply, ApiError> {
    let products = cart_view(app, user).await?;
    let mut reply = Reply::ok(json!({ "products": products, "order": order_json(order) }));
    reply.status = status;
    Ok(reply)
}

pub(super) async fn list_orders(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let identity = app.signed_in(req).await?;
    let user = CartOwner::user(&identity.sub)?;
    let everyone = match query_param(req, "all").as_deref() {
        None | Some("false") => false,
        Some("true") if identity.is_admin() => true,
        Some("true") => return Err(ApiError::Forbidden),
        Some(_) => return Err(ApiError::BadRequest("all must be true or false".into())),
    };
    let limit = page_limit(req, 20, 100)?;
    let own_pk = user.partition_key();
    let start = match query_param(req, "cursor") {
        None => None,
        Some(raw) if everyone => {
            Some(cursor::decode(&raw, &["pk", "sk", "orderList", "orderId"], |name, v| match name {
                "orderList" => v == ORDER_PARTITION,
                "sk" => v.starts_with(ORDER_PREFIX),
                _ => true,
            })?)
        }
        Some(raw) => Some(cursor::decode(&raw, &["pk", "sk"], |name, v| match name {
            "pk" => v == own_pk,
            _ => v.starts_with(ORDER_PREFIX),
        })?),
    };
    let start = start.map(|k| k.into_iter().map(|(k, v)| (k, aws_sdk_dynamodb::types::AttributeValue::S(v))).collect());
    let owner = (!everyone).then_some(own_pk.as_str());
    let (orders, next) = app.store.order_page(owner, limit, start).await?;
    let mut body = json!({ "orders": orders.into_iter().map(order_json).collect::<Vec<_>>() });
    if let Some(next) = next {
        let key: HashMap<String, String> =
            next.into_iter().filter_map(|(k, v)| v.as_s().ok().map(|s| (k, s.clone()))).collect();
        body["nextCursor"] = json!(cursor::encode(&key));
    }
    Ok(Reply::ok(body))
}

pub(super) async fn get_order(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let identity = app.signed_in(req).await?;
    let order_id = order_id_param(req)?;
    let user = CartOwner::user(&identity.sub)?;
    let mut order = app.store.order(&user.partition_key(), &order_id).await?;
    if order.is_none() && identity.is_admin() {
        order = app.store.order_by_id(&order_id).await?;
    }
    // Another user's order is simply not found.
    let order = order.ok_or_else(|| ApiError::NotFound(format!("order {order_id} not found")))?;
    Ok(Reply::ok(json!({ "order": order_json(order) })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Payment {
    card_token: String,
}

pub(super) async fn pay_order(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let identity = app.signed_in(req).await?;
    let order_id = order_id_param(req)?;
    let payment: Payment = json_body(req)?;
    let token_ok = (1..=64).contains(&payment.card_token.len())
        && payment.card_token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !token_ok {
        return Err(ApiError::BadRequest("cardToken must be 1 to 64 letters, digits or '_'".into()));
    }
    let user = CartOwner::user(&identity.sub)?;
    let order = owned_order(app, &user, &order_id).await?;
    match order.status {
        OrderStatus::Paid => return Ok(Reply::ok(json!({ "order": order_json(order) }))),
        OrderStatus::PendingPayment => {}
        other => return Err(refusal(StatusCode::CONFLICT, format!("order is {}", other.as_str()), Some(order))),
    }
    let now = now_epoch_secs();
    if now >= order.expires_at {
        let order = expire_order(app, order, now).await?;
        return Err(refusal(StatusCode::CONFLICT, "the order expired before payment", Some(order)));
    }
    let outcome =
        app.payments.charge(&order.order_id, order.total, &payment.card_token).await.map_err(|e| match e {
            PaymentError::Unavailable => ApiError::PaymentUnavailable,
            PaymentError::Ledger(e) => ApiError::Store(e),
        })?;
    match outcome {
        ChargeOutcome::Approved { charge_id } => complete_payment(app, &user, order, &charge_id).await,
        // A decline charges nothing and changes nothing: the order keeps its
        // reservation until it is paid with another card, cancelled or expires.
        ChargeOutcome::Declined { reason } => {
            Err(refusal(StatusCode::PAYMENT_REQUIRED, format!("payment declined: {reason}"), Some(order)))
        }
    }
}

/// Commits the reservation as sold and takes the bought units out of the
/// cart. If the order stopped being pending meanwhile (it expired or was
/// cancelled while the charge went through), the charge is refunded.
async fn complete_payment(app: &App, user: &CartOwner, order: OrderItem, charge_id: &str) -> Result<Reply, ApiError> {
    for _ in 0..WRITE_ATTEMPTS {
        let now = now_epoch_secs();
        let cart = cart_adjustments(app, user, &order, now).await?;
        let settled = app.store.settle_order(&order, OrderStatus::Paid, now, Some(charge_id), None, &cart).await;
        let expected = order.clone().settled(OrderStatus::Paid, now, Some(charge_id), None);
        let current = after_settle(app, user, &order, settled.map(|()| expected)).await?;
        match current.status {
            OrderStatus::Paid => return Ok(Reply::ok(json!({ "order": order_json(current) }))),
            // Still pending: a cart line changed under us; read it again.
            OrderStatus::PendingPayment => continue,
            other => {
                let refunded = app.payments.refund(&order.order_id).await.map_err(|e| match e {
                    PaymentError::Unavailable => ApiError::PaymentUnavailable,
                    PaymentError::Ledger(e) => ApiError::Store(e),
                })?;
                tracing::warn!(order = %order.order_id, status = other.as_str(), refunded, "charge refunded");
                return Err(refusal(
                    StatusCode::CONFLICT,
                    format!("order is {}; the charge was refunded", other.as_str()),
                    Some(current),
                ));
            }
        }
    }
    Err(ApiError::Conflict("the cart kept changing during payment; retry (you will not be charged twice)".into()))
}

/// The order as it stands after a settle attempt: the committed order as
/// written, or after a lost race (not an error) the winner's, read back.
async fn after_settle(
    app: &App,
    user: &CartOwner,
    order: &OrderItem,
    settled: Result<OrderItem, StoreError>,
) -> Result<OrderItem, ApiError> {
    match settled {
        Ok(current) => Ok(current),
        Err(StoreError::Conflict) => owned_order(app, user, &order.order_id).await,
        Err(e) => Err(e.into()),
    }
}

/// What a paid order does to the buyer's cart: units bought leave it, units
/// added after checkout stay.
async fn cart_adjustments(
    app: &App,
    user: &CartOwner,
    order: &OrderItem,
    now: i64,
) -> Result<Vec<CartAdjustment>, ApiError> {
    let bought: HashMap<&str, i64> = order.lines.iter().map(|l| (l.product_id.as_str(), l.quantity)).collect();
    Ok(app
        .store
        .cart_lines(user)
        .await?
        .into_iter()
        .filter(|l| l.state().is_live(now))
        .filter_map(|line| {
            let units = *bought.get(line.product_id.as_str())?;
            let quantity_after = units_left_after_purchase(line.quantity, units);
            Some(CartAdjustment { line, quantity_after })
        })
        .collect())
}

pub(super) async fn cancel_order(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let identity = app.signed_in(req).await?;
    let order_id = order_id_param(req)?;
    let user = CartOwner::user(&identity.sub)?;
    let order = owned_order(app, &user, &order_id).await?;
    let current = match order.status {
        OrderStatus::PendingPayment => {
            release(app, &user, order, OrderStatus::Cancelled, crate::orders::CANCELLED_REASON, now_epoch_secs())
                .await?
        }
        _ => order,
    };
    match current.status {
        OrderStatus::Cancelled => Ok(Reply::ok(json!({ "order": order_json(current) }))),
        other => Err(refusal(StatusCode::CONFLICT, format!("order is {}", other.as_str()), Some(current))),
    }
}

/// Expires a pending order past its hold, releasing its reservation; the
/// order as it stands afterwards (another transition may have won).
async fn expire_order(app: &App, order: OrderItem, now: i64) -> Result<OrderItem, ApiError> {
    let user = CartOwner::user(&order.owner)?;
    release(app, &user, order, OrderStatus::Expired, crate::orders::EXPIRED_REASON, now).await
}

/// Ends a pending order without a sale (see `orders::release_order`) and
/// answers it as it now stands.
async fn release(
    app: &App,
    user: &CartOwner,
    order: OrderItem,
    to: OrderStatus,
    reason: &str,
    now: i64,
) -> Result<OrderItem, ApiError> {
    let released = crate::orders::release_order(&app.store, &app.payments, &order, to, reason, now).await;
    let expected = order.clone().settled(to, now, None, Some(reason));
    after_settle(app, user, &order, released.map(|()| expected)).await
}
