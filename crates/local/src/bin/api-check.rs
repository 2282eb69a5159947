//! `api-check`: starts a fresh local stack, then runs schemathesis against it
//! from the OpenAPI document the stack serves, three times over: anonymous,
//! as a customer and as an admin. It fails on any 5xx and on any answer the
//! document does not describe (status, content type, headers, body schema).
//!
//! `API_CHECK_EXAMPLES` bounds the examples per operation (default 25);
//! `API_CHECK_SEED` fixes the generator's seed (default 1), so a failure replays.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance";

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("api-check: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool, String> {
    let root = std::env::current_dir().map_err(|e| e.to_string())?;
    let python = root.join(".venv-apicheck/bin/python");
    if !root.join(".venv-apicheck/bin/schemathesis").exists() {
        return Err("no schemathesis in .venv-apicheck: run `make api-check`".into());
    }
    // schemathesis's command line, guarded against a CPython 3.11.7 bug (see the script).
    let guarded_schemathesis = root.join("crates/local/apicheck/run_schemathesis.py");
    let binary = sibling_binary("shop-local")?;
    let stack = shop_local::stack::spawn_child_stack(&binary, &root, &[]).map_err(|e| e.to_string())?;
    let coordinates = stack.coordinates().map_err(|e| e.to_string())?;
    let field = |name: &str| coordinates[name].as_str().unwrap_or_default().to_owned();
    let api = field("apiUrl");
    let examples = std::env::var("API_CHECK_EXAMPLES").unwrap_or_else(|_| "25".into());
    let seed = std::env::var("API_CHECK_SEED").unwrap_or_else(|_| "1".into());

    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let sign_in =
        |user| runtime.block_on(shop_local::stack::demo_id_token(&coordinates, user)).map_err(|e| e.to_string());
    let customer = sign_in("customer")?;
    let admin = sign_in("admin")?;

    let mut all_passed = true;
    for (who, token) in [("anonymous", None), ("customer", Some(customer)), ("admin", Some(admin))] {
        println!("== schemathesis as {who}: {examples} examples per operation, seed {seed}");
        let mut command = Command::new(&python);
        command
            .current_dir(&root)
            .arg(&guarded_schemathesis)
            .args(["run", &format!("{api}/openapi.json"), "--url", &api])
            .args(["--checks", CHECKS, "--max-examples", &examples, "--seed", &seed])
            .args(["--phases", "examples,coverage,fuzzing,stateful", "--workers", "2", "--request-timeout", "30"])
            .args(["--suppress-health-check", "too_slow,filter_too_much", "--no-color"]);
        if let Some(token) = token {
            command.args(["--header", &format!("Authorization: {token}")]);
        }
        let passed = command.status().map_err(|e| format!("schemathesis: {e}"))?.success();
        println!("== schemathesis as {who}: {}", if passed { "passed" } else { "FAILED" });
        all_passed &= passed;
    }
    drop(stack);
    Ok(all_passed)
}

/// A binary built beside this one (`cargo build -p shop-local --bins`).
fn sibling_binary(name: &str) -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let path = me.parent().unwrap_or(Path::new(".")).join(name);
    path.exists().then_some(path.clone()).ok_or_else(|| format!("no {}: build the shop-local binaries", path.display()))
}
