//! Catalog reads for the rules, through SPI. They run only when a distribution call executes,
//! never on the hooks' fast path. Every query reads the Citus catalogs by their real names
//! (pg_catalog.pg_dist_*), so they run unchanged on Citus and on the test double.

use pgrx::prelude::*;
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

/// The table, whether it has a key for logical replication, its colocation group and
/// siblings. $1 = table oid.
const TABLE_SQL: &str = r#"
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

/// A type: its name, whether it is or contains an enum, whether it is boolean at heart.
/// $1 = type oid.
const TYPE_SQL: &str = r#"
WITH RECURSIVE t(oid, depth) AS (
    SELECT $1::oid, 0
  UNION
    SELECT x.child, t.depth + 1
      FROM t JOIN pg_type ty ON ty.oid = t.oid
      CROSS JOIN LATERAL (
            SELECT ty.typbasetype WHERE ty.typbasetype <> 0
      UNION ALL SELECT ty.typelem WHERE ty.typelem <> 0 AND ty.typsubscript = 'array_subscript_handler'::regproc
      UNION ALL SELECT r.rngsubtype FROM pg_range r WHERE r.rngtypid = ty.oid
      UNION ALL SELECT r.rngtypid FROM pg_range r WHERE r.rngmultitypid = ty.oid
      UNION ALL SELECT ca.atttypid FROM pg_attribute ca
                 WHERE ty.typrelid <> 0 AND ca.attrelid = ty.typrelid AND ca.attnum > 0 AND NOT ca.attisdropped
      ) AS x(child)
     WHERE t.depth < 16
)
SELECT format_type($1::oid, NULL),
       EXISTS (SELECT 1 FROM t JOIN pg_type ty ON ty.oid = t.oid WHERE ty.typtype = 'e'),
       EXISTS (SELECT 1 FROM t WHERE t.oid = 'boolean'::regtype)"#;

/// (name, enum-based, boolean-based) of a type.
pub fn type_facts(oid: pg_sys::Oid) -> (String, bool, bool) {
    Spi::connect(|client| {
        let row = client.select(TYPE_SQL, Some(1), &[oid.into()]).ok().map(|t| t.first());
        match row {
            Some(r) => (
                r.get::<String>(1).ok().flatten().unwrap_or_default(),
                r.get::<bool>(2).ok().flatten().unwrap_or(false),
                r.get::<bool>(3).ok().flatten().unwrap_or(false),
            ),
            None => (String::new(), false, false),
        }
    })
}

/// The column: type, collation, NOT NULL (or in the primary key). $1 = table oid, $2 = name.
const COLUMN_SQL: &str = r#"
SELECT a.attname::text,
       a.atttypid,
       a.attcollation::int8,
       a.attnotnull OR EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = $1 AND i.indisprimary AND a.attnum = ANY (i.indkey))
  FROM pg_attribute a
 WHERE a.attrelid = $1 AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped"#;

fn oid_u32(v: Option<i64>) -> u32 {
    v.unwrap_or(0) as u32
}

pub fn cluster() -> Cluster {
    Spi::connect(|client| {
        let mut groups = Vec::new();
        let rows = client.select(GROUPS_SQL, None, &[]).expect("reading pg_dist_colocation");
        for row in rows {
            groups.push(ColocationGroup {
                id: oid_u32(row.get::<i64>(1).ok().flatten()),
                shard_count: row.get::<i32>(2).ok().flatten().unwrap_or(0),
                replication_factor: row.get::<i32>(3).ok().flatten().unwrap_or(0),
                type_oid: oid_u32(row.get::<i64>(4).ok().flatten()),
                type_name: row.get::<String>(5).ok().flatten().unwrap_or_default(),
                collation: oid_u32(row.get::<i64>(6).ok().flatten()),
                actual_shard_count: row.get::<i32>(7).ok().flatten().unwrap_or(0),
                tables: row.get::<Vec<String>>(8).ok().flatten().unwrap_or_default(),
            });
        }
        let shard_nodes = client
            .select(NODES_SQL, None, &[])
            .ok()
            .and_then(|t| t.first().get_one::<i64>().ok().flatten())
            .unwrap_or(0) as u32;
        Cluster {
            groups,
            shard_nodes,
        }
    })
}

pub fn settings() -> Settings {
    let get = |name: &str, default: i32| -> i32 {
        Spi::get_one_with_args::<String>("SELECT current_setting($1, true)", &[name.into()])
            .ok()
            .flatten()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(default)
    };
    Settings {
        shard_count: get("citus.shard_count", 32),
        replication_factor: get("citus.shard_replication_factor", 1),
    }
}

/// Facts about `relid` and the column the call distributes on (`column`, or the table's
/// current distribution column when None). None when the table does not exist: Citus raises
/// its own error for that.
pub fn table(relid: pg_sys::Oid, column: Option<&str>) -> Option<TableFacts> {
    Spi::connect(|client| {
        let rows = client.select(TABLE_SQL, Some(1), &[relid.into()]).ok()?;
        let row = rows.first();
        let name = row.get::<String>(1).ok().flatten()?;
        let has_ri = row.get::<bool>(2).ok().flatten().unwrap_or(false);
        let colocation_id = row.get::<i64>(3).ok().flatten().map(|v| v as u32);
        let siblings = row.get::<Vec<String>>(4).ok().flatten().unwrap_or_default();
        let current = row.get::<String>(5).ok().flatten();
        let primary_key = row.get::<Vec<String>>(6).ok().flatten().unwrap_or_default();
        let colname = column.map(str::to_string).or(current);
        let column = colname.and_then(|c| {
            let rows = client
                .select(COLUMN_SQL, Some(1), &[relid.into(), c.as_str().into()])
                .ok()?;
            let r = rows.first();
            let type_oid = r.get::<pg_sys::Oid>(2).ok().flatten()?;
            Some((
                r.get::<String>(1).ok().flatten()?,
                type_oid,
                oid_u32(r.get::<i64>(3).ok().flatten()),
                r.get::<bool>(4).ok().flatten().unwrap_or(false),
            ))
        });
        let column = column.map(|(name, type_oid, collation, not_null)| {
            let (type_name, enum_based, tiny_domain) = type_facts(type_oid);
            ColumnFacts {
                name,
                type_name,
                type_oid: type_oid.to_u32(),
                collation,
                enum_based,
                not_null,
                tiny_domain,
            }
        });
        Some(TableFacts {
            name,
            has_replica_identity: has_ri,
            colocation_id,
            colocated_with: siblings,
            primary_key,
            column,
        })
    })
}
