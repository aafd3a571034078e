//! Running a piece of work in a subtransaction, so that an ERROR inside it rolls back that piece
//! only and comes back as a value: one gauge of metrics() that cannot be computed, one snapshot
//! of the checksum worker that fails. A cancel, a statement timeout or a shutdown is never
//! swallowed: it is raised again once the subtransaction is rolled back.

use std::panic::AssertUnwindSafe;

use pgrx::pg_sys::panic::CaughtError;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

/// Errors that end the statement whatever the caller wanted to survive.
fn must_propagate(code: PgSqlErrorCode) -> bool {
    matches!(
        code,
        PgSqlErrorCode::ERRCODE_QUERY_CANCELED
            | PgSqlErrorCode::ERRCODE_ADMIN_SHUTDOWN
            | PgSqlErrorCode::ERRCODE_CRASH_SHUTDOWN
            | PgSqlErrorCode::ERRCODE_CANNOT_CONNECT_NOW
    )
}

fn report(e: &CaughtError) -> (PgSqlErrorCode, String) {
    match e {
        CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) => {
            (r.sql_error_code(), r.message().to_string())
        }
        CaughtError::RustPanic { ereport, .. } => {
            (ereport.sql_error_code(), ereport.message().to_string())
        }
    }
}

/// Runs `f` in a subtransaction: Ok with its value, or Err with the message of the ERROR it
/// raised (after rolling the subtransaction back).
pub fn attempt<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    // SAFETY: the PL/pgSQL exception-block pattern: a subtransaction, released on success and
    // rolled back on error, with the memory context and resource owner restored either way.
    unsafe {
        let cxt = pg_sys::CurrentMemoryContext;
        let owner = pg_sys::CurrentResourceOwner;
        pg_sys::BeginInternalSubTransaction(std::ptr::null());
        pg_sys::MemoryContextSwitchTo(cxt);
        PgTryBuilder::new(AssertUnwindSafe(move || {
            let v = f();
            pg_sys::ReleaseCurrentSubTransaction();
            pg_sys::MemoryContextSwitchTo(cxt);
            pg_sys::CurrentResourceOwner = owner;
            Ok(v)
        }))
        .catch_others(|e| {
            pg_sys::MemoryContextSwitchTo(cxt);
            pg_sys::RollbackAndReleaseCurrentSubTransaction();
            pg_sys::MemoryContextSwitchTo(cxt);
            pg_sys::CurrentResourceOwner = owner;
            let (code, message) = report(&e);
            if must_propagate(code) {
                e.rethrow();
            }
            Err(message)
        })
        .execute()
    }
}
