//! `citus_sidecar.repair_misplaced_rows(table, dry_run, batch_size)`: moves rows that sit in a
//! shard whose hash range does not hold them into the shard that does. The plan, the commands
//! and why a batch is atomic across nodes are in sidecar_rules::misplaced; this module reads the
//! table's facts, takes the locks, asks the nodes through Citus (`master_run_on_worker`: a scan
//! and a lookup command per node, one move statement per batch on the node that holds the rows)
//! and reports every row of a dry run, and what a real run moved, per wrong and right shard.

use std::collections::{BTreeMap, HashMap, HashSet};

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::{JsonB, PgLogLevel, PgSqlErrorCode};
use serde_json::Value;
use sidecar_rules::misplaced::{
    fast_move_command, fewer_moved, lookup_query, move_command, moved_detail, moved_to,
    parse_careful_moved, parse_fast_moved, parse_lookup, parse_plan, parse_scan, per_node_command,
    plan_query, refusal, scan_query, shard_for, summary, tid_batches, unread_answer, Action, Found,
    Moved, Placement, Planned, TableKind, Target,
};

fn fail(code: PgSqlErrorCode, message: String, detail: &str, hint: &str) -> ! {
    ErrorReport::new(code, message, "repair_misplaced_rows")
        .set_detail(detail)
        .set_hint(hint)
        .report(PgLogLevel::ERROR);
    unreachable!("ERROR returned")
}

fn code_of(sqlstate: &str) -> PgSqlErrorCode {
    match sqlstate {
        "42809" => PgSqlErrorCode::ERRCODE_WRONG_OBJECT_TYPE,
        "0A000" => PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        _ => PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
    }
}

/// What the glue needs to know to refuse a table (sidecar_rules::misplaced::refusal).
const KIND_SQL: &str = r#"
SELECT c.oid::regclass::text,
       p.logicalrelid IS NOT NULL,
       coalesce(p.partmethod::text, ''),
       coalesce(p.repmodel::text, ''),
       a.attname IS NOT NULL,
       coalesce(ty.typtype = 'e' OR bt.typtype = 'e'
                OR EXISTS (SELECT 1 FROM pg_catalog.pg_type el WHERE el.oid = ty.typelem AND el.typtype = 'e'), false),
       (SELECT count(*) FROM (SELECT s.shardid FROM pg_catalog.pg_dist_shard s
                                JOIN pg_catalog.pg_dist_placement pl ON pl.shardid = s.shardid AND pl.shardstate = 1
                               WHERE s.logicalrelid = c.oid GROUP BY s.shardid HAVING count(*) > 1) r)::int8,
       ARRAY(SELECT con.conname::text FROM pg_catalog.pg_constraint con
              WHERE con.contype = 'f' AND con.confrelid = c.oid AND con.confdeltype NOT IN ('a', 'r')
              ORDER BY 1)
  FROM pg_catalog.pg_class c
  LEFT JOIN pg_catalog.pg_dist_partition p ON p.logicalrelid = c.oid
  LEFT JOIN pg_catalog.pg_attribute a
         ON a.attrelid = c.oid AND p.partkey IS NOT NULL
        AND a.attnum = substring(p.partkey FROM ':varattno ([0-9]+)')::int2
  LEFT JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
  LEFT JOIN pg_catalog.pg_type bt ON bt.oid = ty.typbasetype
 WHERE c.oid = $1"#;

fn table_kind(relid: pg_sys::Oid) -> TableKind {
    let kind = Spi::connect(|client| {
        let rows = client
            .select(KIND_SQL, None, &[relid.into()])
            .expect("reading the table's Citus metadata");
        rows.into_iter().next().map(|r| TableKind {
            name: crate::rows::opt::<String>(&r, 1, "the repair's catalog rows")
                .unwrap_or_default(),
            citus: crate::rows::opt::<bool>(&r, 2, "the repair's catalog rows").unwrap_or(false),
            method: crate::rows::opt::<String>(&r, 3, "the repair's catalog rows")
                .and_then(|s| s.chars().next())
                .unwrap_or('?'),
            repmodel: crate::rows::opt::<String>(&r, 4, "the repair's catalog rows")
                .and_then(|s| s.chars().next())
                .unwrap_or('?'),
            has_column: crate::rows::opt::<bool>(&r, 5, "the repair's catalog rows")
                .unwrap_or(false),
            enum_column: crate::rows::opt::<bool>(&r, 6, "the repair's catalog rows")
                .unwrap_or(false),
            replicated_shards: crate::rows::opt::<i64>(&r, 7, "the repair's catalog rows")
                .unwrap_or(0) as usize,
            cascading_references: crate::rows::opt::<Vec<String>>(
                &r,
                8,
                "the repair's catalog rows",
            )
            .unwrap_or_default(),
        })
    });
    match kind {
        Some(k) => k,
        None => fail(
            PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE,
            format!("no relation has OID {}", relid.to_u32()),
            "The table was dropped, or the OID is not a table's.",
            "Name the table: SELECT * FROM citus_sidecar.repair_misplaced_rows('orders');",
        ),
    }
}

