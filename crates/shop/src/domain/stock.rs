//! A hot product's stock split into shards: each shard is its own counters
//! (in its own partition, so it takes its own share of write throughput), and
//! the product's stock is their sum. These are the rules of where units are
//! taken from, put back and moved; the invariant holds per shard.

use serde::{Deserialize, Serialize};

use super::{DomainError, StockLevels};

/// The most shards a product's stock may have.
pub const MAX_STOCK_SHARDS: u32 = 64;

/// How a product's stock is split: `active` shards take checkouts and
/// restocks; `items` shard items exist (shrinking retires the highest ones:
/// they keep their reservations and sales, stay in the sum and are still
/// sold from when the active ones run short, so no unit is stranded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockShards {
    pub active: u32,
    pub items: u32,
}

impl Default for StockShards {
    fn default() -> Self {
        Self { active: 1, items: 1 }
    }
}

impl StockShards {
    /// Today's layout: one stock item.
    pub fn is_single(&self) -> bool {
        self.items <= 1
    }

    /// The split after an admin asks for `count` active shards.
    pub fn resharded(self, count: u32) -> Result<Self, DomainError> {
        if !(1..=MAX_STOCK_SHARDS).contains(&count) {
            return Err(DomainError::InvalidShardCount);
        }
        Ok(Self { active: count, items: self.items.max(count) })
    }
}

/// Units of one order line taken from one shard: where a release puts them back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockTake {
    pub shard: u32,
    pub units: i64,
}

/// Where a line's `units` come from, given each shard's available units
/// (index: shard): one shard that holds them all if there is one (the first
/// from `start`, so that concurrent checkouts spread over the shards), else
/// the fewest shards, fullest first. `None` when all together hold too few.
pub fn plan_takes(units: i64, available: &[i64], start: usize) -> Option<Vec<StockTake>> {
    let n = available.len();
    if n == 0 || units <= 0 {
        return None;
    }
    if let Some(shard) = (0..n).map(|i| (start + i) % n).find(|s| available[*s] >= units) {
        return Some(vec![StockTake { shard: shard as u32, units }]);
    }
    let mut fullest: Vec<usize> = (0..n).filter(|s| available[*s] > 0).collect();
    fullest.sort_by_key(|s| std::cmp::Reverse(available[*s]));
    let mut left = units;
    let mut takes = Vec::new();
    for shard in fullest {
        let take = left.min(available[shard]);
        takes.push(StockTake { shard: shard as u32, units: take });
        left -= take;
        if left == 0 {
            return Some(takes);
        }
    }
    None
}

/// A restock of `delta` units spread over the `active` shards, as evenly as
/// whole units allow (the first shards take the remainder).
pub fn spread(delta: i64, active: u32) -> Vec<StockTake> {
    let active = i64::from(active.max(1));
    (0..active)
        .map(|shard| StockTake { shard: shard as u32, units: delta / active + i64::from(shard < delta % active) })
        .filter(|t| t.units > 0)
        .collect()
}

/// Moves of available units, `(from, to, units)`, that leave the active
/// shards even and the retired ones (`shard >= active`) empty.
pub fn rebalance(available: &[i64], active: u32) -> Vec<(u32, u32, i64)> {
    let active = (active as usize).clamp(1, available.len().max(1));
    let total: i64 = available.iter().sum();
    let target = |shard: usize| -> i64 {
        if shard >= active {
            0
        } else {
            total / active as i64 + i64::from((shard as i64) < total % active as i64)
        }
    };
    let mut surplus: Vec<(usize, i64)> =
        (0..available.len()).filter(|s| available[*s] > target(*s)).map(|s| (s, available[s] - target(s))).collect();
    let mut moves = Vec::new();
    for shard in (0..available.len()).filter(|s| available[*s] < target(*s)) {
        let mut need = target(shard) - available[shard];
        for (from, extra) in surplus.iter_mut().filter(|(_, e)| *e > 0) {
            let units = need.min(*extra);
            moves.push((*from as u32, shard as u32, units));
            *extra -= units;
            need -= units;
            if need == 0 {
                break;
            }
        }
    }
    moves
}

/// A product's stock: the sum of its shards' counters.
pub fn total_stock(shards: &[StockLevels]) -> StockLevels {
    shards.iter().fold(StockLevels::default(), |sum, s| StockLevels {
        available: sum.available + s.available,
        reserved: sum.reserved + s.reserved,
        sold: sum.sold + s.sold,
        added: sum.added + s.added,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn takes(list: &[(u32, i64)]) -> Vec<StockTake> {
        list.iter().map(|(shard, units)| StockTake { shard: *shard, units: *units }).collect()
    }

    #[test]
    fn a_line_takes_from_one_shard_from_its_start_then_the_fewest_fullest() {
        assert_eq!(plan_takes(2, &[5, 5, 5, 5], 2), Some(takes(&[(2, 2)])));
        assert_eq!(plan_takes(2, &[5, 0, 1, 5], 1), Some(takes(&[(3, 2)])), "the next shard that holds it all");
        assert_eq!(plan_takes(6, &[3, 1, 4, 0], 0), Some(takes(&[(2, 4), (0, 2)])), "two shards, fullest first");
        assert_eq!(plan_takes(9, &[3, 1, 4, 0], 0), None, "eight in all: short, truly");
        assert_eq!(plan_takes(1, &[0, 0, 0, 1], 0), Some(takes(&[(3, 1)])), "the last unit anywhere is found");
    }

    #[test]
    fn restocks_spread_evenly_over_the_active_shards() {
        assert_eq!(spread(10, 4), takes(&[(0, 3), (1, 3), (2, 2), (3, 2)]));
        assert_eq!(spread(2, 4), takes(&[(0, 1), (1, 1)]));
        assert_eq!(spread(7, 1), takes(&[(0, 7)]));
    }

    #[test]
    fn rebalancing_evens_the_active_shards_and_empties_the_retired_ones() {
        let moved = |available: &[i64], active| {
            let mut after = available.to_vec();
            for (from, to, units) in rebalance(available, active) {
                after[from as usize] -= units;
                after[to as usize] += units;
            }
            after
        };
        assert_eq!(moved(&[40, 0, 0, 0], 4), [10, 10, 10, 10]);
        assert_eq!(moved(&[3, 9, 0, 5], 2), [9, 8, 0, 0], "shards 2 and 3 retired");
        assert_eq!(moved(&[7], 1), [7]);
        let total = |v: &[i64]| v.iter().sum::<i64>();
        assert_eq!(total(&moved(&[1, 2, 30, 4, 5], 3)), 42, "no unit lost or invented");
    }

    #[test]
    fn shard_counts_are_bounded_and_never_drop_items() {
        let four = StockShards::default().resharded(4).unwrap();
        assert_eq!(four, StockShards { active: 4, items: 4 });
        assert_eq!(four.resharded(2).unwrap(), StockShards { active: 2, items: 4 });
        assert_eq!(four.resharded(0), Err(DomainError::InvalidShardCount));
        assert_eq!(four.resharded(MAX_STOCK_SHARDS + 1), Err(DomainError::InvalidShardCount));
    }

    #[test]
    fn the_product_stock_is_the_sum_of_its_shards() {
        let a = StockLevels { available: 3, reserved: 1, sold: 2, added: 6 };
        let b = StockLevels { available: 0, reserved: 2, sold: 1, added: 3 };
        assert_eq!(total_stock(&[a, b]), StockLevels { available: 3, reserved: 3, sold: 3, added: 9 });
    }
}
