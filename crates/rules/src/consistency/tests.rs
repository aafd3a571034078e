use std::collections::{BTreeMap, HashMap};

use super::catalog::{check_catalog, needs, Context};
use super::drift::{self, Rows, TableRows, Verdict};
use super::evidence::{from_listings, Evidence, Found, WorkerShard};
use super::physical::check_physical;
use super::*;
use crate::hashmath::shard_ranges;
use proptest::prelude::*;

/// Quotes like PostgreSQL for the names these tests use.
struct Q;
impl Quoting for Q {
    fn ident(&self, name: &str) -> String {
        if name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            name.to_string()
        } else {
            format!("\"{}\"", name.replace('"', "\"\""))
        }
    }
}

fn nodes() -> Vec<NodeInfo> {
    (0..3)
        .map(|g| NodeInfo {
            id: g + 1,
            group: g,
            name: format!("n{g}"),
            port: 5432,
            active: true,
            primary: true,
            has_metadata: true,
            metadata_synced: true,
        })
        .collect()
}

/// A hash table of `n` shards (ids from `first_id`) in group `colocation`, placed round-robin on
/// groups 1 and 2, placement ids equal to shard ids.
fn table(
    name: &str,
    n: i32,
    first_id: i64,
    colocation: u32,
    placements: &mut Vec<PlacementInfo>,
) -> TableInfo {
    let shards = shard_ranges(n)
        .into_iter()
        .enumerate()
        .map(|(i, (lo, hi))| {
            let id = first_id + i as i64;
            placements.push(PlacementInfo {
                id,
                shard: id,
                state: 1,
                group: 1 + (i as i32 % 2),
            });
            ShardInfo {
                id,
                min: Some(lo.to_string()),
                max: Some(hi.to_string()),
                relname: format!("{name}_{id}"),
            }
        })
        .collect();
    TableInfo {
        name: name.into(),
        qualified: format!("public.{name}"),
        schema: "public".into(),
        relname: name.into(),
        name_hash: "00000000".into(),
        method: 'h',
        colocation_id: colocation,
        repmodel: 's',
        parent: None,
        column: Some("user_id".into()),
        shards,
    }
}

fn healthy() -> Snapshot {
    named("users", "orders")
}

fn named(users: &str, orders: &str) -> Snapshot {
    let mut placements = Vec::new();
    let users = table(users, 8, 100, 1, &mut placements);
    let orders = table(orders, 8, 200, 1, &mut placements);
    Snapshot {
        tables: vec![users, orders],
        placements,
        nodes: nodes(),
        colocation: BTreeMap::from([(1, 8)]),
    }
}

/// What each node would list for a snapshot: every placement's relation where the row says.
fn listings_of(s: &Snapshot) -> BTreeMap<GroupId, NodeAnswer<NodeListing>> {
    let mut l: BTreeMap<GroupId, NodeListing> =
        (0..3).map(|g| (g, NodeListing::default())).collect();
    let ix = Index::new(s);
    for p in &s.placements {
        let Some(&(ti, si)) = ix.shard.get(&p.shard) else {
            continue;
        };
        let t = &s.tables[ti];
        let name = t.shards[si].relname.clone();
        l.entry(p.group).or_default().relations.push(NodeRelation {
            schema: t.schema.clone(),
            quoted: format!("public.{name}"),
            name,
            bytes: Some(8192),
        });
    }
    l.into_iter().map(|(g, x)| (g, NodeAnswer::Ok(x))).collect()
}

fn evidence(s: &Snapshot, l: &BTreeMap<GroupId, NodeAnswer<NodeListing>>) -> Evidence {
    from_listings(s, l, 100..=999)
}

/// Every finding of the catalog and physical checks, given the listings.
fn report(s: &Snapshot, l: &BTreeMap<GroupId, NodeAnswer<NodeListing>>) -> Vec<Issue> {
    let ev = evidence(s, l);
    let cx = Context::new(s, &ev, &Q);
    let mut out = check_catalog(&cx);
    out.extend(check_physical(&cx.ix, &ev, &cx.placement_repairs, &Q));
    out
}

