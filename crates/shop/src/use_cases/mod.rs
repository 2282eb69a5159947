//! The use cases: the shop's operations, each taking its ports (the store,
//! the payment provider, the clock) and answering domain values or its own
//! error. The HTTP layer and the workers call them; they never see HTTP.
//!
//! Catalog and order reads that only fetch and show go from the HTTP layer
//! to the store directly: there is no rule between them to keep here.

pub mod cart;
pub mod catalog;
pub mod checkout;
pub mod payment;
pub mod ports;
pub mod reviews;

#[cfg(test)]
mod tests;

pub use ports::{Clock, StoreError, SystemClock};

use std::future::Future;
use std::time::Duration;

/// Optimistic writes retried this often before the caller is told to retry.
const WRITE_ATTEMPTS: usize = 5;

/// A write DynamoDB found contended is sent this often in all.
pub const CONTENDED_ATTEMPTS: u32 = 6;
const BACKOFF_FIRST_MS: u64 = 10;
const BACKOFF_MOST_MS: u64 = 320;

/// Runs a store write, and sends it again while DynamoDB answers that it is
/// contended (a throttled partition, an item another transaction holds):
/// after a wait that doubles each time, up to a bound, half of it random so
/// that writers who collided do not collide again in step. Any other answer,
/// and contention past the last attempt, is returned as it is.
pub(crate) async fn through_contention<T, F, Fut>(mut write: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut attempt = 0;
    loop {
        match write().await {
            Err(StoreError::Contended) if attempt + 1 < CONTENDED_ATTEMPTS => {
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// The wait before attempt `attempt + 1`: between half and all of the doubled
/// ceiling.
fn backoff(attempt: u32) -> Duration {
    let ceiling = (BACKOFF_FIRST_MS << attempt.min(16)).min(BACKOFF_MOST_MS);
    Duration::from_millis(ceiling / 2 + fastrand::u64(0..=ceiling / 2))
}

#[cfg(test)]
mod backoff_tests {
    use super::*;

    #[test]
    fn waits_double_up_to_a_bound_half_of_them_random() {
        for attempt in 0..40 {
            let ceiling = (BACKOFF_FIRST_MS << attempt.min(16)).min(BACKOFF_MOST_MS);
            let waited = backoff(attempt).as_millis() as u64;
            assert!((ceiling / 2..=ceiling).contains(&waited), "attempt {attempt}: {waited} ms");
        }
    }
}
