//! The catalog's rules: a product as shoppers see it and its stock counters.

use serde::{Deserialize, Serialize};

use super::DomainError;

/// Largest single restock delta (either way).
pub const MAX_RESTOCK_DELTA: i64 = 1_000_000;

/// A catalog entry (field names follow the AWS sample's frontend contract).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub product_id: String,
    pub category: String,
    pub name: String,
    pub description: String,
    /// Price in cents.
    pub price: u64,
    pub created_date: String,
    pub modified_date: String,
    pub package: Package,
    pub pictures: Vec<String>,
    pub tags: Vec<String>,
    /// How the stock is split (absent: one stock item, today's layout).
    #[serde(default, skip_serializing_if = "super::StockShards::is_single")]
    pub stock_shards: super::StockShards,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Package {
    pub height: u32,
    pub length: u32,
    pub weight: u32,
    pub width: u32,
}

/// A product's stock counters. Every change is a conditional write; the sum
/// `available + reserved + sold` always equals `added`, all stock ever added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StockLevels {
    pub available: i64,
    pub reserved: i64,
    pub sold: i64,
    pub added: i64,
}

impl StockLevels {
    /// What is wrong with these counters, if anything.
    pub fn violation(&self) -> Option<String> {
        if self.available < 0 || self.reserved < 0 || self.sold < 0 || self.added < 0 {
            return Some(format!("negative counter: {self:?}"));
        }
        if self.available + self.reserved + self.sold != self.added {
            return Some(format!(
                "available {} + reserved {} + sold {} != added {}",
                self.available, self.reserved, self.sold, self.added
            ));
        }
        None
    }
}

pub fn validate_restock_delta(delta: i64) -> Result<i64, DomainError> {
    if delta == 0 || delta.abs() > MAX_RESTOCK_DELTA {
        Err(DomainError::InvalidRestockDelta)
    } else {
        Ok(delta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_invariant_is_checked() {
        let ok = StockLevels { available: 5, reserved: 2, sold: 3, added: 10 };
        assert_eq!(ok.violation(), None);
        assert!(StockLevels { available: 5, reserved: 2, sold: 3, added: 11 }.violation().is_some());
        assert!(StockLevels { available: -1, reserved: 1, sold: 0, added: 0 }.violation().is_some());
    }

    #[test]
    fn restock_deltas_are_checked() {
        assert!(validate_restock_delta(0).is_err());
        assert!(validate_restock_delta(-5).is_ok());
        assert!(validate_restock_delta(MAX_RESTOCK_DELTA + 1).is_err());
    }
}
