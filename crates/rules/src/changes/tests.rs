use std::collections::BTreeSet;

use super::table::GroupFacts;
use super::*;
use crate::hashmath::shard_ranges;

fn state(n: i32, first: i64, colocation: i64) -> TableState {
    TableState {
        partition: Some(PartitionRow {
            method: "h".into(),
            column: Some("id".into()),
            colocation,
            repmodel: "s".into(),
        }),
        shards: shard_ranges(n)
            .into_iter()
            .enumerate()
            .map(|(i, (lo, hi))| ShardLayout {
                id: first + i as i64,
                min: Some(lo as i64),
                max: Some(hi as i64),
                groups: vec![1 + (i as i32 % 2)],
                inactive: vec![],
            })
            .collect(),
    }
}

fn ctx() -> Context {
    Context {
        active_groups: BTreeSet::from([0, 1, 2]),
        ..Default::default()
    }
}

fn class(old: Option<&TableState>, new: Option<&TableState>, c: &Context) -> Class {
    classify_table(old, new, c, &GroupFacts::default()).class
}

#[test]
fn citus_operations_on_a_table_are_expected() {
    let old = state(4, 100, 1);
    let mut moved = old.clone();
    moved.shards[0].groups = vec![2];
    let v = classify_table(Some(&old), Some(&moved), &ctx(), &GroupFacts::default());
    assert_eq!(v.class, Class::Expected);
    assert!(v.reason.starts_with("shard move"), "{}", v.reason);

    // split shard 100 in two new shards 104, 105
    let mut split = old.clone();
    let first = split.shards.remove(0);
    for (id, lo, hi, g) in [
        (104, first.min.unwrap(), first.min.unwrap() + 10, 1),
        (105, first.min.unwrap() + 11, first.max.unwrap(), 2),
    ] {
        split.shards.push(ShardLayout {
            id,
            min: Some(lo),
            max: Some(hi),
            groups: vec![g],
            inactive: vec![],
        });
    }
    assert_eq!(class(Some(&old), Some(&split), &ctx()), Class::Expected);

    // distributed, undistributed, redistributed with new shards in a new group
    assert_eq!(class(None, Some(&old), &ctx()), Class::Expected);
    assert_eq!(class(Some(&old), None, &ctx()), Class::Expected);
    assert_eq!(
        class(Some(&old), Some(&state(8, 200, 5)), &ctx()),
        Class::Expected
    );
}

#[test]
fn a_forged_colocation_id_is_unexpected_a_real_move_is_not() {
    let old = state(4, 100, 1);
    let mut forged = old.clone();
    forged.partition.as_mut().unwrap().colocation = 99;
    let none = GroupFacts::default();
    let v = classify_table(Some(&old), Some(&forged), &ctx(), &none);
    assert_eq!(v.class, Class::Unexpected, "{}", v.reason);

    // into a group whose tables have other nodes: Citus refuses, so a hand edit
    let mut elsewhere = state(4, 300, 7);
    elsewhere.shards[0].groups = vec![2];
    let g = GroupFacts {
        exists: true,
        fresh: false,
        sibling: Some(elsewhere.shards),
    };
    assert_eq!(
        classify_table(Some(&old), Some(&forged), &ctx(), &g).class,
        Class::Unexpected
    );

    // into a group it lines up with, or a fresh group of its own: update_distributed_table_colocation
    let g = GroupFacts {
        exists: true,
        fresh: false,
        sibling: Some(state(4, 300, 7).shards),
    };
    assert_eq!(
        classify_table(Some(&old), Some(&forged), &ctx(), &g).class,
        Class::Expected
    );
    let g = GroupFacts {
        exists: true,
        fresh: true,
        sibling: None,
    };
    assert_eq!(
        classify_table(Some(&old), Some(&forged), &ctx(), &g).class,
        Class::Expected
    );
}

#[test]
fn tampering_is_unexpected_unless_a_decision_explains_it() {
    let old = state(4, 100, 1);
    let mut tampered = old.clone();
    tampered.shards[0].max = Some(tampered.shards[0].max.unwrap() - 5);
    assert_eq!(
        class(Some(&old), Some(&tampered), &ctx()),
        Class::Unexpected
    );
    let mut lost = old.clone();
    lost.shards[2].groups = vec![9];
    assert_eq!(class(Some(&old), Some(&lost), &ctx()), Class::Unexpected);
    let mut state4 = old.clone();
    state4.shards[1].inactive = vec![(1, 4)];
    assert_eq!(class(Some(&old), Some(&state4), &ctx()), Class::Unexpected);
    let mut column = old.clone();
    column.partition.as_mut().unwrap().column = Some("other".into());
    assert_eq!(class(Some(&old), Some(&column), &ctx()), Class::Unexpected);

    let hatch = Context {
        hatch: Some("OPS-1".into()),
        ..ctx()
    };
    let v = classify_table(Some(&old), Some(&tampered), &hatch, &GroupFacts::default());
    assert_eq!(v.class, Class::Expected);
    assert!(v.reason.contains("allow_once: OPS-1"), "{}", v.reason);
}

