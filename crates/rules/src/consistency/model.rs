//! The facts the report works on: the coordinator's metadata (a [`Snapshot`]), what each node
//! answered ([`NodeAnswer`]), and how identifiers are quoted ([`Quoting`]).

use std::collections::{BTreeMap, HashMap};

use rustc_hash::FxHashMap;

pub type ShardId = i64;
pub type GroupId = i32;

/// How SQL identifiers are quoted. The extension passes PostgreSQL's own `quote_identifier`;
/// nothing in this crate quotes an identifier by itself.
pub trait Quoting {
    fn ident(&self, name: &str) -> String;

    /// `schema.name`, each part quoted.
    fn qualified(&self, schema: &str, name: &str) -> String {
        format!("{}.{}", self.ident(schema), self.ident(name))
    }
}

/// A row of pg_dist_node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    pub id: i32,
    pub group: GroupId,
    pub name: String,
    pub port: i32,
    pub active: bool,
    /// noderole = 'primary'
    pub primary: bool,
    pub has_metadata: bool,
    /// pg_dist_node.metadatasynced: false while Citus knows it still has to sync this node.
    pub metadata_synced: bool,
}

impl NodeInfo {
    pub fn label(&self) -> String {
        format!("{}:{}", self.name, self.port)
    }

    /// A worker that keeps a copy of the metadata, which the cross-node check compares.
    pub fn is_metadata_worker(&self) -> bool {
        self.group != 0 && self.has_metadata && self.active && self.primary
    }
}

/// A row of pg_dist_shard, with the name of its relation on the nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardInfo {
    pub id: ShardId,
    /// shardminvalue/shardmaxvalue as stored (text).
    pub min: Option<String>,
    pub max: Option<String>,
    /// The shard relation's name (unquoted), as Citus derives it from the table's name and the
    /// shard id (`AppendShardIdToName`, which shortens long names with a hash).
    pub relname: String,
}

impl ShardInfo {
    /// The hash range, when both bounds are int32 values with min <= max.
    pub fn range(&self) -> Option<(i32, i32)> {
        let lo = parse_bound(self.min.as_deref())?;
        let hi = parse_bound(self.max.as_deref())?;
        (lo <= hi).then_some((lo, hi))
    }
}

pub fn parse_bound(s: Option<&str>) -> Option<i32> {
    s?.trim().parse::<i32>().ok()
}

/// A row of pg_dist_placement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementInfo {
    pub id: i64,
    pub shard: ShardId,
    pub state: i32,
    pub group: GroupId,
}

impl PlacementInfo {
    pub fn active(&self) -> bool {
        self.state == 1
    }
}

/// A Citus table (a row of pg_dist_partition) and its shards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    /// The table as PostgreSQL prints a regclass: quoted where needed, qualified when its schema
    /// is not on the search path.
    pub name: String,
    /// `schema.relname` as PostgreSQL quotes it (`format('%I.%I')`): the same on every node,
    /// whatever the search path.
    pub qualified: String,
    /// Schema and relation name, unquoted.
    pub schema: String,
    pub relname: String,
    /// PostgreSQL's hash_any of the relation name, as 8 hex digits: Citus puts it in the names
    /// of shards of tables with long names (`lpad(to_hex(hashtext(relname)), 8, '0')`).
    pub name_hash: String,
    /// pg_dist_partition.partmethod: h, r, a, n.
    pub method: char,
    pub colocation_id: u32,
    /// pg_dist_partition.repmodel: 't' for reference tables.
    pub repmodel: char,
    /// The partitioned table this one is a partition of, when that is a Citus table too.
    pub parent: Option<String>,
    /// The distribution column, unquoted.
    pub column: Option<String>,
    pub shards: Vec<ShardInfo>,
}

impl TableInfo {
    pub fn is_hash(&self) -> bool {
        self.method == 'h'
    }

    pub fn is_reference(&self) -> bool {
        self.repmodel == 't'
    }
}

impl TableInfo {
    /// The name of this table's shard `shard` (unquoted), as Citus derives it.
    pub fn shard_relname(&self, shard: ShardId) -> String {
        shard_relname(&self.relname, &self.name_hash, shard)
    }
}

/// PostgreSQL's NAMEDATALEN: names are at most 63 bytes.
const NAMEDATALEN: usize = 64;

/// Citus's `AppendShardIdToName` (relay_event_utility.c): `<name>_<shardid>`, or, where that
/// would not fit in NAMEDATALEN - 1 bytes, the name clipped (at a character boundary) to leave
/// room for `_<8 hex digits of hash_any(name)>_<shardid>`.
pub fn shard_relname(relname: &str, name_hash: &str, shard: ShardId) -> String {
    let suffix = format!("_{shard}");
    if relname.len() < NAMEDATALEN - suffix.len() {
        return format!("{relname}{suffix}");
    }
    let limit = (NAMEDATALEN - suffix.len()).saturating_sub(10);
    let mut clip = limit.min(relname.len());
    while !relname.is_char_boundary(clip) {
        clip -= 1;
    }
    format!("{}_{name_hash}{suffix}", &relname[..clip])
}

/// The coordinator's metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub tables: Vec<TableInfo>,
    pub placements: Vec<PlacementInfo>,
    pub nodes: Vec<NodeInfo>,
    /// pg_dist_colocation: id -> shardcount.
    pub colocation: BTreeMap<u32, i32>,
}

