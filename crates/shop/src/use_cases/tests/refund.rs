//! An admin's refund of a paid order: the units go back on sale and the
//! charge back to the buyer, once; a refund the provider does not confirm
//! stays due for the sweep.

use crate::domain::{OrderStatus, StockLevels};
use crate::use_cases::payment::OrderError;
use crate::use_cases::ports::*;

use super::fake::*;

fn paid_order() -> (FakeStore, crate::domain::Order, FakePayments) {
    let (store, order) = pending_order();
    let payments = FakePayments::answering(FakePayments::approved());
    block_on(orders(&store, &payments, &FixedClock(NOW + 1)).pay("u1", &order.order_id, &card())).unwrap();
    (store, order, payments)
}

#[test]
fn a_refunded_order_puts_its_units_back_on_sale_and_its_charge_back_once() {
    let (store, order, payments) = paid_order();
    let refunded = block_on(orders(&store, &payments, &FixedClock(NOW + 60)).refund_paid(&order.order_id)).unwrap();
    assert_eq!((refunded.status, refunded.refund_due), (OrderStatus::Refunded, false));
    assert_eq!(store.state().stock["p1"], StockLevels { available: 5, reserved: 0, sold: 0, added: 5 });
    assert_eq!(*payments.refunds.lock().unwrap(), [order.order_id]);
    // Again: the same answer, nothing refunded twice.
    let again = block_on(orders(&store, &payments, &FixedClock(NOW + 61)).refund_paid(&order.order_id)).unwrap();
    assert_eq!(again.status, OrderStatus::Refunded);
    assert_eq!(payments.refunds.lock().unwrap().len(), 1);
    assert_eq!(store.state().stock["p1"].available, 5);
}

#[test]
fn only_a_paid_order_is_refunded() {
    let (store, order) = pending_order();
    let payments = FakePayments::default();
    let refused = block_on(orders(&store, &payments, &FixedClock(NOW + 1)).refund_paid(&order.order_id));
    assert!(matches!(&refused, Err(OrderError::NotPaid(o)) if o.status == OrderStatus::PendingPayment), "{refused:?}");
    assert_eq!(store.state().stock["p1"].reserved, 3);
    let missing = block_on(orders(&store, &payments, &FixedClock(NOW + 1)).refund_paid(&crate::domain::OrderId::new()));
    assert!(matches!(missing, Err(OrderError::NotFound(_))), "{missing:?}");
}

#[test]
fn a_refund_the_provider_does_not_confirm_stays_due() {
    let (store, order, payments) = paid_order();
    *payments.refunds_down.lock().unwrap() = true;
    let refunded = block_on(orders(&store, &payments, &FixedClock(NOW + 60)).refund_paid(&order.order_id)).unwrap();
    assert_eq!((refunded.status, refunded.refund_due), (OrderStatus::Refunded, true));
    let state = store.state();
    assert!(state.orders[&order.order_id].refund_due, "the sweep finds it");
    assert_eq!(state.stock["p1"].available, 5, "the units are back either way");
}
