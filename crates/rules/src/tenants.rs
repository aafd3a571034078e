//! `tenant_load_top()`: ranking tenants by their share of the cluster's load, and what to do
//! about one above the threshold: isolate it to a shard of its own (with its colocated shards),
//! then move that shard to the least-loaded node.
//!
//! A tenant is a distribution value of a colocation group: Citus counts its queries per group
//! (citus_stat_tenants), and its rows live in the same shard range of every table of the group.
//! When a node does not answer, the shares are of the other nodes' load, and the answer says so.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::consistency::issue::literal;

#[derive(Debug, Clone, PartialEq)]
pub struct TenantLoad {
    /// The table the recommendation names (isolating it isolates the tenant in its whole group).
    pub table: String,
    pub tenant: String,
    /// Query count, or rows when ranked by data size.
    pub amount: f64,
    pub shard: Option<i64>,
    /// Node holding the tenant's shard: (name, port).
    pub node: Option<(String, i32)>,
}

/// Shares of the total, in percent, in the same order.
pub fn shares(loads: &[TenantLoad]) -> Vec<f64> {
    let total: f64 = loads.iter().map(|l| l.amount).sum();
    loads
        .iter()
        .map(|l| {
            if total > 0.0 {
                100.0 * l.amount / total
            } else {
                0.0
            }
        })
        .collect()
}

/// The statements for a tenant above the threshold; None below it. `target` is the node to move
/// the isolated shard to (the least-loaded other node), when there is one.
pub fn recommendation(
    l: &TenantLoad,
    share: f64,
    threshold: f64,
    target: Option<&(String, i32)>,
) -> Option<String> {
    if share <= threshold {
        return None;
    }
    let t = literal(&l.table);
    let v = literal(&l.tenant);
    let mut s = format!("SELECT isolate_tenant_to_new_shard({t}, {v}, 'CASCADE');");
    if let (Some((from, from_port)), Some((to, to_port))) = (&l.node, target) {
        if (from, from_port) != (to, to_port) {
            s.push_str(&format!(
                "\nSELECT citus_move_shard_placement(get_shard_id_for_distribution_column({t}, {v}), {}, {from_port}, {}, {to_port});",
                literal(from),
                literal(to)
            ));
        }
    }
    Some(s)
}

/// What the `detail` column says about where the figures come from.
pub fn detail(group: i32, tables: &[String], source: &str, missing: &[String]) -> String {
    let mut d = format!("colocation group {group} ({}): {source}", tables.join(", "));
    if !missing.is_empty() {
        d.push_str(&format!(
            "; partial: {} did not answer, so the share is of the other nodes' load",
            missing.join(", ")
        ));
    }
    d
}

/// One shard to sample for the data-size ranking, on its node: identifiers quoted by PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleShard {
    pub shard: i64,
    pub relation: String,
    pub column: String,
    /// The relation's size as the node listed it (what a command's share of the work is cut by).
    pub bytes: i64,
}

/// One command: per shard, the `n` most frequent distribution values among its first `rows`
/// rows, with their counts and the rows read. Answer: `[[shard, [[value, count, read], ...]]]`.
pub fn sample_command(shards: &[&SampleShard], n: i32, rows: i64) -> String {
    let parts: Vec<String> = shards
        .iter()
        .map(|s| {
            format!(
                "SELECT {}::int8 AS shard, coalesce((SELECT json_agg(json_build_array(y.v, y.c, y.t)) FROM (SELECT x.{c}::text AS v, count(*) AS c, sum(count(*)) OVER () AS t FROM (SELECT {c} FROM {} LIMIT {rows}) x GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {n}) y), '[]'::json) AS top",
                s.shard,
                s.relation,
                c = s.column
            )
        })
        .collect();
    format!(
        "SELECT coalesce(json_agg(json_build_array(r.shard, r.top)), '[]')::text FROM (\n{}\n) r",
        parts.join("\nUNION ALL\n")
    )
}

#[derive(Deserialize)]
struct Top(String, i64, f64);

/// A shard's sample: (value, rows) of its top values, and the rows read.
pub type Sample = (i64, Vec<(String, i64)>, f64);