#[test]
fn a_move_the_workers_did_not_follow_is_a_hand_edit() {
    let old = state(4, 100, 1);
    let mut moved = old.clone();
    moved.shards[0].groups = vec![2];
    let not_followed = Context {
        propagated: Some(false),
        ..ctx()
    };
    let v = classify_table(
        Some(&old),
        Some(&moved),
        &not_followed,
        &GroupFacts::default(),
    );
    assert_eq!(v.class, Class::Unexpected);
    assert!(v.reason.contains("coordinator only"), "{}", v.reason);
    let followed = Context {
        propagated: Some(true),
        ..ctx()
    };
    assert_eq!(class(Some(&old), Some(&moved), &followed), Class::Expected);
}

#[test]
fn states_round_trip_and_legacy_layouts_still_read() {
    let s = state(3, 7, 2);
    assert_eq!(TableState::decode(&s.encode()), s);
    let legacy =
        TableState::decode("7|-2147483648|-715827884|1\n8|-715827883|715827881|2,1\ngarbage");
    assert_eq!(legacy.partition, None);
    assert_eq!(legacy.shards.len(), 2);
    assert_eq!(legacy.shards[1].groups, vec![2, 1]);
    // an old layout against a new state: judged on the shards alone
    let mut new = state(3, 7, 2);
    new.shards = legacy.shards.clone();
    assert_eq!(class(Some(&legacy), Some(&new), &ctx()), Class::Expected);
}

fn node(id: i32, group: i32) -> NodeRow {
    NodeRow {
        id,
        group,
        name: format!("n{id}"),
        port: 5432,
        active: true,
        role: "primary".into(),
        should_have_shards: true,
    }
}

#[test]
fn node_catalog_changes_citus_makes_and_those_it_does_not() {
    let old = vec![node(1, 0), node(2, 1), node(3, 2)];
    let placed = BTreeSet::from([1, 2]);
    let cls = |new: &[NodeRow], c: &Context| classify_nodes(Some(&old), new, c, &placed).class;

    let mut added = old.clone();
    added.push(node(4, 3));
    assert_eq!(cls(&added, &ctx()), Class::Expected);
    let mut drained = old.clone();
    drained[2].should_have_shards = false;
    assert_eq!(cls(&drained, &ctx()), Class::Expected);
    let mut disabled = old.clone();
    disabled[1].active = false;
    assert_eq!(cls(&disabled, &ctx()), Class::Expected);

    // removing a node that still holds placements, regrouping, reusing an id: never Citus
    assert_eq!(cls(&old[..2], &ctx()), Class::Unexpected);
    let mut regrouped = old.clone();
    regrouped[1].group = 7;
    assert_eq!(cls(&regrouped, &ctx()), Class::Unexpected);
    let reused = vec![node(1, 0), node(2, 1), node(3, 2)];
    let mut lower = old.clone();
    lower.remove(1);
    assert_eq!(
        classify_nodes(Some(&lower), &reused, &ctx(), &placed).class,
        Class::Unexpected
    );

    // an empty node removed: expected; the same edit only on the coordinator: a hand edit
    let empty = BTreeSet::from([1]);
    assert_eq!(
        classify_nodes(Some(&old), &old[..2], &ctx(), &empty).class,
        Class::Expected
    );
    let hand = Context {
        propagated: Some(false),
        ..ctx()
    };
    assert_eq!(cls(&disabled, &hand), Class::Unexpected);
}

fn group(id: i64, shards: i32) -> ColocationRow {
    ColocationRow {
        id,
        shard_count: shards,
        replication_factor: 1,
        type_name: Some("pg_catalog.int8".into()),
        collation: None,
    }
}

#[test]
fn colocation_catalog_changes() {
    let old = vec![group(1, 4), group(2, 8)];
    let used = BTreeSet::from([1, 2, 3]);
    let cls = |new: &[ColocationRow], used: &BTreeSet<i64>| {
        classify_colocation(Some(&old), new, &ctx(), used).class
    };
    assert_eq!(
        cls(&[group(1, 4), group(2, 8), group(3, 4)], &used),
        Class::Expected
    );
    assert_eq!(cls(&[group(1, 4)], &BTreeSet::from([1])), Class::Expected);
    assert_eq!(
        cls(&[group(1, 4)], &used),
        Class::Unexpected,
        "group 2 is still used"
    );
    assert_eq!(
        cls(&[group(1, 3), group(2, 8)], &used),
        Class::Unexpected,
        "changed in place"
    );
    // rows not recorded before the upgrade: only propagation can tell
    assert_eq!(
        classify_colocation(None, &old, &ctx(), &used).class,
        Class::Expected
    );
    let hand = Context {
        propagated: Some(false),
        ..ctx()
    };
    assert_eq!(
        classify_colocation(None, &old, &hand, &used).class,
        Class::Unexpected
    );
}
