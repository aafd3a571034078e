//! `citus_sidecar.catalog_snapshot()`: what check_ddl reads from the live catalog, as one JSON
//! document (sidecar_rules::snapshot), so `citus-sidecar check --catalog` can check migration
//! scripts with no server and reach the same findings. It reads the catalog exactly as check_ddl
//! does: the cluster and the settings through facts.rs, each type through facts::type_facts,
//! tables and columns with facts.rs's own SQL (run for every relation at once).

use std::collections::BTreeMap;
use std::ffi::{CStr, CString};

use pgrx::prelude::*;
use sidecar_rules::snapshot::{
    CatalogSnapshot, SnapshotCollation, SnapshotColumn, SnapshotTable, SnapshotType, FORMAT,
    VERSION,
};

use crate::facts;

/// Schemas whose relations and types no script can name: TOAST and other sessions' temporary
/// schemas.
const SKIP_SCHEMAS: &str = "n.nspname <> 'pg_toast' AND n.nspname !~ '^pg_(toast_)?temp_'";

/// The settings whose RESET value the rules follow (sidecar_rules::script::check_script).
const RESET_SETTINGS: [&str; 2] = ["citus.shard_count", "citus.shard_replication_factor"];

/// facts.rs's per-relation SQL with its parameters bound to the columns of an outer query.
fn bind(sql: &str, params: &[(&str, &str)]) -> String {
    let mut out = sql.to_string();
    for (p, v) in params {
        out = out.replace(p, v);
    }
    if out.contains('$') {
        error!("citus_sidecar: catalog_snapshot cannot bind the parameters of facts.rs's SQL");
    }
    out
}

fn need<T>(v: Result<Option<T>, pgrx::spi::SpiError>, what: &str) -> T {
    match v {
        Ok(Some(v)) => v,
        Ok(None) => error!("citus_sidecar: {what} is NULL in the catalog"),
        Err(e) => error!("citus_sidecar: cannot read {what}: {e}"),
    }
}

fn reset_value(name: &str) -> Option<String> {
    let c = CString::new(name).ok()?;
    // SAFETY: both return GUC-owned strings or NULL; GetConfigOption with missing_ok does not
    // raise, and GetConfigOptionResetString is only called for a setting that exists.
    unsafe {
        if pg_sys::GetConfigOption(c.as_ptr(), true, false).is_null() {
            return None;
        }
        let v = pg_sys::GetConfigOptionResetString(c.as_ptr());
        (!v.is_null()).then(|| CStr::from_ptr(v).to_string_lossy().into_owned())
    }
}

fn types() -> Vec<SnapshotType> {
    let rows: Vec<(pg_sys::Oid, String, String, pg_sys::Oid)> = Spi::connect(|c| {
        let sql = format!(
            "SELECT t.oid, n.nspname::text, t.typname::text, t.typarray FROM pg_type t \
               JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {SKIP_SCHEMAS} ORDER BY t.oid"
        );
        c.select(&sql, None, &[])
            .unwrap_or_else(|e| error!("citus_sidecar: cannot read pg_type: {e}"))
            .map(|r| {
                (
                    need(r.get::<pg_sys::Oid>(1), "pg_type.oid"),
                    need(r.get::<String>(2), "pg_namespace.nspname"),
                    need(r.get::<String>(3), "pg_type.typname"),
                    need(r.get::<pg_sys::Oid>(4), "pg_type.typarray"),
                )
            })
            .collect()
    });
    rows.into_iter()
        .map(|(oid, schema, name, array)| SnapshotType {
            oid: oid.to_u32(),
            schema,
            name,
            array_type: array.to_u32(),
            facts: facts::type_facts(oid),
        })
        .collect()
}

fn collations() -> Vec<SnapshotCollation> {
    // As a COLLATE clause finds them: the one for the database's encoding before one for any
    // encoding (-1).
    let sql = "SELECT DISTINCT ON (n.nspname, c.collname) c.oid::int8, n.nspname::text, c.collname::text \
                 FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace \
                WHERE c.collencoding IN (-1, pg_char_to_encoding(getdatabaseencoding())) \
                ORDER BY n.nspname, c.collname, c.collencoding DESC";
    Spi::connect(|c| {
        c.select(sql, None, &[])
            .unwrap_or_else(|e| error!("citus_sidecar: cannot read pg_collation: {e}"))
            .map(|r| SnapshotCollation {
                oid: need(r.get::<i64>(1), "pg_collation.oid") as u32,
                schema: need(r.get::<String>(2), "pg_namespace.nspname"),
                name: need(r.get::<String>(3), "pg_collation.collname"),
            })
            .collect()
    })
}

