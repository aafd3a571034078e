//! One snapshot of the metadata checksums: what the background worker does every
//! `citus_sidecar.checksum_interval`, and what `citus_sidecar.record_checksums()` does on demand.
//!
//! Per distributed table and per node it computes a checksum of the normalised metadata
//! (partition row, shards, placements; plus the node and colocation catalogs), compares it with
//! the last snapshot, and classifies each change (sidecar_rules::changes): expected when a guard
//! decision or a Citus operation explains it or when it has the shape of Citus's own operations,
//! unexpected otherwise. A worker whose checksum differs from the coordinator's is drift.
//! Unexpected changes and drift raise a WARNING and wait in `unexpected_metadata_changes`.

use std::collections::{BTreeMap, BTreeSet};

use pgrx::prelude::*;
use sidecar_rules::changes::{self, Class, Context, ShardLayout};

use crate::api::on_all_nodes;

/// Per-table checksums (and the cluster-wide node/colocation rows), normalised like
/// checksums::SQL, as `name=md5;...`. Runs on every node. Shards and placements enter as the XOR
/// of 64-bit hashes of their rows (each row is unique by shard id): no sort and no long strings,
/// so a cycle over 100,000 shards stays within the worker's budget.
pub const TABLE_SUMS_SQL: &str = r#"WITH sh AS (
    SELECT logicalrelid,
           bit_xor(hashint8extended(shardid, hashtextextended(coalesce(shardminvalue, '') || '|' || coalesce(shardmaxvalue, ''), 0))) AS h
      FROM pg_catalog.pg_dist_shard GROUP BY logicalrelid),
  pl AS (
    SELECT s.logicalrelid, bit_xor(hashint8extended(p.shardid, (p.groupid::int8 << 8) | p.shardstate)) AS h
      FROM pg_catalog.pg_dist_placement p JOIN pg_catalog.pg_dist_shard s ON s.shardid = p.shardid
     GROUP BY s.logicalrelid)
SELECT coalesce(string_agg(name || '=' || sum, ';' ORDER BY name), '') FROM (
  SELECT p.logicalrelid::regclass::text AS name,
         md5(format('%s|%s|%s|%s', p.partmethod, column_to_column_name(p.logicalrelid, p.partkey),
                    p.colocationid, p.repmodel) || ':' || coalesce(sh.h::text, '') || ':' || coalesce(pl.h::text, '')) AS sum
    FROM pg_catalog.pg_dist_partition p
    LEFT JOIN sh ON sh.logicalrelid = p.logicalrelid
    LEFT JOIN pl ON pl.logicalrelid = p.logicalrelid
   WHERE p.partmethod IN ('h', 'n')
  UNION ALL
  SELECT '(pg_dist_node)', md5(coalesce(string_agg(format('%s|%s|%s|%s|%s|%s|%s', nodeid, groupid, nodename,
           nodeport, isactive, noderole, shouldhaveshards), ',' ORDER BY nodeid), ''))
    FROM pg_catalog.pg_dist_node
  UNION ALL
  SELECT '(pg_dist_colocation)', md5(coalesce(string_agg(format('%s|%s|%s|%s', colocationid, shardcount,
           replicationfactor, format_type(nullif(distributioncolumntype, 0), NULL)), ',' ORDER BY colocationid), ''))
    FROM pg_catalog.pg_dist_colocation
) sums"#;

/// The coordinator's shard layout of some tables (for classifying changes by their shape).
const LAYOUT_SQL: &str = r#"WITH pl AS (
    SELECT shardid, array_agg(groupid ORDER BY groupid) AS g
      FROM pg_catalog.pg_dist_placement WHERE shardstate = 1 GROUP BY shardid)
SELECT p.logicalrelid::regclass::text, s.shardid, s.shardminvalue, s.shardmaxvalue, coalesce(pl.g, '{}')
  FROM pg_catalog.pg_dist_partition p
  JOIN pg_catalog.pg_dist_shard s ON s.logicalrelid = p.logicalrelid
  LEFT JOIN pl ON pl.shardid = s.shardid
 WHERE p.partmethod IN ('h', 'n') AND p.logicalrelid = ANY ($1::regclass[])
 ORDER BY 1, 2"#;

pub struct Change {
    pub node: String,
    pub table: String,
    pub class: Class,
    pub reason: String,
}

