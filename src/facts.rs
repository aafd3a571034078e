//! Catalog reads for the rules. They run only when a distribution call executes (or check_ddl
//! runs), never on the hooks' fast path. The SQL reads the Citus catalogs by their real names
//! (pg_catalog.pg_dist_*), so it runs unchanged on Citus and on the test double; types are
//! walked through the syscache.

use std::collections::BTreeSet;
use std::ffi::CStr;

use pgrx::prelude::*;
use sidecar_rules::script::TypeFacts;
use sidecar_rules::{Cluster, ColocationGroup, ColumnFacts, Settings, TableFacts};

const GROUPS_SQL: &str = r#"
SELECT c.colocationid::int8,
       c.shardcount,
       c.replicationfactor,
       c.distributioncolumntype::int8,
       format_type(c.distributioncolumntype, NULL),
       c.distributioncolumncollation::int8,
       coalesce((SELECT count(*)::int FROM pg_catalog.pg_dist_shard s
                  WHERE s.logicalrelid = (SELECT min(p.logicalrelid::oid)::regclass
                                            FROM pg_catalog.pg_dist_partition p
                                           WHERE p.colocationid = c.colocationid)), 0),
       coalesce((SELECT array_agg(p.logicalrelid::regclass::text ORDER BY p.logicalrelid::regclass::text)
                   FROM pg_catalog.pg_dist_partition p
                  WHERE p.colocationid = c.colocationid), '{}')
  FROM pg_catalog.pg_dist_colocation c
 WHERE c.distributioncolumntype <> 0
 ORDER BY c.colocationid"#;

const NODES_SQL: &str = r#"
SELECT count(*)::int8 FROM pg_catalog.pg_dist_node
 WHERE isactive AND noderole::text = 'primary' AND shouldhaveshards"#;

/// The major version of Citus in this database (the test double says which it plays).
const CITUS_MAJOR_SQL: &str = r#"
SELECT coalesce((SELECT split_part(extversion, '.', 1)::int FROM pg_catalog.pg_extension WHERE extname = 'citus'),
                nullif(current_setting('citus_double.major', true), '')::int)"#;

/// The table, whether it has a key for logical replication, its colocation group and
/// siblings, its current distribution column, its primary key. $1 = table oid.
pub(crate) const TABLE_SQL: &str = r#"
SELECT c.oid::regclass::text,
       (c.relreplident = 'f'
        OR (c.relreplident = 'i' AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident))
        OR (c.relreplident = 'd' AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))),
       p.colocationid::int8,
       coalesce((SELECT array_agg(o.logicalrelid::regclass::text ORDER BY o.logicalrelid::regclass::text)
                   FROM pg_catalog.pg_dist_partition o
                  WHERE p.colocationid <> 0 AND o.colocationid = p.colocationid AND o.logicalrelid <> c.oid), '{}'),
       (SELECT a.attname::text FROM pg_attribute a
         WHERE a.attrelid = c.oid
           AND a.attnum = substring(p.partkey from ':varattno ([0-9]+)')::int),
       coalesce((SELECT array_agg(a.attname::text ORDER BY k.ord)
                   FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord), pg_attribute a
                  WHERE i.indrelid = c.oid AND i.indisprimary AND a.attrelid = c.oid AND a.attnum = k.attnum), '{}')
  FROM pg_class c
  LEFT JOIN pg_catalog.pg_dist_partition p ON p.logicalrelid = c.oid
 WHERE c.oid = $1"#;

/// A column: type, collation, NOT NULL (a validated NOT NULL, or in the primary key).
/// $1 = table oid, $2 = name.
pub(crate) const COLUMN_SQL: &str = r#"
SELECT a.attname::text,
       a.atttypid,
       a.attcollation::int8,
       (a.attnotnull AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint n
                                      WHERE n.conrelid = a.attrelid AND n.contype = 'n'
                                        AND a.attnum = ANY (n.conkey) AND NOT n.convalidated))
       OR EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = $1 AND i.indisprimary AND a.attnum = ANY (i.indkey))
  FROM pg_attribute a
 WHERE a.attrelid = $1 AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped"#;

