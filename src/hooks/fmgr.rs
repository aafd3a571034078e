//! needs_fmgr_hook / fmgr_hook: the safety net behind the planner hook. PostgreSQL asks
//! `needs_fmgr_hook` once per function lookup (non-builtin functions only); answering yes for
//! Citus's distribution functions makes every call of them pass `fmgr_hook` before it runs,
//! however it was planned. It also keeps PostgreSQL from inlining a SQL-language function
//! around them... only when the SQL function itself is hooked, which it is not, so inlined calls
//! are caught here at execution (see calls::check_unrouted_call).

use pgrx::pg_sys;
use pgrx::pg_sys::ffi::pg_guard_ffi_boundary;
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
    // SAFETY: copying the saved pointer; calling it inside the FFI boundary.
    if let Some(prev) = unsafe { PREV_NEEDS } {
        #[allow(ffi_unwind_calls)]
        if unsafe { pg_guard_ffi_boundary(|| prev(fn_oid)) } {
            return true;
        }
    }
    catalog::watched(fn_oid).is_some()
}

#[pg_guard]
unsafe extern "C-unwind" fn sidecar_fmgr_hook(
    event: pg_sys::FmgrHookEventType::Type,
    flinfo: *mut pg_sys::FmgrInfo,
    private: *mut pg_sys::Datum,
) {
    // SAFETY: as above; the previous hook (e.g. sepgsql's) sees every event first.
    if let Some(prev) = unsafe { PREV_FMGR } {
        #[allow(ffi_unwind_calls)]
        unsafe {
            pg_guard_ffi_boundary(|| prev(event, flinfo, private))
        };
    }
    if event != pg_sys::FmgrHookEventType::FHET_START || flinfo.is_null() {
        return;
    }
    // SAFETY: flinfo is PostgreSQL's; the check holds no Rust value across the raise.
    if let Some(error) = unsafe { calls::check_unrouted_call(flinfo) } {
        error.raise();
    }
}