/// The table as the commands need it: names quoted by PostgreSQL, the columns an INSERT gives
/// values to, the key, and the hash function Citus uses for the distribution column's type.
fn target(relid: pg_sys::Oid, name: String) -> Target {
    const SQL: &str = r#"
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname),
       quote_ident(a.attname),
       coalesce({hash_function},
                'pg_catalog.worker_hash'),
       ARRAY(SELECT quote_ident(b.attname) FROM pg_catalog.pg_attribute b
              WHERE b.attrelid = c.oid AND b.attnum > 0 AND NOT b.attisdropped AND b.attgenerated = ''
              ORDER BY b.attnum),
       EXISTS (SELECT 1 FROM pg_catalog.pg_attribute b
                WHERE b.attrelid = c.oid AND b.attnum > 0 AND NOT b.attisdropped AND b.attidentity = 'a'),
       coalesce(
         (SELECT array_agg(k.attname::text ORDER BY k.n) FROM pg_catalog.pg_index i,
                 LATERAL (SELECT ka.attname, u.n FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(attnum, n)
                            JOIN pg_catalog.pg_attribute ka ON ka.attrelid = i.indrelid AND ka.attnum = u.attnum) k
           WHERE i.indrelid = c.oid AND i.indisprimary GROUP BY i.indexrelid),
         (SELECT array_agg(k.attname::text ORDER BY k.n) FROM pg_catalog.pg_index i,
                 LATERAL (SELECT ka.attname, u.n FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(attnum, n)
                            JOIN pg_catalog.pg_attribute ka ON ka.attrelid = i.indrelid AND ka.attnum = u.attnum) k
           WHERE i.indrelid = c.oid AND i.indisreplident GROUP BY i.indexrelid),
         '{}'),
       c.relkind = 'r'
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite rw WHERE rw.ev_class = c.oid AND rw.ev_type = '3'),
       tr.tables, tr.names
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_dist_partition p ON p.logicalrelid = c.oid
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
   AND a.attnum = substring(p.partkey FROM ':varattno ([0-9]+)')::int2
  CROSS JOIN LATERAL (
       SELECT coalesce(array_agg(format('%I.%I', tn.nspname, tc.relname) ORDER BY tc.oid <> c.oid, tc.relname, tg.tgname), '{}') AS tables,
              coalesce(array_agg(tg.tgname::text ORDER BY tc.oid <> c.oid, tc.relname, tg.tgname), '{}') AS names
         FROM pg_catalog.pg_trigger tg
         JOIN pg_catalog.pg_class tc ON tc.oid = tg.tgrelid
         JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
        WHERE (tg.tgrelid = c.oid OR tg.tgrelid IN (SELECT relid FROM pg_catalog.pg_partition_tree(c.oid)))
          AND NOT tg.tgisinternal AND tg.tgenabled IN ('O', 'A') AND (tg.tgtype & (4 | 8)) <> 0) tr
 WHERE c.oid = $1"#;
    Spi::connect(|client| {
        let rows = client
            .select(
                &crate::queries::fill(SQL, &[("hash_function", crate::queries::HASH_FUNCTION)]),
                None,
                &[relid.into()],
            )
            .expect("reading the table's columns");
        let r = rows
            .into_iter()
            .next()
            .expect("a distributed table has its row");
        let key: Vec<String> =
            crate::rows::opt::<Vec<String>>(&r, 6, "the repair's catalog rows").unwrap_or_default();
        Target {
            name,
            shell: crate::rows::opt::<String>(&r, 1, "the repair's catalog rows")
                .unwrap_or_default(),
            column: crate::rows::opt::<String>(&r, 2, "the repair's catalog rows")
                .unwrap_or_default(),
            hash: crate::rows::opt::<String>(&r, 3, "the repair's catalog rows")
                .unwrap_or_default(),
            insert_columns: crate::rows::opt::<Vec<String>>(&r, 4, "the repair's catalog rows")
                .unwrap_or_default(),
            overriding: crate::rows::opt::<bool>(&r, 5, "the repair's catalog rows")
                .unwrap_or(false),
            key: key
                .into_iter()
                .map(|k| {
                    let q = sidecar_rules::distribution::quote_ident(&k);
                    (k, q)
                })
                .collect(),
            // not partitioned, no INSERT rule (triggers: below)
            keeps_every_row: crate::rows::col::<bool>(&r, 7, "the repair's catalog rows"),
            // INSERT | DELETE (tgtype bits 4, 8), enabled where sessions run (origin, always)
            // (the table it is on, its name): a trigger of a partition is the partition's
            triggers: crate::rows::opt::<Vec<String>>(&r, 8, "the repair's catalog rows")
                .unwrap_or_default()
                .into_iter()
                .zip(
                    crate::rows::opt::<Vec<String>>(&r, 9, "the repair's catalog rows")
                        .unwrap_or_default(),
                )
                .collect(),
        }
    })
}

