//! What the local stack's functions cost in AWS, recorded around every
//! invocation (API, pollers, schedules, Invoke API): calls per route, the IAM
//! permissions each function used (checked against the template's policies),
//! and per route how much of each request was our code running, waiting on
//! the emulator, or neither (queued for a core, backing off before a retry).
//! Served at `/_local/aws-calls` and `/_local/timings`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use shop::outbound::call_counter::Usage;

use crate::permissions::{self, Permission};

/// Samples kept per route for the timings (the newest win).
const MAX_SAMPLES: usize = 100_000;

/// What the requests of one route cost in AWS calls.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteCalls {
    pub requests: u64,
    pub calls: u64,
    pub most: usize,
    /// Calls by `Service.Operation`, over all requests.
    pub operations: BTreeMap<String, u64>,
    /// The calls of the request that made the most.
    pub costliest: Vec<String>,
}

/// The IAM permissions a function's calls needed, over all its invocations.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionUse {
    pub invocations: u64,
    pub permissions: BTreeSet<Permission>,
}

/// One request's time in the handler: of that, waiting on AWS, and our code
/// running (CPU time of the handler's future's polls), of which inside the
/// AWS SDK's operations.
#[derive(Debug, Clone, Copy)]
struct Sample {
    total: Duration,
    aws_wait: Duration,
    running: Duration,
    in_sdk: Duration,
}

#[derive(Debug, Default)]
struct Books {
    routes: BTreeMap<String, RouteCalls>,
    functions: BTreeMap<String, FunctionUse>,
    samples: BTreeMap<String, VecDeque<Sample>>,
}

#[derive(Debug, Default)]
pub struct Ledger {
    books: Mutex<Books>,
}

/// Percentiles of a set of durations, in microseconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spread {
    pub p50: u64,
    pub p99: u64,
    pub mean: u64,
    pub max: u64,
}

impl Spread {
    /// Nearest-rank percentiles of `values`.
    pub fn of(mut values: Vec<u64>) -> Self {
        values.sort_unstable();
        let at = |q: f64| {
            let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len().max(1));
            values.get(rank - 1).copied().unwrap_or(0)
        };
        let mean = if values.is_empty() { 0 } else { values.iter().sum::<u64>() / values.len() as u64 };
        Spread { p50: at(0.50), p99: at(0.99), mean, max: values.last().copied().unwrap_or(0) }
    }
}

/// A route's requests split into our code and waiting on AWS (microseconds).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteTimings {
    pub requests: usize,
    /// Time in the handler: the function's duration, as Lambda bills it.
    pub handler_us: Spread,
    /// Of that, time with an AWS call on the wire.
    pub aws_wait_us: Spread,
    /// Of that, our code (and the SDK's) running: the CPU time the handler's
    /// future took in its polls.
    pub own_us: Spread,
    /// Of our code, the CPU time inside the AWS SDK's operations (from the
    /// request's serialization to its response's deserialization).
    pub in_sdk_us: Spread,
    /// Of our code, the rest: the event's parsing, the handler's own logic,
    /// token checks, the reply and the log line.
    pub outside_sdk_us: Spread,
    /// The rest: neither running nor waiting on AWS (queued for a core while
    /// other requests, workers and the emulator run; backing off to retry).
    pub other_us: Spread,
    /// Our code's share of all handler time on this route.
    pub own_share: f64,
}

