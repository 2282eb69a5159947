//! The in-memory store, payment provider and cleanup queue every use-case
//! test runs against: carts, orders, stock, the catalog and reviews kept in
//! maps, versions and conditions checked as the ports promise, and knobs to
//! lose the next races, answer as contended, or script a checkout's outcome.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;

use crate::domain::cart::tests::{cart_line, product};
use crate::domain::{
    CardToken, CartLine, CartOwner, HoldPolicy, Order, OrderId, OrderStatus, Product, ProductId, ProductPatch,
    RatingChange, RatingSummary, Review, StockLevels, StockShards,
};
use crate::use_cases::checkout::{checkout, CheckedOut, CheckoutError, CheckoutRequest};
use crate::use_cases::payment::Orders;
use crate::use_cases::ports::*;

pub(super) const NOW: i64 = 1_000_000;
pub(super) const HOLD: i64 = 900;

#[derive(Default)]
pub(super) struct State {
    pub(super) carts: HashMap<CartOwner, BTreeMap<ProductId, CartLine>>,
    pub(super) products: HashMap<String, Product>,
    pub(super) stock: HashMap<String, StockLevels>,
    /// Stock shards 1 and up of sharded products (shard 0 is in `stock`).
    pub(super) shards: HashMap<(String, u32), StockLevels>,
    pub(super) orders: HashMap<OrderId, Order>,
    /// Checkout idempotency keys and the orders they made.
    pub(super) keys: HashMap<String, OrderId>,
    /// Restock idempotency keys and the deltas they applied.
    pub(super) restocks: HashMap<String, i64>,
    /// (buyer, product) -> when they may check it out again (renewal cool-down).
    pub(super) renewals: HashMap<(String, String), i64>,
    /// Writes that lose a race before anything is written.
    pub(super) conflicts: usize,
    /// Checkouts and settles DynamoDB answers as contended (throttled, or an
    /// item held by another transaction), writing nothing.
    pub(super) contended: usize,
    /// Answers for the next checkouts, instead of applying them.
    pub(super) checkout_script: VecDeque<CheckoutOutcome>,
    /// A concurrent request's key, committed when a scripted `KeyUsed` is answered.
    pub(super) racing_key: Option<(String, OrderId)>,
    /// A concurrent transition that commits just before the next settle.
    pub(super) racing_transition: Option<OrderStatus>,
    /// (sub, product) pairs of paid orders.
    pub(super) bought: BTreeSet<(String, String)>,
    pub(super) reviews: BTreeMap<String, Review>,
    /// (sub, product) → the author's review of it, or `None`: removed by a moderator.
    pub(super) marks: HashMap<(String, String), Option<String>>,
    pub(super) ratings: HashMap<String, RatingSummary>,
    pub(super) review_reads: usize,
    pub(super) checkouts: usize,
    pub(super) settles: usize,
    pub(super) additions: usize,
    pub(super) line_reads: usize,
}

#[derive(Default)]
pub(super) struct FakeStore(Mutex<State>);

impl FakeStore {
    pub(super) fn with(f: impl FnOnce(&mut State)) -> Self {
        let store = Self::default();
        f(&mut store.0.lock().unwrap());
        store
    }

    /// A shop where ann and bob bought product p1.
    pub(super) fn buyers_of_p1() -> Self {
        Self::with(|state| {
            state.add_product("p1", 100, 0);
            state.bought.insert(("ann".into(), "p1".into()));
            state.bought.insert(("bob".into(), "p1".into()));
        })
    }

    pub(super) fn rating_of_p1(&self) -> [i64; 5] {
        self.state().ratings.get("p1").copied().unwrap_or_default().histogram
    }

    pub(super) fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap()
    }
}

impl State {
    pub(super) fn lose_race(&mut self) -> Result<(), StoreError> {
        if self.conflicts > 0 {
            self.conflicts -= 1;
            return Err(StoreError::Conflict);
        }
        Ok(())
    }