/// Every shard's active placement (one per shard: replicated tables are refused before).
fn placements(relid: pg_sys::Oid) -> Vec<Placement> {
    const SQL: &str = r#"
SELECT s.shardid, pg_catalog.shard_name(s.logicalrelid, s.shardid, false),
       s.shardminvalue::int4, s.shardmaxvalue::int4, n.nodename, n.nodeport,
       n.groupid = 0 OR n.hasmetadata
  FROM pg_catalog.pg_dist_shard s
  JOIN pg_catalog.pg_dist_placement pl ON pl.shardid = s.shardid AND pl.shardstate = 1
  JOIN pg_catalog.pg_dist_node n ON n.groupid = pl.groupid AND n.noderole = 'primary' AND n.isactive
 WHERE s.logicalrelid = $1
 ORDER BY s.shardminvalue::int4"#;
    Spi::connect(|client| {
        client
            .select(SQL, None, &[relid.into()])
            .expect("reading the table's shards")
            .filter_map(|r| {
                Some(Placement {
                    shard: r.get::<i64>(1).ok()??,
                    relation: r.get::<String>(2).ok()??,
                    range: (r.get::<i32>(3).ok()??, r.get::<i32>(4).ok()??),
                    node: r.get::<String>(5).ok()??,
                    port: r.get::<i32>(6).ok()??,
                    metadata: r.get::<bool>(7).ok()??,
                })
            })
            .collect()
    })
}

/// Runs one command per (node, port) through Citus, all at once; answers (success, result) in
/// the order given. A node that cannot be reached is an unsuccessful answer, never an ERROR.
fn on_nodes(commands: &[(String, i32, String)]) -> Vec<(bool, String)> {
    if commands.is_empty() {
        return Vec::new();
    }
    let nodes: Vec<String> = commands.iter().map(|c| c.0.clone()).collect();
    let ports: Vec<i32> = commands.iter().map(|c| c.1).collect();
    let cmds: Vec<String> = commands.iter().map(|c| c.2.clone()).collect();
    let answers: Vec<(bool, String)> = Spi::connect(|client| {
        client
            .select(
                "SELECT success, coalesce(result, '') FROM pg_catalog.master_run_on_worker($1, $2, $3, true) \
                   WITH ORDINALITY AS r(node_name, node_port, success, result, i) ORDER BY i",
                None,
                &[nodes.into(), ports.into(), cmds.into()],
            )
            .expect("running commands through Citus")
            .map(|r| {
                (
                    crate::rows::opt::<bool>(&r, 1, "the repair's catalog rows").unwrap_or(false),
                    crate::rows::opt::<String>(&r, 2, "the repair's catalog rows").unwrap_or_default(),
                )
            })
            .collect()
    });
    if answers.len() == commands.len() {
        answers
    } else {
        vec![
            (
                false,
                "Citus answered for another number of commands".into()
            );
            commands.len()
        ]
    }
}

/// One row of the result.
type Row = (
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<JsonB>,
    Option<JsonB>,
    Option<JsonB>,
    Option<String>,
);

struct Out {
    rows: Vec<Row>,
    /// Table rows per action, for the summary line.
    counts: BTreeMap<Action, usize>,
    /// Lines about a shard that could not be read at all.
    unread_shards: usize,
    /// Rows moved so far, per (wrong shard, right shard): (the wrong shard's node, how many).
    moves: BTreeMap<(i64, Option<i64>), (String, usize)>,
}

impl Out {
    /// A row about a shard of `p` as a whole (how many of its rows is not known): its action
    /// and why.
    fn about_shard(&mut self, action: Action, p: &Placement, detail: String) {
        if action == Action::Left {
            self.unread_shards += 1;
        }
        self.rows.push((
            action.as_str().to_string(),
            None,
            Some(p.shard),
            None,
            Some(p.label()),
            None,
            None,
            None,
            Some(detail),
        ));
    }

    /// `rows` table rows moved from the shard of `p` to shard `to` (`None`: to the shards that
    /// hold them, which ones not known); with `detail`, a row of its own, else added up per
    /// wrong and right shard, as [`Out::moves_done`] reports them.
    fn moved(&mut self, p: &Placement, to: Option<i64>, rows: usize, detail: Option<String>) {
        *self.counts.entry(Action::Moved).or_default() += rows;
        match detail {
            Some(d) => self.push_moved(p.shard, to, p.label(), rows, d),
            None => self.moves.entry((p.shard, to)).or_insert((p.label(), 0)).1 += rows,
        }
    }

    /// The rows that say how many rows went from each wrong shard to each right one.
    fn moves_done(&mut self, ps: &[Placement]) {
        let node_of: HashMap<i64, String> = ps.iter().map(|p| (p.shard, p.label())).collect();
        for ((shard, to), (node, rows)) in std::mem::take(&mut self.moves) {
            let there = to.and_then(|s| node_of.get(&s)).map(String::as_str);
            let detail = moved_detail(rows, to, there);
            self.push_moved(shard, to, node, rows, detail);
        }
    }

    fn push_moved(&mut self, shard: i64, to: Option<i64>, node: String, rows: usize, d: String) {
        self.rows.push((
            Action::Moved.as_str().to_string(),
            Some(rows as i64),
            Some(shard),
            to,
            Some(node),
            None,
            None,
            None,
            Some(d),
        ));
    }

    /// A row about one table row.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        action: Action,
        shard: Option<i64>,
        target: Option<i64>,
        node: Option<String>,
        key: Option<Value>,
        row: Option<Value>,
        existing: Option<Value>,
        detail: Option<String>,
    ) {
        *self.counts.entry(action).or_default() += 1;
        self.rows.push((
            action.as_str().to_string(),
            Some(1),
            shard,
            target,
            node,
            key.map(JsonB),
            row.map(JsonB),
            existing.map(JsonB),
            detail,
        ));
    }
}

