//! `citus_sidecar.record_checksums()`: one snapshot of the metadata checksums, now (what the
//! background worker does every citus_sidecar.checksum_interval).

use pgrx::prelude::*;
use pgrx::{PgLogLevel, PgSqlErrorCode};

#[pg_extern(volatile, parallel_unsafe)]
fn record_checksums() -> TableIterator<
    'static,
    (
        name!(node, String),
        name!(table_name, String),
        name!(classification, String),
        name!(reason, String),
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
    let rows: Vec<_> = crate::monitor::snapshot()
        .into_iter()
        .map(|c| (c.node, c.table, c.class.as_str().to_string(), c.reason))
        .collect();
    TableIterator::new(rows)
}
