//! Daemon mode: a scheduler that owns an orchestrator and runs its cycles on
//! a tokio task.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::{GcError, Orchestrator, Report};

/// When and how often the [`Scheduler`] runs cycles.
///
/// ```
/// use std::time::Duration;
/// use gc_core::SchedulerConfig;
///
/// let config = SchedulerConfig {
///     interval: Duration::from_secs(600),
///     mutation_threshold: Some(10_000),
///     pause_budget: Some(0.05),
///     ..SchedulerConfig::default()
/// };
/// # drop(config);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SchedulerConfig {
    /// The time between two scheduled cycles (default 10 minutes).
    pub interval: Duration,
    /// Each wait is the interval times a random factor in `1 ± jitter`
    /// (default 0.1), so that a fleet of hosts does not run in lockstep.
    pub jitter: f64,
    /// The wait before the first cycle (default none).
    pub startup_delay: Duration,
    /// Run a cycle as soon as writers have reported this many mutations
    /// through [`Scheduler::notify`] since the last cycle began (like
    /// containerd's `mutation_threshold`; default off).
    pub mutation_threshold: Option<u64>,
    /// The largest share of wall time spent in cycles, from 0 to 1: a
    /// scheduled or mutation-triggered cycle waits until running it keeps the
    /// share under this bound (like containerd's `pause_threshold`; default
    /// off). On-demand triggers are not held back.
    pub pause_budget: Option<f64>,
    /// After a cycle that found a lock busy, retry this soon, then twice as
    /// late each time, up to the interval (default 1 s).
    pub busy_retry: Duration,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            interval: Duration::from_secs(600),
            jitter: 0.1,
            startup_delay: Duration::ZERO,
            mutation_threshold: None,
            pause_budget: None,
            busy_retry: Duration::from_secs(1),
        }
    }
}

/// What started a cycle.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use gc_core::{Orchestrator, Scheduler, SchedulerConfig, Trigger};
/// let scheduler = Scheduler::start(Orchestrator::builder().build()?, SchedulerConfig::default());
/// scheduler.trigger().await?;
/// assert_eq!(scheduler.latest().unwrap().trigger, Trigger::OnDemand);
/// scheduler.shutdown().await;
/// # Ok::<_, Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The interval (or the startup delay) ran out.
    Interval,
    /// A retry after a cycle that found a lock busy.
    Retry,
    /// Writers reported enough mutations.
    Mutations,
    /// [`Scheduler::trigger`].
    OnDemand,
}

/// The latest cycle the scheduler ran.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use gc_core::{Orchestrator, Scheduler, SchedulerConfig};
/// let scheduler = Scheduler::start(Orchestrator::builder().build()?, SchedulerConfig::default());
/// scheduler.trigger().await?;
/// match scheduler.latest().map(|latest| latest.result) {
///     Some(Ok(report)) => println!("{report}"),
///     Some(Err(why)) => println!("aborted: {why}"),
///     None => println!("no cycle yet"),
/// }
/// scheduler.shutdown().await;
/// # Ok::<_, Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Latest {
    /// When it ended.
    pub at: SystemTime,
    /// What started it.
    pub trigger: Trigger,
    /// Its report, or why it aborted.
    pub result: Result<Report, String>,
}

/// The scheduler could not run a triggered cycle.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use gc_core::{Orchestrator, Scheduler, SchedulerConfig, TriggerError};
/// let scheduler = Scheduler::start(Orchestrator::builder().build()?, SchedulerConfig::default());
/// match scheduler.trigger().await {
///     Ok(report) => println!("{report}"),
///     Err(TriggerError::Cycle(e)) => println!("the cycle aborted: {e}"),
///     Err(e) => println!("{e}"),
/// }
/// scheduler.shutdown().await;
/// # Ok::<_, Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TriggerError {
    /// The cycle ran and aborted.
    #[error(transparent)]
    Cycle(#[from] GcError),
    /// The scheduler has shut down.
    #[error("the scheduler has shut down")]
    Stopped,
}

struct Shared {
    mutations: AtomicU64,
    threshold: Option<u64>,
    threshold_hit: Notify,
    shutdown: Notify,
    latest: Mutex<Option<Latest>>,
}

