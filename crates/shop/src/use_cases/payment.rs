//! An order's life after checkout: pay, cancel, expire. Each transition is
//! conditional on the order still awaiting payment, so a retry or a race
//! applies one transition once; a charge that loses the race is refunded.

use std::collections::HashMap;

use super::ports::{
    CartAdjustment, ChargeOutcome, Clock, OrderStore, PaymentError, PaymentProvider, PaymentStart, StoreError,
};
use super::{through_contention, WRITE_ATTEMPTS};
use crate::domain::{
    units_left_after_purchase, CardToken, CartOwner, DomainError, Order, OrderId, OrderStatus, CANCELLED_REASON,
    EXPIRED_REASON, REFUNDED_REASON, RESERVATION_MISSING_REASON,
};

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("order {0} not found")]
    NotFound(OrderId),
    /// The order already ended (or ended otherwise than asked).
    #[error("order is {}", .0.status.as_str())]
    NotPending(Box<Order>),
    #[error("the order expired before payment")]
    ExpiredBeforePayment(Box<Order>),
    /// A decline charges nothing and changes nothing: the order keeps its
    /// reservation until it is paid with another card, cancelled or expires.
    #[error("payment declined: {reason}")]
    Declined { reason: String, order: Box<Order> },
    /// The charge went through but the order had ended meanwhile.
    #[error("order is {}; the charge was refunded", .0.status.as_str())]
    Refunded(Box<Order>),
    /// The same, and the provider did not confirm the refund yet: it is
    /// recorded as due and retried until it does.
    #[error("order is {}; the charge will be refunded (the provider did not answer yet; it is retried)", .0.status.as_str())]
    RefundDue(Box<Order>),
    #[error("the cart kept changing during payment; retry (you will not be charged twice)")]
    Busy,
    /// Only a paid order can be refunded.
    #[error("order is {}: only a paid order can be refunded", .0.status.as_str())]
    NotPaid(Box<Order>),
    /// A shard no longer counts the order's units as sold (a hand edit, a
    /// repair): nothing was changed or refunded.
    #[error("the stock no longer counts this order's units as sold: nothing was refunded; reconcile the stock first")]
    SoldUnitsMissing(Box<Order>),
    /// The provider has no successful payment of the order (yet).
    #[error("the payment provider has not confirmed a payment of this order")]
    NotConfirmed(Box<Order>),
    /// The units held for the order were gone when it was to be sold (a
    /// repair or a hand edit took them): nothing was sold, the charge was
    /// refunded and the order cancelled.
    #[error("the stock held for this order was missing, so nothing was sold: the charge was refunded and the order cancelled")]
    ReservationMissing(Box<Order>),
    /// The charge went through, and recording the sale met a contended
    /// table past the retries: the order is still awaiting payment, and paying
    /// again records it without charging twice.
    #[error("your payment went through but the shop is very busy and has not recorded it yet: retry in a moment (you will not be charged twice)")]
    ChargedNotRecorded,
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl OrderError {
    /// The order as it stands, when the refusal concerns it.
    pub fn order(&self) -> Option<&Order> {
        match self {
            Self::NotPending(o)
            | Self::ExpiredBeforePayment(o)
            | Self::Refunded(o)
            | Self::RefundDue(o)
            | Self::NotConfirmed(o)
            | Self::NotPaid(o)
            | Self::SoldUnitsMissing(o)
            | Self::ReservationMissing(o) => Some(o),
            Self::Declined { order, .. } => Some(order),
            _ => None,
        }
    }
}

/// The dependencies every transition takes.
pub struct Orders<'a, S, P, C> {
    pub store: &'a S,
    pub payments: &'a P,
    pub clock: &'a C,
    /// How long a buyer waits to check out again what an order of theirs
    /// released unpaid (`HoldPolicy::renewal_cooldown_secs`).
    pub renewal_cooldown_secs: i64,
}