fn ids(v: &[Issue]) -> Vec<&'static str> {
    v.iter().map(|i| i.check.as_str()).collect()
}

fn move_relation(
    l: &mut BTreeMap<GroupId, NodeAnswer<NodeListing>>,
    name: &str,
    from: GroupId,
    to: GroupId,
) {
    let NodeAnswer::Ok(src) = l.get_mut(&from).unwrap() else {
        unreachable!()
    };
    let Some(i) = src.relations.iter().position(|r| r.name == name) else {
        return;
    };
    let r = src.relations.remove(i);
    let NodeAnswer::Ok(dst) = l.get_mut(&to).unwrap() else {
        unreachable!()
    };
    dst.relations.push(r);
}

/// Statements a remedy runs, for asserting what it may never do.
fn destructive(i: &Issue) -> bool {
    let Remedy::Run(sql) = &i.remedy else {
        return false;
    };
    let code: String = sql
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .to_uppercase();
    code.contains("DROP ")
        || code.contains("TRUNCATE")
        || code.contains("START_METADATA_SYNC_TO_ALL_NODES")
}

#[test]
fn a_healthy_cluster_has_no_findings_and_needs_nothing_from_the_nodes() {
    let s = healthy();
    assert!(report(&s, &listings_of(&s)).is_empty());
    assert_eq!(needs(&Index::new(&s)), Default::default());
    // with no evidence at all (catalog only) too
    let ev = Evidence::default();
    assert!(check_catalog(&Context::new(&s, &ev, &Q)).is_empty());
}

#[test]
fn a_tampered_range_is_restored_from_the_colocated_table() {
    let mut s = healthy();
    let original = s.tables[0].shards[3].max.clone();
    s.tables[0].shards[3].max = Some("-10".into());
    assert!(needs(&Index::new(&s)).ranges);
    let found = report(&s, &listings_of(&s));
    let gap = found
        .iter()
        .find(|i| i.check == CheckId::HashRangeGap && i.table.as_deref() == Some("users"))
        .unwrap();
    let sql = gap.remedy.text();
    assert!(sql.contains("from its colocated tables"), "{sql}");
    assert!(
        sql.contains(&format!(
            "SET shardminvalue = '{}', shardmaxvalue = '{}' WHERE shardid = 103;",
            s.tables[0].shards[3].min.clone().unwrap(),
            original.unwrap()
        )),
        "{sql}"
    );
    // the mismatch with orders is the same repair, not a rewrite of either table
    let m = found
        .iter()
        .find(|i| i.check == CheckId::ColocationMismatch)
        .unwrap();
    assert!(
        m.remedy.text().contains("WHERE shardid = 103;"),
        "{}",
        m.remedy.text()
    );
}

#[test]
fn without_a_colocated_table_citus_layout_or_the_workers_decide() {
    let mut s = healthy();
    s.tables.remove(1);
    s.tables[0].shards[5].min = Some("abc".into());
    let found = report(&s, &listings_of(&s));
    assert!(ids(&found).contains(&"hash-range-invalid"));
    assert!(
        found[0].remedy.text().contains("from Citus's layout"),
        "{}",
        found[0].remedy.text()
    );

    // the workers' copy wins over the uniform layout
    let ev = Evidence {
        workers: HashMap::from([(
            105,
            WorkerShard {
                min: Some(shard_ranges(8)[5].0.to_string()),
                max: Some(shard_ranges(8)[5].1.to_string()),
                groups: vec![2],
            },
        )]),
        ..evidence(&s, &listings_of(&s))
    };
    let cx = Context::new(&s, &ev, &Q);
    let f = check_catalog(&cx);
    assert!(
        f[0].remedy
            .text()
            .contains("from the metadata workers' copies"),
        "{}",
        f[0].remedy.text()
    );

    // two broken shards of an uneven table: nothing decides, a person looks
    let mut s2 = s.clone();
    s2.tables[0].shards[1].min = Some("x".into());
    s2.tables[0].shards.remove(7);
    let f = report(&s2, &listings_of(&s2));
    assert!(f
        .iter()
        .filter(|i| i.check.is_hash_range())
        .all(|i| !i.remedy.is_runnable()));
}

