//! `check --catalog`: check_ddl with no server. The script is parsed by libpg_query (PostgreSQL
//! 18's parser as a library, the `pg_query` crate) into the same owned
//! `sidecar_rules::script::Statement`s check_ddl builds from the server's raw parse tree
//! (src/api/check_ddl.rs, src/statements.rs), node by node, and checked by the same
//! `check_script` against a catalog snapshot instead of the live catalog. Each function below
//! names the one of check_ddl it mirrors.

use std::ffi::{c_char, c_int, CStr, CString};

use pg_query::protobuf::{self, a_const, node::Node as N, Node};
use sidecar_rules::finding::Severity;
use sidecar_rules::metadata::StatementKind as K;
use sidecar_rules::psql::{blank_client_side, statement_at, Blanked, Positions};
use sidecar_rules::script::{
    check_script, NotConstant, Outcome, ScriptArg, ScriptCall, ScriptColumn, ScriptTable, Statement,
};
use sidecar_rules::snapshot::CatalogSnapshot;
use sidecar_rules::CitusFunction;

use crate::catalog::SnapshotCatalog;
use crate::finding::{FileError, Row};

// libpg_query's own entry point, for the one thing the pg_query crate drops: where a syntax
// error is (its `cursorpos`). The crate links the library; these are its C declarations
// (pg_query.h).
#[repr(C)]
struct PgQueryError {
    message: *mut c_char,
    funcname: *mut c_char,
    filename: *mut c_char,
    lineno: c_int,
    cursorpos: c_int,
    context: *mut c_char,
}

#[repr(C)]
struct PgQueryParseResult {
    parse_tree: *mut c_char,
    stderr_buffer: *mut c_char,
    error: *mut PgQueryError,
}

extern "C" {
    fn pg_query_parse(input: *const c_char) -> PgQueryParseResult;
    fn pg_query_free_parse_result(result: PgQueryParseResult);
}

/// The parser's message and cursor position (1-based, in characters; 0 when none) for a
/// script that does not parse.
fn syntax_error(sql: &str) -> Option<(String, usize)> {
    let c = CString::new(sql).ok()?;
    // SAFETY: libpg_query's documented API: a NUL-terminated input, a result freed once.
    unsafe {
        let r = pg_query_parse(c.as_ptr());
        let out = (!r.error.is_null()).then(|| {
            let e = &*r.error;
            let msg = if e.message.is_null() {
                String::from("syntax error")
            } else {
                CStr::from_ptr(e.message).to_string_lossy().into_owned()
            };
            (msg, e.cursorpos.max(0) as usize)
        });
        pg_query_free_parse_result(r);
        out
    }
}

/// check_ddl's `parse`: the statements with their byte ranges, or the error it raises.
fn parse(sql: &str, original: &str) -> Result<Vec<(Node, usize, usize)>, FileError> {
    match pg_query::parse(sql, 0) {
        Ok(r) => Ok(r
            .protobuf
            .stmts
            .into_iter()
            .map(|s| {
                let node = s.stmt.map(|b| *b).unwrap_or_default();
                (
                    node,
                    s.stmt_location.max(0) as usize,
                    s.stmt_len.max(0) as usize,
                )
            })
            .collect()),
        Err(e) => {
            let (message, pos) = syntax_error(sql).unwrap_or_else(|| (e.to_string(), 0));
            let at = pos.max(1) - 1;
            let byte = sql
                .char_indices()
                .nth(at)
                .map(|(b, _)| b)
                .unwrap_or(sql.len());
            let (line, col) = Positions::new(original).at(byte);
            Err(FileError::syntax(message, line, col, original))
        }
    }
}

