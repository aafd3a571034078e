use super::*;
use crate::Severity;
use proptest::prelude::*;

const INT8: u32 = 20;
const INT4: u32 = 23;

fn bigint(name: &str) -> ColumnFacts {
    ColumnFacts {
        name: name.into(),
        type_name: "bigint".into(),
        type_oid: INT8,
        collation: 0,
        type_collation: 0,
        enum_based: false,
        not_null: true,
        tiny_domain: false,
    }
}

fn table(name: &str, col: ColumnFacts) -> TableFacts {
    TableFacts {
        name: name.into(),
        has_replica_identity: true,
        colocation_id: None,
        colocated_with: vec![],
        primary_key: vec![],
        key_columns: vec![],
        column: Some(col),
    }
}

fn group(id: u32, shards: i32, type_oid: u32, tables: &[&str]) -> ColocationGroup {
    ColocationGroup {
        id,
        shard_count: shards,
        actual_shard_count: shards,
        replication_factor: 1,
        type_oid,
        type_name: if type_oid == INT8 {
            "bigint"
        } else {
            "integer"
        }
        .into(),
        collation: 0,
        tables: tables.iter().map(|s| s.to_string()).collect(),
    }
}

fn users_cluster() -> Cluster {
    Cluster {
        groups: vec![group(1, 24, INT8, &["users"])],
        shard_nodes: 2,
    }
}

fn create(table: TableFacts, colocate_with: ColocateWith, shard_count: Option<i32>) -> DistCall {
    DistCall::CreateDistributedTable {
        concurrently: false,
        table,
        distribution_column: Some("user_id".into()),
        distribution_type: "hash".into(),
        colocate_with,
        shard_count,
    }
}

fn rules(f: &[Finding]) -> Vec<RuleId> {
    f.iter().map(|f| f.rule).collect()
}

fn settings(shard_count: i32) -> Settings {
    Settings {
        shard_count,
        replication_factor: 1,
        ..Settings::default()
    }
}

#[test]
fn the_seed_incident_is_blocked_with_the_fix_in_the_hint() {
    // SET citus.shard_count = 48; SELECT create_distributed_table('orders', 'user_id');
    let call = create(
        table("orders", bigint("user_id")),
        ColocateWith::Default,
        None,
    );
    let f = check_distribution_call(&call, &users_cluster(), &settings(48));
    assert_eq!(rules(&f), vec![RuleId::ShardCountColocation]);
    let f = &f[0];
    assert_eq!(f.severity, Severity::Block);
    assert!(f.message.contains("orders"), "{}", f.message);
    assert!(f.detail.contains("citus.shard_count is 48"), "{}", f.detail);
    assert!(
        f.detail.contains("group 1 has 24 shards (users)"),
        "{}",
        f.detail
    );
    assert!(f.hint.contains("colocate_with => 'users'"), "{}", f.hint);
    assert!(f.hint.contains("shard_count => 24"), "{}", f.hint);
    assert_eq!(
        f.remediation.as_deref(),
        Some("SELECT create_distributed_table('orders', 'user_id', colocate_with => 'users');")
    );
}

#[test]
fn matching_shard_count_or_explicit_colocation_passes() {
    let t = table("orders", bigint("user_id"));
    let c = users_cluster();
    assert!(check_distribution_call(
        &create(t.clone(), ColocateWith::Default, None),
        &c,
        &settings(24)
    )
    .is_empty());
    assert!(check_distribution_call(
        &create(t.clone(), ColocateWith::Default, Some(24)),
        &c,
        &settings(48)
    )
    .is_empty());
    assert!(check_distribution_call(
        &create(t.clone(), ColocateWith::Table("users".into()), None),
        &c,
        &settings(48)
    )
    .is_empty());
    // 'none' is an explicit choice of a new group; only the node rule can still speak.
    let f = check_distribution_call(&create(t, ColocateWith::None, None), &c, &settings(48));
    assert!(!rules(&f).contains(&RuleId::ShardCountColocation));
}