    fn apply_rating(&mut self, product: &str, change: RatingChange) {
        let summary = self.ratings.entry(product.to_owned()).or_default();
        for (stars, by) in change.deltas() {
            summary.histogram[usize::from(stars.get() - 1)] += by;
        }
    }

    /// The review is still as `read` (and no race is to be lost).
    fn review_still(&mut self, read: &Review) -> Result<(), StoreError> {
        self.lose_race()?;
        match self.reviews.get(&read.review_id) {
            Some(stored) if stored.version == read.version => Ok(()),
            _ => Err(StoreError::Conflict),
        }
    }

    pub(super) fn shard(&mut self, product: &str, shard: u32) -> &mut StockLevels {
        if shard == 0 {
            self.stock.entry(product.to_owned()).or_default()
        } else {
            self.shards.entry((product.to_owned(), shard)).or_default()
        }
    }

    /// Splits a product's stock into shards holding `available` units each.
    pub(super) fn shard_product(&mut self, id: &str, available: &[i64]) {
        let count = available.len() as u32;
        self.products.get_mut(id).unwrap().stock_shards = StockShards { active: count, items: count };
        for (shard, units) in available.iter().enumerate() {
            *self.shard(id, shard as u32) = StockLevels { available: *units, reserved: 0, sold: 0, added: *units };
        }
    }

    pub(super) fn contend(&mut self) -> Result<(), StoreError> {
        if self.contended > 0 {
            self.contended -= 1;
            return Err(StoreError::Contended);
        }
        Ok(())
    }

    pub(super) fn add_product(&mut self, id: &str, price: u64, available: i64) {
        self.products.insert(id.into(), product(id, price));
        self.stock.insert(id.into(), StockLevels { available, reserved: 0, sold: 0, added: available });
    }

    pub(super) fn put_line(&mut self, owner: &CartOwner, line: CartLine) {
        self.carts.entry(owner.clone()).or_default().insert(line.product_id.clone(), line);
    }

    pub(super) fn line(&self, owner: &CartOwner, id: &str) -> Option<&CartLine> {
        self.carts.get(owner)?.get(&ProductId::parse(id).unwrap())
    }
}

pub(super) fn check_version(stored: Option<&CartLine>, read_version: Option<u64>) -> Result<(), StoreError> {
    if stored.map(|l| l.version) == read_version {
        Ok(())
    } else {
        Err(StoreError::Conflict)
    }
}

impl CartStore for FakeStore {
    async fn cart_lines(&self, owner: &CartOwner) -> Result<Vec<CartLine>, StoreError> {
        Ok(self.state().carts.get(owner).map(|c| c.values().cloned().collect()).unwrap_or_default())
    }

    async fn line_context(&self, owner: &CartOwner, id: &ProductId) -> Result<LineContext, StoreError> {
        let mut state = self.state();
        state.line_reads += 1;
        Ok(LineContext {
            product: state.products.get(id.as_str()).cloned(),
            available: state.stock.get(id.as_str()).map_or(0, |s| s.available),
            line: state.line(owner, id.as_str()).cloned(),
        })
    }

    async fn put_cart_line(
        &self,
        owner: &CartOwner,
        line: &CartLine,
        read_version: Option<u64>,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        state.lose_race()?;
        check_version(state.line(owner, line.product_id.as_str()), read_version)?;
        state.put_line(owner, line.clone());
        Ok(())
    }

    /// Conditions only, no version: the races `conflicts` stands for (another
    /// writer's version bump) do not touch it.
    async fn add_to_line(&self, owner: &CartOwner, add: &LineAddition<'_>) -> Result<i64, StoreError> {
        let mut state = self.state();
        state.additions += 1;
        let carts = state.carts.entry(owner.clone()).or_default();
        let Some(line) = carts.get_mut(add.product_id) else { return Err(StoreError::Conflict) };
        let remembered = add.request.is_some_and(|k| line.recent_requests.iter().any(|r| r == k));
        if line.migrated_to.is_some() || line.expires_at <= add.now || line.quantity > add.most_before || remembered {
            return Err(StoreError::Conflict);
        }
        line.quantity += add.delta;
        line.version += 1;
        line.expires_at = add.expires_at;
        line.checkout_order = None;
        line.recent_requests.extend(add.request.map(str::to_owned));
        Ok(line.quantity)
    }

