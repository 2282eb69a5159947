//! What a request costs in AWS: an SDK interceptor records each call, with the
//! IAM actions it needs, into the scope of the request that made it (a
//! task-local), and times how long the request waited on AWS. Every request's
//! log line says what it cost; the local stack reports calls per endpoint,
//! checks them against the template's policies, and splits request time into
//! our code and waiting on the emulator. Outside a scope nothing is recorded.

use std::cell::RefCell;
use std::future::Future;
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use serde_json::Value;

/// One AWS API call: `Service.Operation` and, where someone checks the IAM
/// permissions it needs, its serialized request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub operation: String,
    /// Kept as sent and read only by [`Call::permissions`], so that working
    /// the permissions out (a JSON parse) happens after the request, outside
    /// the time the local stack counts as the handler's.
    request: Option<Vec<u8>>,
}

impl Call {
    /// The IAM permissions this call needs; none if its request was not kept.
    pub fn permissions(&self) -> Vec<Permission> {
        let Some(request) = &self.request else { return Vec::new() };
        let (service, name) = self.operation.split_once('.').unwrap_or((self.operation.as_str(), ""));
        permissions(service, name, request)
    }
}

/// An IAM action and, for DynamoDB index reads, the index it needs it on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Permission {
    pub action: String,
    pub index: Option<String>,
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.index {
            Some(index) => write!(f, "{} on index/{index}", self.action),
            None => f.write_str(&self.action),
        }
    }
}

/// What the work run by [`counting`] cost.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    pub calls: Vec<Call>,
    /// Wall time during which at least one call was on the wire (sent, not
    /// yet answered): the time spent waiting on AWS, overlaps counted once.
    pub aws_wait: Duration,
    /// CPU time spent inside the SDK's operations, where something measures
    /// it (the local stack, through [`add_sdk_cpu`]); zero otherwise.
    pub sdk_cpu: Duration,
}

impl Usage {
    pub fn operations(&self) -> impl Iterator<Item = &str> {
        self.calls.iter().map(|c| c.operation.as_str())
    }
}

#[derive(Default)]
struct Scope {
    usage: Usage,
    in_flight: u32,
    waiting_since: Option<Instant>,
    /// Keep each call's request to work out its IAM permissions: only where
    /// someone checks them, not on every request on Lambda.
    with_permissions: bool,
}

tokio::task_local! {
    static SCOPE: RefCell<Scope>;
}

/// Marks an attempt whose request is on the wire, so the end of the attempt
/// is counted once whether or not a response came back.
#[derive(Debug, Clone, Copy)]
struct OnTheWire(bool);

impl Storable for OnTheWire {
    type Storer = StoreReplace<Self>;
}

/// Records every SDK call made inside [`counting`] (one entry per call; the
/// SDK's own retries of a call are not extra calls, but their waits count).
#[derive(Debug, Clone, Copy, Default)]
pub struct CallCounter;

impl CallCounter {
    fn transmitted(cfg: &mut ConfigBag) {
        if cfg.load::<OnTheWire>().is_some_and(|w| w.0) {
            cfg.interceptor_state().store_put(OnTheWire(false));
            let _ = SCOPE.try_with(|scope| {
                let mut scope = scope.borrow_mut();
                scope.in_flight = scope.in_flight.saturating_sub(1);
                if scope.in_flight == 0 {
                    if let Some(since) = scope.waiting_since.take() {
                        scope.usage.aws_wait += since.elapsed();
                    }
                }
            });
        }
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    // The operation's name is in the config bag once the operation's own
    // configuration has run, which is before serialization.
    fn read_after_serialization(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            let _ = SCOPE.try_with(|scope| {
                let mut scope = scope.borrow_mut();
                let request =
                    scope.with_permissions.then(|| context.request().body().bytes().unwrap_or_default().to_vec());
                let operation = format!("{}.{}", metadata.service(), metadata.name());
                scope.usage.calls.push(Call { operation, request });
            });
        }
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let recorded = SCOPE.try_with(|scope| {
            let mut scope = scope.borrow_mut();
            scope.in_flight += 1;
            scope.waiting_since.get_or_insert_with(Instant::now);
        });
        if recorded.is_ok() {
            cfg.interceptor_state().store_put(OnTheWire(true));
        }
        Ok(())
    }

    fn read_after_transmit(
        &self,
        _context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        Self::transmitted(cfg);
        Ok(())
    }

    // Reached by every attempt, also one whose request never got an answer.
    fn read_after_attempt(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        Self::transmitted(cfg);
        Ok(())
    }
}

