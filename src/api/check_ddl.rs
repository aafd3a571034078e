//! `citus_sidecar.check_ddl(sql text)`: a dry run for CI pipelines. The whole migration script is
//! parsed with PostgreSQL's own parser (raw parse trees: nothing is analysed against the
//! catalog, nothing runs), and its statements are checked in order against a simulation of the
//! live cluster (sidecar_rules::script): SET citus.shard_count, CREATE TABLE and CREATE TYPE
//! ... AS ENUM feed the simulation; distribution calls and metadata edits get the rules'
//! findings.

use std::ffi::{c_char, CStr, CString};

use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::{PgLogLevel, PgSqlErrorCode};
use sidecar_rules::script::Simulation;
use sidecar_rules::{ColocateWith, ColumnFacts, DistCall, Finding, Severity, TableFacts};

use crate::catalog::Watched;
use crate::facts;

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
);

/// Parameter names of the watched functions, in order (Citus 13.2).
fn params(kind: Watched) -> &'static [&'static str] {
    match kind {
        Watched::CreateDistributedTable | Watched::CreateDistributedTableConcurrently => {
            &["table_name", "distribution_column", "distribution_type", "colocate_with", "shard_count"]
        }
        Watched::AlterDistributedTable => {
            &["table_name", "distribution_column", "shard_count", "colocate_with", "cascade_to_colocated"]
        }
        Watched::UndistributeTable => &["table_name", "cascade_via_foreign_keys"],
        Watched::UpdateDistributedTableColocation => &["table_name", "colocate_with"],
    }
}

/// A table created earlier in the script.
struct ScriptTable {
    name: String,
    has_primary_key: bool,
    primary_key: Vec<String>,
    columns: Vec<(String, *mut pg_sys::TypeName, bool)>,
}

struct Checker<'a> {
    sim: Simulation,
    /// Catalog facts already read, by (table, column): nothing runs, so the catalog cannot change.
    catalog: std::collections::HashMap<(String, Option<String>), Option<TableFacts>>,
    tables: Vec<ScriptTable>,
    enums: Vec<String>,
    rows: Vec<Row>,
    statement: i32,
    text: &'a str,
}

