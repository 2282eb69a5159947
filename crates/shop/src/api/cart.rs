//! Cart endpoints: the anonymous (cookie) and signed-in carts, migration on
//! sign-in, and the admin's per-product cart totals.

use http::StatusCode;
use lambda_http::Request;
use serde::Deserialize;
use serde_json::{json, Map};

use super::{idempotency_key, ProductList, Reply, WRITE_ATTEMPTS};
use crate::domain::{apply_delta, merge_quantities, validate_delta, validate_target, CartOwner, ProductId};
use crate::http::{cart_cookie_owner, json_body, path_param, ApiError};
use crate::model::{CartLineItem, CartLineView, CleanupMessage};
use crate::store::StoreError;
use crate::{now_epoch_secs, App};

/// A cart line may not ask for more than is available: 409 with the amount.
/// (Only checkout reserves; this keeps shoppers from filling carts that can
/// never be bought.)
fn ensure_available(id: &ProductId, available: i64, wanted: i64) -> Result<(), ApiError> {
    if wanted <= available {
        return Ok(());
    }
    let mut details = Map::new();
    details.insert("productId".into(), json!(id));
    details.insert("available".into(), json!(available));
    Err(ApiError::Detailed { status: StatusCode::CONFLICT, message: format!("only {available} available"), details })
}

pub(super) async fn cart_view(app: &App, owner: &CartOwner) -> Result<Vec<CartLineView>, ApiError> {
    let now = now_epoch_secs();
    let lines = app.store.cart_lines(owner).await?;
    Ok(lines.into_iter().filter(|l| l.state().is_live(now)).map(CartLineView::from).collect())
}