/// Misplaced rows of every placement (with the whole row), asking each node once. Answers, per
/// placement index, the rows found, or the node's error.
fn scan(t: &Target, ps: &[Placement]) -> Vec<Result<Vec<Found>, String>> {
    ask(ps, |p| scan_query(t, p), parse_scan)
}

/// Where the misplaced rows of every placement are, asking each node once: per placement
/// index, their places (in physical order) and hashes, or the node's error.
fn plan(t: &Target, ps: &[Placement]) -> Vec<Result<Vec<Planned>, String>> {
    ask(ps, |p| plan_query(t, p), parse_plan)
}

/// Asks each node once, for all its placements, `query` of each; per placement index, its part
/// of the node's answer, or the node's error.
fn ask<T: Clone + Default>(
    ps: &[Placement],
    query: impl Fn(&Placement) -> String,
    parse: impl Fn(&str) -> Result<BTreeMap<i64, T>, String>,
) -> Vec<Result<T, String>> {
    let mut by_node: BTreeMap<(String, i32), Vec<usize>> = BTreeMap::new();
    for (i, p) in ps.iter().enumerate() {
        by_node.entry((p.node.clone(), p.port)).or_default().push(i);
    }
    let commands: Vec<(String, i32, String)> = by_node
        .iter()
        .map(|((node, port), ix)| {
            let queries: Vec<(i64, String)> =
                ix.iter().map(|&i| (ps[i].shard, query(&ps[i]))).collect();
            (node.clone(), *port, per_node_command(&queries))
        })
        .collect();
    let mut out: Vec<Result<T, String>> = vec![Ok(T::default()); ps.len()];
    for ((_, ix), (ok, text)) in by_node.iter().zip(on_nodes(&commands)) {
        let parsed = if ok { parse(&text) } else { Err(text.clone()) };
        for &i in ix {
            out[i] = match &parsed {
                Ok(m) => Ok(m.get(&ps[i].shard).cloned().unwrap_or_default()),
                Err(e) => Err(e.clone()),
            };
        }
    }
    out
}

/// The rows with the same key as `probes` (grouped by the shard they belong in) that are in
/// those shards: per (shard, probe index), the row found. Keyless tables have no conflicts.
fn lookup(
    t: &Target,
    ps: &[Placement],
    probes: &BTreeMap<i64, Vec<Value>>,
) -> (HashMap<(i64, usize), Value>, HashMap<i64, String>) {
    let mut found = HashMap::new();
    let mut failed = HashMap::new();
    if t.key.is_empty() || probes.is_empty() {
        return (found, failed);
    }
    let by_shard: HashMap<i64, &Placement> = ps.iter().map(|p| (p.shard, p)).collect();
    let mut by_node: BTreeMap<(String, i32), Vec<(i64, String)>> = BTreeMap::new();
    for (shard, keys) in probes {
        if let Some(p) = by_shard.get(shard) {
            by_node
                .entry((p.node.clone(), p.port))
                .or_default()
                .push((*shard, lookup_query(t, p, keys)));
        }
    }
    let commands: Vec<(String, i32, String)> = by_node
        .iter()
        .map(|((n, port), qs)| (n.clone(), *port, per_node_command(qs)))
        .collect();
    for (((_, _), qs), (ok, text)) in by_node.iter().zip(on_nodes(&commands)) {
        match if ok { parse_lookup(&text) } else { Err(text) } {
            Ok(m) => {
                for (shard, hits) in m {
                    for (i, row) in hits {
                        found.insert((shard, i), row);
                    }
                }
            }
            Err(e) => {
                for (shard, _) in qs {
                    failed.insert(*shard, e.clone());
                }
            }
        }
    }
    (found, failed)
}

