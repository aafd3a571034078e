//! The defects fixed with the shared call semantics, one table per rule. Expected rule lists
//! and texts are written out from Citus's sources, not computed by the rules.

use super::*;
use crate::call::{describe_call, Arg, CitusFunction, Value};
use crate::testing::*;

fn group(
    id: u32,
    shards: i32,
    actual: i32,
    type_oid: u32,
    collation: u32,
    tables: &[&str],
) -> ColocationGroup {
    ColocationGroup {
        id,
        shard_count: shards,
        actual_shard_count: actual,
        replication_factor: 1,
        type_oid,
        type_name: "bigint".into(),
        collation,
        tables: tables.iter().map(|s| s.to_string()).collect(),
    }
}

fn table(name: &str, col: ColumnFacts, siblings: &[&str]) -> TableFacts {
    TableFacts {
        name: name.into(),
        has_replica_identity: true,
        colocation_id: None,
        colocated_with: siblings.iter().map(|s| s.to_string()).collect(),
        primary_key: vec![],
        key_columns: vec![],
        column: Some(col),
    }
}

fn rules(f: &[Finding]) -> Vec<RuleId> {
    f.iter().map(|f| f.rule).collect()
}

fn settings(shard_count: i32) -> Settings {
    Settings {
        shard_count,
        ..Settings::default()
    }
}

fn create(
    concurrently: bool,
    t: TableFacts,
    colocate_with: ColocateWith,
    shard_count: Option<i32>,
) -> DistCall {
    DistCall::CreateDistributedTable {
        concurrently,
        distribution_column: t.column.as_ref().map(|c| c.name.clone()),
        table: t,
        distribution_type: "hash".into(),
        colocate_with,
        shard_count,
    }
}

fn alter(
    t: TableFacts,
    n: i32,
    colocate_with: Option<ColocateWith>,
    cascade: Option<bool>,
) -> DistCall {
    DistCall::AlterDistributedTable {
        table: t,
        distribution_column: None,
        shard_count: Some(n),
        colocate_with,
        cascade_to_colocated: cascade,
    }
}

/// Defect 1: `colocate_with => 'default'` with a shard count moves the table out of its group
/// exactly like leaving colocate_with out (alter_table.c CreateDistributedTableLike).
#[test]
fn alter_with_colocate_with_default_splits_the_group_too() {
    let o = table("o", column("user_id", INT8), &["users"]);
    let c = Cluster {
        groups: vec![group(1, 32, 32, INT8, 0, &["o", "users"])],
        shard_nodes: 0,
    };
    use ColocateWith as C;
    type Case = (
        &'static str,
        Option<ColocateWith>,
        Option<bool>,
        Vec<RuleId>,
    );
    let cases: Vec<Case> = vec![
        (
            "left out, cascade false",
            None,
            Some(false),
            vec![RuleId::ShardCountColocation],
        ),
        (
            "'default', cascade false",
            Some(C::Default),
            Some(false),
            vec![RuleId::ShardCountColocation],
        ),
        (
            "'default', cascade left out",
            Some(C::Default),
            None,
            vec![RuleId::ShardCountColocation],
        ),
        (
            "'default', cascade true",
            Some(C::Default),
            Some(true),
            vec![],
        ),
        (
            "'none': a new group on purpose",
            Some(C::None),
            Some(false),
            vec![],
        ),
        (
            "a table",
            Some(C::Table("users".into())),
            Some(false),
            vec![],
        ),
    ];
    for (what, cw, cascade, want) in cases {
        let f = check_distribution_call(&alter(o.clone(), 48, cw, cascade), &c, &settings(32));
        assert_eq!(rules(&f), want, "{what}");
    }
    let f = check_distribution_call(
        &alter(o.clone(), 48, Some(C::Default), Some(false)),
        &c,
        &settings(32),
    );
    assert_eq!(
        f[0].remediation.as_deref(),
        Some(
            "SELECT alter_distributed_table('o', shard_count => 48, cascade_to_colocated => true);"
        )
    );

    // The same through the front ends' path, however it is spelled or passed.
    let mut cat = FakeCatalog::default();
    let t = cat.add("o", vec![column("user_id", INT8)]);
    t.dist_column = Some("user_id".into());
    t.facts.colocated_with = vec!["users".into()];
    for args in [
        vec![
            Arg::positional(Value::Text("o".into())),
            Arg::named("shard_count", Value::Text("48".into())),
            Arg::named("colocate_with", Value::Text("default".into())),
            Arg::named("cascade_to_colocated", Value::Text("false".into())),
        ],
        vec![
            Arg::positional(Value::Text("o".into())),
            Arg::positional(Value::Null),
            Arg::positional(Value::Text("48".into())),
            Arg::positional(Value::Text("default".into())),
            Arg::positional(Value::Text("f".into())),
        ],
    ] {
        let call =
            describe_call(CitusFunction::AlterDistributedTable, args, &mut cat).expect("described");
        assert_eq!(
            rules(&check_distribution_call(&call, &c, &settings(32))),
            vec![RuleId::ShardCountColocation]
        );
    }
}