    async fn delete_cart_line(&self, owner: &CartOwner, id: &ProductId, read_version: u64) -> Result<(), StoreError> {
        let mut state = self.state();
        state.lose_race()?;
        check_version(state.line(owner, id.as_str()), Some(read_version))?;
        state.carts.get_mut(owner).map(|c| c.remove(id));
        Ok(())
    }

    async fn migrate_lines(
        &self,
        anonymous: &CartOwner,
        user: &CartOwner,
        moves: &[LineMove],
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        state.lose_race()?;
        for m in moves {
            check_version(state.line(user, m.merged.product_id.as_str()), m.user_version)?;
            let stored = state.line(anonymous, m.anonymous.product_id.as_str());
            if stored.is_some_and(|l| l.migrated_to.is_some()) {
                return Err(StoreError::Conflict);
            }
            check_version(stored, Some(m.anonymous.version))?;
        }
        for m in moves {
            state.put_line(user, m.merged.clone());
            let mut marked = m.anonymous.clone();
            marked.migrated_to = Some(user.clone());
            marked.version += 1;
            state.put_line(anonymous, marked);
        }
        Ok(())
    }
}

impl OrderStore for FakeStore {
    async fn products(&self, ids: &[ProductId]) -> Result<HashMap<String, Product>, StoreError> {
        let state = self.state();
        Ok(ids.iter().filter_map(|id| state.products.get(id.as_str()).map(|p| (id.to_string(), p.clone()))).collect())
    }

    async fn shard_stocks(&self, id: &ProductId, shards: StockShards) -> Result<Vec<StockLevels>, StoreError> {
        let mut state = self.state();
        Ok((0..shards.items.max(1)).map(|k| *state.shard(id.as_str(), k)).collect())
    }

    async fn order(&self, buyer: &CartOwner, order_id: &OrderId) -> Result<Option<Order>, StoreError> {
        let order = self.state().orders.get(order_id).cloned();
        Ok(order.filter(|o| o.buyer().ok().as_ref() == Some(buyer)))
    }

    async fn order_for_key(&self, buyer: &CartOwner, key: &str) -> Result<Option<Order>, StoreError> {
        let id = self.state().keys.get(key).cloned();
        match id {
            Some(id) => self.order(buyer, &id).await,
            None => Ok(None),
        }
    }

    async fn checkout(
        &self,
        order: &Order,
        cart_lines: &[CartLine],
        policy: &HoldPolicy,
    ) -> Result<CheckoutOutcome, StoreError> {
        let mut state = self.state();
        state.checkouts += 1;
        state.contend()?;
        if let Some(scripted) = state.checkout_script.pop_front() {
            if let (CheckoutOutcome::KeyUsed, Some((key, order_id))) = (&scripted, state.racing_key.take()) {
                state.keys.insert(key, order_id);
            }
            return Ok(scripted);
        }
        if order.idempotency_key.as_ref().is_some_and(|k| state.keys.contains_key(k)) {
            return Ok(CheckoutOutcome::KeyUsed);
        }
        let pending: Vec<&Order> = (state.orders.values())
            .filter(|o| o.owner == order.owner && o.status == OrderStatus::PendingPayment)
            .collect();
        if pending.len() >= policy.max_pending as usize {
            return Ok(CheckoutOutcome::TooManyPending);
        }
        for line in &order.lines {
            let renewal = state.renewals.get(&(order.owner.clone(), line.product_id.clone()));
            if let Some(until) = renewal.filter(|until| **until > order.created_at) {
                return Ok(CheckoutOutcome::CoolingDown { product_id: line.product_id.clone(), until: *until });
            }
            let held: i64 = (pending.iter().flat_map(|o| &o.lines))
                .filter(|l| l.product_id == line.product_id)
                .map(|l| l.quantity)
                .sum();
            if held + line.quantity > i64::from(policy.max_held_units) {
                return Ok(CheckoutOutcome::TooManyHeld { product_id: line.product_id.clone(), held });
            }
        }
        let short: Vec<usize> = (order.lines.iter().enumerate())
            .filter(|(_, l)| l.takes().iter().any(|t| state.shard(&l.product_id, t.shard).available < t.units))
            .map(|(i, _)| i)
            .collect();
        if !short.is_empty() {
            return Ok(CheckoutOutcome::Short(short));
        }
        let buyer = order.buyer().unwrap();
        for line in &order.lines {
            for take in line.takes() {
                let stock = state.shard(&line.product_id, take.shard);
                stock.available -= take.units;
                stock.reserved += take.units;
            }
        }
        for line in cart_lines {
            let mut marked = line.clone();
            marked.checkout_order = Some(order.order_id);
            marked.version += 1;
            state.put_line(&buyer, marked);
        }
        if let Some(k) = &order.idempotency_key {
            state.keys.insert(k.clone(), order.order_id);
        }
        state.orders.insert(order.order_id, order.clone());
        Ok(CheckoutOutcome::Created)
    }

