//! Colocation splits (sidecar_rules::split) from the live cluster: the hash tables and their
//! groups, separations made on purpose (the guard's recorded `colocate_with => 'none'` calls and
//! the declarations of `declare_separate()`), foreign keys across groups, and joins seen in
//! `pg_stat_statements`. Everything here is read on the coordinator; no node is contacted.
//!
//! The report's catalog category and `metrics()` call [`splits`]; a superuser declares or
//! retracts a deliberate separation with `declare_separate()` / `retract_separate()`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::{c_void, CStr, CString};

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::{PgLogLevel, PgSqlErrorCode};
use sidecar_rules::split::{
    find_splits, join_candidates, joined_pairs, needs_layouts, separated_by_calls, ColRef, Layout,
    Link, QueryShape, RelRef, Split, SplitTable,
};

use crate::statements::ptr_list;

fn fail(code: PgSqlErrorCode, message: String, detail: Option<String>, hint: &str) -> ! {
    let mut r = ErrorReport::new(code, message, "citus_sidecar");
    if let Some(d) = detail {
        r = r.set_detail(d);
    }
    r.set_hint(hint).report(PgLogLevel::ERROR);
    unreachable!("ERROR returned")
}

/// Hash-distributed tables in a colocation group (partitions are represented by their parent,
/// whose group they share), with their distribution column.
const TABLES_SQL: &str = r#"
SELECT p.logicalrelid::oid::int8, p.logicalrelid::regclass::text, n.nspname::text, c.relname::text,
       p.colocationid::int8, a.attname::text, a.atttypid::int8,
       pg_catalog.format_type(a.atttypid, NULL), a.attcollation::int8,
       (SELECT count(*) FROM pg_catalog.pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid)::int4
  FROM pg_catalog.pg_dist_partition p
  JOIN pg_catalog.pg_class c ON c.oid = p.logicalrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a
    ON a.attrelid = p.logicalrelid
   AND a.attnum = substring(p.partkey FROM ':varattno ([0-9]+)')::int2
 WHERE p.partmethod = 'h' AND p.colocationid <> 0 AND NOT c.relispartition
 ORDER BY 2"#;

fn read_tables() -> Vec<SplitTable> {
    Spi::connect(|client| {
        client
            .select(TABLES_SQL, None, &[])
            .map(|rows| {
                rows.filter_map(|r| {
                    Some(SplitTable {
                        relid: r.get::<i64>(1).ok()?? as u32,
                        name: r.get::<String>(2).ok()??,
                        schema: r.get::<String>(3).ok()??,
                        relname: r.get::<String>(4).ok()??,
                        colocation_id: r.get::<i64>(5).ok()?? as u32,
                        column: r.get::<String>(6).ok()??,
                        type_oid: r.get::<i64>(7).ok()?? as u32,
                        type_name: r.get::<String>(8).ok()??,
                        collation: r.get::<i64>(9).ok()?? as u32,
                        shard_count: r.get::<i32>(10).ok()??,
                    })
                })
                .collect()
            })
            .unwrap_or_default()
    })
}

/// Tables separated on purpose: the guard's last recorded call on them said
/// `colocate_with => 'none'`, or a superuser declared them separate.
fn separated() -> HashSet<u32> {
    let database: String = crate::rows::one(
        "SELECT current_database()::text",
        &[],
        "the current database",
    );
    let records: Vec<_> = crate::decisions::read_all()
        .iter()
        .filter_map(|l| sidecar_rules::record::call_record(l))
        .collect();
    let mut out = separated_by_calls(&records, &database);
    let declared: Vec<u32> = Spi::connect(|client| {
        client
            .select(
                "SELECT table_name::oid::int8 FROM citus_sidecar.declared_separations",
                None,
                &[],
            )
            .map(|rows| {
                rows.filter_map(|r| {
                    crate::rows::opt::<i64>(&r, 1, "the colocation-split evidence")
                        .map(|o| o as u32)
                })
                .collect()
            })
            .unwrap_or_default()
    });
    out.extend(declared);
    out
}

