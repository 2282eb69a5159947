//! Checkout, order transitions and order queries. Checkout reserves every
//! line in one transaction with the order; each later transition is guarded
//! by a condition on the current status and moves the stock in the same
//! transaction, so a retry or a race moves stock at most once.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, PutRequest, TransactWriteItem, Update, WriteRequest};
use serde_dynamo::{from_item, to_item};

use std::collections::HashMap;

use super::items::{pending_partition, OrderItem, STOCK_WRITTEN};
use super::keys::{
    bought_sk, cart_pk, checkout_key_sk, order_sk, stock_shard_pk, user_pk, ORDER_PARTITION, ORDER_PREFIX,
    PENDING_COUNT_SK, PENDING_PARTITION, STOCK_SK,
};
use super::{build_error, key, key_cursor, n, s, transact_error, Item, Store, StoreError};
use crate::domain::{
    CartLine, CartOwner, HoldPolicy, Order, OrderId, OrderStatus, Product, ProductId, StockLevels, StockShards,
};
use crate::outbound::dynamodb::cursor::{self, CursorError};
use crate::use_cases::ports::{CartAdjustment, CheckoutOutcome, OrderStore};

/// GSI over orders by id, newest first (admins find any order through it).
pub const ORDERS_INDEX: &str = "orders-index";
/// Sparse GSI over orders awaiting payment, by `expiresAt`.
pub const PENDING_INDEX: &str = "pending-index";

impl OrderStore for Store {
    async fn products(&self, ids: &[ProductId]) -> Result<HashMap<String, Product>, StoreError> {
        Store::products(self, ids).await
    }

    async fn shard_stocks(&self, id: &ProductId, shards: StockShards) -> Result<Vec<StockLevels>, StoreError> {
        Store::shard_stocks(self, id, shards).await
    }

    async fn order(&self, buyer: &CartOwner, order_id: &OrderId) -> Result<Option<Order>, StoreError> {
        self.order_in(&cart_pk(buyer), order_id).await
    }

    async fn order_for_key(&self, buyer: &CartOwner, idempotency_key: &str) -> Result<Option<Order>, StoreError> {
        let pk = cart_pk(buyer);
        let item = self.get(pk.clone(), checkout_key_sk(idempotency_key), true).await?;
        match item.and_then(|i| i.get("orderId").and_then(|v| v.as_s().ok().cloned())) {
            Some(order_id) => {
                let order_id = OrderId::parse(&order_id).map_err(|e| StoreError::Malformed(e.to_string()))?;
                self.order_in(&pk, &order_id).await
            }
            None => Ok(None),
        }
    }