    async fn settle_order(&self, order: &Order, settled: &Order, cart: &[CartAdjustment]) -> Result<(), StoreError> {
        let mut state = self.state();
        state.settles += 1;
        state.contend()?;
        state.lose_race()?;
        if let Some(status) = state.racing_transition.take() {
            state.orders.get_mut(&order.order_id).unwrap().status = status;
        }
        if state.orders.get(&order.order_id).map(|o| o.status) != Some(OrderStatus::PendingPayment) {
            return Err(StoreError::Conflict);
        }
        let buyer = order.buyer().unwrap();
        for a in cart {
            check_version(state.line(&buyer, a.line.product_id.as_str()), Some(a.line.version))?;
        }
        // Each shard must still hold what the order reserved there.
        for line in &order.lines {
            for take in line.takes() {
                if state.shard(&line.product_id, take.shard).reserved < take.units {
                    return Err(StoreError::ReservationMissing);
                }
            }
        }
        for line in &order.lines {
            for take in line.takes() {
                let stock = state.shard(&line.product_id, take.shard);
                stock.reserved -= take.units;
                if settled.status.settles_stock_as_sold() {
                    stock.sold += take.units;
                } else {
                    stock.available += take.units;
                }
            }
        }
        for a in cart {
            let carts = state.carts.get_mut(&buyer).unwrap();
            if a.quantity_after == 0 {
                carts.remove(&a.line.product_id);
            } else {
                let line = carts.get_mut(&a.line.product_id).unwrap();
                line.quantity = a.quantity_after;
                line.checkout_order = None;
                line.version += 1;
            }
        }
        if let Some(until) = settled.renew_after {
            for line in &order.lines {
                state.renewals.insert((order.owner.clone(), line.product_id.clone()), until);
            }
        }
        state.orders.insert(order.order_id, settled.clone());
        Ok(())
    }

    async fn refund_done(&self, order: &Order) -> Result<(), StoreError> {
        let mut state = self.state();
        let stored = state.orders.get_mut(&order.order_id).ok_or(StoreError::Conflict)?;
        if !stored.refund_due {
            return Err(StoreError::Conflict);
        }
        stored.refund_due = false;
        Ok(())
    }

    async fn order_by_id(&self, order_id: &OrderId) -> Result<Option<Order>, StoreError> {
        Ok(self.state().orders.get(order_id).cloned())
    }

