//! The workload generator and modules reproduce WORKLOAD.md's table.

use gc_examples::workload::{self, SplitMix64};

#[test]
fn splitmix64_matches_the_reference_sequence() {
    // splitmix64 seeded with 42: the first draws of the reference algorithm.
    let mut rng = SplitMix64::new(42);
    let first = rng.next_u64();
    let mut again = SplitMix64::new(42);
    assert_eq!(again.next_u64(), first);
    assert_eq!(SplitMix64::new(42).hex(2).len(), 32);
    assert_eq!(SplitMix64::new(0).next_u64(), 0xe220_a839_7b1d_cdaf);
}

#[tokio::test]
async fn counts_at_n_10000_equal_the_table() {
    let summary = workload::run(10_000, 2).await.unwrap();
    assert_eq!(summary.counts, [1000, 500, 29510, 2000]);
    let line = summary.to_string();
    assert!(
        line.starts_with("n=10000 counts=1000,500,29510,2000 cycle_ms min="),
        "{line}"
    );
}

#[tokio::test]
async fn bad_arguments_are_errors() {
    assert!(workload::run(0, 1).await.is_err());
    assert!(workload::run(10, 0).await.is_err());
}
