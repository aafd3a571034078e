//! Who issued a statement that writes Citus metadata: Citus's own C code, or someone else.
//!
//! Citus writes most of its catalogs from C without SQL, but some of its C code does run SQL
//! through SPI (marking objects distributed: `INSERT INTO pg_catalog.pg_dist_object ...`), from
//! its UDFs and from its DDL propagation alike. Such a statement reaches our ExecutorStart hook
//! with an SPI destination, and the nearest code on the call stack that is neither PostgreSQL
//! nor the sidecar is in citus.so. A user's PL/pgSQL block also runs SQL through SPI, but then
//! the nearest such code is plpgsql.so; a client's statement does not run through SPI at all.
//! So a metadata write is Citus's own when it came through SPI and the innermost foreign frame
//! on the stack belongs to citus.so. The stack is read only for writes to pg_dist_* tables.

use std::ffi::{c_void, CStr};

use pgrx::pg_sys;

/// The object file that holds `addr`, if the dynamic loader knows it.
fn object_of(addr: *const c_void) -> Option<(*mut c_void, String)> {
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads the loader's tables.
    if unsafe { libc::dladdr(addr, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated path owned by the loader.
    let name = unsafe { CStr::from_ptr(info.dli_fname) }.to_string_lossy().into_owned();
    Some((info.dli_fbase, name))
}

/// True when the innermost code on the stack that is neither the postgres executable nor this
/// library is Citus's (citus.so).
pub fn called_from_citus_c_code() -> bool {
    let mut frames = [std::ptr::null_mut::<c_void>(); 96];
    // SAFETY: backtrace fills at most frames.len() return addresses.
    let n = unsafe { libc::backtrace(frames.as_mut_ptr(), frames.len() as i32) };
    let ours = object_of(called_from_citus_c_code as *const c_void).map(|(b, _)| b);
    // A variable of the postgres executable (pg_sys functions are Rust wrappers in this library).
    let postgres = object_of(&raw const pg_sys::MyProcPid as *const c_void).map(|(b, _)| b);
    for &addr in frames.iter().take(n.max(0) as usize) {
        let Some((base, name)) = object_of(addr) else {
            return false;
        };
        if Some(base) == ours || Some(base) == postgres {
            continue;
        }
        return name.rsplit('/').next() == Some("citus.so");
    }
    false
}
