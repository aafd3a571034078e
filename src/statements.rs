//! Which relations a utility statement changes, and how (sidecar_rules::metadata::StatementKind):
//! read once from PostgreSQL's parse tree, for the guard (ProcessUtility hook, which resolves the
//! names to relations) and for check_ddl (which checks the names), so they cannot disagree.

use std::ffi::{c_char, CStr};

use pgrx::pg_sys;
use sidecar_rules::metadata::StatementKind;

/// A relation as the statement names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub schema: Option<String>,
    pub name: String,
}

fn cstr(p: *const c_char) -> Option<String> {
    // SAFETY: a NUL-terminated string from a parse tree, or NULL.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// The pointers of a PostgreSQL List (empty for NIL).
///
/// # Safety
/// `list` is NIL or a valid pointer List that outlives the iterator.
pub unsafe fn ptr_list<T>(list: *mut pg_sys::List) -> impl Iterator<Item = *mut T> {
    // SAFETY: elements has `length` cells while the list is alive.
    let n = if list.is_null() {
        0
    } else {
        unsafe { (*list).length as usize }
    };
    (0..n).map(move |i| unsafe { (*(*list).elements.add(i)).ptr_value as *mut T })
}

/// A RangeVar's names.
///
/// # Safety
/// `rv` is NULL or a valid RangeVar.
pub unsafe fn target_of(rv: *mut pg_sys::RangeVar) -> Option<Target> {
    if rv.is_null() {
        return None;
    }
    // SAFETY: as documented.
    unsafe {
        Some(Target {
            schema: cstr((*rv).schemaname),
            name: cstr((*rv).relname)?,
        })
    }
}

/// A qualified-name list (`[catalog.][schema.]name`, String nodes); `drop_last` for the
/// `table.trigger` lists of DROP TRIGGER/RULE/POLICY.
///
/// # Safety
/// `names` is NIL or a List of String nodes.
unsafe fn target_of_names(names: *mut pg_sys::List, drop_last: bool) -> Option<Target> {
    // SAFETY: name lists hold String nodes.
    let mut parts: Vec<Option<String>> = unsafe {
        ptr_list::<pg_sys::String>(names)
            .map(|s| cstr((*s).sval))
            .collect()
    };
    if drop_last {
        parts.pop();
    }
    match parts.as_slice() {
        [Some(rel)] => Some(Target {
            schema: None,
            name: rel.clone(),
        }),
        [Some(schema), Some(rel)] | [_, Some(schema), Some(rel)] => Some(Target {
            schema: Some(schema.clone()),
            name: rel.clone(),
        }),
        _ => None,
    }
}

/// # Safety
/// `list` is NIL or a List of RangeVars.
unsafe fn targets(list: *mut pg_sys::List) -> Vec<Target> {
    // SAFETY: a List of RangeVars.
    unsafe {
        ptr_list::<pg_sys::RangeVar>(list)
            .filter_map(|rv| target_of(rv))
            .collect()
    }
}

/// # Safety
/// `rv` is NULL or a valid RangeVar.
unsafe fn one(rv: *mut pg_sys::RangeVar) -> Vec<Target> {
    // SAFETY: as above.
    unsafe { target_of(rv).into_iter().collect() }
}

/// Is `tag` one of the statements [`relation_statement`] reads? (One compare per statement.)
pub fn names_relations(tag: pg_sys::NodeTag) -> bool {
    use pg_sys::NodeTag::*;
    matches!(
        tag,
        T_TruncateStmt
            | T_CopyStmt
            | T_AlterTableStmt
            | T_AlterSeqStmt
            | T_RenameStmt
            | T_AlterObjectSchemaStmt
            | T_DropStmt
            | T_IndexStmt
            | T_CreateTrigStmt
            | T_RuleStmt
            | T_CreatePolicyStmt
            | T_AlterPolicyStmt
            | T_GrantStmt
            | T_CommentStmt
            | T_LockStmt
    )
}

/// What a utility statement does to which relations, or None when it names none.
///
/// # Safety
/// `stmt` is a valid utility statement node (raw or analysed).
pub unsafe fn relation_statement(stmt: *mut pg_sys::Node) -> Option<(StatementKind, Vec<Target>)> {
    use pg_sys::NodeTag::*;
    use pg_sys::ObjectType::*;
    use StatementKind as K;
    // SAFETY: casts follow the node tag.
    unsafe {
        Some(match (*stmt).type_ {
            T_TruncateStmt => (
                K::Truncate,
                targets((*(stmt as *mut pg_sys::TruncateStmt)).relations),
            ),
            T_CopyStmt => {
                let c = stmt as *mut pg_sys::CopyStmt;
                (
                    if (*c).is_from { K::CopyFrom } else { K::CopyTo },
                    one((*c).relation),
                )
            }
            T_AlterTableStmt => {
                let a = stmt as *mut pg_sys::AlterTableStmt;
                let kind = match (*a).objtype {
                    OBJECT_INDEX => K::AlterIndex,
                    OBJECT_VIEW | OBJECT_MATVIEW => K::AlterView,
                    OBJECT_SEQUENCE => K::AlterSequence,
                    _ => K::AlterTable,
                };
                (kind, one((*a).relation))
            }
            T_AlterSeqStmt => (
                K::AlterSequence,
                one((*(stmt as *mut pg_sys::AlterSeqStmt)).sequence),
            ),
            T_RenameStmt => (
                K::Rename,
                one((*(stmt as *mut pg_sys::RenameStmt)).relation),
            ),
            T_AlterObjectSchemaStmt => (
                K::SetSchema,
                one((*(stmt as *mut pg_sys::AlterObjectSchemaStmt)).relation),
            ),
            T_IndexStmt => (
                K::CreateIndex,
                one((*(stmt as *mut pg_sys::IndexStmt)).relation),
            ),
            T_CreateTrigStmt => (
                K::CreateTrigger,
                one((*(stmt as *mut pg_sys::CreateTrigStmt)).relation),
            ),
            T_RuleStmt => (
                K::CreateRule,
                one((*(stmt as *mut pg_sys::RuleStmt)).relation),
            ),
            T_CreatePolicyStmt => (
                K::CreatePolicy,
                one((*(stmt as *mut pg_sys::CreatePolicyStmt)).table),
            ),
            T_AlterPolicyStmt => (
                K::AlterPolicy,
                one((*(stmt as *mut pg_sys::AlterPolicyStmt)).table),
            ),
            T_LockStmt => (
                K::Lock,
                targets((*(stmt as *mut pg_sys::LockStmt)).relations),
            ),
            T_CommentStmt => (K::CommentOn, Vec::new()),
            T_DropStmt => {
                let d = stmt as *mut pg_sys::DropStmt;
                let (kind, member) = match (*d).removeType {
                    OBJECT_TABLE => (K::DropTable, false),
                    OBJECT_INDEX => (K::DropIndex, false),
                    OBJECT_SEQUENCE => (K::DropSequence, false),
                    OBJECT_VIEW => (K::DropView, false),
                    OBJECT_TRIGGER => (K::DropTrigger, true),
                    OBJECT_RULE => (K::DropRule, true),
                    OBJECT_POLICY => (K::DropPolicy, true),
                    _ => return None,
                };
                let list = ptr_list::<pg_sys::List>((*d).objects)
                    .filter_map(|n| target_of_names(n, member))
                    .collect();
                (kind, list)
            }
            T_GrantStmt => {
                let g = stmt as *mut pg_sys::GrantStmt;
                let kind = if (*g).is_grant { K::Grant } else { K::Revoke };
                if !matches!((*g).objtype, OBJECT_TABLE | OBJECT_SEQUENCE) {
                    return None;
                }
                if (*g).targtype == pg_sys::GrantTargetType::ACL_TARGET_OBJECT {
                    (kind, targets((*g).objects))
                } else if (*g).targtype == pg_sys::GrantTargetType::ACL_TARGET_ALL_IN_SCHEMA {
                    // ... ON ALL TABLES IN SCHEMA pg_catalog includes Citus's tables.
                    let catalog = ptr_list::<pg_sys::String>((*g).objects)
                        .any(|s| cstr((*s).sval).as_deref() == Some("pg_catalog"));
                    let all = Target {
                        schema: Some("pg_catalog".into()),
                        name: "pg_dist_partition".into(),
                    };
                    (kind, if catalog { vec![all] } else { Vec::new() })
                } else {
                    return None;
                }
            }
            _ => return None,
        })
    }
}
