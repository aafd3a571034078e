//! Rule metadata-hand-edit: statements that change Citus's metadata relations (pg_dist_* in
//! pg_catalog: tables, the legacy view, sequences, and their indexes) from a client session.
//! Writes (INSERT/UPDATE/DELETE/MERGE, data-modifying CTEs) are seen by the ExecutorStart hook,
//! at every execution of a plan; TRUNCATE, COPY FROM, ALTER (including SET SCHEMA, RENAME and
//! OWNER), DROP, CREATE INDEX/TRIGGER/RULE/POLICY, GRANT/REVOKE and inheritance by the
//! ProcessUtility hook.
//!
//! Citus's own work is never blocked: its C code writes the catalogs without SQL or through SPI
//! (origin::spi_called_from_citus), its SQL-level work runs inside its own functions
//! (catalog::in_citus_work), and its internal connections are left alone.

use std::ffi::{CStr, CString};

use pgrx::pg_sys;
use sidecar_rules::metadata::{self, StatementKind};

use crate::statements::{self, Target};
use crate::{catalog, decisions, origin, report};

/// Decides on a statement of `kind` on `relid`; returns the ERROR to raise, if any.
/// `via_spi`: the statement runs through SPI, so C code may have issued it.
fn check_relation(
    kind: StatementKind,
    relid: pg_sys::Oid,
    via_spi: bool,
) -> Option<report::Pending> {
    if !kind.is_edit() || !catalog::is_metadata_relation(relid) || catalog::in_citus_work() {
        return None;
    }
    if via_spi && origin::spi_called_from_citus() {
        return None;
    }
    // SAFETY: syscache lookups for a relation that exists.
    let rel = unsafe {
        let tuple = pg_sys::SearchSysCache1(
            pg_sys::SysCacheIdentifier::RELOID as i32,
            pg_sys::Datum::from(relid),
        );
        if tuple.is_null() {
            return None;
        }
        let form = pg_sys::heap_tuple_get_struct::<pg_sys::FormData_pg_class>(tuple);
        let name = CStr::from_ptr((*form).relname.data.as_ptr())
            .to_string_lossy()
            .into_owned();
        let relkind = (*form).relkind as u8 as char;
        pg_sys::ReleaseSysCache(tuple);
        metadata::metadata_relation_of("pg_catalog", &name, relkind).unwrap_or(
            metadata::MetadataRelation {
                name,
                kind: metadata::RelKind::from_relkind(relkind),
            },
        )
    };
    let finding = metadata::check_statement(kind, &rel)?;
    let (verdict, hatch, error) = report::enforce(std::slice::from_ref(&finding));
    let name = rel.qualified();
    decisions::record(
        &format!("{} {name}", kind.operation()),
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
        // SPI hands a statement its own receiver; SQL functions and clients never do.
        let via_spi = !dest.is_null() && (*dest).mydest == pg_sys::CommandDest::DestSPI;
        let statement_kind = match (*stmt).commandType {
            pg_sys::CmdType::CMD_UPDATE => StatementKind::Update,
            pg_sys::CmdType::CMD_DELETE => StatementKind::Delete,
            pg_sys::CmdType::CMD_MERGE => StatementKind::Merge,
            // INSERT, and a SELECT whose data-modifying WITH writes (INSERT, UPDATE or DELETE:
            // each is an edit on a table).
            _ => StatementKind::Insert,
        };
        let results = (*stmt).resultRelations;
        let rtable = (*stmt).rtable;
        for rti in int_list(results) {
            if rti < 1 || rtable.is_null() || rti > (*rtable).length {
                continue;
            }
            let rte =
                (*(*rtable).elements.add(rti as usize - 1)).ptr_value as *mut pg_sys::RangeTblEntry;
            if let Some(e) = check_relation(statement_kind, (*rte).relid, via_spi) {
                return Some(e);
            }
        }
        None
    }
}

/// The integers of a PostgreSQL integer List.
///
/// # Safety
/// `list` is NIL or a valid integer List.
unsafe fn int_list(list: *mut pg_sys::List) -> impl Iterator<Item = i32> {
    // SAFETY: elements has `length` cells while the list is alive.
    let n = if list.is_null() {
        0
    } else {
        unsafe { (*list).length as usize }
    };
    (0..n).map(move |i| unsafe { (*(*list).elements.add(i)).int_value })
}

/// A relation named by a statement, looked up the way PostgreSQL would (pg_catalog first for an
/// unqualified name), but never raising: no permission checks on the schema, whose errors
/// PostgreSQL itself reports, untouched, after us.
fn relid_of(t: &Target) -> pg_sys::Oid {
    let Ok(name) = CString::new(t.name.as_str()) else {
        return pg_sys::InvalidOid;
    };
    // SAFETY: plain catalog lookups that return InvalidOid for what does not exist.
    unsafe {
        match &t.schema {
            None => pg_sys::RelnameGetRelid(name.as_ptr()),
            Some(schema) => {
                let Ok(schema) = CString::new(schema.as_str()) else {
                    return pg_sys::InvalidOid;
                };
                let nsp = pg_sys::get_namespace_oid(schema.as_ptr(), true);
                if nsp == pg_sys::InvalidOid {
                    return pg_sys::InvalidOid;
                }
                pg_sys::get_relname_relid(name.as_ptr(), nsp)
            }
        }
    }
}

/// The ProcessUtility hook's view: a statement that changes relations (statements.rs).
///
/// # Safety
/// `stmt` is the utility statement of the PlannedStmt given to ProcessUtility.
pub unsafe fn check_utility(stmt: *mut pg_sys::Node) -> Option<report::Pending> {
    // SAFETY: as documented.
    let (kind, targets) = unsafe { statements::relation_statement(stmt)? };
    targets
        .iter()
        .find_map(|t| check_relation(kind, relid_of(t), false))
}
