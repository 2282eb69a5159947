//! The use cases' rules without the emulator: the ports are implemented by a
//! fake that keeps carts, orders and stock in memory, checks versions as the
//! port promises, and can be told to lose the next races or to answer a
//! checkout with a scripted outcome.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use super::cart::{change_line, merge_carts, migrate_cart, CartError};
use super::checkout::{checkout, CheckoutError, CheckoutRequest};
use super::payment::{OrderError, Orders};
use super::ports::*;
use super::WRITE_ATTEMPTS;
use crate::domain::cart::tests::{cart_line, product};
use crate::domain::{
    CardToken, CartLine, CartOwner, HoldPolicy, LineChange, Order, OrderStatus, Product, ProductId, StockLevels,
    StockShards, USER_CART_TTL_SECS,
};

const NOW: i64 = 1_000_000;
const HOLD: i64 = 900;

#[derive(Default)]
struct State {
    carts: HashMap<CartOwner, BTreeMap<ProductId, CartLine>>,
    products: HashMap<String, Product>,
    stock: HashMap<String, StockLevels>,
    /// Stock shards 1 and up of sharded products (shard 0 is in `stock`).
    shards: HashMap<(String, u32), StockLevels>,
    orders: HashMap<String, Order>,
    keys: HashMap<String, String>,
    /// (buyer, product) -> when they may check it out again (renewal cool-down).
    renewals: HashMap<(String, String), i64>,
    /// Writes that lose a race before anything is written.
    conflicts: usize,
    /// Checkouts and settles DynamoDB answers as contended (throttled, or an
    /// item held by another transaction), writing nothing.
    contended: usize,
    /// Answers for the next checkouts, instead of applying them.
    checkout_script: VecDeque<CheckoutOutcome>,
    /// A concurrent request's key, committed when a scripted `KeyUsed` is answered.
    racing_key: Option<(String, String)>,
    /// A concurrent transition that commits just before the next settle.
    racing_transition: Option<OrderStatus>,
    checkouts: usize,
    settles: usize,
    additions: usize,
    line_reads: usize,
}

#[derive(Default)]
struct FakeStore(Mutex<State>);

impl FakeStore {
    fn with(f: impl FnOnce(&mut State)) -> Self {
        let store = Self::default();
        f(&mut store.0.lock().unwrap());
        store
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap()
    }
}

impl State {
    fn lose_race(&mut self) -> Result<(), StoreError> {
        if self.conflicts > 0 {
            self.conflicts -= 1;
            return Err(StoreError::Conflict);
        }
        Ok(())
    }

    fn shard(&mut self, product: &str, shard: u32) -> &mut StockLevels {
        if shard == 0 {
            self.stock.entry(product.to_owned()).or_default()
        } else {
            self.shards.entry((product.to_owned(), shard)).or_default()
        }
    }

    /// Splits a product's stock into shards holding `available` units each.
    fn shard_product(&mut self, id: &str, available: &[i64]) {
        let count = available.len() as u32;
        self.products.get_mut(id).unwrap().stock_shards = StockShards { active: count, items: count };
        for (shard, units) in available.iter().enumerate() {
            *self.shard(id, shard as u32) = StockLevels { available: *units, reserved: 0, sold: 0, added: *units };
        }
    }

    fn contend(&mut self) -> Result<(), StoreError> {
        if self.contended > 0 {
            self.contended -= 1;
            return Err(StoreError::Contended);
        }
        Ok(())
    }

    fn add_product(&mut self, id: &str, price: u64, available: i64) {
        self.products.insert(id.into(), product(id, price));
        self.stock.insert(id.into(), StockLevels { available, reserved: 0, sold: 0, added: available });
    }

    fn put_line(&mut self, owner: &CartOwner, line: CartLine) {
        self.carts.entry(owner.clone()).or_default().insert(line.product_id.clone(), line);
    }

    fn line(&self, owner: &CartOwner, id: &str) -> Option<&CartLine> {
        self.carts.get(owner)?.get(&ProductId::parse(id).unwrap())
    }
}

fn check_version(stored: Option<&CartLine>, read_version: Option<u64>) -> Result<(), StoreError> {
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

    async fn order(&self, buyer: &CartOwner, order_id: &str) -> Result<Option<Order>, StoreError> {
        let order = self.state().orders.get(order_id).cloned();
        Ok(order.filter(|o| CartOwner::user(&o.owner).ok().as_ref() == Some(buyer)))
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
        let buyer = CartOwner::user(&order.owner).unwrap();
        for line in &order.lines {
            for take in line.takes() {
                let stock = state.shard(&line.product_id, take.shard);
                stock.available -= take.units;
                stock.reserved += take.units;
            }
        }
        for line in cart_lines {
            let mut marked = line.clone();
            marked.checkout_order = Some(order.order_id.clone());
            marked.version += 1;
            state.put_line(&buyer, marked);
        }
        if let Some(k) = &order.idempotency_key {
            state.keys.insert(k.clone(), order.order_id.clone());
        }
        state.orders.insert(order.order_id.clone(), order.clone());
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
        let buyer = CartOwner::user(&order.owner).unwrap();
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
        state.orders.insert(order.order_id.clone(), settled.clone());
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

    async fn end_order_without_stock(&self, order: &Order, ended: &Order) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.orders.get(&order.order_id).map(|o| o.status) != Some(OrderStatus::PendingPayment) {
            return Err(StoreError::Conflict);
        }
        state.orders.insert(order.order_id.clone(), ended.clone());
        Ok(())
    }
}