/// Defect 5: only what Citus does not refuse itself gets a shard-count-range finding, with a
/// detail that says what really happens.
/// * create_distributed_table: 1..64000 checked (create_distributed_table.c:266 / :267).
/// * create_distributed_table_concurrently: nothing checked; 0 divides by zero in
///   HashSplitPointsForShardCount (:856 / :850) after the table became a Citus local table;
///   above 64000 the shard split refuses (operations/shard_split.c:277 / :279), also after it.
/// * alter_distributed_table: 0 refused (alter_table.c:2020 / :2017); negatives fail in
///   create_shards.c:115 and roll back; above 64000 nothing refuses.
#[test]
fn shard_count_bounds_are_the_ones_citus_does_not_enforce() {
    let t = || table("o", column("user_id", INT8), &[]);
    let c = Cluster {
        groups: vec![group(1, 24, 24, INT8, 0, &["users"])],
        shard_nodes: 2,
    };
    type Case = (
        &'static str,
        DistCall,
        Settings,
        Vec<RuleId>,
        &'static [&'static str],
    );
    let cases: Vec<Case> = vec![
        (
            "create 0",
            create(false, t(), ColocateWith::Default, Some(0)),
            settings(24),
            vec![],
            &[],
        ),
        (
            "create -1",
            create(false, t(), ColocateWith::Default, Some(-1)),
            settings(24),
            vec![],
            &[],
        ),
        (
            "create 64001",
            create(false, t(), ColocateWith::Default, Some(64001)),
            settings(24),
            vec![],
            &[],
        ),
        (
            "concurrently 0",
            create(true, t(), ColocateWith::Default, Some(0)),
            settings(24),
            vec![RuleId::ShardCountRange],
            &["floating-point exception", "Citus local table"],
        ),
        (
            "concurrently -1",
            create(true, t(), ColocateWith::None, Some(-1)),
            settings(24),
            vec![RuleId::ShardCountRange],
            &["does not check shard_count", "Citus local table"],
        ),
        (
            "concurrently 64001",
            create(true, t(), ColocateWith::Default, Some(64001)),
            settings(24),
            vec![RuleId::ShardCountRange],
            &["greater than max shard count", "Citus local table"],
        ),
        (
            "concurrently 0 with citus.shard_replication_factor 2: Citus refuses first",
            create(true, t(), ColocateWith::Default, Some(0)),
            Settings {
                replication_factor: 2,
                ..settings(24)
            },
            vec![],
            &[],
        ),
        (
            "concurrently 0 with a colocate_with table: Citus refuses first",
            create(true, t(), ColocateWith::Table("users".into()), Some(0)),
            settings(24),
            vec![],
            &[],
        ),
        (
            "alter 0",
            alter(t(), 0, None, None),
            settings(24),
            vec![],
            &[],
        ),
        (
            "alter -5",
            alter(t(), -5, None, Some(true)),
            settings(24),
            vec![],
            &[],
        ),
        (
            "alter 64001",
            alter(t(), 64001, None, None),
            settings(24),
            vec![RuleId::ShardCountRange],
            &["checks only shard_count = 0", "64001 shards"],
        ),
    ];
    for (what, call, s, want, detail) in cases {
        let f = check_distribution_call(&call, &c, &s);
        assert_eq!(rules(&f), want, "{what}");
        for d in detail {
            assert!(
                f[0].detail.contains(d),
                "{what}: {:?} lacks {d:?}",
                f[0].detail
            );
        }
        for f in &f {
            assert!(
                !f.detail.contains("does not check this bound"),
                "{what}: {}",
                f.detail
            );
        }
    }
    let f = check_distribution_call(
        &create(true, t(), ColocateWith::Default, Some(0)),
        &c,
        &settings(24),
    );
    assert_eq!(
        f[0].remediation.as_deref(),
        Some("SELECT create_distributed_table_concurrently('o', 'user_id');")
    );
    let f = check_distribution_call(&alter(t(), 64001, None, None), &c, &settings(24));
    assert_eq!(
        f[0].remediation.as_deref(),
        Some("SELECT alter_distributed_table('o', shard_count => 64000);")
    );
}