/// Reports `rows` of placement `p` as moves (dry run) or as what stayed (after a real run):
/// each is a conflict when its key is in the right shard, else `otherwise`.
fn classify(
    t: &Target,
    ps: &[Placement],
    ranges: &[(i64, i32, i32)],
    misplaced: &[(usize, Found)],
    otherwise: Action,
    why_left: &dyn Fn(usize, &Found) -> Option<String>,
    out: &mut Out,
) {
    let mut probes: BTreeMap<i64, Vec<Value>> = BTreeMap::new();
    let mut probe_of: Vec<Option<(i64, usize)>> = Vec::with_capacity(misplaced.len());
    for (_, f) in misplaced {
        match (shard_for(ranges, f.hash), &f.key) {
            (Some(r), Some(k)) => {
                let list = probes.entry(r).or_default();
                list.push(k.clone());
                probe_of.push(Some((r, list.len() - 1)));
            }
            _ => probe_of.push(None),
        }
    }
    let (existing, failed) = lookup(t, ps, &probes);
    let node_of: HashMap<i64, String> = ps.iter().map(|p| (p.shard, p.label())).collect();
    // Dry run: misplaced rows with one key, in two wrong shards, bound for one right shard.
    // Only one can move there (the first batch to commit); the others then conflict with it.
    let mut bound: HashMap<(i64, String), (i64, Option<Value>)> = HashMap::new();
    for ((i, f), probe) in misplaced.iter().zip(probe_of) {
        let p = &ps[*i];
        let right = shard_for(ranges, f.hash);
        let there = probe.and_then(|k| existing.get(&k).cloned());
        let rival = match (&there, otherwise, right, &f.key) {
            (None, Action::Move, Some(r), Some(k)) => match bound.get(&(r, k.to_string())) {
                Some((first, row)) => Some((row.clone(), format!(
                    "a misplaced row with this key in shard {first} belongs in shard {r} too: only one of them can move there, most likely that one (whichever batch commits first); this one would stay as a conflict: decide which is right, then delete the other"
                ))),
                None => {
                    bound.insert((r, k.to_string()), (p.shard, f.row.clone()));
                    None
                }
            },
            _ => None,
        };
        let conflict = match (there, rival) {
            (Some(e), _) => Some((Some(e), format!(
                "shard {} already has a row with this key: both versions are kept, this one where it is; decide which is right, then delete the other",
                right.map(|r| r.to_string()).unwrap_or_else(|| "?".into())
            ))),
            (None, rival) => rival,
        };
        if let Some((other, detail)) = conflict {
            out.push(
                Action::Conflict,
                Some(p.shard),
                right,
                Some(p.label()),
                f.key.clone(),
                f.row.clone(),
                other,
                Some(detail),
            );
            continue;
        }
        let lookup_failed = right.and_then(|r| failed.get(&r));
        let detail = match (otherwise, lookup_failed) {
            (_, Some(e)) => Some(format!(
                "could not look for a row with this key in shard {} on {}: {e}",
                right.unwrap_or(0),
                right
                    .and_then(|r| node_of.get(&r).cloned())
                    .unwrap_or_default()
            )),
            (Action::Move, None) => Some(format!(
                "would move to shard {} on {}",
                right.map(|r| r.to_string()).unwrap_or_else(|| "?".into()),
                right
                    .and_then(|r| node_of.get(&r).cloned())
                    .unwrap_or_default()
            )),
            _ => why_left(*i, f),
        };
        let action = if lookup_failed.is_some() {
            Action::Left
        } else {
            otherwise
        };
        out.push(
            action,
            Some(p.shard),
            right,
            Some(p.label()),
            f.key.clone(),
            f.row.clone(),
            None,
            detail,
        );
    }
}

/// Moves (or, in a dry run, lists) the rows of `table_name` that sit in a shard whose hash range
/// does not hold them. Superuser only; see sidecar_rules::misplaced and the README.
#[allow(clippy::type_complexity)] // the row type is the SQL result's columns
#[pg_extern(
    volatile,
    parallel_unsafe,
    sql = r#"
CREATE FUNCTION repair_misplaced_rows(
    table_name regclass,
    dry_run boolean DEFAULT true,
    batch_size integer DEFAULT 25000
) RETURNS TABLE (
    action text, rows bigint, shard_id bigint, target_shard_id bigint, node text,
    key jsonb, misplaced_row jsonb, existing_row jsonb, detail text)
VOLATILE PARALLEL UNSAFE LANGUAGE c
AS 'MODULE_PATHNAME', 'repair_misplaced_rows_wrapper';
"#
)]
fn repair_misplaced_rows(
    table_name: Option<pg_sys::Oid>,
    dry_run: Option<bool>,
    batch_size: Option<i32>,
) -> TableIterator<
    'static,
    (
        name!(action, String),
        name!(rows, Option<i64>),
        name!(shard_id, Option<i64>),
        name!(target_shard_id, Option<i64>),
        name!(node, Option<String>),
        name!(key, Option<JsonB>),
        name!(misplaced_row, Option<JsonB>),
        name!(existing_row, Option<JsonB>),
        name!(detail, Option<String>),
    ),