/// A provider that answers each charge from a script and counts refunds.
#[derive(Default)]
struct FakePayments {
    answers: Mutex<VecDeque<Result<ChargeOutcome, PaymentError>>>,
    charges: Mutex<Vec<(String, u64)>>,
    refunds: Mutex<Vec<String>>,
    /// Refunds fail as a provider outage does.
    refunds_down: Mutex<bool>,
}

impl FakePayments {
    fn answering(answer: Result<ChargeOutcome, PaymentError>) -> Self {
        let payments = Self::default();
        payments.answers.lock().unwrap().push_back(answer);
        payments
    }

    fn approved() -> Result<ChargeOutcome, PaymentError> {
        Ok(ChargeOutcome::Approved { charge_id: "ch_1".into() })
    }
}

impl PaymentProvider for FakePayments {
    async fn charge(&self, order_id: &str, amount: u64, _card: &str) -> Result<ChargeOutcome, PaymentError> {
        self.charges.lock().unwrap().push((order_id.into(), amount));
        self.answers.lock().unwrap().pop_front().unwrap_or(Err(PaymentError::Unavailable))
    }

    async fn refund(&self, order_id: &str) -> Result<bool, PaymentError> {
        if *self.refunds_down.lock().unwrap() {
            return Err(PaymentError::Unavailable);
        }
        let charged = self.charges.lock().unwrap().iter().any(|(id, _)| id == order_id);
        self.refunds.lock().unwrap().push(order_id.into());
        Ok(charged)
    }
}

