//! How work on shards is cut into commands for the nodes: each command covers many shards of
//! one node (so a report costs a few round trips per node, not one per placement), a node gets
//! several commands at once (as Citus's executor opens several connections per node), and the
//! work comes in a few rounds, so a long scan can say how far it is between them.

use std::collections::BTreeMap;

/// Limits of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Commands a node runs at once (Citus's citus.max_adaptive_executor_pool_size).
    pub parallel: usize,
    /// Shards one command covers at most: each holds a lock on every relation it reads until it
    /// ends, and the lock table is shared.
    pub per_command: usize,
    /// Bytes after which the work is cut into another round (for progress), up to `max_rounds`.
    pub round_bytes: i64,
    pub max_rounds: usize,
    /// Work a command should have before a node gets another one at once: each command is a
    /// new connection (Citus's master_run_on_worker opens one per command) whose backend starts
    /// with empty caches. Measured on 512 shards of 30 kB on a node: 2 commands 265 ms, 16
    /// commands 431 ms.
    pub command_bytes: i64,
    /// What opening, planning and ending the scan of one shard costs, as bytes read.
    pub item_bytes: i64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            parallel: 4,
            per_command: 256,
            round_bytes: 1 << 30,
            max_rounds: 10,
            command_bytes: 32 << 20,
            item_bytes: 64 << 10,
        }
    }
}

/// One item of work: a shard on a node, and how big it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub node: usize,
    pub bytes: i64,
}

/// One command: a node and the items (indexes into the input) it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub node: usize,
    pub items: Vec<usize>,
}

/// Rounds of commands; within a round every node runs at most `parallel` commands, and every
/// item is in exactly one command.
pub fn plan(items: &[Item], limits: Limits) -> Vec<Vec<Command>> {
    let parallel = limits.parallel.max(1);
    let per_command = limits.per_command.max(1);
    let total: i64 = items.iter().map(|i| i.bytes.max(0)).sum();
    let wanted_rounds =
        ((total / limits.round_bytes.max(1)) as usize + 1).clamp(1, limits.max_rounds.max(1));
    let mut by_node: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, it) in items.iter().enumerate() {
        by_node.entry(it.node).or_default().push(i);
    }
    let mut per_node: Vec<Vec<Command>> = Vec::new();
    for (node, mut ids) in by_node {
        let work: i64 = ids
            .iter()
            .map(|i| {
                items[*i]
                    .bytes
                    .max(0)
                    .saturating_add(limits.item_bytes.max(0))
            })
            .fold(0, i64::saturating_add);
        let worth = (work / limits.command_bytes.max(1)) as usize + 1;
        let chunks = ids
            .len()
            .div_ceil(per_command)
            .max(ids.len().min(parallel * wanted_rounds).min(worth))
            .max(1);
        // largest first into the lightest chunk that has room
        ids.sort_by_key(|i| std::cmp::Reverse(items[*i].bytes));
        let mut cmds: Vec<(i64, Vec<usize>)> = vec![(0, Vec::new()); chunks];
        for i in ids {
            let c = cmds
                .iter_mut()
                .filter(|c| c.1.len() < per_command)
                .min_by_key(|c| (c.0, c.1.len()))
                .expect("enough chunks for every item");
            c.0 += items[i].bytes.max(0);
            c.1.push(i);
        }
        let mut cmds: Vec<Command> = cmds
            .into_iter()
            .filter(|c| !c.1.is_empty())
            .map(|(_, mut items)| {
                items.sort_unstable();
                Command { node, items }
            })
            .collect();
        cmds.sort_by_key(|c| c.items[0]);
        per_node.push(cmds);
    }
    let rounds = per_node
        .iter()
        .map(|c| c.len().div_ceil(parallel))
        .max()
        .unwrap_or(0);
    (0..rounds)
        .map(|r| {
            per_node
                .iter()
                .flat_map(|cmds| cmds.iter().skip(r * parallel).take(parallel).cloned())
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn items(spec: &[(usize, i64)]) -> Vec<Item> {
        spec.iter()
            .map(|&(node, bytes)| Item { node, bytes })
            .collect()
    }

    #[test]
    fn small_work_is_one_round_of_parallel_commands() {
        let mb = 32 << 20;
        let it = items(&[(0, mb), (0, mb), (1, mb), (0, mb), (1, mb), (0, mb)]);
        let p = plan(&it, Limits::default());
        assert_eq!(p.len(), 1);
        // node 0 has 4 shards: four commands of one; node 1 two commands of one
        assert_eq!(p[0].iter().filter(|c| c.node == 0).count(), 4);
        assert_eq!(p[0].iter().filter(|c| c.node == 1).count(), 2);
    }

    #[test]
    fn a_node_gets_another_command_only_for_work_worth_a_connection() {
        // 512 shards of 30 kB: 47 MB of work with what each shard costs besides its bytes
        let it: Vec<Item> = (0..512)
            .map(|_| Item {
                node: 0,
                bytes: 30_000,
            })
            .collect();
        let p = plan(
            &it,
            Limits {
                parallel: 16,
                ..Limits::default()
            },
        );
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].len(), 2);
        // a few shards of nothing: one command
        let p = plan(&items(&[(0, 0), (0, 0), (0, 0)]), Limits::default());
        assert_eq!(p[0].len(), 1);
        // 4 shards of 29 MB: one command each
        let p = plan(&items(&[(0, 29 << 20); 4]), Limits::default());
        assert_eq!(p[0].len(), 4);
    }

    #[test]
    fn many_small_shards_share_commands_and_big_data_comes_in_rounds() {
        let it: Vec<Item> = (0..3000)
            .map(|i| Item {
                node: i % 2,
                bytes: 8192,
            })
            .collect();
        let p = plan(&it, Limits::default());
        // 1500 shards per node, 256 per command: 6 commands per node, 2 rounds of 4
        assert_eq!(p.len(), 2);
        assert!(p.iter().flatten().all(|c| c.items.len() <= 256));

        let big: Vec<Item> = (0..8)
            .map(|i| Item {
                node: i % 2,
                bytes: 1 << 30,
            })
            .collect();
        let p = plan(
            &big,
            Limits {
                parallel: 2,
                ..Limits::default()
            },
        );
        assert!(p.len() >= 2, "8 GB comes in rounds: {}", p.len());
    }

    proptest! {
        /// Every item in exactly one command, on its own node; no node above `parallel` per round.
        #[test]
        fn every_item_once_on_its_node(spec in prop::collection::vec((0usize..4, 0i64..(1 << 31)), 0..600),
                                       parallel in 1usize..8, per_command in 1usize..50) {
            let it = items(&spec);
            let limits = Limits { parallel, per_command, ..Limits::default() };
            let p = plan(&it, limits);
            let mut seen = vec![0; it.len()];
            for round in &p {
                for node in 0..4 {
                    prop_assert!(round.iter().filter(|c| c.node == node).count() <= parallel);
                }
                for c in round {
                    prop_assert!(!c.items.is_empty() && c.items.len() <= per_command);
                    for &i in &c.items {
                        prop_assert_eq!(it[i].node, c.node);
                        seen[i] += 1;
                    }
                }
            }
            prop_assert!(seen.iter().all(|n| *n == 1));
            prop_assert!(p.len() <= 10 + it.len() / (parallel * per_command) + 1);
        }
    }
}
