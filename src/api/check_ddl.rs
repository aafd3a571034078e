//! `citus_sidecar.check_ddl(sql text)`: a dry run for CI pipelines. The whole migration script
//! (psql meta-commands and COPY data blanked out, sidecar_rules::psql) is parsed with
//! PostgreSQL's own parser (raw parse trees: nothing is analysed against the catalog, nothing
//! runs). Each statement is turned into owned values once, here at the boundary
//! (sidecar_rules::script::Statement), and the rules check the whole script against a
//! simulation of the live cluster, exactly as they check a call the guard intercepts.

use std::ffi::{c_char, c_void, CStr, CString};

use pgrx::pg_sys;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::{PgLogLevel, PgSqlErrorCode};
use sidecar_rules::call::{Catalog, CitusFunction, RelationRef};
use sidecar_rules::finding::Severity;
use sidecar_rules::pgvalue::parse_qualified_name;
use sidecar_rules::psql::{blank_client_side, line_as_written, statement_at, Blanked, Positions};
use sidecar_rules::script::{
    check_script, NotConstant, Outcome, ScriptArg, ScriptCall, ScriptCatalog, ScriptColumn,
    ScriptTable, Statement,
};
use sidecar_rules::TableFacts;

use crate::facts;
use crate::statements::{ptr_list, relation_statement, target_of};