#[derive(Default)]
struct FakeCleanup {
    handed: Mutex<Vec<MovedLine>>,
    fail: bool,
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

fn user() -> CartOwner {
    CartOwner::user("u1").unwrap()
}

fn anonymous() -> CartOwner {
    CartOwner::anonymous_from_cookie("6f1c7b1e-9f0a-4c51-9a43-6a4c0c5a1d2e").unwrap()
}

fn id(raw: &str) -> ProductId {
    ProductId::parse(raw).unwrap()
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(future)
}

// ---- cart changes ----

#[test]
fn a_lost_race_is_read_again_and_retried() {
    let store = FakeStore::with(|s| {
        s.add_product("p1", 100, 10);
        s.put_line(&user(), cart_line("p1", 2, NOW + 100));
        s.conflicts = 2;
    });
    // A target is written on the version read (an addition is not: see below).
    let set = block_on(change_line(&store, &FixedClock(NOW), &user(), &id("p1"), LineChange::To(5)));
    assert_eq!(set.unwrap(), 5);
    let state = store.state();
    assert_eq!(state.line_reads, 3, "read again after each lost race");
    let line = state.line(&user(), "p1").unwrap();
    assert_eq!((line.quantity, line.version, line.expires_at), (5, 2, NOW + USER_CART_TTL_SECS));
}

#[test]
fn additions_to_a_live_line_count_however_many_writers_race() {
    // `conflicts` stands for other writers bumping the version: an addition
    // does not read it, so it counts on the first try.
    let store = FakeStore::with(|s| {
        s.add_product("p1", 100, 50);
        s.put_line(&user(), cart_line("p1", 2, NOW + 100));
        s.conflicts = WRITE_ATTEMPTS;
    });
    let clock = FixedClock(NOW);
    for (n, key) in [(3, Some("k1")), (6, None), (9, Some("k2"))] {
        let add = LineChange::By { delta: 3, request: key };
        assert_eq!(block_on(change_line(&store, &clock, &user(), &id("p1"), add)).unwrap(), n + 2);
    }
    // A retried request is recognised by the line and adds nothing.
    let retry = LineChange::By { delta: 3, request: Some("k1") };
    assert_eq!(block_on(change_line(&store, &clock, &user(), &id("p1"), retry)).unwrap(), 11);
    // The same key with another delta is another request: refused, nothing added.
    let reused = LineChange::By { delta: 1, request: Some("k2") };
    let refused = block_on(change_line(&store, &clock, &user(), &id("p1"), reused));
    assert!(matches!(refused, Err(CartError::KeyUsedForAnother { delta: 3 })), "{refused:?}");
    let state = store.state();
    assert_eq!((state.additions, state.line_reads), (3, 5));
    let line = state.line(&user(), "p1").unwrap();
    assert_eq!(
        (line.quantity, line.recent_requests.as_slice()),
        (11, ["k1:3".to_owned(), "k2:3".to_owned()].as_slice())
    );
}

#[test]
fn an_addition_past_the_stock_or_onto_a_migrated_line_is_decided_afresh() {
    let store = FakeStore::with(|s| {
        s.add_product("p1", 100, 5);
        s.put_line(&anonymous(), cart_line("p1", 4, NOW + 100));
    });
    let clock = FixedClock(NOW);
    let add = |delta| LineChange::By { delta, request: None };
    assert!(matches!(
        block_on(change_line(&store, &clock, &anonymous(), &id("p1"), add(2))),
        Err(CartError::NotEnoughStock { available: 5, .. })
    ));
    assert_eq!(block_on(change_line(&store, &clock, &anonymous(), &id("p1"), add(1))).unwrap(), 5);
    // Migrated meanwhile: the line reads as empty, and writing revives it
    // with just the new units.
    store.state().carts.get_mut(&anonymous()).unwrap().get_mut(&id("p1")).unwrap().migrated_to = Some(user());
    assert_eq!(block_on(change_line(&store, &clock, &anonymous(), &id("p1"), add(1))).unwrap(), 1);
}

#[test]
fn a_line_that_keeps_losing_is_busy_and_unchanged() {
    let store = FakeStore::with(|s| {
        s.add_product("p1", 100, 10);
        s.conflicts = WRITE_ATTEMPTS;
    });
    let result = block_on(change_line(&store, &FixedClock(NOW), &user(), &id("p1"), LineChange::To(1)));
    assert!(matches!(result, Err(CartError::Busy)), "{result:?}");
    assert!(store.state().line(&user(), "p1").is_none());
}

#[test]
fn a_line_never_asks_for_more_than_is_available_but_may_shrink() {
    let store = FakeStore::with(|s| {
        s.add_product("p1", 100, 3);
        s.put_line(&user(), cart_line("p1", 5, NOW + 100));
    });
    let clock = FixedClock(NOW);
    let more = block_on(change_line(&store, &clock, &user(), &id("p1"), LineChange::By { delta: 1, request: None }));
    assert!(matches!(more, Err(CartError::NotEnoughStock { available: 3, .. })), "{more:?}");
    let less = block_on(change_line(&store, &clock, &user(), &id("p1"), LineChange::To(4)));
    assert_eq!(less.unwrap(), 4);
    let gone = block_on(change_line(&store, &clock, &user(), &id("p1"), LineChange::To(0)));
    assert_eq!(gone.unwrap(), 0);
    assert!(store.state().line(&user(), "p1").is_none(), "0 deletes the line");
    let missing = block_on(change_line(&store, &clock, &user(), &id("nope"), LineChange::To(1)));
    assert!(matches!(missing, Err(CartError::ProductNotFound(_))));
}

#[test]
fn a_retried_request_changes_the_line_once() {
    let store = FakeStore::with(|s| s.add_product("p1", 100, 10));
    let change = LineChange::By { delta: 2, request: Some("req-1") };
    for _ in 0..3 {
        assert_eq!(block_on(change_line(&store, &FixedClock(NOW), &anonymous(), &id("p1"), change)).unwrap(), 2);
    }
    assert_eq!(store.state().line(&anonymous(), "p1").unwrap().version, 1);
}

// ---- merge ----

#[test]
fn merging_adds_the_anonymous_lines_and_hands_them_over_for_cleanup() {
    let store = FakeStore::with(|s| {
        s.put_line(&anonymous(), cart_line("p1", 2, NOW + 100));
        s.put_line(&anonymous(), cart_line("p2", 1, NOW + 100));
        s.put_line(&anonymous(), cart_line("old", 1, NOW - 1));
        s.put_line(&user(), cart_line("p1", 3, NOW + 100));
        s.conflicts = 1;
    });
    let cleanup = FakeCleanup::default();
    let cart = block_on(migrate_cart(&store, &FixedClock(NOW), Some(&cleanup), &anonymous(), &user())).unwrap();
    let quantities: Vec<(&str, i64)> = cart.iter().map(|l| (l.product_id.as_str(), l.quantity)).collect();
    assert_eq!(quantities, [("p1", 5), ("p2", 1)]);
    let handed = cleanup.handed.lock().unwrap();
    let handed: Vec<(&str, u64)> = handed.iter().map(|m| (m.product_id.as_str(), m.version)).collect();
    assert_eq!(handed, [("p1", 2), ("p2", 2)], "the versions the migration wrote");
    let state = store.state();
    assert!(state.line(&anonymous(), "p1").unwrap().migrated_to == Some(user()));
    assert!(state.line(&anonymous(), "old").unwrap().migrated_to.is_none(), "expired lines stay behind");
}

#[test]
fn a_second_merge_moves_nothing_twice_and_hands_the_moved_lines_over_again() {
    let store = FakeStore::with(|s| {
        s.put_line(&anonymous(), cart_line("p1", 2, NOW + 100));
        s.put_line(&user(), cart_line("p1", 3, NOW + 100));
    });
    let clock = FixedClock(NOW);
    block_on(merge_carts(&store, &clock, &anonymous(), &user())).unwrap();
    let again = block_on(merge_carts(&store, &clock, &anonymous(), &user())).unwrap();
    assert_eq!(again.cart.iter().map(|l| l.quantity).collect::<Vec<_>>(), [5]);
    let moved: Vec<(&str, u64)> = again.moved.iter().map(|m| (m.product_id.as_str(), m.version)).collect();
    assert_eq!(moved, [("p1", 2)], "still stored, so the cleanup gets it again");
}

#[test]
fn a_merge_stands_when_the_cleanup_cannot_be_told() {
    let store = FakeStore::with(|s| s.put_line(&anonymous(), cart_line("p1", 2, NOW + 100)));
    let cleanup = FakeCleanup { fail: true, ..Default::default() };
    let cart = block_on(migrate_cart(&store, &FixedClock(NOW), Some(&cleanup), &anonymous(), &user())).unwrap();
    assert_eq!(cart.len(), 1);
    assert!(store.state().line(&anonymous(), "p1").unwrap().migrated_to.is_some());
}

// ---- checkout ----

fn cart_of(items: &[(&str, i64, u64, i64)]) -> FakeStore {
    FakeStore::with(|s| {
        for (product, quantity, price, available) in items {
            s.add_product(product, *price, *available);
            s.put_line(&user(), cart_line(product, *quantity, NOW + 100));
        }
    })
}

fn check_out_with(store: &FakeStore, key: Option<&str>) -> Result<super::checkout::CheckedOut, CheckoutError> {
    let policy = HoldPolicy { hold_secs: HOLD, max_pending: 2, ..HoldPolicy::default() };
    let request = CheckoutRequest { buyer_sub: "u1", idempotency_key: key, policy };
    block_on(checkout(store, &FixedClock(NOW), request))
}

#[test]
fn checkout_reserves_at_todays_prices_and_holds_the_stock() {
    let store = cart_of(&[("p1", 2, 250, 5), ("p2", 1, 99, 1)]);
    let done = check_out_with(&store, Some("k1")).unwrap();
    assert!(done.created);
    assert_eq!((done.order.total, done.order.status), (599, OrderStatus::PendingPayment));
    assert_eq!(done.order.expires_at, NOW + HOLD);
    let state = store.state();
    assert_eq!(state.stock["p1"], StockLevels { available: 3, reserved: 2, sold: 0, added: 5 });
    assert_eq!(state.line(&user(), "p1").unwrap().checkout_order.as_deref(), Some(done.order.order_id.as_str()));
}

#[test]
fn a_retried_or_repeated_checkout_gets_the_first_order() {
    let store = cart_of(&[("p1", 2, 250, 5)]);
    let first = check_out_with(&store, Some("k1")).unwrap();
    let retried = check_out_with(&store, Some("k1")).unwrap();
    assert!(!retried.created);
    assert_eq!(retried.order.order_id, first.order.order_id);
    // Another key, the same unchanged cart: the pending order, not a second reservation.
    let repeated = check_out_with(&store, Some("k2")).unwrap();
    assert_eq!(repeated.order.order_id, first.order.order_id);
    assert_eq!(store.state().checkouts, 1);
    assert_eq!(store.state().stock["p1"].reserved, 2);
}

#[test]
fn a_key_used_by_a_concurrent_checkout_answers_its_order() {
    let store = cart_of(&[("p1", 1, 250, 5)]);
    let winner = check_out_with(&cart_of(&[("p1", 1, 250, 5)]), None).unwrap().order;
    {
        let mut state = store.state();
        state.orders.insert(winner.order_id.clone(), winner.clone());
        // The key was free when this request looked; the other request commits first.
        state.checkout_script.push_back(CheckoutOutcome::KeyUsed);
        state.racing_key = Some(("k1".into(), winner.order_id.clone()));
    }
    let done = check_out_with(&store, Some("k1")).unwrap();
    assert_eq!((done.order.order_id, done.created), (winner.order_id, false));
}

#[test]
fn short_stock_reserves_nothing_and_names_the_short_lines() {
    let store = cart_of(&[("p1", 2, 250, 5), ("p2", 3, 99, 1)]);
    let result = check_out_with(&store, None);
    let Err(CheckoutError::NotEnoughStock(short)) = result else { panic!("{result:?}") };
    assert_eq!(short.len(), 1);
    assert_eq!((short[0].product_id.as_str(), short[0].requested, short[0].available), ("p2", 3, 1));
    assert_eq!(store.state().stock["p1"].reserved, 0);
    assert!(store.state().orders.is_empty());
}

#[test]
fn stock_that_came_back_or_a_changed_cart_is_tried_again_then_busy() {
    let store = cart_of(&[("p1", 1, 250, 5)]);
    store.state().checkout_script.extend([CheckoutOutcome::Short(vec![0]), CheckoutOutcome::CartChanged]);
    assert!(check_out_with(&store, None).unwrap().created);
    assert_eq!(store.state().checkouts, 3);
    let store = cart_of(&[("p1", 1, 250, 5)]);
    store.state().checkout_script.extend(std::iter::repeat_n(CheckoutOutcome::CartChanged, WRITE_ATTEMPTS));
    assert!(matches!(check_out_with(&store, None), Err(CheckoutError::Busy)));
}

#[test]
fn a_contended_checkout_is_sent_again_and_reserves_once() {
    let store = cart_of(&[("p1", 2, 250, 5)]);
    store.state().contended = super::CONTENDED_ATTEMPTS as usize - 1;
    let done = check_out_with(&store, None).unwrap();
    assert!(done.created);
    let state = store.state();
    assert_eq!(state.checkouts, super::CONTENDED_ATTEMPTS as usize);
    assert_eq!(state.stock["p1"], StockLevels { available: 3, reserved: 2, sold: 0, added: 5 });
    assert_eq!(state.orders.len(), 1);
}

#[test]
fn a_checkout_contended_past_its_attempts_reserves_nothing_and_says_so() {
    let store = cart_of(&[("p1", 2, 250, 5)]);
    store.state().contended = usize::MAX;
    let refused = check_out_with(&store, None);
    assert!(matches!(refused, Err(CheckoutError::Store(StoreError::Contended))), "{refused:?}");
    let state = store.state();
    assert_eq!(state.checkouts, super::CONTENDED_ATTEMPTS as usize, "bounded");
    assert_eq!(state.stock["p1"], StockLevels { available: 5, reserved: 0, sold: 0, added: 5 });
    assert!(state.orders.is_empty() && state.line(&user(), "p1").unwrap().checkout_order.is_none());
}

fn shard_levels(store: &FakeStore, id: &str, count: u32) -> Vec<StockLevels> {
    let mut state = store.state();
    (0..count).map(|k| *state.shard(id, k)).collect()
}

#[test]
fn a_sharded_line_falls_back_to_the_shards_holding_units_never_a_false_sold_out() {
    // 4 units wanted; one shard holds 3, another 1: the first guess may miss,
    // the plan then takes from both.
    for _ in 0..20 {
        let store = cart_of(&[("p1", 4, 250, 0)]);
        store.state().shard_product("p1", &[0, 3, 0, 1]);
        let done = check_out_with(&store, None).unwrap();
        let mut taken = done.order.lines[0].taken.clone();
        taken.sort_by_key(|t| t.shard);
        assert_eq!(taken.iter().map(|t| (t.shard, t.units)).collect::<Vec<_>>(), [(1, 3), (3, 1)]);
        let levels = shard_levels(&store, "p1", 4);
        assert_eq!(
            levels.iter().map(|s| (s.available, s.reserved)).collect::<Vec<_>>(),
            [(0, 0), (0, 3), (0, 0), (0, 1)]
        );
    }
}

#[test]
fn a_sharded_product_is_short_only_when_all_its_shards_together_are() {
    let store = cart_of(&[("p1", 3, 250, 0)]);
    store.state().shard_product("p1", &[1, 0, 1, 0]);
    let refused = check_out_with(&store, None);
    let Err(CheckoutError::NotEnoughStock(short)) = refused else { panic!("{refused:?}") };
    assert_eq!((short[0].requested, short[0].available), (3, 2));
    assert!(shard_levels(&store, "p1", 4).iter().all(|s| s.reserved == 0), "nothing reserved");
}

#[test]
fn a_cancelled_sharded_order_puts_each_unit_back_on_its_shard() {
    let store = cart_of(&[("p1", 5, 100, 0)]);
    store.state().shard_product("p1", &[2, 2, 2, 2]);
    let order = check_out_with(&store, None).unwrap().order;
    let reserved: Vec<i64> = shard_levels(&store, "p1", 4).iter().map(|s| s.reserved).collect();
    assert_eq!(reserved.iter().sum::<i64>(), 5);
    let payments = FakePayments::answering(FakePayments::approved());
    block_on(orders(&store, &payments, &FixedClock(NOW + 1)).cancel("u1", &order.order_id)).unwrap();
    for levels in shard_levels(&store, "p1", 4) {
        assert_eq!(levels, StockLevels { available: 2, reserved: 0, sold: 0, added: 2 });
    }
}

#[test]
fn nobody_holds_more_pending_orders_than_allowed() {
    let store = cart_of(&[("p1", 1, 250, 10)]);
    let mut held = Vec::new();
    for _ in 0..2 {
        let order = check_out_with(&store, None).unwrap().order;
        // A cart change after checkout: the next checkout is a new order.
        store.state().carts.get_mut(&user()).unwrap().get_mut(&id("p1")).unwrap().checkout_order = None;
        held.push(order);
    }
    let refused = check_out_with(&store, None);
    assert!(matches!(refused, Err(CheckoutError::TooManyPending(2))), "{refused:?}");
    assert_eq!(store.state().stock["p1"].reserved, 2, "the refused checkout reserved nothing");
    // Paying (or cancelling) one frees a place.
    let payments = FakePayments::answering(FakePayments::approved());
    block_on(orders(&store, &payments, &FixedClock(NOW + 1)).pay("u1", &held[0].order_id, &card())).unwrap();
    store.state().put_line(&user(), cart_line("p1", 1, NOW + 100)); // the bought unit left the cart
    assert!(check_out_with(&store, None).unwrap().created);
}

#[test]
fn an_empty_or_expired_cart_cannot_check_out() {
    let store = FakeStore::with(|s| {
        s.add_product("p1", 100, 5);
        s.put_line(&user(), cart_line("p1", 1, NOW - 1));
    });
    assert!(matches!(check_out_with(&store, None), Err(CheckoutError::EmptyCart)));
}

// ---- payment ----

fn pending_order() -> (FakeStore, Order) {
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

fn orders<'a>(
    store: &'a FakeStore,
    payments: &'a FakePayments,
    clock: &'a FixedClock,
) -> Orders<'a, FakeStore, FakePayments, FixedClock> {
    Orders { store, payments, clock, renewal_cooldown_secs: 60 }
}

