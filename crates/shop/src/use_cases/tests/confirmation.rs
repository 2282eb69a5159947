//! Payments the customer confirms with the provider (Stripe.js): the order is
//! sold when the provider confirms, whether its webhook or the buyer's page
//! says so first, once; the page's word alone sells nothing; a confirmation
//! that arrives after the order ended is refunded.

use crate::domain::OrderStatus;
use crate::domain::{CartOwner, Order, StockLevels};
use crate::use_cases::payment::OrderError;
use crate::use_cases::ports::*;

use super::fake::*;

fn confirmed_by_provider(payments: &FakePayments, order: &Order, answer: Result<ChargeOutcome, PaymentError>) {
    payments.confirmations.lock().unwrap().insert(order.order_id, answer);
}

#[test]
fn starting_a_payment_answers_what_the_page_confirms_and_changes_nothing() {
    let (store, order) = pending_order();
    let payments = FakePayments::default();
    let (pending, start) =
        block_on(orders(&store, &payments, &FixedClock(NOW + 1)).start_payment("u1", &order.order_id)).unwrap();
    assert_eq!(pending.status, OrderStatus::PendingPayment);
    assert!(start.is_some_and(|s| s.client_secret.contains("secret")));
    assert_eq!(store.state().stock["p1"].reserved, 3);
    // Someone else's order is not found.
    let stranger = block_on(orders(&store, &payments, &FixedClock(NOW + 1)).start_payment("u2", &order.order_id));
    assert!(matches!(stranger, Err(OrderError::NotFound(_))), "{stranger:?}");
}

#[test]
fn the_pages_word_alone_sells_nothing() {
    let (store, order) = pending_order();
    let payments = FakePayments::default();
    let result = block_on(orders(&store, &payments, &FixedClock(NOW + 1)).payment_confirmed("u1", &order.order_id));
    assert!(matches!(result, Err(OrderError::NotConfirmed(_))), "{result:?}");
    confirmed_by_provider(&payments, &order, Ok(ChargeOutcome::Declined { reason: "card_declined".into() }));
    let result = block_on(orders(&store, &payments, &FixedClock(NOW + 1)).payment_confirmed("u1", &order.order_id));
    assert!(matches!(&result, Err(OrderError::Declined { reason, .. }) if reason == "card_declined"), "{result:?}");
    let state = store.state();
    assert_eq!((state.settles, state.orders[&order.order_id].status), (0, OrderStatus::PendingPayment));
}

#[test]
fn the_webhook_and_the_page_settle_one_sale_whichever_comes_first() {
    let (store, order) = pending_order();
    let payments = FakePayments::default();
    confirmed_by_provider(&payments, &order, Ok(ChargeOutcome::Approved { charge_id: "pi_1".into() }));
    let buyer = CartOwner::user("u1").unwrap();
    let by_webhook =
        block_on(orders(&store, &payments, &FixedClock(NOW + 1)).provider_notified(&buyer, &order.order_id)).unwrap();
    assert_eq!((by_webhook.status, by_webhook.charge_id.as_deref()), (OrderStatus::Paid, Some("pi_1")));
    let by_page =
        block_on(orders(&store, &payments, &FixedClock(NOW + 2)).payment_confirmed("u1", &order.order_id)).unwrap();
    assert_eq!(by_page.status, OrderStatus::Paid);
    let again =
        block_on(orders(&store, &payments, &FixedClock(NOW + 3)).provider_notified(&buyer, &order.order_id)).unwrap();
    assert_eq!(again.status, OrderStatus::Paid);
    let state = store.state();
    assert_eq!(state.settles, 1, "one sale");
    assert_eq!(state.stock["p1"], StockLevels { available: 2, reserved: 0, sold: 3, added: 5 });
    assert!(payments.refunds.lock().unwrap().is_empty());
}

#[test]
fn a_confirmation_after_the_order_expired_is_refunded_and_sells_nothing() {
    let (store, order) = pending_order();
    let payments = FakePayments::default();
    assert!(block_on(orders(&store, &payments, &FixedClock(NOW + HOLD + 1)).expire(&order)).unwrap());
    confirmed_by_provider(&payments, &order, Ok(ChargeOutcome::Approved { charge_id: "pi_1".into() }));
    let buyer = CartOwner::user("u1").unwrap();
    let late =
        block_on(orders(&store, &payments, &FixedClock(NOW + HOLD + 5)).provider_notified(&buyer, &order.order_id));
    assert!(matches!(&late, Err(OrderError::Refunded(o)) if o.status == OrderStatus::Expired), "{late:?}");
    assert_eq!(
        *payments.refunds.lock().unwrap(),
        [order.order_id, order.order_id],
        "the expiry's check, then the refund"
    );
    let state = store.state();
    assert_eq!(state.stock["p1"], StockLevels { available: 5, reserved: 0, sold: 0, added: 5 });
    assert!(!state.orders[&order.order_id].refund_due, "confirmed, so no longer due");
}

#[test]
fn a_late_confirmation_whose_refund_fails_stays_due_for_the_sweeper() {
    let (store, order) = pending_order();
    let payments = FakePayments::default();
    assert!(block_on(orders(&store, &payments, &FixedClock(NOW + HOLD + 1)).expire(&order)).unwrap());
    confirmed_by_provider(&payments, &order, Ok(ChargeOutcome::Approved { charge_id: "pi_1".into() }));
    *payments.refunds_down.lock().unwrap() = true;
    let late =
        block_on(orders(&store, &payments, &FixedClock(NOW + HOLD + 5)).payment_confirmed("u1", &order.order_id));
    assert!(matches!(late, Err(OrderError::RefundDue(_))), "{late:?}");
    assert!(store.state().orders[&order.order_id].refund_due, "the sweeper finds it");
}

#[test]
fn a_payment_of_another_amount_sells_nothing() {
    let (store, order) = pending_order();
    let payments = FakePayments::default();
    confirmed_by_provider(&payments, &order, Err(PaymentError::Mismatch("pi_1 is for 1 usd".into())));
    let result = block_on(orders(&store, &payments, &FixedClock(NOW + 1)).payment_confirmed("u1", &order.order_id));
    assert!(matches!(result, Err(OrderError::Payment(PaymentError::Mismatch(_)))), "{result:?}");
    let state = store.state();
    assert_eq!((state.settles, state.orders[&order.order_id].status), (0, OrderStatus::PendingPayment));
}