fn cstr(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: a NUL-terminated string from a parse tree.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

unsafe fn list_nodes(list: *mut pg_sys::List) -> Vec<*mut pg_sys::Node> {
    if list.is_null() {
        return Vec::new();
    }
    // SAFETY: a valid pointer List.
    unsafe {
        (0..(*list).length as usize)
            .map(|i| (*(*list).elements.add(i)).ptr_value as *mut pg_sys::Node)
            .collect()
    }
}

unsafe fn tag(node: *mut pg_sys::Node) -> pg_sys::NodeTag {
    // SAFETY: every node starts with its tag.
    unsafe { (*node).type_ }
}

/// The last name of a qualified-name list (a List of String nodes).
unsafe fn last_name(list: *mut pg_sys::List) -> String {
    // SAFETY: name lists hold String nodes.
    unsafe {
        list_nodes(list)
            .last()
            .map(|&n| cstr((*(n as *mut pg_sys::String)).sval))
            .unwrap_or_default()
    }
}

unsafe fn range_var_name(rv: *mut pg_sys::RangeVar) -> String {
    // SAFETY: a RangeVar from the parser.
    unsafe {
        if (*rv).schemaname.is_null() {
            cstr((*rv).relname)
        } else {
            format!("{}.{}", cstr((*rv).schemaname), cstr((*rv).relname))
        }
    }
}

/// A constant argument as text: Some(None) for NULL, None when it is not a constant.
unsafe fn constant(node: *mut pg_sys::Node) -> Option<Option<String>> {
    // SAFETY: casts follow the node tag.
    unsafe {
        match tag(node) {
            pg_sys::NodeTag::T_A_Const => {
                let c = node as *mut pg_sys::A_Const;
                if (*c).isnull {
                    return Some(None);
                }
                let v = &(*c).val;
                Some(Some(match v.node.type_ {
                    pg_sys::NodeTag::T_Integer => v.ival.ival.to_string(),
                    pg_sys::NodeTag::T_Float => cstr(v.fval.fval),
                    pg_sys::NodeTag::T_Boolean => v.boolval.boolval.to_string(),
                    pg_sys::NodeTag::T_String => cstr(v.sval.sval),
                    _ => return None,
                }))
            }
            pg_sys::NodeTag::T_TypeCast => constant((*(node as *mut pg_sys::TypeCast)).arg),
            _ => None,
        }
    }
}

impl Checker<'_> {
    fn push(&mut self, f: &Finding) {
        let severity = match f.severity {
            Severity::Block => "block",
            Severity::Warn => "warn",
        };
        self.rows.push((
            self.statement,
            self.text.to_string(),
            Some(f.rule.as_str().to_string()),
            severity.to_string(),
            Some(f.sqlstate().to_string()),
            f.message.clone(),
            Some(f.detail.clone()),
            Some(f.hint.clone()),
            f.remediation.clone(),
        ));
    }

    fn note(&mut self, message: String) {
        self.rows.push((self.statement, self.text.to_string(), None, "note".into(), None, message, None, None, None));
    }

    unsafe fn statement(&mut self, node: *mut pg_sys::Node) {
        // SAFETY: casts follow the node tag.
        unsafe {
            match tag(node) {
                pg_sys::NodeTag::T_VariableSetStmt => self.set(node as *mut pg_sys::VariableSetStmt),
                pg_sys::NodeTag::T_CreateStmt => self.create_table(node as *mut pg_sys::CreateStmt),
                pg_sys::NodeTag::T_CreateEnumStmt => {
                    let e = node as *mut pg_sys::CreateEnumStmt;
                    self.enums.push(last_name((*e).typeName));
                }
                pg_sys::NodeTag::T_SelectStmt => self.select(node as *mut pg_sys::SelectStmt),
                pg_sys::NodeTag::T_InsertStmt => self.edit("INSERT", (*(node as *mut pg_sys::InsertStmt)).relation),
                pg_sys::NodeTag::T_UpdateStmt => self.edit("UPDATE", (*(node as *mut pg_sys::UpdateStmt)).relation),
                pg_sys::NodeTag::T_DeleteStmt => self.edit("DELETE", (*(node as *mut pg_sys::DeleteStmt)).relation),
                pg_sys::NodeTag::T_MergeStmt => self.edit("MERGE", (*(node as *mut pg_sys::MergeStmt)).relation),
                pg_sys::NodeTag::T_TruncateStmt => {
                    for rv in list_nodes((*(node as *mut pg_sys::TruncateStmt)).relations) {
                        self.edit("TRUNCATE", rv as *mut pg_sys::RangeVar);
                    }
                }
                pg_sys::NodeTag::T_CopyStmt => {
                    let c = node as *mut pg_sys::CopyStmt;
                    if (*c).is_from {
                        self.edit("COPY FROM", (*c).relation);
                    }
                }
                pg_sys::NodeTag::T_AlterTableStmt => {
                    self.edit("ALTER TABLE", (*(node as *mut pg_sys::AlterTableStmt)).relation)
                }
                pg_sys::NodeTag::T_DoStmt => self.note(
                    "DO blocks are not analysed here; the guard checks what they run when they run".into(),
                ),
                _ => {}
            }
        }
    }

    unsafe fn set(&mut self, s: *mut pg_sys::VariableSetStmt) {
        // SAFETY: a VariableSetStmt from the parser.
        unsafe {
            let name = cstr((*s).name);
            let value = match (*s).kind {
                pg_sys::VariableSetKind::VAR_SET_VALUE => cstr(pg_sys::ExtractSetVariableArgs(s)),
                pg_sys::VariableSetKind::VAR_SET_DEFAULT | pg_sys::VariableSetKind::VAR_RESET => {
                    let c = CString::new(name.as_str()).unwrap_or_default();
                    cstr(pg_sys::GetConfigOptionResetString(c.as_ptr()))
                }
                _ => return,
            };
            let Ok(n) = value.trim().trim_matches('\'').parse::<i32>() else {
                return;
            };
            match name.as_str() {
                "citus.shard_count" => {
                    let how = format!("SET citus.shard_count = {n}");
                    for f in self.sim.set_shard_count(n, &how) {
                        self.push(&f);
                    }
                }
                "citus.shard_replication_factor" => self.sim.set_replication_factor(n),
                _ => {}
            }
        }
    }

    unsafe fn create_table(&mut self, c: *mut pg_sys::CreateStmt) {
        // SAFETY: a CreateStmt from the parser.
        unsafe {
            let mut t = ScriptTable {
                name: range_var_name((*c).relation),
                has_primary_key: false,
                primary_key: Vec::new(),
                columns: Vec::new(),
            };
            let mut pk_cols = Vec::new();
            for elt in list_nodes((*c).tableElts) {
                match tag(elt) {
                    pg_sys::NodeTag::T_ColumnDef => {
                        let cd = elt as *mut pg_sys::ColumnDef;
                        let mut not_null = (*cd).is_not_null;
                        for con in list_nodes((*cd).constraints) {
                            let con = con as *mut pg_sys::Constraint;
                            match (*con).contype {
                                pg_sys::ConstrType::CONSTR_NOTNULL => not_null = true,
                                pg_sys::ConstrType::CONSTR_PRIMARY => {
                                    not_null = true;
                                    t.has_primary_key = true;
                                    t.primary_key.push(cstr((*cd).colname));
                                }
                                _ => {}
                            }
                        }
                        t.columns.push((cstr((*cd).colname), (*cd).typeName, not_null));
                    }
                    pg_sys::NodeTag::T_Constraint => {
                        let con = elt as *mut pg_sys::Constraint;
                        if (*con).contype == pg_sys::ConstrType::CONSTR_PRIMARY {
                            t.has_primary_key = true;
                            for k in list_nodes((*con).keys) {
                                pk_cols.push(cstr((*(k as *mut pg_sys::String)).sval));
                            }
                        }
                    }
                    _ => {}
                }
            }
            t.primary_key.extend(pk_cols.iter().cloned());
            for col in t.columns.iter_mut() {
                if pk_cols.contains(&col.0) {
                    col.2 = true;
                }
            }
            self.tables.retain(|x| x.name != t.name);
            self.tables.push(t);
        }
    }

    /// Facts for `table` and `column`: from the script when it created the table, else from
    /// the catalog.
    unsafe fn table_facts(&mut self, table: &str, column: Option<&str>) -> Option<TableFacts> {
        if let Some(t) = self.tables.iter().find(|t| t.name == table) {
            let name = t.name.clone();
            let has_pk = t.has_primary_key;
            let primary_key = t.primary_key.clone();
            let col = column.and_then(|c| t.columns.iter().find(|x| x.0 == c).map(|x| (x.0.clone(), x.1, x.2)));
            let column = match col {
                Some((cname, tn, not_null)) => unsafe { self.column_from_type_name(cname, tn, not_null) },
                None => None,
            };
            return Some(TableFacts {
                name,
                has_replica_identity: has_pk,
                colocation_id: None,
                colocated_with: Vec::new(),
                primary_key,
                column,
            });
        }
        let key = (table.to_string(), column.map(str::to_string));
        if let Some(hit) = self.catalog.get(&key) {
            return hit.clone();
        }
        // SAFETY: as below.
        let facts = unsafe { Self::catalog_facts(table, column) };
        self.catalog.insert(key, facts.clone());
        facts
    }

    unsafe fn catalog_facts(table: &str, column: Option<&str>) -> Option<TableFacts> {
        let c = CString::new(table).ok()?;
        // SAFETY: a name lookup without a lock; a missing table gives InvalidOid.
        let relid = unsafe {
            #[cfg(feature = "pg15")]
            let names = pg_sys::stringToQualifiedNameList(c.as_ptr());
            #[cfg(not(feature = "pg15"))]
            let names = pg_sys::stringToQualifiedNameList(c.as_ptr(), std::ptr::null_mut());
            let rv = pg_sys::makeRangeVarFromNameList(names);
            pg_sys::RangeVarGetRelidExtended(rv, pg_sys::NoLock as _, pg_sys::RVROption::RVR_MISSING_OK, None, std::ptr::null_mut())
        };
        if relid == pg_sys::InvalidOid {
            return None;
        }
        facts::table(relid, column)
    }

    unsafe fn column_from_type_name(&mut self, name: String, tn: *mut pg_sys::TypeName, not_null: bool) -> Option<ColumnFacts> {
        // SAFETY: type lookup by name; missing_ok.
        unsafe {
            let tup = pg_sys::LookupTypeName(std::ptr::null_mut(), tn, std::ptr::null_mut(), true);
            if tup.is_null() {
                let type_name = cstr(pg_sys::TypeNameToString(tn));
                let short = last_name((*tn).names);
                let is_enum = self.enums.iter().any(|e| *e == short);
                return Some(ColumnFacts {
                    name,
                    type_name,
                    // a type the script creates: no existing group can share it
                    type_oid: u32::MAX,
                    collation: 0,
                    enum_based: is_enum,
                    not_null,
                    tiny_domain: false,
                });
            }
            let oid = pg_sys::typeTypeId(tup);
            pg_sys::ReleaseSysCache(tup);
            let (type_name, enum_based, tiny_domain) = facts::type_facts(oid);
            Some(ColumnFacts {
                name,
                type_name,
                type_oid: oid.to_u32(),
                collation: pg_sys::get_typcollation(oid).to_u32(),
                enum_based,
                not_null,
                tiny_domain,
            })
        }
    }

    unsafe fn edit(&mut self, operation: &str, rv: *mut pg_sys::RangeVar) {
        if rv.is_null() {
            return;
        }
        // SAFETY: a RangeVar from the parser.
        let (schema, rel) = unsafe { (cstr((*rv).schemaname), cstr((*rv).relname)) };
        if rel.starts_with("pg_dist_") && (schema.is_empty() || schema == "pg_catalog") {
            let f = sidecar_rules::metadata::hand_edit(operation, &format!("pg_catalog.{rel}"));
            self.push(&f);
        }
    }

    unsafe fn select(&mut self, s: *mut pg_sys::SelectStmt) {
        let mut calls = Vec::new();
        // SAFETY: walking a SelectStmt from the parser.
        unsafe { find_calls(s as *mut pg_sys::Node, &mut calls) };
        for (kind, call) in calls {
            // SAFETY: call is a FuncCall from the same tree.
            unsafe { self.call(kind, call) };
        }
    }

    unsafe fn call(&mut self, kind: Watched, call: *mut pg_sys::FuncCall) {
        let names = params(kind);
        let mut slots: Vec<Option<String>> = vec![None; names.len()];
        // SAFETY: a FuncCall from the parser.
        let args = unsafe { list_nodes((*call).args) };
        for (i, &arg) in args.iter().enumerate() {
            // SAFETY: casts follow the node tag.
            let (slot, value) = unsafe {
                if tag(arg) == pg_sys::NodeTag::T_NamedArgExpr {
                    let na = arg as *mut pg_sys::NamedArgExpr;
                    let name = cstr((*na).name);
                    (names.iter().position(|n| *n == name), constant((*na).arg as *mut pg_sys::Node))
                } else {
                    (Some(i), constant(arg))
                }
            };
            let Some(slot) = slot.filter(|&s| s < slots.len()) else {
                return;
            };
            match value {
                Some(v) => slots[slot] = v,
                None => {
                    self.note(format!(
                        "{}: argument {} is not a constant, so it is checked when the statement runs, not here",
                        kind.proname(),
                        names[slot]
                    ));
                    return;
                }
            }
        }
        let Some(table) = slots[0].clone() else {
            return;
        };
        let int = |i: usize| slots.get(i).cloned().flatten().and_then(|s| s.trim().parse::<i32>().ok());
        let column = match kind {
            Watched::CreateDistributedTable
            | Watched::CreateDistributedTableConcurrently
            | Watched::AlterDistributedTable => slots[1].clone(),
            _ => None,
        };
        // SAFETY: catalog lookups for the table.
        let Some(facts) = (unsafe { self.table_facts(&table, column.as_deref()) }) else {
            self.note(format!(
                "{}: table {table} is neither in the catalog nor created earlier in the script; not checked",
                kind.proname()
            ));
            return;
        };
        let dist = match kind {
            Watched::CreateDistributedTable | Watched::CreateDistributedTableConcurrently => DistCall::CreateDistributedTable {
                concurrently: kind == Watched::CreateDistributedTableConcurrently,
                table: facts,
                distribution_column: column,
                distribution_type: slots[2].clone().unwrap_or_else(|| "hash".into()),
                colocate_with: ColocateWith::parse(&slots[3].clone().unwrap_or_else(|| "default".into())),
                shard_count: int(4),
            },
            Watched::AlterDistributedTable => DistCall::AlterDistributedTable {
                table: facts,
                distribution_column: column,
                shard_count: int(2),
                colocate_with: slots[3].clone().map(|s| ColocateWith::parse(&s)),
                cascade_to_colocated: slots[4].clone().map(|s| matches!(s.as_str(), "true" | "t" | "on")),
            },
            Watched::UndistributeTable => DistCall::UndistributeTable { table: facts },
            Watched::UpdateDistributedTableColocation => DistCall::UpdateDistributedTableColocation {
                table: facts,
                colocate_with: ColocateWith::parse(&slots[1].clone().unwrap_or_default()),
            },
        };
        for f in self.sim.distribute(&dist) {
            self.push(&f);
        }
    }
}