fn card() -> CardToken {
    CardToken::parse("tok_visa").unwrap()
}

#[test]
fn an_approved_charge_sells_the_reservation_and_leaves_later_units_in_the_cart() {
    let (store, order) = pending_order();
    let payments = FakePayments::answering(FakePayments::approved());
    let paid = block_on(orders(&store, &payments, &FixedClock(NOW + 1)).pay("u1", &order.order_id, &card())).unwrap();
    assert_eq!((paid.status, paid.charge_id.as_deref()), (OrderStatus::Paid, Some("ch_1")));
    let state = store.state();
    assert_eq!(state.stock["p1"], StockLevels { available: 2, reserved: 0, sold: 3, added: 5 });
    assert_eq!(state.line(&user(), "p1").unwrap().quantity, 1);
    assert_eq!(*payments.charges.lock().unwrap(), [(order.order_id.clone(), 600)]);
    drop(state);
    // Paying again answers the paid order and charges nothing more.
    let again = block_on(orders(&store, &payments, &FixedClock(NOW + 2)).pay("u1", &order.order_id, &card())).unwrap();
    assert_eq!(again.status, OrderStatus::Paid);
    assert_eq!(payments.charges.lock().unwrap().len(), 1);
}

#[test]
fn a_contended_payment_is_settled_once_and_charged_once() {
    let (store, order) = pending_order();
    store.state().contended = 3;
    let payments = FakePayments::answering(FakePayments::approved());
    let paid = block_on(orders(&store, &payments, &FixedClock(NOW + 1)).pay("u1", &order.order_id, &card())).unwrap();
    assert_eq!(paid.status, OrderStatus::Paid);
    assert_eq!(store.state().stock["p1"], StockLevels { available: 2, reserved: 0, sold: 3, added: 5 });
    assert_eq!(payments.charges.lock().unwrap().len(), 1);
}

