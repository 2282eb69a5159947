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
    let sign_in = |user, password| {
        runtime.block_on(shop_local::stack::id_token(&field("emulatorEndpoint"), &field("clientId"), user, password))
    };
    let customer = sign_in("customer", "Customer-Pass1")?;
    let admin = sign_in("admin", "Admin-Pass1")?;

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
        let mut passed = run_schemathesis(&mut command)?;
        if passed == Outcome::ToolCrashed {
            println!("== schemathesis itself crashed (CPython 3.11's ast.parse, in hypothesis): once more");
            passed = run_schemathesis(&mut command)?;
        }
        let passed = passed == Outcome::Passed;
        println!("== schemathesis as {who}: {}", if passed { "passed" } else { "FAILED" });
        all_passed &= passed;
    }
    drop(stack);
    Ok(all_passed)
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Passed,
    Failed,
    /// No failure of ours: CPython 3.11 (before 3.11.8) can raise this
    /// `SystemError` from `ast.parse`, which hypothesis calls to describe a
    /// lambda; it failed CI runs whose cases all passed. The wrapper script
    /// guards the call; this stays for a hypothesis that moves it.
    ToolCrashed,
}

/// Runs schemathesis, echoing what it prints.
fn run_schemathesis(command: &mut Command) -> Result<Outcome, String> {
    let output = command.output().map_err(|e| format!("schemathesis: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    Ok(if output.status.success() {
        Outcome::Passed
    } else if stdout.contains("SystemError: AST constructor recursion depth mismatch")
        && !stdout.contains("= FAILURES =")
        && all_cases_passed(&stdout)
    {
        Outcome::ToolCrashed
    } else {
        Outcome::Failed
    })
}

/// Whether the summary's "N generated, N passed" says every case passed.
fn all_cases_passed(stdout: &str) -> bool {
    stdout.lines().any(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        matches!(words.as_slice(), [generated, "generated,", passed, "passed"] if generated == passed)
    })
}

/// A binary built beside this one (`cargo build -p shop-local --bins`).
fn sibling_binary(name: &str) -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let path = me.parent().unwrap_or(Path::new(".")).join(name);
    path.exists().then_some(path.clone()).ok_or_else(|| format!("no {}: build the shop-local binaries", path.display()))
}

#[cfg(test)]
mod tests {
    use super::all_cases_passed;

    #[test]
    fn a_crash_is_only_the_tools_when_every_case_passed() {
        assert!(all_cases_passed("Test cases:\n  845 generated, 845 passed\n"));
        assert!(!all_cases_passed("Test cases:\n  845 generated, 844 passed, 1 failed\n"));
        assert!(!all_cases_passed("no summary"));
    }
}