/// Calls of the watched functions anywhere in a SELECT: target list, FROM functions,
/// sub-selects, CTEs, set operations, WHERE.
unsafe fn find_calls(node: *mut pg_sys::Node, out: &mut Vec<(Watched, *mut pg_sys::FuncCall)>) {
    if node.is_null() {
        return;
    }
    // SAFETY: casts follow the node tag.
    unsafe {
        match tag(node) {
            pg_sys::NodeTag::T_SelectStmt => {
                let s = node as *mut pg_sys::SelectStmt;
                for n in list_nodes((*s).targetList) {
                    find_calls(n, out);
                }
                for n in list_nodes((*s).fromClause) {
                    find_calls(n, out);
                }
                find_calls((*s).whereClause, out);
                if !(*s).withClause.is_null() {
                    for cte in list_nodes((*(*s).withClause).ctes) {
                        find_calls((*(cte as *mut pg_sys::CommonTableExpr)).ctequery, out);
                    }
                }
                find_calls((*s).larg as *mut pg_sys::Node, out);
                find_calls((*s).rarg as *mut pg_sys::Node, out);
            }
            pg_sys::NodeTag::T_ResTarget => find_calls((*(node as *mut pg_sys::ResTarget)).val, out),
            pg_sys::NodeTag::T_RangeFunction => {
                for item in list_nodes((*(node as *mut pg_sys::RangeFunction)).functions) {
                    for n in list_nodes(item as *mut pg_sys::List) {
                        find_calls(n, out);
                    }
                }
            }
            pg_sys::NodeTag::T_RangeSubselect => {
                find_calls((*(node as *mut pg_sys::RangeSubselect)).subquery, out)
            }
            pg_sys::NodeTag::T_SubLink => find_calls((*(node as *mut pg_sys::SubLink)).subselect, out),
            pg_sys::NodeTag::T_TypeCast => find_calls((*(node as *mut pg_sys::TypeCast)).arg, out),
            pg_sys::NodeTag::T_A_Expr => {
                let e = node as *mut pg_sys::A_Expr;
                find_calls((*e).lexpr, out);
                find_calls((*e).rexpr, out);
            }
            pg_sys::NodeTag::T_BoolExpr => {
                for n in list_nodes((*(node as *mut pg_sys::BoolExpr)).args) {
                    find_calls(n, out);
                }
            }
            pg_sys::NodeTag::T_FuncCall => {
                let f = node as *mut pg_sys::FuncCall;
                let name = last_name((*f).funcname);
                match Watched::ALL.iter().find(|w| w.proname() == name) {
                    Some(&w) => out.push((w, f)),
                    None => {
                        for n in list_nodes((*f).args) {
                            find_calls(n, out);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Checks a migration script without running it: one row per finding (and a note where
/// something cannot be checked statically), with the statement it belongs to.
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
    ),
> {
    let Some(sql) = sql else {
        ereport!(
            PgLogLevel::ERROR,
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "check_ddl needs the text of a migration script, not NULL"
        );
        unreachable!()
    };
    let Ok(c) = CString::new(sql) else {
        ereport!(
            PgLogLevel::ERROR,
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "check_ddl: the script contains a NUL character"
        );
        unreachable!()
    };
    // The parser raises an ERROR on a syntax error; that is the clear error to give.
    // SAFETY: raw parsing touches no catalog and runs nothing.
    let stmts = unsafe { list_nodes(pg_sys::raw_parser(c.as_ptr(), pg_sys::RawParseMode::RAW_PARSE_DEFAULT)) };
    let bytes = sql.as_bytes();
    let mut texts = Vec::with_capacity(stmts.len());
    for &raw in &stmts {
        // SAFETY: raw_parser returns RawStmt nodes with byte offsets into the script.
        let (node, start, len) = unsafe {
            let r = raw as *mut pg_sys::RawStmt;
            ((*r).stmt, (*r).stmt_location.max(0) as usize, (*r).stmt_len.max(0) as usize)
        };
        let end = if len == 0 { bytes.len() } else { (start + len).min(bytes.len()) };
        let text = String::from_utf8_lossy(&bytes[start.min(end)..end]).trim().to_string();
        texts.push((node, text));
    }
    let mut checker = Checker {
        sim: Simulation::new(facts::cluster(), facts::settings()),
        catalog: std::collections::HashMap::new(),
        tables: Vec::new(),
        enums: Vec::new(),
        rows: Vec::new(),
        statement: 0,
        text: "",
    };
    for (i, (node, text)) in texts.iter().enumerate() {
        checker.statement = i as i32 + 1;
        checker.text = text;
        // SAFETY: a statement node from raw_parser.
        unsafe { checker.statement(*node) };
    }
    TableIterator::new(checker.rows)
}
