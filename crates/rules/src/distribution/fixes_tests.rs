//! The invariant behind every suggestion: a statement a finding offers (remediation or hint)
//! that is itself a distribution call, read back from its SQL text and fed through the front
//! ends' path (bind → describe → check) against the same cluster, is a call Citus runs and the
//! rules let through: no blocking finding and no shard-count finding at all (so not even an
//! operator who raises shard-count-nodes to an error is blocked by following a hint).
//!
//! The oracle is independent of how the rules choose their suggestions: it only reads the
//! text they produce and runs it as a new call.

use super::*;
use crate::call::{bind, describe, Arg, CitusFunction, NotDescribed, Value};
use crate::testing::*;
use proptest::prelude::*;

const C_COLLATION: u32 = 950;

#[derive(Debug, Clone)]
struct World {
    cluster: Cluster,
    settings: Settings,
    catalog: FakeCatalog,
}

fn arb_type() -> impl Strategy<Value = (u32, u32)> {
    prop_oneof![
        Just((INT8, 0)),
        Just((TEXT, DEFAULT_COLLATION)),
        Just((TEXT, C_COLLATION))
    ]
}

fn arb_group(id: u32) -> impl Strategy<Value = ColocationGroup> {
    (
        arb_type(),
        1i32..40,
        prop_oneof![Just(0i32), 1i32..4],
        1i32..3,
        0usize..3,
    )
        .prop_map(move |((ty, coll), n, split, rf, ntab)| ColocationGroup {
            id,
            shard_count: n,
            actual_shard_count: if ntab == 0 { 0 } else { n + split },
            replication_factor: rf,
            type_oid: ty,
            type_name: if ty == INT8 { "bigint" } else { "text" }.into(),
            collation: coll,
            tables: (0..ntab).map(|i| format!("g{id}_{i}")).collect(),
        })
}