fn tables() -> Vec<SnapshotTable> {
    let table_sql = format!(
        "SELECT r.oid::int8, n.nspname::text, r.relname::text, r.relkind::text, x.* \
           FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace, LATERAL ({}) x \
          WHERE {SKIP_SCHEMAS} ORDER BY r.oid",
        bind(facts::TABLE_SQL, &[("$1", "r.oid")])
    );
    let column_sql = format!(
        "SELECT o.attrelid::int8, x.* \
           FROM pg_attribute o JOIN pg_class r ON r.oid = o.attrelid JOIN pg_namespace n ON n.oid = r.relnamespace, \
                LATERAL ({}) x \
          WHERE o.attnum > 0 AND NOT o.attisdropped AND {SKIP_SCHEMAS} ORDER BY o.attrelid, o.attnum",
        bind(facts::COLUMN_SQL, &[("$1", "o.attrelid"), ("$2", "o.attname")])
    );
    Spi::connect(|c| {
        let mut columns: BTreeMap<u32, Vec<SnapshotColumn>> = BTreeMap::new();
        let rows = c
            .select(&column_sql, None, &[])
            .unwrap_or_else(|e| error!("citus_sidecar: cannot read pg_attribute: {e}"));
        for r in rows {
            let relid = need(r.get::<i64>(1), "pg_attribute.attrelid") as u32;
            columns.entry(relid).or_default().push(SnapshotColumn {
                name: need(r.get::<String>(2), "pg_attribute.attname"),
                type_oid: need(r.get::<pg_sys::Oid>(3), "pg_attribute.atttypid").to_u32(),
                collation: need(r.get::<i64>(4), "pg_attribute.attcollation") as u32,
                not_null: need(r.get::<bool>(5), "pg_attribute.attnotnull"),
            });
        }
        let rows = c
            .select(&table_sql, None, &[])
            .unwrap_or_else(|e| error!("citus_sidecar: cannot read pg_class: {e}"));
        rows.map(|r| {
            let oid = need(r.get::<i64>(1), "pg_class.oid") as u32;
            SnapshotTable {
                oid,
                schema: need(r.get::<String>(2), "pg_namespace.nspname"),
                name: need(r.get::<String>(3), "pg_class.relname"),
                relkind: need(r.get::<String>(4), "pg_class.relkind"),
                display_name: need(r.get::<String>(5), "the table's name"),
                has_replica_identity: need(r.get::<bool>(6), "the table's replica identity"),
                colocation_id: crate::rows::opt::<i64>(&r, 7, "the catalog snapshot")
                    .map(|v| v as u32),
                colocated_with: need(r.get::<Vec<String>>(8), "the colocated tables"),
                distribution_column: crate::rows::opt::<String>(&r, 9, "the catalog snapshot"),
                primary_key: need(r.get::<Vec<String>>(10), "the primary key"),
                columns: columns.remove(&oid).unwrap_or_default(),
            }
        })
        .collect()
    })
}

/// Everything check_ddl reads from this database's catalog, as JSON (format
/// `citus-sidecar-catalog`, see the README): the input of `citus-sidecar check --catalog`.
/// Read-only; no table data.
#[pg_extern(volatile, parallel_unsafe)]
fn catalog_snapshot() -> pgrx::Json {
    let one = |sql: &str, what: &str| -> String { need(Spi::get_one::<String>(sql), what) };
    let snapshot = CatalogSnapshot {
        format: FORMAT.into(),
        version: VERSION,
        producer: format!("citus-sidecar {}", env!("CARGO_PKG_VERSION")),
        server_version_num: one(
            "SELECT current_setting('server_version_num')",
            "server_version_num",
        )
        .parse()
        .unwrap_or(0),
        citus_version: Spi::get_one::<String>(
            "SELECT extversion::text FROM pg_extension WHERE extname = 'citus'",
        )
        .ok()
        .flatten(),
        database: one("SELECT current_database()::text", "the database"),
        taken_at: one("SELECT now()::text", "the time"),
        settings: facts::settings(),
        reset_values: RESET_SETTINGS
            .iter()
            .filter_map(|s| reset_value(s).map(|v| (s.to_string(), v)))
            .collect(),
        search_path: need(
            Spi::get_one::<Vec<String>>("SELECT current_schemas(true)::text[]"),
            "the search path",
        ),
        cluster: facts::cluster(),
        types: types(),
        collations: collations(),
        tables: tables(),
    };
    match serde_json::to_value(&snapshot) {
        Ok(v) => pgrx::Json(v),
        Err(e) => error!("citus_sidecar: cannot write the catalog snapshot: {e}"),
    }
}
