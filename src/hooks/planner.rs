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

/// No pgrx guard here: this runs for every planned query, and only its slow path (a query that
/// calls a function not built into PostgreSQL) needs one; that lives in [`route`]. What runs
/// here reads settings, walks the tree (calls::candidate_calls: no panic, no value with a
/// destructor) and chains.
///
/// # Safety
/// PostgreSQL calls it as planner_hook, with the arguments of planner().
unsafe extern "C-unwind" fn sidecar_planner(
    parse: *mut pg_sys::Query,
    query_string: *const c_char,
    cursor_options: i32,
    bound_params: pg_sys::ParamListInfo,
) -> *mut pg_sys::PlannedStmt {
    // Nothing at all in mode off or on Citus's internal connections; otherwise a walk that
    // looks at the catalog only when the query calls a function not built into PostgreSQL.
    if gucs::mode() != sidecar_rules::Mode::Off && !catalog::internal_backend() {
        // SAFETY: `parse` is the planner's own tree.
        let candidates = unsafe { calls::candidate_calls(parse) };
        if !candidates.is_null() {
            // SAFETY: as above; route() swaps function OIDs/args in place.
            unsafe { route(candidates) };
        }
    }
    // SAFETY: copying the saved pointer. No value with a destructor is alive in this frame, so
    // an ERROR's longjmp out of Citus's planner passes it untouched (see hooks/mod.rs).
    unsafe {
        match PREV_PLANNER {
            Some(prev) => prev(parse, query_string, cursor_options, bound_params),
            None => {
                super::standard::standard_planner(parse, query_string, cursor_options, bound_params)
            }
        }
    }
}

/// The planner hook's slow path, guarded: classify the candidates (catalog lookups) and route the
/// watched ones.
///
/// # Safety
/// only from the planner hook, with a list of FuncExprs of the query being planned.
#[pg_guard]
unsafe extern "C-unwind" fn route(candidates: *mut pg_sys::List) {
    // SAFETY: FuncExprs of the Query being planned.
    unsafe { calls::route_watched_calls(candidates) };
}
