//! The cart's rules: what a line holds, how a change or a merge moves its
//! quantity, when it expires and what it counts towards a product's total.

use super::{CartOwner, DomainError, Product, ProductId};

/// Anonymous cart lines live one day after their last change.
pub const ANONYMOUS_CART_TTL_SECS: i64 = 24 * 60 * 60;
/// Signed-in cart lines live seven days after their last change.
pub const USER_CART_TTL_SECS: i64 = 7 * 24 * 60 * 60;
/// Units one cart line may hold: keeps a typo (or an attacker) from parking the stock.
pub const MAX_LINE_QUANTITY: i64 = 100;
/// How many request keys a cart line remembers.
pub const RECENT_REQUESTS_KEPT: usize = 10;

/// One product in one cart.
#[derive(Debug, Clone, PartialEq)]
pub struct CartLine {
    pub product_id: ProductId,
    pub quantity: i64,
    /// The product as it was when the line was last written.
    pub product: Product,
    pub expires_at: i64,
    /// Bumped on every write; every write is conditional on the version read.
    pub version: u64,
    /// Set when the line was merged into a user's cart; the cleanup worker deletes it.
    pub migrated_to: Option<CartOwner>,
    /// The pending order this line was checked out into; a second checkout of
    /// the unchanged cart finds it and returns that order.
    pub checkout_order: Option<super::OrderId>,
    /// The last changes applied to this line, newest last, each as its
    /// idempotency key and delta (see [`remembered_request`]): a client
    /// retrying `POST /cart` with the same key changes nothing twice, and the
    /// same key sent with another delta is known for what it is.
    pub recent_requests: Vec<String>,
}

impl CartLine {
    pub fn state(&self) -> LineState {
        LineState { quantity: self.quantity, expiration_time: self.expires_at, migrated: self.migrated_to.is_some() }
    }

    pub fn is_live(&self, now: i64) -> bool {
        self.state().is_live(now)
    }
}

/// How a shopper changes a line: by a delta (`POST /cart`, with the request's
/// idempotency key if it sent one) or to a target (`PUT`, idempotent by itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineChange<'a> {
    By { delta: i64, request: Option<&'a str> },
    To(i64),
}

/// A change as the line remembers it: `key:delta` (a key holds no `:`).
pub fn remembered_request(key: &str, delta: i64) -> String {
    format!("{key}:{delta}")
}

/// The delta the line remembers for `key`: `Some(None)` for an entry written
/// before deltas were remembered (the key alone), `None` if the key is new.
fn remembered_delta(recent_requests: &[String], key: &str) -> Option<Option<i64>> {
    recent_requests.iter().find_map(|entry| match entry.split_once(':') {
        Some((k, delta)) if k == key => Some(delta.parse().ok()),
        None if entry == key => Some(None),
        _ => None,
    })
}

/// What a change does to a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineDecision {
    /// A retry of a change already applied: the same answer, no second change.
    AlreadyApplied { quantity: i64 },
    /// The key was used for a change of another delta: nothing changes.
    KeyUsedForAnother { delta: i64 },
    /// Write the line with this quantity (0 removes it) and these remembered requests.
    Write { quantity: i64, recent_requests: Vec<String> },
}

/// Applies `change` to the line as it stands (`None`: absent, expired or migrated).
pub fn decide_line_change(live: Option<&CartLine>, change: LineChange<'_>) -> Result<LineDecision, DomainError> {
    let current = live.map_or(0, |l| l.quantity);
    let mut recent_requests = live.map(|l| l.recent_requests.clone()).unwrap_or_default();
    let quantity = match change {
        LineChange::By { delta, request: Some(key) } => match remembered_delta(&recent_requests, key) {
            Some(Some(first)) if first != delta => return Ok(LineDecision::KeyUsedForAnother { delta: first }),
            Some(_) => return Ok(LineDecision::AlreadyApplied { quantity: current }),
            None => {
                recent_requests.push(remembered_request(key, delta));
                apply_delta(current, delta)?
            }
        },
        LineChange::By { delta, request: None } => apply_delta(current, delta)?,
        LineChange::To(target) => target,
    };
    // Every versioned write keeps the last keys only (an addition appends
    // without trimming; the next write like this one trims).
    let excess = recent_requests.len().saturating_sub(RECENT_REQUESTS_KEPT);
    recent_requests.drain(..excess);
    Ok(LineDecision::Write { quantity, recent_requests })
}

