//! `reconcile`: recomputes the per-product cart totals and the stock counters
//! from the carts and orders in the table, lists every drift (exit status 1 if
//! any), and with `--repair` rewrites the drifted counters.
//!
//! Against the local stack: reads `.local/stack.json` (or SHOP_STACK_FILE).
//! Against AWS: `reconcile --table <name> [--repair]` with the usual AWS settings.
//! `--json` prints the report as JSON.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    if let Some(unknown) = args.iter().enumerate().find_map(|(i, a)| {
        let table_value = i > 0 && args[i - 1] == "--table";
        (!table_value && !["--table", "--repair", "--json"].contains(&a.as_str())).then_some(a)
    }) {
        eprintln!("reconcile: unknown argument {unknown:?}; usage: reconcile [--table NAME] [--repair] [--json]");
        return ExitCode::from(2);
    }
    let store = match args.iter().position(|a| a == "--table").and_then(|i| args.get(i + 1)) {
        Some(table) => {
            let sdk = aws_config::load_from_env().await;
            match shop::app::config::index_partitions_from_env() {
                // As the deployed functions spread the index lists (their INDEX_PARTITIONS).
                Ok(partitions) => {
                    shop::outbound::dynamodb::Store::new(aws_sdk_dynamodb::Client::new(&sdk), table.clone(), partitions)
                }
                Err(e) => {
                    eprintln!("reconcile: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        None => match shop_local::stack::local_store().await {
            Ok(store) => store,
            Err(e) => {
                eprintln!("reconcile: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let report =
        match shop::outbound::dynamodb::reconcile::reconcile(&store, shop::clock::now_epoch_secs(), flag("--repair"))
            .await
        {
            Ok(report) => report,
            Err(e) => {
                eprintln!("reconcile: {e}");
                return ExitCode::from(2);
            }
        };
    if flag("--json") {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        for d in &report.drift {
            println!("DRIFT {}: {}", d.product_id, d.problem);
        }
        for id in &report.repaired {
            println!("REPAIRED {id}");
        }
        for id in &report.repair_conflicts {
            println!("CHANGED WHILE REPAIRING {id} (run again)");
        }
        println!(
            "checked {} products, {} cart lines and {} pending orders: {}",
            report.products_checked,
            report.cart_lines,
            report.pending_orders,
            if report.drift.is_empty() { "no drift".to_owned() } else { format!("{} drifted", report.drift.len()) }
        );
    }
    let clean = report.drift.is_empty() || (report.repair_conflicts.is_empty() && !report.repaired.is_empty());
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
