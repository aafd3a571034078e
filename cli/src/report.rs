//! `citus-sidecar report`: the consistency report, hot shards and stale prepared transactions
//! as one list of rows with a severity (info, warning, error), for cron jobs and CI smoke tests.
//! Check ids are passed through as the extension returns them, so checks it adds later appear
//! without a change here.

use serde::Serialize;

use crate::online::Server;

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRow {
    /// `consistency`, `hot-shards` or `stale-prepared-xacts`.
    pub section: &'static str,
    pub check_id: String,
    /// `info`, `warning` or `error`.
    pub severity: String,
    pub table_name: Option<String>,
    pub shard_id: Option<i64>,
    pub node: Option<String>,
    pub detail: String,
    pub remediation: Option<String>,
}

/// `--checks` entries that select the sections other than the consistency report.
pub const HOT_SHARDS: &[&str] = &["hot-shards", "shard-skew", "node-load"];
pub const PREPARED: &[&str] = &["stale-prepared-xacts", "stale-prepared-xact", "prepared"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFailOn {
    /// A warning fails the run too.
    Warn,
    /// Only errors fail it.
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

/// What `--checks` asks for: which sections run, and the checks given to the consistency report
/// (None: its default set).
pub struct Selection {
    pub consistency: Option<Option<Vec<String>>>,
    pub hot_shards: bool,
    pub prepared: bool,
}

pub fn select(checks: &[String]) -> Selection {
    if checks.is_empty() {
        return Selection {
            consistency: Some(None),
            hot_shards: true,
            prepared: true,
        };
    }
    let lower: Vec<String> = checks
        .iter()
        .map(|c| c.trim().to_lowercase())
        .filter(|c| !c.is_empty())
        .collect();
    let rest: Vec<String> = lower
        .iter()
        .filter(|c| !HOT_SHARDS.contains(&c.as_str()) && !PREPARED.contains(&c.as_str()))
        .cloned()
        .collect();
    Selection {
        consistency: (!rest.is_empty()).then_some(Some(rest)),
        hot_shards: lower.iter().any(|c| HOT_SHARDS.contains(&c.as_str())),
        prepared: lower.iter().any(|c| PREPARED.contains(&c.as_str())),
    }
}

fn normalise(severity: &str) -> String {
    match severity {
        "error" | "warning" | "info" => severity.to_string(),
        "warn" => "warning".into(),
        "block" => "error".into(),
        other => other.to_string(),
    }
}

/// Runs the selected sections.
pub fn run(
    server: &mut Server,
    sel: &Selection,
    older_than: &str,
    checks: &[String],
) -> Result<Vec<ReportRow>, String> {
    let mut out = Vec::new();
    if let Some(c) = &sel.consistency {
        server.ensure("shard_consistency_report(regclass[],text[],bigint)")?;
        let rows = server.query(
            "SELECT check_id, severity, table_name, shard_id, node, detail, remediation \
               FROM @extschema@.shard_consistency_report(checks => $1::text[])",
            &[c],
        )?;
        out.extend(rows.iter().map(|r| ReportRow {
            section: "consistency",
            check_id: r.get(0),
            severity: normalise(r.get::<_, String>(1).as_str()),
            table_name: r.get(2),
            shard_id: r.get(3),
            node: r.get(4),
            detail: r.get(5),
            remediation: r.get(6),
        }));
    }
    if sel.hot_shards {
        server.ensure("hot_shards()")?;
        let kinds: Vec<&String> = checks
            .iter()
            .filter(|c| *c != "hot-shards" && HOT_SHARDS.contains(&c.as_str()))
            .collect();
        let rows = server.query(
            "SELECT kind, colocation_id, node, shards, bytes, skew_ratio, detail, recommendation FROM @extschema@.hot_shards()",
            &[],
        )?;
        for r in &rows {
            let kind: String = r.get(0);
            if !kinds.is_empty() && !kinds.iter().any(|k| **k == kind) {
                continue;
            }
            let shards: i64 = r.get(3);
            let bytes: i64 = r.get(4);
            let ratio: Option<f64> = r.get(5);
            let recommendation: Option<String> = r.get(7);
            let severity = match kind.as_str() {
                "node-unreachable" => "error",
                _ if recommendation.is_some() => "warning",
                _ => "info",
            };
            let mut detail: String = r.get(6);
            match kind.as_str() {
                "shard-skew" => {
                    match ratio {
                        Some(x) => detail.push_str(&format!(": {x}")),
                        None => detail.push_str(": no sizes"),
                    }
                    detail.push_str(&format!(" ({shards} shards, {bytes} bytes)"));
                }
                "node-load" => detail.push_str(&format!(" ({shards} shards, {bytes} bytes)")),
                _ => {}
            }
            out.push(ReportRow {
                section: "hot-shards",
                check_id: kind,
                severity: severity.into(),
                table_name: None,
                shard_id: None,
                node: r.get(2),
                detail,
                remediation: recommendation,
            });
        }
    }
    if sel.prepared {
        server.ensure("stale_prepared_xacts(interval)")?;
        let rows = server.query(
            "SELECT node, database, gid, age::text, citus_will_resolve, action, statement, reason \
               FROM @extschema@.stale_prepared_xacts($1::text::interval)",
            &[&older_than],
        )?;
        for r in &rows {
            let gid: Option<String> = r.get(2);
            let reason: String = r.get(7);
            let (check, severity, detail) = match &gid {
                None => ("node-unreachable", "error", reason),
                Some(g) => {
                    let resolves: Option<bool> = r.get(4);
                    let db: Option<String> = r.get(1);
                    let age: Option<String> = r.get(3);
                    let action: Option<String> = r.get(5);
                    (
                        "stale-prepared-xact",
                        if resolves == Some(true) { "info" } else { "warning" },
                        format!(
                            "prepared transaction {g} in database {}, prepared {} ago; action: {}: {reason}",
                            db.unwrap_or_default(),
                            age.unwrap_or_default(),
                            action.unwrap_or_default()
                        ),
                    )
                }
            };
            out.push(ReportRow {
                section: "stale-prepared-xacts",
                check_id: check.into(),
                severity: severity.into(),
                table_name: None,
                shard_id: None,
                node: r.get(0),
                detail,
                remediation: r.get(6),
            });
        }
    }
    Ok(out)
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReportSummary {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

pub fn summary(rows: &[ReportRow]) -> ReportSummary {
    let mut s = ReportSummary::default();
    for r in rows {
        match r.severity.as_str() {
            "error" => s.error += 1,
            "warning" => s.warning += 1,
            _ => s.info += 1,
        }
    }
    s
}

pub fn exit_code(s: &ReportSummary, fail_on: ReportFailOn) -> i32 {
    if s.error > 0 || (fail_on == ReportFailOn::Warn && s.warning > 0) {
        1
    } else {
        0
    }
}

pub fn render_text(rows: &[ReportRow]) -> String {
    let mut out = String::new();
    for r in rows {
        let mut subject = Vec::new();
        if let Some(t) = &r.table_name {
            subject.push(t.clone());
        }
        if let Some(s) = r.shard_id {
            subject.push(format!("shard {s}"));
        }
        if let Some(n) = &r.node {
            subject.push(format!("on {n}"));
        }
        let subject = if subject.is_empty() {
            String::new()
        } else {
            format!(" {}:", subject.join(" "))
        };
        out.push_str(&format!(
            "{}[{}]{subject} {}\n",
            r.severity, r.check_id, r.detail
        ));
        if let Some(rem) = r.remediation.as_deref().filter(|s| !s.is_empty()) {
            for (i, l) in rem.lines().enumerate() {
                out.push_str(&format!(
                    "    {}{l}\n",
                    if i == 0 {
                        "remediation: "
                    } else {
                        "             "
                    }
                ));
            }
        }
    }
    out
}

pub fn render_json(rows: &[ReportRow], s: &ReportSummary) -> String {
    #[derive(Serialize)]
    struct Doc<'a> {
        version: u32,
        rows: &'a [ReportRow],
        summary: &'a ReportSummary,
    }
    let mut t = serde_json::to_string_pretty(&Doc {
        version: 1,
        rows,
        summary: s,
    })
    .expect("plain data serializes");
    t.push('\n');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_select_sections() {
        let s = select(&[]);
        assert_eq!(
            (s.consistency, s.hot_shards, s.prepared),
            (Some(None), true, true)
        );
        let s = select(&["catalog".into(), "hot-shards".into()]);
        assert_eq!(
            (s.consistency, s.hot_shards, s.prepared),
            (Some(Some(vec!["catalog".to_string()])), true, false)
        );
        let s = select(&["stale-prepared-xacts".into()]);
        assert_eq!(
            (s.consistency, s.hot_shards, s.prepared),
            (None, false, true)
        );
    }
}
