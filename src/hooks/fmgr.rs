//! needs_fmgr_hook / fmgr_hook. PostgreSQL asks `needs_fmgr_hook` once per lookup of a function
//! that is not built in. The sidecar says yes for:
//! - Citus's distribution functions (and other SQL names of their C entry points): every call
//!   then passes `fmgr_hook` before it runs, however it was planned; a call the planner hook did
//!   not route (inlined from a SQL-language function) is checked here
//!   (calls::check_unrouted_call).
//! - Citus's own SQL and PL/pgSQL functions, and any function looked up while one of those runs:
//!   `fmgr_hook` keeps the stack of them, so a metadata edit is Citus's work exactly when the
//!   innermost of them is Citus's (a trigger or event trigger of the user's firing inside a Citus
//!   function is not).
//!
//! In mode off it says no to everything (functions looked up before the switch still pass the
//! hook, which then does nothing but keep its stack balanced). On Citus's internal connections
//! only the distribution functions are checked: everything else there is Citus's work.

use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::catalog::{self, FnKind};
use crate::{calls, gucs};

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

/// # Safety
/// PostgreSQL calls it as needs_fmgr_hook, with a valid function OID.
#[pg_guard]
unsafe extern "C-unwind" fn sidecar_needs_fmgr_hook(fn_oid: pg_sys::Oid) -> bool {
    // SAFETY: copying the saved pointer; nothing with a destructor is alive here.
    if let Some(prev) = unsafe { PREV_NEEDS } {
        if unsafe { prev(fn_oid) } {
            return true;
        }
    }
    // SAFETY: reading backend state.
    if fn_oid.to_u32() < pg_sys::FirstNormalObjectId
        || gucs::mode() == sidecar_rules::Mode::Off
        || unsafe { !pg_sys::IsTransactionState() }
    {
        return false;
    }
    match catalog::function_kind(fn_oid) {
        FnKind::Watched { .. } => true,
        FnKind::CitusSql | FnKind::CitusRunner => !catalog::internal_backend(),
        FnKind::CitusC => false,
        FnKind::Ours { guard } => !guard && catalog::sql_outdated(),
        FnKind::Other => catalog::inside_citus_function(),
    }
}

/// Does the stack of running functions (catalog::in_citus_work) include this one?
fn tracked(kind: FnKind) -> bool {
    match kind {
        FnKind::CitusSql | FnKind::CitusRunner | FnKind::Watched { sql_body: true, .. } => true,
        FnKind::Other => catalog::inside_citus_function(),
        FnKind::Watched {
            sql_body: false, ..
        }
        | FnKind::CitusC
        | FnKind::Ours { .. } => false,
    }
}

/// # Safety
/// PostgreSQL calls it as fmgr_hook, with the FmgrInfo and private datum of a call it asked to see.
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
    let kind = catalog::function_kind(fn_oid);
    if event != pg_sys::FmgrHookEventType::FHET_START {
        catalog::leave_function(fn_oid);
        return;
    }
    if kind == (FnKind::Ours { guard: false }) && catalog::sql_outdated() {
        outdated_sql(fn_oid);
    }
    if matches!(kind, FnKind::Watched { .. }) {
        // SAFETY: flinfo is PostgreSQL's; the check holds no Rust value across the raise.
        if let Some(error) = unsafe { calls::check_unrouted_call(flinfo) } {
            error.raise();
        }
    }
    if tracked(kind) {
        catalog::enter_function(fn_oid, kind);
    }
}

/// The library was replaced by a newer one and the extension's SQL not updated yet: its
/// functions may no longer match what the library does. Say so, before running any of them.
fn outdated_sql(fn_oid: pg_sys::Oid) -> ! {
    // SAFETY: a syscache-backed name lookup.
    let name = unsafe {
        let n = pg_sys::get_func_name(fn_oid);
        if n.is_null() {
            "?".to_string()
        } else {
            std::ffi::CStr::from_ptr(n).to_string_lossy().into_owned()
        }
    };
    pgrx::pg_sys::panic::ErrorReport::new(
        pgrx::PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
        format!(
            "citus_sidecar.{name}: the citus-sidecar library is version {} but this database's extension is another version",
            env!("CARGO_PKG_VERSION")
        ),
        "outdated_sql",
    )
    .set_detail("The library was upgraded and the extension's SQL was not; the guard keeps working meanwhile.")
    .set_hint("Run: ALTER EXTENSION \"citus-sidecar\" UPDATE;")
    .report(pgrx::PgLogLevel::ERROR);
    unreachable!("ERROR returned")
}
