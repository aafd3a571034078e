//! The decision log: every decision the guard takes on a distribution call or a metadata edit
//! (allowed, warned, blocked, allowed by the escape hatch), one JSON line each, appended to
//! `$PGDATA/citus_sidecar/decisions.jsonl`.
//!
//! A file, not a table: a blocked statement's transaction aborts, and its record must survive
//! that. Each record is one `write` with O_APPEND, so concurrent backends never interleave.
//! Read it with the view `citus_sidecar.guard_decisions`; only superusers can clear it.

use std::ffi::CStr;
use std::io::Write;
use std::path::PathBuf;

use pgrx::pg_sys;
use pgrx::prelude::*;
use sidecar_rules::record::Decision;

pub fn path() -> PathBuf {
    // SAFETY: DataDir is set for every backend before any query runs.
    let dir = unsafe { CStr::from_ptr(pg_sys::DataDir) }.to_string_lossy().into_owned();
    PathBuf::from(dir).join("citus_sidecar").join("decisions.jsonl")
}

fn cstr_or(p: *const std::ffi::c_char, default: &str) -> String {
    if p.is_null() {
        default.to_string()
    } else {
        // SAFETY: a NUL-terminated string owned by PostgreSQL.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// Appends one decision. An I/O failure is a WARNING, never a failed statement.
pub fn record(subject: &str, table: Option<&str>, rules: &[&str], verdict: &str, reason: Option<&str>) {
    // SAFETY: backend globals and catalog lookups inside a transaction.
    let (at, pid, role, database, statement) = unsafe {
        (
            pg_sys::GetCurrentTimestamp(),
            pg_sys::MyProcPid,
            cstr_or(pg_sys::GetUserNameFromId(pg_sys::GetUserId(), true), "?"),
            cstr_or(pg_sys::get_database_name(pg_sys::MyDatabaseId), "?"),
            cstr_or(pg_sys::debug_query_string, ""),
        )
    };
    let line = Decision {
        at,
        pid,
        role: &role,
        database: &database,
        subject,
        table,
        statement: &statement,
        rules,
        verdict,
        reason,
    }
    .to_json_line();
    let path = path();
    let result = std::fs::create_dir_all(path.parent().expect("has a parent")).and_then(|_| {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
        f.write_all(line.as_bytes())
    });
    if let Err(e) = result {
        warning!("citus_sidecar could not record a guard decision in {}: {e}", path.display());
    }
}
