//! The report's check ids, their categories and severities: one enum, so the report, its
//! `checks` argument and the README cannot disagree about what exists.

use std::fmt;

/// Severity of a finding. `Info` is for what is normal but worth knowing; a healthy cluster
/// has no finding above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Info,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// Which part of the report a check belongs to; the `checks` argument takes a category or a
/// check id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// The coordinator's metadata, read locally.
    Catalog,
    /// Shard relations on the nodes, one listing per node.
    Physical,
    /// Every row of every shard (opt-in).
    Data,
    /// Each metadata worker's copy of the metadata against the coordinator's.
    CrossNode,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::Catalog,
        Category::Physical,
        Category::Data,
        Category::CrossNode,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Catalog => "catalog",
            Category::Physical => "physical",
            Category::Data => "data",
            Category::CrossNode => "cross-node",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The categories that run when the caller names none: everything but the data scan.
    pub fn runs_by_default(self) -> bool {
        self != Category::Data
    }
}

/// Every check of `shard_consistency_report()`, with its stable id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckId {
    HashRangeInvalid,
    HashRangeBounds,
    HashRangeGap,
    HashRangeOverlap,
    ShardWithoutPlacement,
    PlacementUnknownGroup,
    PlacementInactiveNode,
    ColocationMissing,
    ColocationShardcountStale,
    ColocationMismatch,
    ReferenceMissingPlacement,
    PartitionColocation,
    /// Tables that belong together in different colocation groups (crate::split).
    ColocationSplit,
    ShardRelationMissing,
    OrphanShardRelation,
    MisplacedRows,
    MetadataDrift,
    NodeUnreachable,
    NodeCheckFailed,
}

