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
