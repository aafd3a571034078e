//! citus-sidecar: loaded beside Citus on the coordinator (`shared_preload_libraries =
//! 'citus,citus-sidecar'`), it validates distribution DDL against the live Citus metadata
//! before Citus runs it.
//!
//! This file only wires modules. The rules live in the pgrx-free `sidecar-rules` crate; the
//! modules here turn parse trees and catalog rows into its types and raise what it returns.
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(not(panic = "unwind"))]
compile_error!("citus_sidecar must be built with panic = \"unwind\"");

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::{PgLogLevel, PgSqlErrorCode};

mod api;
mod calls;
mod catalog;
mod decisions;
mod edits;
mod facts;
mod gucs;
mod hooks;
mod monitor;
mod origin;
mod queries;
mod report;
mod reports;
mod rows;
mod statements;
mod subxact;
mod worker;

::pgrx::pg_module_magic!(name = c"citus-sidecar", version = c"0.2.0");

/// The name this library was loaded under (`citus-sidecar`, or the compatibility name
/// `citus_sidecar`: scripts/install.sh installs both as one file), for background workers,
/// which load it again by name.
pub fn library_name() -> String {
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads the dynamic loader's tables.
    let found = unsafe { libc::dladdr(library_name as *const std::ffi::c_void, &mut info) } != 0;
    if found && !info.dli_fname.is_null() {
        // SAFETY: a NUL-terminated path owned by the loader.
        let path = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) }
            .to_string_lossy()
            .into_owned();
        if let Some(stem) = std::path::Path::new(&path).file_stem() {
            return stem.to_string_lossy().into_owned();
        }
    }
    "citus-sidecar".to_string()
}

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    // SAFETY: reading a backend-global flag set by the postmaster while it loads libraries.
    let preloading = unsafe { pg_sys::process_shared_preload_libraries_in_progress };
    if !preloading {
        ErrorReport::new(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "citus-sidecar can only be loaded via shared_preload_libraries",
            "_PG_init",
        )
        .set_detail("Its guard hooks must be installed when the server starts, after Citus's.")
        .set_hint("Add this line to postgresql.conf and restart: shared_preload_libraries = 'citus,citus-sidecar'")
        .report(PgLogLevel::ERROR);
        return;
    }
    // An ERROR PostgreSQL raises under one of the sidecar's functions is re-raised by pgrx with
    // a Rust backtrace in its DETAIL when the server's environment has RUST_BACKTRACE set. No
    // DETAIL may ever carry one: backtraces are off for every backend this postmaster starts.
    // SAFETY: _PG_init runs in the single-threaded postmaster while it loads libraries.
    unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    gucs::init();
    hooks::init();
    worker::init();
}
