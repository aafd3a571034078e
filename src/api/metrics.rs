//! `citus_sidecar.metrics()`: the sidecar's figures in the Prometheus text exposition format,
//! for a postgres_exporter custom query or a textfile collector.

use std::collections::BTreeMap;

use pgrx::prelude::*;
use sidecar_rules::record::{prometheus_sample, rules_and_verdict};

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
}

/// The sidecar's figures, Prometheus text format. Aggregates only: no statement text, no table
/// contents; pg_monitor may call it.
#[pg_extern(volatile, parallel_unsafe)]
fn metrics() -> String {
    let mut out = String::new();

    // Guard decisions, from the decision log (since it was last cleared).
    let mut decisions: BTreeMap<(String, String), u64> = BTreeMap::new();
    let text = crate::decisions::read_all();
    for line in text.iter().map(String::as_str) {
        if let Some((rules, verdict)) = rules_and_verdict(line) {
            if rules.is_empty() {
                *decisions.entry(("none".into(), verdict)).or_default() += 1;
            } else {
                for r in rules {
                    *decisions.entry((r, verdict.clone())).or_default() += 1;
                }
            }
        }
    }
    header(&mut out, "citus_sidecar_guard_decisions_total", "counter",
        "Guard decisions on distribution calls and metadata edits, by rule and verdict, since the decision log was last cleared.");
    for ((rule, verdict), n) in &decisions {
        out.push_str(&prometheus_sample(
            "citus_sidecar_guard_decisions_total",
            &[("rule", rule), ("verdict", verdict)],
            *n as f64,
        ));
    }

    // Unacknowledged unexpected metadata changes and drift.
    let (changes, drift) = Spi::get_two::<i64, i64>(
        "SELECT count(*) FILTER (WHERE reason NOT LIKE '%(drift)'), count(*) FILTER (WHERE reason LIKE '%(drift)') \
           FROM citus_sidecar.metadata_changes WHERE classification = 'unexpected' AND acknowledged_at IS NULL",
    )
    .unwrap_or((Some(0), Some(0)));
    header(&mut out, "citus_sidecar_unexpected_metadata_changes", "gauge",
        "Unexpected changes of Citus metadata not acknowledged yet, by kind (change on the coordinator, or drift of a worker).");
    out.push_str(&prometheus_sample(
        "citus_sidecar_unexpected_metadata_changes",
        &[("kind", "change")],
        changes.unwrap_or(0) as f64,
    ));
    out.push_str(&prometheus_sample(
        "citus_sidecar_unexpected_metadata_changes",
        &[("kind", "drift")],
        drift.unwrap_or(0) as f64,
    ));

    // Stale prepared transactions on every node (older than 5 minutes).
    let (count, oldest, unreachable) = Spi::connect(|c| {
        c.select(
            "SELECT count(gid), coalesce(max(extract(epoch FROM age)), 0)::float8, count(*) FILTER (WHERE gid IS NULL) \
               FROM citus_sidecar.stale_prepared_xacts('5 minutes')",
            None,
            &[],
        )
        .ok()
        .map(|t| {
            let r = t.first();
            (
                r.get::<i64>(1).ok().flatten().unwrap_or(0),
                r.get::<f64>(2).ok().flatten().unwrap_or(0.0),
                r.get::<i64>(3).ok().flatten().unwrap_or(0),
            )
        })
        .unwrap_or((0, 0.0, 0))
    });
    header(
        &mut out,
        "citus_sidecar_stale_prepared_xacts",
        "gauge",
        "Prepared transactions older than 5 minutes on all nodes.",
    );
    out.push_str(&prometheus_sample(
        "citus_sidecar_stale_prepared_xacts",
        &[],
        count as f64,
    ));
    header(
        &mut out,
        "citus_sidecar_stale_prepared_xact_oldest_age_seconds",
        "gauge",
        "Age of the oldest of them, in seconds.",
    );
    out.push_str(&prometheus_sample(
        "citus_sidecar_stale_prepared_xact_oldest_age_seconds",
        &[],
        oldest.round(),
    ));
    header(
        &mut out,
        "citus_sidecar_unreachable_nodes",
        "gauge",
        "Nodes the last look at prepared transactions could not reach.",
    );
    out.push_str(&prometheus_sample(
        "citus_sidecar_unreachable_nodes",
        &[],
        unreachable as f64,
    ));

    // The top tenant's share of the load, when Citus tracks tenants (without tracking the only
    // ranking is by data size, which reads rows: too costly for a scrape).
    if super::operations::tenant_tracking_on() {
        let top = Spi::get_two::<String, f64>(
            "SELECT tenant, share_percent FROM citus_sidecar.tenant_load_top(1)",
        )
        .ok();
        header(
            &mut out,
            "citus_sidecar_top_tenant_share_percent",
            "gauge",
            "Share of the cluster's query load of the busiest tenant, from citus_stat_tenants.",
        );
        if let Some((Some(tenant), Some(share))) = top {
            out.push_str(&prometheus_sample(
                "citus_sidecar_top_tenant_share_percent",
                &[("tenant", &tenant)],
                share,
            ));
        }
    }

    // Shard-size skew per colocation group (max / median), where Citus can size shards.
    let has_sizes =
        Spi::get_one::<bool>("SELECT to_regclass('pg_catalog.citus_shards') IS NOT NULL")
            .ok()
            .flatten()
            .unwrap_or(false);
    if has_sizes {
        let skew: Vec<(i32, f64)> = Spi::connect(|c| {
            c.select(
                "SELECT colocation_id, (max(shard_size) / nullif(percentile_cont(0.5) WITHIN GROUP (ORDER BY shard_size), 0))::float8 \
                   FROM pg_catalog.citus_shards WHERE citus_table_type = 'distributed' GROUP BY colocation_id ORDER BY 1",
                None,
                &[],
            )
            .map(|rows| rows.filter_map(|r| Some((r.get::<i32>(1).ok()??, r.get::<f64>(2).ok()??))).collect())
            .unwrap_or_default()
        });
        header(
            &mut out,
            "citus_sidecar_shard_size_skew_ratio",
            "gauge",
            "Largest shard size over the median shard size, per colocation group.",
        );
        for (group, ratio) in skew {
            out.push_str(&prometheus_sample(
                "citus_sidecar_shard_size_skew_ratio",
                &[("colocation_id", &group.to_string())],
                (ratio * 1000.0).round() / 1000.0,
            ));
        }
    }

    out.push_str(&super::split::gauge());
    out
}