#[test]
fn a_decline_or_a_provider_down_changes_nothing() {
    let (store, order) = pending_order();
    let declined = FakePayments::answering(Ok(ChargeOutcome::Declined { reason: "card_declined".into() }));
    let result = block_on(orders(&store, &declined, &FixedClock(NOW + 1)).pay("u1", &order.order_id, &card()));
    assert!(matches!(&result, Err(OrderError::Declined { reason, .. }) if reason == "card_declined"), "{result:?}");
    let down = FakePayments::answering(Err(PaymentError::Unavailable));
    let result = block_on(orders(&store, &down, &FixedClock(NOW + 1)).pay("u1", &order.order_id, &card()));
    assert!(matches!(result, Err(OrderError::Payment(PaymentError::Unavailable))), "{result:?}");
    let state = store.state();
    assert_eq!((state.settles, state.orders[&order.order_id].status), (0, OrderStatus::PendingPayment));
    assert_eq!(state.stock["p1"].reserved, 3);
}

#[test]
fn paying_after_the_hold_expires_the_order_and_charges_nothing() {
    let (store, order) = pending_order();
    let payments = FakePayments::answering(FakePayments::approved());
    let result = block_on(orders(&store, &payments, &FixedClock(NOW + HOLD)).pay("u1", &order.order_id, &card()));
    let Err(OrderError::ExpiredBeforePayment(expired)) = result else { panic!("{result:?}") };
    assert_eq!(expired.status, OrderStatus::Expired);
    assert!(payments.charges.lock().unwrap().is_empty());
    assert_eq!(store.state().stock["p1"], StockLevels { available: 5, reserved: 0, sold: 0, added: 5 });
}

