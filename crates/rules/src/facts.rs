//! Plain facts the glue reads from the live catalogs (pg_dist_*, pg_class, pg_attribute) and
//! from the parse tree of a distribution call. Nothing here knows about PostgreSQL types.

/// The distribution column a call names, as the catalog describes it.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ColumnFacts {
    pub name: String,
    /// `format_type()` of the column type, for messages.
    pub type_name: String,
    /// Type OID: part of the key Citus matches colocation groups on.
    pub type_oid: u32,
    /// The column's own collation (`pg_attribute.attcollation`, the distribution key's
    /// `varcollid`; 0 for a type without collation). Citus 14 keys colocation on it everywhere;
    /// Citus 13 only in create_distributed_table_concurrently.
    pub collation: u32,
    /// The type's default collation (`get_typcollation(type)`, 0 for a type without
    /// collation). Citus 13 keys create_distributed_table's and alter_distributed_table's
    /// default colocation on it (`ColocationIdForNewTable`, create_distributed_table.c:2004),
    /// not on the column's collation. See [`Settings::citus_major`].
    pub type_collation: u32,
    /// The type is an enum, or is built on one (domain, array, range, composite): its hash
    /// depends on node-local OIDs.
    pub enum_based: bool,
    /// NOT NULL, or part of the primary key.
    pub not_null: bool,
    /// A type with only a handful of values (boolean and domains over it).
    pub tiny_domain: bool,
}

/// The table a call names.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TableFacts {
    /// As `regclass::text` prints it (qualified when not on the search path).
    pub name: String,
    /// A primary key, or a replica identity that is not NOTHING/DEFAULT-without-key.
    pub has_replica_identity: bool,
    /// The colocation group it is in, if it is already a Citus table (0 = none).
    pub colocation_id: Option<u32>,
    /// Other tables of its colocation group.
    pub colocated_with: Vec<String>,
    /// Its primary key's columns, in order (empty without one).
    pub primary_key: Vec<String>,
    /// Facts about those primary-key columns, in the same order, when the glue reads them
    /// (empty when it does not). With them, a finding that suggests distributing on a key
    /// column instead can check that call before suggesting it.
    pub key_columns: Vec<ColumnFacts>,
    /// The column the call distributes on (the named column, or the current one for
    /// alter_distributed_table when the column does not change). None when unknown.
    pub column: Option<ColumnFacts>,
}

/// One row of pg_dist_colocation for a hash-distributed group, with the tables in it.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ColocationGroup {
    pub id: u32,
    /// `pg_dist_colocation.shardcount`: what Citus matches `citus.shard_count` against.
    pub shard_count: i32,
    /// Shards the group's tables really have (differs after splits and tenant isolation).
    pub actual_shard_count: i32,
    pub replication_factor: i32,
    pub type_oid: u32,
    pub type_name: String,
    pub collation: u32,
    /// Tables in the group, sorted.
    pub tables: Vec<String>,
}

/// What the cluster looks like right now.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct Cluster {
    pub groups: Vec<ColocationGroup>,
    /// Active primaries with `shouldhaveshards`.
    pub shard_nodes: u32,
}

/// The Citus major version the rules assume when the glue does not say (`Settings::default()`).
/// 13 is what this extension was first built against (Citus 13.2 on PostgreSQL 15); the glue
/// should read the real one (`SELECT extversion FROM pg_extension WHERE extname = 'citus'`).
pub const ASSUMED_CITUS_MAJOR: u32 = 13;

/// The session's effective Citus settings when the call runs.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub shard_count: i32,
    pub replication_factor: i32,
    /// The major version of the Citus extension installed in this database. It changes which
    /// collation Citus matches colocation groups on (see [`Settings::colocation_collation`]).
    pub citus_major: u32,
}

impl Default for Settings {
    /// Citus's defaults (`citus.shard_count` 32, `citus.shard_replication_factor` 1) and,
    /// explicitly, [`ASSUMED_CITUS_MAJOR`].
    fn default() -> Self {
        Settings {
            shard_count: 32,
            replication_factor: 1,
            citus_major: ASSUMED_CITUS_MAJOR,
        }
    }
}

impl Settings {
    /// The collation Citus puts in the key of a *default* colocation lookup
    /// (`ColocationId(shardCount, replicationFactor, type, collation)`) for `col`:
    ///
    /// * Citus 14: the column's own collation, for every function
    ///   (create_distributed_table.c:1992 in 14.0.1: `distributionColumn->varcollid`).
    /// * Citus 13: create_distributed_table and alter_distributed_table (which calls
    ///   `CreateDistributedTable`) use the type's default collation
    ///   (create_distributed_table.c:2004: `get_typcollation(distributionColumnType)`), but
    ///   create_distributed_table_concurrently already uses the column's
    ///   (create_distributed_table.c:534: `distributionColumn->varcollid`).
    pub fn colocation_collation(&self, col: &ColumnFacts, concurrently: bool) -> u32 {
        if self.citus_major >= 14 || concurrently {
            col.collation
        } else {
            col.type_collation
        }
    }
}

/// `colocate_with` as it decides the colocation: the `default` keyword (look up or start the
/// default group), `none` (always a new group), or a table name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColocateWith {
    Default,
    None,
    Table(String),
}

impl ColocateWith {
    /// create_distributed_table's reading (case-insensitive keywords). Each function reads
    /// `colocate_with` its own way: prefer [`crate::call::describe`], which applies the right
    /// one (update_distributed_table_colocation has no `default` keyword;
    /// alter_distributed_table's parameter check knows only the lower-case spellings).
    pub fn parse(s: &str) -> ColocateWith {
        crate::call::colocate_with_for_create(s)
    }
}

/// The distribution calls the guard intercepts, with their arguments as the caller gave them
/// (None = left at the default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DistCall {
    CreateDistributedTable {
        concurrently: bool,
        table: TableFacts,
        /// None: a NULL distribution column (single-shard table).
        distribution_column: Option<String>,
        /// `hash`, `range` or `append`.
        distribution_type: String,
        colocate_with: ColocateWith,
        shard_count: Option<i32>,
    },
    AlterDistributedTable {
        table: TableFacts,
        distribution_column: Option<String>,
        shard_count: Option<i32>,
        colocate_with: Option<ColocateWith>,
        cascade_to_colocated: Option<bool>,
    },
    UndistributeTable {
        table: TableFacts,
    },
    UpdateDistributedTableColocation {
        table: TableFacts,
        colocate_with: ColocateWith,
    },
}

impl DistCall {
    /// The SQL function name, for messages.
    pub fn function_name(&self) -> &'static str {
        match self {
            DistCall::CreateDistributedTable {
                concurrently: false,
                ..
            } => "create_distributed_table",
            DistCall::CreateDistributedTable {
                concurrently: true, ..
            } => "create_distributed_table_concurrently",
            DistCall::AlterDistributedTable { .. } => "alter_distributed_table",
            DistCall::UndistributeTable { .. } => "undistribute_table",
            DistCall::UpdateDistributedTableColocation { .. } => {
                "update_distributed_table_colocation"
            }
        }
    }

    pub fn table(&self) -> &TableFacts {
        match self {
            DistCall::CreateDistributedTable { table, .. }
            | DistCall::AlterDistributedTable { table, .. }
            | DistCall::UndistributeTable { table }
            | DistCall::UpdateDistributedTableColocation { table, .. } => table,
        }
    }
}
