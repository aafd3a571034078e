//! planner_hook: distribution calls are function calls inside queries (SELECT, PERFORM, DO,
//! SQL functions, prepared statements), so they reach the planner, not ProcessUtility. The hook
//! routes each one through `citus_sidecar.guarded_call`, which validates it with the values it
//! really runs with, right before Citus's function executes.

use std::ffi::c_char;

use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::{calls, catalog, gucs};

static mut PREV_PLANNER: pg_sys::planner_hook_type = None;

pub fn init() {
    // SAFETY: _PG_init runs once in the postmaster, before any backend exists.
    unsafe {
        PREV_PLANNER = pg_sys::planner_hook;
        pg_sys::planner_hook = Some(sidecar_planner);
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn sidecar_planner(
    parse: *mut pg_sys::Query,
    query_string: *const c_char,
    cursor_options: i32,
    bound_params: pg_sys::ParamListInfo,
) -> *mut pg_sys::PlannedStmt {
    // Nothing at all in mode off or on Citus's internal connections; otherwise a walk that
    // looks at the catalog only when the query calls a function not built into PostgreSQL.
    if gucs::mode() != sidecar_rules::Mode::Off && !catalog::internal_backend() {
        // SAFETY: `parse` is the planner's own tree; we only swap function OIDs/args in place.
        unsafe { calls::route_watched_calls(parse) };
    }
    // SAFETY: copying the saved pointer. No value with a destructor is alive in this frame, so
    // an ERROR's longjmp out of Citus's planner passes it untouched (see hooks/mod.rs).
    unsafe {
        match PREV_PLANNER {
            Some(prev) => prev(parse, query_string, cursor_options, bound_params),
            None => pg_sys::standard_planner(parse, query_string, cursor_options, bound_params),
        }
    }
}