    /// Reserves every line's stock and records the order (and the idempotency
    /// key) in one transaction; the cart lines are marked as checked out into
    /// it, on condition that they are unchanged.
    async fn checkout(
        &self,
        order: &Order,
        cart_lines: &[CartLine],
        policy: &HoldPolicy,
    ) -> Result<CheckoutOutcome, StoreError> {
        let buyer = order.buyer().map_err(|e| StoreError::Malformed(e.to_string()))?;
        let idempotency_key = order.idempotency_key.as_deref();
        let mut items = vec![TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(to_item(OrderItem::new(order, self.partitions))?))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .map_err(build_error)?,
            )
            .build()];
        if let Some(k) = idempotency_key {
            let mut record = key(cart_pk(&buyer), checkout_key_sk(k));
            record.insert("orderId".into(), s(order.order_id.to_string()));
            items.push(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&self.table)
                            .set_item(Some(record))
                            .condition_expression("attribute_not_exists(pk)")
                            .build()
                            .map_err(build_error)?,
                    )
                    .build(),
            );
        }
        let counter = items.len();
        items.push(self.holdings_change(&buyer, order, 1, Some(policy), None)?);
        let header = items.len();
        // Which order line each further item is (a stock take or its cart line).
        let mut item_line: Vec<(usize, bool)> = Vec::new();
        for (index, (line, ordered)) in cart_lines.iter().zip(&order.lines).enumerate() {
            for take in ordered.takes() {
                items.push(
                    TransactWriteItem::builder()
                        .update(
                            Update::builder()
                                .table_name(&self.table)
                                .set_key(Some(key(stock_shard_pk(&line.product_id, take.shard), STOCK_SK)))
                                .update_expression(format!(
                                    "SET available = available - :n, reserved = reserved + :n{STOCK_WRITTEN}"
                                ))
                                .condition_expression("available >= :n")
                                .expression_attribute_values(":n", n(take.units))
                                .expression_attribute_values(":one", n(1))
                                .build()
                                .map_err(build_error)?,
                        )
                        .build(),
                );
                item_line.push((index, true));
            }
            item_line.push((index, false));
            items.push(
                TransactWriteItem::builder()
                    .update(
                        self.line_update(&buyer, line, "SET checkoutOrder = :o, version = :next", None)
                            .expression_attribute_values(":o", s(order.order_id.to_string()))
                            .build()
                            .map_err(build_error)?,
                    )
                    .build(),
            );
        }
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(CheckoutOutcome::Created),
            Err(e) => {
                let failed = transact_error(e)?;
                if idempotency_key.is_some() && failed.get(1) == Some(&true) {
                    return Ok(CheckoutOutcome::KeyUsed);
                }
                if failed.get(counter) == Some(&true) {
                    return self.why_holdings_refused(&buyer, order, policy).await;
                }
                let lines = &failed[header.min(failed.len())..];
                let failed_items = || lines.iter().zip(&item_line).filter(|(f, _)| **f).map(|(_, which)| *which);
                if failed_items().any(|(_, is_stock)| !is_stock) {
                    return Ok(CheckoutOutcome::CartChanged);
                }
                let mut short: Vec<usize> = failed_items().map(|(line, _)| line).collect();
                short.dedup();
                if short.is_empty() {
                    // The order id itself collided: vanishingly rare; retry.
                    Ok(CheckoutOutcome::CartChanged)
                } else {
                    Ok(CheckoutOutcome::Short(short))
                }
            }
        }
    }

    /// Writes the order's transition and settles its reservation in the same
    /// transaction: committed as sold for PAID, released otherwise. `Conflict`
    /// if the order is no longer pending (or a cart line changed).
    async fn settle_order(&self, order: &Order, settled: &Order, cart: &[CartAdjustment]) -> Result<(), StoreError> {
        self.settle(order, settled, cart, true).await
    }

    async fn end_order_without_stock(&self, order: &Order, ended: &Order) -> Result<(), StoreError> {
        debug_assert!(!ended.status.settles_stock_as_sold());
        self.settle(order, ended, &[], false).await
    }

    async fn refund_done(&self, order: &Order) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(&order.owner), order_sk(&order.order_id))))
            .update_expression("REMOVE refundDue, pendingList")
            .condition_expression("refundDue = :due")
            .expression_attribute_values(":due", AttributeValue::Bool(true))
            .send()
            .await?;
        Ok(())
    }

    /// Any user's order, by id (admins): its index partition is asked with
    /// every other, since an order written while `IndexPartitions` was smaller
    /// lives where that count put it.
    async fn order_by_id(&self, order_id: &OrderId) -> Result<Option<Order>, StoreError> {
        let found = self
            .query_every_partition(ORDER_PARTITION, 1, |query, partition| {
                query
                    .index_name(ORDERS_INDEX)
                    .key_condition_expression("orderList = :o AND orderId = :id")
                    .expression_attribute_values(":o", s(partition))
                    .expression_attribute_values(":id", s(order_id.to_string()))
            })
            .await?;
        let Some(found) = found.into_iter().next() else { return Ok(None) };
        let found: Order = from_item(found)?;
        // The index lags; the table has the current status.
        self.order_in(&user_pk(&found.owner), order_id).await
    }

    /// The order's new status and the refund due (in the pending index, so
    /// the expiry sweep retries it until the provider confirms), and each
    /// sold unit back on its shard.
    async fn refund_paid_order(&self, paid: &Order, refunded: &Order) -> Result<(), StoreError> {
        let order = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(&paid.owner), order_sk(&paid.order_id))))
            .update_expression(
                "SET #status = :to, updatedAt = :now, failureReason = :reason, refundDue = :due, \
                 pendingList = :p, expiresAt = :now",
            )
            .condition_expression("#status = :paid")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", s(OrderStatus::Refunded.as_str()))
            .expression_attribute_values(":now", n(refunded.updated_at))
            .expression_attribute_values(":reason", s(refunded.failure_reason.clone().unwrap_or_default()))
            .expression_attribute_values(":due", AttributeValue::Bool(true))
            .expression_attribute_values(":p", s(pending_partition(paid, self.partitions)))
            .expression_attribute_values(":paid", s(OrderStatus::Paid.as_str()))
            .build()
            .map_err(build_error)?;
        let mut items = vec![TransactWriteItem::builder().update(order).build()];
        for line in &paid.lines {
            let id = ProductId::parse(&line.product_id).map_err(|e| StoreError::Malformed(e.to_string()))?;
            for take in line.takes() {
                let back = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(stock_shard_pk(&id, take.shard), STOCK_SK)))
                    .update_expression(format!("SET sold = sold - :n, available = available + :n{STOCK_WRITTEN}"))
                    .condition_expression("sold >= :n")
                    .expression_attribute_values(":n", n(take.units))
                    .expression_attribute_values(":one", n(1))
                    .build()
                    .map_err(build_error)?;
                items.push(TransactWriteItem::builder().update(back).build());
            }
        }
        let failed = match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => return Ok(()),
            Err(e) => transact_error(e)?,
        };
        if failed.first() == Some(&true) {
            return Err(StoreError::Conflict);
        }
        Err(StoreError::ReservationMissing)
    }

    /// Due now: the expiry sweeper refunds it on its next run.
    async fn mark_refund_due(&self, order: &Order, now: i64) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(&order.owner), order_sk(&order.order_id))))
            .update_expression("SET refundDue = :due, pendingList = :p, expiresAt = :now")
            // Never a stub: the order must exist (a missing status is "not PAID").
            .condition_expression("attribute_exists(pk) AND #status <> :paid AND #status <> :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":due", AttributeValue::Bool(true))
            .expression_attribute_values(":p", s(pending_partition(order, self.partitions)))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":paid", s(OrderStatus::Paid.as_str()))
            .expression_attribute_values(":pending", s(OrderStatus::PendingPayment.as_str()))
            .send()
            .await?;
        Ok(())
    }
}