#[test]
fn a_placement_row_pointing_away_is_repointed_and_its_relation_is_no_orphan() {
    let mut s = healthy();
    // placement of shard 102 says group 1; its relation is on group 2
    let mut l = listings_of(&s);
    move_relation(&mut l, "users_102", 1, 2);
    let found = report(&s, &l);
    // the metadata itself still lines up: only the row of shard 102 is wrong
    assert_eq!(ids(&found), vec!["shard-relation-missing"], "{found:#?}");
    let missing = &found[0];
    assert!(
        missing.detail.contains("(it is on n2:5432)"),
        "{}",
        missing.detail
    );
    assert!(missing
        .remedy
        .text()
        .contains("UPDATE pg_catalog.pg_dist_placement SET groupid = 2 WHERE placementid = 102;"));

    // a placement on a group no node has, the relation on group 2: the row is repointed there
    s.placements
        .iter_mut()
        .find(|p| p.shard == 102)
        .unwrap()
        .group = 7;
    let found = report(&s, &l);
    let u = found
        .iter()
        .find(|i| i.check == CheckId::PlacementUnknownGroup)
        .unwrap();
    assert!(
        u.remedy
            .text()
            .contains("SET groupid = 2 WHERE placementid = 102;"),
        "{}",
        u.remedy.text()
    );
    assert!(!ids(&found).contains(&"orphan-shard-relation"));
}

#[test]
fn a_shard_without_placement_gets_the_row_of_the_node_holding_it() {
    let mut s = healthy();
    s.placements.retain(|p| p.shard != 101);
    let mut l = listings_of(&s);
    let NodeAnswer::Ok(g2) = l.get_mut(&2).unwrap() else {
        unreachable!()
    };
    g2.relations.push(NodeRelation {
        schema: "public".into(),
        name: "users_101".into(),
        quoted: "public.users_101".into(),
        bytes: Some(1),
    });
    let found = report(&s, &l);
    let f = found
        .iter()
        .find(|i| i.check == CheckId::ShardWithoutPlacement)
        .unwrap();
    assert!(
        f.remedy.text().contains("SELECT 101, 1, 0, 2 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_placement WHERE shardid = 101 AND groupid = 2);"),
        "{}",
        f.remedy.text()
    );
    assert!(
        !ids(&found).contains(&"orphan-shard-relation"),
        "the relation is the shard: {found:#?}"
    );

    // nowhere at all: nothing to paste, a person restores it
    let found = report(&s, &listings_of(&s));
    let f = found
        .iter()
        .find(|i| i.check == CheckId::ShardWithoutPlacement)
        .unwrap();
    assert!(!f.remedy.is_runnable());
}

