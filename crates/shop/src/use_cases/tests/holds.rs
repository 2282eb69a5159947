//! What one buyer may hold: pending orders, units and renewals.

use crate::domain::cart::tests::cart_line;
use crate::domain::{HoldPolicy, StockLevels};
use crate::use_cases::checkout::{checkout, CheckoutError, CheckoutRequest};
use crate::use_cases::ports::*;

use super::fake::*;

fn check_out_at(
    store: &FakeStore,
    now: i64,
    policy: HoldPolicy,
) -> Result<crate::use_cases::checkout::CheckedOut, CheckoutError> {
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
