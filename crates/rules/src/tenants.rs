//! `tenant_load_top()`: ranking tenants by their share of the cluster's load, and what to do
//! about one above the threshold: isolate it to a shard of its own (with its colocated shards),
//! then move that shard to the least-loaded node.

use crate::distribution::quote_literal;

#[derive(Debug, Clone, PartialEq)]
pub struct TenantLoad {
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
    let t = quote_literal(&l.table);
    let v = quote_literal(&l.tenant);
    let mut s = format!("SELECT isolate_tenant_to_new_shard({t}, {v}, 'CASCADE');");
    if let (Some((from, from_port)), Some((to, to_port))) = (&l.node, target) {
        if (from, from_port) != (to, to_port) {
            s.push_str(&format!(
                "\nSELECT citus_move_shard_placement(get_shard_id_for_distribution_column({t}, {v}), {}, {from_port}, {}, {to_port});",
                quote_literal(from),
                quote_literal(to)
            ));
        }
    }
    Some(s)
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
        assert_eq!(shares(&[]), Vec::<f64>::new());
        assert_eq!(shares(&[load("x", 0.0)]), vec![0.0]);
    }
}

/// Largest over median of a group's shard sizes (None for fewer than two shards or a zero median).
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
mod skew_tests {
    use super::skew;

    #[test]
    fn max_over_median() {
        assert_eq!(skew(&[10, 10, 10, 40]), Some(4.0));
        assert_eq!(skew(&[10, 20, 30]), Some(1.5));
        assert_eq!(skew(&[5]), None);
        assert_eq!(skew(&[0, 0, 8]), None);
    }
}
