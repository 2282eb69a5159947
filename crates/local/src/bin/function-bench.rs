//! `function-bench`: every function's release binary run as Lambda runs it
//! (see `shop_local::runtime_bench`): cold start (median of COLD_STARTS runs),
//! warm handler time over WARM invocations, peak RSS, and the size of the
//! arm64 `bootstrap` SAM deploys, stripped and zipped.
//!
//!   function-bench [BINARY_DIR] [LAMBDA_DIR]
//!
//! BINARY_DIR holds native release binaries (default `target/release`): the
//! timings run them, since this machine cannot run arm64 code. LAMBDA_DIR is
//! cargo-lambda's output (`<dir>/<binary>/bootstrap`, default
//! `target/lambda`); sizes are read there when present.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{json, Value};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The zipped size of a file, deflated as SAM packages it (Python's zipfile).
fn zipped_size(file: &Path) -> Option<u64> {
    let script = "import io,sys,zipfile\nb=io.BytesIO()\nz=zipfile.ZipFile(b,'w',zipfile.ZIP_DEFLATED)\nz.write(sys.argv[1],'bootstrap')\nz.close()\nprint(len(b.getvalue()))";
    let out = std::process::Command::new("python3").arg("-c").arg(script).arg(file).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

#[tokio::main]
async fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let binaries = args.first().map(PathBuf::from).unwrap_or_else(|| root.join("target/release"));
    let lambda = args.get(1).map(PathBuf::from).unwrap_or_else(|| root.join("target/lambda"));
    let (cold_starts, warm) = (shop_local::stack::env_or("COLD_STARTS", 10), shop_local::stack::env_or("WARM", 1000));
    let template = match shop_local::template::Template::load(&root.join("template.yaml")) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("function-bench: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "| function | cold start median (ms) | warm p50 / p99 (µs) | peak RSS (MiB) | bootstrap (MB) | zipped (MB) |"
    );
    println!("|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for function in &template.functions {
        let name = &function.binary;
        let event: Value = match std::fs::read_to_string(root.join("events").join(format!("{name}.json")))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
        {
            Some(event) => event,
            None => {
                eprintln!("function-bench: no events/{name}.json");
                return ExitCode::from(2);
            }
        };
        let event = match shop_local::runtime_bench::signed_in(&event) {
            Ok(event) => event,
            Err(e) => {
                eprintln!("function-bench: {e}");
                return ExitCode::from(2);
            }
        };
        let run = match shop_local::runtime_bench::run_function(&binaries.join(name), &event, cold_starts, warm).await {
            Ok(run) => run,
            Err(e) => {
                eprintln!("function-bench: {name}: {e}");
                return ExitCode::from(2);
            }
        };
        let mut cold = run.cold_starts_ms.clone();
        cold.sort_by(f64::total_cmp);
        let mut warm_us = run.warm_us.clone();
        warm_us.sort_by(f64::total_cmp);
        let bootstrap = lambda.join(name).join("bootstrap");
        let size = std::fs::metadata(&bootstrap).ok().map(|m| m.len());
        let zipped = size.and(zipped_size(&bootstrap));
        let mb = |b: Option<u64>| b.map_or("-".to_owned(), |b| format!("{:.2}", b as f64 / 1_000_000.0));
        println!(
            "| {name} | {:.1} | {:.0} / {:.0} | {:.1} | {} | {} |",
            percentile(&cold, 0.5),
            percentile(&warm_us, 0.5),
            percentile(&warm_us, 0.99),
            run.peak_rss_kib as f64 / 1024.0,
            mb(size),
            mb(zipped),
        );
        rows.push(json!({
            "function": name,
            "coldStartMedianMs": percentile(&cold, 0.5),
            "coldStartsMs": cold,
            "warmP50Us": percentile(&warm_us, 0.5),
            "warmP99Us": percentile(&warm_us, 0.99),
            "warmInvocations": warm_us.len(),
            "peakRssKib": run.peak_rss_kib,
            "errors": run.errors,
            "bootstrapBytes": size,
            "zippedBytes": zipped,
        }));
    }
    let out = root.join("target/bench");
    let report = json!({
        "command": "make bench-functions",
        "binaries": binaries, "coldStarts": cold_starts, "warmInvocations": warm,
        "aws": "a loopback stub answering every call with 200 {}",
        "functions": rows,
    });
    if std::fs::create_dir_all(&out).is_err()
        || std::fs::write(out.join("functions.json"), serde_json::to_string_pretty(&report).unwrap_or_default())
            .is_err()
    {
        eprintln!("function-bench: cannot write target/bench/functions.json");
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}