impl Ledger {
    /// Records one invocation of `function` (a binary name); `route` is set
    /// for API requests ("METHOD /resource").
    /// `running` is the time the invocation's future spent being polled.
    pub fn record(&self, function: &str, route: Option<&str>, usage: &Usage, total: Duration, running: Duration) {
        // Working permissions out parses each call's request: done before
        // taking the lock every concurrent request records under.
        let permissions: Vec<Permission> = usage.calls.iter().flat_map(permissions::of_call).collect();
        let Ok(mut books) = self.books.lock() else { return };
        let used = books.functions.entry(function.to_owned()).or_default();
        used.invocations += 1;
        used.permissions.extend(permissions);
        let Some(route) = route else { return };
        let calls: Vec<String> = usage.operations().map(str::to_owned).collect();
        let entry = books.routes.entry(route.to_owned()).or_default();
        entry.requests += 1;
        entry.calls += calls.len() as u64;
        for call in &calls {
            *entry.operations.entry(call.clone()).or_default() += 1;
        }
        if calls.len() > entry.most || entry.requests == 1 {
            entry.most = calls.len();
            entry.costliest = calls;
        }
        let samples = books.samples.entry(route.to_owned()).or_default();
        if samples.len() == MAX_SAMPLES {
            samples.pop_front();
        }
        let aws_wait = usage.aws_wait.min(total);
        let running = running.min(total - aws_wait);
        samples.push_back(Sample { total, aws_wait, running, in_sdk: usage.sdk_cpu.min(running) });
    }

    /// Calls per route and permissions per function.
    pub fn calls(&self) -> serde_json::Value {
        let Ok(books) = self.books.lock() else { return serde_json::Value::Null };
        serde_json::json!({ "routes": books.routes, "functions": books.functions })
    }

    /// Timings per route since the last [`Ledger::clear_timings`].
    pub fn timings(&self) -> BTreeMap<String, RouteTimings> {
        let Ok(books) = self.books.lock() else { return BTreeMap::new() };
        let micros = |d: Duration| d.as_micros() as u64;
        books
            .samples
            .iter()
            .map(|(route, samples)| {
                let total: u64 = samples.iter().map(|s| micros(s.total)).sum();
                let own: u64 = samples.iter().map(|s| micros(s.running)).sum();
                let timings = RouteTimings {
                    requests: samples.len(),
                    handler_us: Spread::of(samples.iter().map(|s| micros(s.total)).collect()),
                    aws_wait_us: Spread::of(samples.iter().map(|s| micros(s.aws_wait)).collect()),
                    own_us: Spread::of(samples.iter().map(|s| micros(s.running)).collect()),
                    in_sdk_us: Spread::of(samples.iter().map(|s| micros(s.in_sdk)).collect()),
                    outside_sdk_us: Spread::of(samples.iter().map(|s| micros(s.running - s.in_sdk)).collect()),
                    other_us: Spread::of(samples.iter().map(|s| micros(s.total - s.aws_wait - s.running)).collect()),
                    own_share: if total == 0 { 0.0 } else { own as f64 / total as f64 },
                };
                (route.clone(), timings)
            })
            .collect()
    }

    pub fn clear_timings(&self) {
        if let Ok(mut books) = self.books.lock() {
            books.samples.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let spread = Spread::of((1..=100).rev().collect());
        assert_eq!((spread.p50, spread.p99, spread.max, spread.mean), (50, 99, 100, 50));
        let one = Spread::of(vec![7]);
        assert_eq!((one.p50, one.p99), (7, 7));
        assert_eq!(Spread::of(Vec::new()).p99, 0);
    }

    #[test]
    fn a_request_splits_into_our_code_and_waiting() {
        let ledger = Ledger::default();
        let usage =
            Usage { calls: Vec::new(), aws_wait: Duration::from_micros(3_000), sdk_cpu: Duration::from_micros(450) };
        let (total, running) = (Duration::from_micros(4_000), Duration::from_micros(600));
        ledger.record("get-cart", Some("GET /cart"), &usage, total, running);
        let timings = &ledger.timings()["GET /cart"];
        assert_eq!((timings.own_us.p99, timings.aws_wait_us.p99, timings.other_us.p99), (600, 3_000, 400));
        assert_eq!((timings.in_sdk_us.p99, timings.outside_sdk_us.p99), (450, 150));
        assert!((timings.own_share - 0.15).abs() < 1e-9);
        ledger.clear_timings();
        assert!(ledger.timings().is_empty());
        assert_eq!(ledger.calls()["routes"]["GET /cart"]["requests"], 1);
    }
}
