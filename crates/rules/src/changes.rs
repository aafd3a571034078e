//! Classifying a change of one table's metadata between two snapshots of the checksum worker:
//! expected when a decision the guard recorded or a Citus operation explains it, or when its
//! shape is one Citus's own operations produce (a shard move, a split, a tenant isolation, a
//! table distributed or undistributed); unexpected otherwise.

use std::collections::{BTreeMap, BTreeSet};

/// One shard as the worker records it: range and the groups of its active placements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardLayout {
    pub id: i64,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub groups: Vec<i32>,
}

/// A table's layout as one text line per shard: `id|min|max|g1,g2`.
pub fn encode(layout: &[ShardLayout]) -> String {
    layout
        .iter()
        .map(|s| {
            let f = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
            let g: Vec<String> = s.groups.iter().map(|g| g.to_string()).collect();
            format!("{}|{}|{}|{}", s.id, f(s.min), f(s.max), g.join(","))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn decode(text: &str) -> Vec<ShardLayout> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split('|');
            let id = it.next()?.parse().ok()?;
            let min = it.next()?.parse().ok();
            let max = it.next()?.parse().ok();
            let groups = it
                .next()
                .unwrap_or("")
                .split(',')
                .filter_map(|g| g.parse().ok())
                .collect();
            Some(ShardLayout {
                id,
                min,
                max,
                groups,
            })
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Expected,
    Unexpected,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Expected => "expected",
            Class::Unexpected => "unexpected",
        }
    }
}

/// What else the worker knows about the interval between the snapshots.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The guard recorded a non-blocked decision on this table (or a hatch on the metadata).
    pub guard_decision: Option<String>,
    /// A Citus background job (rebalance) or cleanup record was active.
    pub citus_job: Option<String>,
    /// Groups of active primary nodes now.
    pub active_groups: BTreeSet<i32>,
}

