//! Hook installation. Citus must be loaded first (it refuses to load when these hooks are
//! already set); we save its hooks and chain them, so the sidecar runs before Citus.
//!
//! Calling the previous hooks. pgrx's `pg_guard_ffi_boundary` would turn an ERROR raised by
//! Citus (or by PostgreSQL under it) into a Rust panic and raise it again from our frame, rebuilt
//! from pgrx's table of SQLSTATEs: the error's CONTEXT, cursor position, schema/table/column
//! fields and any SQLSTATE outside that table (the guard's own `SCnnn` codes, raised in a nested
//! statement) would be lost, and Citus would no longer behave exactly as before. So the hooks
//! call the previous hook directly, as a C extension does, and keep this invariant: when they
//! do, no Rust value with a destructor is alive in their frame, so the longjmp of an ERROR
//! leaves nothing behind. Everything that allocates (rules, findings, SPI) runs in functions
//! that have returned before the call.

// PostgreSQL's own implementations, for when no other library set the hook before us (no Citus:
// the test double). Declared directly, not through pgrx's guarded wrappers, which would turn an
// ERROR raised under them into a Rust panic and raise it again rebuilt (or, from a hook that has
// no pgrx guard, abort the backend).
mod standard {
    use pgrx::pg_sys;
    unsafe extern "C-unwind" {
        pub fn standard_planner(
            parse: *mut pg_sys::Query,
            query_string: *const std::ffi::c_char,
            cursor_options: i32,
            bound_params: pg_sys::ParamListInfo,
        ) -> *mut pg_sys::PlannedStmt;
        pub fn standard_ExecutorStart(query_desc: *mut pg_sys::QueryDesc, eflags: i32);
        #[allow(clippy::too_many_arguments)]
        pub fn standard_ProcessUtility(
            pstmt: *mut pg_sys::PlannedStmt,
            query_string: *const std::ffi::c_char,
            read_only_tree: bool,
            context: pg_sys::ProcessUtilityContext::Type,
            params: pg_sys::ParamListInfo,
            query_env: *mut pg_sys::QueryEnvironment,
            dest: *mut pg_sys::DestReceiver,
            qc: *mut pg_sys::QueryCompletion,
        );
    }
}

mod executor;
mod fmgr;
mod planner;
mod utility;

pub fn init() {
    executor::init();
    fmgr::init();
    planner::init();
    utility::init();
}
