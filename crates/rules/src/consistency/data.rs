//! The data check: rows whose distribution value hashes outside their shard's range, which
//! routed reads never see. Each node scans many shards per command, several commands at once
//! (fanout.rs); only shards whose relation the node listing found are scanned, so a missing
//! relation is reported as what it is, and the node's other shards are still scanned.

use std::collections::HashSet;

use serde::Deserialize;

use super::check::{CheckId, Level};
use super::issue::{in_comment, on_node, shard_block, Issue, Remedy};
use super::model::{NodeInfo, ShardId, TableInfo};

/// A hash table as the scan needs it: identifiers quoted by PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanTable {
    /// The table's name as the report shows it.
    pub name: String,
    /// `schema.relname`, quoted.
    pub qualified: String,
    /// The distribution column, quoted.
    pub column: String,
    /// The column as written in a finding (unquoted).
    pub column_name: String,
    /// The hash function Citus uses for the column's type, callable by this name on every
    /// node (a pg_catalog built-in such as pg_catalog.hashint8, or worker_hash).
    pub hash: String,
}

/// The tables not to scan because their partitions are scanned: a partitioned table's shard
/// holds no rows of its own, and reading it reads its partitions' shards again (the rows were
/// counted, and reported, twice). A partitioned table whose partitions are not in `tables` (a
/// report on it alone) is scanned, partitions and all.
pub fn partitioned_parents(tables: &[TableInfo]) -> HashSet<usize> {
    let parents: HashSet<&str> = tables.iter().filter_map(|t| t.parent.as_deref()).collect();
    tables
        .iter()
        .enumerate()
        .filter(|(_, t)| parents.contains(t.name.as_str()))
        .map(|(i, _)| i)
        .collect()
}

/// One shard relation to scan, on one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanShard {
    pub table: usize,
    pub shard: ShardId,
    /// The relation as the node quoted it.
    pub relation: String,
    pub range: (i32, i32),
    pub bytes: i64,
}

/// The rows outside the shard's range. PostgreSQL turns `NOT (h BETWEEN lo AND hi)` into
/// `h < lo OR h > hi`, computing the hash twice for most rows; the first and the last shard
/// need one side only, and a scan costs what its hash calls cost.
fn condition(t: &ScanTable, s: &ScanShard) -> String {
    let h = format!("{}(x.{})", t.hash, t.column);
    match s.range {
        (i32::MIN, i32::MAX) => "false".to_string(),
        (i32::MIN, hi) => format!("{h} > {hi}"),
        (lo, i32::MAX) => format!("{h} < {lo}"),
        (lo, hi) => format!("NOT ({h} BETWEEN {lo} AND {hi})"),
    }
}

/// The same rows as [`condition`], for the scan of every row: a range of 2^k hash values that
/// starts at a multiple of 2^k (every shard of a table with a power-of-two shard count, Citus's
/// default 32 among them) is the hashes whose top bits are the same, so the hash is computed once
/// per row (`h >> k <> lo >> k`) rather than twice (measured on 500,000 rows: 51 ms against 58,
/// `count(*)` 38). Other ranges are [`condition`].
fn scan_condition(t: &ScanTable, s: &ScanShard) -> String {
    let (lo, hi) = s.range;
    let width = i64::from(hi) - i64::from(lo) + 1;
    let aligned = lo > i32::MIN
        && hi < i32::MAX
        && width > 1
        && (width & (width - 1)) == 0
        && i64::from(lo) % width == 0;
    if aligned {
        let k = width.trailing_zeros();
        format!("({}(x.{}) >> {k}) <> {}", t.hash, t.column, lo >> k)
    } else {
        condition(t, s)
    }
}

fn source(t: &ScanTable, s: &ScanShard, limit: Option<i64>) -> String {
    match limit {
        None => format!("{} x", s.relation),
        Some(n) => format!("(SELECT {} FROM {} LIMIT {n}) x", t.column, s.relation),
    }
}

/// One command: counts, per shard, the rows outside its range (nothing else per row: the scan
/// costs a hash and a comparison more than `count(*)`). Its answer is `[[shard, misplaced], ...]`.
/// A command over several shards runs in one backend: `set_config` is parallel unsafe, so the
/// planner makes no parallel plan (a Parallel Append of 512 small shards took 193 ms against
/// 49 ms in one backend, each parallel worker opening every shard again); one shard alone may
/// still get parallel workers, as Citus's own `count(*)` does.
pub fn count_command(tables: &[ScanTable], shards: &[&ScanShard], limit: Option<i64>) -> String {
    let parts: Vec<String> = shards
        .iter()
        .map(|s| {
            let t = &tables[s.table];
            format!(
                "SELECT {}::int8 AS shard, count(*) AS misplaced FROM {} WHERE {}",
                s.shard,
                source(t, s, limit),
                scan_condition(t, s)
            )
        })
        .collect();
    let serial = if shards.len() > 1 {
        "\nWHERE pg_catalog.set_config('max_parallel_workers_per_gather', '0', true) = '0'"
    } else {
        ""
    };
    format!(
        "SELECT coalesce(json_agg(json_build_array(r.shard, r.misplaced)), '[]')::text FROM (\n{}\n) r{serial}",
        parts.join("\nUNION ALL\n")
    )
}