/// What a type is, walked through the syscache with no depth limit: its name, its default
/// collation, whether it is or contains an enum (through domains, arrays, ranges, multiranges
/// and composite types, however deep), whether it is boolean under its domains.
pub fn type_facts(oid: pg_sys::Oid) -> TypeFacts {
    let mut seen = BTreeSet::new();
    let mut todo = vec![oid];
    let mut enum_based = false;
    let mut base = oid;
    // SAFETY: syscache lookups, each tuple released before the next; format_type_be allocates.
    unsafe {
        // The domain chain first, for the base type.
        loop {
            let tuple = pg_sys::SearchSysCache1(
                pg_sys::SysCacheIdentifier::TYPEOID as i32,
                pg_sys::Datum::from(base),
            );
            if tuple.is_null() {
                break;
            }
            let t = pg_sys::heap_tuple_get_struct::<pg_sys::FormData_pg_type>(tuple);
            let next = (*t).typbasetype;
            pg_sys::ReleaseSysCache(tuple);
            if next == pg_sys::InvalidOid || !seen.insert(base.to_u32()) {
                break;
            }
            base = next;
        }
        seen.clear();
        while let Some(t_oid) = todo.pop() {
            if !seen.insert(t_oid.to_u32()) {
                continue;
            }
            let tuple = pg_sys::SearchSysCache1(
                pg_sys::SysCacheIdentifier::TYPEOID as i32,
                pg_sys::Datum::from(t_oid),
            );
            if tuple.is_null() {
                continue;
            }
            let t = pg_sys::heap_tuple_get_struct::<pg_sys::FormData_pg_type>(tuple);
            let (typtype, basetype, elem, relid, subscript) = (
                (*t).typtype as u8,
                (*t).typbasetype,
                (*t).typelem,
                (*t).typrelid,
                (*t).typsubscript,
            );
            pg_sys::ReleaseSysCache(tuple);
            match typtype {
                b'e' => enum_based = true,
                b'r' => todo.extend(range_subtype(t_oid)),
                b'm' => todo.extend(multirange_range(t_oid)),
                _ => {}
            }
            if basetype != pg_sys::InvalidOid {
                todo.push(basetype);
            }
            // An array's element (a plain array: typsubscript is array_subscript_handler).
            if elem != pg_sys::InvalidOid
                && subscript == pg_sys::Oid::from(pg_sys::F_ARRAY_SUBSCRIPT_HANDLER)
            {
                todo.push(elem);
            }
            if relid != pg_sys::InvalidOid {
                todo.extend(attribute_types(relid));
            }
        }
        TypeFacts {
            name: CStr::from_ptr(pg_sys::format_type_be(oid))
                .to_string_lossy()
                .into_owned(),
            oid: oid.to_u32(),
            collation: pg_sys::get_typcollation(oid).to_u32(),
            enum_based,
            tiny_domain: base == pg_sys::BOOLOID,
        }
    }
}

/// # Safety
/// Call it inside a transaction (syscache lookups).
unsafe fn range_subtype(range: pg_sys::Oid) -> Option<pg_sys::Oid> {
    // SAFETY: a syscache lookup; InvalidOid when it is no range.
    Some(unsafe { pg_sys::get_range_subtype(range) }).filter(|o| *o != pg_sys::InvalidOid)
}

/// # Safety
/// Call it inside a transaction (syscache lookups).
unsafe fn multirange_range(multirange: pg_sys::Oid) -> Option<pg_sys::Oid> {
    // SAFETY: as above.
    Some(unsafe { pg_sys::get_multirange_range(multirange) }).filter(|o| *o != pg_sys::InvalidOid)
}

/// The column types of a composite type's relation.
///
/// # Safety
/// Call it inside a transaction (syscache lookups).
unsafe fn attribute_types(relid: pg_sys::Oid) -> Vec<pg_sys::Oid> {
    let mut out = Vec::new();
    // SAFETY: syscache lookups released before the next.
    unsafe {
        let tuple = pg_sys::SearchSysCache1(
            pg_sys::SysCacheIdentifier::RELOID as i32,
            pg_sys::Datum::from(relid),
        );
        if tuple.is_null() {
            return out;
        }
        let natts = (*pg_sys::heap_tuple_get_struct::<pg_sys::FormData_pg_class>(tuple)).relnatts;
        pg_sys::ReleaseSysCache(tuple);
        for attnum in 1..=natts {
            let tuple = pg_sys::SearchSysCache2(
                pg_sys::SysCacheIdentifier::ATTNUM as i32,
                pg_sys::Datum::from(relid),
                pg_sys::Datum::from(attnum),
            );
            if tuple.is_null() {
                continue;
            }
            let a = pg_sys::heap_tuple_get_struct::<pg_sys::FormData_pg_attribute>(tuple);
            if !(*a).attisdropped {
                out.push((*a).atttypid);
            }
            pg_sys::ReleaseSysCache(tuple);
        }
    }
    out
}

/// A value SQL returned that the rules cannot do without: reading it is an ERROR, never a
/// default the rules would judge on.
fn need<T>(v: Result<Option<T>, pgrx::spi::SpiError>, what: &str) -> T {
    match v {
        Ok(Some(v)) => v,
        Ok(None) => error!("citus_sidecar: {what} is NULL in the catalog"),
        Err(e) => error!("citus_sidecar: cannot read {what}: {e}"),
    }
}

