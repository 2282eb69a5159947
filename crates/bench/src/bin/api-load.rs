//! `api-load`: warm latency of every route through the local API under
//! concurrent load (`wrk`, loopback), with the share of each request spent in
//! our code and waiting on the emulator. Starts its own stack (logging at
//! `info`, as the template's functions do), prints a Markdown table and writes
//! `target/bench/api-load.json` (LOAD_OUT: elsewhere, e.g. for a profiling run
//! that must not replace the release figures). LOAD_CONNECTIONS (8),
//! LOAD_REQUESTS (2000 per route), LOAD_USERS (400), LOAD_MAX_SECONDS (60 per route).
//! A machine probe runs alongside (`machineDuringLoad` in the JSON).

use std::path::Path;
use std::process::ExitCode;

use shop_bench::load::{LoadOptions, RouteLoad};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("api-load: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = root.join("target/bench");
    let options = LoadOptions {
        connections: shop_local::stack::env_or("LOAD_CONNECTIONS", 8),
        requests: shop_local::stack::env_or("LOAD_REQUESTS", 2000),
        users: shop_local::stack::env_or("LOAD_USERS", 400),
        max_secs: shop_local::stack::env_or("LOAD_MAX_SECONDS", 60),
        work_dir: out.join("wrk"),
    };
    let binary = std::env::current_exe().map_err(|e| e.to_string())?.with_file_name("shop-local");
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    let stack =
        shop_local::stack::spawn_child_stack(&binary, &root, &[("RUST_LOG", "info")]).map_err(|e| e.to_string())?;
    let coordinates = stack.coordinates().map_err(|e| e.to_string())?;
    println!(
        "api-load: {} connections, {} requests per route ({profile} build of the handlers) ...",
        options.connections, options.requests
    );
    let probe = shop_bench::machine::MachineProbe::start();
    let routes = shop_bench::load::run(&coordinates, &options).await.map_err(|e| e.to_string())?;
    let machine = probe.finish();
    drop(stack);
    print_table(&routes);
    let out_file = std::env::var_os("LOAD_OUT").map_or_else(|| out.join("api-load.json"), Into::into);
    if let Some(dir) = out_file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let json = serde_json::json!({
        "command": "make bench-api (target/release/api-load)",
        "profile": profile,
        "connections": options.connections,
        "machineDuringLoad": machine,
        "routes": routes,
    });
    std::fs::write(&out_file, serde_json::to_string_pretty(&json).unwrap_or_default()).map_err(|e| e.to_string())?;
    let failed: Vec<&str> =
        routes.iter().filter(|r| r.wrk.status_errors + r.wrk.socket_errors > 0).map(|r| r.route.as_str()).collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("requests failed under load on {failed:?}"))
    }
}

fn print_table(routes: &[RouteLoad]) {
    let ms = |us: u64| format!("{:.2}", us as f64 / 1000.0);
    println!(
        "| route | requests | req/s | latency p50 / p99 (ms) | handler p50 / p99 (ms) | waiting on AWS p99 (ms) | our code p50 / p99 (ms) | in the SDK p99 (ms) | outside the SDK p50 / p99 (ms) | neither p99 (ms) | our share |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for r in routes {
        let t = &r.stack;
        println!(
            "| `{}` | {} | {:.0} | {} / {} | {} / {} | {} | {} / {} | {} | {} / {} | {} | {:.1} % |",
            r.route,
            r.wrk.requests,
            r.requests_per_sec,
            ms(r.wrk.p50_us),
            ms(r.wrk.p99_us),
            ms(t.handler_us.p50),
            ms(t.handler_us.p99),
            ms(t.aws_wait_us.p99),
            ms(t.own_us.p50),
            ms(t.own_us.p99),
            ms(t.in_sdk_us.p99),
            ms(t.outside_sdk_us.p50),
            ms(t.outside_sdk_us.p99),
            ms(t.other_us.p99),
            t.own_share * 100.0
        );
    }
}
