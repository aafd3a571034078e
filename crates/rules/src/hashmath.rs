//! Citus's hash-range math (operations/create_shards.c, CreateShardsWithRoundRobinPolicy):
//! `inc = floor(2^32 / N)`, shard i covers `[INT32_MIN + i*inc, INT32_MIN + (i+1)*inc - 1]`,
//! the last shard's max is forced to INT32_MAX.

pub const HASH_TOKEN_COUNT: u64 = 1 << 32;

/// The (min, max) hash range of each of `n` shards; empty for n < 1.
pub fn shard_ranges(n: i32) -> Vec<(i32, i32)> {
    if n < 1 {
        return Vec::new();
    }
    let inc = HASH_TOKEN_COUNT / n as u64;
    (0..n as u64)
        .map(|i| {
            let min = i32::MIN as i64 + (i * inc) as i64;
            let max = if i == n as u64 - 1 {
                i32::MAX as i64
            } else {
                min + inc as i64 - 1
            };
            (min as i32, max as i32)
        })
        .collect()
}

/// Index of the shard whose range holds `hash` in a uniform layout of `n` shards
/// (Citus's CalculateUniformHashRangeIndex).
pub fn uniform_shard_index(hash: i32, n: i32) -> usize {
    let inc = HASH_TOKEN_COUNT / n as u64;
    let idx = ((hash as i64 - i32::MIN as i64) as u64 / inc) as usize;
    idx.min(n as usize - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_the_ranges_citus_writes() {
        assert_eq!(
            shard_ranges(4),
            vec![
                (-2147483648, -1073741825),
                (-1073741824, -1),
                (0, 1073741823),
                (1073741824, 2147483647)
            ]
        );
        assert_eq!(
            shard_ranges(3),
            vec![
                (-2147483648, -715827884),
                (-715827883, 715827881),
                (715827882, 2147483647)
            ]
        );
        assert_eq!(shard_ranges(32)[0], (-2147483648, -2013265921));
        assert!(shard_ranges(0).is_empty());
    }

    proptest! {
        #[test]
        fn ranges_are_contiguous_and_cover_int32(n in 1i32..=64000) {
            let r = shard_ranges(n);
            prop_assert_eq!(r.len(), n as usize);
            prop_assert_eq!(r[0].0, i32::MIN);
            prop_assert_eq!(r[r.len() - 1].1, i32::MAX);
            for w in r.windows(2) {
                prop_assert!(w[0].0 <= w[0].1);
                prop_assert_eq!(w[0].1 as i64 + 1, w[1].0 as i64);
            }
        }

        #[test]
        fn uniform_index_finds_the_range(n in 1i32..=64000, h in any::<i32>()) {
            let r = shard_ranges(n);
            let i = uniform_shard_index(h, n);
            prop_assert!(r[i].0 <= h && h <= r[i].1);
        }
    }
}
