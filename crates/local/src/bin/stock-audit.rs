//! `stock-audit`: checks the stock invariant over the whole table and lists
//! every product that breaks it (exit status 1 if any).
//!
//! Against the local stack: reads `.local/stack.json` (or SHOP_STACK_FILE).
//! Against AWS: `stock-audit --table <name>` with the usual AWS settings.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let store = match args.iter().position(|a| a == "--table").and_then(|i| args.get(i + 1)) {
        Some(table) => {
            let sdk = aws_config::load_from_env().await;
            shop::store::Store::new(aws_sdk_dynamodb::Client::new(&sdk), table.clone())
        }
        None => match shop_local::stack::local_store().await {
            Ok(store) => store,
            Err(e) => {
                eprintln!("stock-audit: {e}");
                return ExitCode::from(2);
            }
        },
    };
    match shop::audit::audit_stock(&store).await {
        Ok(report) => {
            for v in &report.violations {
                println!("VIOLATION {}: {}", v.product_id, v.problem);
            }
            println!(
                "checked {} products and {} pending orders: {}",
                report.products_checked,
                report.pending_orders,
                if report.violations.is_empty() {
                    "stock invariant holds".to_owned()
                } else {
                    format!("{} violations", report.violations.len())
                }
            );
            if report.violations.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("stock-audit: {e}");
            ExitCode::from(2)
        }
    }
}
