//! Checkout: reservations at today's prices, retries, short stock, shards.

use crate::domain::cart::tests::cart_line;
use crate::domain::{OrderStatus, StockLevels};
use crate::use_cases::checkout::CheckoutError;
use crate::use_cases::ports::*;
use crate::use_cases::WRITE_ATTEMPTS;

use super::fake::*;

#[test]
fn checkout_reserves_at_todays_prices_and_holds_the_stock() {
    let store = cart_of(&[("p1", 2, 250, 5), ("p2", 1, 99, 1)]);
    let done = check_out_with(&store, Some("k1")).unwrap();
    assert!(done.created);
    assert_eq!((done.order.total, done.order.status), (599, OrderStatus::PendingPayment));
    assert_eq!(done.order.expires_at, NOW + HOLD);
    let state = store.state();
    assert_eq!(state.stock["p1"], StockLevels { available: 3, reserved: 2, sold: 0, added: 5 });
    assert_eq!(state.line(&user(), "p1").unwrap().checkout_order, Some(done.order.order_id));
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
        state.orders.insert(winner.order_id, winner.clone());
        // The key was free when this request looked; the other request commits first.
        state.checkout_script.push_back(CheckoutOutcome::KeyUsed);
        state.racing_key = Some(("k1".into(), winner.order_id));
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
    store.state().contended = crate::use_cases::CONTENDED_ATTEMPTS as usize - 1;
    let done = check_out_with(&store, None).unwrap();
    assert!(done.created);
    let state = store.state();
    assert_eq!(state.checkouts, crate::use_cases::CONTENDED_ATTEMPTS as usize);
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
    assert_eq!(state.checkouts, crate::use_cases::CONTENDED_ATTEMPTS as usize, "bounded");
    assert_eq!(state.stock["p1"], StockLevels { available: 5, reserved: 0, sold: 0, added: 5 });
    assert!(state.orders.is_empty() && state.line(&user(), "p1").unwrap().checkout_order.is_none());
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