/// One command: up to five misplaced values per shard, for shards known to have some.
/// Its answer is `[[shard, "v1, v2, ..."], ...]`.
pub fn sample_command(tables: &[ScanTable], shards: &[&ScanShard], limit: Option<i64>) -> String {
    let parts: Vec<String> = shards
        .iter()
        .map(|s| {
            let t = &tables[s.table];
            format!(
                "SELECT {}::int8 AS shard, (SELECT coalesce(string_agg(v.v, ', '), '') FROM (SELECT x.{}::text AS v FROM {} WHERE {} LIMIT 5) v) AS samples",
                s.shard,
                t.column,
                source(t, s, limit),
                condition(t, s)
            )
        })
        .collect();
    format!(
        "SELECT coalesce(json_agg(json_build_array(r.shard, r.samples)), '[]')::text FROM (\n{}\n) r",
        parts.join("\nUNION ALL\n")
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Counted {
    pub shard: ShardId,
    pub misplaced: i64,
}

pub fn parse_counts(json: &str) -> Result<Vec<Counted>, String> {
    let rows: Vec<(ShardId, i64)> =
        serde_json::from_str(json).map_err(|e| format!("unreadable scan result: {e}"))?;
    Ok(rows
        .into_iter()
        .map(|(shard, misplaced)| Counted { shard, misplaced })
        .collect())
}

pub fn parse_samples(json: &str) -> Result<Vec<(ShardId, String)>, String> {
    serde_json::from_str(json).map_err(|e| format!("unreadable scan samples: {e}"))
}

/// The finding for a shard with misplaced rows, and the statement that moves them, on their
/// node, into the shard their hash belongs to: one transaction through the distributed table
/// (a row that conflicts with one already there fails it, and nothing moves).
pub fn misplaced_rows(
    t: &ScanTable,
    s: &ScanShard,
    node: &NodeInfo,
    count: i64,
    samples: &str,
) -> Issue {
    let remedy = if node.has_metadata {
        let body = format!(
            "WITH moved AS (DELETE FROM {} x WHERE {} RETURNING x.*) INSERT INTO {} SELECT * FROM moved;",
            s.relation,
            condition(t, s),
            t.qualified
        );
        Remedy::Run(format!(
            "-- moves the rows, on {}, into the shards their hash belongs to, in one transaction (a conflict with a row already there leaves everything as it was)\n{}",
            in_comment(&node.label()),
            on_node(node, &shard_block(&body))
        ))
    } else {
        Remedy::Person(format!(
            "{} keeps no copy of the metadata, so it cannot route the rows itself. On it, copy them out (COPY (SELECT * FROM {} x WHERE {}) TO ...), insert them through the coordinator into {}, then delete them from the shard.",
            node.label(),
            s.relation,
            condition(t, s),
            t.name
        ))
    };
    Issue::new(
        CheckId::MisplacedRows,
        Level::Error,
        format!(
            "{count} row(s) in shard {} of {} hash outside its range, so routed reads cannot see them; sample {} values: {samples}",
            s.shard, t.name, t.column_name
        ),
        remedy,
    )
    .table(&t.name)
    .shard(s.shard)
    .node(node.label())
}

/// The progress NOTICE after a round.
pub fn progress(
    done_shards: usize,
    total_shards: usize,
    done_bytes: i64,
    total_bytes: i64,
    tables: usize,
    nodes: usize,
) -> String {
    let mb = |b: i64| format!("{:.1} MB", b as f64 / 1048576.0);
    format!(
        "shard_consistency_report: data check read {done_shards} of {total_shards} shards ({} of {}) of {tables} table(s) on {nodes} node(s)",
        mb(done_bytes),
        mb(total_bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> ScanTable {
        ScanTable {
            name: "\"order\"".into(),
            qualified: "public.\"order\"".into(),
            column: "\"user\"".into(),
            column_name: "user".into(),
            hash: "pg_catalog.hashint8".into(),
        }
    }

    fn shard(id: i64) -> ScanShard {
        ScanShard {
            table: 0,
            shard: id,
            relation: format!("public.order_{id}"),
            range: (-10, 10),
            bytes: 8192,
        }
    }

    #[test]
    fn commands_use_the_quoted_column_and_the_node_quoted_relation() {
        let (a, b) = (shard(1), shard(2));
        let c = count_command(&[table()], &[&a, &b], None);
        assert!(
            c.contains(
                "count(*) AS misplaced FROM public.order_1 x WHERE NOT (pg_catalog.hashint8(x.\"user\") BETWEEN -10 AND 10)"
            ),
            "{c}"
        );
        assert!(c.contains("FROM public.order_2 x"), "{c}");
        assert_eq!(c.matches("UNION ALL").count(), 1);
        let l = count_command(&[table()], &[&a], Some(100));
        assert!(
            l.contains("FROM (SELECT \"user\" FROM public.order_1 LIMIT 100) x"),
            "{l}"
        );
        let s = sample_command(&[table()], &[&a], None);
        assert!(
            s.contains("SELECT x.\"user\"::text AS v FROM public.order_1 x WHERE NOT"),
            "{s}"
        );
    }

    #[test]
    fn the_first_and_the_last_shard_compare_one_side() {
        let t = table();
        let range = |lo, hi| ScanShard {
            range: (lo, hi),
            ..shard(1)
        };
        let h = "pg_catalog.hashint8(x.\"user\")";
        assert_eq!(condition(&t, &range(i32::MIN, -5)), format!("{h} > -5"));
        assert_eq!(condition(&t, &range(6, i32::MAX)), format!("{h} < 6"));
        assert_eq!(condition(&t, &range(i32::MIN, i32::MAX)), "false");
        assert_eq!(
            condition(&t, &range(-4, 5)),
            format!("NOT ({h} BETWEEN -4 AND 5)")
        );
    }

    #[test]
    fn an_aligned_power_of_two_range_hashes_once_and_means_the_same_rows() {
        let t = table();
        let shard_of = |lo, hi| ScanShard {
            range: (lo, hi),
            ..shard(1)
        };
        // 32 shards, Citus's default: shard 12 of 32
        let s = shard_of(-536_870_912, -402_653_185);
        assert_eq!(
            scan_condition(&t, &s),
            "(pg_catalog.hashint8(x.\"user\") >> 27) <> -4"
        );
        // 24 shards (not a power of two), a split shard, the first and the last shard: as before
        for (lo, hi) in [
            (-1_968_526_678, -1_789_569_707),
            (-4, 5),
            (0, 7),
            (i32::MIN, -1),
            (0, i32::MAX),
            (i32::MIN, i32::MAX),
        ] {
            let s = shard_of(lo, hi);
            if (lo, hi) == (0, 7) {
                assert_eq!(
                    scan_condition(&t, &s),
                    "(pg_catalog.hashint8(x.\"user\") >> 3) <> 0"
                );
            } else {
                assert_eq!(scan_condition(&t, &s), condition(&t, &s), "{lo} {hi}");
            }
        }
        // what PostgreSQL's int4 >> does (arithmetic shift) picks exactly the range
        for count in [2_i64, 4, 8, 32, 1024, 65_536] {
            let width = (1_i64 << 32) / count;
            for i in 1..count - 1 {
                let lo = (i64::from(i32::MIN) + i * width) as i32;
                let hi = (i64::from(lo) + width - 1) as i32;
                let s = shard_of(lo, hi);
                let c = scan_condition(&t, &s);
                let k: u32 = c
                    .split(">> ")
                    .nth(1)
                    .unwrap()
                    .split(')')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                let m: i32 = c.rsplit("<> ").next().unwrap().parse().unwrap();
                for h in [
                    lo,
                    lo + 1,
                    hi - 1,
                    hi,
                    lo.wrapping_sub(1),
                    hi.wrapping_add(1),
                    i32::MIN,
                    i32::MAX,
                    0,
                ] {
                    assert_eq!((h >> k) != m, !(lo..=hi).contains(&h), "{count} {i} {h}");
                }
            }
        }
    }

    #[test]
    fn a_command_over_several_shards_is_planned_without_parallel_workers() {
        let (a, b) = (shard(1), shard(2));
        let unsafe_call = "set_config('max_parallel_workers_per_gather', '0', true)";
        assert!(count_command(&[table()], &[&a, &b], None).contains(unsafe_call));
        assert!(!count_command(&[table()], &[&a], None).contains(unsafe_call));
    }

    #[test]
    fn results_parse_into_rows() {
        assert_eq!(
            parse_counts("[[1, 0], [2, 3]]").unwrap(),
            vec![
                Counted {
                    shard: 1,
                    misplaced: 0
                },
                Counted {
                    shard: 2,
                    misplaced: 3
                }
            ]
        );
        assert!(parse_counts("[[1, 0, 10]]").is_err(), "the old shape");
        assert!(parse_counts("nonsense").is_err());
        assert_eq!(
            parse_samples("[[2, \"5, 6\"]]").unwrap(),
            vec![(2, "5, 6".to_string())]
        );
    }

    #[test]
    fn the_remedy_moves_rows_through_the_table_in_one_statement() {
        let node = NodeInfo {
            id: 2,
            group: 1,
            name: "w1".into(),
            port: 5433,
            active: true,
            primary: true,
            has_metadata: true,
            metadata_synced: true,
        };
        let i = misplaced_rows(&table(), &shard(1), &node, 3, "7, 8");
        let sql = i.remedy.text();
        assert!(sql.contains("WITH moved AS (DELETE FROM public.order_1 x WHERE NOT (pg_catalog.hashint8(x.\"user\") BETWEEN -10 AND 10) RETURNING x.*) INSERT INTO public.\"order\" SELECT * FROM moved;"), "{sql}");
        assert!(!sql.to_uppercase().contains("DROP") && !sql.to_uppercase().contains("TRUNCATE"));
        let no_meta = NodeInfo {
            has_metadata: false,
            ..node
        };
        assert!(!misplaced_rows(&table(), &shard(1), &no_meta, 3, "")
            .remedy
            .is_runnable());
    }
}
