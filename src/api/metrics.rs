//! `citus_sidecar.metrics()`: the sidecar's figures in the Prometheus text exposition format,
//! for a postgres_exporter custom query or a textfile collector. Each gauge is computed on its
//! own (in a subtransaction): one that cannot be computed is reported as
//! `citus_sidecar_scrape_error{gauge="..."} 1`, and the others are still there.

use std::collections::BTreeMap;

use pgrx::prelude::*;
use sidecar_rules::record::{prometheus_sample, rules_and_verdict};

use crate::{rows, subxact};

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
}

/// Guard decisions, from the decision log (since it was last cleared).
fn decisions() -> String {
    let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
    for line in crate::decisions::read_all().iter().map(String::as_str) {
        if let Some((rules, verdict)) = rules_and_verdict(line) {
            if rules.is_empty() {
                *counts.entry(("none".into(), verdict.clone())).or_default() += 1;
            }
            for r in rules {
                *counts.entry((r, verdict.clone())).or_default() += 1;
            }
        }
    }
    let name = "citus_sidecar_guard_decisions_total";
    let mut out = String::new();
    header(&mut out, name, "counter",
        "Guard decisions on distribution calls and metadata edits, by rule and verdict, since the decision log was last cleared.");
    for ((rule, verdict), n) in &counts {
        out.push_str(&prometheus_sample(
            name,
            &[("rule", rule), ("verdict", verdict)],
            *n as f64,
        ));
    }
    out
}

/// Unacknowledged unexpected metadata changes, by kind.
fn unexpected_changes() -> String {
    let mut counts: BTreeMap<String, i64> = ["change", "drift", "reachability"]
        .iter()
        .map(|k| (k.to_string(), 0))
        .collect();
    for (kind, n) in rows::all(
        "SELECT kind, count(*) FROM citus_sidecar.metadata_changes \
          WHERE classification = 'unexpected' AND acknowledged_at IS NULL GROUP BY kind",
        &[],
        "metadata_changes",
        |r| {
            (
                rows::col::<String>(r, 1, "metadata_changes"),
                rows::col::<i64>(r, 2, "metadata_changes"),
            )
        },
    ) {
        counts.insert(kind, n);
    }
    let name = "citus_sidecar_unexpected_metadata_changes";
    let mut out = String::new();
    header(&mut out, name, "gauge",
        "Unexpected changes of Citus metadata not acknowledged yet, by kind (change on the coordinator, drift of a worker, reachability of a worker).");
    for (kind, n) in &counts {
        out.push_str(&prometheus_sample(name, &[("kind", kind)], *n as f64));
    }
    out
}

/// Stale prepared transactions on every node (older than 5 minutes), and the nodes that did not
/// answer.
fn prepared() -> String {
    let (count, oldest, unreachable) = rows::all(
        "SELECT count(gid), coalesce(max(extract(epoch FROM age)), 0)::float8, count(*) FILTER (WHERE gid IS NULL) \
           FROM citus_sidecar.stale_prepared_xacts('5 minutes')",
        &[],
        "stale_prepared_xacts",
        |r| {
            (
                rows::col::<i64>(r, 1, "stale_prepared_xacts"),
                rows::col::<f64>(r, 2, "stale_prepared_xacts"),
                rows::col::<i64>(r, 3, "stale_prepared_xacts"),
            )
        },
    )[0];
    let mut out = String::new();
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
    out
}

/// The busiest tenant's share, when Citus tracks tenants (without tracking the only ranking is
/// by data size, which reads rows: too costly for a scrape).
fn top_tenant() -> String {
    if !super::tenants::tenant_tracking_on() {
        return String::new();
    }
    let name = "citus_sidecar_top_tenant_share_percent";
    let mut out = String::new();
    header(
        &mut out,
        name,
        "gauge",
        "Share of the cluster's query load of the busiest tenant, from citus_stat_tenants.",
    );
    for (tenant, share) in rows::all(
        "SELECT tenant, share_percent FROM citus_sidecar.tenant_load_top(1) WHERE rank = 1",
        &[],
        "tenant_load_top",
        |r| {
            (
                rows::col::<String>(r, 1, "tenant_load_top"),
                rows::col::<f64>(r, 2, "tenant_load_top"),
            )
        },
    ) {
        out.push_str(&prometheus_sample(name, &[("tenant", &tenant)], share));
    }
    out
}

/// Shard-size skew per colocation group, computed as hot_shards() computes it.
fn skew() -> String {
    let s = super::hot_shards::sizes();
    let name = "citus_sidecar_shard_size_skew_ratio";
    let mut out = String::new();
    header(&mut out, name, "gauge",
        "Largest over median of a colocation group's shard sizes (its tables added up per shard range), as hot_shards() reports it.");
    for g in &s.skews {
        if let Some(r) = g.ratio {
            out.push_str(&prometheus_sample(
                name,
                &[("colocation_id", &g.colocation.to_string())],
                (r * 100.0).round() / 100.0,
            ));
        }
    }

    out.push_str(&super::split::gauge());
    out
}

/// A gauge's name (for its scrape error) and what computes its lines.
type Gauge = (&'static str, fn() -> String);

/// The sidecar's figures, Prometheus text format. Aggregates only: no statement text, no table
/// contents; pg_monitor may call it.
#[pg_extern(volatile, parallel_unsafe)]
fn metrics() -> String {
    let gauges: [Gauge; 5] = [
        ("guard_decisions", decisions),
        ("unexpected_metadata_changes", unexpected_changes),
        ("stale_prepared_xacts", prepared),
        ("top_tenant_share", top_tenant),
        ("shard_size_skew", skew),
    ];
    let mut out = String::new();
    let mut failed = Vec::new();
    for (gauge, f) in gauges {
        match subxact::attempt(f) {
            Ok(text) => out.push_str(&text),
            Err(e) => failed.push((gauge, e)),
        }
    }
    if !failed.is_empty() {
        let name = "citus_sidecar_scrape_error";
        header(
            &mut out,
            name,
            "gauge",
            "1 for each gauge this scrape could not compute (its error is in the server log).",
        );
        for (gauge, e) in failed {
            log!("citus_sidecar: metrics(): gauge {gauge} could not be computed: {e}");
            out.push_str(&prometheus_sample(name, &[("gauge", gauge)], 1.0));
        }
    }
    out
}