/// The user's line after an anonymous line is merged into it (`user_line` as
/// stored, live or not). The user's line is written at its next version.
pub fn merged_line(anonymous: &CartLine, user_line: Option<&CartLine>, user: &CartOwner, now: i64) -> CartLine {
    let user_quantity = user_line.filter(|l| l.is_live(now)).map_or(0, |l| l.quantity);
    CartLine {
        product_id: anonymous.product_id.clone(),
        quantity: merge_quantities(user_quantity, anonymous.quantity),
        product: anonymous.product.clone(),
        expires_at: user.line_expiration(now),
        version: user_line.map_or(1, |l| l.version + 1),
        migrated_to: None,
        checkout_order: None,
        recent_requests: Vec::new(),
    }
}

/// A `POST /cart` change: `quantity` units more (or fewer, when negative).
pub fn validate_delta(delta: i64) -> Result<i64, DomainError> {
    match delta {
        0 => Err(DomainError::ZeroQuantity),
        d if d.abs() > MAX_LINE_QUANTITY => Err(DomainError::QuantityOutOfRange),
        d => Ok(d),
    }
}

/// A `PUT /cart/{id}` target quantity; 0 removes the line.
pub fn validate_target(quantity: i64) -> Result<i64, DomainError> {
    if (0..=MAX_LINE_QUANTITY).contains(&quantity) {
        Ok(quantity)
    } else {
        Err(DomainError::QuantityOutOfRange)
    }
}

/// Applies a delta to a line: never below zero, never above the line limit.
pub fn apply_delta(current: i64, delta: i64) -> Result<i64, DomainError> {
    let next = (current + delta).max(0);
    if next > MAX_LINE_QUANTITY {
        Err(DomainError::LineTooLarge)
    } else {
        Ok(next)
    }
}

/// Quantity after merging an anonymous line into the user's line. Capped at the
/// line limit rather than failing: a login must never lose the user's cart.
pub fn merge_quantities(user_line: i64, anonymous_line: i64) -> i64 {
    (user_line + anonymous_line).min(MAX_LINE_QUANTITY)
}

/// The state of a stored cart line that decides whether a shopper sees it and
/// what it adds to the product's cart total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineState {
    pub quantity: i64,
    pub expiration_time: i64,
    pub migrated: bool,
}

impl LineState {
    /// A shopper sees (and migration moves) only lines that are neither expired
    /// (whether or not DynamoDB's TTL has deleted them yet) nor already migrated.
    pub fn is_live(&self, now: i64) -> bool {
        self.quantity > 0 && !self.migrated && self.expiration_time > now
    }

