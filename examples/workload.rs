//! The standard benchmark workload (`shared/bench/WORKLOAD.md`) through the
//! orchestrator.
//!
//! ```text
//! cargo run --release --example workload -- <N> <cycles> [--baseline] [--digest]
//! ```
//!
//! `--baseline` runs the same reads and set operations in a hand-written
//! loop without the framework; `--digest` uses gc-core's 32-byte `Digest`
//! for blob IDs instead of 64-character `String`s. Either adds its name to
//! the line printed.

use std::process::ExitCode;

use gc_core::Digest;
use gc_examples::workload::{Mode, run_with};

const USAGE: &str = "usage: workload [N] [cycles] [--baseline] [--digest]   (defaults: N=100000, cycles=5)";

fn parse() -> Result<Option<(usize, usize, Mode, bool)>, String> {
    let (mut numbers, mut mode, mut digest) = (Vec::new(), Mode::Framework, false);
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--baseline" => mode = Mode::Baseline,
            "--digest" => digest = true,
            _ => numbers.push(
                arg.parse::<usize>()
                    .map_err(|_| format!("expected a whole number, got {arg:?}\n{USAGE}"))?,
            ),
        }
    }
    if numbers.len() > 2 {
        return Err(format!("too many numbers\n{USAGE}"));
    }
    let n = numbers.first().copied().unwrap_or(100_000);
    let cycles = numbers.get(1).copied().unwrap_or(5);
    Ok(Some((n, cycles, mode, digest)))
}

#[tokio::main]
async fn main() -> ExitCode {
    let (n, cycles, mode, digest) = match parse() {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("workload: {e}");
            return ExitCode::from(2);
        }
    };
    let result = if digest {
        run_with::<Digest>(n, cycles, mode).await
    } else {
        run_with::<String>(n, cycles, mode).await
    };
    match result {
        Ok(summary) => {
            let mut tags = Vec::new();
            if mode == Mode::Baseline {
                tags.push("mode=baseline");
            }
            if digest {
                tags.push("ids=digest");
            }
            if tags.is_empty() {
                println!("{summary}");
            } else {
                println!("{summary} {}", tags.join(" "));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("workload: {e:#}");
            ExitCode::FAILURE
        }
    }
}