fn parse(s: &str) -> BTreeMap<String, String> {
    crate::checksums::parse(s)
}

/// Is this node the coordinator (group 0)?
pub fn is_coordinator() -> bool {
    Spi::get_one::<i32>("SELECT groupid FROM pg_catalog.pg_dist_local_group LIMIT 1")
        .ok()
        .flatten()
        == Some(0)
}

fn previous(node: &str) -> BTreeMap<String, (String, Option<String>)> {
    Spi::connect(|client| {
        client
            .select(
                "SELECT table_name, checksum, layout FROM citus_sidecar.metadata_snapshot WHERE node = $1",
                None,
                &[node.into()],
            )
            .map(|rows| {
                rows.filter_map(|r| {
                    Some((
                        r.get::<String>(1).ok()??,
                        (r.get::<String>(2).ok()??, r.get::<String>(3).ok().flatten()),
                    ))
                })
                .collect()
            })
            .unwrap_or_default()
    })
}

/// Layouts of the tables whose checksum changed (all of them on the first snapshot).
fn layouts(tables: &[String]) -> BTreeMap<String, Vec<ShardLayout>> {
    let mut out: BTreeMap<String, Vec<ShardLayout>> = BTreeMap::new();
    if tables.is_empty() {
        return out;
    }
    Spi::connect(|client| {
        if let Ok(rows) = client.select(LAYOUT_SQL, None, &[tables.to_vec().into()]) {
            for r in rows {
                let Some(t) = r.get::<String>(1).ok().flatten() else {
                    continue;
                };
                let num = |i: usize| {
                    r.get::<String>(i)
                        .ok()
                        .flatten()
                        .and_then(|s| s.trim().parse::<i64>().ok())
                };
                out.entry(t).or_default().push(ShardLayout {
                    id: r.get::<i64>(2).ok().flatten().unwrap_or(0),
                    min: num(3),
                    max: num(4),
                    groups: r.get::<Vec<i32>>(5).ok().flatten().unwrap_or_default(),
                });
            }
        }
    });
    out
}

/// What explains changes since `since`: guard decisions (by table), and Citus operations.
fn explanations(since: Option<i64>) -> (BTreeMap<String, String>, Option<String>, bool) {
    let mut by_table = BTreeMap::new();
    let mut hatch = false;
    let text = crate::decisions::read_all();
    for line in text.iter().rev().map(String::as_str) {
        let at = field_i64(line, "\"at\":");
        if let (Some(since), Some(at)) = (since, at) {
            if at < since {
                break;
            }
        }
        let verdict = field_str(line, "\"verdict\":").unwrap_or_default();
        if verdict == "blocked" {
            continue;
        }
        if verdict == "allowed-by-hatch" {
            hatch = true;
        }
        if let Some(t) = field_str(line, "\"table\":") {
            let subject = field_str(line, "\"subject\":").unwrap_or_default();
            by_table
                .entry(t)
                .or_insert(format!("{subject} ({verdict})"));
        }
    }
    let has_jobs =
        Spi::get_one::<bool>("SELECT to_regclass('pg_catalog.pg_dist_background_job') IS NOT NULL")
            .ok()
            .flatten()
            .unwrap_or(false);
    let job = if has_jobs {
        Spi::get_one_with_args::<String>(
            "SELECT string_agg(DISTINCT job_type || ' ' || state, ', ') FROM pg_catalog.pg_dist_background_job \
              WHERE state IN ('scheduled', 'running', 'cancelling', 'failing') \
                 OR finished_at >= coalesce($1, now() - interval '1 hour')",
            &[since_ts(since).into()],
        )
        .ok()
        .flatten()
    } else {
        None
    };
    (by_table, job, hatch)
}

fn since_ts(since: Option<i64>) -> Option<TimestampWithTimeZone> {
    since.and_then(|us| {
        // SAFETY: a TimestampTz is microseconds since 2000-01-01, as GetCurrentTimestamp gives.
        unsafe { TimestampWithTimeZone::from_datum(pg_sys::Datum::from(us), false) }
    })
}

fn field_str(line: &str, key: &str) -> Option<String> {
    let i = line.find(key)? + key.len();
    let rest = &line[i..];
    if rest.starts_with("null") {
        return None;
    }
    let rest = rest.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            c => out.push(c),
        }
    }
    None
}