#[test]
fn explicit_shard_count_that_differs_is_blocked_too() {
    let call = create(
        table("orders", bigint("user_id")),
        ColocateWith::Default,
        Some(48),
    );
    let f = check_distribution_call(&call, &users_cluster(), &settings(24));
    assert_eq!(rules(&f), vec![RuleId::ShardCountColocation]);
    assert!(
        f[0].detail.starts_with("shard_count => 48"),
        "{}",
        f[0].detail
    );
}

#[test]
fn other_types_and_empty_clusters_are_not_colocation_peers() {
    let int_col = ColumnFacts {
        type_oid: INT4,
        type_name: "integer".into(),
        ..bigint("user_id")
    };
    let call = create(table("events", int_col), ColocateWith::Default, None);
    assert!(check_distribution_call(&call, &users_cluster(), &settings(48)).is_empty());
    let call = create(
        table("orders", bigint("user_id")),
        ColocateWith::Default,
        None,
    );
    assert!(check_distribution_call(&call, &Cluster::default(), &settings(48)).is_empty());
}

#[test]
fn a_stale_group_shardcount_is_what_the_guc_matches() {
    // After a split, group 1 says 24 but its tables have 25 shards. SET citus.shard_count = 24
    // joins it (and gets 25 shards); an explicit shard_count => 24 does not.
    let mut g = group(1, 24, INT8, &["users"]);
    g.actual_shard_count = 25;
    let c = Cluster {
        groups: vec![g],
        shard_nodes: 0,
    };
    let t = table("orders", bigint("user_id"));
    assert!(check_distribution_call(
        &create(t.clone(), ColocateWith::Default, None),
        &c,
        &settings(24)
    )
    .is_empty());
    let f = check_distribution_call(
        &create(t, ColocateWith::Default, Some(24)),
        &c,
        &settings(24),
    );
    assert_eq!(rules(&f), vec![RuleId::ShardCountColocation]);
}

#[test]
fn replication_factor_mismatch_explains_itself() {
    let call = create(
        table("orders", bigint("user_id")),
        ColocateWith::Default,
        None,
    );
    let s = Settings {
        shard_count: 24,
        replication_factor: 2,
        ..Settings::default()
    };
    let f = check_distribution_call(&call, &users_cluster(), &s);
    assert_eq!(rules(&f), vec![RuleId::ShardCountColocation]);
    assert!(
        f[0].detail.contains("replication factor"),
        "{}",
        f[0].detail
    );
}

#[test]
fn concurrently_out_of_range_is_blocked_before_anything_else() {
    for n in [0, -1, 64001, i32::MIN, i32::MAX] {
        let call = DistCall::CreateDistributedTable {
            concurrently: true,
            table: table("orders", bigint("user_id")),
            distribution_column: Some("user_id".into()),
            distribution_type: "hash".into(),
            colocate_with: ColocateWith::Default,
            shard_count: Some(n),
        };
        let f = check_distribution_call(&call, &users_cluster(), &settings(24));
        assert_eq!(rules(&f), vec![RuleId::ShardCountRange], "n = {n}");
        assert!(f[0]
            .message
            .contains("create_distributed_table_concurrently"));
    }
}

#[test]
fn alter_with_bad_count_or_without_cascade_is_blocked() {
    let mut t = table("users", bigint("user_id"));
    t.colocated_with = vec!["orders".into()];
    let alter = |n: i32, cascade: Option<bool>| DistCall::AlterDistributedTable {
        table: t.clone(),
        distribution_column: None,
        shard_count: Some(n),
        colocate_with: None,
        cascade_to_colocated: cascade,
    };
    let c = users_cluster();
    // Citus refuses 0 itself ("shard_count cannot be 0", alter_table.c) and a negative count
    // when it creates the shards (create_shards.c, rolled back): no finding, Citus's error
    // shows. Above 64000 it checks nothing.
    for (n, want) in [
        (0, vec![]),
        (-5, vec![]),
        (64001, vec![RuleId::ShardCountRange]),
    ] {
        assert_eq!(
            rules(&check_distribution_call(
                &alter(n, Some(true)),
                &c,
                &settings(32)
            )),
            want,
            "n = {n}"
        );
    }
    let f = check_distribution_call(&alter(48, Some(false)), &c, &settings(32));
    assert_eq!(rules(&f), vec![RuleId::ShardCountColocation]);
    assert!(f[0].hint.contains("cascade_to_colocated => true"));
    assert!(check_distribution_call(&alter(48, Some(true)), &c, &settings(32)).is_empty());
}