prop_compose! {
    fn arb_world()(
        groups in (0usize..5).prop_flat_map(|n| (0..n).map(|i| arb_group(i as u32 * 2 + 1)).collect::<Vec<_>>()),
        nodes in 0u32..6,
        guc in 1i32..40,
        rf in 1i32..3,
        major in prop_oneof![Just(13u32), Just(14u32)],
        (k_type, k_coll) in arb_type(),
        k_not_null in any::<bool>(),
        k_enum in prop::bool::weighted(0.1),
        identity in any::<bool>(),
        pk in prop_oneof![Just(vec![]), Just(vec!["id"]), Just(vec!["flag", "id"]), Just(vec!["k", "id"])],
    ) -> World {
        let mut catalog = FakeCatalog::default();
        for g in &groups {
            for t in &g.tables {
                let mut k = column("k", g.type_oid);
                k.collation = g.collation;
                let ft = catalog.add(t, vec![k]);
                ft.dist_column = Some("k".into());
                ft.facts.colocation_id = Some(g.id);
                ft.facts.colocated_with = g.tables.iter().filter(|x| *x != t).cloned().collect();
            }
        }
        let mut k = column("k", k_type);
        k.collation = k_coll;
        k.not_null = k_not_null;
        k.enum_based = k_enum;
        let n = catalog.add("n", vec![k, column("flag", BOOL), column("id", INT8)]);
        n.facts.has_replica_identity = identity;
        n.facts.primary_key = pk.iter().map(|s| s.to_string()).collect();
        World {
            cluster: Cluster { groups, shard_nodes: nodes },
            settings: Settings { shard_count: guc, replication_factor: rf, citus_major: major },
            catalog,
        }
    }
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

fn arb_count() -> impl Strategy<Value = Option<i32>> {
    prop_oneof![
        3 => Just(None),
        3 => (1i32..40).prop_map(Some),
        1 => prop_oneof![Just(0), Just(-1), Just(64001)].prop_map(Some),
    ]
}

/// A call, as check_ddl would see it: arguments as written.
fn arb_call(tables: Vec<String>) -> impl Strategy<Value = (CitusFunction, Vec<Arg>)> {
    let some_table = if tables.is_empty() {
        Just("n".to_string()).boxed()
    } else {
        prop::sample::select(tables).boxed()
    };
    let create = (
        any::<bool>(),
        prop_oneof![Just("k"), Just("flag")],
        arb_count(),
        prop_oneof![
            Just(None),
            Just(Some("default".to_string())),
            Just(Some("none".to_string())),
            Just(Some("DEFAULT".to_string())),
            some_table.clone().prop_map(Some),
        ],
    )
        .prop_map(|(concurrently, col, sc, cw)| {
            let f = if concurrently {
                CitusFunction::CreateDistributedTableConcurrently
            } else {
                CitusFunction::CreateDistributedTable
            };
            let mut args = vec![Arg::positional(text("n")), Arg::positional(text(col))];
            if let Some(cw) = cw {
                args.push(Arg::named("colocate_with", text(cw)));
            }
            if let Some(n) = sc {
                args.push(Arg::named("shard_count", text(n.to_string())));
            }
            (f, args)
        });
    let alter = (
        some_table,
        arb_count(),
        prop_oneof![Just(None), Just(Some("default")), Just(Some("none"))],
        prop_oneof![Just(None), Just(Some("true")), Just(Some("false"))],
    )
        .prop_map(|(t, sc, cw, cascade)| {
            let mut args = vec![Arg::positional(text(t))];
            if let Some(n) = sc {
                args.push(Arg::named("shard_count", text(n.to_string())));
            }
            if let Some(cw) = cw {
                args.push(Arg::named("colocate_with", text(cw)));
            }
            if let Some(c) = cascade {
                args.push(Arg::named("cascade_to_colocated", text(c)));
            }
            (CitusFunction::AlterDistributedTable, args)
        });
    prop_oneof![2 => create, 1 => alter]
}

fn world_and_call() -> impl Strategy<Value = (World, (CitusFunction, Vec<Arg>))> {
    arb_world().prop_flat_map(|w| {
        let tables: Vec<String> = w
            .cluster
            .groups
            .iter()
            .flat_map(|g| g.tables.clone())
            .collect();
        (Just(w), arb_call(tables))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn every_suggested_call_passes_the_rules_it_came_from((w, (f, args)) in world_and_call()) {
        let mut catalog = w.catalog.clone();
        let Ok(bound) = bind(f, args) else { return Ok(()) };
        let Ok(call) = describe(&bound, &mut catalog) else { return Ok(()) };
        for finding in check_distribution_call(&call, &w.cluster, &w.settings) {
            let text = format!("{} {}", finding.remediation.clone().unwrap_or_default(), finding.hint);
            for (g, args) in statements(&text) {
                let shown = format!("{g} {args:?}, suggested by {} for {}", finding.rule, render_call(&call));
                let bound = bind(g, args).map_err(|e| TestCaseError::fail(format!("{shown}: {e:?}")))?;
                let fixed = match describe(&bound, &mut catalog) {
                    Ok(c) => c,
                    Err(NotDescribed::NoOp { .. }) | Err(_) => {
                        return Err(TestCaseError::fail(format!("{shown}: not a call Citus runs: {:?}", describe(&bound, &mut catalog))));
                    }
                };
                prop_assert_eq!(citus_refuses(&fixed, &w.settings), None, "{}", shown);
                for f2 in check_distribution_call(&fixed, &w.cluster, &w.settings) {
                    prop_assert!(f2.severity != Severity::Block, "{}: blocked by {}: {}", shown, f2.rule, f2.message);
                    prop_assert!(!SHARD_COUNT_RULES.contains(&f2.rule), "{}: draws {}: {}", shown, f2.rule, f2.message);
                }
            }
        }
    }
}

/// The generator reaches the cases the invariant is about (otherwise the property above
/// would pass vacuously).
#[test]
fn the_property_sees_suggestions_of_every_shard_count_rule() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..3000 {
        let (w, (f, args)) = world_and_call()
            .new_tree(&mut runner)
            .expect("tree")
            .current();
        let mut catalog = w.catalog.clone();
        let Ok(call) = bind(f, args)
            .map_err(|_| ())
            .and_then(|b| describe(&b, &mut catalog).map_err(|_| ()))
        else {
            continue;
        };
        for finding in check_distribution_call(&call, &w.cluster, &w.settings) {
            if finding
                .remediation
                .as_deref()
                .is_some_and(|r| r.starts_with("SELECT "))
            {
                seen.insert(finding.rule);
            }
        }
    }
    for rule in [
        RuleId::ShardCountColocation,
        RuleId::ShardCountRange,
        RuleId::ShardCountNodes,
        RuleId::TinyDomainDistributionColumn,
    ] {
        assert!(
            seen.contains(&rule),
            "no suggested call for {rule}: {seen:?}"
        );
    }
}
