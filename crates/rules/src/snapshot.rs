//! The catalog snapshot: what the rules need from a live cluster to check a migration script
//! with no server at hand (`citus-sidecar snapshot` writes it, `citus-sidecar check --catalog`
//! reads it). One producer writes it, the extension's `citus_sidecar.catalog_snapshot()`, from
//! the same catalog reads check_ddl makes; this module only defines its shape, so the writer and
//! the reader cannot disagree about it.
//!
//! It holds no data: the cluster's colocation groups and nodes, the session's Citus settings,
//! the search path, every type with its facts, the collations the database can use, and every
//! relation with its columns, key and distribution.
//!
//! [`FORMAT`] and [`VERSION`] identify the format. A reader refuses another format and a newer
//! version; a change that an older reader would misread bumps [`VERSION`].

use std::collections::BTreeMap;

use crate::facts::{Cluster, Settings};
use crate::script::TypeFacts;

/// The `format` field of every snapshot.
pub const FORMAT: &str = "citus-sidecar-catalog";

/// The version of the format this crate writes and reads.
pub const VERSION: u32 = 1;

/// A whole snapshot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CatalogSnapshot {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`] when written.
    pub version: u32,
    /// Who wrote it (`citus-sidecar 0.2.0`).
    pub producer: String,
    /// `server_version_num` of the coordinator (the parser version check_ddl used there).
    pub server_version_num: u32,
    /// `pg_extension.extversion` of Citus, None where Citus is not installed.
    pub citus_version: Option<String>,
    /// The database it was taken in.
    pub database: String,
    /// When it was taken (`now()` as text).
    pub taken_at: String,
    /// The session's effective Citus settings and the Citus major version the rules follow.
    pub settings: Settings,
    /// The values `RESET <setting>` returns to, for the settings the rules follow.
    pub reset_values: BTreeMap<String, String>,
    /// The effective search path, implicit schemas included (`current_schemas(true)`), in
    /// lookup order.
    pub search_path: Vec<String>,
    /// Colocation groups of hash-distributed tables and the nodes that hold shards.
    pub cluster: Cluster,
    /// Every type (`pg_type`), with the facts the rules use.
    pub types: Vec<SnapshotType>,
    /// The collations usable in the database's encoding, one per schema and name.
    pub collations: Vec<SnapshotCollation>,
    /// Every relation outside pg_toast and temporary schemas.
    pub tables: Vec<SnapshotTable>,
}

/// One row of pg_type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotType {
    pub oid: u32,
    pub schema: String,
    /// `typname`, as stored (e.g. `int8`, `_text`).
    pub name: String,
    /// `typarray`: the array type over it, 0 for none.
    pub array_type: u32,
    pub facts: TypeFacts,
}

/// A collation a `COLLATE` clause can name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotCollation {
    pub oid: u32,
    pub schema: String,
    pub name: String,
}

/// One relation, with what the rules read about it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotTable {
    pub oid: u32,
    pub schema: String,
    /// `relname`.
    pub name: String,
    /// `relkind`.
    pub relkind: String,
    /// As `regclass::text` printed it in the snapshot's session (qualified when not on the
    /// search path): the name findings use.
    pub display_name: String,
    /// A primary key, or a replica identity that is not NOTHING/DEFAULT-without-key.
    pub has_replica_identity: bool,
    /// Its colocation group, if it is a Citus table.
    pub colocation_id: Option<u32>,
    /// The other tables of its colocation group.
    pub colocated_with: Vec<String>,
    /// Its current distribution column, if it has one.
    pub distribution_column: Option<String>,
    /// Its primary key's columns, in key order.
    pub primary_key: Vec<String>,
    /// Its columns (attnum > 0, not dropped), in attnum order.
    pub columns: Vec<SnapshotColumn>,
}

/// One column of a [`SnapshotTable`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotColumn {
    pub name: String,
    /// `atttypid`: a [`SnapshotType`] of the snapshot.
    pub type_oid: u32,
    /// `attcollation`.
    pub collation: u32,
    /// NOT NULL (validated) or in the primary key.
    pub not_null: bool,
}
