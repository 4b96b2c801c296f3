//! The scheduler, under tokio's paused time: fast and deterministic.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use gc_core::{Event, GcError, Orchestrator, Phase, Scheduler, SchedulerConfig, Trigger, TriggerError};
use gc_testkit::{FakeHandle, FakeModule};
use tokio::time::Instant;

/// An orchestrator over one fake module, and the instants its cycles began.
fn setup(objects: &[&str]) -> (Orchestrator, FakeHandle, Arc<Mutex<Vec<Instant>>>) {
    let m = FakeModule::builder("store").objects(objects.iter().copied()).build();
    let h = m.handle();
    let starts = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&starts);
    let gc = Orchestrator::builder()
        .module(m)
        .observer(move |e: &Event| {
            if matches!(e, Event::CycleStarted { .. }) {
                seen.lock().unwrap().push(Instant::now());
            }
        })
        .build()
        .unwrap();
    (gc, h, starts)
}

fn gaps(starts: &[Instant]) -> Vec<Duration> {
    starts.windows(2).map(|w| w[1] - w[0]).collect()
}

#[tokio::test(start_paused = true)]
async fn cycles_follow_the_interval_within_the_jitter_bounds_after_the_startup_delay() {
    let (gc, _h, starts) = setup(&[]);
    let t0 = Instant::now();
    let config = SchedulerConfig {
        interval: Duration::from_secs(60),
        jitter: 0.25,
        startup_delay: Duration::from_secs(30),
        ..SchedulerConfig::default()
    };
    let s = Scheduler::start(gc, config);
    tokio::time::sleep(Duration::from_secs(60 * 40)).await;
    s.shutdown().await;
    let starts = starts.lock().unwrap().clone();
    assert!(starts.len() >= 30, "{} cycles", starts.len());
    assert!(
        starts[0] - t0 >= Duration::from_secs(30),
        "the first cycle came before the startup delay"
    );
    assert!(starts[0] - t0 < Duration::from_secs(31));
    let gaps = gaps(&starts);
    for g in &gaps {
        assert!(
            *g >= Duration::from_secs(45) && *g <= Duration::from_secs(75),
            "gap {g:?} outside 60 s ± 25%"
        );
    }
    // Jitter does vary the waits.
    let (min, max) = (gaps.iter().min().unwrap(), gaps.iter().max().unwrap());
    assert!(*max - *min > Duration::from_secs(5), "no jitter: {min:?}..{max:?}");
}