impl CheckId {
    pub const ALL: [CheckId; 19] = [
        CheckId::HashRangeInvalid,
        CheckId::HashRangeBounds,
        CheckId::HashRangeGap,
        CheckId::HashRangeOverlap,
        CheckId::ShardWithoutPlacement,
        CheckId::PlacementUnknownGroup,
        CheckId::PlacementInactiveNode,
        CheckId::ColocationMissing,
        CheckId::ColocationShardcountStale,
        CheckId::ColocationMismatch,
        CheckId::ReferenceMissingPlacement,
        CheckId::PartitionColocation,
        CheckId::ColocationSplit,
        CheckId::ShardRelationMissing,
        CheckId::OrphanShardRelation,
        CheckId::MisplacedRows,
        CheckId::MetadataDrift,
        CheckId::NodeUnreachable,
        CheckId::NodeCheckFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::HashRangeInvalid => "hash-range-invalid",
            CheckId::HashRangeBounds => "hash-range-bounds",
            CheckId::HashRangeGap => "hash-range-gap",
            CheckId::HashRangeOverlap => "hash-range-overlap",
            CheckId::ShardWithoutPlacement => "shard-without-placement",
            CheckId::PlacementUnknownGroup => "placement-unknown-group",
            CheckId::PlacementInactiveNode => "placement-inactive-node",
            CheckId::ColocationMissing => "colocation-missing",
            CheckId::ColocationShardcountStale => "colocation-shardcount-stale",
            CheckId::ColocationMismatch => "colocation-mismatch",
            CheckId::ReferenceMissingPlacement => "reference-missing-placement",
            CheckId::PartitionColocation => "partition-colocation",
            CheckId::ColocationSplit => "colocation-split",
            CheckId::ShardRelationMissing => "shard-relation-missing",
            CheckId::OrphanShardRelation => "orphan-shard-relation",
            CheckId::MisplacedRows => "misplaced-rows",
            CheckId::MetadataDrift => "metadata-drift",
            CheckId::NodeUnreachable => "node-unreachable",
            CheckId::NodeCheckFailed => "node-check-failed",
        }
    }

    pub fn parse(s: &str) -> Option<CheckId> {
        CheckId::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn category(self) -> Category {
        match self {
            CheckId::ShardRelationMissing | CheckId::OrphanShardRelation => Category::Physical,
            CheckId::MisplacedRows => Category::Data,
            CheckId::MetadataDrift => Category::CrossNode,
            // A node that cannot be asked is reported by whichever check asked it.
            CheckId::NodeUnreachable | CheckId::NodeCheckFailed => Category::CrossNode,
            _ => Category::Catalog,
        }
    }

    /// Reported whatever `checks` asks for: without them the other rows cannot be trusted.
    pub fn always_reported(self) -> bool {
        matches!(self, CheckId::NodeUnreachable | CheckId::NodeCheckFailed)
    }

    /// A finding that compares the metadata with what the nodes answered afterwards, so a
    /// change of the metadata in between (Citus dropping a moved shard's old copy, a move
    /// committing, a node's copy catching up) can make one that is no fault: the report asks
    /// again when the metadata changed. Not the others: catalog findings come from one
    /// snapshot; misplaced rows are judged against their shard's own range, which a move does
    /// not change (a split makes new shards); an unreachable node stays unreachable.
    pub fn compares_moments(self) -> bool {
        match self {
            CheckId::NodeUnreachable => false,
            // a node's check fails when a relation it was told of is gone by then
            CheckId::NodeCheckFailed => true,
            c => matches!(c.category(), Category::Physical | Category::CrossNode),
        }
    }

    pub fn is_hash_range(self) -> bool {
        matches!(
            self,
            CheckId::HashRangeInvalid
                | CheckId::HashRangeBounds
                | CheckId::HashRangeGap
                | CheckId::HashRangeOverlap
        )
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the caller asked for with `checks`: categories and check ids, or everything by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// None: the default (every category but data).
    asked: Option<Vec<Asked>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    Category(Category),
    Check(CheckId),
}

impl Selection {
    /// Parses the `checks` argument; an unknown entry is the error, as written.
    pub fn parse(checks: Option<&[String]>) -> Result<Selection, String> {
        let Some(checks) = checks else {
            return Ok(Selection::default());
        };
        let mut asked = Vec::new();
        for raw in checks {
            let c = raw.trim().to_lowercase();
            if let Some(cat) = Category::parse(&c) {
                asked.push(Asked::Category(cat));
            } else if let Some(id) = CheckId::parse(&c) {
                asked.push(Asked::Check(id));
            } else {
                return Err(raw.clone());
            }
        }
        Ok(Selection { asked: Some(asked) })
    }

    /// Does `category` run: asked for by name or through one of its check ids.
    pub fn runs(&self, category: Category) -> bool {
        match &self.asked {
            None => category.runs_by_default(),
            Some(a) => a.iter().any(|x| match x {
                Asked::Category(c) => *c == category,
                Asked::Check(id) => id.category() == category,
            }),
        }
    }

    /// Is a finding of `check` part of the answer.
    pub fn keeps(&self, check: CheckId) -> bool {
        if check.always_reported() {
            return true;
        }
        match &self.asked {
            None => true,
            Some(a) => {
                a.iter().any(|x| match x {
                    Asked::Category(c) => *c == check.category(),
                    Asked::Check(id) => *id == check,
                }) || (check == CheckId::ShardRelationMissing && self.runs(Category::Data))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_round_trips_and_has_one_category() {
        for id in CheckId::ALL {
            assert_eq!(CheckId::parse(id.as_str()), Some(id));
        }
        let mut ids: Vec<_> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CheckId::ALL.len(), "ids are unique");
    }

    #[test]
    fn selection_runs_categories_and_keeps_what_was_asked() {
        let d = Selection::parse(None).unwrap();
        assert!(d.runs(Category::Catalog) && d.runs(Category::Physical) && !d.runs(Category::Data));

        let s = Selection::parse(Some(&["misplaced-rows".into()])).unwrap();
        assert!(s.runs(Category::Data) && !s.runs(Category::Catalog));
        assert!(s.keeps(CheckId::MisplacedRows));
        // a relation the data check could not scan is said as what it is
        assert!(s.keeps(CheckId::ShardRelationMissing));
        assert!(!s.keeps(CheckId::OrphanShardRelation));
        assert!(s.keeps(CheckId::NodeUnreachable) && s.keeps(CheckId::NodeCheckFailed));

        let s = Selection::parse(Some(&[" Catalog ".into()])).unwrap();
        assert!(s.runs(Category::Catalog) && s.keeps(CheckId::HashRangeGap));
        assert!(!s.keeps(CheckId::MetadataDrift));

        assert_eq!(
            Selection::parse(Some(&["everything".into()])),
            Err("everything".into())
        );
    }
}