#[test]
fn leftovers_and_strays_are_quarantined_never_dropped() {
    let s = healthy();
    let mut l = listings_of(&s);
    let NodeAnswer::Ok(g2) = l.get_mut(&2).unwrap() else {
        unreachable!()
    };
    // a leftover copy of shard 102 (whose placement on group 1 is intact)
    g2.relations.push(NodeRelation {
        schema: "public".into(),
        name: "users_102".into(),
        quoted: "public.users_102".into(),
        bytes: Some(1),
    });
    // a relation named like a users shard with an id Citus allocated but no shard has
    g2.relations.push(NodeRelation {
        schema: "public".into(),
        name: "users_555".into(),
        quoted: "public.users_555".into(),
        bytes: Some(1),
    });
    // ids Citus never allocated, a table that is no Citus table: not shards
    g2.relations.push(NodeRelation {
        schema: "public".into(),
        name: "users_2024".into(),
        quoted: "public.users_2024".into(),
        bytes: Some(1),
    });
    g2.relations.push(NodeRelation {
        schema: "public".into(),
        name: "events_300".into(),
        quoted: "public.events_300".into(),
        bytes: Some(1),
    });
    // queued for deletion by Citus after a move
    g2.relations.push(NodeRelation {
        schema: "public".into(),
        name: "users_104".into(),
        quoted: "public.users_104".into(),
        bytes: Some(1),
    });
    g2.cleanup.push(CleanupRecord {
        object: "public.users_104".into(),
        group: 2,
    });
    // queued for deletion on a group whose node was removed and added again: Citus will not
    // drop it; said, at info, with the same quarantine
    g2.relations.push(NodeRelation {
        schema: "public".into(),
        name: "users_106".into(),
        quoted: "public.users_106".into(),
        bytes: Some(1),
    });
    g2.cleanup.push(CleanupRecord {
        object: "public.users_106".into(),
        group: 9,
    });
    let found = report(&s, &l);
    let info: Vec<&Issue> = found.iter().filter(|i| i.level == Level::Info).collect();
    assert_eq!(info.len(), 1, "{found:#?}");
    assert!(
        info[0].detail.contains("group 9, which no node has"),
        "{}",
        info[0].detail
    );
    assert!(info[0]
        .remedy
        .text()
        .contains("RENAME TO %I', r, (SELECT c.relname || '_orphaned'"));
    let found: Vec<Issue> = found
        .into_iter()
        .filter(|i| i.level != Level::Info)
        .collect();
    assert_eq!(
        ids(&found),
        vec!["orphan-shard-relation", "orphan-shard-relation"],
        "{found:#?}"
    );
    for f in &found {
        let sql = f.remedy.text();
        assert!(
            sql.contains("RENAME TO %I', r, (SELECT c.relname || '_orphaned'"),
            "{sql}"
        );
        assert!(!destructive(f), "{sql}");
    }
}

#[test]
fn an_unreachable_node_hides_nothing_and_accuses_nothing() {
    let s = healthy();
    let mut l = listings_of(&s);
    l.insert(
        2,
        NodeAnswer::Unreachable("failed to connect to n2:5432".into()),
    );
    // its placements are not reported missing: it was not seen
    assert!(report(&s, &l).is_empty());
    let n = &s.nodes[2];
    let i = node_issue(n, "list shard relations", &l[&2]).unwrap();
    assert_eq!(i.check, CheckId::NodeUnreachable);
    let f = node_issue::<()>(
        n,
        "list shard relations",
        &NodeAnswer::failure("ERROR:  permission denied for schema s"),
    )
    .unwrap();
    assert_eq!(f.check, CheckId::NodeCheckFailed);
}

#[test]
fn other_catalog_findings_have_their_remedies() {
    let mut s = healthy();
    s.nodes[1].active = false;
    let found = report(&s, &listings_of(&s));
    let f = found
        .iter()
        .find(|i| i.check == CheckId::PlacementInactiveNode)
        .unwrap();
    assert_eq!(f.node.as_deref(), Some("n1:5432"));
    assert_eq!(
        f.remedy.text(),
        "SELECT citus_activate_node('n1', 5432);\nSELECT replicate_reference_tables();"
    );

    let mut s = healthy();
    s.colocation.clear();
    let found = report(&s, &listings_of(&s));
    assert_eq!(
        ids(&found),
        vec!["colocation-missing", "colocation-missing"]
    );
    assert!(found[0].remedy.text().contains("SELECT 1, 8, 1, a.atttypid, a.attcollation FROM pg_catalog.pg_attribute a WHERE a.attrelid = 'public.users'::regclass AND a.attname = 'user_id' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_colocation WHERE colocationid = 1);"), "{}", found[0].remedy.text());

    let mut s = healthy();
    s.colocation.insert(1, 4);
    let found = report(&s, &listings_of(&s));
    assert_eq!(ids(&found), vec!["colocation-shardcount-stale"]);
    assert_eq!(found[0].level, Level::Info);
    assert!(found[0].remedy.text().starts_with("-- nothing to run"));
}

#[test]
fn colocated_tables_on_other_nodes_are_moved_in_line_by_citus() {
    let mut s = healthy();
    let p = s.placements.iter_mut().find(|p| p.shard == 203).unwrap();
    p.group = if p.group == 1 { 2 } else { 1 };
    let found = report(&s, &listings_of(&s));
    assert_eq!(ids(&found), vec!["colocation-mismatch"]);
    let sql = found[0].remedy.text();
    assert!(
        sql.contains("SELECT update_distributed_table_colocation('orders', 'none');"),
        "{sql}"
    );
    assert!(
        sql.contains("SELECT citus_move_shard_placement(203, 'n1', 5432, 'n2', 5432"),
        "{sql}"
    );
    assert!(
        sql.trim_end().ends_with(
            "SELECT update_distributed_table_colocation('orders', colocate_with => 'users');"
        ),
        "{sql}"
    );
}