fn covers_same_space(old: &[ShardLayout], new: &[ShardLayout]) -> bool {
    let norm = |v: &[ShardLayout]| -> Option<Vec<(i64, i64)>> {
        let mut r: Vec<(i64, i64)> = v
            .iter()
            .map(|s| Some((s.min?, s.max?)))
            .collect::<Option<_>>()?;
        r.sort_unstable();
        // merge contiguous ranges into the covered space
        let mut merged: Vec<(i64, i64)> = Vec::new();
        for (lo, hi) in r {
            match merged.last_mut() {
                Some(last) if lo == last.1 + 1 => last.1 = hi,
                _ => merged.push((lo, hi)),
            }
        }
        Some(merged)
    };
    match (norm(old), norm(new)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Why a change is expected, or why not.
pub fn classify(
    old: Option<&[ShardLayout]>,
    new: Option<&[ShardLayout]>,
    ctx: &Context,
) -> (Class, String) {
    if let Some(d) = &ctx.guard_decision {
        return (
            Class::Expected,
            format!("explained by a guard decision: {d}"),
        );
    }
    if let Some(j) = &ctx.citus_job {
        return (Class::Expected, format!("during a Citus operation: {j}"));
    }
    match (old, new) {
        (None, Some(_)) => (Class::Expected, "table distributed".into()),
        (Some(_), None) => (Class::Expected, "table undistributed or dropped".into()),
        (None, None) => (Class::Expected, "no change".into()),
        (Some(old), Some(new)) => {
            let on_active = new.iter().all(|s| {
                !s.groups.is_empty() && s.groups.iter().all(|g| ctx.active_groups.contains(g))
            });
            if !on_active {
                return (
                    Class::Unexpected,
                    "a shard has no placement, or one on a group without an active node".into(),
                );
            }
            if !covers_same_space(old, new) {
                return (
                    Class::Unexpected,
                    "the shard ranges no longer cover the same hash space".into(),
                );
            }
            let old_ids: BTreeMap<i64, &ShardLayout> = old.iter().map(|s| (s.id, s)).collect();
            let new_ids: BTreeMap<i64, &ShardLayout> = new.iter().map(|s| (s.id, s)).collect();
            let same_ids = old_ids.keys().eq(new_ids.keys());
            if same_ids {
                let ranges_same = old_ids
                    .iter()
                    .all(|(id, o)| (o.min, o.max) == (new_ids[id].min, new_ids[id].max));
                if ranges_same {
                    let moved = old_ids
                        .iter()
                        .filter(|(id, o)| o.groups != new_ids[*id].groups)
                        .count();
                    return if moved > 0 {
                        (
                            Class::Expected,
                            format!("shard move ({moved} shard(s) on other nodes)"),
                        )
                    } else {
                        (Class::Expected, "placement details changed".into())
                    };
                }
                return (Class::Unexpected, "shard ranges changed in place".into());
            }
            // Shards replaced by others covering the same space: a split or a tenant isolation.
            let removed = old_ids
                .keys()
                .filter(|id| !new_ids.contains_key(id))
                .count();
            let added = new_ids
                .keys()
                .filter(|id| !old_ids.contains_key(id))
                .count();
            let fresh_ids = new_ids
                .keys()
                .filter(|id| !old_ids.contains_key(id))
                .all(|id| old_ids.keys().all(|o| id > o));
            if fresh_ids {
                (
                    Class::Expected,
                    format!(
                        "shard split or tenant isolation ({removed} shard(s) replaced by {added})"
                    ),
                )
            } else {
                (
                    Class::Unexpected,
                    "shards replaced by shards with reused ids".into(),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashmath::shard_ranges;

    fn layout(n: i32, first: i64) -> Vec<ShardLayout> {
        shard_ranges(n)
            .into_iter()
            .enumerate()
            .map(|(i, (lo, hi))| ShardLayout {
                id: first + i as i64,
                min: Some(lo as i64),
                max: Some(hi as i64),
                groups: vec![1 + (i as i32 % 2)],
            })
            .collect()
    }

    fn ctx() -> Context {
        Context {
            active_groups: BTreeSet::from([0, 1, 2]),
            ..Default::default()
        }
    }

    #[test]
    fn moves_splits_and_lifecycle_are_expected() {
        let old = layout(4, 100);
        let mut moved = old.clone();
        moved[0].groups = vec![2];
        assert_eq!(
            classify(Some(&old), Some(&moved), &ctx()).0,
            Class::Expected
        );
        assert!(classify(Some(&old), Some(&moved), &ctx())
            .1
            .contains("shard move"));

        // split shard 100 in two new shards 104, 105
        let mut split = old[1..].to_vec();
        let (lo, hi) = (old[0].min.unwrap(), old[0].max.unwrap());
        split.push(ShardLayout {
            id: 104,
            min: Some(lo),
            max: Some(lo + 10),
            groups: vec![1],
        });
        split.push(ShardLayout {
            id: 105,
            min: Some(lo + 11),
            max: Some(hi),
            groups: vec![2],
        });
        let (c, why) = classify(Some(&old), Some(&split), &ctx());
        assert_eq!(c, Class::Expected, "{why}");

        assert_eq!(classify(None, Some(&old), &ctx()).0, Class::Expected);
        assert_eq!(classify(Some(&old), None, &ctx()).0, Class::Expected);
    }

    #[test]
    fn tampering_is_unexpected_unless_explained() {
        let old = layout(4, 100);
        let mut tampered = old.clone();
        tampered[0].max = Some(tampered[0].max.unwrap() - 5);
        assert_eq!(
            classify(Some(&old), Some(&tampered), &ctx()).0,
            Class::Unexpected
        );
        let mut lost = old.clone();
        lost[2].groups = vec![9];
        assert_eq!(
            classify(Some(&old), Some(&lost), &ctx()).0,
            Class::Unexpected
        );
        let explained = Context {
            guard_decision: Some("allow_once: OPS-1".into()),
            ..ctx()
        };
        assert_eq!(
            classify(Some(&old), Some(&tampered), &explained).0,
            Class::Expected
        );
    }

    #[test]
    fn layouts_round_trip() {
        let l = layout(3, 7);
        assert_eq!(decode(&encode(&l)), l);
        assert!(decode("garbage\n1|x|y|").len() <= 1);
    }
}
