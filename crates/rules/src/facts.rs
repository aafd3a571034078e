//! Plain facts the glue reads from the live catalogs (pg_dist_*, pg_class, pg_attribute) and
//! from the parse tree of a distribution call. Nothing here knows about PostgreSQL types.

/// The distribution column a call names, as the catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnFacts {
    pub name: String,
    /// `format_type()` of the column type, for messages.
    pub type_name: String,
    /// Type OID and collation OID: the key Citus matches colocation groups on.
    pub type_oid: u32,
    pub collation: u32,
    /// The type is an enum, or is built on one (domain, array, range, composite): its hash
    /// depends on node-local OIDs.
    pub enum_based: bool,
    /// NOT NULL, or part of the primary key.
    pub not_null: bool,
    /// A type with only a handful of values (boolean and domains over it).
    pub tiny_domain: bool,
}

/// The table a call names.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// The column the call distributes on (the named column, or the current one for
    /// alter_distributed_table when the column does not change). None when unknown.
    pub column: Option<ColumnFacts>,
}

/// One row of pg_dist_colocation for a hash-distributed group, with the tables in it.
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cluster {
    pub groups: Vec<ColocationGroup>,
    /// Active primaries with `shouldhaveshards`.
    pub shard_nodes: u32,
}

/// The session's effective Citus settings when the call runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub shard_count: i32,
    pub replication_factor: i32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            shard_count: 32,
            replication_factor: 1,
        }
    }
}

/// `colocate_with` as Citus reads it: the keywords are case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColocateWith {
    Default,
    None,
    Table(String),
}

impl ColocateWith {
    pub fn parse(s: &str) -> ColocateWith {
        if s.eq_ignore_ascii_case("default") {
            ColocateWith::Default
        } else if s.eq_ignore_ascii_case("none") {
            ColocateWith::None
        } else {
            ColocateWith::Table(s.to_string())
        }
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