#[test]
fn reference_tables_and_partitions() {
    let mut s = healthy();
    s.tables.push(TableInfo {
        name: "countries".into(),
        qualified: "public.countries".into(),
        schema: "public".into(),
        relname: "countries".into(),
        name_hash: "00000000".into(),
        method: 'n',
        colocation_id: 2,
        repmodel: 't',
        parent: None,
        column: None,
        shards: vec![ShardInfo {
            id: 300,
            min: None,
            max: None,
            relname: "countries_300".into(),
        }],
    });
    s.colocation.insert(2, 1);
    for g in [0, 1, 2] {
        s.placements.push(PlacementInfo {
            id: 900 + g as i64,
            shard: 300,
            state: 1,
            group: g,
        });
    }
    let l = listings_of(&s);
    s.placements.retain(|p| p.id != 902);
    // the relation is still on n2, maybe stale: Citus copies it again, and it is no orphan
    let found = report(&s, &l);
    assert_eq!(
        ids(&found),
        vec!["reference-missing-placement"],
        "{found:#?}"
    );
    assert_eq!(
        found[0].remedy.text(),
        "SELECT replicate_reference_tables();"
    );
    assert_eq!(found[0].level, Level::Error);

    let mut s = healthy();
    let mut p = s.tables[1].clone();
    p.name = "orders_2026".into();
    p.parent = Some("orders".into());
    p.colocation_id = 7;
    s.colocation.insert(7, 8);
    s.tables.push(p);
    let ev = Evidence::default();
    let f = check_catalog(&Context::new(&s, &ev, &Q));
    let part = f
        .iter()
        .find(|i| i.check == CheckId::PartitionColocation)
        .unwrap();
    assert_eq!(
        part.remedy.text(),
        "SELECT update_distributed_table_colocation('orders_2026', colocate_with => 'orders');"
    );
}

#[test]
fn the_data_check_reads_partitions_not_their_parent_again() {
    let mut s = healthy();
    assert!(super::data::partitioned_parents(&s.tables).is_empty());
    let mut p = s.tables[1].clone();
    p.name = "orders_2026".into();
    p.parent = Some("orders".into());
    s.tables.push(p);
    // orders (1) is read through its partition; a report on orders alone reads orders
    assert_eq!(super::data::partitioned_parents(&s.tables), [1].into());
    assert!(super::data::partitioned_parents(&s.tables[..2]).is_empty());
}

fn worker_rows(s: &Snapshot, t: usize) -> TableRows {
    let tb = &s.tables[t];
    let ids: Vec<i64> = tb.shards.iter().map(|x| x.id).collect();
    TableRows {
        name: tb.qualified.clone(),
        method: "h".into(),
        column: tb.column.clone(),
        colocation: tb.colocation_id as i64,
        repmodel: "s".into(),
        shards: tb
            .shards
            .iter()
            .map(|x| (x.id, x.min.clone(), x.max.clone()))
            .collect(),
        placements: s
            .placements
            .iter()
            .filter(|p| ids.contains(&p.shard))
            .map(|p| (p.shard, p.group, p.state))
            .collect(),
    }
}