pub fn parse_samples(json: &str) -> Result<Vec<Sample>, String> {
    let rows: Vec<(i64, Vec<Top>)> =
        serde_json::from_str(json).map_err(|e| format!("unreadable tenant sample: {e}"))?;
    Ok(rows
        .into_iter()
        .map(|(shard, top)| {
            let read = top.first().map(|t| t.2).unwrap_or(0.0);
            (shard, top.into_iter().map(|t| (t.0, t.1)).collect(), read)
        })
        .collect())
}

/// Rows per tenant of each group, from the samples: a tenant's rows in all tables of its group
/// add up. `group_of_shard` maps each sampled shard to its colocation group. Returns the rows
/// per (group, tenant) and the rows read in all.
pub fn data_size_loads(
    samples: &[Sample],
    group_of_shard: &BTreeMap<i64, i32>,
) -> (BTreeMap<(i32, String), f64>, f64) {
    let mut loads: BTreeMap<(i32, String), f64> = BTreeMap::new();
    let mut read = 0.0;
    for (shard, top, rows) in samples {
        read += rows;
        let Some(&g) = group_of_shard.get(shard) else {
            continue;
        };
        for (v, c) in top {
            *loads.entry((g, v.clone())).or_default() += *c as f64;
        }
    }
    (loads, read)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(tenant: &str, amount: f64) -> TenantLoad {
        TenantLoad {
            table: "orders".into(),
            tenant: tenant.into(),
            amount,
            shard: Some(1),
            node: Some(("w1".into(), 5432)),
        }
    }

    #[test]
    fn shares_and_recommendations() {
        let loads = vec![load("42", 90.0), load("7", 10.0)];
        let s = shares(&loads);
        assert_eq!(s, vec![90.0, 10.0]);
        let r = recommendation(&loads[0], s[0], 5.0, Some(&("w2".into(), 5433))).unwrap();
        assert!(r.starts_with("SELECT isolate_tenant_to_new_shard('orders', '42', 'CASCADE');"));
        assert!(r.contains("citus_move_shard_placement(get_shard_id_for_distribution_column('orders', '42'), 'w1', 5432, 'w2', 5433);"));
        assert!(recommendation(&loads[1], 4.0, 5.0, None).is_none());
        // a tenant value with a backslash: E'' reads the same whatever standard_conforming_strings
        // is (with it off, '\'' ended a plain literal and the rest ran when pasted)
        let evil = load("v\\'); CREATE TABLE pwned(); --", 90.0);
        let r = recommendation(&evil, 90.0, 5.0, None).unwrap();
        assert!(r.contains("E'v\\\\''); CREATE TABLE pwned(); --'"), "{r}");
        assert_eq!(shares(&[]), Vec::<f64>::new());
        assert_eq!(shares(&[load("x", 0.0)]), vec![0.0]);
    }

    #[test]
    fn a_missing_node_makes_the_answer_partial_and_says_which() {
        let d = detail(
            3,
            &["users".into(), "orders".into()],
            "citus_stat_tenants",
            &["w2:5432".into()],
        );
        assert_eq!(d, "colocation group 3 (users, orders): citus_stat_tenants; partial: w2:5432 did not answer, so the share is of the other nodes' load");
        assert!(!detail(3, &["users".into()], "x", &[]).contains("partial"));
    }

    #[test]
    fn samples_of_colocated_tables_add_up_per_tenant() {
        let s = SampleShard {
            shard: 7,
            relation: "public.\"order_7\"".into(),
            column: "\"user\"".into(),
            bytes: 8192,
        };
        let c = sample_command(&[&s], 3, 100000);
        assert!(c.contains("SELECT x.\"user\"::text AS v"), "{c}");
        assert!(
            c.contains("FROM (SELECT \"user\" FROM public.\"order_7\" LIMIT 100000) x"),
            "{c}"
        );
        let samples = parse_samples(
            r#"[[7, [["42", 60, 100], ["7", 10, 100]]], [8, [["42", 30, 50]]], [9, []]]"#,
        )
        .unwrap();
        let groups = BTreeMap::from([(7, 1), (8, 1), (9, 1)]);
        let (loads, read) = data_size_loads(&samples, &groups);
        assert_eq!(read, 150.0);
        assert_eq!(loads[&(1, "42".to_string())], 90.0);
    }
}
