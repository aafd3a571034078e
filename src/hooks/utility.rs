//! ProcessUtility_hook, chained in front of Citus's. It watches the statements that change
//! `citus.shard_count` for a session, a role, a database or the server (SET, SET LOCAL, RESET,
//! ALTER ROLE/DATABASE ... SET, ALTER SYSTEM) and warns at once when the new value matches no
//! existing colocation group. Every other statement is recognised as not ours by its node tag.

use std::ffi::{c_char, CStr};

use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::{catalog, edits, facts, report, statements};

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
///
/// # Safety
/// `pstmt` is the PlannedStmt PostgreSQL passes to ProcessUtility.
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
                    pg_sys::VariableSetKind::VAR_SET_VALUE if (*set).is_local => {
                        "SET LOCAL citus.shard_count"
                    }
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
                names_it(set).then_some(Change::Value(
                    "ALTER DATABASE ... SET citus.shard_count",
                    set,
                ))
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
        // A warning-only finding: enforce() emits it and never returns an error for it.
        let _ = report::enforce(std::slice::from_ref(&f));
    }
}

const CITUS_DDL_PROPAGATION: &CStr = c"citus.enable_ddl_propagation";

/// CREATE EXTENSION / ALTER EXTENSION / DROP EXTENSION of "citus-sidecar".
///
/// # Safety
/// `pstmt` is the PlannedStmt PostgreSQL passes to ProcessUtility.
unsafe fn own_extension_statement(pstmt: *mut pg_sys::PlannedStmt) -> bool {
    const OURS: &[u8] = b"citus-sidecar";
    // SAFETY: casts follow the node tag.
    unsafe {
        let stmt = (*pstmt).utilityStmt;
        if stmt.is_null() {
            return false;
        }
        let named = |p: *const c_char| !p.is_null() && CStr::from_ptr(p).to_bytes() == OURS;
        match (*stmt).type_ {
            pg_sys::NodeTag::T_CreateExtensionStmt => {
                named((*(stmt as *mut pg_sys::CreateExtensionStmt)).extname)
            }
            pg_sys::NodeTag::T_AlterExtensionStmt => {
                named((*(stmt as *mut pg_sys::AlterExtensionStmt)).extname)
            }
            pg_sys::NodeTag::T_AlterExtensionContentsStmt => {
                named((*(stmt as *mut pg_sys::AlterExtensionContentsStmt)).extname)
            }
            pg_sys::NodeTag::T_DropStmt => {
                let d = stmt as *mut pg_sys::DropStmt;
                (*d).removeType == pg_sys::ObjectType::OBJECT_EXTENSION
                    && statements::ptr_list::<pg_sys::String>((*d).objects)
                        .any(|s| named((*s).sval))
            }
            _ => false,
        }
    }
}

/// Is Citus loaded here (its setting exists) and propagating DDL right now?
///
/// # Safety
/// Call it in a backend with GUCs initialised (any hook).
unsafe fn turn_off_propagation() -> bool {
    // SAFETY: GetConfigOption with missing_ok returns NULL for an unknown setting.
    let v = unsafe { pg_sys::GetConfigOption(CITUS_DDL_PROPAGATION.as_ptr(), true, false) };
    !v.is_null() && unsafe { CStr::from_ptr(v) }.to_bytes() == b"on"
}

fn guard_active() -> bool {
    // SAFETY: reading backend state.
    let aborted = unsafe { pg_sys::IsAbortedTransactionBlockState() };
    !aborted
        && crate::gucs::mode() != sidecar_rules::Mode::Off
        && !catalog::internal_backend()
        && catalog::is_active()
}

/// # Safety
/// PostgreSQL calls it as ProcessUtility_hook, with the arguments of ProcessUtility.
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
        if !stmt.is_null() && statements::names_relations((*stmt).type_) && guard_active() {
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
    // The sidecar's own extension is never a distributed object: Citus would create it on every
    // worker and on every node added later, which fails wherever the sidecar is not installed and
    // preloaded (coordinator-only is the usual deployment). Citus propagates nothing while
    // citus.enable_ddl_propagation is off; it is turned off for this one statement.
    // SAFETY: as above.
    let nest = unsafe { own_extension_statement(pstmt) && turn_off_propagation() };
    let nest_level = if nest {
        unsafe { pg_sys::NewGUCNestLevel() }
    } else {
        0
    };
    if nest {
        // SAFETY: a GUC set at the new nesting level, undone by AtEOXact_GUC below or by the
        // transaction's abort.
        unsafe {
            pg_sys::set_config_option(
                CITUS_DDL_PROPAGATION.as_ptr(),
                c"off".as_ptr(),
                pg_sys::GucContext::PGC_SUSET,
                pg_sys::GucSource::PGC_S_SESSION,
                pg_sys::GucAction::GUC_ACTION_SAVE,
                true,
                0,
                false,
            );
        }
    }
    // SAFETY: the previous hook is Citus's citus_ProcessUtility. No value with a destructor is
    // alive in this frame (`change` holds a pointer and a &'static str), so an ERROR's longjmp
    // passes it untouched (see hooks/mod.rs).
    unsafe {
        match PREV_UTILITY {
            Some(prev) => prev(
                pstmt,
                query_string,
                read_only_tree,
                context,
                params,
                query_env,
                dest,
                qc,
            ),
            None => super::standard::standard_ProcessUtility(
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
    if nest {
        // SAFETY: pops the nesting level pushed above.
        unsafe { pg_sys::AtEOXact_GUC(true, nest_level) };
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
