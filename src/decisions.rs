//! The decision log: every decision the guard takes on a distribution call or a metadata edit
//! (allowed, warned, blocked, allowed by the escape hatch), one JSON line each, appended to
//! `$PGDATA/citus_sidecar/decisions.jsonl`.
//!
//! A file, not a table: a blocked statement's transaction aborts, and its record must survive
//! that. Each record is one `write` with O_APPEND, so concurrent backends never interleave.
//! Read it with the view `citus_sidecar.guard_decisions`; only superusers can clear it.
//!
//! Records are kept on shelves (sidecar_rules::record::Shelf): superusers' decisions and every
//! use of the escape hatch in `decisions.jsonl`, which may grow to
//! `citus_sidecar.decision_log_size`; each other role's in a file of its own with a sixteenth of
//! that. A shelf past its budget is rotated (the file becomes `<file>.1`, replacing the previous
//! one), so a role that floods the log pushes out only its own older records.

use std::ffi::CStr;
use std::io::Write;
use std::path::PathBuf;

use pgrx::pg_sys;
use pgrx::prelude::*;
use sidecar_rules::record::{line_time, Decision, Shelf};

/// The log's directory.
pub fn dir() -> PathBuf {
    // SAFETY: DataDir is set for every backend before any query runs.
    let dir = unsafe { CStr::from_ptr(pg_sys::DataDir) }
        .to_string_lossy()
        .into_owned();
    PathBuf::from(dir).join("citus_sidecar")
}

/// Every file of the log, current and rotated, on every shelf.
pub fn files() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir()) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(Shelf::is_log_file))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// Every record of every shelf, oldest first.
pub fn read_all() -> Vec<String> {
    let mut lines: Vec<(i64, String)> = files()
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .flat_map(|text| {
            text.lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .map(|l| (line_time(&l).unwrap_or(i64::MIN), l))
        .collect();
    lines.sort_by_key(|(at, _)| *at);
    lines.into_iter().map(|(_, l)| l).collect()
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
pub fn record(
    subject: &str,
    table: Option<&str>,
    rules: &[&str],
    verdict: &str,
    reason: Option<&str>,
) {
    record_call(subject, table, rules, verdict, reason, None, None);
}

/// [`record`], with what a distribution call (or a repair) says about its table: its OID and
/// where the call puts it (`colocate_with`).
pub fn record_call(
    subject: &str,
    table: Option<&str>,
    rules: &[&str],
    verdict: &str,
    reason: Option<&str>,
    relid: Option<u32>,
    colocate_with: Option<&str>,
) {
    // SAFETY: backend globals and catalog lookups inside a transaction.
    let (at, pid, role_oid, superuser, role, database, statement) = unsafe {
        (
            pg_sys::GetCurrentTimestamp(),
            pg_sys::MyProcPid,
            pg_sys::GetUserId(),
            pg_sys::superuser(),
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
        relid,
        colocate_with,
    }
    .to_json_line();
    let shelf = Shelf::of(superuser, verdict, role_oid.to_u32());
    let path = dir().join(shelf.file_name());
    let limit = shelf.budget(crate::gucs::decision_log_size_mb() as u64 * 1024 * 1024);
    let result = std::fs::create_dir_all(dir()).and_then(|_| {
        if std::fs::metadata(&path).is_ok_and(|m| m.len() >= limit) {
            let mut rotated = path.clone().into_os_string();
            rotated.push(".1");
            std::fs::rename(&path, rotated)?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        f.write_all(line.as_bytes())
    });
    if let Err(e) = result {
        warning!(
            "citus_sidecar could not record a guard decision in {}: {e}",
            path.display()
        );
    }
}
