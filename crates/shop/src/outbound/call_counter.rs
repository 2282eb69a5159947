//! What a request costs in AWS: an SDK interceptor records each call into the
//! scope of the request that made it (a task-local), and times how long the
//! request waited on AWS. Every request's log line says what it cost; the local
//! stack reports calls per endpoint, works out from the kept requests the IAM
//! permissions they needed (to check the template's policies), and splits
//! request time into our code and waiting on the emulator. Outside a scope
//! nothing is recorded.

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

/// One AWS API call: `Service.Operation` and, inside [`counting_with_requests`],
/// its serialized request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub operation: String,
    /// Kept as sent, so that whatever reads it (the local stack's permission
    /// check, a JSON parse) does so after the request, outside the time
    /// counted as the handler's.
    pub request: Option<Vec<u8>>,
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
    /// Keep each call's request (the local stack works out its IAM
    /// permissions from it): only where someone reads them, not on Lambda.
    keep_requests: bool,
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
                    scope.keep_requests.then(|| context.request().body().bytes().unwrap_or_default().to_vec());
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

/// Runs `work` and returns what it gave with what it cost in AWS. The cost is
/// also added to an enclosing scope, if any (the local stack measures each
/// route around the handler, which measures for its own log line). Calls
/// keep their requests if an enclosing scope asked for them.
pub async fn counting<F: Future>(work: F) -> (F::Output, Usage) {
    let keep_requests = SCOPE.try_with(|outer| outer.borrow().keep_requests).unwrap_or(false);
    scoped(work, keep_requests).await
}

/// [`counting`], with each call's serialized request kept in its [`Call`].
pub async fn counting_with_requests<F: Future>(work: F) -> (F::Output, Usage) {
    scoped(work, true).await
}

async fn scoped<F: Future>(work: F, keep_requests: bool) -> (F::Output, Usage) {
    let scope = Scope { keep_requests, ..Scope::default() };
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