#[test]
fn a_charge_that_loses_the_race_to_a_cancel_is_refunded() {
    let (store, order) = pending_order();
    let payments = FakePayments::answering(FakePayments::approved());
    // The buyer cancels in another tab while the charge goes through.
    store.state().racing_transition = Some(OrderStatus::Cancelled);
    let result = block_on(orders(&store, &payments, &FixedClock(NOW + 1)).pay("u1", &order.order_id, &card()));
    let Err(OrderError::Refunded(current)) = result else { panic!("{result:?}") };
    assert_eq!(current.status, OrderStatus::Cancelled);
    assert_eq!(payments.refunds.lock().unwrap().as_slice(), [order.order_id.as_str()]);
    assert_eq!(store.state().stock["p1"].sold, 0, "nothing sold");
}

#[test]
fn a_cart_line_changed_during_payment_is_read_again() {
    let (store, order) = pending_order();
    let payments = FakePayments::answering(FakePayments::approved());
    store.state().conflicts = 1;
    let paid = block_on(orders(&store, &payments, &FixedClock(NOW + 1)).pay("u1", &order.order_id, &card())).unwrap();
    assert_eq!(paid.status, OrderStatus::Paid);
    assert_eq!((store.state().settles, payments.charges.lock().unwrap().len()), (2, 1), "charged once");
}

