//! What the nodes showed: where each shard's relation really is (one listing of shard-like
//! relations per node, compared here with the coordinator's metadata), and the metadata workers'
//! copies of what the coordinator's checks found broken. The findings use it to tie related
//! problems together and to decide which side of a disagreement is right.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::RangeInclusive;

use super::model::{GroupId, Index, NodeAnswer, ShardId, Snapshot, TableInfo};

/// One relation a node lists: named like a shard (`..._<digits>`), not itself a Citus table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRelation {
    pub schema: String,
    pub name: String,
    /// `schema.name` as quoted by the node (format('%I.%I')).
    pub quoted: String,
    /// pg_total_relation_size, when sizes were asked for.
    pub bytes: Option<i64>,
}

/// A pg_dist_cleanup record of a shard placement: a relation Citus itself will drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupRecord {
    /// As Citus records it: the quoted, qualified name.
    pub object: String,
    pub group: GroupId,
}

/// One node's listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeListing {
    pub relations: Vec<NodeRelation>,
    /// The cleanup records this node keeps (each node keeps those of the operations it ran).
    pub cleanup: Vec<CleanupRecord>,
}

/// Where a shard's relation was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub group: GroupId,
    pub quoted: String,
    pub bytes: Option<i64>,
}

/// A relation named like a shard of a Citus table, with an id Citus allocated, that is no
/// shard in the metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stray {
    pub group: GroupId,
    pub table: usize,
    pub shard: ShardId,
    pub quoted: String,
}

/// A metadata worker's copy of one shard, where it differs from the coordinator's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerShard {
    pub min: Option<String>,
    pub max: Option<String>,
    /// Groups of its active placements, sorted.
    pub groups: Vec<GroupId>,
}

/// A relation Citus queued for deletion (pg_dist_cleanup) on a group that no longer has a node:
/// its node was removed and added again under a new group, and Citus will not drop it
/// (citusdata/citus#7333).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleCleanup {
    pub group: GroupId,
    pub quoted: String,
    pub recorded_group: GroupId,
    pub table: Option<usize>,
}

/// Everything the nodes showed. Empty when nothing was asked of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Groups whose node answered the listing.
    pub listed: BTreeSet<GroupId>,
    /// Groups whose node was asked and did not answer.
    pub unlisted: BTreeSet<GroupId>,
    /// Shard -> where its relation is, leaving out relations Citus has queued for deletion.
    pub found: HashMap<ShardId, Vec<Found>>,
    pub strays: Vec<Stray>,
    pub stale_cleanup: Vec<StaleCleanup>,
    /// Shards the metadata workers agree on and the coordinator does not: their copy.
    pub workers: HashMap<ShardId, WorkerShard>,
    /// Labels of the workers whose copies make up `workers`.
    pub worker_labels: Vec<String>,
}

impl Evidence {
    /// Whether the node of `group` was listed (and so whether a missing relation is known missing).
    pub fn saw(&self, group: GroupId) -> bool {
        self.listed.contains(&group)
    }

    pub fn groups_holding(&self, shard: ShardId) -> Vec<GroupId> {
        self.found
            .get(&shard)
            .map(|f| f.iter().map(|x| x.group).collect())
            .unwrap_or_default()
    }

    pub fn holds(&self, shard: ShardId, group: GroupId) -> bool {
        self.found
            .get(&shard)
            .is_some_and(|f| f.iter().any(|x| x.group == group))
    }

    pub fn bytes(&self, shard: ShardId, group: GroupId) -> Option<i64> {
        self.found
            .get(&shard)?
            .iter()
            .find(|x| x.group == group)?
            .bytes
    }
}