/// Runs an orchestrator's cycles on a tokio task: on an interval with
/// jitter, after a startup delay, on demand, when writers report enough
/// mutations, within a pause budget, sooner after a busy lock; and shuts
/// down gracefully, letting the cycle in flight finish.
///
/// ```
/// use std::time::Duration;
/// use gc_core::{Orchestrator, Scheduler, SchedulerConfig};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let gc = Orchestrator::builder().build()?;
/// let scheduler = Scheduler::start(gc, SchedulerConfig { interval: Duration::from_secs(3600), ..Default::default() });
/// let report = scheduler.trigger().await?;   // a cycle now, and its report
/// assert!(report.is_success());
/// scheduler.notify(1);                        // a writer mutated a store
/// assert!(scheduler.latest().is_some());
/// scheduler.shutdown().await;                 // waits for a cycle in flight
/// # Ok::<_, Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
pub struct Scheduler {
    shared: Arc<Shared>,
    commands: mpsc::Sender<Reply>,
    task: JoinHandle<()>,
}

impl Scheduler {
    /// Starts the scheduler's task on the current tokio runtime.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use std::time::Duration;
    /// use gc_core::{Orchestrator, Scheduler, SchedulerConfig};
    /// let config = SchedulerConfig {
    ///     interval: Duration::from_secs(600),
    ///     startup_delay: Duration::from_secs(30),
    ///     mutation_threshold: Some(1_000),
    ///     ..SchedulerConfig::default()
    /// };
    /// let scheduler = Scheduler::start(Orchestrator::builder().build()?, config);
    /// scheduler.shutdown().await;
    /// # Ok::<_, Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn start(orchestrator: Orchestrator, config: SchedulerConfig) -> Scheduler {
        let shared = Arc::new(Shared {
            mutations: AtomicU64::new(0),
            threshold: config.mutation_threshold,
            threshold_hit: Notify::new(),
            shutdown: Notify::new(),
            latest: Mutex::new(None),
        });
        let (commands, receiver) = mpsc::channel(16);
        let task = tokio::spawn(run_loop(orchestrator, config, Arc::clone(&shared), receiver));
        Scheduler { shared, commands, task }
    }

    /// Runs a cycle now (after the one in flight, if any) and returns its
    /// report.
    ///
    /// ```
    /// # async fn f(s: &gc_core::Scheduler) -> Result<(), gc_core::TriggerError> {
    /// let report = s.trigger().await?;
    /// println!("{report}");
    /// # Ok(()) }
    /// ```
    pub async fn trigger(&self) -> Result<Report, TriggerError> {
        let (reply, result) = oneshot::channel();
        self.commands.send(reply).await.map_err(|_| TriggerError::Stopped)?;
        Ok(result.await.map_err(|_| TriggerError::Stopped)??)
    }

    /// Tells the scheduler that writers made `mutations` changes; past the
    /// configured threshold (counted since the last cycle began), a cycle
    /// runs.
    ///
    /// ```
    /// # fn f(s: &gc_core::Scheduler) {
    /// s.notify(1);
    /// # }
    /// ```
    pub fn notify(&self, mutations: u64) {
        let total = self.shared.mutations.fetch_add(mutations, Ordering::SeqCst) + mutations;
        if self.shared.threshold.is_some_and(|t| total >= t) {
            self.shared.threshold_hit.notify_one();
        }
    }

    /// The mutations reported since the last cycle began.
    ///
    /// ```
    /// # fn f(s: &gc_core::Scheduler) {
    /// println!("{} pending mutations", s.pending_mutations());
    /// # }
    /// ```
    pub fn pending_mutations(&self) -> u64 {
        self.shared.mutations.load(Ordering::SeqCst)
    }

    /// The latest cycle's report (or error), if one has run.
    ///
    /// ```
    /// # fn f(s: &gc_core::Scheduler) {
    /// if let Some(latest) = s.latest() {
    ///     println!("{:?}: {:?}", latest.trigger, latest.result.map(|r| r.total_collected()));
    /// }
    /// # }
    /// ```
    pub fn latest(&self) -> Option<Latest> {
        self.shared
            .latest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops scheduling, waits for the cycle in flight to finish (releasing
    /// its locks), and ends the task.
    ///
    /// ```
    /// # async fn f(s: gc_core::Scheduler) {
    /// s.shutdown().await;
    /// # }
    /// ```
    pub async fn shutdown(self) {
        self.shared.shutdown.notify_one();
        if let Err(e) = self.task.await {
            warn!(error = %e, "the scheduler's task ended abnormally");
        }
    }
}

/// A small PRNG for jitter (splitmix64): no dependency, no need for quality.
struct Jitter(u64);

impl Jitter {
    fn next_unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // 53 random bits as a fraction in [0, 1).
        #[allow(clippy::cast_precision_loss)]
        let unit = (z >> 11) as f64 / (1u64 << 53) as f64;
        unit
    }

    fn apply(&mut self, interval: Duration, jitter: f64) -> Duration {
        let jitter = jitter.clamp(0.0, 1.0);
        interval.mul_f64(1.0 + jitter * (2.0 * self.next_unit() - 1.0))
    }
}