impl Store {
    /// One order transition in one transaction: the order (on condition it
    /// still awaits payment), the buyer's pending count, and with
    /// `move_stock` each reserved unit sold or released on its shard (on
    /// condition the shard still holds it reserved). A failed order condition
    /// is `Conflict`; a failed stock condition alone is `ReservationMissing`.
    async fn settle(
        &self,
        order: &Order,
        settled: &Order,
        cart: &[CartAdjustment],
        move_stock: bool,
    ) -> Result<(), StoreError> {
        let buyer = order.buyer().map_err(|e| StoreError::Malformed(e.to_string()))?;
        let to = settled.status;
        let mut set = String::from("SET #status = :to, updatedAt = :now");
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(&order.owner), order_sk(&order.order_id))))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", s(to.as_str()))
            .expression_attribute_values(":now", n(settled.updated_at))
            .expression_attribute_values(":pending", s(OrderStatus::PendingPayment.as_str()))
            .condition_expression("#status = :pending");
        if let Some(c) = &settled.charge_id {
            set.push_str(", chargeId = :charge");
            update = update.expression_attribute_values(":charge", s(c));
        }
        if let Some(r) = &settled.failure_reason {
            set.push_str(", failureReason = :reason");
            update = update.expression_attribute_values(":reason", s(r));
        }
        // An order whose refund is due stays in the pending index, where the
        // expiry sweeper finds it until the refund is confirmed.
        let update = if settled.refund_due {
            update
                .update_expression(format!("{set}, refundDue = :due"))
                .expression_attribute_values(":due", AttributeValue::Bool(true))
        } else {
            update.update_expression(format!("{set} REMOVE pendingList"))
        };
        let update = update.build().map_err(build_error)?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        if order.counts_pending {
            items.push(self.holdings_change(&buyer, order, -1, None, settled.renew_after)?);
        }
        let stock_move = if to.settles_stock_as_sold() {
            "SET reserved = reserved - :n, sold = sold + :n"
        } else {
            "SET reserved = reserved - :n, available = available + :n"
        };
        let stock_items =
            items.len()..items.len() + if move_stock { order.lines.iter().map(|l| l.takes().len()).sum() } else { 0 };
        for line in order.lines.iter().filter(|_| move_stock) {
            let id = ProductId::parse(&line.product_id).map_err(|e| StoreError::Malformed(e.to_string()))?;
            // Each unit goes back to (or is sold from) the shard it was reserved on.
            for take in line.takes() {
                items.push(
                    TransactWriteItem::builder()
                        .update(
                            Update::builder()
                                .table_name(&self.table)
                                .set_key(Some(key(stock_shard_pk(&id, take.shard), STOCK_SK)))
                                .update_expression(format!("{stock_move}{STOCK_WRITTEN}"))
                                .condition_expression("reserved >= :n")
                                .expression_attribute_values(":n", n(take.units))
                                .expression_attribute_values(":one", n(1))
                                .build()
                                .map_err(build_error)?,
                        )
                        .build(),
                );
            }
        }
        // The buyer may now review what they bought: a mark per product,
        // in this transaction when it fits, else put right after it.
        let mut marks_after = Vec::new();
        if to == OrderStatus::Paid {
            let mut bought: Vec<String> = order.lines.iter().map(|l| l.product_id.clone()).collect();
            bought.sort();
            bought.dedup();
            if items.len() + bought.len() + cart.len() <= crate::domain::MAX_TRANSACTION_ITEMS {
                for product in &bought {
                    items.push(TransactWriteItem::builder().put(self.purchase_mark(&order.owner, product)?).build());
                }
            } else {
                marks_after = bought;
            }
        }
        for adjustment in cart {
            let line = &adjustment.line;
            let item = if adjustment.quantity_after == 0 {
                TransactWriteItem::builder()
                    .delete(
                        Delete::builder()
                            .table_name(&self.table)
                            .set_key(Some(key(cart_pk(&buyer), super::keys::line_sk(&line.product_id))))
                            .condition_expression("version = :v")
                            .expression_attribute_values(":v", n(line.version))
                            .build()
                            .map_err(build_error)?,
                    )
                    .build()
            } else {
                TransactWriteItem::builder()
                    .update(
                        self.line_update(&buyer, line, "SET quantity = :q, version = :next REMOVE checkoutOrder", None)
                            .expression_attribute_values(":q", n(adjustment.quantity_after))
                            .build()
                            .map_err(build_error)?,
                    )
                    .build()
            };
            items.push(item);
        }
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => {
                if !marks_after.is_empty() {
                    // Paid either way; a mark lost here is put back by reconcile's backfill.
                    if let Err(e) = self.add_purchases(&order.owner, marks_after).await {
                        tracing::error!(order = %order.order_id, error = %e, "purchase marks not written; reconcile backfills them");
                    }
                }
                Ok(())
            }
            Err(e) => {
                let failed = transact_error(e)?;
                let order_changed = failed.first() == Some(&true);
                let stock_short = failed.iter().enumerate().any(|(i, f)| *f && stock_items.contains(&i));
                Err(if stock_short && !order_changed { StoreError::ReservationMissing } else { StoreError::Conflict })
            }
        }
    }
}