/// Turns the nodes' listings into evidence. `listings` maps each asked group to its answer;
/// `allocated` is the range of shard ids Citus's sequence has handed out (a relation whose id is
/// outside it was not made by Citus).
pub fn from_listings(
    s: &Snapshot,
    listings: &BTreeMap<GroupId, NodeAnswer<NodeListing>>,
    allocated: RangeInclusive<ShardId>,
) -> Evidence {
    let ix = Index::new(s);
    let cleanup: HashSet<(&str, GroupId)> = listings
        .values()
        .filter_map(NodeAnswer::ok)
        .flat_map(|l| l.cleanup.iter().map(|c| (c.object.as_str(), c.group)))
        .collect();
    // records for groups no node has any more: name -> the group it was recorded for
    let stale: HashMap<&str, GroupId> = cleanup
        .iter()
        .filter(|(_, g)| !ix.primary_of_group.contains_key(g))
        .map(|(n, g)| (*n, *g))
        .collect();
    let matcher = TableMatcher::new(s);
    let mut ev = Evidence::default();
    for (&group, answer) in listings {
        let NodeAnswer::Ok(listing) = answer else {
            ev.unlisted.insert(group);
            continue;
        };
        ev.listed.insert(group);
        for rel in &listing.relations {
            let Some(id) = trailing_id(&rel.name) else {
                continue;
            };
            let shard_of = ix.shard.get(&id).filter(|(ti, si)| {
                let t = &s.tables[*ti];
                t.schema == rel.schema && t.shards[*si].relname == rel.name
            });
            let found = Found {
                group,
                quoted: rel.quoted.clone(),
                bytes: rel.bytes,
            };
            // A placement row on this node: the shard's copy, whatever cleanup records say.
            if shard_of.is_some() && ix.placements(id).iter().any(|p| p.group == group) {
                ev.found.entry(id).or_default().push(found);
                continue;
            }
            // Citus drops it itself.
            if cleanup.contains(&(rel.quoted.as_str(), group)) {
                continue;
            }
            if let Some(&recorded_group) = stale.get(rel.quoted.as_str()) {
                ev.stale_cleanup.push(StaleCleanup {
                    group,
                    quoted: rel.quoted.clone(),
                    recorded_group,
                    table: shard_of
                        .map(|x| x.0)
                        .or_else(|| matcher.table_of(&rel.schema, &rel.name, id)),
                });
                continue;
            }
            if shard_of.is_some() {
                ev.found.entry(id).or_default().push(found);
                continue;
            }
            if !allocated.contains(&id) || ix.shard.contains_key(&id) {
                continue;
            }
            if let Some(table) = matcher.table_of(&rel.schema, &rel.name, id) {
                ev.strays.push(Stray {
                    group,
                    table,
                    shard: id,
                    quoted: rel.quoted.clone(),
                });
            }
        }
    }
    ev
}

/// The shard id at the end of a relation name (`..._<digits>`).
pub fn trailing_id(name: &str) -> Option<ShardId> {
    let (_, digits) = name.rsplit_once('_')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Finds the Citus table a shard-like name belongs to.
struct TableMatcher<'a> {
    short: HashMap<(&'a str, &'a str), usize>,
    /// Tables whose shard names Citus shortens (compared by computing the name).
    long: Vec<(usize, &'a TableInfo)>,
}

impl<'a> TableMatcher<'a> {
    fn new(s: &'a Snapshot) -> TableMatcher<'a> {
        let mut short = HashMap::new();
        let mut long = Vec::new();
        for (i, t) in s.tables.iter().enumerate() {
            // 20 digits is the longest shard id; below that Citus appends without shortening.
            if t.relname.len() + 21 < 64 {
                short.insert((t.schema.as_str(), t.relname.as_str()), i);
            } else {
                long.push((i, t));
            }
        }
        TableMatcher { short, long }
    }

    fn table_of(&self, schema: &str, name: &str, id: ShardId) -> Option<usize> {
        let base = name.strip_suffix(&format!("_{id}"))?;
        if let Some(&i) = self.short.get(&(schema, base)) {
            return Some(i);
        }
        self.long
            .iter()
            .find(|(_, t)| t.schema == schema && t.shard_relname(id) == name)
            .map(|(i, _)| *i)
    }
}