> {
    // SAFETY: a plain privilege check.
    if unsafe { !pg_sys::superuser() } {
        fail(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            "only superusers can repair misplaced rows".into(),
            "The repair deletes and inserts rows on every node, bypassing the shards' routing; even its dry run reads every row.",
            "Ask a superuser to run it (start with the dry run: SELECT * FROM citus_sidecar.repair_misplaced_rows('orders');).",
        );
    }
    let Some(relid) = table_name else {
        fail(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "repair_misplaced_rows needs a table, not NULL".into(),
            "table_name names the distributed table whose shards hold misplaced rows.",
            "SELECT * FROM citus_sidecar.repair_misplaced_rows('orders');",
        )
    };
    let Some(dry_run) = dry_run else {
        fail(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "dry_run must be true or false, not NULL".into(),
            "true lists what would move and what conflicts; false moves the rows.",
            "Start with the dry run: SELECT * FROM citus_sidecar.repair_misplaced_rows('orders');",
        )
    };
    let batch = match batch_size {
        Some(n) if n >= 1 => n as usize,
        _ => fail(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!(
                "batch_size must be at least 1 (it is {})",
                batch_size.map(|n| n.to_string()).unwrap_or_else(|| "NULL".into())
            ),
            "Each batch of at most batch_size rows moves in one transaction on the node that holds them.",
            "Leave it at its default (25000), or pass e.g. batch_size => 1000.",
        ),
    };
    let kind = table_kind(relid);
    if let Some(r) = refusal(&kind) {
        fail(code_of(r.sqlstate), r.message, &r.detail, &r.hint);
    }
    let name = kind.name.clone();
    if !dry_run {
        // SAFETY: reading transaction state.
        if unsafe { pg_sys::IsTransactionBlock() } {
            fail(
                PgSqlErrorCode::ERRCODE_ACTIVE_SQL_TRANSACTION,
                "repair_misplaced_rows(dry_run => false) cannot run inside a transaction block".into(),
                "Each batch commits on its own, on the node that holds its rows (atomically across nodes, through Citus): a ROLLBACK of this transaction could not undo them.",
                "Run it on its own, outside BEGIN ... COMMIT. The dry run may run anywhere.",
            );
        }
        lock_for_repair(relid, &name);
    }
    let t = target(relid, name.clone());
    if !dry_run {
        if let Some(r) = t.unmovable() {
            fail(code_of(r.sqlstate), r.message, &r.detail, &r.hint);
        }
    }
    let ps = placements(relid);
    let ranges: Vec<(i64, i32, i32)> = ps.iter().map(|p| (p.shard, p.range.0, p.range.1)).collect();

    crate::decisions::record_call(
        "repair_misplaced_rows",
        Some(&name),
        &[],
        if dry_run { "dry-run" } else { "repair-started" },
        Some(&format!("batch_size {batch}")),
        Some(relid.to_u32()),
        None,
    );

    let mut out = Out {
        rows: Vec::new(),
        counts: BTreeMap::new(),
        unread_shards: 0,
        moves: BTreeMap::new(),
    };
    if dry_run {
        let mut misplaced: Vec<(usize, Found)> = Vec::new();
        for (i, r) in scan(&t, &ps).into_iter().enumerate() {
            match r {
                Ok(rows) => misplaced.extend(rows.into_iter().map(|f| (i, f))),
                Err(e) => unscanned(&ps[i], &e, &mut out),
            }
        }
        classify(
            &t,
            &ps,
            &ranges,
            &misplaced,
            Action::Move,
            &|_, _| None,
            &mut out,
        );
    } else {
        repair(&t, &ps, &ranges, batch, &mut out);
    }

    let line = summary(dry_run, &out.counts, out.unread_shards);
    crate::decisions::record_call(
        "repair_misplaced_rows",
        Some(&name),
        &[],
        if dry_run { "dry-run-done" } else { "repaired" },
        Some(&line),
        Some(relid.to_u32()),
        None,
    );
    notice!("repair_misplaced_rows({name}): {line}");
    TableIterator::new(out.rows)
}

fn unscanned(p: &Placement, error: &str, out: &mut Out) {
    out.about_shard(
        Action::Left,
        p,
        format!("could not scan this shard on {}: {error}", p.label()),
    );
}

/// A Citus lock tag class (src/include/distributed/resource_lock.h, the same in 13.2 and 14.0):
/// the placement-colocation lock that shard moves take in RowExclusiveLock and splits in
/// ExclusiveLock (AcquirePlacementColocationLock, shard_rebalancer.c), without waiting.
const ADV_LOCKTAG_CLASS_CITUS_REBALANCE_PLACEMENT_COLOCATION: u16 = 13;

/// The second key of the lock one real run of a table holds: "sc".
const REPAIR_RUN_LOCK: u32 = 0x7363;

