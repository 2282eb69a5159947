//! Calls a function's handler with a Lambda event payload, exactly as the
//! runtime does in the Lambda binary: JSON in, JSON out.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use lambda_http::request::LambdaRequest;
use lambda_http::tower::Service;
use lambda_http::{service_fn, Adapter, Context, LambdaEvent};
use serde_json::Value;
use shop::app::App;
use shop::inbound::http::Endpoint;
use shop::inbound::workers::Worker;

use crate::aws_costs::Ledger;
use crate::LocalError;

/// What a function runs: the endpoint or worker its `Handler` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    Http(Endpoint),
    Worker(Worker),
}

impl Handler {
    pub fn named(name: &str) -> Result<Self, LocalError> {
        Endpoint::from_handler_name(name)
            .map(Self::Http)
            .or_else(|| Worker::from_handler_name(name).map(Self::Worker))
            .ok_or_else(|| {
                LocalError::Setup(format!("a function's Handler is {name:?}, which names no endpoint or worker"))
            })
    }
}

impl Handler {
    pub fn name(self) -> &'static str {
        match self {
            Self::Http(endpoint) => endpoint.handler_name(),
            Self::Worker(worker) => worker.handler_name(),
        }
    }
}

/// The functions of the stack over one set of clients, and the ledger of
/// what their invocations cost in AWS.
pub struct Functions {
    pub app: Arc<App>,
    pub ledger: Ledger,
}

impl Functions {
    pub fn new(app: Arc<App>) -> Self {
        Self { app, ledger: Ledger::default() }
    }

    /// [`invoke`], recorded in the ledger (under `route` too, for API requests).
    pub async fn invoke(&self, handler: Handler, payload: Value, route: Option<&str>) -> Result<Value, LocalError> {
        self.invoke_counted(handler, payload, route).await.0
    }

    /// [`Functions::invoke`], answering also the AWS calls this invocation
    /// made (`DynamoDB.GetItem`, ...), in order.
    pub async fn invoke_counted(
        &self,
        handler: Handler,
        payload: Value,
        route: Option<&str>,
    ) -> (Result<Value, LocalError>, Vec<String>) {
        let started = Instant::now();
        let ((result, usage), running) =
            PollTimed::new(shop::outbound::call_counter::counting_with_requests(invoke(&self.app, handler, payload)))
                .await;
        self.ledger.record(handler.name(), route, &usage, started.elapsed(), running);
        (result, usage.calls.into_iter().map(|c| c.operation).collect())
    }
}

/// A future that adds up the CPU time its polls took on their threads: the
/// time its code ran, apart from waiting for I/O, for a core, or a timer.
struct PollTimed<F> {
    inner: Pin<Box<F>>,
    running: Duration,
}

impl<F: Future> PollTimed<F> {
    fn new(inner: F) -> Self {
        Self { inner: Box::pin(inner), running: Duration::ZERO }
    }
}

impl<F: Future> Future for PollTimed<F> {
    type Output = (F::Output, Duration);

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let started = cpu_time::ThreadTime::try_now().ok();
        let polled = this.inner.as_mut().poll(cx);
        this.running += started.map(|t| t.elapsed()).unwrap_or_default();
        polled.map(|output| (output, this.running))
    }
}

/// Invokes a handler with a raw event. A payload of the wrong shape is the
/// invoker's error, as Lambda's runtime would report it.
pub async fn invoke(app: &Arc<App>, handler: Handler, payload: Value) -> Result<Value, LocalError> {
    let bad_event = |e: serde_json::Error| LocalError::BadEvent(e.to_string());
    match handler {
        Handler::Http(endpoint) => {
            let request: LambdaRequest = serde_json::from_value(payload).map_err(bad_event)?;
            let app = Arc::clone(app);
            let mut adapter = Adapter::from(service_fn(move |req| {
                let app = Arc::clone(&app);
                async move { endpoint.serve(&app, req).await }
            }));
            let response = adapter
                .call(LambdaEvent::new(request, Context::default()))
                .await
                .map_err(|e| LocalError::Handler(e.to_string()))?;
            answer(response)
        }
        Handler::Worker(worker) => worker.serve(app, payload).await.map_err(|e| match e {
            shop::inbound::workers::WorkerError::BadEvent(e) => LocalError::BadEvent(e),
            other => LocalError::Handler(other.to_string()),
        }),
    }
}

/// A handler's answer as the JSON the runtime would send back.
fn answer(response: impl serde::Serialize) -> Result<Value, LocalError> {
    serde_json::to_value(response).map_err(|e| LocalError::Handler(e.to_string()))
}