/// The colocation groups of hash-distributed tables and the nodes that can hold shards.
pub fn cluster() -> Cluster {
    Spi::connect(|client| {
        let mut groups = Vec::new();
        let rows = client
            .select(GROUPS_SQL, None, &[])
            .unwrap_or_else(|e| error!("citus_sidecar: cannot read pg_dist_colocation: {e}"));
        for row in rows {
            groups.push(ColocationGroup {
                id: need(row.get::<i64>(1), "pg_dist_colocation.colocationid") as u32,
                shard_count: need(row.get::<i32>(2), "pg_dist_colocation.shardcount"),
                replication_factor: need(row.get::<i32>(3), "pg_dist_colocation.replicationfactor"),
                type_oid: need(
                    row.get::<i64>(4),
                    "pg_dist_colocation.distributioncolumntype",
                ) as u32,
                type_name: need(row.get::<String>(5), "format_type(distributioncolumntype)"),
                collation: need(
                    row.get::<i64>(6),
                    "pg_dist_colocation.distributioncolumncollation",
                ) as u32,
                actual_shard_count: need(row.get::<i32>(7), "the group's shard count"),
                tables: need(row.get::<Vec<String>>(8), "the group's tables"),
            });
        }
        let shard_nodes = need(
            client
                .select(NODES_SQL, None, &[])
                .and_then(|t| t.first().get_one::<i64>()),
            "the number of nodes that hold shards",
        ) as u32;
        Cluster {
            groups,
            shard_nodes,
        }
    })
}

/// The session's effective settings and the Citus version the rules follow.
///
/// Read without any statement that could assign a transaction id (pgrx's `Spi::get_one` and
/// `Spi::run` do): the guard runs inside the caller's transaction, and Citus's
/// `create_distributed_table_concurrently` waits, through a replication-slot creation on
/// another connection, for every transaction that holds an id, its caller's included. An id
/// assigned here made that call wait on itself forever.
pub fn settings() -> Settings {
    let get = |name: &std::ffi::CStr, default: i32| -> i32 {
        setting(name)
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(default)
    };
    let major = Spi::connect(|client| {
        client
            .select(CITUS_MAJOR_SQL, Some(1), &[])
            .and_then(|t| t.first().get_one::<i32>())
    })
    .ok()
    .flatten();
    Settings {
        shard_count: get(c"citus.shard_count", 32),
        replication_factor: get(c"citus.shard_replication_factor", 1),
        citus_major: major
            .map(|m| m as u32)
            .unwrap_or(sidecar_rules::facts::ASSUMED_CITUS_MAJOR),
    }
}

/// A setting's current value as SHOW prints it, or None where no such setting exists (Citus
/// not loaded). No SPI.
fn setting(name: &std::ffi::CStr) -> Option<String> {
    // SAFETY: a NUL-terminated name; with missing_ok, an unknown name is NULL, not an ERROR;
    // the result is a palloc'd NUL-terminated string in the current memory context.
    unsafe {
        let p = pg_sys::GetConfigOptionByName(name.as_ptr(), std::ptr::null_mut(), true);
        (!p.is_null()).then(|| std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned())
    }
}

/// One column of `relid`, or None when it has no such column.
fn column(
    client: &pgrx::spi::SpiClient<'_>,
    relid: pg_sys::Oid,
    name: &str,
) -> Option<ColumnFacts> {
    let rows = client
        .select(COLUMN_SQL, Some(1), &[relid.into(), name.into()])
        .unwrap_or_else(|e| error!("citus_sidecar: cannot read pg_attribute: {e}"));
    if rows.is_empty() {
        return None;
    }
    let r = rows.first();
    let type_oid = need(r.get::<pg_sys::Oid>(2), "pg_attribute.atttypid");
    let t = type_facts(type_oid);
    Some(ColumnFacts {
        name: need(r.get::<String>(1), "pg_attribute.attname"),
        type_name: t.name,
        type_oid: t.oid,
        collation: need(r.get::<i64>(3), "pg_attribute.attcollation") as u32,
        type_collation: t.collation,
        enum_based: t.enum_based,
        not_null: need(r.get::<bool>(4), "pg_attribute.attnotnull"),
        tiny_domain: t.tiny_domain,
    })
}

/// Facts about `relid` and the column the call distributes on (`column`, or the table's
/// current distribution column when None). None when the table does not exist: Citus raises
/// its own error for that.
pub fn table(relid: pg_sys::Oid, column_name: Option<&str>) -> Option<TableFacts> {
    Spi::connect(|client| {
        let rows = client
            .select(TABLE_SQL, Some(1), &[relid.into()])
            .unwrap_or_else(|e| error!("citus_sidecar: cannot read pg_class: {e}"));
        if rows.is_empty() {
            return None;
        }
        let row = rows.first();
        let name = need(row.get::<String>(1), "the table's name");
        let has_ri = need(row.get::<bool>(2), "the table's replica identity");
        let colocation_id = row.get::<i64>(3).ok().flatten().map(|v| v as u32);
        let siblings = need(row.get::<Vec<String>>(4), "the colocated tables");
        let current = row.get::<String>(5).ok().flatten();
        let primary_key = need(row.get::<Vec<String>>(6), "the primary key");
        let key_columns = primary_key
            .iter()
            .filter_map(|k| column(client, relid, k))
            .collect();
        let wanted = column_name.map(str::to_string).or(current);
        let col = wanted.and_then(|c| column(client, relid, &c));
        Some(TableFacts {
            name,
            has_replica_identity: has_ri,
            colocation_id,
            colocated_with: siblings,
            primary_key,
            key_columns,
            column: col,
        })
    })
}
