//! ProcessUtility_hook, chained in front of Citus's. It watches the statements that change
//! `citus.shard_count` for a session, a role, a database or the server (SET, SET LOCAL, RESET,
//! ALTER ROLE/DATABASE ... SET, ALTER SYSTEM) and warns at once when the new value matches no
//! existing colocation group. Every other statement is recognised as not ours by its node tag.

use std::ffi::{c_char, CStr};

use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::{catalog, edits, facts, report};

static mut PREV_UTILITY: pg_sys::ProcessUtility_hook_type = None;

pub fn init() {
    // SAFETY: _PG_init runs once in the postmaster, before any backend exists.
    unsafe {
        PREV_UTILITY = pg_sys::ProcessUtility_hook;
        pg_sys::ProcessUtility_hook = Some(sidecar_utility);
    }
}

const SHARD_COUNT: &CStr = c"citus.shard_count";

/// How a statement changes citus.shard_count.
enum Change {
    /// The value is in the statement (ALTER ROLE/DATABASE ... SET, ALTER SYSTEM): check it.
    Value(&'static str, *mut pg_sys::VariableSetStmt),
    /// The session's value changes (SET, SET LOCAL, RESET): check the effective value after.
    Session(&'static str),
}

/// Cheap: a tag compare, and a strcmp only for SET-like statements.
unsafe fn shard_count_change(pstmt: *mut pg_sys::PlannedStmt) -> Option<Change> {
    // SAFETY: pstmt is the utility statement PostgreSQL passes to the hook.
    unsafe {
        let stmt = (*pstmt).utilityStmt;
        if stmt.is_null() {
            return None;
        }
        let names_it = |set: *mut pg_sys::VariableSetStmt| -> bool {
            !set.is_null() && !(*set).name.is_null() && CStr::from_ptr((*set).name) == SHARD_COUNT
        };
        match (*stmt).type_ {
            pg_sys::NodeTag::T_VariableSetStmt => {
                let set = stmt as *mut pg_sys::VariableSetStmt;
                let reset_all = (*set).kind == pg_sys::VariableSetKind::VAR_RESET_ALL;
                if !(names_it(set) || reset_all) {
                    return None;
                }
                Some(Change::Session(match (*set).kind {
                    pg_sys::VariableSetKind::VAR_SET_VALUE if (*set).is_local => "SET LOCAL citus.shard_count",
                    pg_sys::VariableSetKind::VAR_SET_VALUE => "SET citus.shard_count",
                    _ => "RESET citus.shard_count",
                }))
            }
            pg_sys::NodeTag::T_AlterRoleSetStmt => {
                let set = (*(stmt as *mut pg_sys::AlterRoleSetStmt)).setstmt;
                names_it(set).then_some(Change::Value("ALTER ROLE ... SET citus.shard_count", set))
            }
            pg_sys::NodeTag::T_AlterDatabaseSetStmt => {
                let set = (*(stmt as *mut pg_sys::AlterDatabaseSetStmt)).setstmt;
                names_it(set).then_some(Change::Value("ALTER DATABASE ... SET citus.shard_count", set))
            }
            pg_sys::NodeTag::T_AlterSystemStmt => {
                let set = (*(stmt as *mut pg_sys::AlterSystemStmt)).setstmt;
                names_it(set).then_some(Change::Value("ALTER SYSTEM SET citus.shard_count", set))
            }
            _ => None,
        }
    }
}

/// Warns when `value` matches no populated colocation group.
fn warn_about(value: Option<String>, how: &str) {
    let Some(n) = value.and_then(|v| v.trim().trim_matches('\'').parse::<i32>().ok()) else {
        return;
    };
    let how = format!("{how} = {n}");
    if let Some(f) = sidecar_rules::check_shard_count_setting(n, &how, &facts::cluster()) {
        // A warning-only finding: decide() emits it and never returns an error for it.
        let _ = report::decide(std::slice::from_ref(&f));
    }
}

#[inline]
fn is_table_statement(tag: pg_sys::NodeTag) -> bool {
    matches!(
        tag,
        pg_sys::NodeTag::T_TruncateStmt
            | pg_sys::NodeTag::T_CopyStmt
            | pg_sys::NodeTag::T_AlterTableStmt
            | pg_sys::NodeTag::T_RenameStmt
            | pg_sys::NodeTag::T_DropStmt
    )
}

fn guard_active() -> bool {
    // SAFETY: reading backend state.
    let aborted = unsafe { pg_sys::IsAbortedTransactionBlockState() };
    !aborted && crate::gucs::mode() != sidecar_rules::Mode::Off && catalog::is_active()
}

#[pg_guard]
#[allow(clippy::too_many_arguments)]
unsafe extern "C-unwind" fn sidecar_utility(
    pstmt: *mut pg_sys::PlannedStmt,
    query_string: *const c_char,
    read_only_tree: bool,
    context: pg_sys::ProcessUtilityContext::Type,
    params: pg_sys::ParamListInfo,
    query_env: *mut pg_sys::QueryEnvironment,
    dest: *mut pg_sys::DestReceiver,
    qc: *mut pg_sys::QueryCompletion,
) {
    // SAFETY: pstmt is valid for the duration of the hook; edits::check_utility reads only
    // the few statement kinds that name tables.
    let edit = unsafe {
        let stmt = (*pstmt).utilityStmt;
        if !stmt.is_null() && is_table_statement((*stmt).type_) && guard_active() {
            edits::check_utility(stmt)
        } else {
            None
        }
    };
    if let Some(error) = edit {
        error.raise();
    }
    // SAFETY: as above.
    let change = unsafe { shard_count_change(pstmt) };
    if let Some(Change::Value(how, set)) = &change {
        if guard_active() {
            // SAFETY: ExtractSetVariableArgs reads the statement's argument list.
            let value = unsafe {
                let v = pg_sys::ExtractSetVariableArgs(*set);
                (!v.is_null()).then(|| CStr::from_ptr(v).to_string_lossy().into_owned())
            };
            warn_about(value, how);
        }
    }
    // SAFETY: the previous hook is Citus's citus_ProcessUtility. No value with a destructor is
    // alive in this frame (`change` holds a pointer and a &'static str), so an ERROR's longjmp
    // passes it untouched (see hooks/mod.rs).
    unsafe {
        match PREV_UTILITY {
            Some(prev) => prev(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc),
            None => pg_sys::standard_ProcessUtility(
                pstmt,
                query_string,
                read_only_tree,
                context,
                params,
                query_env,
                dest,
                qc,
            ),
        }
    }
    if let Some(Change::Session(how)) = change {
        if guard_active() {
            // SAFETY: GetConfigOption returns a pointer into GUC memory or NULL.
            let value = unsafe {
                let v = pg_sys::GetConfigOption(SHARD_COUNT.as_ptr(), true, false);
                (!v.is_null()).then(|| CStr::from_ptr(v).to_string_lossy().into_owned())
            };
            warn_about(value, how);
        }
    }
}