#[test]
fn drift_says_which_side_is_right() {
    let good = healthy();
    let w = worker_rows(&good, 0);

    // the coordinator's range was tampered with; the worker's is intact: restore from it
    let mut s = healthy();
    s.tables[0].shards[3].max = Some("-10".into());
    let d = drift::table_drift(&s, Some(&s.tables[0]), Some(&w), "users");
    let Verdict::WorkerRight(st) = &d.verdict else {
        panic!("{d:?}")
    };
    assert_eq!(st.len(), 1);
    assert!(st[0].contains("WHERE shardid = 103;"));
    assert!(
        d.differences[0].starts_with("shard 103: coordinator"),
        "{:?}",
        d.differences
    );
    let issues = drift::issues(&s.nodes[1], &[d]);
    assert!(issues[0].remedy.text().contains("allow_once"));
    assert!(!issues[0].remedy.text().contains("start_metadata_sync"));

    // the worker's placement is broken; the coordinator's is intact: Citus's sync, to that node only
    let mut w2 = w.clone();
    w2.placements[0].2 = 4;
    let d = drift::table_drift(&good, Some(&good.tables[0]), Some(&w2), "users");
    assert_eq!(d.verdict, Verdict::CoordinatorRight);
    let issues = drift::issues(&good.nodes[1], std::slice::from_ref(&d));
    assert_eq!(
        issues[0].remedy.text(),
        "SELECT start_metadata_sync_to_node('n1', 5432);"
    );
    assert!(!destructive(&issues[0]));

    // ... but not while the coordinator is wrong about something else on that node
    let mut s = healthy();
    s.tables[0].shards[3].max = Some("-10".into());
    let other = drift::table_drift(&s, Some(&s.tables[0]), Some(&w), "users");
    let issues = drift::issues(&good.nodes[1], &[d, other]);
    assert!(
        !issues[0].remedy.is_runnable(),
        "{}",
        issues[0].remedy.text()
    );

    // both pass the checks and differ: a person decides
    let mut w3 = w.clone();
    w3.placements[0].1 = if w3.placements[0].1 == 1 { 2 } else { 1 };
    let d = drift::table_drift(&good, Some(&good.tables[0]), Some(&w3), "users");
    assert_eq!(d.verdict, Verdict::Undecided);
}

#[test]
fn colocation_rows_the_coordinator_lost_come_back_from_the_worker() {
    let mut s = healthy();
    s.colocation.clear();
    let rows = Rows {
        colocation: vec![crate::changes::ColocationRow {
            id: 1,
            shard_count: 8,
            replication_factor: 1,
            type_name: Some("pg_catalog.int8".into()),
            collation: None,
        }],
        ..Default::default()
    };
    let d = drift::colocation_drift(&s, &rows);
    let Verdict::WorkerRight(st) = &d.verdict else {
        panic!("{d:?}")
    };
    assert!(
        st[0].contains("SELECT 1, 8, 1, 'pg_catalog.int8'::regtype, 0 WHERE NOT EXISTS"),
        "{}",
        st[0]
    );
}

