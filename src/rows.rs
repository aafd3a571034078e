//! Reading rows through SPI into typed values, loudly: a NULL where a value is required, or a
//! value that does not decode, is an ERROR naming the query, never a default the reports would
//! then judge on.

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::SpiHeapTupleData;

/// Column `i` (1-based) of `row`, which must not be NULL.
pub fn col<T: FromDatum + IntoDatum>(row: &SpiHeapTupleData, i: usize, what: &str) -> T {
    match row.get::<T>(i) {
        Ok(Some(v)) => v,
        Ok(None) => error!("citus_sidecar: reading {what}: column {i} is NULL"),
        Err(e) => error!("citus_sidecar: reading {what}: column {i}: {e}"),
    }
}

/// Column `i` (1-based) of `row`, which may be NULL.
pub fn opt<T: FromDatum + IntoDatum>(row: &SpiHeapTupleData, i: usize, what: &str) -> Option<T> {
    match row.get::<T>(i) {
        Ok(v) => v,
        Err(e) => error!("citus_sidecar: reading {what}: column {i}: {e}"),
    }
}

/// Every row of a query, each turned into a value by `f`.
pub fn all<T>(
    sql: &str,
    args: &[DatumWithOid],
    what: &str,
    mut f: impl FnMut(&SpiHeapTupleData) -> T,
) -> Vec<T> {
    Spi::connect(|client| match client.select(sql, None, args) {
        Ok(rows) => rows.map(|r| f(&r)).collect(),
        Err(e) => error!("citus_sidecar: reading {what}: {e}"),
    })
}

/// The one value of a one-row, one-column query, which must not be NULL. Read-only: unlike
/// pgrx's `Spi::get_one`, it never assigns the caller's transaction an id.
pub fn one<T: FromDatum + IntoDatum>(sql: &str, args: &[DatumWithOid], what: &str) -> T {
    match Spi::connect(|client| {
        client
            .select(sql, Some(1), args)
            .and_then(|t| t.first().get_one::<T>())
    }) {
        Ok(Some(v)) => v,
        Ok(None) => error!("citus_sidecar: reading {what}: no value"),
        Err(e) => error!("citus_sidecar: reading {what}: {e}"),
    }
}

/// The value of a query that returns at most one row and column: None for no row or NULL.
/// Read-only, like [`one`]; a failed query is an ERROR.
pub fn maybe_one<T: FromDatum + IntoDatum>(
    sql: &str,
    args: &[DatumWithOid],
    what: &str,
) -> Option<T> {
    match Spi::connect(|client| {
        client.select(sql, Some(1), args).and_then(|t| {
            if t.is_empty() {
                Ok(None)
            } else {
                t.first().get_one::<T>()
            }
        })
    }) {
        Ok(v) => v,
        Err(e) => error!("citus_sidecar: reading {what}: {e}"),
    }
}

/// A statement that writes; its failure is an ERROR.
pub fn run(sql: &str, args: &[DatumWithOid], what: &str) {
    if let Err(e) = Spi::run_with_args(sql, args) {
        error!("citus_sidecar: {what}: {e}");
    }
}
