//! Cart use cases: read a cart, change a line, merge an anonymous cart into
//! the user's at sign-in. Each write is read, decide (the domain's rules),
//! write-if-unchanged, retried when another request won the race.

use std::collections::BTreeMap;

use super::ports::{CartStore, Clock, LineAddition, LineCleanup, LineMove, MovedLine, StoreError};
use super::WRITE_ATTEMPTS;
use crate::domain::{
    decide_line_change, merged_line, remembered_request, CartLine, CartOwner, DomainError, LineChange, LineDecision,
    ProductId, MAX_LINE_QUANTITY,
};

#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("product {0} not found")]
    ProductNotFound(ProductId),
    /// A line may not ask for more than is available. (Only checkout
    /// reserves; this keeps shoppers from filling carts that can never be bought.)
    #[error("only {available} available")]
    NotEnoughStock { product_id: ProductId, available: i64 },
    /// The idempotency key came with a change of `delta` before.
    #[error("this Idempotency-Key was used for a different request (a change of {delta}); use a new key")]
    KeyUsedForAnother { delta: i64 },
    /// Other writers kept winning the race.
    #[error("the cart kept changing")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The lines a shopper sees: neither expired nor migrated.
pub async fn live_cart(
    store: &impl CartStore,
    clock: &impl Clock,
    owner: &CartOwner,
) -> Result<Vec<CartLine>, StoreError> {
    let now = clock.now();
    Ok(store.cart_lines(owner).await?.into_iter().filter(|l| l.is_live(now)).collect())
}