    async fn refund_paid_order(&self, paid: &Order, refunded: &Order) -> Result<(), StoreError> {
        let mut state = self.state();
        state.contend()?;
        if state.orders.get(&paid.order_id).map(|o| o.status) != Some(OrderStatus::Paid) {
            return Err(StoreError::Conflict);
        }
        for line in &paid.lines {
            for take in line.takes() {
                if state.shard(&line.product_id, take.shard).sold < take.units {
                    return Err(StoreError::ReservationMissing);
                }
            }
        }
        for line in &paid.lines {
            for take in line.takes() {
                let shard = state.shard(&line.product_id, take.shard);
                shard.sold -= take.units;
                shard.available += take.units;
            }
        }
        state.orders.insert(paid.order_id, refunded.clone());
        Ok(())
    }

    async fn mark_refund_due(&self, order: &Order, _now: i64) -> Result<(), StoreError> {
        let mut state = self.state();
        let stored = state.orders.get_mut(&order.order_id).ok_or(StoreError::Conflict)?;
        if matches!(stored.status, OrderStatus::Paid | OrderStatus::PendingPayment) {
            return Err(StoreError::Conflict);
        }
        stored.refund_due = true;
        Ok(())
    }

    async fn end_order_without_stock(&self, order: &Order, ended: &Order) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.orders.get(&order.order_id).map(|o| o.status) != Some(OrderStatus::PendingPayment) {
            return Err(StoreError::Conflict);
        }
        state.orders.insert(order.order_id, ended.clone());
        Ok(())
    }
}

impl ReviewStore for FakeStore {
    async fn review(&self, _product: &ProductId, review_id: &str) -> Result<Option<Review>, StoreError> {
        let mut state = self.state();
        state.review_reads += 1;
        Ok(state.reviews.get(review_id).cloned())
    }

    async fn create_review(&self, review: &Review) -> Result<ReviewCreated, StoreError> {
        let mut state = self.state();
        let who = (review.author.clone(), review.product_id.clone());
        if !state.products.contains_key(&review.product_id) {
            return Ok(ReviewCreated::NoSuchProduct);
        }
        if !state.bought.contains(&who) {
            return Ok(ReviewCreated::NotABuyer);
        }
        match state.marks.get(&who) {
            Some(Some(id)) => return Ok(ReviewCreated::AlreadyReviewed { review_id: id.clone() }),
            Some(None) => return Ok(ReviewCreated::RemovedByModerator),
            None => {}
        }
        state.marks.insert(who, Some(review.review_id.clone()));
        state.reviews.insert(review.review_id.clone(), review.clone());
        state.apply_rating(&review.product_id, RatingChange::created(review.rating));
        Ok(ReviewCreated::Created)
    }

    async fn replace_review(&self, read: &Review, edited: &Review) -> Result<(), StoreError> {
        let mut state = self.state();
        state.review_still(read)?;
        state.reviews.insert(edited.review_id.clone(), edited.clone());
        state.apply_rating(&read.product_id, RatingChange::edited(read.rating, edited.rating));
        Ok(())
    }

    async fn delete_review(&self, read: &Review, moderated: bool) -> Result<(), StoreError> {
        let mut state = self.state();
        state.review_still(read)?;
        state.reviews.remove(&read.review_id);
        let mark = (read.author.clone(), read.product_id.clone());
        if moderated {
            state.marks.insert(mark, None);
        } else {
            state.marks.remove(&mark);
        }
        state.apply_rating(&read.product_id, RatingChange::deleted(read.rating));
        Ok(())
    }
}

impl CatalogStore for FakeStore {
    async fn product(&self, id: &ProductId) -> Result<Option<Product>, StoreError> {
        Ok(self.state().products.get(id.as_str()).cloned())
    }

