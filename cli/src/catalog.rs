//! The rules' catalog for offline checks: a [`CatalogSnapshot`] answering the questions check_ddl
//! asks the live catalog, with PostgreSQL's name lookup: an unqualified name is looked up in the
//! snapshot's search path, in order (`RelnameGetRelid`, `TypenameGetTypid`, `CollationGetCollid`),
//! a qualified one in its schema only.

use std::collections::HashMap;

use sidecar_rules::call::{Catalog, RelationRef};
use sidecar_rules::pgvalue::parse_qualified_name;
use sidecar_rules::script::{ScriptCatalog, TypeFacts};
use sidecar_rules::snapshot::{CatalogSnapshot, SnapshotColumn, SnapshotTable, FORMAT, VERSION};
use sidecar_rules::{ColumnFacts, TableFacts};

/// Reads a snapshot file's text, refusing another format or a newer version.
pub fn read_snapshot(text: &str) -> Result<CatalogSnapshot, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let format = v.get("format").and_then(|f| f.as_str()).unwrap_or("");
    if format != FORMAT {
        return Err(format!(
            "not a citus-sidecar catalog snapshot (format \"{format}\", expected \"{FORMAT}\")"
        ));
    }
    let version = v.get("version").and_then(|f| f.as_u64()).unwrap_or(0);
    if version > u64::from(VERSION) {
        return Err(format!(
            "snapshot format version {version} is newer than this tool reads ({VERSION}); use the citus-sidecar that matches the extension"
        ));
    }
    serde_json::from_value(v).map_err(|e| format!("malformed snapshot: {e}"))
}

/// A snapshot, indexed for lookups.
pub struct SnapshotCatalog<'a> {
    pub snap: &'a CatalogSnapshot,
    tables: HashMap<(&'a str, &'a str), &'a SnapshotTable>,
    tables_by_oid: HashMap<u32, &'a SnapshotTable>,
    types: HashMap<(&'a str, &'a str), u32>,
    type_facts: HashMap<u32, (&'a TypeFacts, u32)>,
    collations: HashMap<(&'a str, &'a str), u32>,
}

impl<'a> SnapshotCatalog<'a> {
    pub fn new(snap: &'a CatalogSnapshot) -> Self {
        SnapshotCatalog {
            snap,
            tables: snap
                .tables
                .iter()
                .map(|t| ((t.schema.as_str(), t.name.as_str()), t))
                .collect(),
            tables_by_oid: snap.tables.iter().map(|t| (t.oid, t)).collect(),
            types: snap
                .types
                .iter()
                .map(|t| ((t.schema.as_str(), t.name.as_str()), t.oid))
                .collect(),
            type_facts: snap
                .types
                .iter()
                .map(|t| (t.oid, (&t.facts, t.array_type)))
                .collect(),
            collations: snap
                .collations
                .iter()
                .map(|c| ((c.schema.as_str(), c.name.as_str()), c.oid))
                .collect(),
        }
    }

    /// `name` in `schema`, or the first schema of the search path that has it.
    fn find<T: Copy>(
        &self,
        map: &HashMap<(&'a str, &'a str), T>,
        schema: Option<&str>,
        name: &str,
    ) -> Option<T> {
        match schema {
            Some(s) => map.get(&(s, name)).copied(),
            None => self
                .snap
                .search_path
                .iter()
                .find_map(|s| map.get(&(s.as_str(), name)).copied()),
        }
    }

    /// The type a CREATE TABLE column names (`names` as the parser gives them), as check_ddl
    /// resolves it: serial types read as their integers, `[]` as the array type. None when the
    /// snapshot has no such type (the script creates it, or it does not exist).
    pub fn type_oid(&self, names: &[String], array: bool) -> Option<u32> {
        let (schema, name) = match names {
            [n] => (None, n.as_str()),
            [s, n] | [_, s, n] => (Some(s.as_str()), n.as_str()),
            _ => return None,
        };
        let name = match (schema, name) {
            (None | Some("pg_catalog"), "serial" | "serial4") => "int4",
            (None | Some("pg_catalog"), "bigserial" | "serial8") => "int8",
            (None | Some("pg_catalog"), "smallserial" | "serial2") => "int2",
            _ => name,
        };
        let oid = self.find(&self.types, schema, name)?;
        if !array {
            return Some(oid);
        }
        self.type_facts
            .get(&oid)
            .map(|(_, arr)| *arr)
            .filter(|a| *a != 0)
    }

    pub fn type_facts(&self, oid: u32) -> Option<TypeFacts> {
        self.type_facts.get(&oid).map(|(f, _)| (*f).clone())
    }

    /// An explicit COLLATE clause's collation.
    pub fn collation_oid(&self, names: &[String]) -> Option<u32> {
        match names {
            [n] => self.find(&self.collations, None, n),
            [s, n] => self.find(&self.collations, Some(s), n),
            _ => None,
        }
    }

    fn column(&self, c: &SnapshotColumn) -> ColumnFacts {
        let t = self.type_facts(c.type_oid).unwrap_or_else(|| TypeFacts {
            name: format!("type {}", c.type_oid),
            oid: c.type_oid,
            collation: 0,
            enum_based: false,
            tiny_domain: false,
        });
        ColumnFacts {
            name: c.name.clone(),
            type_name: t.name,
            type_oid: t.oid,
            collation: c.collation,
            type_collation: t.collation,
            enum_based: t.enum_based,
            not_null: c.not_null,
            tiny_domain: t.tiny_domain,
        }
    }

    /// facts::table: the table, and the named column (or its current distribution column).
    fn table_facts(&self, t: &SnapshotTable, column: Option<&str>) -> TableFacts {
        let col = |n: &str| {
            t.columns
                .iter()
                .find(|c| c.name == n)
                .map(|c| self.column(c))
        };
        let wanted = column
            .map(str::to_string)
            .or_else(|| t.distribution_column.clone());
        TableFacts {
            name: t.display_name.clone(),
            has_replica_identity: t.has_replica_identity,
            colocation_id: t.colocation_id,
            colocated_with: t.colocated_with.clone(),
            primary_key: t.primary_key.clone(),
            key_columns: t.primary_key.iter().filter_map(|k| col(k)).collect(),
            column: wanted.and_then(|c| col(&c)),
        }
    }
}

impl Catalog for SnapshotCatalog<'_> {
    fn table(&mut self, rel: &RelationRef, column: Option<&str>) -> Option<TableFacts> {
        let t = match rel {
            RelationRef::Oid(o) => self.tables_by_oid.get(o).copied(),
            RelationRef::Name(n) => {
                let parts = parse_qualified_name(n)?;
                match parts.as_slice() {
                    [rel] => self.find(&self.tables, None, rel),
                    [schema, rel] | [_, schema, rel] => self.find(&self.tables, Some(schema), rel),
                    _ => None,
                }
            }
        }?;
        Some(self.table_facts(t, column))
    }
}

impl ScriptCatalog for SnapshotCatalog<'_> {
    fn reset_value(&mut self, setting: &str) -> Option<String> {
        self.snap.reset_values.get(setting).cloned()
    }
}
