//! `sale-shards`: the hot-product sale of `make bench-sale`. Starts its own
//! local stack (or uses the one in SHOP_STACK_FILE) and sells UNITS units
//! (default 100) to BUYERS buyers (default 200) with the stock in 1, 2, 4 and
//! 8 shards, each shard's partition taking PARTITION_WCU write units a second
//! (default 8: low enough that one shard is throttled well below the
//! emulator's own ceiling) and each transaction holding its items TRANSACTION_MS
//! (default 10); then with 8 shards and no contention, the emulator's own
//! ceiling. Prints the table and the ratio per doubling.
//!
//! Then the wide sale: WIDE_BUYERS buyers (default 240) over WIDE_PRODUCTS
//! products (default 48), every product and index partition taking
//! PARTITION_WCU, on two stacks of its own: index lists one key value each
//! (`IndexPartitions=1`, the layout before the spread) and the template's
//! spread. Writes target/bench/sale-shards.json.

use std::path::Path;
use std::process::ExitCode;

use shop_bench::shard_sale::{run, wide_sale, SaleRun, ShardSale, WideRun};
use shop_local::stack::env_or;

#[tokio::main]
async fn main() -> ExitCode {
    let sale = ShardSale {
        buyers: env_or("BUYERS", 200),
        units: env_or("UNITS", 100),
        partition_wcu: env_or("PARTITION_WCU", 8.0),
        transaction_ms: env_or("TRANSACTION_MS", 10.0),
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (_stack, coordinates) = match shop_bench::sale_stack() {
        Ok(found) => found,
        Err(e) => {
            eprintln!("sale-shards: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "hot-product sale: {} buyers, {} units, {} write units/s per partition, transactions held {} ms",
        sale.buyers, sale.units, sale.partition_wcu, sale.transaction_ms
    );
    let plan = [(1, true), (2, true), (4, true), (8, true), (8, false)];
    let runs = match run(&coordinates, &sale, &plan).await {
        Ok(runs) => runs,
        Err(e) => {
            eprintln!("sale-shards: {e}");
            return ExitCode::from(2);
        }
    };
    print_table(&runs);

    let (products, buyers) = (env_or("WIDE_PRODUCTS", 48usize), env_or("WIDE_BUYERS", 240usize));
    let wide = ShardSale { buyers, ..sale };
    println!(
        "\nwide sale: {buyers} buyers over {products} products, {} write units/s per product and index partition",
        wide.partition_wcu
    );
    let mut wide_runs = Vec::new();
    for partitions in ["1", &shop::outbound::dynamodb::IndexPartitions::DEFAULT.count().to_string()] {
        let overrides = format!("IndexPartitions={partitions}");
        let outcome = match shop_bench::own_stack(&[("SHOP_PARAMETER_OVERRIDES", &overrides)]) {
            Ok((_stack, coordinates)) => wide_sale(&coordinates, &wide, products).await.map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(run) => wide_runs.push(run),
            Err(e) => {
                eprintln!("sale-shards: wide sale: {e}");
                return ExitCode::from(2);
            }
        }
    }
    print_wide_table(&wide_runs);
    let out = root.join("target/bench");
    let _ = std::fs::create_dir_all(&out);
    let report = serde_json::json!({ "hotProduct": runs, "wide": wide_runs });
    let _ = std::fs::write(out.join("sale-shards.json"), serde_json::to_vec_pretty(&report).unwrap_or_default());
    let sound = runs.iter().all(|r| {
        r.oversold == 0
            && r.false_sold_outs == 0
            && r.invariant_holds
            && r.errors == 0
            && (r.buyers as i64) >= r.units
            && r.units_sold == r.units
    }) && wide_runs.iter().all(|r| r.errors == 0 && r.orders == r.buyers);
    if sound {
        ExitCode::SUCCESS
    } else {
        eprintln!("sale-shards: OVERSOLD, a false sold-out, an error, units left unsold or a wide-sale buyer without an order");
        ExitCode::FAILURE
    }
}

fn print_table(runs: &[SaleRun]) {
    println!("| shards | contention | checkouts/s | × previous | p50 / p99 ms | 503s | throttled (index) / conflicts | sold / units | oversold | false sold-outs |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut previous: Option<f64> = None;
    for r in runs {
        let ratio = match previous {
            Some(p) if r.contended && p > 0.0 => format!("{:.2}", r.checkouts_per_sec / p),
            _ => "".into(),
        };
        println!(
            "| {} | {} | {:.1} | {} | {:.0} / {:.0} | {} | {} ({}) / {} | {} / {} | {} | {} |",
            r.shards,
            if r.contended { "on" } else { "off (ceiling)" },
            r.checkouts_per_sec,
            ratio,
            r.checkout_p50_ms,
            r.checkout_p99_ms,
            r.retry_laters,
            r.throttled,
            r.index_throttled,
            r.conflicts,
            r.units_sold,
            r.units,
            r.oversold,
            r.false_sold_outs
        );
        previous = r.contended.then_some(r.checkouts_per_sec);
    }
}

fn print_wide_table(runs: &[WideRun]) {
    println!("| index partitions | checkouts/s | × one partition | p50 / p99 ms | 503s | throttled (index) | orders / buyers |");
    println!("|---|---|---|---|---|---|---|");
    let first = runs.first().map(|r| r.checkouts_per_sec).unwrap_or_default();
    for r in runs {
        println!(
            "| {} | {:.1} | {:.2} | {:.0} / {:.0} | {} | {} ({}) | {} / {} |",
            r.index_partitions,
            r.checkouts_per_sec,
            if first > 0.0 { r.checkouts_per_sec / first } else { 0.0 },
            r.checkout_p50_ms,
            r.checkout_p99_ms,
            r.retry_laters,
            r.throttled,
            r.index_throttled,
            r.orders,
            r.buyers
        );
    }
}