/// The IAM permissions a call needs, from its serialized request (both
/// services speak JSON). A transaction needs the action of each of its items.
pub fn permissions(service: &str, operation: &str, body: &[u8]) -> Vec<Permission> {
    let plain = |action: String| Permission { action, index: None };
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match service.to_ascii_lowercase().as_str() {
        "dynamodb" => match operation {
            "TransactWriteItems" | "TransactGetItems" => {
                let mut actions: Vec<Permission> = request["TransactItems"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|item| item.as_object()?.keys().next().cloned())
                    .map(|kind| match kind.as_str() {
                        "ConditionCheck" => plain("dynamodb:ConditionCheckItem".into()),
                        "Get" => plain("dynamodb:GetItem".into()),
                        other => plain(format!("dynamodb:{other}Item")),
                    })
                    .collect();
                actions.sort();
                actions.dedup();
                actions
            }
            _ => vec![Permission {
                action: format!("dynamodb:{operation}"),
                index: request["IndexName"].as_str().map(str::to_owned),
            }],
        },
        // Batch sends and deletes are allowed by the single-message actions.
        "sqs" => vec![plain(format!("sqs:{}", operation.trim_end_matches("Batch")))],
        other => vec![plain(format!("{other}:{operation}"))],
    }
}

/// Runs `work` and returns what it gave with what it cost in AWS. The cost is
/// also added to an enclosing scope, if any (the local stack measures each
/// route around the handler, which measures for its own log line). Calls
/// carry their IAM permissions if an enclosing scope asked for them.
pub async fn counting<F: Future>(work: F) -> (F::Output, Usage) {
    let with_permissions = SCOPE.try_with(|outer| outer.borrow().with_permissions).unwrap_or(false);
    scoped(work, with_permissions).await
}

/// [`counting`], with each call's IAM permissions (see [`permissions`]).
pub async fn counting_with_permissions<F: Future>(work: F) -> (F::Output, Usage) {
    scoped(work, true).await
}

async fn scoped<F: Future>(work: F, with_permissions: bool) -> (F::Output, Usage) {
    let scope = Scope { with_permissions, ..Scope::default() };
    let (output, usage) = SCOPE
        .scope(RefCell::new(scope), async {
            let output = work.await;
            (output, SCOPE.with(|scope| std::mem::take(&mut scope.borrow_mut().usage)))
        })
        .await;
    let _ = SCOPE.try_with(|outer| {
        let mut outer = outer.borrow_mut();
        outer.usage.calls.extend(usage.calls.iter().cloned());
        outer.usage.aws_wait += usage.aws_wait;
        outer.usage.sdk_cpu += usage.sdk_cpu;
    });
    (output, usage)
}

/// Adds CPU time spent inside an SDK operation to the current scope, if any.
/// The local stack measures it around the SDK's operation spans. Called from
/// a `tracing` layer, so it never panics: a scope borrowed elsewhere on this
/// thread (it cannot be, as spans are left between polls) loses the sample.
pub fn add_sdk_cpu(cpu: Duration) {
    let _ = SCOPE.try_with(|scope| {
        if let Ok(mut scope) = scope.try_borrow_mut() {
            scope.usage.sdk_cpu += cpu;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions(service: &str, operation: &str, body: &str) -> Vec<String> {
        permissions(service, operation, body.as_bytes()).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_transaction_needs_the_action_of_each_item_kind() {
        let body = r#"{"TransactItems":[{"Put":{}},{"Update":{}},{"Put":{}},{"ConditionCheck":{}},{"Delete":{}}]}"#;
        assert_eq!(
            actions("DynamoDB", "TransactWriteItems", body),
            ["dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        );
    }

    #[test]
    fn a_call_works_its_permissions_out_from_the_request_it_kept() {
        let query = Call {
            operation: "DynamoDB.Query".into(),
            request: Some(br#"{"TableName":"t","IndexName":"orders-index"}"#.to_vec()),
        };
        assert_eq!(
            query.permissions().iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["dynamodb:Query on index/orders-index"]
        );
        let unkept = Call { operation: "DynamoDB.Query".into(), request: None };
        assert!(unkept.permissions().is_empty());
    }

    #[test]
    fn an_index_query_names_its_index_and_batches_need_their_own_action() {
        assert_eq!(
            actions("DynamoDB", "Query", r#"{"TableName":"t","IndexName":"orders-index"}"#),
            ["dynamodb:Query on index/orders-index"]
        );
        assert_eq!(actions("DynamoDB", "Query", r#"{"TableName":"t"}"#), ["dynamodb:Query"]);
        assert_eq!(actions("DynamoDB", "BatchGetItem", "{}"), ["dynamodb:BatchGetItem"]);
        assert_eq!(actions("SQS", "SendMessageBatch", "{}"), ["sqs:SendMessage"]);
    }
}