fn strings(list: &[Node]) -> Vec<String> {
    list.iter()
        .filter_map(|n| match &n.node {
            Some(N::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// A relation as a statement names it: (schema, name), schema None when unqualified.
type Named = (Option<String>, String);

/// statements.rs `target_of`: a RangeVar's schema and name.
fn target_of(rv: &Option<protobuf::RangeVar>) -> Option<Named> {
    let rv = rv.as_ref()?;
    Some((opt(&rv.schemaname), opt(&rv.relname)?))
}

fn one(rv: &Option<protobuf::RangeVar>) -> Vec<Named> {
    target_of(rv).into_iter().collect()
}

fn targets(list: &[Node]) -> Vec<Named> {
    list.iter()
        .filter_map(|n| match &n.node {
            Some(N::RangeVar(rv)) => target_of(&Some(rv.clone())),
            _ => None,
        })
        .collect()
}

/// statements.rs `target_of_names`.
fn target_of_names(names: &Node, drop_last: bool) -> Option<Named> {
    let Some(N::List(l)) = &names.node else {
        return None;
    };
    let mut parts = strings(&l.items);
    if drop_last {
        parts.pop();
    }
    match parts.as_slice() {
        [rel] => Some((None, rel.clone())),
        [schema, rel] | [_, schema, rel] => Some((Some(schema.clone()), rel.clone())),
        _ => None,
    }
}

/// statements.rs `relation_statement`: what a utility statement does to which relations.
fn relation_statement(n: &N) -> Option<(K, Vec<Named>)> {
    use protobuf::ObjectType as O;
    let ot = |v: i32| O::try_from(v).unwrap_or(O::Undefined);
    Some(match n {
        N::TruncateStmt(s) => (K::Truncate, targets(&s.relations)),
        N::CopyStmt(s) => (
            if s.is_from { K::CopyFrom } else { K::CopyTo },
            one(&s.relation),
        ),
        N::AlterTableStmt(s) => {
            let kind = match ot(s.objtype) {
                O::ObjectIndex => K::AlterIndex,
                O::ObjectView | O::ObjectMatview => K::AlterView,
                O::ObjectSequence => K::AlterSequence,
                _ => K::AlterTable,
            };
            (kind, one(&s.relation))
        }
        N::AlterSeqStmt(s) => (K::AlterSequence, one(&s.sequence)),
        N::RenameStmt(s) => (K::Rename, one(&s.relation)),
        N::AlterObjectSchemaStmt(s) => (K::SetSchema, one(&s.relation)),
        N::IndexStmt(s) => (K::CreateIndex, one(&s.relation)),
        N::CreateTrigStmt(s) => (K::CreateTrigger, one(&s.relation)),
        N::RuleStmt(s) => (K::CreateRule, one(&s.relation)),
        N::CreatePolicyStmt(s) => (K::CreatePolicy, one(&s.table)),
        N::AlterPolicyStmt(s) => (K::AlterPolicy, one(&s.table)),
        N::LockStmt(s) => (K::Lock, targets(&s.relations)),
        N::CommentStmt(_) => (K::CommentOn, Vec::new()),
        N::DropStmt(s) => {
            let (kind, member) = match ot(s.remove_type) {
                O::ObjectTable => (K::DropTable, false),
                O::ObjectIndex => (K::DropIndex, false),
                O::ObjectSequence => (K::DropSequence, false),
                O::ObjectView => (K::DropView, false),
                O::ObjectTrigger => (K::DropTrigger, true),
                O::ObjectRule => (K::DropRule, true),
                O::ObjectPolicy => (K::DropPolicy, true),
                _ => return None,
            };
            (
                kind,
                s.objects
                    .iter()
                    .filter_map(|o| target_of_names(o, member))
                    .collect(),
            )
        }
        N::GrantStmt(g) => {
            use protobuf::GrantTargetType as G;
            let kind = if g.is_grant { K::Grant } else { K::Revoke };
            if !matches!(ot(g.objtype), O::ObjectTable | O::ObjectSequence) {
                return None;
            }
            match G::try_from(g.targtype).unwrap_or(G::Undefined) {
                G::AclTargetObject => (kind, targets(&g.objects)),
                G::AclTargetAllInSchema => {
                    let catalog = strings(&g.objects).iter().any(|s| s == "pg_catalog");
                    let all = (
                        Some("pg_catalog".to_string()),
                        "pg_dist_partition".to_string(),
                    );
                    (kind, if catalog { vec![all] } else { Vec::new() })
                }
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// check_ddl's `constant`.
fn constant(n: &Node) -> Result<Option<String>, NotConstant> {
    match &n.node {
        Some(N::AConst(c)) => {
            if c.isnull {
                return Ok(None);
            }
            Ok(Some(match &c.val {
                Some(a_const::Val::Ival(i)) => i.ival.to_string(),
                Some(a_const::Val::Fval(f)) => f.fval.clone(),
                Some(a_const::Val::Boolval(b)) => b.boolval.to_string(),
                Some(a_const::Val::Sval(s)) => s.sval.clone(),
                Some(a_const::Val::Bsval(b)) => b.bsval.clone(),
                None => return Err(NotConstant),
            }))
        }
        Some(N::TypeCast(t)) => match &t.arg {
            Some(a) => constant(a),
            None => Err(NotConstant),
        },
        _ => Err(NotConstant),
    }
}

/// A watched call, as check_ddl's walker records it.
fn watched_call(f: &protobuf::FuncCall) -> Option<ScriptCall> {
    let parts = strings(&f.funcname);
    let function = match parts.as_slice() {
        [name] => CitusFunction::from_name(name),
        [schema, name] if schema == "pg_catalog" => CitusFunction::from_name(name),
        _ => None,
    }?;
    let args = f
        .args
        .iter()
        .map(|a| match &a.node {
            Some(N::NamedArgExpr(na)) => ScriptArg {
                name: opt(&na.name),
                value: na.arg.as_deref().map(constant).unwrap_or(Err(NotConstant)),
            },
            _ => ScriptArg {
                name: None,
                value: constant(a),
            },
        })
        .collect();
    Some(ScriptCall { function, args })
}

/// check_ddl's `calls_in`: every watched call, in the order PostgreSQL's
/// `raw_expression_tree_walker` (nodeFuncs.c) visits them: the node first, then its children
/// in the walker's order, through the same fields it descends into.
fn calls_in(n: &Node, out: &mut Vec<ScriptCall>) {
    if let Some(node) = &n.node {
        walk(node, out);
    }
}

fn walk_all(list: &[Node], out: &mut Vec<ScriptCall>) {
    for n in list {
        calls_in(n, out);
    }
}

fn walk_opt(n: &Option<Box<Node>>, out: &mut Vec<ScriptCall>) {
    if let Some(n) = n {
        calls_in(n, out);
    }
}

fn walk(node: &N, out: &mut Vec<ScriptCall>) {
    let o = out;
    match node {
        N::RangeVar(_) | N::Alias(_) | N::ColumnRef(_) => {}
        N::GroupingFunc(g) => walk_all(&g.args, o),
        N::SubLink(s) => {
            walk_opt(&s.testexpr, o);
            walk_opt(&s.subselect, o);
        }
        N::CaseExpr(c) => {
            walk_opt(&c.arg, o);
            for w in &c.args {
                if let Some(N::CaseWhen(w)) = &w.node {
                    walk_opt(&w.expr, o);
                    walk_opt(&w.result, o);
                }
            }
            walk_opt(&c.defresult, o);
        }
        N::RowExpr(r) => walk_all(&r.args, o),
        N::CoalesceExpr(c) => walk_all(&c.args, o),
        N::MinMaxExpr(m) => walk_all(&m.args, o),
        N::XmlExpr(x) => {
            walk_all(&x.named_args, o);
            walk_all(&x.args, o);
        }
        N::JsonValueExpr(j) => {
            walk_opt(&j.raw_expr, o);
            walk_opt(&j.formatted_expr, o);
        }
        N::JsonParseExpr(j) => {
            if let Some(e) = &j.expr {
                walk(&N::JsonValueExpr(e.clone()), o);
            }
            json_output(&j.output, o);
        }
        N::JsonScalarExpr(j) => {
            walk_opt(&j.expr, o);
            json_output(&j.output, o);
        }
        N::JsonSerializeExpr(j) => {
            if let Some(e) = &j.expr {
                walk(&N::JsonValueExpr(e.clone()), o);
            }
            json_output(&j.output, o);
        }
        N::JsonConstructorExpr(j) => {
            walk_all(&j.args, o);
            walk_opt(&j.func, o);
            walk_opt(&j.coercion, o);
        }
        N::JsonIsPredicate(j) => walk_opt(&j.expr, o),
        N::JsonArgument(j) => {
            if let Some(e) = &j.val {
                walk(&N::JsonValueExpr(e.clone()), o);
            }
        }
        N::JsonFuncExpr(j) => {
            if let Some(e) = &j.context_item {
                walk(&N::JsonValueExpr(e.clone()), o);
            }
            walk_opt(&j.pathspec, o);
            walk_all(&j.passing, o);
            json_output(&j.output, o);
            if let Some(b) = &j.on_empty {
                walk_opt(&b.expr, o);
            }
            if let Some(b) = &j.on_error {
                walk_opt(&b.expr, o);
            }
        }
        N::JsonBehavior(b) => walk_opt(&b.expr, o),
        N::JsonTable(j) => {
            if let Some(e) = &j.context_item {
                walk(&N::JsonValueExpr(e.clone()), o);
            }
            if let Some(p) = &j.pathspec {
                walk_opt(&p.string, o);
            }
            walk_all(&j.passing, o);
            walk_all(&j.columns, o);
            if let Some(b) = &j.on_error {
                walk_opt(&b.expr, o);
            }
        }
        N::JsonTableColumn(c) => {
            if let Some(t) = &c.type_name {
                type_name(t, o);
            }
            if let Some(b) = &c.on_empty {
                walk_opt(&b.expr, o);
            }
            if let Some(b) = &c.on_error {
                walk_opt(&b.expr, o);
            }
            walk_all(&c.columns, o);
        }
        N::JsonTablePathSpec(p) => walk_opt(&p.string, o),
        N::NullTest(t) => walk_opt(&t.arg, o),
        N::BooleanTest(t) => walk_opt(&t.arg, o),
        N::JoinExpr(j) => {
            walk_opt(&j.larg, o);
            walk_opt(&j.rarg, o);
            walk_opt(&j.quals, o);
        }
        N::IntoClause(_) => {}
        N::List(l) => walk_all(&l.items, o),
        N::InsertStmt(s) => {
            walk_all(&s.cols, o);
            walk_opt(&s.select_stmt, o);
            if let Some(c) = &s.on_conflict_clause {
                walk(&N::OnConflictClause(c.clone()), o);
            }
            returning(&s.returning_clause, o);
            with(&s.with_clause, o);
        }
        N::DeleteStmt(s) => {
            walk_all(&s.using_clause, o);
            walk_opt(&s.where_clause, o);
            returning(&s.returning_clause, o);
            with(&s.with_clause, o);
        }
        N::UpdateStmt(s) => {
            walk_all(&s.target_list, o);
            walk_opt(&s.where_clause, o);
            walk_all(&s.from_clause, o);
            returning(&s.returning_clause, o);
            with(&s.with_clause, o);
        }
        N::MergeStmt(s) => {
            walk_opt(&s.source_relation, o);
            walk_opt(&s.join_condition, o);
            walk_all(&s.merge_when_clauses, o);
            returning(&s.returning_clause, o);
            with(&s.with_clause, o);
        }
        N::MergeWhenClause(m) => {
            walk_opt(&m.condition, o);
            walk_all(&m.target_list, o);
            walk_all(&m.values, o);
        }
        N::ReturningClause(r) => walk_all(&r.exprs, o),
        N::SelectStmt(s) => select(s, o),
        N::AExpr(e) => {
            walk_opt(&e.lexpr, o);
            walk_opt(&e.rexpr, o);
        }
        N::BoolExpr(e) => walk_all(&e.args, o),
        N::FuncCall(f) => {
            if let Some(c) = watched_call(f) {
                o.push(c);
            }
            walk_all(&f.args, o);
            walk_all(&f.agg_order, o);
            walk_opt(&f.agg_filter, o);
            if let Some(w) = &f.over {
                window(w, o);
            }
        }
        N::NamedArgExpr(a) => walk_opt(&a.arg, o),
        N::AIndices(i) => {
            walk_opt(&i.lidx, o);
            walk_opt(&i.uidx, o);
        }
        N::AIndirection(i) => {
            walk_opt(&i.arg, o);
            walk_all(&i.indirection, o);
        }
        N::AArrayExpr(a) => walk_all(&a.elements, o),
        N::ResTarget(r) => {
            walk_all(&r.indirection, o);
            walk_opt(&r.val, o);
        }
        N::MultiAssignRef(m) => walk_opt(&m.source, o),
        N::TypeCast(t) => {
            walk_opt(&t.arg, o);
            if let Some(tn) = &t.type_name {
                type_name(tn, o);
            }
        }
        N::CollateClause(c) => walk_opt(&c.arg, o),
        N::SortBy(s) => walk_opt(&s.node, o),
        N::WindowDef(w) => window(w, o),
        N::RangeSubselect(r) => walk_opt(&r.subquery, o),
        N::RangeFunction(r) => {
            walk_all(&r.functions, o);
            walk_all(&r.coldeflist, o);
        }
        N::RangeTableSample(r) => {
            walk_opt(&r.relation, o);
            walk_all(&r.args, o);
            walk_opt(&r.repeatable, o);
        }
        N::RangeTableFunc(r) => {
            walk_opt(&r.docexpr, o);
            walk_opt(&r.rowexpr, o);
            walk_all(&r.namespaces, o);
            walk_all(&r.columns, o);
        }
        N::RangeTableFuncCol(c) => {
            walk_opt(&c.colexpr, o);
            walk_opt(&c.coldefexpr, o);
        }
        N::TypeName(t) => type_name(t, o),
        N::ColumnDef(c) => {
            if let Some(t) = &c.type_name {
                type_name(t, o);
            }
            walk_opt(&c.raw_default, o);
            if let Some(cc) = &c.coll_clause {
                walk_opt(&cc.arg, o);
            }
        }
        N::IndexElem(e) => walk_opt(&e.expr, o),
        N::GroupingSet(g) => walk_all(&g.content, o),
        N::LockingClause(l) => walk_all(&l.locked_rels, o),
        N::XmlSerialize(x) => {
            walk_opt(&x.expr, o);
            if let Some(t) = &x.type_name {
                type_name(t, o);
            }
        }
        N::WithClause(w) => walk_all(&w.ctes, o),
        N::InferClause(i) => {
            walk_all(&i.index_elems, o);
            walk_opt(&i.where_clause, o);
        }
        N::OnConflictClause(c) => {
            if let Some(i) = &c.infer {
                walk_all(&i.index_elems, o);
                walk_opt(&i.where_clause, o);
            }
            walk_all(&c.target_list, o);
            walk_opt(&c.where_clause, o);
        }
        N::CommonTableExpr(c) => walk_opt(&c.ctequery, o),
        N::JsonOutput(j) => json_output(&Some(j.clone()), o),
        N::JsonKeyValue(kv) => {
            walk_opt(&kv.key, o);
            if let Some(v) = &kv.value {
                walk(&N::JsonValueExpr(v.clone()), o);
            }
        }
        N::JsonObjectConstructor(j) => {
            json_output(&j.output, o);
            walk_all(&j.exprs, o);
        }
        N::JsonArrayConstructor(j) => {
            json_output(&j.output, o);
            walk_all(&j.exprs, o);
        }
        N::JsonAggConstructor(j) => json_agg(j, o),
        N::JsonObjectAgg(j) => {
            if let Some(c) = &j.constructor {
                json_agg(c, o);
            }
            if let Some(kv) = &j.arg {
                walk(&N::JsonKeyValue(kv.clone()), o);
            }
        }
        N::JsonArrayAgg(j) => {
            if let Some(c) = &j.constructor {
                json_agg(c, o);
            }
            if let Some(v) = &j.arg {
                walk(&N::JsonValueExpr(v.clone()), o);
            }
        }
        N::JsonArrayQueryConstructor(j) => {
            json_output(&j.output, o);
            walk_opt(&j.query, o);
        }
        _ => {}
    }
}

fn select(s: &protobuf::SelectStmt, o: &mut Vec<ScriptCall>) {
    walk_all(&s.distinct_clause, o);
    // intoClause: rel (a RangeVar) and viewQuery (NULL in a raw tree): nothing to find.
    walk_all(&s.target_list, o);
    walk_all(&s.from_clause, o);
    walk_opt(&s.where_clause, o);
    walk_all(&s.group_clause, o);
    walk_opt(&s.having_clause, o);
    walk_all(&s.window_clause, o);
    walk_all(&s.values_lists, o);
    walk_all(&s.sort_clause, o);
    walk_opt(&s.limit_offset, o);
    walk_opt(&s.limit_count, o);
    walk_all(&s.locking_clause, o);
    with(&s.with_clause, o);
    if let Some(l) = &s.larg {
        select(l, o);
    }
    if let Some(r) = &s.rarg {
        select(r, o);
    }
}

fn with(w: &Option<protobuf::WithClause>, o: &mut Vec<ScriptCall>) {
    if let Some(w) = w {
        walk_all(&w.ctes, o);
    }
}

fn returning(r: &Option<protobuf::ReturningClause>, o: &mut Vec<ScriptCall>) {
    if let Some(r) = r {
        walk_all(&r.exprs, o);
    }
}

fn window(w: &protobuf::WindowDef, o: &mut Vec<ScriptCall>) {
    walk_all(&w.partition_clause, o);
    walk_all(&w.order_clause, o);
    walk_opt(&w.start_offset, o);
    walk_opt(&w.end_offset, o);
}

fn type_name(t: &protobuf::TypeName, o: &mut Vec<ScriptCall>) {
    walk_all(&t.typmods, o);
    walk_all(&t.array_bounds, o);
}

fn json_output(j: &Option<protobuf::JsonOutput>, o: &mut Vec<ScriptCall>) {
    if let Some(t) = j.as_ref().and_then(|j| j.type_name.as_ref()) {
        type_name(t, o);
    }
}

fn json_agg(j: &protobuf::JsonAggConstructor, o: &mut Vec<ScriptCall>) {
    json_output(&j.output, o);
    walk_all(&j.agg_order, o);
    walk_opt(&j.agg_filter, o);
    if let Some(w) = &j.over {
        window(w, o);
    }
}

/// PostgreSQL's `TypeNameToString`: the names as written, joined with dots, `%TYPE`, `[]`.
fn type_name_to_string(t: &protobuf::TypeName) -> String {
    let mut s = strings(&t.names).join(".");
    if t.pct_type {
        s.push_str("%TYPE");
    }
    if !t.array_bounds.is_empty() {
        s.push_str("[]");
    }
    s
}

/// check_ddl's `create_table`.
fn create_table(c: &protobuf::CreateStmt, cat: &SnapshotCatalog) -> Option<ScriptTable> {
    use protobuf::ConstrType as C;
    let (schema, name) = target_of(&c.relation)?;
    let mut t = ScriptTable {
        name: schema.into_iter().chain([name]).collect(),
        columns: Vec::new(),
        primary_key: Vec::new(),
    };
    let ct = |v: i32| C::try_from(v).unwrap_or(C::Undefined);
    let mut table_not_null = Vec::new();
    for elt in &c.table_elts {
        match &elt.node {
            Some(N::ColumnDef(cd)) => {
                let name = cd.colname.clone();
                let tn = cd.type_name.clone().unwrap_or_default();
                let type_names = strings(&tn.names);
                let serial = matches!(
                    type_names.last().map(String::as_str),
                    Some(
                        "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2"
                    )
                );
                let mut not_null = cd.is_not_null || serial;
                for con in &cd.constraints {
                    if let Some(N::Constraint(con)) = &con.node {
                        match ct(con.contype) {
                            C::ConstrNotnull => not_null = true,
                            C::ConstrPrimary => {
                                not_null = true;
                                t.primary_key.push(name.clone());
                            }
                            _ => {}
                        }
                    }
                }
                let oid = cat.type_oid(&type_names, !tn.array_bounds.is_empty());
                t.columns.push(ScriptColumn {
                    type_name: type_name_to_string(&tn),
                    type_facts: oid.and_then(|o| cat.type_facts(o)),
                    collation: cd
                        .coll_clause
                        .as_ref()
                        .and_then(|cc| cat.collation_oid(&strings(&cc.collname))),
                    not_null,
                    name,
                });
            }
            Some(N::Constraint(con)) => {
                let keys = strings(&con.keys);
                match ct(con.contype) {
                    C::ConstrPrimary => {
                        t.primary_key.extend(keys.iter().cloned());
                        table_not_null.extend(keys);
                    }
                    C::ConstrNotnull => table_not_null.extend(keys),
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

/// The settings the rules follow take one value; PostgreSQL refuses a list for them
/// (`flatten_set_variable_args`), and so does check_ddl, with the same message.
const ONE_VALUE_SETTINGS: [&str; 2] = ["citus.shard_count", "citus.shard_replication_factor"];

/// `ExtractSetVariableArgs`: a SET's value as text.
fn set_value(name: &str, args: &[Node]) -> Result<Option<String>, FileError> {
    if args.is_empty() {
        return Ok(None);
    }
    if args.len() != 1 && ONE_VALUE_SETTINGS.contains(&name) {
        return Err(FileError::plain(format!(
            "SET {name} takes only one argument"
        )));
    }
    let mut parts = Vec::new();
    for a in args {
        let a = match &a.node {
            Some(N::TypeCast(t)) => t.arg.as_deref().cloned().unwrap_or_default(),
            _ => a.clone(),
        };
        parts.push(match &a.node {
            Some(N::AConst(c)) => match &c.val {
                Some(a_const::Val::Ival(i)) => i.ival.to_string(),
                Some(a_const::Val::Fval(f)) => f.fval.clone(),
                Some(a_const::Val::Sval(s)) => s.sval.clone(),
                Some(a_const::Val::Boolval(b)) => b.boolval.to_string(),
                Some(a_const::Val::Bsval(b)) => b.bsval.clone(),
                None => String::new(),
            },
            _ => String::new(),
        });
    }
    Ok(Some(parts.join(", ")))
}

/// check_ddl's `convert`: one raw statement as the rules' owned values.
/// The relations a query statement writes: its own target and those of its data-modifying
/// CTEs, as check_ddl reads them.
fn writes(n: &N, depth: usize) -> Result<Vec<Statement>, FileError> {
    if depth > 64 {
        return Err(FileError::plain(
            "check_ddl: a statement is nested too deeply to check".into(),
        ));
    }
    let (kind, relation, with, select) = match n {
        N::SelectStmt(s) => (None, &None, &s.with_clause, &None),
        N::InsertStmt(s) => (Some(K::Insert), &s.relation, &s.with_clause, &s.select_stmt),
        N::UpdateStmt(s) => (Some(K::Update), &s.relation, &s.with_clause, &None),
        N::DeleteStmt(s) => (Some(K::Delete), &s.relation, &s.with_clause, &None),
        N::MergeStmt(s) => (Some(K::Merge), &s.relation, &s.with_clause, &None),
        _ => return Ok(Vec::new()),
    };
    let mut out = Vec::new();
    if let Some(kind) = kind {
        out.push(Statement::Relations {
            kind,
            relations: one(relation),
        });
    }
    for cte in with.iter().flat_map(|w| &w.ctes) {
        if let Some(N::CommonTableExpr(c)) = &cte.node {
            if let Some(q) = c.ctequery.as_ref().and_then(|q| q.node.as_ref()) {
                out.extend(writes(q, depth + 1)?);
            }
        }
    }
    if let Some(q) = select.as_ref().and_then(|q| q.node.as_ref()) {
        out.extend(writes(q, depth + 1)?);
    }
    Ok(out)
}

fn convert(node: &Node, cat: &SnapshotCatalog) -> Result<Vec<Statement>, FileError> {
    let Some(n) = &node.node else {
        return Ok(vec![Statement::Other]);
    };
    let with_calls = |mut v: Vec<Statement>| {
        let mut calls = Vec::new();
        calls_in(node, &mut calls);
        if !calls.is_empty() {
            v.push(Statement::Calls(calls));
        }
        v
    };
    let inner = |q: &Option<Box<Node>>| match q {
        Some(q) => convert(q, cat),
        None => Ok(vec![Statement::Other]),
    };
    Ok(match n {
        N::VariableSetStmt(s) => {
            use protobuf::VariableSetKind as V;
            match V::try_from(s.kind).unwrap_or(V::Undefined) {
                V::VarSetValue => vec![Statement::Set {
                    name: s.name.clone(),
                    value: set_value(&s.name, &s.args)?,
                }],
                V::VarSetDefault | V::VarReset => vec![Statement::Set {
                    name: s.name.clone(),
                    value: None,
                }],
                V::VarResetAll => ONE_VALUE_SETTINGS
                    .into_iter()
                    .map(|n| Statement::Set {
                        name: n.into(),
                        value: None,
                    })
                    .collect(),
                _ => vec![],
            }
        }
        N::CreateStmt(c) => create_table(c, cat)
            .map(Statement::CreateTable)
            .into_iter()
            .collect(),
        N::CreateEnumStmt(e) => strings(&e.type_name)
            .pop()
            .map(|name| Statement::CreateEnum { name })
            .into_iter()
            .collect(),
        N::SelectStmt(_)
        | N::InsertStmt(_)
        | N::UpdateStmt(_)
        | N::DeleteStmt(_)
        | N::MergeStmt(_) => with_calls(writes(n, 0)?),
        N::ExplainStmt(s) => inner(&s.query)?,
        N::PrepareStmt(s) => inner(&s.query)?,
        N::CreateTableAsStmt(s) => inner(&s.query)?,
        N::DeclareCursorStmt(s) => inner(&s.query)?,
        N::CopyStmt(c) => match &c.query {
            None => relation_statement(n)
                .map(|(kind, relations)| Statement::Relations { kind, relations })
                .into_iter()
                .collect(),
            Some(q) => convert(q, cat)?,
        },
        N::DoStmt(_) => vec![Statement::Do],
        N::CreateFunctionStmt(_) => vec![Statement::FunctionBody],
        other => match relation_statement(other) {
            Some((kind, relations)) => vec![Statement::Relations { kind, relations }],
            None => vec![Statement::Other],
        },
    })
}

/// check_ddl(script) against a snapshot: the same rows, in the same order.
pub fn check(original: &str, snap: &CatalogSnapshot) -> Result<Vec<Row>, FileError> {
    if original.contains('\0') {
        return Err(FileError::plain(
            "check_ddl: the script contains a NUL character".into(),
        ));
    }
    let (sql, blanked) = blank_client_side(original);
    let raw = parse(&sql, original)?;
    let cat = SnapshotCatalog::new(snap);
    let mut positions = Positions::new(original);
    let mut statements = Vec::new();
    let mut texts = Vec::with_capacity(raw.len());
    for (i, (node, loc, len)) in raw.iter().enumerate() {
        texts.push(statement_at(&sql, original, *loc, *len, &mut positions));
        for st in convert(node, &cat)? {
            statements.push((i, st));
        }
    }
    let mut catalog = SnapshotCatalog::new(snap);
    let outcomes = check_script(
        &statements,
        snap.cluster.clone(),
        snap.settings,
        &mut catalog,
    );
    let mut rows = Vec::new();
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
        rows.push(Row::note(0, String::new(), what, line as i32, 1));
    }
    for (i, outcome) in outcomes {
        let (text, (line, col)) = texts[i].clone();
        let n = i as i32 + 1;
        rows.push(match outcome {
            Outcome::Finding(f) => Row {
                statement: n,
                statement_text: text,
                rule_id: Some(f.rule.as_str().to_string()),
                severity: match f.severity {
                    Severity::Block => "block".into(),
                    Severity::Warn => "warn".into(),
                },
                sqlstate: Some(f.sqlstate().to_string()),
                message: f.message,
                detail: Some(f.detail),
                hint: Some(f.hint),
                remediation: f.remediation,
                line,
                col,
            },
            Outcome::Note(m) => Row::note(n, text, m, line, col),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_say_where() {
        let (m, pos) = syntax_error("SELECT 1;\nSELEC x").unwrap();
        assert_eq!(m, "syntax error at or near \"SELEC\"");
        assert_eq!(pos, 11);
    }
}