/// Foreign keys on the coordinator between hash tables of different groups: Citus refuses to
/// create those on the shards, so they exist on the shell tables only.
const FOREIGN_KEYS_SQL: &str = r#"
SELECT con.conname::text, con.conrelid::oid::int8, con.confrelid::oid::int8
  FROM pg_catalog.pg_constraint con
  JOIN pg_catalog.pg_dist_partition a ON a.logicalrelid = con.conrelid
  JOIN pg_catalog.pg_dist_partition b ON b.logicalrelid = con.confrelid
 WHERE con.contype = 'f' AND a.partmethod = 'h' AND b.partmethod = 'h'
   AND a.colocationid <> b.colocationid
 ORDER BY 1"#;

fn foreign_keys() -> Vec<Link> {
    Spi::connect(|client| {
        client
            .select(FOREIGN_KEYS_SQL, None, &[])
            .map(|rows| {
                rows.filter_map(|r| {
                    Some(Link::ForeignKey {
                        constraint: r.get::<String>(1).ok()??,
                        from: r.get::<i64>(2).ok()?? as u32,
                        to: r.get::<i64>(3).ok()?? as u32,
                    })
                })
                .collect()
            })
            .unwrap_or_default()
    })
}

/// Statements of this database in pg_stat_statements, when the extension is installed and
/// readable (other roles' texts are hidden from a role without pg_read_all_stats: fewer
/// statements, never an error). citus_stat_statements takes its texts from the same view.
fn statement_stats() -> Vec<(String, i64)> {
    let schema: Option<String> = crate::rows::maybe_one(
        "SELECT n.nspname::text FROM pg_catalog.pg_extension e \
           JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace \
          WHERE e.extname = 'pg_stat_statements' \
            AND has_schema_privilege(n.oid, 'USAGE')",
        &[],
        "where pg_stat_statements is",
    );
    let Some(schema) = schema else {
        return Vec::new();
    };
    let view = format!(
        "{}.pg_stat_statements",
        sidecar_rules::distribution::quote_ident(&schema)
    );
    let readable: bool = crate::rows::one(
        "SELECT to_regclass($1) IS NOT NULL AND coalesce(has_table_privilege(to_regclass($1), 'SELECT'), false)",
        &[view.clone().into()],
        "whether the statement statistics are readable",
    );
    if !readable {
        return Vec::new();
    }
    let sql = format!(
        "SELECT query, calls FROM {view} \
          WHERE dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) \
            AND query IS NOT NULL AND calls > 0"
    );
    Spi::connect(|client| {
        client
            .select(&sql, None, &[])
            .map(|rows| {
                rows.filter_map(|r| Some((r.get::<String>(1).ok()??, r.get::<i64>(2).ok()??)))
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// Joins of candidate pairs' distribution columns in the statements pg_stat_statements kept:
/// one link per pair, with the calls added up.
fn joins(tables: &[SplitTable], separated: &HashSet<u32>) -> Vec<Link> {
    let pairs = join_candidates(tables, separated);
    if pairs.is_empty() {
        return Vec::new();
    }
    let relname: HashMap<u32, String> = tables
        .iter()
        .map(|t| (t.relid, t.relname.to_lowercase()))
        .collect();
    let wanted: HashSet<(u32, u32)> = pairs.iter().copied().collect();
    let mut calls: BTreeMap<(u32, u32), i64> = BTreeMap::new();
    for (query, n) in statement_stats() {
        let lower = query.to_lowercase();
        // Parse only what names both tables of a candidate pair.
        if !pairs
            .iter()
            .any(|(a, b)| lower.contains(&relname[a]) && lower.contains(&relname[b]))
        {
            continue;
        }
        for shape in shapes(&query) {
            for pair in joined_pairs(&shape, tables) {
                if wanted.contains(&pair) {
                    *calls.entry(pair).or_default() += n;
                }
            }
        }
    }
    calls
        .into_iter()
        .map(|((a, b), calls)| Link::Join {
            a,
            b,
            calls,
            source: "pg_stat_statements",
        })
        .collect()
}

/// Shard layouts (ranges and placement groups of the group's first table) of some groups.
fn layouts(groups: &[u32]) -> HashMap<u32, Layout> {
    if groups.is_empty() {
        return HashMap::new();
    }
    const SQL: &str = r#"
WITH firsts AS (
  SELECT DISTINCT ON (colocationid) colocationid, logicalrelid
    FROM pg_catalog.pg_dist_partition WHERE colocationid = ANY ($1::int4[])
   ORDER BY colocationid, logicalrelid::regclass::text)
SELECT f.colocationid::int8, s.shardminvalue::int4, s.shardmaxvalue::int4,
       array_agg(pl.groupid ORDER BY pl.groupid) FILTER (WHERE pl.shardstate = 1)
  FROM firsts f
  JOIN pg_catalog.pg_dist_shard s ON s.logicalrelid = f.logicalrelid
  LEFT JOIN pg_catalog.pg_dist_placement pl ON pl.shardid = s.shardid
 GROUP BY 1, 2, 3
 ORDER BY 1, 2"#;
    let ids: Vec<i32> = groups.iter().map(|g| *g as i32).collect();
    let mut out: HashMap<u32, Layout> = HashMap::new();
    Spi::connect(|client| {
        if let Ok(rows) = client.select(SQL, None, &[ids.into()]) {
            for r in rows {
                let (Some(g), Some(lo), Some(hi)) = (
                    crate::rows::opt::<i64>(&r, 1, "the colocation-split evidence"),
                    crate::rows::opt::<i32>(&r, 2, "the colocation-split evidence"),
                    crate::rows::opt::<i32>(&r, 3, "the colocation-split evidence"),
                ) else {
                    continue;
                };
                let placed: Vec<i32> =
                    crate::rows::opt::<Vec<i32>>(&r, 4, "the colocation-split evidence")
                        .unwrap_or_default();
                out.entry(g as u32).or_default().push((lo, hi, placed));
            }
        }
    });
    out
}

/// Every colocation split of this database's hash tables.
pub fn splits() -> Vec<Split> {
    let tables = read_tables();
    if tables.len() < 2 {
        return Vec::new();
    }
    let separated = separated();
    if join_candidates(&tables, &separated).is_empty() {
        return Vec::new();
    }
    let mut links = foreign_keys();
    links.extend(joins(&tables, &separated));
    let found = find_splits(&tables, &links, &separated, &HashMap::new());
    let groups = needs_layouts(&found);
    if groups.is_empty() {
        return found;
    }
    find_splits(&tables, &links, &separated, &layouts(&groups))
}

/// `metrics()`'s gauge: colocation groups that should join another group.
pub fn gauge() -> String {
    let name = "citus_sidecar_colocation_splits";
    let n = splits().len();
    format!(
        "# HELP {name} Colocation groups whose tables belong with another group's (shard_consistency_report() check colocation-split).\n# TYPE {name} gauge\n{}",
        sidecar_rules::record::prometheus_sample(name, &[], n as f64)
    )
}

// ---------------------------------------------------------------------------------------------
// Statement shapes, from PostgreSQL's own raw parser.
// ---------------------------------------------------------------------------------------------

unsafe extern "C-unwind" {
    #[cfg_attr(feature = "pg15", link_name = "raw_expression_tree_walker")]
    #[cfg_attr(not(feature = "pg15"), link_name = "raw_expression_tree_walker_impl")]
    fn pg_raw_walker(
        node: *mut pg_sys::Node,
        walker: unsafe extern "C-unwind" fn(*mut pg_sys::Node, *mut c_void) -> bool,
        context: *mut c_void,
    ) -> bool;
}

fn cstr(p: *const std::ffi::c_char) -> Option<String> {
    // SAFETY: a NUL-terminated string from a parse tree, or NULL.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// The names of a list of String nodes (ColumnRef fields, operator names); None for anything
/// else in it (`*`).
///
/// # Safety
/// `list` is NIL or a List of nodes.
unsafe fn names(list: *mut pg_sys::List) -> Option<Vec<String>> {
    // SAFETY: as documented; only String nodes are read as such.
    unsafe {
        ptr_list::<pg_sys::Node>(list)
            .map(|n| {
                if (*n).type_ == pg_sys::NodeTag::T_String {
                    cstr((*(n as *mut pg_sys::String)).sval)
                } else {
                    None
                }
            })
            .collect()
    }
}

/// # Safety
/// `node` is NULL or a raw-parse-tree node.
unsafe fn colref(node: *mut pg_sys::Node) -> Option<ColRef> {
    // SAFETY: as documented; the tag is checked before the cast.
    unsafe {
        if node.is_null() || (*node).type_ != pg_sys::NodeTag::T_ColumnRef {
            return None;
        }
        let mut parts = names((*(node as *mut pg_sys::ColumnRef)).fields)?;
        let column = parts.pop()?;
        Some(ColRef {
            qualifier: parts.pop(),
            column,
        })
    }
}

/// The walker's callback. It records, and keeps nothing with a destructor on the stack while
/// PostgreSQL's walker runs below it (an ERROR there longjmps to the PgTryBuilder in [`shapes`]).
///
/// # Safety
/// Only as raw_expression_tree_walker's callback, with `ctx` the walk's own state.
unsafe extern "C-unwind" fn collect(node: *mut pg_sys::Node, ctx: *mut c_void) -> bool {
    if node.is_null() {
        return false;
    }
    // SAFETY: ctx is the QueryShape of `shapes`; casts follow the node's tag.
    unsafe {
        let shape = &mut *(ctx as *mut QueryShape);
        match (*node).type_ {
            pg_sys::NodeTag::T_RangeVar => {
                let rv = node as *mut pg_sys::RangeVar;
                if let Some(name) = cstr((*rv).relname) {
                    let alias = if (*rv).alias.is_null() {
                        None
                    } else {
                        cstr((*(*rv).alias).aliasname)
                    };
                    shape.relations.push(RelRef {
                        schema: cstr((*rv).schemaname),
                        name,
                        alias,
                    });
                }
                false
            }
            pg_sys::NodeTag::T_JoinExpr => {
                let j = node as *mut pg_sys::JoinExpr;
                let start = shape.relations.len();
                if collect((*j).larg, ctx) {
                    return true;
                }
                let mid = shape.relations.len();
                if collect((*j).rarg, ctx) {
                    return true;
                }
                let end = shape.relations.len();
                if let Some(cols) = names((*j).usingClause).filter(|c| !c.is_empty()) {
                    shape
                        .usings
                        .push(((start..mid).collect(), (mid..end).collect(), cols));
                }
                collect((*j).quals, ctx)
            }
            pg_sys::NodeTag::T_A_Expr => {
                let e = node as *mut pg_sys::A_Expr;
                if (*e).kind == pg_sys::A_Expr_Kind::AEXPR_OP
                    && names((*e).name).is_some_and(|n| n.last().is_some_and(|o| o == "="))
                {
                    if let (Some(l), Some(r)) = (colref((*e).lexpr), colref((*e).rexpr)) {
                        shape.equalities.push((l, r));
                    }
                }
                pg_raw_walker(node, collect, ctx)
            }
            _ => pg_raw_walker(node, collect, ctx),
        }
    }
}

/// The shapes of the DML statements in `sql` (a statement text pg_stat_statements kept); none
/// when it does not parse or holds no SELECT, INSERT, UPDATE or DELETE.
fn shapes(sql: &str) -> Vec<QueryShape> {
    let Ok(c) = CString::new(sql) else {
        return Vec::new();
    };
    PgTryBuilder::new(|| {
        // SAFETY: raw parsing and walking touch no catalog and run nothing.
        unsafe {
            let list = pg_sys::raw_parser(c.as_ptr(), pg_sys::RawParseMode::RAW_PARSE_DEFAULT);
            let mut out = Vec::new();
            for raw in ptr_list::<pg_sys::RawStmt>(list) {
                let stmt = (*raw).stmt;
                if stmt.is_null()
                    || !matches!(
                        (*stmt).type_,
                        pg_sys::NodeTag::T_SelectStmt
                            | pg_sys::NodeTag::T_InsertStmt
                            | pg_sys::NodeTag::T_UpdateStmt
                            | pg_sys::NodeTag::T_DeleteStmt
                    )
                {
                    continue;
                }
                let mut shape = QueryShape::default();
                collect(stmt, (&raw mut shape).cast());
                out.push(shape);
            }
            out
        }
    })
    .catch_others(|_| Vec::new())
    .execute()
}

// ---------------------------------------------------------------------------------------------
// Declarations.
// ---------------------------------------------------------------------------------------------

fn require_superuser(what: &str) {
    // SAFETY: a plain privilege check.
    if unsafe { !pg_sys::superuser() } {
        fail(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("only superusers can {what}"),
            None,
            "A declaration silences a finding of shard_consistency_report() for good, so only a superuser may make or take it back.",
        );
    }
}

/// Declares that `table_name`'s colocation group is separate on purpose, with a reason:
/// shard_consistency_report() and metrics() then leave it out of colocation splits. Superuser
/// only; recorded in citus_sidecar.declared_separations and in the decision log.
// Declared by hand to take a regclass (an OID datum, as the Rust side reads it).
#[pg_extern(
    volatile,
    parallel_unsafe,
    sql = r#"
CREATE FUNCTION declare_separate(table_name regclass, reason text) RETURNS void
VOLATILE PARALLEL UNSAFE LANGUAGE c
AS 'MODULE_PATHNAME', 'declare_separate_wrapper';
"#
)]
fn declare_separate(table_name: Option<pg_sys::Oid>, reason: Option<&str>) {
    require_superuser("declare a colocation group separate on purpose");
    let Some(relid) = table_name else {
        fail(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "declare_separate needs a table, not NULL".into(),
            None,
            "SELECT citus_sidecar.declare_separate('audit_log', 'append-only, never joined');",
        )
    };
    let reason = reason.map(str::trim).unwrap_or("");
    if reason.is_empty() {
        fail(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "declare_separate needs a reason".into(),
            Some(
                "The reason is what the next person to see this table apart from the others reads."
                    .into(),
            ),
            "SELECT citus_sidecar.declare_separate('audit_log', 'append-only, never joined');",
        )
    }
    let name = Spi::get_one_with_args::<String>(
        "SELECT p.logicalrelid::regclass::text FROM pg_catalog.pg_dist_partition p \
          WHERE p.logicalrelid = $1 AND p.partmethod = 'h' AND p.colocationid <> 0",
        &[relid.into()],
    )
    .ok()
    .flatten();
    let Some(name) = name else {
        let shown = Spi::get_one_with_args::<String>("SELECT $1::regclass::text", &[relid.into()])
            .ok()
            .flatten()
            .unwrap_or_else(|| relid.to_u32().to_string());
        fail(
            PgSqlErrorCode::ERRCODE_WRONG_OBJECT_TYPE,
            format!("{shown} is not a hash-distributed table"),
            Some("Only hash-distributed tables are in colocation groups that can be split.".into()),
            "Name the distributed table whose colocation group is separate on purpose.",
        )
    };
    Spi::run_with_args(
        "INSERT INTO citus_sidecar.declared_separations AS d (table_name, reason) VALUES ($1, $2) \
         ON CONFLICT (table_name) DO UPDATE SET reason = excluded.reason, \
                declared_by = current_user, declared_at = now()",
        &[relid.into(), reason.into()],
    )
    .unwrap_or_else(|e| panic!("recording the declaration: {e}"));
    crate::decisions::record_call(
        "declare_separate",
        Some(&name),
        &[],
        "declared",
        Some(reason),
        Some(relid.to_u32()),
        None,
    );
}

/// Takes back a declaration of declare_separate(); true when there was one. Superuser only.
#[pg_extern(
    volatile,
    parallel_unsafe,
    sql = r#"
CREATE FUNCTION retract_separate(table_name regclass) RETURNS boolean
VOLATILE PARALLEL UNSAFE LANGUAGE c
AS 'MODULE_PATHNAME', 'retract_separate_wrapper';
"#
)]
fn retract_separate(table_name: Option<pg_sys::Oid>) -> bool {
    require_superuser("take back a declaration of a separate colocation group");
    let Some(relid) = table_name else {
        fail(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "retract_separate needs a table, not NULL".into(),
            None,
            "SELECT citus_sidecar.retract_separate('audit_log');",
        )
    };
    let removed = Spi::get_one_with_args::<String>(
        "DELETE FROM citus_sidecar.declared_separations WHERE table_name = $1 \
         RETURNING table_name::text",
        &[relid.into()],
    )
    .ok()
    .flatten();
    if let Some(name) = &removed {
        crate::decisions::record_call(
            "retract_separate",
            Some(name),
            &[],
            "retracted",
            None,
            Some(relid.to_u32()),
            None,
        );
    }
    removed.is_some()
}
