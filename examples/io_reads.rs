//! Reads run concurrently: four modules whose read waits 100 ms (I/O, not
//! CPU) make a cycle of about 100 ms, not 400.
//!
//! ```text
//! cargo run --release --example io_reads -- [cycles]
//! ```

use std::time::{Duration, Instant};

use gc_core::{Orchestrator, Phase};
use gc_testkit::FakeModule;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cycles: usize = std::env::args().nth(1).map_or(Ok(11), |s| s.parse())?;
    let mut builder = Orchestrator::builder();
    for name in ["images", "network", "snapshot", "vm"] {
        let m = FakeModule::builder(name).build();
        m.handle().delay(Phase::Read, Duration::from_millis(100));
        builder = builder.module(m);
    }
    let gc = builder.build()?;
    let mut times = Vec::new();
    for _ in 0..cycles.max(1) {
        let start = Instant::now();
        gc.run().await?;
        times.push(start.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "4 reads of 100 ms each: cycle_ms min={:.1} median={:.1} max={:.1} (serial reads would take 400)",
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1])
    );
    Ok(())
}