/// For a real run: no ALTER of the table (its columns are read once), no shard move or split
/// of its colocation group (its placements are read once) and no other run on the table while
/// the repair runs. Neither lock
/// is waited for: if another operation holds one, the repair says so and stops; while the repair
/// holds them, a move or split of the group fails at once with Citus's own "could not acquire
/// the lock ... re-run the command" (application reads and writes are not affected).
fn lock_for_repair(relid: pg_sys::Oid, name: &str) {
    // SAFETY: lock manager calls on a relation and an advisory tag, released at transaction end.
    let table_locked = unsafe {
        pg_sys::ConditionalLockRelationOid(relid, pg_sys::AccessShareLock as pg_sys::LOCKMODE)
    };
    if !table_locked {
        fail(
            PgSqlErrorCode::ERRCODE_LOCK_NOT_AVAILABLE,
            format!("{name} is being changed by another session (ALTER TABLE, alter_distributed_table, ...)"),
            "The repair reads the table's columns once and holds a lock that keeps them from changing until it ends.",
            "Run the repair again when that operation has finished.",
        );
    }
    let colocation: i64 = crate::rows::one(
        "SELECT coalesce((SELECT colocationid::int8 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1), 0)",
        &[relid.into()],
        "the table's colocation group",
    );
    let id = if colocation != 0 {
        colocation as u32
    } else {
        relid.to_u32()
    };
    // SAFETY: SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, 0, id, class), as Citus builds it.
    let acquired = unsafe {
        let mut tag: pg_sys::LOCKTAG = std::mem::zeroed();
        tag.locktag_field1 = pg_sys::MyDatabaseId.to_u32();
        tag.locktag_field2 = 0;
        tag.locktag_field3 = id;
        tag.locktag_field4 = ADV_LOCKTAG_CLASS_CITUS_REBALANCE_PLACEMENT_COLOCATION;
        tag.locktag_type = pg_sys::LockTagType::LOCKTAG_ADVISORY as u8;
        tag.locktag_lockmethodid = pg_sys::USER_LOCKMETHOD as u8;
        pg_sys::LockAcquire(&tag, pg_sys::ShareLock as pg_sys::LOCKMODE, false, true)
    };
    // SAFETY: an advisory tag of the sidecar's own (the two-int4 key space of
    // pg_advisory_xact_lock(int4, int4): the table's OID and "sc"), released at transaction end.
    let alone = unsafe {
        let mut tag: pg_sys::LOCKTAG = std::mem::zeroed();
        tag.locktag_field1 = pg_sys::MyDatabaseId.to_u32();
        tag.locktag_field2 = relid.to_u32();
        tag.locktag_field3 = REPAIR_RUN_LOCK;
        tag.locktag_field4 = 2;
        tag.locktag_type = pg_sys::LockTagType::LOCKTAG_ADVISORY as u8;
        tag.locktag_lockmethodid = pg_sys::USER_LOCKMETHOD as u8;
        pg_sys::LockAcquire(&tag, pg_sys::ExclusiveLock as pg_sys::LOCKMODE, false, true)
    };
    if alone == pg_sys::LockAcquireResult::LOCKACQUIRE_NOT_AVAIL {
        fail(
            PgSqlErrorCode::ERRCODE_LOCK_NOT_AVAILABLE,
            format!("another repair_misplaced_rows({name}) is running"),
            "Two runs on one table would move the same rows twice.",
            "Wait for it to finish, then run the dry run again to see what is left.",
        );
    }
    if acquired == pg_sys::LockAcquireResult::LOCKACQUIRE_NOT_AVAIL {
        fail(
            PgSqlErrorCode::ERRCODE_LOCK_NOT_AVAILABLE,
            format!("a shard move or split of {name}'s colocation group is in progress"),
            "The repair reads where each shard is once; a move or split would change that under it.",
            "Run the repair again when it has finished (SELECT * FROM citus_rebalance_status(); shows a rebalance).",
        );
    }
}

/// A batch of the real run: rows of one placement, by ctid, in physical order. At most
/// `batch_size` rows, 25,000 unless told otherwise: besides its rows a batch costs about 26 ms
/// (measured moving 2 rows: a new connection from the coordinator, the node's connections to
/// the others, two-phase commit), which 10,000-row batches paid once per 150 ms of moving (a
/// run of 100,000 rows took 1.20-1.27 s in batches of 10,000, 0.97-1.08 s in batches of
/// 25,000). The rows a batch locks are misplaced ones, which routed queries never see.
struct Batch {
    placement: usize,
    rows: Vec<Planned>,
}

/// How many batches run on one node at once, each over its own connection. A batch's node
/// reads its rows, routes them and writes the ones that stay on it in one backend, while the
/// other nodes only write: two at once keep it from being the bottleneck (measured by hand,
/// 40,000 rows on 2 cores: one at a time 680–760 ms, two 565–595, four 700–800, where the
/// coordinator's INSERT ... SELECT of them took 360–450). Two
/// batches of one shard take disjoint rows; a key in both of two wrong shards fails one of
/// them, which then runs the careful statement.
const BATCHES_AT_ONCE: usize = 2;

