//! needs_fmgr_hook / fmgr_hook. PostgreSQL asks `needs_fmgr_hook` once per function lookup
//! (non-builtin functions only). Two kinds of function get a yes:
//! - Citus's distribution functions: every call then passes `fmgr_hook` before it runs, however
//!   it was planned; a call the planner hook did not route (inlined from a SQL-language function)
//!   is checked here (calls::check_unrouted_call).
//! - Citus's own PL/pgSQL and SQL functions: `fmgr_hook` counts them in and out, so metadata
//!   edits they make are recognised as Citus's own work.

use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::{calls, catalog};

static mut PREV_NEEDS: pg_sys::needs_fmgr_hook_type = None;
static mut PREV_FMGR: pg_sys::fmgr_hook_type = None;

pub fn init() {
    // SAFETY: _PG_init runs once in the postmaster, before any backend exists.
    unsafe {
        PREV_NEEDS = pg_sys::needs_fmgr_hook;
        PREV_FMGR = pg_sys::fmgr_hook;
        pg_sys::needs_fmgr_hook = Some(sidecar_needs_fmgr_hook);
        pg_sys::fmgr_hook = Some(sidecar_fmgr_hook);
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn sidecar_needs_fmgr_hook(fn_oid: pg_sys::Oid) -> bool {
    // SAFETY: copying the saved pointer; nothing with a destructor is alive here.
    if let Some(prev) = unsafe { PREV_NEEDS } {
        if unsafe { prev(fn_oid) } {
            return true;
        }
    }
    catalog::watched_cached(fn_oid).is_some() || catalog::is_citus_sql_function(fn_oid)
}

#[pg_guard]
unsafe extern "C-unwind" fn sidecar_fmgr_hook(
    event: pg_sys::FmgrHookEventType::Type,
    flinfo: *mut pg_sys::FmgrInfo,
    private: *mut pg_sys::Datum,
) {
    // SAFETY: as above; the previous hook (e.g. sepgsql's) sees every event first.
    if let Some(prev) = unsafe { PREV_FMGR } {
        unsafe { prev(event, flinfo, private) };
    }
    if flinfo.is_null() {
        return;
    }
    // SAFETY: flinfo is PostgreSQL's.
    let fn_oid = unsafe { (*flinfo).fn_oid };
    if catalog::is_citus_sql_function(fn_oid) {
        // Citus's own PL/pgSQL and SQL functions: what they do to the metadata is Citus's work.
        match event {
            pg_sys::FmgrHookEventType::FHET_START => catalog::enter_citus_function(),
            _ => catalog::leave_citus_function(),
        }
        return;
    }
    if event != pg_sys::FmgrHookEventType::FHET_START {
        return;
    }
    // SAFETY: flinfo is PostgreSQL's; the check holds no Rust value across the raise.
    if let Some(error) = unsafe { calls::check_unrouted_call(flinfo) } {
        error.raise();
    }
}
