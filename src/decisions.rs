//! The decision log: every decision the guard takes on a distribution call or a metadata edit
//! (allowed, warned, blocked, allowed by the escape hatch), one JSON line each, appended to
//! `$PGDATA/citus_sidecar/decisions.jsonl`.
//!
//! A file, not a table: a blocked statement's transaction aborts, and its record must survive
//! that. Each record is one `write` with O_APPEND, so concurrent backends never interleave.
//! Read it with the view `citus_sidecar.guard_decisions`; only superusers can clear it. When it
//! grows past `citus_sidecar.decision_log_size` megabytes it is rotated: the file becomes
//! `decisions.jsonl.1` (replacing the previous one) and a new file starts.

use std::ffi::CStr;
use std::io::Write;
use std::path::PathBuf;

use pgrx::pg_sys;
use pgrx::prelude::*;
use sidecar_rules::record::Decision;

/// The current file and the rotated one, oldest first: what the log holds.
pub fn files() -> [PathBuf; 2] {
    let current = path();
    let mut rotated = current.clone().into_os_string();
    rotated.push(".1");
    [PathBuf::from(rotated), current]
}

/// Every record, oldest first.
pub fn read_all() -> String {
    files().iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect::<Vec<_>>().join("")
}

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
    let limit = crate::gucs::decision_log_size_mb() as u64 * 1024 * 1024;
    let result = std::fs::create_dir_all(path.parent().expect("has a parent")).and_then(|_| {
        if std::fs::metadata(&path).is_ok_and(|m| m.len() >= limit) {
            let [rotated, _] = files();
            std::fs::rename(&path, rotated)?;
        }
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
        f.write_all(line.as_bytes())
    });
    if let Err(e) = result {
        warning!("citus_sidecar could not record a guard decision in {}: {e}", path.display());
    }
}
