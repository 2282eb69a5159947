//! The scheduled expiry sweep: orders whose hold ran out are expired and
//! their reservations released; ended orders whose refund is still due are
//! asked about again.

use super::WorkerError;
use crate::app::App;
use crate::domain::OrderStatus;
use crate::outbound::dynamodb::{StoreError, SweepPosition};
use crate::use_cases::payment::{OrderError, Orders};
use crate::use_cases::ports::FixedClock;

/// What one sweep of the expiry worker did.
#[derive(Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ExpiryReport {
    pub expired: usize,
    /// Due orders another transition settled first (paid, cancelled) or that
    /// the index still listed after they left it.
    pub skipped: usize,
    /// Due orders whose items stayed contended past the retries (a hot
    /// product in a sale): left for the next sweep, which reaches them again.
    pub contended: usize,
    /// Ended orders whose refund was due and is now confirmed, and those the
    /// provider still did not confirm (retried by the next sweep).
    pub refunds_confirmed: usize,
    pub refunds_still_due: usize,
}

/// Pages of due orders one sweep works through; the next run takes the rest.
const EXPIRY_PAGES: usize = 20;
/// An order skipped this long after its hold ended has been skipped by many
/// sweeps (one a minute): logged as such, and alarmed on (`ExpiryStuckAlarm`).
const STUCK_AFTER_SECS: i64 = 600;

/// Expires every order whose hold has run out and releases its reservation.
/// Each expiry is conditional on the order still awaiting payment, so a
/// payment or cancel that wins the race is never undone, and a re-run (the
/// schedule fires again, Lambda retries) changes nothing twice. An order that
/// stays contended is skipped, and the sweep goes on past it (page by page,
/// from where the last page ended), so one hot product never stops the sweep
/// for the whole shop.
pub async fn expire_overdue_orders(app: &App, now: i64) -> Result<ExpiryReport, WorkerError> {
    let store = &app.store;
    let orders = Orders {
        store,
        payments: &app.payments,
        clock: &FixedClock(now),
        renewal_cooldown_secs: app.config.holds.renewal_cooldown_secs,
    };
    let mut report = ExpiryReport::default();
    let mut start = SweepPosition::default();
    for _ in 0..EXPIRY_PAGES {
        let (due, next) = store.orders_due_for_expiry(now, 100, start).await?;
        for order in due {
            if order.status != OrderStatus::PendingPayment {
                // Ended without a sale, its refund not yet confirmed: ask again.
                if order.refund_due {
                    match orders.finish_refund(&order).await {
                        Ok(_) => report.refunds_confirmed += 1,
                        Err(_) => report.refunds_still_due += 1,
                    }
                } else {
                    report.skipped += 1;
                }
                continue;
            }
            match orders.expire(&order).await {
                Ok(true) => report.expired += 1,
                Ok(false) => report.skipped += 1,
                Err(OrderError::Store(StoreError::Contended)) => {
                    report.contended += 1;
                    let overdue_secs = now - order.expires_at;
                    let stuck = overdue_secs > STUCK_AFTER_SECS;
                    tracing::warn!(order = %order.order_id, overdue_secs, stuck, "order expiry skipped: contended");
                }
                Err(e) => return Err(e.into()),
            }
        }
        match next {
            Some(position) => start = position,
            None => break,
        }
    }
    if report.expired > 0 || report.contended > 0 || report.refunds_confirmed > 0 || report.refunds_still_due > 0 {
        tracing::info!(
            expired = report.expired,
            skipped = report.skipped,
            contended = report.contended,
            refunds_confirmed = report.refunds_confirmed,
            refunds_still_due = report.refunds_still_due,
            "orders expired"
        );
    }
    Ok(report)
}
