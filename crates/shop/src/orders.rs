//! Order operations shared by the API and the expiry sweeper.

use crate::domain::OrderStatus;
use crate::model::OrderItem;
use crate::payments::SandboxPayments;
use crate::store::{Store, StoreError};

pub const EXPIRED_REASON: &str = "payment not received in time";
pub const CANCELLED_REASON: &str = "cancelled by the buyer";

/// Ends a pending order without a sale (cancelled, expired) and releases its
/// reservation, on condition that it is still pending (`Conflict` otherwise).
/// A charge that went through for it anyway (a payment that crashed before
/// recording itself, or lost the race) is refunded, so nothing is kept that
/// was not sold.
pub async fn release_order(
    store: &Store,
    payments: &SandboxPayments,
    order: &OrderItem,
    to: OrderStatus,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    debug_assert!(!to.settles_stock_as_sold());
    store.settle_order(order, to, now, None, Some(reason), &[]).await?;
    match payments.refund(&order.order_id).await {
        Ok(true) => tracing::warn!(order = %order.order_id, "refunded a charge of a released order"),
        Ok(false) => {}
        Err(e) => {
            tracing::error!(order = %order.order_id, error = %e, "refund of a released order failed; refund by hand")
        }
    }
    Ok(())
}
