//! ExecutorStart_hook, chained in front of Citus's: a plan that writes Citus's metadata tables
//! (INSERT/UPDATE/DELETE/MERGE, data-modifying CTEs) is checked each time it starts, so a plan
//! cached while an escape hatch was open is checked again afterwards. A plan that only reads
//! (every routed query) costs one compare.

use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::{catalog, edits, gucs};

static mut PREV_EXECUTOR_START: pg_sys::ExecutorStart_hook_type = None;

pub fn init() {
    // SAFETY: _PG_init runs once in the postmaster, before any backend exists.
    unsafe {
        PREV_EXECUTOR_START = pg_sys::ExecutorStart_hook;
        pg_sys::ExecutorStart_hook = Some(sidecar_executor_start);
    }
}

/// No pgrx guard here: this runs for every statement, and a plan that only reads (every routed
/// query) costs a couple of compares. Plans that write go through the guarded [`check_writes`].
///
/// # Safety
/// PostgreSQL calls it as ExecutorStart_hook, with a valid QueryDesc.
unsafe extern "C-unwind" fn sidecar_executor_start(
    query_desc: *mut pg_sys::QueryDesc,
    eflags: i32,
) {
    // SAFETY: query_desc is PostgreSQL's; EXPLAIN without ANALYZE runs nothing.
    unsafe {
        let stmt = (*query_desc).plannedstmt;
        let writes = !stmt.is_null()
            && ((*stmt).commandType != pg_sys::CmdType::CMD_SELECT || (*stmt).hasModifyingCTE);
        if writes
            && eflags & pg_sys::EXEC_FLAG_EXPLAIN_ONLY as i32 == 0
            && gucs::mode() != sidecar_rules::Mode::Off
            && !catalog::internal_backend()
        {
            check_writes(query_desc);
        }
    }
    // SAFETY: see hooks/mod.rs on calling the previous hook.
    unsafe {
        match PREV_EXECUTOR_START {
            Some(prev) => prev(query_desc, eflags),
            None => super::standard::standard_ExecutorStart(query_desc, eflags),
        }
    }
}

/// A plan that writes: blocked (raises) when it edits Citus's metadata by hand.
///
/// # Safety
/// only from the ExecutorStart hook, with its QueryDesc.
#[pg_guard]
unsafe extern "C-unwind" fn check_writes(query_desc: *mut pg_sys::QueryDesc) {
    // SAFETY: query_desc is PostgreSQL's; `edit` is Copy, so the raise crosses no destructor.
    let edit = unsafe { edits::check_plan(query_desc) };
    if let Some(error) = edit {
        error.raise();
    }
}