type Reply = oneshot::Sender<Result<Report, GcError>>;

enum Wake {
    Shutdown,
    Command(Reply),
    Timer,
    Mutations,
}

/// Waits for the first of: shutdown, a trigger, the timer, the mutation
/// threshold; in that order of precedence when several are ready.
async fn next_wake(shared: &Shared, commands: &mut mpsc::Receiver<Reply>, at: Instant) -> Wake {
    use std::future::Future;
    use std::task::Poll;
    let mut shutdown = std::pin::pin!(shared.shutdown.notified());
    let mut timer = std::pin::pin!(tokio::time::sleep_until(at));
    let mut mutations = std::pin::pin!(shared.threshold_hit.notified());
    std::future::poll_fn(|cx| {
        if shutdown.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Wake::Shutdown);
        }
        match commands.poll_recv(cx) {
            Poll::Ready(Some(reply)) => return Poll::Ready(Wake::Command(reply)),
            // Every Scheduler handle is gone: nobody can trigger or stop us.
            Poll::Ready(None) => return Poll::Ready(Wake::Shutdown),
            Poll::Pending => {}
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Wake::Timer);
        }
        if shared.threshold.is_some() && mutations.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Wake::Mutations);
        }
        Poll::Pending
    })
    .await
}

async fn run_loop(gc: Orchestrator, config: SchedulerConfig, shared: Arc<Shared>, mut commands: mpsc::Receiver<Reply>) {
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut jitter = Jitter(seed);
    let started = Instant::now();
    let mut busy_time = Duration::ZERO;
    let mut next = started + config.startup_delay;
    let mut next_trigger = Trigger::Interval;
    let mut backoff: Option<Duration> = None;
    loop {
        // The pause budget: the earliest a held-back cycle may start.
        let allowed = config
            .pause_budget
            .filter(|b| *b > 0.0)
            .map_or(started, |b| started + busy_time.div_f64(b.min(1.0)));
        let (trigger, reply) = match next_wake(&shared, &mut commands, next.max(allowed)).await {
            Wake::Shutdown => break,
            Wake::Command(reply) => (Trigger::OnDemand, Some(reply)),
            Wake::Timer => (next_trigger, None),
            Wake::Mutations if Instant::now() < allowed => {
                // Over budget: run it as soon as the budget allows.
                next = allowed;
                next_trigger = Trigger::Mutations;
                continue;
            }
            Wake::Mutations => (Trigger::Mutations, None),
        };

        shared.mutations.store(0, Ordering::SeqCst);
        info!(?trigger, "scheduled cycle starting");
        let start = Instant::now();
        let result = gc.run().await;
        busy_time += start.elapsed();

        let busy = matches!(result, Err(GcError::Skipped { .. }));
        let latest = Latest {
            at: SystemTime::now(),
            trigger,
            result: result.as_ref().map(Clone::clone).map_err(ToString::to_string),
        };
        *shared.latest.lock().unwrap_or_else(PoisonError::into_inner) = Some(latest);
        if let Some(reply) = reply {
            let _ = reply.send(result);
        }

        if busy {
            let wait = backoff.map_or(config.busy_retry, |b| b * 2).min(config.interval);
            backoff = Some(wait);
            next = Instant::now() + wait;
            next_trigger = Trigger::Retry;
        } else {
            backoff = None;
            next = Instant::now() + jitter.apply(config.interval, config.jitter);
            next_trigger = Trigger::Interval;
        }
    }
    info!("scheduler stopped");
}