fn cstr(p: *const c_char) -> Option<String> {
    // SAFETY: a NUL-terminated string from a parse tree, or NULL.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// # Safety
/// `node` is a valid parse node.
unsafe fn tag(node: *mut pg_sys::Node) -> pg_sys::NodeTag {
    // SAFETY: every node starts with its tag.
    unsafe { (*node).type_ }
}

/// The names of a qualified-name list (String nodes).
///
/// # Safety
/// `list` is NIL or a List of String nodes.
unsafe fn names(list: *mut pg_sys::List) -> Vec<String> {
    // SAFETY: name lists hold String nodes.
    unsafe {
        ptr_list::<pg_sys::String>(list)
            .filter_map(|s| cstr((*s).sval))
            .collect()
    }
}

/// A constant argument as text (None for NULL), or NotConstant.
///
/// # Safety
/// `node` is a valid raw parse node.
unsafe fn constant(node: *mut pg_sys::Node) -> Result<Option<String>, NotConstant> {
    // SAFETY: casts follow the node tag.
    unsafe {
        match tag(node) {
            pg_sys::NodeTag::T_A_Const => {
                let c = node as *mut pg_sys::A_Const;
                if (*c).isnull {
                    return Ok(None);
                }
                let v = &(*c).val;
                Ok(Some(match v.node.type_ {
                    pg_sys::NodeTag::T_Integer => v.ival.ival.to_string(),
                    pg_sys::NodeTag::T_Float => cstr(v.fval.fval).unwrap_or_default(),
                    pg_sys::NodeTag::T_Boolean => v.boolval.boolval.to_string(),
                    pg_sys::NodeTag::T_String => cstr(v.sval.sval).unwrap_or_default(),
                    pg_sys::NodeTag::T_BitString => cstr(v.bsval.bsval).unwrap_or_default(),
                    _ => return Err(NotConstant),
                }))
            }
            pg_sys::NodeTag::T_TypeCast => constant((*(node as *mut pg_sys::TypeCast)).arg),
            _ => Err(NotConstant),
        }
    }
}

/// Is the stack within a safe margin of PostgreSQL's max_stack_depth? Never raises: a walk
/// that asks before each step stops cleanly long before PostgreSQL's own check would raise an
/// ERROR under it (which would have to cross Rust frames).
fn stack_nearly_full() -> bool {
    let here = 0u8;
    // SAFETY: set_stack_base returns the current base and moves it; restoring it at once leaves
    // PostgreSQL's state as it was. max_stack_depth is a GUC in kilobytes.
    unsafe {
        let base = pg_sys::set_stack_base();
        pg_sys::restore_stack_base(base);
        let used = (base as usize).saturating_sub(&here as *const u8 as usize);
        used + 256 * 1024 > pg_sys::max_stack_depth.max(0) as usize * 1024
    }
}

/// What the raw-tree walk collects.
struct Found {
    calls: Vec<ScriptCall>,
    too_deep: bool,
}

/// The distribution calls in a statement, found by PostgreSQL's own raw-tree walker; Err when
/// the statement is nested too deeply to walk within the stack PostgreSQL allows.
///
/// # Safety
/// `node` is a raw statement from raw_parser.
unsafe fn calls_in(node: *mut pg_sys::Node) -> Result<Vec<ScriptCall>, ()> {
    /// # Safety
    /// Only as raw_expression_tree_walker's callback, with `ctx` the walk's own state.
    unsafe extern "C-unwind" fn walk(node: *mut pg_sys::Node, ctx: *mut c_void) -> bool {
        if node.is_null() {
            return false;
        }
        // SAFETY: casts follow the node tag; ctx is our Found.
        unsafe {
            let found = &mut *(ctx as *mut Found);
            if stack_nearly_full() {
                found.too_deep = true;
                return true;
            }
            if tag(node) == pg_sys::NodeTag::T_FuncCall {
                let f = node as *mut pg_sys::FuncCall;
                let parts = names((*f).funcname);
                let ours = match parts.as_slice() {
                    [name] | [_, name] if parts.len() == 1 || parts[0] == "pg_catalog" => {
                        CitusFunction::from_name(name)
                    }
                    _ => None,
                };
                if let Some(function) = ours {
                    let args = ptr_list::<pg_sys::Node>((*f).args)
                        .map(|a| {
                            if tag(a) == pg_sys::NodeTag::T_NamedArgExpr {
                                let na = a as *mut pg_sys::NamedArgExpr;
                                ScriptArg {
                                    name: cstr((*na).name),
                                    value: constant((*na).arg as *mut pg_sys::Node),
                                }
                            } else {
                                ScriptArg {
                                    name: None,
                                    value: constant(a),
                                }
                            }
                        })
                        .collect();
                    found.calls.push(ScriptCall { function, args });
                }
            }
            pg_sys::raw_expression_tree_walker(node, Some(walk), ctx)
        }
    }
    let mut found = Found {
        calls: Vec::new(),
        too_deep: false,
    };
    // SAFETY: a raw statement tree from raw_parser.
    unsafe { walk(node, (&raw mut found).cast()) };
    if found.too_deep {
        Err(())
    } else {
        Ok(found.calls)
    }
}

/// Resolves a type name to its OID without raising: no permission checks (PostgreSQL reports
/// those itself when the script runs), serial types read as the integers they are.
///
/// # Safety
/// `tn` is a TypeName from the raw parser; call it inside a transaction.
unsafe fn type_oid(tn: *mut pg_sys::TypeName) -> Option<pg_sys::Oid> {
    // SAFETY: a TypeName from the parser.
    unsafe {
        let parts = names((*tn).names);
        let (schema, name) = match parts.as_slice() {
            [n] => (None, n.clone()),
            [s, n] | [_, s, n] => (Some(s.clone()), n.clone()),
            _ => return None,
        };
        let name = match (schema.as_deref(), name.as_str()) {
            (None | Some("pg_catalog"), "serial" | "serial4") => "int4".to_string(),
            (None | Some("pg_catalog"), "bigserial" | "serial8") => "int8".to_string(),
            (None | Some("pg_catalog"), "smallserial" | "serial2") => "int2".to_string(),
            _ => name,
        };
        let cname = CString::new(name).ok()?;
        let oid = match schema {
            None => pg_sys::TypenameGetTypid(cname.as_ptr()),
            Some(s) => {
                let cs = CString::new(s).ok()?;
                let nsp = pg_sys::get_namespace_oid(cs.as_ptr(), true);
                if nsp == pg_sys::InvalidOid {
                    return None;
                }
                pg_sys::GetSysCacheOid(
                    pg_sys::SysCacheIdentifier::TYPENAMENSP as i32,
                    pg_sys::Anum_pg_type_oid as pg_sys::AttrNumber,
                    pg_sys::Datum::from(cname.as_ptr()),
                    pg_sys::Datum::from(nsp),
                    pg_sys::Datum::from(0),
                    pg_sys::Datum::from(0),
                )
            }
        };
        if oid == pg_sys::InvalidOid {
            return None;
        }
        if (*tn).arrayBounds.is_null() {
            Some(oid)
        } else {
            Some(pg_sys::get_array_type(oid)).filter(|a| *a != pg_sys::InvalidOid)
        }
    }
}

/// An explicit COLLATE clause, resolved without raising.
///
/// # Safety
/// `clause` is NULL or a CollateClause from the raw parser; call it inside a transaction.
unsafe fn collation_oid(clause: *mut pg_sys::CollateClause) -> Option<u32> {
    if clause.is_null() {
        return None;
    }
    // SAFETY: a CollateClause from the parser.
    unsafe {
        let parts = names((*clause).collname);
        let (schema, name) = match parts.as_slice() {
            [n] => (None, n.clone()),
            [s, n] => (Some(s.clone()), n.clone()),
            _ => return None,
        };
        let cname = CString::new(name).ok()?;
        let oid = match schema {
            None => pg_sys::CollationGetCollid(cname.as_ptr()),
            Some(s) => {
                let cs = CString::new(s).ok()?;
                let nsp = pg_sys::get_namespace_oid(cs.as_ptr(), true);
                let find = |enc: i32| {
                    pg_sys::GetSysCacheOid(
                        pg_sys::SysCacheIdentifier::COLLNAMEENCNSP as i32,
                        pg_sys::Anum_pg_collation_oid as pg_sys::AttrNumber,
                        pg_sys::Datum::from(cname.as_ptr()),
                        pg_sys::Datum::from(enc),
                        pg_sys::Datum::from(nsp),
                        pg_sys::Datum::from(0),
                    )
                };
                let o = find(pg_sys::GetDatabaseEncoding());
                if o == pg_sys::InvalidOid {
                    find(-1)
                } else {
                    o
                }
            }
        };
        (oid != pg_sys::InvalidOid).then(|| oid.to_u32())
    }
}

/// # Safety
/// `c` is a CreateStmt from the raw parser; call it inside a transaction.
unsafe fn create_table(c: *mut pg_sys::CreateStmt) -> Option<ScriptTable> {
    // SAFETY: a CreateStmt from the parser.
    unsafe {
        let target = target_of((*c).relation)?;
        let mut t = ScriptTable {
            name: target.schema.into_iter().chain([target.name]).collect(),
            columns: Vec::new(),
            primary_key: Vec::new(),
        };
        let mut table_not_null = Vec::new();
        for elt in ptr_list::<pg_sys::Node>((*c).tableElts) {
            match tag(elt) {
                pg_sys::NodeTag::T_ColumnDef => {
                    let cd = elt as *mut pg_sys::ColumnDef;
                    let name = cstr((*cd).colname).unwrap_or_default();
                    let tn = (*cd).typeName;
                    let type_names = names((*tn).names);
                    let serial = matches!(
                        type_names.last().map(String::as_str),
                        Some(
                            "serial"
                                | "serial4"
                                | "bigserial"
                                | "serial8"
                                | "smallserial"
                                | "serial2"
                        )
                    );
                    let mut not_null = (*cd).is_not_null || serial;
                    for con in ptr_list::<pg_sys::Constraint>((*cd).constraints) {
                        match (*con).contype {
                            pg_sys::ConstrType::CONSTR_NOTNULL => not_null = true,
                            pg_sys::ConstrType::CONSTR_PRIMARY => {
                                not_null = true;
                                t.primary_key.push(name.clone());
                            }
                            _ => {}
                        }
                    }
                    t.columns.push(ScriptColumn {
                        type_name: cstr(pg_sys::TypeNameToString(tn)).unwrap_or_default(),
                        type_facts: type_oid(tn).map(facts::type_facts),
                        collation: collation_oid((*cd).collClause),
                        not_null,
                        name,
                    });
                }
                pg_sys::NodeTag::T_Constraint => {
                    let con = elt as *mut pg_sys::Constraint;
                    let keys = names((*con).keys);
                    match (*con).contype {
                        pg_sys::ConstrType::CONSTR_PRIMARY => {
                            t.primary_key.extend(keys.iter().cloned());
                            table_not_null.extend(keys);
                        }
                        // PostgreSQL 18: CREATE TABLE t (a int, NOT NULL a)
                        pg_sys::ConstrType::CONSTR_NOTNULL => table_not_null.extend(keys),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        for col in t.columns.iter_mut() {
            if table_not_null.contains(&col.name) {
                col.not_null = true;
            }
        }
        Some(t)
    }
}

/// One raw statement as the rules' owned values (possibly several: a DML statement that also
/// calls a distribution function). Err: nested too deeply to walk.
///
/// # Safety
/// `node` is a raw statement from raw_parser; call it inside a transaction.
unsafe fn convert(node: *mut pg_sys::Node) -> Result<Vec<Statement>, ()> {
    use pg_sys::NodeTag::*;
    // SAFETY: casts follow the node tag.
    unsafe {
        let with_calls =
            |mut v: Vec<Statement>, n: *mut pg_sys::Node| -> Result<Vec<Statement>, ()> {
                let calls = calls_in(n)?;
                if !calls.is_empty() {
                    v.push(Statement::Calls(calls));
                }
                Ok(v)
            };
        Ok(match tag(node) {
            T_VariableSetStmt => {
                let s = node as *mut pg_sys::VariableSetStmt;
                match (*s).kind {
                    pg_sys::VariableSetKind::VAR_SET_VALUE => vec![Statement::Set {
                        name: cstr((*s).name).unwrap_or_default(),
                        value: cstr(pg_sys::ExtractSetVariableArgs(s)),
                    }],
                    pg_sys::VariableSetKind::VAR_SET_DEFAULT
                    | pg_sys::VariableSetKind::VAR_RESET => {
                        vec![Statement::Set {
                            name: cstr((*s).name).unwrap_or_default(),
                            value: None,
                        }]
                    }
                    pg_sys::VariableSetKind::VAR_RESET_ALL => {
                        ["citus.shard_count", "citus.shard_replication_factor"]
                            .into_iter()
                            .map(|n| Statement::Set {
                                name: n.into(),
                                value: None,
                            })
                            .collect()
                    }
                    _ => vec![],
                }
            }
            T_CreateStmt => create_table(node as *mut pg_sys::CreateStmt)
                .map(Statement::CreateTable)
                .into_iter()
                .collect(),
            T_CreateEnumStmt => {
                let e = node as *mut pg_sys::CreateEnumStmt;
                names((*e).typeName)
                    .pop()
                    .map(|name| Statement::CreateEnum { name })
                    .into_iter()
                    .collect()
            }
            T_SelectStmt | T_InsertStmt | T_UpdateStmt | T_DeleteStmt | T_MergeStmt => {
                with_calls(writes(node, 0)?, node)?
            }
            // Statements that run a query: its calls run too.
            T_ExplainStmt => convert((*(node as *mut pg_sys::ExplainStmt)).query)?,
            T_PrepareStmt => convert((*(node as *mut pg_sys::PrepareStmt)).query)?,
            T_CreateTableAsStmt => convert((*(node as *mut pg_sys::CreateTableAsStmt)).query)?,
            T_DeclareCursorStmt => convert((*(node as *mut pg_sys::DeclareCursorStmt)).query)?,
            T_CopyStmt => {
                let c = node as *mut pg_sys::CopyStmt;
                if (*c).query.is_null() {
                    relation_statement(node)
                        .map(|(kind, t)| Statement::Relations {
                            kind,
                            relations: t.into_iter().map(|t| (t.schema, t.name)).collect(),
                        })
                        .into_iter()
                        .collect()
                } else {
                    convert((*c).query)?
                }
            }
            T_DoStmt => vec![Statement::Do],
            T_CreateFunctionStmt => vec![Statement::FunctionBody],
            _ => match relation_statement(node) {
                Some((kind, targets)) => vec![Statement::Relations {
                    kind,
                    relations: targets.into_iter().map(|t| (t.schema, t.name)).collect(),
                }],
                None => vec![Statement::Other],
            },
        })
    }
}

/// The relations a query statement writes: its own target and those of its data-modifying
/// CTEs (`WITH d AS (DELETE FROM pg_dist_placement ...) SELECT ...` edits the metadata as surely
/// as the DELETE alone). Err: nested too deeply to walk.
///
/// # Safety
/// `node` is a raw SELECT, INSERT, UPDATE, DELETE or MERGE statement (anything else: none).
unsafe fn writes(node: *mut pg_sys::Node, depth: usize) -> Result<Vec<Statement>, ()> {
    use pg_sys::NodeTag::*;
    use sidecar_rules::metadata::StatementKind as K;
    if depth > 64 || stack_nearly_full() {
        return Err(());
    }
    // SAFETY: casts follow the node tag.
    unsafe {
        let (kind, relation, with, select) = match tag(node) {
            T_SelectStmt => {
                let s = node as *mut pg_sys::SelectStmt;
                (
                    None,
                    std::ptr::null_mut(),
                    (*s).withClause,
                    std::ptr::null_mut(),
                )
            }
            T_InsertStmt => {
                let s = node as *mut pg_sys::InsertStmt;
                (
                    Some(K::Insert),
                    (*s).relation,
                    (*s).withClause,
                    (*s).selectStmt,
                )
            }
            T_UpdateStmt => {
                let s = node as *mut pg_sys::UpdateStmt;
                (
                    Some(K::Update),
                    (*s).relation,
                    (*s).withClause,
                    std::ptr::null_mut(),
                )
            }
            T_DeleteStmt => {
                let s = node as *mut pg_sys::DeleteStmt;
                (
                    Some(K::Delete),
                    (*s).relation,
                    (*s).withClause,
                    std::ptr::null_mut(),
                )
            }
            T_MergeStmt => {
                let s = node as *mut pg_sys::MergeStmt;
                (
                    Some(K::Merge),
                    (*s).relation,
                    (*s).withClause,
                    std::ptr::null_mut(),
                )
            }
            _ => return Ok(Vec::new()),
        };
        let mut out = Vec::new();
        if let Some(kind) = kind {
            out.push(Statement::Relations {
                kind,
                relations: target_of(relation)
                    .map(|t| (t.schema, t.name))
                    .into_iter()
                    .collect(),
            });
        }
        if !with.is_null() {
            for cte in ptr_list::<pg_sys::CommonTableExpr>((*with).ctes) {
                out.extend(writes((*cte).ctequery, depth + 1)?);
            }
        }
        // INSERT INTO t WITH d AS (DELETE ...) SELECT ...: the WITH of the SELECT part.
        if !select.is_null() {
            out.extend(writes(select, depth + 1)?);
        }
        Ok(out)
    }
}

/// check_ddl's catalog: the live catalog, each table read once per script (nothing runs, so
/// it cannot change).
#[derive(Default)]
struct DdlCatalog {
    seen: std::collections::HashMap<(String, Option<String>), Option<TableFacts>>,
}

impl Catalog for DdlCatalog {
    fn table(&mut self, rel: &RelationRef, column: Option<&str>) -> Option<TableFacts> {
        let key = (rel.to_string(), column.map(str::to_string));
        if let Some(hit) = self.seen.get(&key) {
            return hit.clone();
        }
        let relid = match rel {
            RelationRef::Oid(o) => pg_sys::Oid::from(*o),
            RelationRef::Name(n) => relid_by_name(n),
        };
        let facts = (relid != pg_sys::InvalidOid)
            .then(|| facts::table(relid, column))
            .flatten();
        self.seen.insert(key, facts.clone());
        facts
    }
}

impl ScriptCatalog for DdlCatalog {
    fn reset_value(&mut self, setting: &str) -> Option<String> {
        let c = CString::new(setting).ok()?;
        // GetConfigOptionResetString raises for a setting that does not exist here (Citus's,
        // on a server where a name is misspelt) or one the user may not read: that is "no
        // value known", never an error of check_ddl's.
        PgTryBuilder::new(|| {
            // SAFETY: returns a GUC-owned string or NULL, or raises (caught below).
            unsafe { cstr(pg_sys::GetConfigOptionResetString(c.as_ptr())) }
        })
        .catch_others(|_| None)
        .execute()
    }
}

/// A table name as regclass input reads it, resolved without raising.
fn relid_by_name(n: &str) -> pg_sys::Oid {
    let Some(parts) = parse_qualified_name(n) else {
        return pg_sys::InvalidOid;
    };
    let c = |s: &str| CString::new(s).ok();
    // SAFETY: catalog lookups returning InvalidOid for what does not exist.
    unsafe {
        match parts.as_slice() {
            [rel] => c(rel)
                .map(|r| pg_sys::RelnameGetRelid(r.as_ptr()))
                .unwrap_or(pg_sys::InvalidOid),
            [schema, rel] | [_, schema, rel] => {
                let (Some(s), Some(r)) = (c(schema), c(rel)) else {
                    return pg_sys::InvalidOid;
                };
                let nsp = pg_sys::get_namespace_oid(s.as_ptr(), true);
                if nsp == pg_sys::InvalidOid {
                    return pg_sys::InvalidOid;
                }
                pg_sys::get_relname_relid(r.as_ptr(), nsp)
            }
            _ => pg_sys::InvalidOid,
        }
    }
}

fn raise(code: PgSqlErrorCode, message: String, detail: Option<String>, hint: &str) -> ! {
    let mut e = ErrorReport::new(code, message, "check_ddl");
    if let Some(d) = detail {
        e = e.set_detail(d);
    }
    e.set_hint(hint).report(PgLogLevel::ERROR);
    unreachable!("ERROR returned")
}

unsafe extern "C-unwind" {
    fn geterrposition() -> std::ffi::c_int;
}

/// Where the parser stopped (its error's cursor position), noted while the error is raised.
static SYNTAX_POSITION: crate::catalog::BackendLocal<std::cell::Cell<i32>> =
    crate::catalog::BackendLocal(std::cell::Cell::new(0));

/// # Safety
/// PostgreSQL calls it as an error context callback, while an error is being raised.
unsafe extern "C-unwind" fn note_position(_arg: *mut c_void) {
    // SAFETY: called by errfinish while the error is being raised; only reads it.
    SYNTAX_POSITION.0.set(unsafe { geterrposition() });
}

/// The raw parse of `sql`, or a clear ERROR that says where the script stops parsing.
fn parse(sql: &str, original: &str) -> Vec<(*mut pg_sys::Node, usize, usize)> {
    let c = CString::new(sql).expect("checked for NUL before");
    SYNTAX_POSITION.0.set(0);
    // SAFETY: a context callback on our frame, which outlives the parse; popped below.
    let mut callback = pg_sys::ErrorContextCallback {
        previous: unsafe { pg_sys::error_context_stack },
        callback: Some(note_position),
        arg: std::ptr::null_mut(),
    };
    unsafe { pg_sys::error_context_stack = &mut callback };
    let parsed = PgTryBuilder::new(|| {
        // SAFETY: raw parsing touches no catalog and runs nothing.
        let list =
            unsafe { pg_sys::raw_parser(c.as_ptr(), pg_sys::RawParseMode::RAW_PARSE_DEFAULT) };
        Ok(list)
    })
    .catch_others(|e| match e {
        pgrx::pg_sys::panic::CaughtError::PostgresError(report) => Err(Box::new(report)),
        other => other.rethrow(),
    })
    .execute();
    // SAFETY: restores the stack as it was before our callback.
    unsafe { pg_sys::error_context_stack = callback.previous };
    let list = match parsed {
        Ok(list) => list,
        Err(report) => {
            let at = SYNTAX_POSITION.0.get().max(1) as usize - 1;
            // cursor positions count characters
            let byte = sql
                .char_indices()
                .nth(at)
                .map(|(b, _)| b)
                .unwrap_or(sql.len());
            let (line, col) = Positions::new(original).at(byte);
            let text = line_as_written(original, line);
            raise(
                PgSqlErrorCode::ERRCODE_SYNTAX_ERROR,
                format!("check_ddl: the script does not parse: {} (line {line}, column {col})", report.message()),
                Some(format!("line {line}: {text}")),
                "Fix the statement at that line; check_ddl reads SQL and psql scripts (meta-commands and COPY ... FROM stdin data are skipped).",
            )
        }
    };
    // SAFETY: raw_parser returns RawStmt nodes with byte offsets into the script.
    unsafe {
        ptr_list::<pg_sys::RawStmt>(list)
            .map(|r| {
                (
                    (*r).stmt,
                    (*r).stmt_location.max(0) as usize,
                    (*r).stmt_len.max(0) as usize,
                )
            })
            .collect()
    }
}

type Row = (
    i32,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i32,
    i32,
);

/// Checks a migration script without running it: one row per finding (and a note where
/// something cannot be checked statically), with the statement it belongs to and the line and
/// column where that statement starts.
#[allow(clippy::type_complexity)] // the row type is the SQL result's columns
#[pg_extern(volatile, parallel_unsafe)]
fn check_ddl(
    sql: Option<&str>,
) -> TableIterator<
    'static,
    (
        name!(statement, i32),
        name!(statement_text, String),
        name!(rule_id, Option<String>),
        name!(severity, String),
        name!(sqlstate, Option<String>),
        name!(message, String),
        name!(detail, Option<String>),
        name!(hint, Option<String>),
        name!(remediation, Option<String>),
        name!(line, i32),
        name!(col, i32),
    ),
> {
    let Some(original) = sql else {
        raise(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "check_ddl needs the text of a migration script, not NULL".into(),
            None,
            "Pass the script as text, e.g. SELECT * FROM citus_sidecar.check_ddl(pg_read_file('migration.sql'));",
        )
    };
    if original.contains('\0') {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "check_ddl: the script contains a NUL character".into(),
            None,
            "Pass the script as text.",
        )
    }
    let (sql, blanked) = blank_client_side(original);
    let raw = parse(&sql, original);
    let mut positions = Positions::new(original);
    let mut statements = Vec::new();
    let mut texts = Vec::with_capacity(raw.len());
    for (i, &(node, start, len)) in raw.iter().enumerate() {
        texts.push(statement_at(&sql, original, start, len, &mut positions));
        // SAFETY: a statement node from raw_parser.
        match unsafe { convert(node) } {
            Ok(list) => statements.extend(list.into_iter().map(|st| (i, st))),
            Err(()) => {
                let (line, col) = texts[i].1;
                raise(
                    PgSqlErrorCode::ERRCODE_STATEMENT_TOO_COMPLEX,
                    format!("check_ddl: statement {} (line {line}, column {col}) is nested too deeply to check", i + 1),
                    Some("Walking it would exceed the stack PostgreSQL allows (max_stack_depth); PostgreSQL would refuse to run it for the same reason.".into()),
                    "Split the expression, or raise max_stack_depth if the statement is meant to run.",
                )
            }
        }
    }
    let mut catalog = DdlCatalog::default();
    let outcomes = check_script(
        &statements,
        facts::cluster(),
        facts::settings(),
        &mut catalog,
    );
    let mut rows: Vec<Row> = Vec::new();
    for b in blanked {
        let (line, what) = match b {
            Blanked::MetaCommand { line, text } => {
                (line, format!("psql meta-command skipped: {text}"))
            }
            Blanked::CopyData {
                first_line,
                last_line,
            } => (
                first_line,
                format!("COPY ... FROM stdin data skipped (lines {first_line}-{last_line})"),
            ),
        };
        rows.push((
            0,
            String::new(),
            None,
            "note".into(),
            None,
            what,
            None,
            None,
            None,
            line as i32,
            1,
        ));
    }
    for (i, outcome) in outcomes {
        let (text, (line, col)) = texts[i].clone();
        let n = i as i32 + 1;
        rows.push(match outcome {
            Outcome::Finding(f) => (
                n,
                text,
                Some(f.rule.as_str().to_string()),
                match f.severity {
                    Severity::Block => "block".into(),
                    Severity::Warn => "warn".into(),
                },
                Some(f.sqlstate().to_string()),
                f.message,
                Some(f.detail),
                Some(f.hint),
                f.remediation,
                line,
                col,
            ),
            Outcome::Note(m) => (
                n,
                text,
                None,
                "note".into(),
                None,
                m,
                None,
                None,
                None,
                line,
                col,
            ),
        });
    }
    TableIterator::new(rows)
}
