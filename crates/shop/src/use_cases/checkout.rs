//! Checkout: the signed-in cart becomes a pending order that holds its stock.
//! One transaction records the order, reserves every line and marks the cart
//! lines checked out; a retried request (same `Idempotency-Key`) or a second
//! checkout of the unchanged cart gets the first order, never a second one.

use std::collections::HashMap;

use super::cart::live_cart;
use super::ports::{CheckoutOutcome, Clock, OrderStore, StoreError};
use super::{through_contention, WRITE_ATTEMPTS};
use crate::domain::{
    order_total, plan_takes, total_stock, CartLine, CartOwner, DomainError, HoldPolicy, Order, OrderId, OrderLine,
    OrderStatus, ProductId, StockShards, StockTake, MAX_CHECKOUT_LINES, MAX_TRANSACTION_ITEMS,
};

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("the cart is empty")]
    EmptyCart,
    #[error("the cart has {0} lines; one checkout takes at most {MAX_CHECKOUT_LINES}")]
    TooManyLines(usize),
    #[error("you have {0} orders awaiting payment, the most allowed; pay or cancel one first")]
    TooManyPending(u32),
    /// The units of one product one buyer may hold awaiting payment.
    #[error(
        "you may hold at most {cap} of {name} awaiting payment at once (you hold {held}); pay or cancel an order first"
    )]
    TooManyHeld { product_id: String, name: String, cap: u32, held: i64 },
    /// An order of these lines ended unpaid a moment ago: others go first.
    #[error("your order of {name} ended unpaid a moment ago, so it is offered to other shoppers first: check out again in {retry_after} s")]
    CoolingDown { product_id: String, name: String, retry_after: i64 },
    #[error("not enough stock for some lines; nothing was reserved")]
    NotEnoughStock(Vec<ShortLine>),
    /// The cart kept changing under the checkout.
    #[error("the cart changed during checkout; retry")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A line the stock cannot cover.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShortLine {
    pub product_id: String,
    pub name: String,
    pub requested: i64,
    pub available: i64,
}

/// A checkout's answer: the order, the cart as it stands, and whether this
/// request created the order (or found the one an earlier request did).
#[derive(Debug)]
pub struct CheckedOut {
    pub order: Order,
    pub cart: Vec<CartLine>,
    pub created: bool,
}

/// What a checkout is asked: whose cart, the request's idempotency key if it
/// sent one, and what one buyer may hold for how long.
pub struct CheckoutRequest<'a> {
    pub buyer_sub: &'a str,
    pub idempotency_key: Option<&'a str>,
    pub policy: HoldPolicy,
}

pub async fn checkout(
    store: &impl OrderStore,
    clock: &impl Clock,
    request: CheckoutRequest<'_>,
) -> Result<CheckedOut, CheckoutError> {
    let buyer = CartOwner::user(request.buyer_sub)?;
    let key = request.idempotency_key;
    if let Some(k) = key {
        if let Some(order) = store.order_for_key(&buyer, k).await? {
            return earlier(store, clock, &buyer, order).await;
        }
    }
    // Where each sharded product's units come from once a first guess fell
    // short: planned from its shards' counters, kept across attempts.
    let mut planned: HashMap<String, Vec<StockTake>> = HashMap::new();
    for _ in 0..WRITE_ATTEMPTS {
        let now = clock.now();
        let lines = live_cart(store, clock, &buyer).await?;
        if lines.is_empty() {
            return Err(CheckoutError::EmptyCart);
        }
        if lines.len() > MAX_CHECKOUT_LINES {
            return Err(CheckoutError::TooManyLines(lines.len()));
        }
        if let Some(order) = pending_checkout_of(store, &buyer, &lines, now).await? {
            return earlier(store, clock, &buyer, order).await;
        }
        if let Some(line) = lines.iter().find(|l| l.quantity > i64::from(request.policy.max_held_units)) {
            return Err(too_many_held(line.product_id.as_str(), &line.product.name, request.policy.max_held_units, 0));
        }
        let (order, splits) = new_order(store, &request, &lines, &planned, now).await?;
        if !fits_one_transaction(&order) {
            // Stock scattered thinly over many shards under a large order:
            // a moment later (restocks, rebalancing, releases) it may fit.
            return Err(StoreError::Contended.into());
        }
        // Contention (a hot product's stock item throttled, or held by another
        // checkout's transaction) is retried with backoff; past that the
        // shopper is told to retry, with nothing reserved.
        match through_contention(|| store.checkout(&order, &lines, &request.policy)).await? {
            // The cart is the lines just checked out: no need to read it again.
            CheckoutOutcome::Created => return Ok(CheckedOut { order, cart: lines, created: true }),
            CheckoutOutcome::KeyUsed => {
                if let Some(order) = store.order_for_key(&buyer, key.unwrap_or_default()).await? {
                    return earlier(store, clock, &buyer, order).await;
                }
            }
            CheckoutOutcome::Short(indexes) => {
                // A shard that fell short is not the product sold out: plan
                // the line over the shards that hold units, and try again.
                let short = replan_short_lines(store, &order, &indexes, &splits, &mut planned).await?;
                if !short.is_empty() {
                    return Err(CheckoutError::NotEnoughStock(short));
                }
            }
            CheckoutOutcome::CartChanged => {}
            CheckoutOutcome::TooManyPending => return Err(CheckoutError::TooManyPending(request.policy.max_pending)),
            CheckoutOutcome::CoolingDown { product_id, until } => {
                let name = order.lines.iter().find(|l| l.product_id == product_id).map(|l| l.name.clone());
                let name = name.unwrap_or_else(|| product_id.clone());
                return Err(CheckoutError::CoolingDown { product_id, name, retry_after: (until - now).max(1) });
            }
            CheckoutOutcome::TooManyHeld { product_id, held } => {
                let name = order.lines.iter().find(|l| l.product_id == product_id).map(|l| l.name.clone());
                let name = name.unwrap_or_else(|| product_id.clone());
                return Err(too_many_held(&product_id, &name, request.policy.max_held_units, held));
            }
        }
    }
    Err(CheckoutError::Busy)
}

