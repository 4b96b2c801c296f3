//! Collecting ID by ID, with bounded concurrency: the plumbing hand-written
//! collects most often get wrong, and what `#[derive(GcModule)]` generates
//! from a `remove` method.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::{FutureExt, StreamExt};

use crate::error::panic_message;
use crate::{CollectOutcome, GcId};

/// Removes `ids` one by one with `remove`, at most `concurrency` at a time
/// (at least one), and gathers every ID's result: an error or a panic in one
/// removal fails that ID only.
///
/// The removals run inside the returned future: dropping it (a cancelled
/// cycle) stops them all.
///
/// ```
/// use gc_core::{collect_each, CollectOutcome};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let outcome: CollectOutcome<u32> = collect_each(vec![1, 2, 3], 2, |id| async move {
///     anyhow::ensure!(id != 2, "blob {id} is busy");
///     Ok(())
/// })
/// .await;
/// let mut collected = outcome.collected_ids().to_vec();
/// collected.sort();
/// assert_eq!(collected, [1, 3]);
/// assert_eq!(outcome.failures()[0].error.to_string(), "blob 2 is busy");
/// # });
/// ```
pub async fn collect_each<I, F, Fut>(ids: Vec<I>, concurrency: usize, remove: F) -> CollectOutcome<I>
where
    I: GcId,
    F: Fn(I) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut failed = 0;
    let mut done = 0;
    let results = futures::stream::iter(ids)
        .map(|id| {
            let removal = remove(id.clone());
            async move {
                let result = match AssertUnwindSafe(removal).catch_unwind().await {
                    Ok(result) => result,
                    Err(payload) => Err(anyhow::anyhow!("removal panicked: {}", panic_message(&*payload))),
                };
                (id, result)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .inspect(|(_, result)| {
            done += 1;
            failed += usize::from(result.is_err());
            crate::report_progress(done, failed);
        })
        .collect::<Vec<_>>()
        .await;
    CollectOutcome::from_results(results)
}
