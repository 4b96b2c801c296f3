//! The standard benchmark workload (`shared/bench/WORKLOAD.md`) through the
//! orchestrator.
//!
//! ```text
//! cargo run --release --example workload -- <N> <cycles>
//! ```

use std::process::ExitCode;

const USAGE: &str = "usage: workload [N] [cycles]   (defaults: N=100000, cycles=5)";

fn parse(arg: Option<String>, default: usize, what: &str) -> Result<usize, String> {
    match arg {
        None => Ok(default),
        Some(s) => s
            .parse()
            .map_err(|_| format!("{what} must be a whole number, got {s:?}\n{USAGE}")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if matches!(first.as_deref(), Some("-h" | "--help")) {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let parsed = parse(first, 100_000, "N").and_then(|n| Ok((n, parse(args.next(), 5, "cycles")?)));
    let (n, cycles) = match parsed {
        Ok(v) => v,
        Err(e) => {
            eprintln!("workload: {e}");
            return ExitCode::from(2);
        }
    };
    match gc_examples::workload::run(n, cycles).await {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("workload: {e:#}");
            ExitCode::FAILURE
        }
    }
}
