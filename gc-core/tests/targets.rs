//! `Targets` keeps IDs in one `Vec`, reasons as runs and creation times only
//! once used: against a plain list of (ID, reason, created), whatever the
//! order of pushes, extends and retains, it says the same.

use std::time::{Duration, SystemTime};

use gc_core::Targets;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Push(u8),
    PushCreated(u8, u64),
    Extend(u8, u8),
}

type Model = Vec<(u32, String, Option<SystemTime>)>;

fn reason(r: u8) -> String {
    format!("reason {}", r % 3)
}

fn apply(ops: &[Op]) -> (Targets<u32>, Model) {
    let (mut targets, mut model) = (Targets::new(), Model::new());
    let mut next = 0u32;
    for op in ops {
        match *op {
            Op::Push(r) => {
                targets.push(next, reason(r));
                model.push((next, reason(r), None));
                next += 1;
            }
            Op::PushCreated(r, secs) => {
                let at = SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
                targets.push_created(next, reason(r), at);
                model.push((next, reason(r), Some(at)));
                next += 1;
            }
            Op::Extend(r, n) => {
                let ids: Vec<u32> = (next..next + u32::from(n)).collect();
                targets.extend(ids.iter().copied(), reason(r));
                model.extend(ids.into_iter().map(|id| (id, reason(r), None)));
                next += u32::from(n);
            }
        }
    }
    (targets, model)
}

fn assert_same(targets: &Targets<u32>, model: &Model) {
    assert_eq!(targets.len(), model.len());
    let seen: Model = targets
        .iter()
        .map(|t| (*t.id, t.reason.to_owned(), t.created))
        .collect();
    assert_eq!(&seen, model);
    for (i, (_, reason, created)) in model.iter().enumerate() {
        assert_eq!(targets.reason(i), reason);
        assert_eq!(targets.created(i), *created);
    }
    let ids: Vec<u32> = targets.clone().into_ids();
    assert_eq!(ids, model.iter().map(|(id, _, _)| *id).collect::<Vec<_>>());
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<u8>().prop_map(Op::Push),
        (any::<u8>(), 0..1000u64).prop_map(|(r, s)| Op::PushCreated(r, s)),
        (any::<u8>(), 0..5u8).prop_map(|(r, n)| Op::Extend(r, n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn targets_say_what_a_plain_list_says(ops in prop::collection::vec(op(), 0..40), keep in prop::collection::vec(any::<bool>(), 0..200)) {
        let (mut targets, model) = apply(&ops);
        assert_same(&targets, &model);

        let keep_at = |i: usize| keep.get(i).copied().unwrap_or(true);
        targets.retain(|i, _| keep_at(i));
        let kept: Model = model.into_iter().enumerate().filter(|(i, _)| keep_at(*i)).map(|(_, t)| t).collect();
        assert_same(&targets, &kept);

        // Equal however built: the same targets pushed one by one.
        let mut again = Targets::new();
        for (id, reason, created) in &kept {
            match created {
                Some(at) => again.push_created(*id, reason.clone(), *at),
                None => again.push(*id, reason.clone()),
            };
        }
        prop_assert_eq!(again, targets);
    }
}

#[test]
fn an_empty_extend_adds_no_reason() {
    let mut targets = Targets::new();
    targets.extend(Vec::<u32>::new(), "never used");
    targets.push(1, "used");
    assert_eq!(targets.reason(0), "used");
    assert_eq!(targets.iter().count(), 1);
}

#[test]
#[should_panic(expected = "out of bounds")]
fn reason_out_of_bounds_panics_like_indexing() {
    let targets = Targets::<u32>::new();
    let _ = targets.reason(0);
}
