//! Rule metadata-hand-edit: INSERT/UPDATE/DELETE/MERGE (ExecutorStart hook) and TRUNCATE, COPY FROM,
//! ALTER TABLE, ALTER ... RENAME, DROP TABLE (ProcessUtility hook) on Citus's metadata tables,
//! from a client session. Citus's own work is never blocked: its C code writes the catalogs
//! without SQL, and its SQL-level work runs inside its own functions or on its internal
//! connections (catalog::in_citus_work).

use std::ffi::CStr;

use pgrx::pg_sys;

use crate::{catalog, decisions, origin, report};

/// Decides on an edit of `relid` by `operation`; returns the ERROR to raise, if any.
/// `via_spi`: the statement runs through SPI, so C code may have issued it.
fn decide(operation: &str, relid: pg_sys::Oid, via_spi: bool) -> Option<report::Pending> {
    if !catalog::is_metadata_table(relid) || catalog::in_citus_work() {
        return None;
    }
    if via_spi && origin::called_from_citus_c_code() {
        return None;
    }
    if crate::gucs::mode() == sidecar_rules::Mode::Off {
        return None;
    }
    // SAFETY: catalog lookups for a relation that exists.
    let name = unsafe {
        let rel = pg_sys::get_rel_name(relid);
        if rel.is_null() {
            return None;
        }
        format!("pg_catalog.{}", CStr::from_ptr(rel).to_string_lossy())
    };
    let finding = sidecar_rules::metadata::hand_edit(operation, &name);
    let (verdict, hatch, error) = report::decide(std::slice::from_ref(&finding));
    decisions::record(
        &format!("{operation} {name}"),
        Some(&name),
        &[finding.rule.as_str()],
        verdict.as_str(),
        hatch.as_deref(),
    );
    error
}

/// The executor's view: every result relation of the plan about to run (its own and those of
/// data-modifying CTEs). Checked at every execution, so a cached plan is checked again.
///
/// # Safety
/// `query_desc` is the QueryDesc given to ExecutorStart.
pub unsafe fn check_plan(query_desc: *mut pg_sys::QueryDesc) -> Option<report::Pending> {
    // SAFETY: reading a valid QueryDesc.
    unsafe {
        let stmt = (*query_desc).plannedstmt;
        let dest = (*query_desc).dest;
        let via_spi = !dest.is_null()
            && matches!((*dest).mydest, pg_sys::CommandDest::DestSPI | pg_sys::CommandDest::DestNone);
        let operation = match (*stmt).commandType {
            pg_sys::CmdType::CMD_INSERT => "INSERT",
            pg_sys::CmdType::CMD_UPDATE => "UPDATE",
            pg_sys::CmdType::CMD_DELETE => "DELETE",
            pg_sys::CmdType::CMD_MERGE => "MERGE",
            _ => "data-modifying WITH",
        };
        let results = (*stmt).resultRelations;
        let rtable = (*stmt).rtable;
        let n = if results.is_null() { 0 } else { (*results).length as usize };
        for i in 0..n {
            let rti = (*(*results).elements.add(i)).int_value;
            if rti < 1 || rtable.is_null() || rti > (*rtable).length {
                continue;
            }
            let rte = (*(*rtable).elements.add(rti as usize - 1)).ptr_value as *mut pg_sys::RangeTblEntry;
            if let Some(e) = decide(operation, (*rte).relid, via_spi) {
                return Some(e);
            }
        }
        None
    }
}

unsafe fn relid_of(rv: *mut pg_sys::RangeVar) -> pg_sys::Oid {
    if rv.is_null() {
        return pg_sys::InvalidOid;
    }
    // SAFETY: a name lookup without a lock; missing relations give InvalidOid.
    unsafe {
        pg_sys::RangeVarGetRelidExtended(
            rv,
            pg_sys::NoLock as _,
            pg_sys::RVROption::RVR_MISSING_OK,
            None,
            std::ptr::null_mut(),
        )
    }
}

/// Utility statements that touch a table: only these tags go further than one compare.
///
/// # Safety
/// `stmt` is the utility statement of the PlannedStmt given to ProcessUtility.
pub unsafe fn check_utility(stmt: *mut pg_sys::Node) -> Option<report::Pending> {
    // SAFETY: casts follow the node tag.
    unsafe {
        let each = |op: &str, list: *mut pg_sys::List, as_names: bool| -> Option<report::Pending> {
            let n = if list.is_null() { 0 } else { (*list).length as usize };
            for i in 0..n {
                let item = (*(*list).elements.add(i)).ptr_value;
                let rv = if as_names {
                    pg_sys::makeRangeVarFromNameList(item as *mut pg_sys::List)
                } else {
                    item as *mut pg_sys::RangeVar
                };
                if let Some(e) = decide(op, relid_of(rv), false) {
                    return Some(e);
                }
            }
            None
        };
        match (*stmt).type_ {
            pg_sys::NodeTag::T_TruncateStmt => {
                each("TRUNCATE", (*(stmt as *mut pg_sys::TruncateStmt)).relations, false)
            }
            pg_sys::NodeTag::T_CopyStmt => {
                let c = stmt as *mut pg_sys::CopyStmt;
                if (*c).is_from {
                    decide("COPY FROM", relid_of((*c).relation), false)
                } else {
                    None
                }
            }
            pg_sys::NodeTag::T_AlterTableStmt => {
                decide("ALTER TABLE", relid_of((*(stmt as *mut pg_sys::AlterTableStmt)).relation), false)
            }
            pg_sys::NodeTag::T_RenameStmt => {
                decide("ALTER TABLE ... RENAME", relid_of((*(stmt as *mut pg_sys::RenameStmt)).relation), false)
            }
            pg_sys::NodeTag::T_DropStmt => {
                let d = stmt as *mut pg_sys::DropStmt;
                if (*d).removeType == pg_sys::ObjectType::OBJECT_TABLE {
                    each("DROP TABLE", (*d).objects, true)
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}
