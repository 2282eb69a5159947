//! Reconciliation: recomputes what the counters should be from the items they
//! summarise, reports every difference, and (when asked) repairs it.
//!
//! - Cart totals: each product's total must equal the units its live cart lines
//!   count, and each counted line (`incart#`) what its cart line counts.
//! - Stock: `available + reserved + sold == added`, no counter negative,
//!   `reserved` equals what orders awaiting payment hold and `sold` what paid
//!   orders bought.
//! - Ratings: each product's summary (reviews per star) must be what its
//!   reviews give.
//! - Pending counts: each user's count of orders awaiting payment (the cap's
//!   counter) must be how many of their orders await payment.
//! - Purchase marks: every product of a paid order must be among its buyer's
//!   reviewable products (the backfill for orders paid before reviews).
//!
//! Every repair is a write conditional on what was read, so one that races a
//! live writer fails instead of undoing its work; run it again. Stock, whose
//! expected counters come from orders spread over the whole table, is read
//! again before it is repaired: each drifted shard (consistently, with its
//! version), then every order (a consistent scan), then the shards once more;
//! a shard is repaired only if no write touched it between its two reads
//! (its version did not move), and on condition that none has since. So the
//! orders read are exactly the ones its counters reflect, whatever order the
//! scan met the items in (on DynamoDB, that of the partition keys' hashes).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use std::future::Future;

use crate::domain::{Order, OrderStatus, ProductId, RatingSummary, StockLevels};
use crate::outbound::dynamodb::keys::PRODUCT_PREFIX;
use crate::outbound::dynamodb::{Holdings, StockRead, Store, StoreError, TableSnapshot};
use crate::use_cases::ports::OrderStore;

