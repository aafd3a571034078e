//! `citus_sidecar.record_checksums()`: one snapshot of the metadata checksums, now (what the
//! background worker does every citus_sidecar.checksum_interval).

use pgrx::prelude::*;
use pgrx::{PgLogLevel, PgSqlErrorCode};

type Row = (
    name!(node, String),
    name!(table_name, Option<String>),
    name!(classification, String),
    name!(reason, String),
    name!(kind, String),
    name!(catalog, Option<String>),
);

// pgrx reads the result columns from the tuple in the signature itself.
#[allow(clippy::type_complexity)]
#[pg_extern(volatile, parallel_unsafe)]
fn record_checksums() -> TableIterator<
    'static,
    (
        name!(node, String),
        name!(table_name, Option<String>),
        name!(classification, String),
        name!(reason, String),
        name!(kind, String),
        name!(catalog, Option<String>),
    ),
> {
    // SAFETY: a plain privilege check.
    if unsafe { !pg_sys::superuser() } {
        ereport!(
            PgLogLevel::ERROR,
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            "only superusers can record metadata checksums"
        );
    }
    let rows: Vec<Row> = crate::monitor::snapshot()
        .into_iter()
        .map(|c| {
            (
                c.node,
                c.subject.table().map(str::to_string),
                c.verdict.class.as_str().to_string(),
                c.verdict.reason,
                c.kind.as_str().to_string(),
                c.subject.catalog().map(|k| k.as_str().to_string()),
            )
        })
        .collect();
    TableIterator::new(rows)
}
