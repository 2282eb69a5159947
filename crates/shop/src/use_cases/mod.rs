//! The use cases: the shop's operations, each taking its ports (the store,
//! the payment provider, the clock) and answering domain values or its own
//! error. The HTTP layer and the workers call them; they never see HTTP.
//!
//! Catalog and order reads that only fetch and show go from the HTTP layer
//! to the store directly: there is no rule between them to keep here.

pub mod cart;
pub mod checkout;
pub mod payment;
pub mod ports;
pub mod reviews;

#[cfg(test)]
mod review_tests;
#[cfg(test)]
mod tests;

pub use ports::{Clock, StoreError, SystemClock};

/// Optimistic writes retried this often before the caller is told to retry.
const WRITE_ATTEMPTS: usize = 5;