fn too_many_held(product_id: &str, name: &str, cap: u32, held: i64) -> CheckoutError {
    CheckoutError::TooManyHeld { product_id: product_id.to_owned(), name: name.to_owned(), cap, held }
}

/// The answer for an order an earlier request created.
async fn earlier(
    store: &impl OrderStore,
    clock: &impl Clock,
    buyer: &CartOwner,
    order: Order,
) -> Result<CheckedOut, CheckoutError> {
    Ok(CheckedOut { cart: live_cart(store, clock, buyer).await?, order, created: false })
}

/// An unchanged cart that is already checked out into a pending order: that
/// order (a double-clicked or concurrent checkout reserves nothing twice).
async fn pending_checkout_of(
    store: &impl OrderStore,
    buyer: &CartOwner,
    lines: &[CartLine],
    now: i64,
) -> Result<Option<Order>, StoreError> {
    let Some(order_id) = lines[0].checkout_order else { return Ok(None) };
    if lines.iter().any(|l| l.checkout_order != Some(order_id)) {
        return Ok(None);
    }
    Ok(store.order(buyer, &order_id).await?.filter(|o| o.is_payable(now)))
}

async fn new_order(
    store: &impl OrderStore,
    request: &CheckoutRequest<'_>,
    lines: &[CartLine],
    planned: &HashMap<String, Vec<StockTake>>,
    now: i64,
) -> Result<(Order, HashMap<String, StockShards>), StoreError> {
    let ids: Vec<ProductId> = lines.iter().map(|l| l.product_id.clone()).collect();
    // Today's catalog price and name, not the cart's snapshot.
    let products = store.products(&ids).await?;
    let order_lines: Vec<OrderLine> = lines
        .iter()
        .map(|l| {
            let product = products.get(l.product_id.as_str()).unwrap_or(&l.product);
            OrderLine {
                product_id: l.product_id.to_string(),
                name: product.name.clone(),
                quantity: l.quantity,
                unit_price: product.price,
                taken: first_takes(product.stock_shards, l.quantity, planned.get(l.product_id.as_str())),
            }
        })
        .collect();
    // How each product's stock is split, for a line that falls short.
    let splits: HashMap<String, StockShards> = products.into_iter().map(|(id, p)| (id, p.stock_shards)).collect();
    // A sharded product is a hot one: its units are held for a shorter time.
    let holds_a_hot_product = splits.values().any(|s| !s.is_single());
    let order = Order {
        order_id: OrderId::new(),
        owner: request.buyer_sub.to_owned(),
        status: OrderStatus::PendingPayment,
        total: order_total(&order_lines),
        lines: order_lines,
        created_at: now,
        updated_at: now,
        expires_at: now + request.policy.hold_for(holds_a_hot_product),
        idempotency_key: request.idempotency_key.map(str::to_owned),
        charge_id: None,
        failure_reason: None,
        counts_pending: true,
        refund_due: false,
        renew_after: None,
    };
    Ok((order, splits))
}

/// Where a line's units are taken from first: one stock item as ever, a
/// plan made from the shards' counters, or a random active shard (so that
/// concurrent checkouts spread over the shards).
fn first_takes(shards: StockShards, units: i64, planned: Option<&Vec<StockTake>>) -> Vec<StockTake> {
    match planned {
        _ if shards.is_single() => Vec::new(),
        Some(takes) if takes.iter().map(|t| t.units).sum::<i64>() == units => takes.clone(),
        _ => vec![StockTake { shard: fastrand::u32(0..shards.active.max(1)), units }],
    }
}

/// Whether the checkout's transaction, and the one that later settles the
/// order, stay within DynamoDB's 100 items: the order, its key and the
/// pending count (or the purchase mark), one item per cart line and one per
/// shard a line takes from.
fn fits_one_transaction(order: &Order) -> bool {
    let takes: usize = order.lines.iter().map(|l| l.takes().len()).sum();
    3 + order.lines.len() + takes <= MAX_TRANSACTION_ITEMS
}

/// For the lines that fell short: plans them over every shard from its
/// counters (kept in `planned`), and answers those that all the shards
/// together cannot cover.
async fn replan_short_lines(
    store: &impl OrderStore,
    order: &Order,
    indexes: &[usize],
    splits: &HashMap<String, StockShards>,
    planned: &mut HashMap<String, Vec<StockTake>>,
) -> Result<Vec<ShortLine>, StoreError> {
    let wanted: Vec<&OrderLine> = indexes.iter().filter_map(|i| order.lines.get(*i)).collect();
    let ids: Vec<ProductId> = wanted.iter().filter_map(|l| ProductId::parse(&l.product_id).ok()).collect();
    let mut short = Vec::new();
    for (line, id) in wanted.into_iter().zip(&ids) {
        let shards = splits.get(id.as_str()).copied().unwrap_or_default();
        let levels = store.shard_stocks(id, shards).await?;
        let available: Vec<i64> = levels.iter().map(|s| s.available).collect();
        match plan_takes(line.quantity, &available, fastrand::usize(0..available.len().max(1))) {
            Some(takes) => {
                planned.insert(line.product_id.clone(), takes);
            }
            None => short.push(ShortLine {
                product_id: line.product_id.clone(),
                name: line.name.clone(),
                requested: line.quantity,
                available: total_stock(&levels).available,
            }),
        }
    }
    Ok(short)
}