/// Where a stock repair stands, for a test to make a writer land there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairStep {
    /// The drifted shards were read the first time; the orders are next.
    ShardsRead,
    /// The orders were read; the shards are read again next.
    OrdersRead,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    pub product_id: String,
    pub kind: DriftKind,
    pub problem: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DriftKind {
    CartTotal,
    Stock,
    Rating,
    /// A paid order's product its buyer may not review (no purchase mark).
    Purchase,
    /// A user's count of orders awaiting payment is not how many do.
    PendingCount,
    /// An approved charge not refunded, of an order that is not PAID.
    Charge,
    /// An item that does not read as what its key says it is (not repaired).
    Unreadable,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileReport {
    pub products_checked: usize,
    pub cart_lines: usize,
    pub pending_orders: usize,
    pub reviews: usize,
    pub drift: Vec<Drift>,
    /// Products whose counters were rewritten (with `--repair`).
    pub repaired: Vec<String>,
    /// Buyers whose purchase marks were completed (with `--repair`).
    pub purchase_marks_added: Vec<String>,
    /// Repairs refused because the item changed while we looked.
    pub repair_conflicts: Vec<String>,
}

/// One product's counters as they are and as they should be.
#[derive(Debug, Default)]
struct ProductPlan {
    total: Option<i64>,
    /// Per cart: (stored counted line, units the cart line counts now).
    lines: BTreeMap<String, (Option<crate::outbound::dynamodb::CountedLine>, i64)>,
    /// Each stock shard's counters (0: the product's own stock item).
    shards: BTreeMap<u32, StockLevels>,
    /// Per shard: units orders awaiting payment hold there, units paid orders bought there.
    held_by_pending: BTreeMap<u32, i64>,
    bought: BTreeMap<u32, i64>,
}

impl ProductPlan {
    fn true_total(&self) -> i64 {
        self.lines.values().map(|(_, units)| units).sum()
    }

    /// What a shard's counters should be: what orders hold and bought there,
    /// the rest of what was added available.
    fn shard_should_be(&self, shard: u32) -> Option<StockLevels> {
        let stock = self.shards.get(&shard)?;
        let held = self.held_by_pending.get(&shard).copied().unwrap_or(0);
        let bought = self.bought.get(&shard).copied().unwrap_or(0);
        Some(StockLevels { available: stock.added - held - bought, reserved: held, sold: bought, added: stock.added })
    }
}

fn plan(snapshot: &TableSnapshot, now: i64) -> BTreeMap<String, ProductPlan> {
    let mut products: BTreeMap<String, ProductPlan> = BTreeMap::new();
    for line in &snapshot.cart_lines {
        let Some(product) = crate::outbound::dynamodb::keys::product_of_key(&line.sk) else { continue };
        let state = line.state();
        // An expired line stops counting here even before TTL deletes it.
        let units = if state.expiration_time > now { state.counted_units() } else { 0 };
        products.entry(product.as_str().to_owned()).or_default().lines.entry(line.pk.clone()).or_default().1 = units;
    }
    for counted in snapshot.counted_lines.iter() {
        let Some(product) = counted.product_id() else { continue };
        let Some(cart) = counted.cart_pk() else { continue };
        products.entry(product.to_owned()).or_default().lines.entry(cart.to_owned()).or_default().0 =
            Some(counted.clone());
    }
    for (pk, total) in &snapshot.totals {
        if let Some(id) = pk.strip_prefix(PRODUCT_PREFIX) {
            products.entry(id.to_owned()).or_default().total = Some(*total);
        }
    }
    for stock in &snapshot.stocks {
        products.entry(stock.product_id.clone()).or_default().shards.insert(stock.shard, stock.levels);
    }
    for (product, shard, held, bought) in order_holdings(&snapshot.orders) {
        let entry = products.entry(product).or_default();
        *entry.held_by_pending.entry(shard).or_default() += held;
        *entry.bought.entry(shard).or_default() += bought;
    }
    products
}

/// What orders hold on each stock shard: (product, shard, units awaiting
/// payment, units paid for), one entry per order line's take.
fn order_holdings(orders: &[Order]) -> Vec<(String, u32, i64, i64)> {
    let mut holdings = Vec::new();
    for order in orders {
        for line in &order.lines {
            for take in line.takes() {
                match order.status {
                    OrderStatus::PendingPayment => holdings.push((line.product_id.clone(), take.shard, take.units, 0)),
                    OrderStatus::Paid => holdings.push((line.product_id.clone(), take.shard, 0, take.units)),
                    _ => {}
                }
            }
        }
    }
    holdings
}

fn drift_of(id: &str, plan: &ProductPlan) -> Vec<Drift> {
    let mut found = Vec::new();
    let mut report = |kind: DriftKind, problem: String| found.push(Drift { product_id: id.to_owned(), kind, problem });
    let true_total = plan.true_total();
    let total = plan.total.unwrap_or(0);
    if total != true_total {
        report(DriftKind::CartTotal, format!("cart total {total} but live cart lines hold {true_total}"));
    }
    for (cart, (counted, units)) in &plan.lines {
        let stored = counted.as_ref().map_or(0, |c| c.counted);
        if stored != *units {
            report(DriftKind::CartTotal, format!("cart {cart} counted as {stored} but holds {units}"));
        }
    }
    // Per shard (a product before shards has one, its own stock item).
    for (shard, stock) in &plan.shards {
        let on = if plan.shards.len() > 1 { format!("shard {shard}: ") } else { String::new() };
        if let Some(problem) = stock.violation() {
            report(DriftKind::Stock, format!("{on}{problem}"));
        }
        let held = plan.held_by_pending.get(shard).copied().unwrap_or(0);
        if stock.reserved != held {
            report(DriftKind::Stock, format!("{on}reserved {} but pending orders hold {held}", stock.reserved));
        }
        let bought = plan.bought.get(shard).copied().unwrap_or(0);
        if stock.sold != bought {
            report(DriftKind::Stock, format!("{on}sold {} but paid orders bought {bought}", stock.sold));
        }
    }
    // Orders holding units on a shard that does not exist.
    for shard in plan.held_by_pending.keys().chain(plan.bought.keys()) {
        if !plan.shards.contains_key(shard) {
            report(DriftKind::Stock, format!("orders hold units of stock shard {shard}, which does not exist"));
        }
    }
    found
}

/// Reads the whole table once and reports every drift; with `repair`, also
/// rewrites the drifted counters (totals, counted lines, stock) to what the
/// carts and orders say.
pub async fn reconcile(store: &Store, now: i64, repair: bool) -> Result<ReconcileReport, StoreError> {
    reconcile_pausing(store, now, repair, |_| async {}).await
}

/// [`reconcile`], awaiting `pause` at each step of the stock repair (a test
/// lands a checkout there).
pub async fn reconcile_pausing<F, Fut>(
    store: &Store,
    now: i64,
    repair: bool,
    pause: F,
) -> Result<ReconcileReport, StoreError>
where
    F: Fn(RepairStep) -> Fut,
    Fut: Future<Output = ()>,
{
    let snapshot = store.snapshot().await?;
    let products = plan(&snapshot, now);
    let mut report = ReconcileReport {
        products_checked: products.len(),
        cart_lines: snapshot.cart_lines.len(),
        pending_orders: snapshot.orders.iter().filter(|o| o.status == OrderStatus::PendingPayment).count(),
        ..Default::default()
    };
    for (pk, sk, why) in &snapshot.unreadable {
        let product_id = crate::outbound::dynamodb::keys::product_of_key(sk)
            .or_else(|| pk.strip_prefix(PRODUCT_PREFIX).and_then(|id| ProductId::parse(id).ok()))
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        report.drift.push(Drift {
            product_id,
            kind: DriftKind::Unreadable,
            problem: format!("item {pk} / {sk} is unreadable ({why}); left as it is"),
        });
    }
    let mut drifted = BTreeSet::new();
    for (id, plan) in &products {
        let drift = drift_of(id, plan);
        if !drift.is_empty() {
            drifted.insert(id.clone());
        }
        report.drift.extend(drift);
    }
    let ratings = rating_drift(&snapshot);
    let pending_counts = pending_count_drift(&snapshot);
    for (sub, (stored, should)) in &pending_counts {
        let mut report_of = |product_id: String, problem: String| {
            report.drift.push(Drift { product_id, kind: DriftKind::PendingCount, problem })
        };
        if stored.orders != should.orders {
            let (stored, should) = (stored.orders, should.orders);
            report_of(
                String::new(),
                format!("user {sub} counted with {stored} orders awaiting payment but has {should}"),
            );
        }
        for product in stored.held.keys().chain(should.held.keys()).collect::<BTreeSet<_>>() {
            let (counted, held) =
                (stored.held.get(product).copied().unwrap_or(0), should.held.get(product).copied().unwrap_or(0));
            if counted != held {
                report_of(
                    product.clone(),
                    format!("user {sub} counted as holding {counted} units but their orders hold {held}"),
                );
            }
        }
    }
    let purchases = purchase_drift(&snapshot);
    let unrefunded = charge_drift(&snapshot);
    for (order, problem) in &unrefunded {
        let product_id = order.lines.first().map(|l| l.product_id.clone()).unwrap_or_default();
        report.drift.push(Drift { product_id, kind: DriftKind::Charge, problem: problem.clone() });
    }
    report.reviews = snapshot.reviews.len();
    for (id, (stored, should)) in &ratings {
        report.drift.push(Drift {
            product_id: id.clone(),
            kind: DriftKind::Rating,
            problem: format!("rating histogram {:?} but its reviews give {:?}", stored.histogram, should.histogram),
        });
    }
    for (sub, missing) in &purchases {
        for id in missing {
            report.drift.push(Drift {
                product_id: id.clone(),
                kind: DriftKind::Purchase,
                problem: format!("user {sub} paid for it but has no purchase mark, so cannot review it"),
            });
        }
    }
    if !repair {
        return Ok(report);
    }
    for (id, (stored, should)) in ratings {
        let Ok(product) = ProductId::parse(&id) else { continue };
        match store.repair_rating(&product, &stored, &should).await {
            Ok(()) => report.repaired.push(id),
            Err(StoreError::Conflict) => report.repair_conflicts.push(id),
            Err(e) => return Err(e),
        }
    }
    for sub in pending_counts.into_keys() {
        // The scan read orders and counter at different moments: a checkout
        // between them looks like drift. Read the user's partition once more
        // and repair only what that read confirms, conditional on it.
        let (stored, should) = store.pending_state(&sub).await?;
        if stored == should {
            continue;
        }
        match store.repair_pending_count(&sub, &stored, &should).await {
            Ok(()) => report.repaired.push(format!("user#{sub}")),
            Err(StoreError::Conflict) => report.repair_conflicts.push(format!("user#{sub}")),
            Err(e) => return Err(e),
        }
    }
    for (order, _) in unrefunded {
        // The sweeper refunds it on its next run.
        match store.mark_refund_due(order, now).await {
            Ok(()) => report.repaired.push(format!("order#{}", order.order_id)),
            Err(StoreError::Conflict) => report.repair_conflicts.push(format!("order#{}", order.order_id)),
            Err(e) => return Err(e),
        }
    }
    for (sub, missing) in purchases {
        // A set union: repeating it changes nothing, racing a payment loses nothing.
        store.add_purchases(&sub, missing.into_iter().collect()).await?;
        report.purchase_marks_added.push(sub);
    }
    let mut stock_drifted = Vec::new();
    for id in drifted {
        let plan = &products[&id];
        let Ok(product) = ProductId::parse(&id) else { continue };
        match repair_totals(store, &product, plan).await {
            Ok(true) => report.repaired.push(id.clone()),
            Ok(false) => {}
            Err(StoreError::Conflict) => report.repair_conflicts.push(id.clone()),
            Err(e) => return Err(e),
        }
        for (shard, stock) in &plan.shards {
            if plan.shard_should_be(*shard).is_some_and(|should| should != *stock) {
                stock_drifted.push((product.clone(), *shard));
            }
        }
    }
    repair_stock(store, &stock_drifted, &mut report, pause).await?;
    report.repaired.dedup();
    Ok(report)
}

/// Repairs drifted stock shards on a live table (see the module's notes):
/// shards read, orders read, shards read again; a shard written in between is
/// left for the next run.
async fn repair_stock<F, Fut>(
    store: &Store,
    shards: &[(ProductId, u32)],
    report: &mut ReconcileReport,
    pause: F,
) -> Result<(), StoreError>
where
    F: Fn(RepairStep) -> Fut,
    Fut: Future<Output = ()>,
{
    if shards.is_empty() {
        return Ok(());
    }
    let before = store.stock_reads(shards).await?;
    pause(RepairStep::ShardsRead).await;
    let orders = store.snapshot().await?.orders;
    pause(RepairStep::OrdersRead).await;
    let after = store.stock_reads(shards).await?;
    let holdings = order_holdings(&orders);
    for read in &after {
        let name =
            if read.shard == 0 { read.product_id.clone() } else { format!("{}#{}", read.product_id, read.shard) };
        let unchanged = before.iter().any(|b| {
            b.product_id == read.product_id
                && b.shard == read.shard
                && b.version == read.version
                && b.levels == read.levels
        });
        if !unchanged {
            report.repair_conflicts.push(name);
            continue;
        }
        let should = shard_should_be(read, &holdings);
        if should == read.levels {
            continue; // the drift was a writer caught between the scan's reads
        }
        if should.available < 0 {
            // More held and sold than was ever added: no counter value is
            // right; a person must look at the orders.
            report.drift.push(Drift {
                product_id: read.product_id.clone(),
                kind: DriftKind::Stock,
                problem: format!("shard {}: orders hold more than was added; not repaired", read.shard),
            });
            continue;
        }
        match store.repair_stock(read, &should).await {
            Ok(()) => report.repaired.push(read.product_id.clone()),
            Err(StoreError::Conflict) => report.repair_conflicts.push(name),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// What a shard's counters should be, given what every order holds.
fn shard_should_be(read: &StockRead, holdings: &[(String, u32, i64, i64)]) -> StockLevels {
    let (mut held, mut bought) = (0, 0);
    for (product, shard, h, b) in holdings {
        if *product == read.product_id && *shard == read.shard {
            held += h;
            bought += b;
        }
    }
    StockLevels { available: read.levels.added - held - bought, reserved: held, sold: bought, added: read.levels.added }
}

/// Products whose stored rating summary is not what their reviews give:
/// (stored, should be).
fn rating_drift(snapshot: &TableSnapshot) -> BTreeMap<String, (RatingSummary, RatingSummary)> {
    let mut should: BTreeMap<&str, RatingSummary> =
        snapshot.ratings.keys().map(|id| (id.as_str(), RatingSummary::default())).collect();
    for review in &snapshot.reviews {
        should.entry(review.product_id.as_str()).or_default().add(review.rating);
    }
    should
        .into_iter()
        .filter_map(|(id, should)| {
            // Reviews of a product with no product item have nowhere to count.
            let stored = *snapshot.ratings.get(id)?;
            (stored != should).then(|| (id.to_owned(), (stored, should)))
        })
        .collect()
}

/// Users whose holdings (orders awaiting payment, units held per product)
/// are not what their orders say: (stored, should be). A user with none and
/// no holdings item is right.
fn pending_count_drift(snapshot: &TableSnapshot) -> BTreeMap<String, (Holdings, Holdings)> {
    let mut should: BTreeMap<&str, Holdings> =
        snapshot.pending_counts.keys().map(|sub| (sub.as_str(), Holdings::default())).collect();
    for order in &snapshot.orders {
        should.entry(order.owner.as_str()).or_default().count(order);
    }
    should
        .into_iter()
        .filter_map(|(sub, should)| {
            let stored = snapshot.pending_counts.get(sub).cloned().unwrap_or_default();
            (stored != should).then(|| (sub.to_owned(), (stored, should)))
        })
        .collect()
}

/// Approved charges, not refunded, of orders that are not PAID (nor awaiting
/// payment, whose charge a payment in flight is about to record) and whose
/// refund is not already due: (the order, what is wrong).
fn charge_drift(snapshot: &TableSnapshot) -> Vec<(&Order, String)> {
    snapshot
        .orders
        .iter()
        .filter(|o| snapshot.unrefunded_charges.contains(&o.order_id.to_string()))
        .filter(|o| !matches!(o.status, OrderStatus::Paid | OrderStatus::PendingPayment) && !o.refund_due)
        .map(|o| {
            let problem = format!(
                "order {} is {} but its approved charge was not refunded (nor recorded as due)",
                o.order_id,
                o.status.as_str()
            );
            (o, problem)
        })
        .collect()
}

/// Per buyer (`sub`), the products of their paid orders missing from their
/// purchase mark.
fn purchase_drift(snapshot: &TableSnapshot) -> BTreeMap<String, BTreeSet<String>> {
    let mut missing: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for order in snapshot.orders.iter().filter(|o| o.status == OrderStatus::Paid) {
        let marked = snapshot.purchases.get(&order.owner);
        for line in &order.lines {
            if !marked.is_some_and(|m| m.contains(&line.product_id)) {
                missing.entry(order.owner.clone()).or_default().insert(line.product_id.clone());
            }
        }
    }
    missing
}

/// Rewrites a product's cart total and counted lines to what its cart lines
/// count; `true` when something was rewritten.
async fn repair_totals(store: &Store, product: &ProductId, plan: &ProductPlan) -> Result<bool, StoreError> {
    let true_total = plan.true_total();
    let wrong_lines: Vec<(String, Option<crate::outbound::dynamodb::CountedLine>, i64)> = plan
        .lines
        .iter()
        .filter(|(_, (counted, units))| counted.as_ref().map_or(0, |c| c.counted) != *units)
        .map(|(cart, (counted, units))| (cart.clone(), counted.clone(), *units))
        .collect();
    if plan.total.unwrap_or(0) == true_total && wrong_lines.is_empty() {
        return Ok(false);
    }
    store.repair_product_totals(product, plan.total, &wrong_lines, true_total).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stock(available: i64, reserved: i64, sold: i64, added: i64) -> StockLevels {
        StockLevels { available, reserved, sold, added }
    }

    #[test]
    fn drift_names_each_broken_counter() {
        let mut plan = ProductPlan { total: Some(5), ..Default::default() };
        plan.shards.insert(0, stock(7, 2, 1, 10));
        plan.lines.insert("cart#a".into(), (None, 3));
        plan.held_by_pending.insert(0, 2);
        plan.bought.insert(0, 1);
        let drift = drift_of("p1", &plan);
        let problems: Vec<&str> = drift.iter().map(|d| d.problem.as_str()).collect();
        assert_eq!(problems, ["cart total 5 but live cart lines hold 3", "cart cart#a counted as 0 but holds 3"]);

        plan.total = Some(3);
        plan.shards.insert(0, stock(6, 3, 1, 10));
        let problems: Vec<String> = drift_of("p1", &plan).into_iter().map(|d| d.problem).collect();
        assert!(problems.contains(&"reserved 3 but pending orders hold 2".to_owned()), "{problems:?}");
        assert_eq!(plan.shard_should_be(0), Some(stock(7, 2, 1, 10)));

        // Shards are checked one by one: right in sum is not enough.
        plan.shards.insert(0, stock(7, 2, 1, 10));
        plan.shards.insert(1, stock(4, 1, 0, 5));
        plan.held_by_pending.insert(1, 0);
        let problems: Vec<String> = drift_of("p1", &plan).into_iter().map(|d| d.problem).collect();
        assert!(problems.contains(&"shard 1: reserved 1 but pending orders hold 0".to_owned()), "{problems:?}");
        assert!(!problems.iter().any(|p| p.starts_with("shard 0")), "{problems:?}");
        assert_eq!(plan.shard_should_be(1), Some(stock(5, 0, 0, 5)));
    }
}