/// A buyer's holdings as the holdings item counts them (or as their orders
/// say they should): orders awaiting payment, and units held per product.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holdings {
    pub orders: i64,
    /// Units held per product id; products held none are left out.
    pub held: std::collections::BTreeMap<String, i64>,
}

impl Holdings {
    pub(crate) fn of_item(item: &Item) -> Self {
        let number = |v: &AttributeValue| v.as_n().ok().and_then(|n| n.parse::<i64>().ok()).unwrap_or(0);
        let mut holdings = Self { orders: item.get("orders").map(number).unwrap_or(0), ..Self::default() };
        for (name, value) in item {
            if let Some(product) = name.strip_prefix("held#") {
                if number(value) != 0 {
                    holdings.held.insert(product.to_owned(), number(value));
                }
            }
        }
        holdings
    }

    /// Adds what an order that counts toward the holdings holds (see
    /// `Order::counts_pending`): one order, and its units.
    pub(crate) fn count(&mut self, order: &Order) {
        if order.status != OrderStatus::PendingPayment || !order.counts_pending {
            return;
        }
        self.orders += 1;
        for (product, units) in held_units(order) {
            *self.held.entry(product).or_default() += units;
        }
    }
}

/// Units the order holds, per product.
fn held_units(order: &Order) -> Vec<(String, i64)> {
    let mut units: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for line in &order.lines {
        *units.entry(line.product_id.clone()).or_default() += line.quantity;
    }
    units.into_iter().collect()
}