#[test]
fn cancel_releases_once_and_a_paid_order_cannot_be_cancelled() {
    let (store, order) = pending_order();
    let payments = FakePayments::default();
    let clock = FixedClock(NOW + 1);
    let cancelled = block_on(orders(&store, &payments, &clock).cancel("u1", &order.order_id)).unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    let again = block_on(orders(&store, &payments, &clock).cancel("u1", &order.order_id)).unwrap();
    assert_eq!(again.status, OrderStatus::Cancelled);
    assert_eq!(store.state().settles, 1);
    assert_eq!(store.state().stock["p1"], StockLevels { available: 5, reserved: 0, sold: 0, added: 5 });
    assert_eq!(
        payments.refunds.lock().unwrap().as_slice(),
        [order.order_id.as_str()],
        "a stray charge would be refunded"
    );

    let (store, order) = pending_order();
    let payments = FakePayments::answering(FakePayments::approved());
    block_on(orders(&store, &payments, &clock).pay("u1", &order.order_id, &card())).unwrap();
    let refused = block_on(orders(&store, &payments, &clock).cancel("u1", &order.order_id));
    assert!(matches!(&refused, Err(OrderError::NotPending(o)) if o.status == OrderStatus::Paid), "{refused:?}");
    let other = block_on(orders(&store, &payments, &clock).cancel("someone-else", &order.order_id));
    assert!(matches!(other, Err(OrderError::NotFound(_))), "another user's order is not found");
}

#[test]
fn the_sweeper_expires_a_pending_order_once() {
    let (store, order) = pending_order();
    let payments = FakePayments::default();
    let sweep = orders(&store, &payments, &FixedClock(NOW + HOLD));
    assert!(block_on(sweep.expire(&order)).unwrap());
    assert!(!block_on(sweep.expire(&order)).unwrap(), "already expired: nothing twice");
    assert_eq!(store.state().stock["p1"].available, 5);
}

/// The reservation taken away behind the order's back, as a wrong repair did:
/// the stock shows the units available again.
fn reservation_gone(store: &FakeStore) {
    let mut state = store.state();
    let stock = state.shard("p1", 0);
    stock.available += stock.reserved;
    stock.reserved = 0;
}

#[test]
fn a_payment_whose_reservation_is_missing_is_refunded_and_the_order_ended() {
    let (store, order) = pending_order();
    reservation_gone(&store);
    let payments = FakePayments::answering(FakePayments::approved());
    let result = block_on(orders(&store, &payments, &FixedClock(NOW + 1)).pay("u1", &order.order_id, &card()));
    let Err(OrderError::ReservationMissing(ended)) = result else { panic!("{result:?}") };
    assert_eq!(ended.status, OrderStatus::Cancelled);
    assert_eq!(
        payments.refunds.lock().unwrap().as_slice(),
        std::slice::from_ref(&order.order_id),
        "the charge is refunded"
    );
    let state = store.state();
    assert_eq!(state.orders[&order.order_id].status, OrderStatus::Cancelled, "not stuck awaiting payment");
    assert_eq!(state.stock["p1"], StockLevels { available: 5, reserved: 0, sold: 0, added: 5 }, "nothing sold");
}

#[test]
fn an_expiry_whose_reservation_is_missing_ends_the_order_and_refunds_any_charge() {
    let (store, order) = pending_order();
    reservation_gone(&store);
    let payments = FakePayments::default();
    let expired = block_on(orders(&store, &payments, &FixedClock(NOW + HOLD)).expire(&order)).unwrap();
    assert!(expired);
    let state = store.state();
    assert_eq!(state.orders[&order.order_id].status, OrderStatus::Expired);
    assert_eq!(
        state.stock["p1"],
        StockLevels { available: 5, reserved: 0, sold: 0, added: 5 },
        "nothing released twice"
    );
    drop(state);
    assert_eq!(
        payments.refunds.lock().unwrap().as_slice(),
        std::slice::from_ref(&order.order_id),
        "a charge that slipped through is refunded"
    );
}

#[test]
fn a_charge_whose_sale_stays_contended_says_it_was_charged() {
    let (store, order) = pending_order();
    store.state().contended = 100;
    let payments = FakePayments::answering(FakePayments::approved());
    let result = block_on(orders(&store, &payments, &FixedClock(NOW + 1)).pay("u1", &order.order_id, &card()));
    let Err(err @ OrderError::ChargedNotRecorded) = result else { panic!("{result:?}") };
    assert!(err.to_string().contains("payment went through"), "{err}");
    assert_eq!(store.state().orders[&order.order_id].status, OrderStatus::PendingPayment, "still payable");
    store.state().contended = 0;
    // Paying again records the sale: the provider answers the order's charge
    // that stands (it charges an order once), so nothing more is charged.
    payments.answers.lock().unwrap().push_back(FakePayments::approved());
    let paid = block_on(orders(&store, &payments, &FixedClock(NOW + 2)).pay("u1", &order.order_id, &card())).unwrap();
    assert_eq!((paid.status, paid.charge_id.as_deref()), (OrderStatus::Paid, Some("ch_1")));
}

