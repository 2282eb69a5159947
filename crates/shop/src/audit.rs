//! The stock invariant, checked over the whole table: for every product
//! `available + reserved + sold == added`, no counter is negative, and the
//! reserved units equal what the orders awaiting payment hold.

use std::collections::HashMap;

use serde::Serialize;

use crate::store::{Store, StoreError};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    pub product_id: String,
    pub problem: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditReport {
    pub products_checked: usize,
    pub pending_orders: usize,
    pub violations: Vec<Violation>,
}

/// Reads every stock item and every pending order. Meant for quiet moments:
/// on AWS the indexes it reads lag the table by a moment.
pub async fn audit_stock(store: &Store) -> Result<AuditReport, StoreError> {
    let stocks = store.all_stock().await?;
    let pending = store.pending_orders().await?;
    let mut held: HashMap<&str, i64> = HashMap::new();
    for order in &pending {
        for line in &order.lines {
            *held.entry(line.product_id.as_str()).or_default() += line.quantity;
        }
    }
    let mut violations = Vec::new();
    for stock in &stocks {
        if let Some(problem) = stock.levels.violation() {
            violations.push(Violation { product_id: stock.product_id.clone(), problem });
        }
        let in_orders = held.get(stock.product_id.as_str()).copied().unwrap_or(0);
        if in_orders != stock.levels.reserved {
            violations.push(Violation {
                product_id: stock.product_id.clone(),
                problem: format!("reserved {} but pending orders hold {in_orders}", stock.levels.reserved),
            });
        }
    }
    Ok(AuditReport { products_checked: stocks.len(), pending_orders: pending.len(), violations })
}
