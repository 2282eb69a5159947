//! `function-bench`: every function's release binary run as Lambda runs it
//! (see `shop_bench::runtime_bench`): cold start (median of COLD_STARTS runs),
//! warm handler time over WARM invocations, peak RSS, and the size of the
//! arm64 `bootstrap` SAM deploys, stripped and zipped.
//!
//!   function-bench [BINARY_DIR] [LAMBDA_DIR]
//!
//! BINARY_DIR holds the native release binaries `shop-endpoint` and
//! `shop-worker` (default `target/release`), run with each function's
//! `Handler` as `_HANDLER`, as Lambda runs them: the timings run them, since
//! this machine cannot run arm64 code. LAMBDA_DIR is cargo-lambda's output
//! (`<dir>/<binary>/bootstrap`, default `target/lambda`); sizes are read there
//! when present.
//!
//! FUNCTIONS=list-products,checkout times only those functions (their rows
//! alone then make up `functions.json`). STUB_LATENCY_US=5000 has the stubbed
//! AWS answer each call after 5 ms, as DynamoDB does over a network (default:
//! at once). With SIDE_BY_SIDE_PYTHON set to an interpreter that has
//! `crates/bench/python-cart`'s requirements (`make bench` makes one), it also
//! runs those Python functions
//! (GET and POST /cart on boto3 and Powertools, the AWS sample's stack) with
//! the same events, stub and Runtime API as the Rust `get-cart` and
//! `add-to-cart`, side by side. A machine probe runs alongside
//! (`machineDuringRun` in the JSON).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{json, Value};
use shop_bench::runtime_bench::{FunctionProcess, FunctionRun};

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

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut values = values.to_vec();
    values.sort_by(f64::total_cmp);
    values
}

fn run_figures(run: &FunctionRun) -> Value {
    let (cold, warm_us, cpu_us) = (sorted(&run.cold_starts_ms), sorted(&run.warm_us), sorted(&run.warm_cpu_each_us));
    json!({
        "coldStartMedianMs": percentile(&cold, 0.5),
        "warmP50Us": percentile(&warm_us, 0.5),
        "warmP99Us": percentile(&warm_us, 0.99),
        "warmCpuUs": cpu_us.iter().sum::<f64>() / cpu_us.len().max(1) as f64,
        "warmCpuP50Us": percentile(&cpu_us, 0.5),
        "warmCpuP99Us": percentile(&cpu_us, 0.99),
        "peakRssKib": run.peak_rss_kib,
        "rssAnonKib": run.rss_anon_kib,
        "rssFileKib": run.rss_file_kib,
        "errors": run.errors,
        "statuses": run.statuses,
    })
}

/// The routes run side by side with Python: the route, the Rust function
/// (and its event) and the Python handler doing the same work.
/// The binary a function runs (`[[bin]]`s of `functions/`): the workers', or
/// the endpoints'.
fn binary_of(handler: &str) -> &'static str {
    if shop::inbound::workers::Worker::from_handler_name(handler).is_some() {
        "shop-worker"
    } else {
        "shop-endpoint"
    }
}

const SIDE_BY_SIDE: [(&str, &str, &str); 2] =
    [("GET /cart", "get-cart", "cart.handler"), ("POST /cart", "add-to-cart", "cart.add_to_cart")];

/// A Rust function against the same work in Python, same event and stub, one
/// right after the other (Rust again, not the row above) so that both see the
/// machine in the same state.
async fn side_by_side_run(
    root: &Path,
    python: &Path,
    binaries: &Path,
    (route, function, handler): (&str, &str, &str),
    cold_starts: usize,
    warm: usize,
) -> Result<Value, String> {
    let event_file = format!("events/{function}.json");
    let event: Value = std::fs::read_to_string(root.join(&event_file))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or(format!("no {event_file}"))?;
    let interpreter = python.display().to_string();
    let bootstrap = root.join("crates/bench/python-cart/bootstrap.py");
    let python_process = FunctionProcess {
        program: python.to_owned(),
        args: vec![bootstrap.to_string_lossy().into_owned(), handler.to_owned()],
        handler: None,
    };
    let run = |process: FunctionProcess| {
        let event = event.clone();
        async move {
            shop_bench::runtime_bench::run_function(&process, &event, cold_starts, warm)
                .await
                .map_err(|e| e.to_string())
        }
    };
    let rust = run_figures(&run(FunctionProcess::handler(binaries.join(binary_of(function)), function)).await?);
    let python = run_figures(&run(python_process).await?);
    if f64_at(&rust, "errors") > 0.0 || f64_at(&python, "errors") > 0.0 || rust["statuses"] != python["statuses"] {
        return Err(format!("{route}: the two did not answer alike: rust {rust}, python {python}"));
    }
    let ratio = |key: &str| f64_at(&python, key) / f64_at(&rust, key).max(f64::MIN_POSITIVE);
    println!(
        "\n| {route}, same event and stub | cold start median (ms) | warm p50 / p99 (µs) | CPU per warm invocation p50 / p99 (µs) | peak RSS (MiB) |"
    );
    println!("|---|---|---|---|---|");
    for (name, figures) in [(format!("Rust (`{function}`)"), &rust), (format!("Python (`{handler}`)"), &python)] {
        println!(
            "| {name} | {:.1} | {:.0} / {:.0} | {:.0} / {:.0} | {:.1} |",
            f64_at(figures, "coldStartMedianMs"),
            f64_at(figures, "warmP50Us"),
            f64_at(figures, "warmP99Us"),
            f64_at(figures, "warmCpuP50Us"),
            f64_at(figures, "warmCpuP99Us"),
            f64_at(figures, "peakRssKib") / 1024.0
        );
    }
    println!(
        "| Python / Rust | {:.0}x | {:.1}x / {:.1}x | {:.1}x / {:.1}x | {:.1}x |",
        ratio("coldStartMedianMs"),
        ratio("warmP50Us"),
        ratio("warmP99Us"),
        ratio("warmCpuP50Us"),
        ratio("warmCpuP99Us"),
        ratio("peakRssKib")
    );
    Ok(json!({
        "route": route,
        "event": event_file,
        "rustFunction": function,
        "pythonHandler": handler,
        "python": python, "rust": rust,
        "pythonInterpreter": interpreter,
        "pythonFunction": "crates/bench/python-cart",
        "ratios": {
            "coldStartMedian": ratio("coldStartMedianMs"), "warmP50": ratio("warmP50Us"),
            "warmP99": ratio("warmP99Us"), "warmCpu": ratio("warmCpuUs"),
            "warmCpuP50": ratio("warmCpuP50Us"), "warmCpuP99": ratio("warmCpuP99Us"), "peakRss": ratio("peakRssKib"),
        },
    }))
}