#[tokio::test(start_paused = true)]
async fn a_trigger_returns_the_report_of_the_cycle_it_caused() {
    let (gc, h, _) = setup(&["a", "b"]);
    let config = SchedulerConfig {
        interval: Duration::from_secs(3600),
        startup_delay: Duration::from_secs(3600),
        ..SchedulerConfig::default()
    };
    let s = Scheduler::start(gc, config);
    let report = s.trigger().await.unwrap();
    assert_eq!(report.total_collected(), 2);
    assert!(h.objects().is_empty());
    let latest = s.latest().unwrap();
    assert_eq!(latest.trigger, Trigger::OnDemand);
    assert_eq!(latest.result.unwrap().total_collected(), 2);
    s.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_trigger_reports_an_aborted_cycle_as_its_error() {
    let (gc, h, _) = setup(&["a"]);
    let s = Scheduler::start(gc, SchedulerConfig::default());
    let writer = h.locker().hold().await;
    let err = s.trigger().await.unwrap_err();
    assert!(matches!(err, TriggerError::Cycle(GcError::Skipped { .. })), "{err}");
    assert!(s.latest().unwrap().result.unwrap_err().contains("store (lock busy)"));
    drop(writer);
    s.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn the_mutation_threshold_triggers_a_cycle() {
    let (gc, h, starts) = setup(&[]);
    let config = SchedulerConfig {
        interval: Duration::from_secs(3600),
        startup_delay: Duration::from_secs(3600),
        mutation_threshold: Some(10),
        ..SchedulerConfig::default()
    };
    let s = Scheduler::start(gc, config);
    h.insert(["x"]);
    s.notify(4);
    s.notify(4);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(starts.lock().unwrap().is_empty(), "a cycle ran below the threshold");
    assert_eq!(s.pending_mutations(), 8);
    s.notify(4);
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(starts.lock().unwrap().len(), 1);
    assert_eq!(s.latest().unwrap().trigger, Trigger::Mutations);
    assert!(h.objects().is_empty());
    assert_eq!(s.pending_mutations(), 0, "the counter restarts with the cycle");
    s.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn the_pause_budget_bounds_the_share_of_time_in_cycles() {
    let (gc, h, starts) = setup(&[]);
    h.delay(Phase::Read, Duration::from_secs(1)); // each cycle takes 1 s
    let config = SchedulerConfig {
        interval: Duration::from_secs(1),
        jitter: 0.0,
        pause_budget: Some(0.1),
        ..SchedulerConfig::default()
    };
    let t0 = Instant::now();
    let s = Scheduler::start(gc, config);
    tokio::time::sleep(Duration::from_secs(200)).await;
    s.shutdown().await;
    let starts = starts.lock().unwrap().clone();
    // Without the budget: a cycle every 2 s (1 s cycle + 1 s interval), 100
    // in all. With it: at most 10% of the time, so about 20.
    assert!((15..=21).contains(&starts.len()), "{} cycles", starts.len());
    let elapsed = Instant::now() - t0;
    let share = starts.len() as f64 / elapsed.as_secs_f64();
    assert!(share <= 0.11, "{share:.3} of the time in cycles");
}

#[tokio::test(start_paused = true)]
async fn a_busy_lock_backs_off_doubling_up_to_the_interval() {
    let (gc, h, starts) = setup(&["a"]);
    let config = SchedulerConfig {
        interval: Duration::from_secs(30),
        jitter: 0.0,
        busy_retry: Duration::from_secs(1),
        ..SchedulerConfig::default()
    };
    let writer = h.locker().hold().await;
    let s = Scheduler::start(gc, config);
    tokio::time::sleep(Duration::from_secs(100)).await;
    let gaps: Vec<u64> = gaps(&starts.lock().unwrap()).iter().map(Duration::as_secs).collect();
    assert_eq!(&gaps[..6], [1, 2, 4, 8, 16, 30], "{gaps:?}");
    assert_eq!(s.latest().unwrap().trigger, Trigger::Retry);
    // Once the lock is free, the next retry collects, and the interval resumes.
    drop(writer);
    tokio::time::sleep(Duration::from_secs(31)).await;
    assert!(h.objects().is_empty());
    assert_eq!(s.latest().unwrap().trigger, Trigger::Retry);
    let before = starts.lock().unwrap().len();
    tokio::time::sleep(Duration::from_secs(31)).await;
    assert_eq!(starts.lock().unwrap().len(), before + 1);
    assert_eq!(s.latest().unwrap().trigger, Trigger::Interval);
    s.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_the_cycle_in_flight_and_leaves_no_lock_held() {
    let (gc, h, _) = setup(&["a", "b"]);
    h.delay(Phase::Collect, Duration::from_secs(5));
    let s = Scheduler::start(gc, SchedulerConfig::default());
    h.entered(Phase::Collect).await; // the first cycle is collecting
    let start = Instant::now();
    s.shutdown().await;
    assert!(
        start.elapsed() >= Duration::from_secs(4),
        "shutdown did not wait for the cycle"
    );
    assert!(h.objects().is_empty(), "the cycle in flight did not finish");
    h.locker().assert_all_released();
}

#[tokio::test]
async fn progress_events_count_a_long_collect() {
    // collect_each reports progress per ID through the observers.
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let m = FakeModule::builder("store").objects(["a", "b", "c"]).build();
    let gc = Orchestrator::builder()
        .module(m)
        .observer(move |e: &Event| seen.lock().unwrap().push(e.clone()))
        .build()
        .unwrap();
    gc.run().await.unwrap();
    let events = events.lock().unwrap();
    assert!(matches!(
        events[0],
        Event::CycleStarted {
            dry_run: false,
            modules: 1
        }
    ));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::CollectStarted { targets: 3, .. }))
    );
    assert!(events.iter().any(|e| matches!(
        e,
        Event::CollectFinished {
            collected: 3,
            failed: 0,
            ..
        }
    )));
    assert!(matches!(events.last(), Some(Event::CycleFinished { collected: 3, .. })));
    let phases: Vec<Phase> = events
        .iter()
        .filter_map(|e| match e {
            Event::PhaseFinished { phase, .. } => Some(*phase),
            _ => None,
        })
        .collect();
    assert_eq!(
        phases,
        [
            Phase::Acquire,
            Phase::Read,
            Phase::Resolve,
            Phase::Collect,
            Phase::Release
        ]
    );
}

/// Removes its IDs one at a time through collect_each.
struct Each(gc_core::LocalLocker);
struct Ids(Vec<String>);
impl gc_core::Snapshot for Ids {}
impl gc_core::GcModule for Each {
    type Snapshot = Ids;
    type Id = String;
    fn name(&self) -> &str {
        "each"
    }
    fn locker(&self) -> &dyn gc_core::Locker {
        &self.0
    }
    async fn read(&self) -> anyhow::Result<Ids> {
        Ok(Ids((0..5).map(|i| format!("id{i}")).collect()))
    }
    fn resolve(&self, s: &Ids, _: &gc_core::Others<'_>) -> anyhow::Result<gc_core::Targets<String>> {
        Ok(s.0.iter().map(|i| (i.clone(), "all")).collect())
    }
    async fn collect(&self, ids: Vec<String>) -> anyhow::Result<gc_core::CollectOutcome<String>> {
        Ok(gc_core::collect_each(ids, 2, |id| async move {
            anyhow::ensure!(id != "id3", "busy");
            Ok(())
        })
        .await)
    }
}

#[tokio::test]
async fn collect_each_reports_progress_per_id() {
    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&progress);
    let gc = Orchestrator::builder()
        .module(Each(gc_core::LocalLocker::new()))
        .observer(move |e: &Event| {
            if let Event::Progress {
                module,
                done,
                failed,
                total,
            } = e
            {
                seen.lock().unwrap().push((module.clone(), *done, *failed, *total));
            }
        })
        .build()
        .unwrap();
    gc.run().await.unwrap();
    let progress = progress.lock().unwrap();
    assert_eq!(progress.len(), 5);
    assert!(progress.iter().all(|(m, _, _, total)| m == "each" && *total == 5));
    assert_eq!(progress.iter().map(|p| p.1).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert_eq!(progress.last().unwrap().2, 1, "one ID failed");
}
