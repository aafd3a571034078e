//! Who ran a statement that writes Citus metadata through SPI: Citus's own C code, or someone
//! else's code (a PL/pgSQL function, another extension).
//!
//! Citus writes most of its catalogs from C without SQL, but some of its C code does run SQL
//! through SPI (marking objects distributed: `INSERT INTO pg_catalog.pg_dist_object ...`), from
//! its UDFs and from its DDL propagation alike. The statement reaches our ExecutorStart hook
//! with an SPI destination. Above the hook, the call stack holds any ExecutorStart hooks that
//! wrap ours (pg_stat_statements, auto_explain, ...), then PostgreSQL's executor and SPI, then
//! the code that called SPI. That caller decides: the write is Citus's own when it is in the
//! library that holds Citus's distribution functions (found by their addresses, not by a file
//! name). Which hooks wrap ours, and in what order, does not matter.

use std::ffi::c_void;

use pgrx::pg_sys;

use crate::catalog;

/// True when the statement now starting was handed to SPI by Citus's C code. Only called for
/// writes to Citus metadata through SPI, so the cost of reading the stack is paid rarely.
pub fn spi_called_from_citus() -> bool {
    let citus = catalog::citus_object_base();
    if citus == 0 {
        return false;
    }
    // A variable of the postgres executable (pg_sys functions are wrappers in this library).
    let Some(postgres) = catalog::object_base(&raw const pg_sys::MyProcPid as *const c_void) else {
        return false;
    };
    let mut frames = [std::ptr::null_mut::<c_void>(); 256];
    // SAFETY: backtrace fills at most frames.len() return addresses.
    let n = unsafe { libc::backtrace(frames.as_mut_ptr(), frames.len() as i32) }.max(0) as usize;
    let mut in_postgres = false;
    for &addr in &frames[..n] {
        let Some(base) = catalog::object_base(addr) else {
            return false;
        };
        if base == postgres {
            in_postgres = true;
            continue;
        }
        if in_postgres {
            // The first frame outside PostgreSQL beyond its executor and SPI: SPI's caller.
            return base == citus;
        }
        // Still above the executor: this library's frames and hooks that wrap ours.
    }
    false
}