/// Changes one line and answers its quantity afterwards. The product, its
/// stock and the line come in one read (and again after a lost race).
pub async fn change_line(
    store: &impl CartStore,
    clock: &impl Clock,
    owner: &CartOwner,
    id: &ProductId,
    change: LineChange<'_>,
) -> Result<i64, CartError> {
    for _ in 0..WRITE_ATTEMPTS {
        let now = clock.now();
        let found = store.line_context(owner, id).await?;
        let product = found.product.ok_or_else(|| CartError::ProductNotFound(id.clone()))?;
        let stored = found.line;
        // An expired or migrated line counts as empty; writing revives it.
        let live = stored.as_ref().filter(|l| l.is_live(now));
        let current = live.map_or(0, |l| l.quantity);
        let (quantity, recent_requests) = match decide_line_change(live, change)? {
            LineDecision::AlreadyApplied { quantity } => return Ok(quantity),
            LineDecision::KeyUsedForAnother { delta } => return Err(CartError::KeyUsedForAnother { delta }),
            LineDecision::Write { quantity, recent_requests } => (quantity, recent_requests),
        };
        if quantity > current && quantity > found.available {
            return Err(CartError::NotEnoughStock { product_id: id.clone(), available: found.available });
        }
        // Units added to a live line: one update that adds, so that two tabs
        // or a double click both count instead of racing on the version. It
        // appends the request's key without trimming (an update cannot append
        // and drop the oldest at once); the next versioned write trims the
        // keys to the last RECENT_REQUESTS_KEPT. Additions stop at the line
        // limit, so the list stays short.
        if let (LineChange::By { delta, request }, Some(_)) = (change, live) {
            if delta > 0 {
                let remembered = request.map(|key| remembered_request(key, delta));
                let addition = LineAddition {
                    product_id: id,
                    delta,
                    request: remembered.as_deref(),
                    most_before: MAX_LINE_QUANTITY.min(found.available) - delta,
                    now,
                    expires_at: owner.line_expiration(now),
                    product: &product,
                };
                match store.add_to_line(owner, &addition).await {
                    Ok(quantity) => return Ok(quantity),
                    // The line changed meanwhile (full, migrated, the request
                    // applied): read it again and decide afresh.
                    Err(StoreError::Conflict) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let written = match (&stored, quantity) {
            (None, 0) => Ok(()),
            (Some(line), 0) => store.delete_cart_line(owner, id, line.version).await,
            (_, quantity) => {
                let line = CartLine {
                    product_id: id.clone(),
                    quantity,
                    product,
                    expires_at: owner.line_expiration(now),
                    version: stored.as_ref().map_or(1, |l| l.version + 1),
                    migrated_to: None,
                    checkout_order: None,
                    recent_requests,
                };
                store.put_cart_line(owner, &line, stored.as_ref().map(|l| l.version)).await
            }
        };
        match written {
            Ok(()) => return Ok(quantity),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(CartError::Busy)
}

/// A merge: the user's cart afterwards and the anonymous lines to delete.
#[derive(Debug)]
pub struct Merged {
    pub cart: Vec<CartLine>,
    pub moved: Vec<MovedLine>,
}

/// Merges the anonymous cart into the user's and hands the moved lines to the
/// cleanup. The merge is committed before the hand-over, and the moved lines
/// are hidden: a failed hand-over only leaves them to TTL, so it is logged,
/// not returned.
pub async fn migrate_cart(
    store: &impl CartStore,
    clock: &impl Clock,
    cleanup: Option<&impl LineCleanup>,
    anonymous: &CartOwner,
    user: &CartOwner,
) -> Result<Vec<CartLine>, CartError> {
    let merged = merge_carts(store, clock, anonymous, user).await?;
    if !merged.moved.is_empty() {
        match cleanup {
            None => tracing::error!("no cleanup queue configured; migrated lines are left to TTL"),
            Some(cleanup) => {
                if let Err(e) = cleanup.hand_over(&merged.moved).await {
                    tracing::error!(error = %e, "cleanup messages not sent; migrated lines are left to TTL");
                }
            }
        }
    }
    Ok(merged.cart)
}

/// Moves every live anonymous line into the user's cart: both carts read,
/// every merged line written in one transaction (per 49 lines), each write
/// conditional on the versions read; a lost race reads again (and finds the
/// lines a concurrent migration moved already migrated).
pub async fn merge_carts(
    store: &impl CartStore,
    clock: &impl Clock,
    anonymous: &CartOwner,
    user: &CartOwner,
) -> Result<Merged, CartError> {
    for _ in 0..WRITE_ATTEMPTS {
        let now = clock.now();
        // The anonymous cart first: if it shows a line migrated, the user's
        // cart read after it holds the merge (one transaction wrote both).
        // Read together, a stale user cart could come back with the merge missing.
        let anonymous_lines = store.cart_lines(anonymous).await?;
        let user_lines = store.cart_lines(user).await?;
        let mut cart: BTreeMap<ProductId, CartLine> =
            user_lines.iter().filter(|l| l.is_live(now)).map(|l| (l.product_id.clone(), l.clone())).collect();
        // Lines already moved to this user but still stored (an earlier chunk
        // of this migration, a concurrent one, or one whose cleanup message
        // was lost) are handed to the cleanup again: its delete is
        // conditional on the version, so a duplicate deletes nothing twice.
        let mut moved: Vec<MovedLine> = anonymous_lines
            .iter()
            .filter(|l| l.migrated_to.as_ref() == Some(user))
            .map(|l| MovedLine { cart: anonymous.clone(), product_id: l.product_id.clone(), version: l.version })
            .collect();
        let moves: Vec<LineMove> = anonymous_lines
            .into_iter()
            .filter(|l| l.is_live(now))
            .map(|line| {
                let user_line = user_lines.iter().find(|l| l.product_id == line.product_id);
                LineMove {
                    merged: merged_line(&line, user_line, user, now),
                    user_version: user_line.map(|l| l.version),
                    anonymous: line,
                }
            })
            .collect();
        match store.migrate_lines(anonymous, user, &moves).await {
            Ok(()) => {
                for LineMove { anonymous: line, merged, .. } in moves {
                    moved.push(MovedLine {
                        cart: anonymous.clone(),
                        product_id: line.product_id,
                        version: line.version + 1,
                    });
                    cart.insert(merged.product_id.clone(), merged);
                }
                return Ok(Merged { cart: cart.into_values().collect(), moved });
            }
            // Someone changed a line of either cart: look again.
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(CartError::Busy)
}