/// The holdings item's attribute of a product's held units.
pub(crate) fn held_attribute(product: &str) -> String {
    format!("held#{product}")
}

/// The holdings item's attribute of when a product may be checked out again.
fn renew_attribute(product: &str) -> String {
    format!("renew#{product}")
}

fn purchase_mark_item(sub: &str, product: &str) -> Result<Item, StoreError> {
    let product = ProductId::parse(product).map_err(|e| StoreError::Malformed(e.to_string()))?;
    Ok(key(user_pk(sub), bought_sk(&product)))
}

/// Where an order page starts: a cursor `order_page` answered for the same
/// listing (the owner's orders, or everyone's), checked before it reaches
/// DynamoDB so a forged one is refused.
pub fn order_page_start(raw: &str, owner: Option<&CartOwner>) -> Result<OrderPageStart, CursorError> {
    match owner.map(cart_pk) {
        // Everyone's orders come from every orders-index partition, merged:
        // the cursor is the last order id answered (UUIDv7: time order).
        None => {
            let mut key = cursor::decode(raw, &["before"], |_, v| uuid::Uuid::parse_str(v).is_ok())?;
            Ok(OrderPageStart::Everyone { before: key.remove("before").unwrap_or_default() })
        }
        Some(own_pk) => {
            let key = cursor::decode(raw, &["pk", "sk"], |name, v| match name {
                "pk" => v == own_pk,
                _ => v.starts_with(ORDER_PREFIX),
            })?;
            Ok(OrderPageStart::Owner(key.into_iter().map(|(k, v)| (k, s(v))).collect()))
        }
    }
}

/// Where an order page starts: in the owner's partition, or (everyone's)
/// before an order id.
#[derive(Debug, Clone)]
pub enum OrderPageStart {
    Owner(Item),
    Everyone { before: String },
}

/// Where the expiry sweep goes on: a pending-index partition and the key its
/// last page ended at (the start of the first partition by default).
#[derive(Debug, Clone, Default)]
pub struct SweepPosition {
    partition: usize,
    key: Option<Item>,
}