#[test]
fn shard_count_against_nodes_warns() {
    let c = Cluster {
        groups: vec![],
        shard_nodes: 3,
    };
    let t = table("orders", bigint("user_id"));
    let f = check_distribution_call(
        &create(t.clone(), ColocateWith::Default, Some(2)),
        &c,
        &settings(32),
    );
    assert_eq!(rules(&f), vec![RuleId::ShardCountNodes]);
    assert_eq!(f[0].severity, Severity::Warn);
    assert!(f[0].message.contains("lower than the 3 nodes"));
    let f = check_distribution_call(
        &create(t.clone(), ColocateWith::Default, None),
        &c,
        &settings(32),
    );
    assert!(f[0].message.contains("not a multiple"), "{}", f[0].message);
    assert!(f[0].hint.contains("shard_count => 33"), "{}", f[0].hint);
    assert_eq!(
        f[0].remediation.as_deref(),
        Some("SELECT create_distributed_table('orders', 'user_id', shard_count => 33);")
    );
    assert!(check_distribution_call(
        &create(t, ColocateWith::Default, Some(48)),
        &c,
        &settings(32)
    )
    .is_empty());
}

#[test]
fn column_rules() {
    let mut col = bigint("status");
    col.enum_based = true;
    col.not_null = false;
    let f = check_distribution_call(
        &create(table("t", col), ColocateWith::None, Some(32)),
        &Cluster::default(),
        &settings(32),
    );
    assert_eq!(
        rules(&f),
        vec![
            RuleId::EnumDistributionColumn,
            RuleId::NullableDistributionColumn
        ]
    );
    assert_eq!(
        f[0].remediation.as_deref(),
        Some("ALTER TABLE t ALTER COLUMN status TYPE text USING status::text;")
    );
    assert!(f[1].remediation.as_deref() == Some("ALTER TABLE t ALTER COLUMN status SET NOT NULL;"));

    let mut col = bigint("Flag");
    col.tiny_domain = true;
    let mut t = table("t", col);
    let f = check_distribution_call(
        &create(t.clone(), ColocateWith::None, Some(32)),
        &Cluster::default(),
        &settings(32),
    );
    assert_eq!(rules(&f), vec![RuleId::TinyDomainDistributionColumn]);
    assert_eq!(f[0].remediation, None);
    t.primary_key = vec!["Flag".into(), "id".into()];
    let f = check_distribution_call(
        &create(t, ColocateWith::None, Some(32)),
        &Cluster::default(),
        &settings(32),
    );
    assert_eq!(
        f[0].remediation.as_deref(),
        Some("SELECT create_distributed_table('t', 'id');")
    );
}

#[test]
fn missing_replica_identity_warns() {
    let mut t = table("t", bigint("id"));
    t.has_replica_identity = false;
    let f = check_distribution_call(
        &create(t, ColocateWith::None, Some(32)),
        &Cluster::default(),
        &settings(32),
    );
    assert_eq!(rules(&f), vec![RuleId::NoReplicaIdentity]);
    assert_eq!(f[0].severity, Severity::Warn);
    assert_eq!(
        f[0].remediation.as_deref(),
        Some("ALTER TABLE t REPLICA IDENTITY FULL;")
    );
}