impl<S: OrderStore, P: PaymentProvider, C: Clock> Orders<'_, S, P, C> {
    async fn owned_order(&self, buyer: &CartOwner, order_id: &OrderId) -> Result<Order, OrderError> {
        self.store.order(buyer, order_id).await?.ok_or(OrderError::NotFound(*order_id))
    }

    /// Charges the order and commits its reservation as sold. Paying a paid
    /// order answers it as it is (a retry); the provider charges an order once.
    pub async fn pay(&self, buyer_sub: &str, order_id: &OrderId, card: &CardToken) -> Result<Order, OrderError> {
        let buyer = CartOwner::user(buyer_sub)?;
        let order = self.owned_order(&buyer, order_id).await?;
        match order.status {
            OrderStatus::Paid => return Ok(order),
            OrderStatus::PendingPayment => {}
            _ => return Err(OrderError::NotPending(Box::new(order))),
        }
        let now = self.clock.now();
        if !order.is_payable(now) {
            let order = self.release(order, OrderStatus::Expired, EXPIRED_REASON, now).await?;
            return Err(OrderError::ExpiredBeforePayment(Box::new(order)));
        }
        match self.payments.charge(&order, card.as_str()).await? {
            ChargeOutcome::Approved { charge_id } => self.complete_payment(&buyer, order, &charge_id).await,
            ChargeOutcome::Declined { reason } => Err(OrderError::Declined { reason, order: Box::new(order) }),
        }
    }

    /// Starts (or resumes) paying the buyer's pending order with the
    /// provider, for their page to confirm; `None` when the provider takes
    /// card tokens only.
    pub async fn start_payment(
        &self,
        buyer_sub: &str,
        order_id: &OrderId,
    ) -> Result<(Order, Option<PaymentStart>), OrderError> {
        let order = self.owned_order(&CartOwner::user(buyer_sub)?, order_id).await?;
        match order.status {
            OrderStatus::PendingPayment if order.is_payable(self.clock.now()) => {}
            OrderStatus::PendingPayment => {
                let now = self.clock.now();
                let order = self.release(order, OrderStatus::Expired, EXPIRED_REASON, now).await?;
                return Err(OrderError::ExpiredBeforePayment(Box::new(order)));
            }
            _ => return Err(OrderError::NotPending(Box::new(order))),
        }
        let start = self.payments.start(&order).await?;
        Ok((order, start))
    }

    /// The buyer's page says it confirmed the order's payment with the
    /// provider: the provider is asked (the page's word is not taken), and a
    /// payment it confirms is settled as `pay` settles one.
    pub async fn payment_confirmed(&self, buyer_sub: &str, order_id: &OrderId) -> Result<Order, OrderError> {
        let order = self.owned_order(&CartOwner::user(buyer_sub)?, order_id).await?;
        self.settle_confirmed(order).await
    }

    /// The provider says (its signed webhook) that a payment of the order
    /// succeeded or failed: the same settlement as the buyer's confirmation,
    /// whichever comes first, once.
    pub async fn provider_notified(&self, buyer: &CartOwner, order_id: &OrderId) -> Result<Order, OrderError> {
        let order = self.owned_order(buyer, order_id).await?;
        self.settle_confirmed(order).await
    }

    /// Sells a pending order whose payment the provider confirms; refunds a
    /// confirmed payment of an order that ended meanwhile (expired,
    /// cancelled). A paid order is answered as it is.
    async fn settle_confirmed(&self, order: Order) -> Result<Order, OrderError> {
        if order.status == OrderStatus::Paid {
            return Ok(order);
        }
        match self.payments.confirmed(&order).await? {
            None => Err(OrderError::NotConfirmed(Box::new(order))),
            Some(ChargeOutcome::Declined { reason }) => Err(OrderError::Declined { reason, order: Box::new(order) }),
            Some(ChargeOutcome::Approved { charge_id }) => match order.status {
                OrderStatus::PendingPayment => self.complete_payment(&order.buyer()?, order, &charge_id).await,
                _ => Err(self.refund_late_charge(order).await?),
            },
        }
    }

    /// A charge that arrived after its order ended: recorded as due (so the
    /// sweeper retries it) and refunded.
    async fn refund_late_charge(&self, ended: Order) -> Result<OrderError, OrderError> {
        tracing::warn!(order = %ended.order_id, status = ended.status.as_str(), "charged after the order ended");
        let mut due = ended.clone();
        match through_contention(|| self.store.mark_refund_due(&ended, self.clock.now())).await {
            Ok(()) => due.refund_due = true,
            // Paid or pending after all (another transition): nothing is due from here.
            Err(StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(match self.finish_refund(&due).await {
            Ok(_) => OrderError::Refunded(Box::new(ended)),
            Err(_) => OrderError::RefundDue(Box::new(ended)),
        })
    }

    /// Commits the reservation as sold and takes the bought units out of the
    /// cart. If the order stopped being pending meanwhile (it expired or was
    /// cancelled while the charge went through), the charge is refunded.
    async fn complete_payment(&self, buyer: &CartOwner, order: Order, charge_id: &str) -> Result<Order, OrderError> {
        for _ in 0..WRITE_ATTEMPTS {
            let now = self.clock.now();
            let cart = self.cart_adjustments(buyer, &order, now).await?;
            let paid = order.clone().settled(OrderStatus::Paid, now, Some(charge_id), None);
            let current = match through_contention(|| self.store.settle_order(&order, &paid, &cart)).await {
                Ok(()) => paid,
                // A lost race is not an error: read the winner's order.
                Err(StoreError::Conflict) => self.owned_order(buyer, &order.order_id).await?,
                Err(StoreError::ReservationMissing) => return Err(self.sale_without_stock(order, now).await?),
                Err(StoreError::Contended) => return Err(OrderError::ChargedNotRecorded),
                Err(e) => return Err(e.into()),
            };
            match current.status {
                OrderStatus::Paid => return Ok(current),
                // Still pending: a cart line changed under us; read it again.
                OrderStatus::PendingPayment => continue,
                // Ended meanwhile (expired, cancelled): the charge goes back.
                _ => return Err(self.refund_late_charge(current).await?),
            }
        }
        Err(OrderError::Busy)
    }

    /// A charged order whose reserved units are gone: nothing can be sold, so
    /// the charge is refunded first (were ending the order to fail, the order
    /// stays payable and nothing is kept), then the order ends. Never leaves
    /// the customer charged for an order stuck awaiting payment.
    async fn sale_without_stock(&self, order: Order, now: i64) -> Result<OrderError, OrderError> {
        let mut ended = order.clone().settled(OrderStatus::Cancelled, now, None, Some(RESERVATION_MISSING_REASON));
        ended.refund_due = true;
        let current = match through_contention(|| self.store.end_order_without_stock(&order, &ended)).await {
            Ok(()) => ended,
            Err(StoreError::Conflict) => self.owned_order(&order.buyer()?, &order.order_id).await?,
            // Charged, and nothing recorded yet: say so (paying again ends it).
            Err(StoreError::Contended) => return Err(OrderError::ChargedNotRecorded),
            Err(e) => return Err(e.into()),
        };
        let refunded = self.finish_refund(&current).await.is_ok();
        tracing::error!(order = %order.order_id, refunded, "reserved stock missing at payment: order ended, charge refunded");
        Ok(OrderError::ReservationMissing(Box::new(current)))
    }

    /// Refunds an ended order's charge, if it has one, and clears its
    /// `refund_due` once the provider confirmed; `Ok(true)` if a charge was
    /// refunded. On the provider's error the refund stays due (the expiry
    /// sweeper calls this again until it succeeds).
    pub async fn finish_refund(&self, order: &Order) -> Result<bool, OrderError> {
        let refunded = match self.payments.refund(&order.order_id).await {
            Ok(refunded) => refunded,
            Err(e) => {
                tracing::warn!(order = %order.order_id, error = %e, "refund not confirmed; it stays due and is retried");
                return Err(e.into());
            }
        };
        match through_contention(|| self.store.refund_done(order)).await {
            // Cleared already (another attempt confirmed it first).
            Ok(()) | Err(StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
        if refunded {
            tracing::warn!(order = %order.order_id, "refunded a charge of an order that ended without a sale");
        }
        Ok(refunded)
    }

    /// What a paid order does to the buyer's cart: units bought leave it,
    /// units added after checkout stay.
    async fn cart_adjustments(
        &self,
        buyer: &CartOwner,
        order: &Order,
        now: i64,
    ) -> Result<Vec<CartAdjustment>, StoreError> {
        let bought: HashMap<&str, i64> = order.lines.iter().map(|l| (l.product_id.as_str(), l.quantity)).collect();
        Ok(self
            .store
            .cart_lines(buyer)
            .await?
            .into_iter()
            .filter(|l| l.is_live(now))
            .filter_map(|line| {
                let units = *bought.get(line.product_id.as_str())?;
                let quantity_after = units_left_after_purchase(line.quantity, units);
                Some(CartAdjustment { line, quantity_after })
            })
            .collect())
    }

    /// Refunds a paid order in full (an admin's call): the order becomes
    /// REFUNDED and its units go back on sale in one transaction, with the
    /// refund recorded as due; then the provider refunds the charge (one it
    /// does not confirm stays due, and the expiry sweep asks again).
    /// Refunding a refunded order answers it as it is.
    pub async fn refund_paid(&self, order_id: &OrderId) -> Result<Order, OrderError> {
        let order = self.store.order_by_id(order_id).await?.ok_or(OrderError::NotFound(*order_id))?;
        match order.status {
            OrderStatus::Refunded => return Ok(order),
            OrderStatus::Paid => {}
            _ => return Err(OrderError::NotPaid(Box::new(order))),
        }
        let mut refunded = order.clone();
        refunded.status = OrderStatus::Refunded;
        refunded.updated_at = self.clock.now();
        refunded.failure_reason = Some(REFUNDED_REASON.to_owned());
        refunded.refund_due = true;
        match through_contention(|| self.store.refund_paid_order(&order, &refunded)).await {
            Ok(()) => {}
            // Refunded (or otherwise changed) meanwhile: answer it as it now is.
            Err(StoreError::Conflict) => {
                let current = self.owned_order(&order.buyer()?, order_id).await?;
                return match current.status {
                    OrderStatus::Refunded => Ok(current),
                    _ => Err(OrderError::NotPaid(Box::new(current))),
                };
            }
            Err(StoreError::ReservationMissing) => return Err(OrderError::SoldUnitsMissing(Box::new(order))),
            Err(e) => return Err(e.into()),
        }
        if self.finish_refund(&refunded).await.is_ok() {
            refunded.refund_due = false;
        }
        tracing::warn!(order = %order_id, refund_due = refunded.refund_due, "paid order refunded by the shop");
        Ok(refunded)
    }

    /// Cancels a pending order (the buyer's); cancelling a cancelled order
    /// answers it as it is.
    pub async fn cancel(&self, buyer_sub: &str, order_id: &OrderId) -> Result<Order, OrderError> {
        let buyer = CartOwner::user(buyer_sub)?;
        let order = self.owned_order(&buyer, order_id).await?;
        let current = match order.status {
            OrderStatus::PendingPayment => {
                self.release(order, OrderStatus::Cancelled, CANCELLED_REASON, self.clock.now()).await?
            }
            _ => order,
        };
        match current.status {
            OrderStatus::Cancelled => Ok(current),
            _ => Err(OrderError::NotPending(Box::new(current))),
        }
    }

    /// Expires a pending order past its hold (the sweeper); `false` when
    /// another transition settled it first.
    pub async fn expire(&self, order: &Order) -> Result<bool, OrderError> {
        self.try_release(order, OrderStatus::Expired, EXPIRED_REASON, self.clock.now()).await
    }

    /// Ends a pending order without a sale and answers it as it stands
    /// afterwards (another transition may have won the race).
    async fn release(&self, order: Order, to: OrderStatus, reason: &str, now: i64) -> Result<Order, OrderError> {
        if self.try_release(&order, to, reason, now).await? {
            return Ok(order.settled(to, now, None, Some(reason)));
        }
        let buyer = order.buyer()?;
        self.owned_order(&buyer, &order.order_id).await
    }

    /// Ends a pending order without a sale and releases its reservation, on
    /// condition that it is still pending (`false` when it no longer was). A
    /// charge that went through for it anyway (a payment that crashed before
    /// recording itself, or lost the race) is refunded, so nothing is kept
    /// that was not sold.
    async fn try_release(&self, order: &Order, to: OrderStatus, reason: &str, now: i64) -> Result<bool, OrderError> {
        debug_assert!(!to.settles_stock_as_sold());
        // Any charge of it (a payment that crashed before recording itself,
        // or lost the race) is to be refunded: recorded with the transition.
        let mut released = order.clone().settled(to, now, None, Some(reason));
        released.refund_due = true;
        // The units go to other shoppers first.
        released.renew_after = (self.renewal_cooldown_secs > 0).then_some(now + self.renewal_cooldown_secs);
        match through_contention(|| self.store.settle_order(order, &released, &[])).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => return Ok(false),
            // Nothing is reserved to release: end the order all the same.
            Err(StoreError::ReservationMissing) => {
                match through_contention(|| self.store.end_order_without_stock(order, &released)).await {
                    Ok(()) => {
                        tracing::error!(order = %order.order_id, "reserved stock missing: order ended, none released")
                    }
                    Err(StoreError::Conflict) => return Ok(false),
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        }
        // A provider that fails now leaves the refund due: the sweeper retries.
        let _ = self.finish_refund(&released).await;
        Ok(true)
    }
}
