//! `hot_shards()` and the skew gauges of `metrics()`, computed one way: per colocation group,
//! the bytes of the group's tables added up per shard range (colocated shards share a range and
//! a node, so they are one unit of placement), and the largest of those over their median.

use std::collections::BTreeMap;

/// One placement's size, from its node's listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementSize {
    pub colocation: u32,
    pub table: String,
    pub shard: i64,
    /// The shard's range minimum: colocated shards share it.
    pub range_min: i32,
    pub group: i32,
    /// None: its node did not answer (or the relation was not there).
    pub bytes: Option<i64>,
}

/// A colocation group's skew.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSkew {
    pub colocation: u32,
    pub tables: Vec<String>,
    /// Shard ranges with a known size.
    pub positions: usize,
    /// Shard ranges left out because a size is unknown.
    pub unknown: usize,
    pub bytes: i64,
    /// Largest over median; None for fewer than two ranges or a zero median.
    pub ratio: Option<f64>,
}

/// Per group, the skew of its shard ranges.
pub fn group_skews(sizes: &[PlacementSize]) -> Vec<GroupSkew> {
    // group -> range -> (bytes known, any unknown); a shard's size is its largest copy's
    let mut ranges: BTreeMap<u32, BTreeMap<i32, BTreeMap<i64, Option<i64>>>> = BTreeMap::new();
    let mut tables: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for p in sizes {
        let shard = ranges
            .entry(p.colocation)
            .or_default()
            .entry(p.range_min)
            .or_default()
            .entry(p.shard)
            .or_insert(Some(0));
        *shard = match (*shard, p.bytes) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        let t = tables.entry(p.colocation).or_default();
        if !t.contains(&p.table) {
            t.push(p.table.clone());
        }
    }
    ranges
        .into_iter()
        .map(|(colocation, by_range)| {
            let totals: Vec<Option<i64>> = by_range
                .values()
                .map(|shards| shards.values().copied().sum::<Option<i64>>())
                .collect();
            let known: Vec<i64> = totals.iter().flatten().copied().collect();
            let mut names = tables.remove(&colocation).unwrap_or_default();
            names.sort();
            GroupSkew {
                colocation,
                tables: names,
                positions: known.len(),
                unknown: totals.len() - known.len(),
                bytes: known.iter().sum(),
                ratio: skew(&known),
            }
        })
        .collect()
}

/// Per node group: placements and bytes it holds (known sizes only).
pub fn node_loads(sizes: &[PlacementSize]) -> BTreeMap<i32, (i64, i64)> {
    let mut out: BTreeMap<i32, (i64, i64)> = BTreeMap::new();
    for p in sizes {
        let e = out.entry(p.group).or_default();
        e.0 += 1;
        e.1 += p.bytes.unwrap_or(0);
    }
    out
}

/// What to run for a group above the threshold.
pub fn skew_recommendation(ratio: Option<f64>, threshold: f64) -> Option<String> {
    ratio.filter(|r| *r > threshold).map(|_| {
        "-- find the tenants behind it: SELECT * FROM citus_sidecar.tenant_load_top();\n-- or spread the group by size:\nSELECT citus_rebalance_start(rebalance_strategy => 'by_disk_size');".to_string()
    })
}

/// Largest over median (None for fewer than two values or a zero median).
pub fn skew(sizes: &[i64]) -> Option<f64> {
    if sizes.len() < 2 {
        return None;
    }
    let mut v = sizes.to_vec();
    v.sort_unstable();
    let mid = v.len() / 2;
    // `usize::is_multiple_of` needs Rust 1.87; the workspace promises 1.85.
    #[allow(clippy::manual_is_multiple_of)]
    let even = v.len() % 2 == 0;
    let median = if even {
        (v[mid - 1] + v[mid]) as f64 / 2.0
    } else {
        v[mid] as f64
    };
    let max = *v.last()? as f64;
    (median > 0.0).then(|| max / median)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(
        colocation: u32,
        table: &str,
        shard: i64,
        range_min: i32,
        bytes: Option<i64>,
    ) -> PlacementSize {
        PlacementSize {
            colocation,
            table: table.into(),
            shard,
            range_min,
            group: 1 + (range_min.rem_euclid(2)),
            bytes,
        }
    }

    #[test]
    fn max_over_median() {
        assert_eq!(skew(&[10, 10, 10, 40]), Some(4.0));
        assert_eq!(skew(&[10, 20, 30]), Some(1.5));
        assert_eq!(skew(&[5]), None);
        assert_eq!(skew(&[0, 0, 8]), None);
    }

    #[test]
    fn colocated_tables_add_up_per_range_so_a_balanced_group_is_not_skewed() {
        // users small, orders big, both balanced: mixing their shards would give 10x skew
        let mut sizes = Vec::new();
        for (i, min) in [0, 1, 2, 3].into_iter().enumerate() {
            sizes.push(p(1, "users", 10 + i as i64, min, Some(100)));
            sizes.push(p(1, "orders", 20 + i as i64, min, Some(1000)));
        }
        let g = group_skews(&sizes);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].ratio, Some(1.0));
        assert_eq!(g[0].tables, vec!["orders".to_string(), "users".to_string()]);
        assert_eq!(g[0].bytes, 4400);

        // one hot range
        sizes[0].bytes = Some(3400);
        assert_eq!(group_skews(&sizes)[0].ratio, Some(4400.0 / 1100.0));
    }

    #[test]
    fn unknown_sizes_are_left_out_and_counted() {
        let sizes = vec![
            p(1, "t", 1, 0, Some(10)),
            p(1, "t", 2, 1, None),
            p(1, "t", 3, 2, Some(30)),
        ];
        let g = &group_skews(&sizes)[0];
        assert_eq!((g.positions, g.unknown, g.bytes), (2, 1, 40));
        assert_eq!(node_loads(&sizes).values().map(|v| v.0).sum::<i64>(), 3);
    }
}
