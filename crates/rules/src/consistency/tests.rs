use super::*;
use crate::hashmath::shard_ranges;
use proptest::prelude::*;

fn nodes() -> Vec<NodeInfo> {
    (0..3)
        .map(|g| NodeInfo {
            group: g,
            name: format!("n{g}"),
            port: 5432,
            active: true,
            primary: true,
        })
        .collect()
}

/// A hash table of `n` shards (ids from `first_id`) in group `colocation`, placed round-robin on
/// groups 1 and 2.
fn table(
    name: &str,
    n: i32,
    first_id: i64,
    colocation: u32,
    placements: &mut Vec<PlacementInfo>,
) -> TableInfo {
    let shards: Vec<ShardInfo> = shard_ranges(n)
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
            }
        })
        .collect();
    TableInfo {
        name: name.into(),
        method: 'h',
        colocation_id: colocation,
        repmodel: 's',
        parent: None,
        shards,
    }
}

fn healthy() -> Snapshot {
    let mut placements = Vec::new();
    let users = table("users", 8, 100, 1, &mut placements);
    let orders = table("orders", 8, 200, 1, &mut placements);
    Snapshot {
        tables: vec![users, orders],
        placements,
        nodes: nodes(),
        colocation: BTreeMap::from([(1, 8)]),
    }
}

fn checks(s: &Snapshot) -> Vec<&'static str> {
    check_catalog(s).into_iter().map(|i| i.check).collect()
}

#[test]
fn a_healthy_catalog_has_no_issues() {
    assert!(check_catalog(&healthy()).is_empty());
}

#[test]
fn ranges_gaps_overlaps_bounds_and_garbage() {
    let mut s = healthy();
    s.tables[0].shards[3].max = Some(
        (s.tables[0].shards[3]
            .max
            .as_ref()
            .unwrap()
            .parse::<i64>()
            .unwrap()
            - 10)
            .to_string(),
    );
    let found = check_catalog(&s);
    assert!(found
        .iter()
        .any(|i| i.check == "hash-range-gap" && i.table.as_deref() == Some("users")));
    // the tampered range no longer matches orders' either
    assert!(found.iter().any(|i| i.check == "colocation-mismatch"));

    let mut s = healthy();
    s.tables[0].shards[5].min = Some("-5".into());
    assert!(checks(&s).contains(&"hash-range-overlap"));

    let mut s = healthy();
    s.tables[0].shards.remove(0);
    assert!(checks(&s).contains(&"hash-range-bounds"));

    let mut s = healthy();
    s.tables[0].shards[2].min = Some("abc".into());
    assert!(checks(&s).contains(&"hash-range-invalid"));
}

#[test]
fn placements_and_nodes() {
    let mut s = healthy();
    s.placements.retain(|p| p.shard != 101);
    let found = check_catalog(&s);
    let f = found
        .iter()
        .find(|i| i.check == "shard-without-placement")
        .unwrap();
    assert_eq!(f.shard, Some(101));

    let mut s = healthy();
    s.placements[0].group = 9;
    let found = check_catalog(&s);
    assert!(found
        .iter()
        .any(|i| i.check == "placement-unknown-group" && i.node.as_deref() == Some("group 9")));

    let mut s = healthy();
    s.nodes[1].active = false;
    let found = check_catalog(&s);
    let f = found
        .iter()
        .find(|i| i.check == "placement-inactive-node")
        .unwrap();
    assert_eq!(f.node.as_deref(), Some("n1:5432"));
    assert_eq!(
        f.remediation.as_deref(),
        Some("SELECT citus_activate_node('n1', 5432);")
    );
}

#[test]
fn colocation_groups() {
    let mut s = healthy();
    s.colocation.clear();
    assert_eq!(checks(&s), vec!["colocation-missing", "colocation-missing"]);

    let mut s = healthy();
    s.colocation.insert(1, 4);
    assert_eq!(checks(&s), vec!["colocation-shardcount-stale"]);

    // same ranges, different nodes for one shard
    let mut s = healthy();
    let p = s.placements.iter_mut().find(|p| p.shard == 203).unwrap();
    p.group = if p.group == 1 { 2 } else { 1 };
    let found = check_catalog(&s);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].check, "colocation-mismatch");
    assert!(found[0].detail.contains("is on n"), "{}", found[0].detail);
}

#[test]
fn reference_tables_and_partitions() {
    let mut s = healthy();
    s.tables.push(TableInfo {
        name: "countries".into(),
        method: 'n',
        colocation_id: 2,
        repmodel: 't',
        parent: None,
        shards: vec![ShardInfo {
            id: 300,
            min: None,
            max: None,
        }],
    });
    s.colocation.insert(2, 1);
    for g in [0, 1] {
        s.placements.push(PlacementInfo {
            id: 900 + g as i64,
            shard: 300,
            state: 1,
            group: g,
        });
    }
    let found = check_catalog(&s);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].check, "reference-missing-placement");
    assert_eq!(found[0].node.as_deref(), Some("n2:5432"));

    let mut s = healthy();
    let mut p = s.tables[1].clone();
    p.name = "orders_2026".into();
    p.parent = Some("orders".into());
    p.colocation_id = 7;
    s.colocation.insert(7, 8);
    s.tables.push(p);
    assert!(checks(&s).contains(&"partition-colocation"));
}

proptest! {
    /// Citus's own layout for any shard count is clean; dropping one shard always leaves exactly
    /// one range problem (a gap, or a missing bound at either end).
    #[test]
    fn uniform_layouts_are_clean_and_one_missing_shard_is_found(n in 2i32..300, drop in any::<prop::sample::Index>()) {
        let mut placements = Vec::new();
        let t = table("t", n, 1, 1, &mut placements);
        let mut s = Snapshot { tables: vec![t], placements, nodes: nodes(), colocation: BTreeMap::from([(1, n)]) };
        prop_assert!(check_catalog(&s).is_empty());
        let i = drop.index(n as usize);
        s.tables[0].shards.remove(i);
        s.colocation.insert(1, n - 1);
        let found: Vec<_> = check_catalog(&s).into_iter().filter(|x| x.check.starts_with("hash-range")).collect();
        prop_assert_eq!(found.len(), 1);
    }
}