pub(super) async fn get_cart(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let caller = app.caller(req).await?;
    let lines = cart_view(app, &caller.cart_owner()?).await?;
    Ok(Reply::for_caller(caller, ProductList { products: &lines, next_cursor: None }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddToCartBody {
    product_id: String,
    quantity: i64,
}

#[derive(Deserialize)]
struct SetQuantityBody {
    quantity: i64,
}

/// How a line changes: by a delta (POST, with the request's idempotency key
/// if it sent one) or to a target (PUT, idempotent by itself).
#[derive(Clone, Copy)]
enum LineChange<'a> {
    By(i64, Option<&'a str>),
    To(i64),
}

pub(super) async fn add_to_cart(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let body: AddToCartBody = json_body(req)?;
    let delta = validate_delta(body.quantity)?;
    let request_key = idempotency_key(req)?;
    let caller = app.caller(req).await?;
    let id = ProductId::parse(&body.product_id)?;
    let change = LineChange::By(delta, request_key.as_deref());
    let quantity = change_line(app, &caller.cart_owner()?, &id, change).await?;
    Ok(Reply::for_caller(caller, json!({ "productId": id, "quantity": quantity, "message": "product added to cart" })))
}

pub(super) async fn update_cart_line(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let raw_id = path_param(req, "product_id")?;
    let body: SetQuantityBody = json_body(req)?;
    let target = validate_target(body.quantity)?;
    let caller = app.caller(req).await?;
    let id = ProductId::parse(&raw_id)?;
    let quantity = change_line(app, &caller.cart_owner()?, &id, LineChange::To(target)).await?;
    Ok(Reply::for_caller(caller, json!({ "productId": id, "quantity": quantity, "message": "cart updated" })))
}

/// Read, compute, write-if-unchanged; retried when another request won the race.
/// The product, its stock and the line come in one read (and again after a
/// lost race). Returns the line's quantity afterwards.
async fn change_line(app: &App, owner: &CartOwner, id: &ProductId, change: LineChange<'_>) -> Result<i64, ApiError> {
    for _ in 0..WRITE_ATTEMPTS {
        let now = now_epoch_secs();
        let found = app.store.line_view(id, owner).await?;
        let product = found.product.ok_or_else(|| ApiError::NotFound(format!("product {id} not found")))?;
        let stored = found.own_line;
        // An expired or migrated line counts as empty; writing revives it.
        let live = stored.as_ref().filter(|l| l.state().is_live(now));
        let current = live.map_or(0, |l| l.quantity);
        let mut recent_requests = live.map(|l| l.recent_requests.clone()).unwrap_or_default();
        let next = match change {
            LineChange::By(_, Some(key)) if recent_requests.iter().any(|k| k == key) => {
                // A retry of a change already applied: the same answer, no second change.
                return Ok(current);
            }
            LineChange::By(delta, key) => {
                recent_requests.extend(key.map(str::to_owned));
                let excess = recent_requests.len().saturating_sub(crate::model::RECENT_REQUESTS_KEPT);
                recent_requests.drain(..excess);
                apply_delta(current, delta)?
            }
            LineChange::To(target) => target,
        };
        if next > current {
            ensure_available(id, found.stock.map_or(0, |s| s.available), next)?;
        }
        let written = match (&stored, next) {
            (None, 0) => Ok(()),
            (Some(line), 0) => app.store.delete_cart_line(&line.pk, &line.sk, line.version).await,
            (_, quantity) => {
                let line = CartLineItem {
                    pk: owner.partition_key(),
                    sk: id.cart_line_sort_key(),
                    product_id: id.to_string(),
                    quantity,
                    product_detail: product,
                    expiration_time: owner.line_expiration(now),
                    version: stored.as_ref().map_or(1, |l| l.version + 1),
                    migrated_to: None,
                    checkout_order: None,
                    recent_requests,
                };
                app.store.put_cart_line(&line, stored.as_ref().map(|l| l.version)).await
            }
        };
        match written {
            Ok(()) => return Ok(next),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict.into())
}

pub(super) async fn migrate_cart(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let identity = app.signed_in(req).await?;
    let user = CartOwner::user(&identity.sub)?;
    let lines = match cart_cookie_owner(req)? {
        Some(anonymous) => {
            let (moved, cart) = merge_cart(app, &anonymous, &user).await?;
            if !moved.is_empty() {
                hand_over_for_cleanup(app, &moved).await;
            }
            cart
        }
        None => cart_view(app, &user).await?,
    };
    Ok(Reply::ok(ProductList { products: &lines, next_cursor: None }))
}

/// Moves every live anonymous line into the user's cart: both carts read,
/// every merged line written in one transaction (per 49 lines), each
/// write conditional on the versions read; a lost race reads again (and finds
/// the lines a concurrent migration moved already migrated). Returns what the
/// cleanup worker must delete and the user's cart afterwards.
async fn merge_cart(
    app: &App,
    anonymous: &CartOwner,
    user: &CartOwner,
) -> Result<(Vec<CleanupMessage>, Vec<CartLineView>), ApiError> {
    for _ in 0..WRITE_ATTEMPTS {
        let now = now_epoch_secs();
        // The anonymous cart first: if it shows a line migrated, the user's
        // cart read after it holds the merge (one transaction wrote both).
        // Read together, a stale user cart could come back with the merge missing.
        let anonymous_lines = app.store.cart_lines(anonymous).await?;
        let user_lines = app.store.cart_lines(user).await?;
        let mut cart: std::collections::BTreeMap<String, CartLineItem> =
            user_lines.iter().filter(|l| l.state().is_live(now)).map(|l| (l.sk.clone(), l.clone())).collect();
        // Lines already moved to this user but still stored (an earlier chunk
        // of this migration, a concurrent one, or one whose cleanup message
        // was lost) are handed to the cleanup worker again: its delete is
        // conditional on the version, so a duplicate message deletes nothing twice.
        let user_pk = user.partition_key();
        let mut moved: Vec<CleanupMessage> = anonymous_lines
            .iter()
            .filter(|l| l.migrated_to.as_deref() == Some(user_pk.as_str()))
            .map(|l| CleanupMessage { pk: l.pk.clone(), sk: l.sk.clone(), version: l.version })
            .collect();
        let mut moves = Vec::new();
        for line in anonymous_lines.into_iter().filter(|l| l.state().is_live(now)) {
            let Some(id) = ProductId::from_key(&line.sk) else { continue };
            let user_line = user_lines.iter().find(|l| l.sk == line.sk);
            let user_quantity = user_line.filter(|l| l.state().is_live(now)).map_or(0, |l| l.quantity);
            let merged = CartLineItem {
                pk: user.partition_key(),
                sk: line.sk.clone(),
                product_id: id.to_string(),
                quantity: merge_quantities(user_quantity, line.quantity),
                product_detail: line.product_detail.clone(),
                expiration_time: user.line_expiration(now),
                version: user_line.map_or(1, |l| l.version + 1),
                migrated_to: None,
                checkout_order: None,
                recent_requests: Vec::new(),
            };
            moves.push((line, merged, user_line.map(|l| l.version)));
        }
        match app.store.migrate_lines(&moves).await {
            Ok(()) => {
                moved.extend(moves.iter().map(|(line, _, _)| CleanupMessage {
                    pk: line.pk.clone(),
                    sk: line.sk.clone(),
                    version: line.version + 1,
                }));
                cart.extend(moves.into_iter().map(|(_, merged, _)| (merged.sk.clone(), merged)));
                return Ok((moved, cart.into_values().map(CartLineView::from).collect()));
            }
            // Someone changed a line of either cart: look again.
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict.into())
}

/// The merge is already committed and the lines are hidden; a failure to queue
/// their deletion only leaves them for TTL, so it is logged, not returned.
async fn hand_over_for_cleanup(app: &App, moved: &[CleanupMessage]) {
    let Some(queue) = &app.cleanup_queue else {
        tracing::error!("CLEANUP_QUEUE_URL is not set; migrated lines are left to TTL");
        return;
    };
    if let Err(e) = queue.send(moved).await {
        tracing::error!(error = %e, "cleanup messages not sent; migrated lines are left to TTL");
    }
}

pub(super) async fn get_cart_total(app: &App, req: &Request) -> Result<Reply, ApiError> {
    app.admin(req).await?;
    let id = ProductId::parse(&path_param(req, "product_id")?)?;
    let found = app.store.product_total(&id).await?;
    if found.product.is_none() {
        return Err(ApiError::NotFound(format!("product {id} not found")));
    }
    Ok(Reply::ok(json!({ "product": id, "quantity": found.in_carts })))
}