    async fn create_product(&self, product: &Product, initial_stock: i64) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.products.contains_key(&product.product_id) {
            return Err(StoreError::Conflict);
        }
        state.products.insert(product.product_id.clone(), product.clone());
        let levels = StockLevels { available: initial_stock, reserved: 0, sold: 0, added: initial_stock };
        state.stock.insert(product.product_id.clone(), levels);
        Ok(())
    }

    async fn edit_product(
        &self,
        id: &ProductId,
        patch: &ProductPatch,
        modified_date: &str,
    ) -> Result<Option<Product>, StoreError> {
        let mut state = self.state();
        let Some(product) = state.products.get_mut(id.as_str()) else { return Ok(None) };
        let patch = patch.clone();
        product.name = patch.name.unwrap_or(product.name.clone());
        product.category = patch.category.unwrap_or(product.category.clone());
        product.description = patch.description.unwrap_or(product.description.clone());
        product.price = patch.price.unwrap_or(product.price);
        product.package = patch.package.unwrap_or(product.package.clone());
        product.pictures = patch.pictures.unwrap_or(product.pictures.clone());
        product.tags = patch.tags.unwrap_or(product.tags.clone());
        product.modified_date = modified_date.to_owned();
        Ok(Some(product.clone()))
    }

    /// Each change on one shard, as the store's conditions allow: never
    /// below zero (`Conflict`).
    async fn restock(
        &self,
        id: &ProductId,
        shards: StockShards,
        delta: i64,
        idempotency_key: Option<&str>,
    ) -> Result<Restocked, StoreError> {
        let mut state = self.state();
        state.lose_race()?;
        if let Some(key) = idempotency_key {
            if let Some(first) = state.restocks.get(key).copied() {
                if first != delta {
                    return Ok(Restocked::KeyUsedForAnother { delta: first });
                }
                return Ok(Restocked::Replayed(*state.shard(id.as_str(), 0)));
            }
            state.restocks.insert(key.to_owned(), delta);
        }
        let _ = shards;
        let stock = state.shard(id.as_str(), 0);
        if stock.available + delta < 0 {
            return Err(StoreError::Conflict);
        }
        stock.available += delta;
        stock.added += delta;
        Ok(Restocked::Applied(*stock))
    }

    async fn shard_stocks(&self, id: &ProductId, shards: StockShards) -> Result<Vec<StockLevels>, StoreError> {
        let mut state = self.state();
        Ok((0..shards.items.max(1)).map(|k| *state.shard(id.as_str(), k)).collect())
    }

    /// Records the new split; moving units between shards is the store's.
    async fn reshard(
        &self,
        id: &ProductId,
        from: StockShards,
        to: StockShards,
    ) -> Result<Vec<StockLevels>, StoreError> {
        let mut state = self.state();
        state.lose_race()?;
        let product = state.products.get_mut(id.as_str()).ok_or(StoreError::Conflict)?;
        if product.stock_shards != from {
            return Err(StoreError::Conflict);
        }
        product.stock_shards = to;
        Ok((0..to.items).map(|k| *state.shard(id.as_str(), k)).collect())
    }
}

/// A provider that answers each charge from a script and counts refunds.
#[derive(Default)]
pub(super) struct FakePayments {
    pub(super) answers: Mutex<VecDeque<Result<ChargeOutcome, PaymentError>>>,
    pub(super) charges: Mutex<Vec<(OrderId, u64)>>,
    pub(super) refunds: Mutex<Vec<OrderId>>,
    /// Refunds fail as a provider outage does.
    pub(super) refunds_down: Mutex<bool>,
    /// What the provider says of an order's payment when asked (`confirmed`).
    pub(super) confirmations: Mutex<HashMap<OrderId, Result<ChargeOutcome, PaymentError>>>,
}

impl FakePayments {
    pub(super) fn answering(answer: Result<ChargeOutcome, PaymentError>) -> Self {
        let payments = Self::default();
        payments.answers.lock().unwrap().push_back(answer);
        payments
    }

    pub(super) fn approved() -> Result<ChargeOutcome, PaymentError> {
        Ok(ChargeOutcome::Approved { charge_id: "ch_1".into() })
    }
}

impl PaymentProvider for FakePayments {
    async fn charge(&self, order: &Order, _card: &str) -> Result<ChargeOutcome, PaymentError> {
        self.charges.lock().unwrap().push((order.order_id, order.total));
        self.answers.lock().unwrap().pop_front().unwrap_or(Err(PaymentError::Unavailable))
    }