    /// Units this line adds to the product's cart total. A migrated line counts
    /// zero: its units now sit in the user's line. Expired lines still count
    /// until TTL deletes them (the stream then reports the removal).
    pub fn counted_units(&self) -> i64 {
        if self.migrated {
            0
        } else {
            self.quantity.max(0)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::Package;

    pub(crate) fn product(id: &str, price: u64) -> Product {
        Product {
            product_id: id.into(),
            category: "c".into(),
            name: format!("Product {id}"),
            description: String::new(),
            price,
            created_date: String::new(),
            modified_date: String::new(),
            package: Package { height: 1, length: 1, weight: 1, width: 1 },
            pictures: Vec::new(),
            tags: Vec::new(),
            stock_shards: Default::default(),
        }
    }

    pub(crate) fn cart_line(id: &str, quantity: i64, expires_at: i64) -> CartLine {
        CartLine {
            product_id: ProductId::parse(id).unwrap(),
            quantity,
            product: product(id, 100),
            expires_at,
            version: 1,
            migrated_to: None,
            checkout_order: None,
            recent_requests: Vec::new(),
        }
    }

    fn state(quantity: i64, expiration_time: i64, migrated: bool) -> LineState {
        LineState { quantity, expiration_time, migrated }
    }

    #[test]
    fn deltas_never_go_below_zero_or_above_the_limit() {
        assert_eq!(apply_delta(1, -1), Ok(0));
        assert_eq!(apply_delta(0, -1), Ok(0));
        assert_eq!(apply_delta(2, -5), Ok(0));
        assert_eq!(apply_delta(2, 3), Ok(5));
        assert_eq!(apply_delta(99, 2), Err(DomainError::LineTooLarge));
        assert_eq!(validate_delta(0), Err(DomainError::ZeroQuantity));
        assert_eq!(validate_delta(-101), Err(DomainError::QuantityOutOfRange));
        assert_eq!(validate_delta(-1), Ok(-1));
        assert_eq!(validate_target(0), Ok(0));
        assert_eq!(validate_target(-1), Err(DomainError::QuantityOutOfRange));
        assert_eq!(validate_target(101), Err(DomainError::QuantityOutOfRange));
    }

    #[test]
    fn merging_adds_and_caps() {
        assert_eq!(merge_quantities(2, 3), 5);
        assert_eq!(merge_quantities(0, 4), 4);
        assert_eq!(merge_quantities(90, 20), MAX_LINE_QUANTITY);
    }

    #[test]
    fn expired_or_migrated_lines_are_not_live() {
        assert!(state(1, 101, false).is_live(100));
        assert!(!state(1, 100, false).is_live(100));
        assert!(!state(1, 101, true).is_live(100));
        assert!(!state(0, 101, false).is_live(100));
        assert_eq!(state(3, 0, false).counted_units(), 3);
        assert_eq!(state(3, 0, true).counted_units(), 0);
    }

    #[test]
    fn a_repeated_request_key_changes_nothing_twice() {
        let mut line = cart_line("p1", 2, 1_000);
        let first = decide_line_change(Some(&line), LineChange::By { delta: 3, request: Some("k1") }).unwrap();
        let LineDecision::Write { quantity, recent_requests } = first else { panic!("{first:?}") };
        assert_eq!((quantity, recent_requests.as_slice()), (5, ["k1:3".to_owned()].as_slice()));
        line.quantity = quantity;
        line.recent_requests = recent_requests;
        let retry = decide_line_change(Some(&line), LineChange::By { delta: 3, request: Some("k1") });
        assert_eq!(retry, Ok(LineDecision::AlreadyApplied { quantity: 5 }));
        // A target keeps the remembered keys; an absent line starts from zero.
        let to = decide_line_change(Some(&line), LineChange::To(1)).unwrap();
        assert_eq!(to, LineDecision::Write { quantity: 1, recent_requests: vec!["k1:3".into()] });
        let fresh = decide_line_change(None, LineChange::By { delta: -1, request: None }).unwrap();
        assert_eq!(fresh, LineDecision::Write { quantity: 0, recent_requests: vec![] });
    }

    #[test]
    fn a_target_also_trims_the_keys_additions_appended() {
        let mut line = cart_line("p1", 30, 1_000);
        line.recent_requests = (0..25).map(|i| format!("k{i}")).collect();
        let LineDecision::Write { recent_requests, .. } = decide_line_change(Some(&line), LineChange::To(1)).unwrap()
        else {
            panic!()
        };
        assert_eq!(recent_requests.len(), RECENT_REQUESTS_KEPT);
        assert_eq!(recent_requests.last().map(String::as_str), Some("k24"));
    }

    #[test]
    fn only_the_last_request_keys_are_remembered() {
        let mut line = cart_line("p1", 1, 1_000);
        line.recent_requests = (0..RECENT_REQUESTS_KEPT).map(|i| format!("k{i}")).collect();
        let next = decide_line_change(Some(&line), LineChange::By { delta: 1, request: Some("new") }).unwrap();
        let LineDecision::Write { recent_requests, .. } = next else { panic!() };
        assert_eq!(recent_requests.len(), RECENT_REQUESTS_KEPT);
        assert_eq!((recent_requests[0].as_str(), recent_requests.last().unwrap().as_str()), ("k1", "new:1"));
    }

    #[test]
    fn a_key_sent_again_with_another_delta_is_another_request() {
        let mut line = cart_line("p1", 2, 1_000);
        line.recent_requests = vec!["k1:3".into(), "old".into()];
        let other = decide_line_change(Some(&line), LineChange::By { delta: 1, request: Some("k1") });
        assert_eq!(other, Ok(LineDecision::KeyUsedForAnother { delta: 3 }));
        let retry = decide_line_change(Some(&line), LineChange::By { delta: 3, request: Some("k1") });
        assert_eq!(retry, Ok(LineDecision::AlreadyApplied { quantity: 2 }));
        // A key remembered before deltas were: any retry of it replays.
        let old = decide_line_change(Some(&line), LineChange::By { delta: 7, request: Some("old") });
        assert_eq!(old, Ok(LineDecision::AlreadyApplied { quantity: 2 }));
        // A key is not a prefix of another.
        let longer = decide_line_change(Some(&line), LineChange::By { delta: 1, request: Some("k") });
        assert!(matches!(longer, Ok(LineDecision::Write { quantity: 3, .. })), "{longer:?}");
    }

    #[test]
    fn a_merged_line_adds_to_a_live_user_line_only() {
        let user = CartOwner::user("u1").unwrap();
        let anonymous = cart_line("p1", 3, 500);
        let mut stored = cart_line("p1", 2, 500);
        stored.version = 4;
        let merged = merged_line(&anonymous, Some(&stored), &user, 100);
        assert_eq!((merged.quantity, merged.version, merged.expires_at), (5, 5, 100 + USER_CART_TTL_SECS));
        // An expired user line is replaced, at its next version (the write is conditional on it).
        let merged = merged_line(&anonymous, Some(&stored), &user, 600);
        assert_eq!((merged.quantity, merged.version), (3, 5));
        assert_eq!(merged_line(&anonymous, None, &user, 100).version, 1);
    }
}