fn f64_at(value: &Value, key: &str) -> f64 {
    value[key].as_f64().unwrap_or(0.0)
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
        "| function | cold start median (ms) | warm p50 / p99 (µs) | CPU per warm invocation p50 / p99 (µs) | peak RSS (MiB) | bootstrap (MB) | zipped (MB) |"
    );
    println!("|---|---|---|---|---|---|---|");
    // FUNCTIONS=a,b times only those (to look into one); the report wants all.
    let only: Option<Vec<String>> =
        std::env::var("FUNCTIONS").ok().map(|f| f.split(',').map(|n| n.trim().to_owned()).collect());
    let mut rows = Vec::new();
    let probe = shop_bench::machine::MachineProbe::start();
    for function in &template.functions {
        let name = &function.handler;
        if only.as_ref().is_some_and(|only| !only.contains(name)) {
            continue;
        }
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
        let event = match shop_bench::runtime_bench::signed_in(&event) {
            Ok(event) => event,
            Err(e) => {
                eprintln!("function-bench: {e}");
                return ExitCode::from(2);
            }
        };
        let run = match shop_bench::runtime_bench::run_function(
            &FunctionProcess::handler(binaries.join(binary_of(name)), name),
            &event,
            cold_starts,
            warm,
        )
        .await
        {
            Ok(run) => run,
            Err(e) => {
                eprintln!("function-bench: {name}: {e}");
                return ExitCode::from(2);
            }
        };
        let bootstrap = lambda.join(binary_of(name)).join("bootstrap");
        let size = std::fs::metadata(&bootstrap).ok().map(|m| m.len());
        let zipped = size.and(zipped_size(&bootstrap));
        let mb = |b: Option<u64>| b.map_or("-".to_owned(), |b| format!("{:.2}", b as f64 / 1_000_000.0));
        let mut row = run_figures(&run);
        println!(
            "| {name} | {:.1} | {:.0} / {:.0} | {:.0} / {:.0} | {:.1} | {} | {} |",
            f64_at(&row, "coldStartMedianMs"),
            f64_at(&row, "warmP50Us"),
            f64_at(&row, "warmP99Us"),
            f64_at(&row, "warmCpuP50Us"),
            f64_at(&row, "warmCpuP99Us"),
            f64_at(&row, "peakRssKib") / 1024.0,
            mb(size),
            mb(zipped),
        );
        row["function"] = json!(name);
        row["coldStartsMs"] = json!(sorted(&run.cold_starts_ms));
        row["warmInvocations"] = json!(run.warm_us.len());
        row["bootstrapBytes"] = json!(size);
        row["zippedBytes"] = json!(zipped);
        rows.push(row);
    }
    let mut side_by_side = Vec::new();
    if let Some(python) = std::env::var_os("SIDE_BY_SIDE_PYTHON") {
        for pair in SIDE_BY_SIDE {
            match side_by_side_run(&root, Path::new(&python), &binaries, pair, cold_starts, warm).await {
                Ok(figures) => side_by_side.push(figures),
                Err(e) => {
                    eprintln!("function-bench: side by side with Python: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    }
    let machine = probe.finish();
    let out = root.join("target/bench");
    let report = json!({
        "command": "make bench-functions",
        "binaries": binaries, "coldStarts": cold_starts, "warmInvocations": warm,
        "aws": "a loopback stub holding what the events ask about: the seeded catalog (products, stock, cart totals), the events' anonymous cart, the bench shopper's cart and orders (one pending); writes answered with 200 {} and change nothing",
        "functions": rows,
        "sideBySide": side_by_side,
        "machineDuringRun": machine,
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