/// The real run: the batches of every wrong shard, [`BATCHES_AT_ONCE`] per node at a time, all
/// nodes at once; then what stayed, with the versions of conflicting rows.
fn repair(t: &Target, ps: &[Placement], ranges: &[(i64, i32, i32)], batch: usize, out: &mut Out) {
    let mut queues: BTreeMap<(String, i32), Vec<Batch>> = BTreeMap::new();
    let mut total = 0usize;
    let mut touched: Vec<usize> = Vec::new();
    for (i, r) in plan(t, ps).into_iter().enumerate() {
        let rows = match r {
            Ok(rows) => rows,
            Err(e) => {
                unscanned(&ps[i], &e, out);
                continue;
            }
        };
        if rows.is_empty() {
            continue;
        }
        touched.push(i);
        total += rows.len();
        let q = queues.entry((ps[i].node.clone(), ps[i].port)).or_default();
        for range in tid_batches(&rows, batch) {
            q.push(Batch {
                placement: i,
                rows: rows[range].to_vec(),
            });
        }
    }
    // Batches that failed: (placement, ctids) -> why; their rows are reported as left.
    let mut failed: Vec<(usize, HashSet<String>, String)> = Vec::new();
    let no_metadata = |p: &Placement| {
        format!(
            "{} has no Citus metadata, so it cannot insert through the distributed table (run SELECT start_metadata_sync_to_node({}, {}); first)",
            p.label(),
            sidecar_rules::consistency::issue::literal(&p.node),
            p.port
        )
    };
    let mut moved = 0usize;
    let rounds = queues
        .values()
        .map(|q| q.len().div_ceil(BATCHES_AT_ONCE))
        .max()
        .unwrap_or(0);
    for round in 0..rounds {
        let mut tasks: Vec<&Batch> = Vec::new();
        for b in queues
            .values()
            .flat_map(|q| q.iter().skip(round * BATCHES_AT_ONCE).take(BATCHES_AT_ONCE))
        {
            let p = &ps[b.placement];
            if !p.metadata {
                failed.push((b.placement, b.ctids(), no_metadata(p)));
                continue;
            }
            tasks.push(b);
        }
        // The fast statement where the table allows it; the careful one where it does not, and
        // for the batches whose fast statement failed (a key already in its right shard).
        let mut careful: Vec<&Batch> = Vec::new();
        if t.fast() {
            let answers = run_batches(
                ps,
                &tasks,
                |p, rows| fast_move_command(t, p, rows),
                parse_fast_moved,
            );
            for (b, answer) in tasks.iter().zip(answers) {
                match answer {
                    Answer::Moved(m) => moved += report_moved(b, &m, ps, ranges, out),
                    Answer::Unread(e) => report_unread(&ps[b.placement], &e, out),
                    // a key already in its right shard, most likely: the careful statement
                    // leaves such rows where they are (a table without a key has no other)
                    Answer::Failed(e) if t.key.is_empty() => {
                        failed.push((b.placement, b.ctids(), e))
                    }
                    Answer::Failed(_) => careful.push(b),
                }
            }
        } else {
            careful = tasks;
        }
        let answers = run_batches(
            ps,
            &careful,
            |p, rows| move_command(t, p, rows),
            |text| parse_careful_moved(t, text),
        );
        for (b, answer) in careful.iter().zip(answers) {
            match answer {
                Answer::Moved(m) => moved += report_moved(b, &m, ps, ranges, out),
                Answer::Unread(e) => report_unread(&ps[b.placement], &e, out),
                Answer::Failed(e) => failed.push((b.placement, b.ctids(), e)),
            }
        }
        notice!(
            "repair_misplaced_rows({}): batch round {} of {rounds}: {moved} of {total} misplaced row(s) moved",
            t.name,
            round + 1
        );
        pgrx::check_for_interrupts!();
    }
    out.moves_done(ps);
    if touched.is_empty() {
        return;
    }
    // What stayed: conflicts (with both versions), rows of failed batches, late arrivals.
    let sub: Vec<Placement> = touched.iter().map(|&i| ps[i].clone()).collect();
    let mut left: Vec<(usize, Found)> = Vec::new();
    for (j, r) in scan(t, &sub).into_iter().enumerate() {
        let i = touched[j];
        match r {
            Ok(rows) => left.extend(rows.into_iter().map(|f| (i, f))),
            Err(e) => unscanned(&ps[i], &e, out),
        }
    }
    let why = |i: usize, f: &Found| -> Option<String> {
        Some(
            failed
                .iter()
                .find(|(fi, tids, _)| *fi == i && f.ctid.as_ref().is_some_and(|c| tids.contains(c)))
                .map(|(_, _, e)| format!("its batch failed and moved nothing: {e}"))
                .unwrap_or_else(|| {
                    "still misplaced after the repair (written while it ran?): run it again".into()
                }),
        )
    };
    classify(t, ps, ranges, &left, Action::Left, &why, out);
}

/// What a batch's node answered.
enum Answer {
    /// The statement committed; what it says it moved.
    Moved(Moved),
    /// The statement committed, but its answer could not be read: how many rows it moved, and
    /// where to, is not known. Never retried: its rows are gone from the wrong shard.
    Unread(String),
    /// The statement failed, and nothing of the batch moved.
    Failed(String),
}

impl Batch {
    fn ctids(&self) -> HashSet<String> {
        self.rows.iter().map(|r| r.ctid.clone()).collect()
    }
}

/// Runs the `command` of each batch on its node, all at once: per batch, what its node
/// answered (read by `parse`).
fn run_batches(
    ps: &[Placement],
    batches: &[&Batch],
    command: impl Fn(&Placement, &[Planned]) -> String,
    parse: impl Fn(&str) -> Result<Moved, String>,
) -> Vec<Answer> {
    let commands: Vec<(String, i32, String)> = batches
        .iter()
        .map(|b| {
            let p = &ps[b.placement];
            (p.node.clone(), p.port, command(p, &b.rows))
        })
        .collect();
    on_nodes(&commands)
        .into_iter()
        .map(|(ok, text)| {
            if !ok {
                return Answer::Failed(text);
            }
            match parse(&text) {
                Ok(m) => Answer::Moved(m),
                Err(e) => Answer::Unread(e),
            }
        })
        .collect()
}

/// A batch whose statement committed but whose answer could not be read: one row about its
/// shard.
fn report_unread(p: &Placement, error: &str, out: &mut Out) {
    out.about_shard(Action::Moved, p, unread_answer(error));
}

/// What a batch moved, added up per right shard. Answers how many rows.
fn report_moved(
    b: &Batch,
    m: &Moved,
    ps: &[Placement],
    ranges: &[(i64, i32, i32)],
    out: &mut Out,
) -> usize {
    let p = &ps[b.placement];
    match moved_to(ranges, &b.rows, m) {
        Ok(to) => to
            .into_iter()
            .map(|(shard, rows)| {
                out.moved(p, shard, rows, None);
                rows
            })
            .sum(),
        Err(rows) => {
            if rows > 0 {
                out.moved(p, None, rows, Some(fewer_moved(rows, b.rows.len())));
            }
            rows
        }
    }
}