fn field_i64(line: &str, key: &str) -> Option<i64> {
    let i = line.find(key)? + key.len();
    line[i..]
        .split(|c: char| !(c.is_ascii_digit() || c == '-'))
        .next()?
        .parse()
        .ok()
}

/// The marker row every snapshot writes: the previous snapshot's time starts the window in which
/// guard decisions explain changes.
const MARKER: &str = "(snapshot)";

fn last_snapshot_at() -> Option<i64> {
    Spi::get_one::<TimestampWithTimeZone>(
        "SELECT recorded_at FROM citus_sidecar.metadata_snapshot WHERE node = 'coordinator' AND table_name = '(snapshot)'",
    )
        .ok()
        .flatten()
        .map(|ts| {
            let d: pg_sys::Datum = ts.into_datum().expect("a timestamp");
            d.value() as i64
        })
}

fn record(
    node: &str,
    table: &str,
    class: Class,
    reason: &str,
    old: Option<&str>,
    new: Option<&str>,
) {
    let _ = Spi::run_with_args(
        "INSERT INTO citus_sidecar.metadata_changes (node, table_name, classification, reason, old_checksum, new_checksum) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[node.into(), table.into(), class.as_str().into(), reason.into(), old.into(), new.into()],
    );
    if class == Class::Unexpected {
        warning!("citus_sidecar: unexpected change of Citus metadata on {node}, {table}: {reason}");
    }
}

fn save(node: &str, table: &str, checksum: &str, layout: Option<&str>) {
    let _ = Spi::run_with_args(
        "INSERT INTO citus_sidecar.metadata_snapshot (node, table_name, checksum, layout, recorded_at) \
         VALUES ($1, $2, $3, $4, now()) \
         ON CONFLICT (node, table_name) DO UPDATE SET checksum = EXCLUDED.checksum, layout = EXCLUDED.layout, recorded_at = now()",
        &[node.into(), table.into(), checksum.into(), layout.into()],
    );
}

fn forget(node: &str, table: &str) {
    let _ = Spi::run_with_args(
        "DELETE FROM citus_sidecar.metadata_snapshot WHERE node = $1 AND table_name = $2",
        &[node.into(), table.into()],
    );
}