/// Lookups over a snapshot, built once.
pub struct Index<'a> {
    pub snapshot: &'a Snapshot,
    /// Primary node of each group.
    pub primary_of_group: HashMap<GroupId, &'a NodeInfo>,
    /// The placements, grouped by shard; `placement_range` says where each shard's are.
    by_shard: Vec<&'a PlacementInfo>,
    placement_range: FxHashMap<ShardId, (u32, u32)>,
    /// shard id -> (table index, shard index)
    pub shard: FxHashMap<ShardId, (usize, usize)>,
    pub table_by_name: HashMap<&'a str, usize>,
}

impl<'a> Index<'a> {
    pub fn new(s: &'a Snapshot) -> Index<'a> {
        let primary_of_group = s
            .nodes
            .iter()
            .filter(|n| n.primary)
            .map(|n| (n.group, n))
            .collect();
        let mut by_shard: Vec<&PlacementInfo> = s.placements.iter().collect();
        by_shard.sort_by_key(|p| (p.shard, p.id));
        let mut placement_range: FxHashMap<ShardId, (u32, u32)> = FxHashMap::default();
        let mut start = 0;
        while start < by_shard.len() {
            let shard = by_shard[start].shard;
            let mut end = start;
            while end < by_shard.len() && by_shard[end].shard == shard {
                end += 1;
            }
            placement_range.insert(shard, (start as u32, end as u32));
            start = end;
        }
        let mut shard = FxHashMap::default();
        shard.reserve(s.tables.iter().map(|t| t.shards.len()).sum());
        for (ti, t) in s.tables.iter().enumerate() {
            for (si, sh) in t.shards.iter().enumerate() {
                shard.insert(sh.id, (ti, si));
            }
        }
        let table_by_name = s
            .tables
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.as_str(), i))
            .collect();
        Index {
            snapshot: s,
            primary_of_group,
            by_shard,
            placement_range,
            shard,
            table_by_name,
        }
    }

    pub fn placements(&self, shard: ShardId) -> &[&'a PlacementInfo] {
        match self.placement_range.get(&shard) {
            Some(&(a, b)) => &self.by_shard[a as usize..b as usize],
            None => &[],
        }
    }

    /// "host:port" of a group's primary, or "group N" where no primary has it.
    pub fn group_label(&self, group: GroupId) -> String {
        self.primary_of_group
            .get(&group)
            .map(|n| n.label())
            .unwrap_or_else(|| format!("group {group}"))
    }

    /// Groups of a shard's active placements on known primaries, sorted.
    pub fn active_groups(&self, shard: ShardId) -> Vec<GroupId> {
        let mut g: Vec<GroupId> = self
            .placements(shard)
            .iter()
            .filter(|p| p.active())
            .map(|p| p.group)
            .collect();
        g.sort_unstable();
        g
    }
}

/// What a node answered to one of the report's commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeAnswer<T> {
    Ok(T),
    /// Citus could not connect to it, or lost the connection.
    Unreachable(String),
    /// It was reached, and the command failed there (a permission, a lock timeout, ...).
    Failed(String),
}

impl<T> NodeAnswer<T> {
    /// Sorts Citus's text for a failed command (`master_run_on_worker`'s `result`) into an
    /// unreachable node or a failed command.
    pub fn failure(result: &str) -> NodeAnswer<T> {
        const CONNECTION: [&str; 7] = [
            "failed to connect to",
            "connection lost",
            "query result unavailable",
            "failed to send query",
            "server closed the connection",
            "could not receive data from server",
            "SSL SYSCALL error",
        ];
        if CONNECTION.iter().any(|c| result.starts_with(c)) {
            NodeAnswer::Unreachable(result.to_string())
        } else {
            let text = result
                .trim_start_matches("ERROR:")
                .trim_start_matches("FATAL:")
                .trim();
            NodeAnswer::Failed(text.to_string())
        }
    }

    pub fn ok(&self) -> Option<&T> {
        match self {
            NodeAnswer::Ok(t) => Some(t),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_sorted_by_what_they_say() {
        assert!(matches!(
            NodeAnswer::<()>::failure("failed to connect to 10.0.0.2:5432"),
            NodeAnswer::Unreachable(_)
        ));
        assert!(matches!(
            NodeAnswer::<()>::failure("connection lost"),
            NodeAnswer::Unreachable(_)
        ));
        assert_eq!(
            NodeAnswer::<()>::failure("ERROR:  permission denied for table users_102008"),
            NodeAnswer::Failed("permission denied for table users_102008".into())
        );
    }

    #[test]
    fn shard_names_follow_citus() {
        assert_eq!(shard_relname("users", "0badf00d", 102008), "users_102008");
        // from NAMEDATALEN - len("_102008") = 57 bytes on, shortened
        let long = "a".repeat(57);
        let n = shard_relname(&long, "0badf00d", 102008);
        assert_eq!(n, format!("{}_0badf00d_102008", "a".repeat(47)));
        assert!(n.len() <= 63);
        assert_eq!(
            shard_relname(&"a".repeat(56), "x", 102008),
            format!("{}_102008", "a".repeat(56))
        );
        // never in the middle of a character
        let multi = "é".repeat(30);
        assert!(shard_relname(&multi, "0badf00d", 1).starts_with(&"é".repeat(23)));
    }

    #[test]
    fn ranges_parse_only_ordered_int32_bounds() {
        let s = |min: &str, max: &str| ShardInfo {
            id: 1,
            min: Some(min.into()),
            max: Some(max.into()),
            relname: "t_1".into(),
        };
        assert_eq!(s("-5", "7").range(), Some((-5, 7)));
        assert_eq!(s("7", "-5").range(), None);
        assert_eq!(s("x", "7").range(), None);
        assert_eq!(s("0", "2147483648").range(), None);
    }
}
