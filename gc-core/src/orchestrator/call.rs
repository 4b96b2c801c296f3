//! Calling module callbacks: timed, and with panics turned into errors so
//! that the cycle always reaches its release step.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

// tokio's Instant follows paused time in tests; otherwise it is std's.
use tokio::time::Instant;

use futures::FutureExt;

use crate::error::panic_message;
use crate::{ModuleFailure, Phase};

/// How a callback failed.
pub(crate) struct CallError {
    pub(crate) panicked: bool,
    pub(crate) timed_out: bool,
    pub(crate) error: anyhow::Error,
}

impl CallError {
    pub(crate) fn into_failure(self, module: &str, phase: Phase) -> ModuleFailure {
        ModuleFailure {
            module: module.to_owned(),
            phase,
            panicked: self.panicked,
            timed_out: self.timed_out,
            error: self.error,
        }
    }
}

fn from_panic(payload: Box<dyn std::any::Any + Send>) -> CallError {
    CallError {
        panicked: true,
        timed_out: false,
        error: anyhow::Error::msg(panic_message(&*payload)),
    }
}

/// Awaits an async callback, dropping it after `timeout`; a panic or a
/// timeout becomes a `CallError`.
pub(crate) async fn call_async<T>(
    fut: impl Future<Output = anyhow::Result<T>>,
    timeout: Option<Duration>,
) -> (Result<T, CallError>, Duration) {
    let start = Instant::now();
    // The module's state may be left half-updated by the panic; the cycle
    // stops using that module's results, so unwind safety is not relied on.
    let guarded = AssertUnwindSafe(fut).catch_unwind();
    let outcome = match timeout {
        Some(limit) => tokio::time::timeout(limit, guarded).await.ok(),
        None => Some(guarded.await),
    };
    let result = match outcome {
        Some(Ok(Ok(value))) => Ok(value),
        Some(Ok(Err(error))) => Err(CallError {
            panicked: false,
            timed_out: false,
            error,
        }),
        Some(Err(payload)) => Err(from_panic(payload)),
        None => Err(CallError {
            panicked: false,
            timed_out: true,
            error: anyhow::anyhow!("timed out after {:?}", timeout.unwrap_or_default()),
        }),
    };
    (result, start.elapsed())
}

/// Runs a sync callback; a panic becomes a `CallError`.
pub(crate) fn call_sync<T>(f: impl FnOnce() -> anyhow::Result<T>) -> (Result<T, CallError>, Duration) {
    let start = Instant::now();
    let result = match std::panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(CallError {
            panicked: false,
            timed_out: false,
            error,
        }),
        Err(payload) => Err(from_panic(payload)),
    };
    (result, start.elapsed())
}