/// Citus 13 keys create_distributed_table's default group on the type's collation,
/// create_distributed_table_concurrently on the column's; Citus 14 on the column's everywhere.
#[test]
fn the_colocation_key_follows_the_citus_version_met_at_run_time() {
    const C_COLLATION: u32 = 950;
    let mut col = column("k", TEXT);
    col.collation = C_COLLATION; // k text COLLATE "C"
    let c = Cluster {
        groups: vec![
            group(1, 32, 32, TEXT, DEFAULT_COLLATION, &["a"]),
            group(2, 24, 24, TEXT, C_COLLATION, &["c"]),
        ],
        shard_nodes: 0,
    };
    let cases: Vec<(u32, bool, Vec<RuleId>, Option<&str>)> = vec![
        (13, false, vec![], None),
        (
            13,
            true,
            vec![RuleId::ShardCountColocation],
            Some("SELECT create_distributed_table_concurrently('n', 'k', colocate_with => 'c');"),
        ),
        (
            14,
            false,
            vec![RuleId::ShardCountColocation],
            Some("SELECT create_distributed_table('n', 'k', colocate_with => 'c');"),
        ),
        (
            14,
            true,
            vec![RuleId::ShardCountColocation],
            Some("SELECT create_distributed_table_concurrently('n', 'k', colocate_with => 'c');"),
        ),
    ];
    for (major, concurrently, want, fix) in cases {
        let s = Settings {
            citus_major: major,
            ..settings(32)
        };
        let f = check_distribution_call(
            &create(
                concurrently,
                table("n", col.clone(), &[]),
                ColocateWith::Default,
                None,
            ),
            &c,
            &s,
        );
        assert_eq!(
            rules(&f),
            want,
            "Citus {major}, concurrently {concurrently}"
        );
        assert_eq!(f.first().and_then(|f| f.remediation.as_deref()), fix);
    }
    assert_eq!(Settings::default().citus_major, 13);
}

/// ColocationId takes the smallest matching group id; with an explicit shard_count that one
/// group is dropped when its tables have another count, and Citus starts a new group rather
/// than trying the next (colocation_utils.c:1414-1440 / :1387-1415).
#[test]
fn an_explicit_shard_count_checks_only_the_first_matching_group() {
    let c = Cluster {
        groups: vec![
            group(1, 24, 25, INT8, 0, &["a"]),
            group(3, 24, 24, INT8, 0, &["b"]),
        ],
        shard_nodes: 0,
    };
    let col = column("k", INT8);
    assert_eq!(
        default_group(false, &col, &c, &settings(32), Some(24)).map(|g| g.id),
        None
    );
    assert_eq!(
        default_group(false, &col, &c, &settings(24), None).map(|g| g.id),
        Some(1)
    );
    let f = check_distribution_call(
        &create(false, table("n", col, &[]), ColocateWith::Default, Some(24)),
        &c,
        &settings(32),
    );
    assert_eq!(rules(&f), vec![RuleId::ShardCountColocation]);
}

/// Defect 4: after a split the group records 24 shards and has 27. `shard_count => 27` would
/// start a new group (and be blocked); the hint must not offer it.
#[test]
fn after_a_split_the_hint_does_not_offer_a_shard_count_that_would_be_blocked() {
    let c = Cluster {
        groups: vec![group(1, 24, 27, INT8, 0, &["users"])],
        shard_nodes: 3,
    };
    let f = check_distribution_call(
        &create(
            false,
            table("orders", column("user_id", INT8), &[]),
            ColocateWith::Default,
            None,
        ),
        &c,
        &settings(48),
    );
    assert_eq!(rules(&f), vec![RuleId::ShardCountColocation]);
    assert!(!f[0].hint.contains("shard_count => 27"), "{}", f[0].hint);
    assert!(
        f[0].hint.contains("SET citus.shard_count = 24;"),
        "{}",
        f[0].hint
    );
    assert_eq!(
        f[0].remediation.as_deref(),
        Some("SELECT create_distributed_table('orders', 'user_id', colocate_with => 'users');")
    );
}

#[test]
fn calls_render_as_sql_with_defaults_left_out() {
    let t = || table("o'x", column("user_id", INT8), &[]);
    let cases: Vec<(DistCall, &str)> = vec![
        (
            create(false, t(), ColocateWith::Default, None),
            "SELECT create_distributed_table('o''x', 'user_id');",
        ),
        (
            create(true, t(), ColocateWith::None, Some(8)),
            "SELECT create_distributed_table_concurrently('o''x', 'user_id', colocate_with => 'none', shard_count => 8);",
        ),
        (
            alter(t(), 8, Some(ColocateWith::Default), Some(false)),
            "SELECT alter_distributed_table('o''x', shard_count => 8, colocate_with => 'default', cascade_to_colocated => false);",
        ),
        (
            DistCall::UpdateDistributedTableColocation {
                table: t(),
                colocate_with: ColocateWith::Table("users".into()),
            },
            "SELECT update_distributed_table_colocation('o''x', 'users');",
        ),
    ];
    for (call, want) in cases {
        assert_eq!(render_call(&call), want);
    }
}