impl Store {
    /// The buyer's pending-order count moved by `by`, within `cap` if given:
    /// one item of the transaction that creates or settles an order.
    /// The buyer's holdings, counted on one item (`user#<sub>`/`pending`):
    /// `orders` awaiting payment, per product `held#<product id>` units held
    /// and `renew#<product id>` when they may check it out again after an
    /// order ended unpaid. A checkout (`sign` 1) adds its order and units on
    /// condition that both stay within the policy and no renewal waits; an
    /// order's end (`sign` -1) takes them off, and an unpaid end
    /// (`renew_after`) sets the wait.
    fn holdings_change(
        &self,
        buyer: &CartOwner,
        order: &Order,
        sign: i64,
        within: Option<&HoldPolicy>,
        renew_after: Option<i64>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut adds = vec!["orders :one".to_owned()];
        let mut sets = Vec::new();
        let mut conditions = Vec::new();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(cart_pk(buyer), PENDING_COUNT_SK)))
            .expression_attribute_values(":one", n(sign));
        if let Some(policy) = within {
            conditions.push("(attribute_not_exists(orders) OR orders < :cap)".to_owned());
            update = update.expression_attribute_values(":cap", n(policy.max_pending));
        }
        for (i, (product, units)) in held_units(order).into_iter().enumerate() {
            adds.push(format!("#h{i} :u{i}"));
            update = update
                .expression_attribute_names(format!("#h{i}"), held_attribute(&product))
                .expression_attribute_values(format!(":u{i}"), n(sign * units));
            if let Some(policy) = within {
                // At most the cap after adding: at most cap - units before.
                conditions.push(format!("(attribute_not_exists(#h{i}) OR #h{i} <= :r{i})"));
                conditions.push(format!("(attribute_not_exists(#w{i}) OR #w{i} <= :now)"));
                update = update
                    .expression_attribute_names(format!("#w{i}"), renew_attribute(&product))
                    .expression_attribute_values(format!(":r{i}"), n(i64::from(policy.max_held_units) - units));
            }
            if renew_after.is_some() {
                sets.push(format!("#w{i} = :until"));
                update = update.expression_attribute_names(format!("#w{i}"), renew_attribute(&product));
            }
        }
        if within.is_some() {
            update = update.expression_attribute_values(":now", n(order.created_at));
        }
        if let Some(until) = renew_after {
            update = update.expression_attribute_values(":until", n(until));
        }
        let set = if sets.is_empty() { String::new() } else { format!(" SET {}", sets.join(", ")) };
        update = update.update_expression(format!("ADD {}{set}", adds.join(", ")));
        if !conditions.is_empty() {
            update = update.condition_expression(conditions.join(" AND "));
        }
        Ok(TransactWriteItem::builder().update(update.build().map_err(build_error)?).build())
    }

    /// Why the holdings refused a checkout: the order count or a product's
    /// units, read again (strongly); `CartChanged` (try again) if neither now.
    async fn why_holdings_refused(
        &self,
        buyer: &CartOwner,
        order: &Order,
        policy: &HoldPolicy,
    ) -> Result<CheckoutOutcome, StoreError> {
        let item = self.get(cart_pk(buyer), PENDING_COUNT_SK, true).await?.unwrap_or_default();
        let number = |name: &str| item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok());
        if number("orders").unwrap_or(0) >= i64::from(policy.max_pending) {
            return Ok(CheckoutOutcome::TooManyPending);
        }
        for (product, units) in held_units(order) {
            if let Some(until) = number(&renew_attribute(&product)).filter(|until| *until > order.created_at) {
                return Ok(CheckoutOutcome::CoolingDown { product_id: product, until });
            }
            let held = number(&held_attribute(&product)).unwrap_or(0);
            if held + units > i64::from(policy.max_held_units) {
                return Ok(CheckoutOutcome::TooManyHeld { product_id: product, held });
            }
        }
        Ok(CheckoutOutcome::CartChanged)
    }

    /// `sub`'s mark that they paid for `product` (putting it twice changes nothing).
    fn purchase_mark(&self, sub: &str, product: &str) -> Result<Put, StoreError> {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(purchase_mark_item(sub, product)?))
            .build()
            .map_err(build_error)
    }

    /// Puts `sub`'s marks for `products`, in batches: after a payment too
    /// large for one transaction, and reconcile's backfill.
    pub(crate) async fn add_purchases(&self, sub: &str, products: Vec<String>) -> Result<(), StoreError> {
        for chunk in products.chunks(25) {
            let mut writes = Vec::new();
            for product in chunk {
                let request = PutRequest::builder()
                    .set_item(Some(purchase_mark_item(sub, product)?))
                    .build()
                    .map_err(build_error)?;
                writes.push(WriteRequest::builder().put_request(request).build());
            }
            // Unprocessed writes come back under throttling: send them again.
            for _attempt in 0..5 {
                if writes.is_empty() {
                    break;
                }
                let out = self.client.batch_write_item().request_items(&self.table, writes).send().await?;
                writes = out.unprocessed_items.and_then(|mut u| u.remove(&self.table)).unwrap_or_default();
            }
            if !writes.is_empty() {
                return Err(StoreError::Backend(format!("{} purchase marks left unprocessed", writes.len())));
            }
        }
        Ok(())
    }

    /// A user's count of orders awaiting payment as stored, and how many of
    /// their orders do, from one strongly consistent read of their partition.
    pub(crate) async fn pending_state(&self, sub: &str) -> Result<(Holdings, Holdings), StoreError> {
        let pk = user_pk(sub);
        let items = self
            .query_all_items(|q| {
                q.consistent_read(true).key_condition_expression("pk = :pk").expression_attribute_values(":pk", s(&pk))
            })
            .await?;
        let (mut stored, mut should) = (Holdings::default(), Holdings::default());
        for item in items {
            let sk = super::item_key(&item).1;
            if sk == PENDING_COUNT_SK {
                stored = Holdings::of_item(&item);
            } else if sk.starts_with(ORDER_PREFIX) {
                let order: Order = from_item(item)?;
                should.count(&order);
            }
        }
        Ok((stored, should))
    }

    /// Rewrites a user's count of orders awaiting payment (reconciliation),
    /// conditional on it being what was read (absent read as 0).
    pub(crate) async fn repair_pending_count(
        &self,
        sub: &str,
        read: &Holdings,
        fixed: &Holdings,
    ) -> Result<(), StoreError> {
        let condition =
            if read.orders == 0 { "attribute_not_exists(orders) OR orders = :read" } else { "orders = :read" };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(sub), PENDING_COUNT_SK)))
            .condition_expression(condition)
            .expression_attribute_values(":read", n(read.orders))
            .expression_attribute_values(":fixed", n(fixed.orders));
        let (mut sets, mut removes) = (vec!["orders = :fixed".to_owned()], Vec::new());
        let products: std::collections::BTreeSet<&String> = read.held.keys().chain(fixed.held.keys()).collect();
        for (i, product) in products.into_iter().enumerate() {
            update = update.expression_attribute_names(format!("#h{i}"), held_attribute(product));
            match fixed.held.get(product).copied().unwrap_or(0) {
                // Held no more: the attribute goes (the item does not grow with every product ever held).
                0 => removes.push(format!("#h{i}")),
                units => {
                    sets.push(format!("#h{i} = :h{i}"));
                    update = update.expression_attribute_values(format!(":h{i}"), n(units));
                }
            }
        }
        let remove = if removes.is_empty() { String::new() } else { format!(" REMOVE {}", removes.join(", ")) };
        update.update_expression(format!("SET {}{remove}", sets.join(", "))).send().await?;
        Ok(())
    }

    /// An order by its partition (strongly consistent).
    async fn order_in(&self, owner_pk: &str, order_id: &OrderId) -> Result<Option<Order>, StoreError> {
        let item = self.get(owner_pk, order_sk(order_id), true).await?;
        Ok(item.map(from_item).transpose()?)
    }

    /// One page of orders, newest first: a user's (by partition) or
    /// everyone's (a page from each orders-index partition, merged, so the
    /// page is exactly the next `limit` orders); `start` from
    /// [`order_page_start`], the next page's cursor with the orders when more
    /// follow.
    pub async fn order_page(
        &self,
        owner: Option<&CartOwner>,
        limit: i32,
        start: Option<OrderPageStart>,
    ) -> Result<(Vec<Order>, Option<String>), StoreError> {
        let Some(owner) = owner else {
            let before = match start {
                Some(OrderPageStart::Everyone { before }) => Some(before),
                _ => None,
            };
            return self.everyones_order_page(limit, before).await;
        };
        let start = match start {
            Some(OrderPageStart::Owner(key)) => Some(key),
            _ => None,
        };
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .scan_index_forward(false)
            .consistent_read(true)
            .key_condition_expression("pk = :pk AND begins_with(sk, :o)")
            .expression_attribute_values(":pk", s(cart_pk(owner)))
            .expression_attribute_values(":o", s(ORDER_PREFIX));
        let (items, next) = self.page(query, limit, &["pk", "sk"], start).await?;
        let next = next.map(key_cursor);
        Ok((serde_dynamo::from_items(items)?, next))
    }

    async fn everyones_order_page(
        &self,
        limit: i32,
        before: Option<String>,
    ) -> Result<(Vec<Order>, Option<String>), StoreError> {
        let limit = usize::try_from(limit).unwrap_or(0);
        // One more than a page from each: if the merge holds more than a
        // page, another page follows; if not, every partition was drained.
        let mut items = self
            .query_every_partition(ORDER_PARTITION, limit + 1, |query, partition| {
                let query = query
                    .index_name(ORDERS_INDEX)
                    .scan_index_forward(false)
                    .expression_attribute_values(":o", s(partition));
                match &before {
                    Some(id) => query
                        .key_condition_expression("orderList = :o AND orderId < :before")
                        .expression_attribute_values(":before", s(id)),
                    None => query.key_condition_expression("orderList = :o"),
                }
            })
            .await?;
        let order_id = |item: &Item| item.get("orderId").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        items.sort_by_cached_key(|item| std::cmp::Reverse(order_id(item)));
        let more = items.len() > limit;
        items.truncate(limit);
        let next = match items.last() {
            Some(last) if more => Some(cursor::encode(&HashMap::from([("before".to_owned(), order_id(last))]))),
            _ => None,
        };
        Ok((serde_dynamo::from_items(items)?, next))
    }

    /// Orders still awaiting payment (or a refund) whose hold ended at or
    /// before `now`: the next non-empty page from `from` on, one pending-index
    /// partition after another, and where the sweep goes on (None: at the end).
    pub async fn orders_due_for_expiry(
        &self,
        now: i64,
        limit: i32,
        from: SweepPosition,
    ) -> Result<(Vec<Order>, Option<SweepPosition>), StoreError> {
        let partitions: Vec<String> = self.partitions.all(PENDING_PARTITION).collect();
        let mut at = from;
        loop {
            let Some(partition) = partitions.get(at.partition) else { return Ok((Vec::new(), None)) };
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(PENDING_INDEX)
                .key_condition_expression("pendingList = :p AND expiresAt <= :now")
                .expression_attribute_values(":p", s(partition))
                .expression_attribute_values(":now", n(now))
                .limit(limit)
                .set_exclusive_start_key(at.key.take())
                .send()
                .await?;
            let items = out.items.unwrap_or_default();
            let next = match out.last_evaluated_key.filter(|k| !k.is_empty()) {
                Some(key) => Some(SweepPosition { partition: at.partition, key: Some(key) }),
                None => (at.partition + 1 < partitions.len())
                    .then(|| SweepPosition { partition: at.partition + 1, key: None }),
            };
            match next {
                Some(next) if items.is_empty() => at = next,
                next => return Ok((serde_dynamo::from_items(items)?, next)),
            }
        }
    }
}
