//! Counts the AWS API calls a request makes: an SDK interceptor records each
//! operation into the scope of the request that made it (a task-local), so
//! every request's log line says what it cost, and the local stack can report
//! calls per endpoint. Outside a scope nothing is recorded.

use std::cell::RefCell;
use std::future::Future;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

tokio::task_local! {
    static CALLS: RefCell<Vec<String>>;
}

/// Records `Service.Operation` for every SDK call made inside [`counting`].
/// (One entry per call; the SDK's own retries of a call are not extra calls.)
#[derive(Debug, Clone, Copy, Default)]
pub struct CallCounter;

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    // The operation's name is in the config bag once the operation has run
    // its configuration, so it is read at the end of the call.
    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            let call = format!("{}.{}", metadata.service(), metadata.name());
            let _ = CALLS.try_with(|calls| calls.borrow_mut().push(call));
        }
        Ok(())
    }
}

/// Runs `work` and returns what it gave with the AWS calls it made. Calls are
/// also passed on to an enclosing scope, if any (the local stack counts per
/// route around the handler, which counts for its own log line).
pub async fn counting<F: Future>(work: F) -> (F::Output, Vec<String>) {
    let (output, calls) = CALLS
        .scope(RefCell::new(Vec::new()), async {
            let output = work.await;
            (output, CALLS.with(|calls| calls.take()))
        })
        .await;
    let _ = CALLS.try_with(|outer| outer.borrow_mut().extend(calls.iter().cloned()));
    (output, calls)
}