#[test]
fn listings_parse_from_the_nodes_json() {
    let l = parse_listing(r#"{"relations": [["public", "users_101", "public.users_101", 8192], ["s", "Odd_1", "s.\"Odd_1\"", null]], "cleanup": [["public.users_104", 2]]}"#).unwrap();
    assert_eq!(l.relations.len(), 2);
    assert_eq!(l.relations[1].bytes, None);
    assert_eq!(l.cleanup[0].group, 2);
    assert!(parse_listing("[]").is_err());
}

#[test]
fn found_relations_carry_their_sizes() {
    let s = healthy();
    let ev = evidence(&s, &listings_of(&s));
    assert_eq!(
        ev.found[&100],
        vec![Found {
            group: 1,
            quoted: "public.users_100".into(),
            bytes: Some(8192)
        }]
    );
    assert_eq!(ev.bytes(100, 1), Some(8192));
}

/// `clean` with `edits` made to its metadata (kind, shard of 16, value) and, in what the nodes
/// list, shard relations moved (shard, to group); and those listings.
fn broken(
    clean: Snapshot,
    edits: &[(usize, usize, i32)],
    moves: &[(usize, i32)],
) -> (Snapshot, BTreeMap<GroupId, NodeAnswer<NodeListing>>) {
    let mut s = clean.clone();
    for &(kind, shard, v) in edits {
        let (t, i) = (shard / 8, shard % 8);
        let id = s.tables[t].shards[i].id;
        let placement = s.placements.iter_mut().find(|p| p.shard == id);
        match (kind, placement) {
            (0, _) => s.tables[t].shards[i].max = Some(v.to_string()),
            (1, _) => s.tables[t].shards[i].min = Some("garbage".into()),
            (2, _) => s.placements.retain(|p| p.shard != id),
            (3, Some(p)) => p.group = v,
            (4, Some(p)) => p.state = 4,
            (3 | 4, None) => {}
            _ => s.colocation.clear(),
        }
    }
    let mut l = listings_of(&clean);
    for &(shard, to) in moves {
        let (t, i) = (shard / 8, shard % 8);
        let sh = &clean.tables[t].shards[i];
        let from = clean
            .placements
            .iter()
            .find(|p| p.shard == sh.id)
            .unwrap()
            .group;
        if from != to {
            move_relation(&mut l, &sh.relname, from, to);
        }
    }
    (s, l)
}

proptest! {
    /// Citus's own layout for any shard count is clean; dropping one shard always leaves exactly
    /// one range problem (a gap, or a missing bound at either end).
    #[test]
    fn uniform_layouts_are_clean_and_one_missing_shard_is_found(n in 2i32..300, drop in any::<prop::sample::Index>()) {
        let mut placements = Vec::new();
        let t = table("t", n, 1, 1, &mut placements);
        let mut s = Snapshot { tables: vec![t], placements, nodes: nodes(), colocation: BTreeMap::from([(1, n)]) };
        let ev = Evidence::default();
        prop_assert!(check_catalog(&Context::new(&s, &ev, &Q)).is_empty());
        let i = drop.index(n as usize);
        s.tables[0].shards.remove(i);
        s.colocation.insert(1, n - 1);
        let found: Vec<_> = check_catalog(&Context::new(&s, &ev, &Q)).into_iter().filter(|x| x.check.is_hash_range()).collect();
        prop_assert_eq!(found.len(), 1);
    }

    /// Whatever is broken, every finding has a remedy, and none drops, truncates or
    /// overwrites data (no sync of all nodes, no DROP, no TRUNCATE).
    #[test]
    fn no_remedy_destroys_data(edits in prop::collection::vec((0usize..6, 0usize..16, -3i32..9), 1..6),
                               moves in prop::collection::vec((0usize..16, 0i32..3), 0..4)) {
        let (s, l) = broken(healthy(), &edits, &moves);
        for f in report(&s, &l) {
            prop_assert!(!f.remedy.text().is_empty());
            prop_assert!(!destructive(&f), "{:?}", f);
        }
    }

    /// A table or a node may be named with a newline or a carriage return, which ends a `--`
    /// comment: whatever is broken, no remediation runs what a name holds.
    #[test]
    fn no_remedy_runs_what_a_name_holds(edits in prop::collection::vec((0usize..6, 0usize..16, -3i32..9), 1..6),
                                        moves in prop::collection::vec((0usize..16, 0i32..3), 0..4),
                                        cr in any::<bool>()) {
        let end = if cr { "\r" } else { "\n" };
        let (users, orders) = (format!("users{end}SELECT 'INJECTED'; --"), format!("orders{end}SELECT 'INJECTED' --"));
        let mut clean = named(&users, &orders);
        for n in &mut clean.nodes {
            n.name = format!("{}{end}SELECT 'INJECTED'; --", n.name);
        }
        let (s, l) = broken(clean, &edits, &moves);
        for f in report(&s, &l) {
            let code = crate::psql::strip_comments(&f.remedy.text(), true);
            prop_assert!(!code.contains("INJECTED"), "{}", f.remedy.text());
        }
    }
}

#[test]
fn only_findings_that_compare_two_moments_make_a_report_ask_again() {
    use CheckId::*;
    let again: Vec<CheckId> = CheckId::ALL
        .into_iter()
        .filter(|c| c.compares_moments())
        .collect();
    assert_eq!(
        again,
        vec![
            ShardRelationMissing,
            OrphanShardRelation,
            MetadataDrift,
            NodeCheckFailed
        ]
    );
    // misplaced rows are judged against their shard's own range: a data check that found
    // some is not made twice because Citus cleaned up something meanwhile
    assert!(!MisplacedRows.compares_moments());
    assert!(!NodeUnreachable.compares_moments());
    assert!(!HashRangeGap.compares_moments());
}
