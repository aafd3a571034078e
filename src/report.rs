//! Raises what the rules return: each finding as an ERROR or WARNING with its own SQLSTATE,
//! DETAIL and HINT, depending on `citus_sidecar.mode` and `citus_sidecar.rule_overrides`.
//!
//! pgrx's `ErrorReport` only carries PostgreSQL's predefined SQLSTATEs, and an error that
//! crosses a pgrx FFI boundary is re-encoded with one of those; the rules' own `SCnnn` codes
//! would come out as XX000. So this module calls elog's API directly, and raises the ERROR
//! only from [`Pending::raise`], which its callers invoke once every Rust value with a
//! destructor has been dropped: the longjmp then crosses nothing that needs unwinding.

use std::ffi::{c_char, c_int, CString};

use pgrx::pg_sys;
use sidecar_rules::finding::make_sqlstate;
use sidecar_rules::policy::{self, Verdict};
use sidecar_rules::Finding;

use crate::gucs;

unsafe extern "C-unwind" {
    fn errstart(elevel: c_int, domain: *const c_char) -> bool;
    fn errcode(sqlerrcode: c_int) -> c_int;
    fn errmsg_internal(fmt: *const c_char, ...) -> c_int;
    fn errdetail_internal(fmt: *const c_char, ...) -> c_int;
    fn errhint(fmt: *const c_char, ...) -> c_int;
    fn errfinish(filename: *const c_char, lineno: c_int, funcname: *const c_char);
}

const ERROR: c_int = pg_sys::PGERROR as c_int; // elog.h ERROR (bindgen names it PGERROR)
const WARNING: c_int = pg_sys::WARNING as c_int;

/// A finding's text copied into PostgreSQL memory: nothing here needs dropping, which is what
/// lets [`Pending::raise`] longjmp out of the frames that hold one.
#[derive(Clone, Copy)]
pub struct Pending {
    sqlstate: c_int,
    message: *mut c_char,
    detail: *mut c_char,
    hint: *mut c_char,
}

// The invariant raise() relies on, checked by the compiler rather than stated.
const _: () = assert!(!std::mem::needs_drop::<Pending>());

fn pstrdup(s: &str) -> *mut c_char {
    let c = CString::new(s.replace('\0', " ")).unwrap_or_default();
    // SAFETY: pstrdup copies into CurrentMemoryContext, which outlives the ereport.
    unsafe { pg_sys::pstrdup(c.as_ptr()) }
}

impl Pending {
    fn from(f: &Finding) -> Pending {
        Pending {
            sqlstate: make_sqlstate(f.sqlstate()),
            message: pstrdup(&format!("{} [{}]", f.message, f.rule)),
            detail: if f.detail.is_empty() {
                std::ptr::null_mut()
            } else {
                pstrdup(&f.detail)
            },
            hint: if f.hint.is_empty() {
                std::ptr::null_mut()
            } else {
                pstrdup(&f.hint)
            },
        }
    }

    fn emit(self, elevel: c_int) {
        // SAFETY: the standard ereport sequence with PostgreSQL-owned strings.
        unsafe {
            if errstart(elevel, std::ptr::null()) {
                errcode(self.sqlstate);
                errmsg_internal(c"%s".as_ptr(), self.message);
                if !self.detail.is_null() {
                    errdetail_internal(c"%s".as_ptr(), self.detail);
                }
                if !self.hint.is_null() {
                    errhint(c"%s".as_ptr(), self.hint);
                }
                errfinish(c"citus_sidecar".as_ptr(), 0, c"citus_sidecar".as_ptr());
            }
        }
    }

    /// Raises the ERROR. Does not return. Call it only with no live Rust values on the stack
    /// between here and the PostgreSQL code that called into the sidecar.
    pub fn raise(self) -> ! {
        self.emit(ERROR);
        unreachable!("ereport(ERROR) returned")
    }
}

/// Emits the warnings now (a blocking finding let through by `allow_once` is one of them,
/// with the reason in its DETAIL) and returns the verdict, the hatch used and the blocking
/// finding, to be raised by the caller once its Rust values are dropped.
pub fn enforce(findings: &[Finding]) -> (Verdict, Option<String>, Option<Pending>) {
    if findings.is_empty() {
        return (Verdict::Allowed, None, None);
    }
    let overrides = gucs::rule_overrides();
    let hatches = gucs::hatches();
    let out = policy::apply(findings, gucs::mode(), &overrides, &hatches);
    for f in &out.warnings {
        match out.hatch.filter(|h| h.rule == f.rule) {
            Some(h) => {
                let mut f = (*f).clone();
                f.detail = format!(
                    "{} Allowed once for this transaction by citus_sidecar.allow_once: {}",
                    f.detail, h.reason
                );
                Pending::from(&f).emit(WARNING);
            }
            None => Pending::from(f).emit(WARNING),
        }
    }
    (
        out.verdict,
        out.hatch.map(|h| h.reason.clone()),
        out.error.map(Pending::from),
    )
}