#[test]
fn a_refund_the_provider_does_not_confirm_stays_due_until_it_does() {
    let (store, order) = pending_order();
    let payments = FakePayments::answering(FakePayments::approved());
    // The buyer cancels in another tab while the charge goes through, and the
    // provider is down when the refund is asked for.
    store.state().racing_transition = Some(OrderStatus::Cancelled);
    *payments.refunds_down.lock().unwrap() = true;
    let result = block_on(orders(&store, &payments, &FixedClock(NOW + 1)).pay("u1", &order.order_id, &card()));
    let Err(err @ OrderError::RefundDue(_)) = result else { panic!("{result:?}") };
    assert!(err.to_string().contains("will be refunded"), "{err}");
    // The cancel that won could not record the refund in the fake's race; the
    // release path does: cancel another order with the provider down.
    let (store, order) = pending_order();
    let cancelled = block_on(orders(&store, &payments, &FixedClock(NOW + 1)).cancel("u1", &order.order_id)).unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert!(store.state().orders[&order.order_id].refund_due, "recorded with the cancel, not lost");
    // The provider is back: the sweeper's retry refunds it and clears the record.
    *payments.refunds_down.lock().unwrap() = false;
    let stored = store.state().orders[&order.order_id].clone();
    block_on(orders(&store, &payments, &FixedClock(NOW + 2)).finish_refund(&stored)).unwrap();
    assert!(!store.state().orders[&order.order_id].refund_due);
    assert!(payments.refunds.lock().unwrap().contains(&order.order_id));
}

// ---- what one buyer may hold ----

fn check_out_at(store: &FakeStore, now: i64, policy: HoldPolicy) -> Result<super::checkout::CheckedOut, CheckoutError> {
    block_on(checkout(store, &FixedClock(now), CheckoutRequest { buyer_sub: "u1", idempotency_key: None, policy }))
}

const POLICY: HoldPolicy =
    HoldPolicy { hold_secs: HOLD, hot_hold_secs: 120, max_pending: 3, max_held_units: 10, renewal_cooldown_secs: 60 };

#[test]
fn one_buyer_holds_at_most_the_cap_of_a_product_over_all_their_orders() {
    // One line over the cap is refused at once, reserving nothing.
    let store = cart_of(&[("p1", 11, 100, 100)]);
    let refused = check_out_at(&store, NOW, POLICY);
    let Err(err @ CheckoutError::TooManyHeld { held: 0, cap: 10, .. }) = refused else { panic!("{refused:?}") };
    assert!(err.to_string().contains("at most 10"), "{err}");
    assert_eq!(store.state().stock["p1"].reserved, 0);
    // 6 held, then 5 more in another order: over the cap across orders.
    store.state().put_line(&user(), cart_line("p1", 6, NOW + 100));
    let first = check_out_at(&store, NOW, POLICY).unwrap().order;
    store.state().put_line(&user(), cart_line("p1", 5, NOW + 100));
    let refused = check_out_at(&store, NOW + 1, POLICY);
    assert!(matches!(refused, Err(CheckoutError::TooManyHeld { held: 6, .. })), "{refused:?}");
    assert_eq!(store.state().stock["p1"].reserved, 6, "the refused checkout reserved nothing");
    // Once the first is paid, the units are no longer held: the next goes through.
    let payments = FakePayments::answering(FakePayments::approved());
    block_on(orders(&store, &payments, &FixedClock(NOW + 2)).pay("u1", &first.order_id, &card())).unwrap();
    store.state().put_line(&user(), cart_line("p1", 5, NOW + 100));
    assert!(check_out_at(&store, NOW + 3, POLICY).is_ok());
}

#[test]
fn lines_of_an_order_that_ended_unpaid_wait_a_cool_down_before_checking_out_again() {
    let store = cart_of(&[("p1", 2, 100, 5)]);
    let order = check_out_at(&store, NOW, POLICY).unwrap().order;
    let payments = FakePayments::default();
    block_on(orders(&store, &payments, &FixedClock(NOW + 10)).cancel("u1", &order.order_id)).unwrap();
    // Cancel and check out at once would renew the hold before anyone else could buy.
    let refused = check_out_at(&store, NOW + 11, POLICY);
    let Err(err @ CheckoutError::CoolingDown { retry_after: 59, .. }) = refused else { panic!("{refused:?}") };
    assert!(err.to_string().contains("offered to other shoppers first"), "{err}");
    assert_eq!(store.state().stock["p1"], StockLevels { available: 5, reserved: 0, sold: 0, added: 5 });
    // After the cool-down the same cart checks out.
    assert!(check_out_at(&store, NOW + 70, POLICY).is_ok());
}

#[test]
fn an_order_of_a_hot_product_holds_its_stock_for_less_time() {
    let store = cart_of(&[("p1", 1, 100, 0), ("p2", 1, 100, 5)]);
    store.state().shard_product("p1", &[3, 3]);
    let order = check_out_at(&store, NOW, POLICY).unwrap().order;
    assert_eq!(order.expires_at, NOW + 120, "a sharded product's order holds for HotProductHoldSeconds");
    let plain = cart_of(&[("p2", 1, 100, 5)]);
    assert_eq!(check_out_at(&plain, NOW, POLICY).unwrap().order.expires_at, NOW + HOLD);
}
