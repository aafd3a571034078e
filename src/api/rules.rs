//! `citus_sidecar.rules()`: the guard's rules, their SQLSTATEs and what they do now.

use pgrx::prelude::*;
use sidecar_rules::{policy, Finding, RuleId, Severity};

/// One row per rule: its stable id, SQLSTATE, default severity and the action it takes under
/// the current `citus_sidecar.mode` and `citus_sidecar.rule_overrides`.
#[pg_extern(stable, parallel_safe)]
fn rules() -> TableIterator<
    'static,
    (
        name!(rule_id, String),
        name!(sqlstate, String),
        name!(default_severity, String),
        name!(current_action, String),
    ),
> {
    let mode = crate::gucs::mode();
    let overrides = crate::gucs::rule_overrides();
    let rows: Vec<_> = RuleId::ALL
        .iter()
        .map(|&r| {
            let f = Finding::new(r, "");
            let action = match policy::action(&f, mode, &overrides) {
                sidecar_rules::Action::Error => "error",
                sidecar_rules::Action::Warning => "warning",
                sidecar_rules::Action::Ignore => "ignore",
            };
            let sev = match r.default_severity() {
                Severity::Block => "block",
                Severity::Warn => "warn",
            };
            (
                r.as_str().to_string(),
                r.sqlstate().to_string(),
                sev.to_string(),
                action.to_string(),
            )
        })
        .collect();
    TableIterator::new(rows)
}

/// The version of the loaded library.
#[pg_extern(immutable, parallel_safe)]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