#[test]
fn setting_a_shard_count_no_group_has_warns_early() {
    let c = users_cluster();
    let f = check_shard_count_setting(48, "SET citus.shard_count = 48", &c).unwrap();
    assert_eq!(f.rule, RuleId::ShardCountColocation);
    assert_eq!(f.severity, Severity::Warn);
    assert!(
        f.detail.contains("24 shards: users (bigint)"),
        "{}",
        f.detail
    );
    assert!(f.hint.contains("SET citus.shard_count = 24;"), "{}", f.hint);
    assert!(check_shard_count_setting(24, "SET", &c).is_none());
    assert!(check_shard_count_setting(48, "SET", &Cluster::default()).is_none());
}

#[test]
fn an_unchecked_call_says_why_and_what_to_do() {
    let f = crate::distribution::unchecked_call("create_distributed_table", "inlined");
    assert_eq!(f.rule, RuleId::UncheckedCall);
    assert_eq!(f.severity, Severity::Block);
    assert_eq!(f.sqlstate(), "SC009");
    assert!(f.hint.contains("PL/pgSQL"));
}

#[test]
fn quoting() {
    assert_eq!(literal("o'brien"), "'o''brien'");
    assert_eq!(quote_ident("user_id"), "user_id");
    assert_eq!(quote_ident("Flag"), "\"Flag\"");
    assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
}

fn arb_group() -> impl Strategy<Value = ColocationGroup> {
    (
        1u32..50,
        1i32..130,
        prop_oneof![Just(INT4), Just(INT8)],
        0usize..3,
        1i32..3,
    )
        .prop_map(|(id, n, ty, ntab, rf)| {
            let tables: Vec<String> = (0..ntab).map(|i| format!("t{id}_{i}")).collect();
            ColocationGroup {
                id,
                shard_count: n,
                actual_shard_count: n,
                replication_factor: rf,
                type_oid: ty,
                type_name: "x".into(),
                collation: 0,
                tables,
            }
        })
}

proptest! {
    /// Rule 1 fires exactly when Citus would open a new group while a populated group of the
    /// same type exists, and never when colocate_with is explicit.
    #[test]
    fn colocation_rule_matches_citus_group_choice(
        groups in proptest::collection::vec(arb_group(), 0..6),
        guc in 1i32..130,
        explicit in proptest::option::of(1i32..130),
        rf in 1i32..3,
        explicit_colocation in any::<bool>(),
    ) {
        let cluster = Cluster { groups, shard_nodes: 0 };
        let s = Settings { shard_count: guc, replication_factor: rf, ..Settings::default() };
        let col = bigint("k");
        let cw = if explicit_colocation { ColocateWith::None } else { ColocateWith::Default };
        let f = check_distribution_call(&create(table("n", col.clone()), cw, explicit), &cluster, &s);
        let fired = rules(&f).contains(&RuleId::ShardCountColocation);
        let peers = cluster.groups.iter().any(|g| g.type_oid == INT8 && !g.tables.is_empty());
        let joins = joins_existing_group(&col, &cluster, &s, explicit).is_some();
        prop_assert_eq!(fired, !explicit_colocation && peers && !joins);
        if fired {
            let fix = f.iter().find(|f| f.rule == RuleId::ShardCountColocation).unwrap().remediation.clone().unwrap();
            prop_assert!(fix.contains("colocate_with => 't"));
        }
    }

    /// Whatever the counts, nothing panics and every finding has text in all three fields.
    #[test]
    fn findings_are_always_complete(n in any::<i32>(), nodes in 0u32..100, guc in 1i32..64000, conc in any::<bool>()) {
        let call = DistCall::CreateDistributedTable {
            concurrently: conc,
            table: TableFacts { has_replica_identity: false, ..table("o", ColumnFacts { not_null: false, ..bigint("k") }) },
            distribution_column: Some("k".into()),
            distribution_type: "hash".into(),
            colocate_with: ColocateWith::Default,
            shard_count: Some(n),
        };
        let c = Cluster { groups: vec![group(1, 24, INT8, &["users"])], shard_nodes: nodes };
        for f in check_distribution_call(&call, &c, &settings(guc)) {
            prop_assert!(!f.message.is_empty() && !f.detail.is_empty() && !f.hint.is_empty());
        }
    }
}
