//! `aws-calls`: the AWS API calls each endpoint makes, next to the fewest its
//! design needs. Starts a fresh local stack, walks every endpoint the way the
//! frontend and an admin do, reads the stack's per-route counts (an SDK
//! interceptor in the functions records every call), prints a Markdown table
//! and writes `target/bench/aws-calls.json`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use serde_json::{json, Value};
use shop_local::endpoint_tour::DESIGN_MINIMUM;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("aws-calls: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let binary = std::env::current_exe().map_err(|e| e.to_string())?.with_file_name("shop-local");
    let stack = shop_local::stack::spawn_child_stack(&binary, &root, &[]).map_err(|e| e.to_string())?;
    let coordinates = stack.coordinates().map_err(|e| e.to_string())?;
    let field = |name: &str| coordinates[name].as_str().unwrap_or_default().to_owned();
    let client = shop_local::endpoint_tour::Client::new(reqwest::Client::new(), field("apiUrl"))
        .with_webhook_secret(coordinates["stripeWebhookSecret"].as_str().map(str::to_owned));
    let sign_in = |user| shop_local::stack::demo_id_token(&coordinates, user);
    let customer = sign_in("customer").await.map_err(|e| e.to_string())?;
    let admin = sign_in("admin").await.map_err(|e| e.to_string())?;
    let (_, catalog, _) = client.call(reqwest::Method::GET, "/product", &[], None).await?;
    let ids: Vec<&str> =
        catalog["products"].as_array().into_iter().flatten().filter_map(|p| p["productId"].as_str()).collect();
    let products = (*ids.first().ok_or("empty catalog")?, *ids.get(1).ok_or("one product")?);
    shop_local::endpoint_tour::every_endpoint(&client, &customer, &admin, products).await?;
    let (_, counted, _) = client.call(reqwest::Method::GET, "/_local/aws-calls", &[], None).await?;
    drop(stack);
    report(&counted)?;
    unused_grants(&root, &counted)
}

/// Least privilege, as a hint: actions a function's policy grants that none
/// of its calls in this walk needed (some may serve paths the walk does not
/// take: a restock without a key, the expiry of an overdue order).
fn unused_grants(root: &Path, counted: &Value) -> Result<(), String> {
    let template = shop_local::template::Template::load(&root.join("template.yaml")).map_err(|e| e.to_string())?;
    for function in &template.functions {
        let used: Vec<&str> = counted["functions"][&function.handler]["permissions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["action"].as_str())
            .collect();
        if used.is_empty() {
            continue;
        }
        let unused: Vec<&str> = function
            .grants
            .iter()
            .flat_map(|g| g.actions.iter().map(String::as_str))
            .filter(|a| !a.ends_with('*') && !used.contains(a))
            .collect();
        if !unused.is_empty() {
            println!("{}: granted, not used in this walk: {}", function.logical_id, unused.join(", "));
        }
    }
    Ok(())
}

fn report(counted: &Value) -> Result<(), String> {
    let mut rows = Vec::new();
    let mut over = 0;
    println!(
        "| endpoint | requests | AWS calls (most in one request) | design minimum | calls of the costliest request |"
    );
    println!("|---|---|---|---|---|");
    for (route, minimum, why) in DESIGN_MINIMUM {
        let entry = &counted["routes"][*route];
        let most = entry["most"].as_u64().unwrap_or(0) as usize;
        let requests = entry["requests"].as_u64().unwrap_or(0);
        let costliest: Vec<&str> =
            entry["costliest"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let mut grouped: BTreeMap<&str, usize> = BTreeMap::new();
        for call in &costliest {
            *grouped.entry(call).or_default() += 1;
        }
        let calls = grouped.iter().map(|(c, n)| format!("{n}× {c}")).collect::<Vec<_>>().join(", ");
        let admin_checks = costliest.len() - shop_local::endpoint_tour::route_calls(&costliest);
        let flag = if most - admin_checks > *minimum {
            over += 1;
            " (over)"
        } else {
            ""
        };
        println!("| `{route}` | {requests} | {most}{flag} | {minimum} ({why}) | {calls} |");
        rows.push(json!({
            "endpoint": route, "requests": requests, "mostCalls": most, "designMinimum": minimum,
            "why": why, "costliestCalls": costliest,
        }));
    }
    println!("{over} of {} endpoints make more calls than their design minimum", DESIGN_MINIMUM.len());
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let json = json!({ "command": "make bench-calls (target/release/aws-calls)", "endpoints": rows });
    std::fs::write(out.join("aws-calls.json"), serde_json::to_string_pretty(&json).unwrap_or_default())
        .map_err(|e| e.to_string())?;
    Ok(())
}