/// Takes one snapshot; returns the changes it found. On a node that is not the coordinator it
/// does nothing.
pub fn snapshot() -> Vec<Change> {
    let mut found = Vec::new();
    if !is_coordinator() {
        return found;
    }
    let since = last_snapshot_at();
    let first = since.is_none();
    let (decided, job, hatch) = explanations(since);
    let active_groups: BTreeSet<i32> = Spi::connect(|c| {
        c.select("SELECT groupid FROM pg_catalog.pg_dist_node WHERE isactive AND noderole::text = 'primary'", None, &[])
            .map(|rows| rows.filter_map(|r| r.get::<i32>(1).ok().flatten()).collect())
            .unwrap_or_default()
    });
    let coordinator = "coordinator".to_string();
    let sums = parse(
        &Spi::get_one::<String>(TABLE_SUMS_SQL)
            .ok()
            .flatten()
            .unwrap_or_default(),
    );
    let mut before = previous(&coordinator);
    before.remove(MARKER);

    let mut names: BTreeSet<&String> = sums.keys().collect();
    names.extend(before.keys());
    let changed: Vec<&String> = names
        .into_iter()
        .filter(|n| sums.get(*n).map(String::as_str) != before.get(*n).map(|o| o.0.as_str()))
        .collect();
    let to_read: Vec<String> = changed
        .iter()
        .filter(|n| !n.starts_with('(') && sums.contains_key(**n))
        .map(|n| (*n).clone())
        .collect();
    let layouts = layouts(&to_read);
    for name in changed {
        let new_sum = sums.get(name);
        let old = before.get(name);
        let new_layout = layouts.get(name).map(|l| changes::encode(l));
        if !first {
            let ctx = Context {
                guard_decision: decided.get(name).cloned().or_else(|| {
                    hatch.then(|| "a hand edit allowed by citus_sidecar.allow_once".to_string())
                }),
                citus_job: job.clone(),
                active_groups: active_groups.clone(),
            };
            let (class, reason) = if name.starts_with('(') {
                match (&ctx.guard_decision, &ctx.citus_job) {
                    (Some(d), _) => (
                        Class::Expected,
                        format!("explained by a guard decision: {d}"),
                    ),
                    (_, Some(j)) => (Class::Expected, format!("during a Citus operation: {j}")),
                    _ => (
                        Class::Expected,
                        format!(
                            "{name} changed (node or colocation group added, removed or updated)"
                        ),
                    ),
                }
            } else {
                let old_layout = old.and_then(|o| o.1.as_deref()).map(changes::decode);
                let new_layout = new_sum.and(layouts.get(name).cloned());
                changes::classify(old_layout.as_deref(), new_layout.as_deref(), &ctx)
            };
            record(
                &coordinator,
                name,
                class,
                &reason,
                old.map(|o| o.0.as_str()),
                new_sum.map(String::as_str),
            );
            found.push(Change {
                node: coordinator.clone(),
                table: name.clone(),
                class,
                reason,
            });
        }
        match new_sum {
            Some(sum) => save(&coordinator, name, sum, new_layout.as_deref()),
            None => forget(&coordinator, name),
        }
    }

    save(&coordinator, MARKER, "taken", None);

    // Drift: every metadata-synced worker against the coordinator, reported when it starts.
    let workers: BTreeMap<i32, String> = Spi::connect(|c| {
        c.select(
            "SELECT nodeid, nodename || ':' || nodeport FROM pg_catalog.pg_dist_node \
              WHERE groupid <> 0 AND hasmetadata AND isactive AND noderole::text = 'primary'",
            None,
            &[],
        )
        .map(|rows| {
            rows.filter_map(|r| Some((r.get::<i32>(1).ok()??, r.get::<String>(2).ok()??)))
                .collect()
        })
        .unwrap_or_default()
    });
    if workers.is_empty() {
        return found;
    }
    for (nodeid, ok, result) in on_all_nodes(TABLE_SUMS_SQL) {
        let Some(label) = workers.get(&nodeid) else {
            continue;
        };
        let before = previous(label);
        let (state, theirs) = if ok {
            ("reachable", parse(&result))
        } else {
            ("unreachable", BTreeMap::new())
        };
        let was = before.get("(reachable)").map(|x| x.0.clone());
        if was.as_deref() != Some(state) {
            if state == "unreachable" || was.is_some() {
                let (class, reason) = if ok {
                    (Class::Expected, "reachable again".to_string())
                } else {
                    (Class::Unexpected, format!("node unreachable: {result}"))
                };
                record(
                    label,
                    "(reachable)",
                    class,
                    &reason,
                    was.as_deref(),
                    Some(state),
                );
                found.push(Change {
                    node: label.clone(),
                    table: "(reachable)".into(),
                    class,
                    reason,
                });
            }
            save(label, "(reachable)", state, None);
        }
        if !ok {
            continue;
        }
        let mut names: BTreeSet<&String> = sums.keys().collect();
        names.extend(theirs.keys());
        for name in names {
            let drifted = sums.get(name) != theirs.get(name);
            let key = format!("drift:{name}");
            let was_drifted = before.contains_key(&key);
            if drifted && !was_drifted {
                let reason =
                    format!("{label}'s metadata for {name} differs from the coordinator's (drift)");
                record(
                    label,
                    name,
                    Class::Unexpected,
                    &reason,
                    sums.get(name).map(String::as_str),
                    theirs.get(name).map(String::as_str),
                );
                found.push(Change {
                    node: label.clone(),
                    table: name.clone(),
                    class: Class::Unexpected,
                    reason,
                });
                save(
                    label,
                    &key,
                    theirs.get(name).map(String::as_str).unwrap_or("-"),
                    None,
                );
            } else if !drifted && was_drifted {
                forget(label, &key);
            }
        }
    }
    found
}

/// Deletes history older than the retention, keeping what is unexpected and unacknowledged.
pub fn prune(retention_hours: i32) {
    let _ = Spi::run_with_args(
        "DELETE FROM citus_sidecar.metadata_changes \
          WHERE detected_at < now() - make_interval(hours => $1) \
            AND (classification = 'expected' OR acknowledged_at IS NOT NULL)",
        &[retention_hours.into()],
    );
}
