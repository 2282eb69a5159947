//! `flash-sale`: the benchmark behind `make bench`. Starts its own local stack
//! (or uses the one in SHOP_STACK_FILE), runs a flash sale of UNITS units to
//! BUYERS concurrent buyers (defaults 50 and 500), prints the figures and
//! writes them to target/bench/flash-sale.json.

use std::path::Path;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let sale = shop_bench::flash_sale::FlashSale {
        buyers: shop_local::stack::env_or("BUYERS", 500),
        units: shop_local::stack::env_or("UNITS", 50),
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (_stack, coordinates) = match shop_bench::sale_stack() {
        Ok(found) => found,
        Err(e) => {
            eprintln!("flash-sale: {e}");
            return ExitCode::from(2);
        }
    };
    println!("flash sale: {} buyers, {} units ...", sale.buyers, sale.units);
    let report = match shop_bench::flash_sale::run(&coordinates, &sale).await {
        Ok(report) => report,
        Err(e) => {
            eprintln!("flash-sale: {e}");
            return ExitCode::from(2);
        }
    };
    println!("| figure | value |\n|---|---|");
    println!("| buyers / units | {} / {} |", report.buyers, report.units);
    println!("| orders created / paid | {} / {} |", report.orders_created, report.orders_paid);
    println!("| refused (409, sold out) / errors | {} / {} |", report.refused_short, report.errors);
    println!("| units sold | {} |", report.units_sold);
    println!("| oversold | {} |", report.oversold);
    println!("| stock invariant holds | {} |", report.stock_invariant_holds);
    println!("| sale duration | {:.2} s |", report.elapsed_secs);
    println!("| paid orders per second | {:.1} |", report.orders_per_sec);
    println!("| checkouts per second | {:.1} |", report.checkouts_per_sec);
    println!("| checkout latency p50 / p99 | {:.0} ms / {:.0} ms |", report.checkout_p50_ms, report.checkout_p99_ms);
    let out = root.join("target/bench");
    let _ = std::fs::create_dir_all(&out);
    let _ = std::fs::write(out.join("flash-sale.json"), serde_json::to_vec_pretty(&report).unwrap_or_default());
    if report.oversold == 0 && report.stock_invariant_holds && report.units_sold <= report.units {
        ExitCode::SUCCESS
    } else {
        eprintln!("flash-sale: OVERSOLD or stock invariant broken");
        ExitCode::FAILURE
    }
}
