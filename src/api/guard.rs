//! The guard's SQL surface: the escape hatch and the decision log.

use std::ffi::CString;

use pgrx::prelude::*;
use pgrx::{PgLogLevel, PgSqlErrorCode};
use sidecar_rules::hatch;

fn require_superuser(what: &str) {
    // SAFETY: a plain privilege check.
    if unsafe { !pg_sys::superuser() } {
        ereport!(
            PgLogLevel::ERROR,
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("only superusers can {what}"),
            "The guard's settings and record are superuser-only, so an application role cannot loosen or rewrite them."
        );
    }
}

/// Lets one named blocking rule through, with a reason, until the end of the current
/// transaction. Its use is recorded in the decision log with the reason.
#[pg_extern(volatile, parallel_unsafe)]
fn allow_once(rule: Option<&str>, reason: Option<&str>) {
    require_superuser("open the guard's escape hatch");
    let h = match hatch::validate(rule, reason) {
        Ok(h) => h,
        Err(msg) => {
            ereport!(
                PgLogLevel::ERROR,
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                msg
            );
            unreachable!("ereport(ERROR) returned")
        }
    };
    // SAFETY: reading transaction state.
    if unsafe { !pg_sys::IsTransactionBlock() } {
        ereport!(
            PgLogLevel::WARNING,
            PgSqlErrorCode::ERRCODE_WARNING,
            "citus_sidecar.allow_once lasts until the end of the current transaction, which is this statement",
            "Use it inside BEGIN ... COMMIT, before the statement it allows."
        );
    }
    let mut all = hatch::decode(&crate::gucs::allow_once_raw()).unwrap_or_default();
    all.retain(|x| x.rule != h.rule);
    all.push(h);
    let value = CString::new(hatch::encode(&all)).expect("validated: no NUL");
    // SAFETY: a transaction-local SET of our own superuser-only setting.
    unsafe {
        pg_sys::set_config_option(
            c"citus_sidecar.allow_once".as_ptr(),
            value.as_ptr(),
            pg_sys::GucContext::PGC_SUSET,
            pg_sys::GucSource::PGC_S_SESSION,
            pg_sys::GucAction::GUC_ACTION_LOCAL,
            true,
            0,
            false,
        );
    }
}

/// The raw decision log, one JSON document per line (read it through the view
/// citus_sidecar.guard_decisions).
#[pg_extern(volatile, parallel_safe)]
fn decision_log() -> SetOfIterator<'static, String> {
    SetOfIterator::new(crate::decisions::read_all())
}

/// Empties the decision log; returns how many records it held. Superuser only.
#[pg_extern(volatile, parallel_unsafe)]
fn clear_decisions() -> i64 {
    require_superuser("clear the guard's decision log");
    let n = crate::decisions::read_all().len();
    for path in crate::decisions::files() {
        if path.exists() {
            if let Err(e) = std::fs::write(&path, b"") {
                error!("could not clear {}: {e}", path.display());
            }
        }
    }
    n as i64
}