    async fn start(&self, order: &Order) -> Result<Option<PaymentStart>, PaymentError> {
        let secret = format!("pi_{}_secret", order.order_id);
        Ok(Some(PaymentStart { payment_id: format!("pi_{}", order.order_id), client_secret: secret }))
    }

    /// What the provider says now: set by the test (`confirmations`),
    /// as a webhook or the buyer's page would find it.
    async fn confirmed(&self, order: &Order) -> Result<Option<ChargeOutcome>, PaymentError> {
        let answer = self.confirmations.lock().unwrap().get(&order.order_id).cloned();
        match answer {
            Some(Ok(ChargeOutcome::Approved { charge_id })) => {
                self.charges.lock().unwrap().push((order.order_id, order.total));
                Ok(Some(ChargeOutcome::Approved { charge_id }))
            }
            Some(other) => other.map(Some),
            None => Ok(None),
        }
    }

    async fn refund(&self, order_id: &OrderId) -> Result<bool, PaymentError> {
        if *self.refunds_down.lock().unwrap() {
            return Err(PaymentError::Unavailable);
        }
        let charged = self.charges.lock().unwrap().iter().any(|(id, _)| id == order_id);
        self.refunds.lock().unwrap().push(*order_id);
        Ok(charged)
    }
}

#[derive(Default)]
pub(super) struct FakeCleanup {
    pub(super) handed: Mutex<Vec<MovedLine>>,
    pub(super) fail: bool,
}

impl LineCleanup for FakeCleanup {
    async fn hand_over(&self, moved: &[MovedLine]) -> Result<(), String> {
        if self.fail {
            return Err("queue down".into());
        }
        self.handed.lock().unwrap().extend_from_slice(moved);
        Ok(())
    }
}

pub(super) fn user() -> CartOwner {
    CartOwner::user("u1").unwrap()
}

pub(super) fn anonymous() -> CartOwner {
    CartOwner::anonymous_from_cookie("6f1c7b1e-9f0a-4c51-9a43-6a4c0c5a1d2e").unwrap()
}

pub(super) fn id(raw: &str) -> ProductId {
    ProductId::parse(raw).unwrap()
}

pub(super) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(future)
}

pub(super) fn cart_of(items: &[(&str, i64, u64, i64)]) -> FakeStore {
    FakeStore::with(|s| {
        for (product, quantity, price, available) in items {
            s.add_product(product, *price, *available);
            s.put_line(&user(), cart_line(product, *quantity, NOW + 100));
        }
    })
}

pub(super) fn check_out_with(store: &FakeStore, key: Option<&str>) -> Result<CheckedOut, CheckoutError> {
    let policy = HoldPolicy { hold_secs: HOLD, max_pending: 2, ..HoldPolicy::default() };
    let request = CheckoutRequest { buyer_sub: "u1", idempotency_key: key, policy };
    block_on(checkout(store, &FixedClock(NOW), request))
}

pub(super) fn shard_levels(store: &FakeStore, id: &str, count: u32) -> Vec<StockLevels> {
    let mut state = store.state();
    (0..count).map(|k| *state.shard(id, k)).collect()
}

pub(super) fn pending_order() -> (FakeStore, Order) {
    let store = cart_of(&[("p1", 3, 200, 5)]);
    let order = check_out_with(&store, None).unwrap().order;
    // One more unit added after checkout: it stays in the cart once paid.
    let mut state = store.state();
    let line = state.carts.get_mut(&user()).unwrap().get_mut(&id("p1")).unwrap();
    line.quantity = 4;
    line.version += 1;
    drop(state);
    (store, order)
}

pub(super) fn orders<'a>(
    store: &'a FakeStore,
    payments: &'a FakePayments,
    clock: &'a FixedClock,
) -> Orders<'a, FakeStore, FakePayments, FixedClock> {
    Orders { store, payments, clock, renewal_cooldown_secs: 60 }
}

pub(super) fn card() -> CardToken {
    CardToken::parse("tok_visa").unwrap()
}
