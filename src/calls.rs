//! Distribution calls, from the parse tree to the rules.
//!
//! Planning: [`route_watched_calls`] finds every call of a watched Citus function in the
//! query (target lists, FROM-clause functions, sublinks, CTEs), expands named and default
//! arguments exactly as the planner would, and rewrites the call to
//! `citus_sidecar.guarded_call(<function oid>, <arguments>...)`.
//!
//! Execution: `guarded_call` receives the argument values the call really runs with (literals,
//! casts, expressions, PL/pgSQL variables, parameters of generic plans), reads the live catalog
//! and the effective `citus.shard_count`, asks the rules, raises what they return and, if
//! nothing blocks, calls Citus's function with the same arguments. Checking at execution
//! rather than at planning is what makes cached plans and `set_config()` safe.

use std::cell::Cell;
use std::ffi::{c_void, CStr};

use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::{PgLogLevel, PgSqlErrorCode};
use sidecar_rules::call::{
    describe_call, Arg, Catalog, CitusFunction, ParamType, RelationRef, Value,
};
use sidecar_rules::{check_distribution_call, TableFacts};

use crate::catalog::{self, BackendLocal};
use crate::{decisions, facts, report};

// PostgreSQL's tree walkers, declared here rather than through pgrx's wrappers: the planner hook
// walks every query, and pgrx's wrapper would set up an FFI error boundary (sigsetjmp) for every
// node visited. The walk only reads tags and OIDs; the callback neither allocates (unless it
// finds a watched call) nor panics, and keeps no value with a destructor on the stack.
unsafe extern "C" {
    // PostgreSQL 16 made these macros over `*_impl` functions with the same signature.
    #[cfg_attr(feature = "pg15", link_name = "query_tree_walker")]
    #[cfg_attr(not(feature = "pg15"), link_name = "query_tree_walker_impl")]
    fn pg_query_tree_walker(
        query: *mut pg_sys::Query,
        walker: unsafe extern "C" fn(*mut pg_sys::Node, *mut c_void) -> bool,
        context: *mut c_void,
        flags: std::ffi::c_int,
    ) -> bool;
    #[cfg_attr(feature = "pg15", link_name = "expression_tree_walker")]
    #[cfg_attr(not(feature = "pg15"), link_name = "expression_tree_walker_impl")]
    fn pg_expression_tree_walker(
        node: *mut pg_sys::Node,
        walker: unsafe extern "C" fn(*mut pg_sys::Node, *mut c_void) -> bool,
        context: *mut c_void,
    ) -> bool;
}

/// Marks the target-function constant of a call the planner hook built: a typmod SQL cannot
/// give an `oid` constant, so `guarded_call` can tell its own calls from hand-written ones.
const ROUTED_TYPMOD: i32 = 0x5c1d_ca11;

// Also declared here: the walk runs with no pgrx guard on the stack (see hooks/planner.rs), so a
// PostgreSQL ERROR in these (out of memory, stack depth) must longjmp, not become a Rust panic.
unsafe extern "C-unwind" {
    #[link_name = "lappend"]
    fn pg_lappend(list: *mut pg_sys::List, datum: *mut c_void) -> *mut pg_sys::List;
    #[link_name = "stack_is_too_deep"]
    fn pg_stack_is_too_deep() -> bool;
}

/// Calls of functions that are not built into PostgreSQL anywhere in `parse` (only those can be
/// Citus's), as a PostgreSQL List of FuncExpr; NIL for most queries. Runs for every planned
/// query: it reads tags and OIDs, allocates nothing but that List, never panics, and keeps no
/// value with a destructor on the stack (an ERROR of PostgreSQL's may longjmp through it).
///
/// # Safety
/// `parse` must be a valid Query owned by the caller's planning run.
pub unsafe fn candidate_calls(parse: *mut pg_sys::Query) -> *mut pg_sys::List {
    let mut found: *mut pg_sys::List = std::ptr::null_mut();
    // SAFETY: walking a valid tree; `collect` only reads tags and OIDs.
    unsafe { pg_query_tree_walker(parse, collect, (&raw mut found).cast(), 0) };
    found
}

/// Routes every call of a watched function among `candidates` through `guarded_call`.
///
/// # Safety
/// `candidates` is what [`candidate_calls`] returned for the Query being planned.
pub unsafe fn route_watched_calls(candidates: *mut pg_sys::List) {
    // SAFETY: FuncExprs of the Query being planned.
    unsafe {
        for f in crate::statements::ptr_list::<pg_sys::FuncExpr>(candidates) {
            // Classified now (not while walking), and again for a node met twice (PostgreSQL 18
            // walks GROUP BY expressions twice): once routed, it calls guarded_call, not Citus.
            if catalog::watched((*f).funcid).is_some() {
                reroute(f);
            }
        }
    }
}

/// The walker's callback. PostgreSQL's query_tree_walker calls it for every field of a Query,
/// most of them empty: an empty one costs a compare here, not the frame of [`collect_node`].
unsafe extern "C" fn collect(node: *mut pg_sys::Node, ctx: *mut c_void) -> bool {
    if node.is_null() {
        return false;
    }
    // SAFETY: a node of the tree being walked; ctx is our List pointer.
    unsafe { collect_node(node, ctx) }
}

/// [`collect`] for a node that is there. The nodes every routed query is made of (target
/// entries, operators, boolean expressions, lists, FROM lists, variables, constants,
/// parameters) are walked here directly; everything else through PostgreSQL's walker, which
/// knows every node type.
///
/// # Safety
/// `node` is a non-NULL node of the tree being walked; `ctx` is [`candidate_calls`]'s List
/// pointer.
#[inline(never)]
unsafe fn collect_node(node: *mut pg_sys::Node, ctx: *mut c_void) -> bool {
    // SAFETY: every Node starts with its tag; casts follow the tag; ctx is our List pointer.
    unsafe {
        // Deep trees go to PostgreSQL's walker, whose stack check raises a clean ERROR.
        if pg_stack_is_too_deep() {
            return pg_expression_tree_walker(node, collect, ctx);
        }
        let each = |list: *mut pg_sys::List, ctx: *mut c_void| -> bool {
            if list.is_null() {
                return false;
            }
            for i in 0..(*list).length as usize {
                if collect(
                    (*(*list).elements.add(i)).ptr_value as *mut pg_sys::Node,
                    ctx,
                ) {
                    return true;
                }
            }
            false
        };
        use pg_sys::NodeTag::*;
        match (*node).type_ {
            T_Var | T_Const | T_Param | T_RangeTblRef | T_CaseTestExpr | T_SQLValueFunction => {
                false
            }
            T_Query => pg_query_tree_walker(node.cast(), collect, ctx, 0),
            T_FuncExpr => {
                let f = node as *mut pg_sys::FuncExpr;
                if (*f).funcid.to_u32() >= pg_sys::FirstNormalObjectId {
                    let list = ctx as *mut *mut pg_sys::List;
                    *list = pg_lappend(*list, node.cast());
                }
                each((*f).args, ctx)
            }
            T_TargetEntry => collect((*(node as *mut pg_sys::TargetEntry)).expr.cast(), ctx),
            T_OpExpr | T_DistinctExpr | T_NullIfExpr => {
                each((*(node as *mut pg_sys::OpExpr)).args, ctx)
            }
            T_BoolExpr => each((*(node as *mut pg_sys::BoolExpr)).args, ctx),
            T_List => each(node.cast(), ctx),
            T_FromExpr => {
                let f = node as *mut pg_sys::FromExpr;
                each((*f).fromlist, ctx) || collect((*f).quals, ctx)
            }
            _ => pg_expression_tree_walker(node, collect, ctx),
        }
    }
}

/// `f(args)` → `citus_sidecar.guarded_call(f's oid, expanded args)`.
///
/// # Safety
/// `f` is a FuncExpr of the Query being planned, which the planner may change in place.
unsafe fn reroute(f: *mut pg_sys::FuncExpr) {
    let Some(guarded) = catalog::guarded_call_oid() else {
        return;
    };
    // SAFETY: f is a valid FuncExpr; the syscache tuple is released before returning.
    unsafe {
        let funcid = (*f).funcid;
        let tuple = pg_sys::SearchSysCache1(
            pg_sys::SysCacheIdentifier::PROCOID as i32,
            pg_sys::Datum::from(funcid),
        );
        if tuple.is_null() {
            return;
        }
        let args = pg_sys::expand_function_arguments((*f).args, false, (*f).funcresulttype, tuple);
        pg_sys::ReleaseSysCache(tuple);
        let target = pg_sys::makeConst(
            pg_sys::OIDOID,
            ROUTED_TYPMOD,
            pg_sys::InvalidOid,
            4,
            pg_sys::Datum::from(funcid),
            false,
            true,
        );
        (*f).args = pg_sys::lcons(target.cast(), args);
        (*f).funcid = guarded;
        (*f).funcvariadic = false;
        (*f).funcformat = pg_sys::CoercionForm::COERCE_EXPLICIT_CALL;
    }
}

/// The types Citus's C code reads the parameters of `kind` as: the declared argument types of
/// Citus's own entry (pg_catalog.<name>), position by position.
fn canonical_types(kind: CitusFunction) -> Option<Vec<pg_sys::Oid>> {
    let oid = catalog::canonical_oid(kind)?;
    // SAFETY: a syscache lookup released before returning; oidvector values are inline.
    unsafe {
        let tuple = pg_sys::SearchSysCache1(
            pg_sys::SysCacheIdentifier::PROCOID as i32,
            pg_sys::Datum::from(oid),
        );
        if tuple.is_null() {
            return None;
        }
        let form = pg_sys::heap_tuple_get_struct::<pg_sys::FormData_pg_proc>(tuple);
        let types = (*form)
            .proargtypes
            .values
            .as_slice((*form).pronargs as usize)
            .to_vec();
        pg_sys::ReleaseSysCache(tuple);
        Some(types)
    }
}

/// A datum of type `typ`, printed with the type's output function.
///
/// # Safety
/// `value` is a valid, non-NULL datum of type `typ`.
unsafe fn output(typ: pg_sys::Oid, value: pg_sys::Datum) -> String {
    // SAFETY: `value` is a valid, non-NULL datum of type `typ`.
    unsafe {
        let mut out = pg_sys::InvalidOid;
        let mut varlena = false;
        pg_sys::getTypeOutputInfo(typ, &mut out, &mut varlena);
        CStr::from_ptr(pg_sys::OidOutputFunctionCall(out, value))
            .to_string_lossy()
            .into_owned()
    }
}

/// One argument as Citus's C code reads it, or None when it arrives as a type Citus does not
/// read there (another SQL name for Citus's C function, declared with other types): then
/// nobody can say what the call would do.
///
/// # Safety
/// `value` is a datum of type `typ` (unused when `isnull`).
unsafe fn decode(
    param: ParamType,
    canonical: pg_sys::Oid,
    typ: pg_sys::Oid,
    value: pg_sys::Datum,
    isnull: bool,
) -> Option<Value> {
    if isnull {
        return Some(Value::Null);
    }
    // SAFETY: `value` is a datum of type `typ`, printed only with that type's output function.
    unsafe {
        match param {
            // PG_GETARG_OID: any 4-byte by-value type is read as the relation's OID.
            ParamType::RegClass => {
                matches!(typ, pg_sys::REGCLASSOID | pg_sys::OIDOID | pg_sys::INT4OID)
                    .then(|| Value::Relation(RelationRef::Oid(value.value() as u32)))
            }
            // PG_GETARG_TEXT_P: any text-like varlena.
            ParamType::Text => (typ == canonical
                || matches!(
                    typ,
                    pg_sys::TEXTOID | pg_sys::VARCHAROID | pg_sys::BPCHAROID
                ))
            .then(|| Value::Text(output(typ, value))),
            _ => (typ == canonical).then(|| Value::Text(output(typ, value))),
        }
    }
}

/// The values of a call of `kind` whose argument `i` has type `types[i]` and value `values[i]`,
/// decoded as Citus reads them; None when one of them cannot be.
///
/// # Safety
/// Each `(type, datum, isnull)` holds a datum of that type.
unsafe fn decode_all(
    kind: CitusFunction,
    args: &[(pg_sys::Oid, pg_sys::Datum, bool)],
) -> Option<Vec<Value>> {
    let params = kind.params();
    let canonical = canonical_types(kind)?;
    if args.len() != params.len() || canonical.len() != params.len() {
        return None;
    }
    args.iter()
        .zip(params.iter().zip(canonical))
        // SAFETY: each datum is of the type given beside it.
        .map(|(&(typ, value, isnull), (p, c))| unsafe { decode(p.ty, c, typ, value, isnull) })
        .collect()
}

/// The guard's catalog: facts read from the live metadata (facts.rs).
struct GuardCatalog;

impl Catalog for GuardCatalog {
    fn table(&mut self, rel: &RelationRef, column: Option<&str>) -> Option<TableFacts> {
        match rel {
            RelationRef::Oid(oid) => facts::table(pg_sys::Oid::from(*oid), column),
            RelationRef::Name(_) => None,
        }
    }
}

const UNREADABLE: &str = "It is another SQL name for Citus's C function, declared with argument types Citus's code does not read there, so the sidecar cannot know what it would do.";

/// Runs the rules on a call, emits its warnings and records the decision; returns the blocking
/// finding, if any, for the caller to raise once its Rust values are dropped. `values` None:
/// the arguments cannot be read (see [`decode`]), and the call is refused as unchecked.
fn check(kind: CitusFunction, values: Option<Vec<Value>>) -> Option<report::Pending> {
    let Some(values) = values else {
        return unchecked(kind, UNREADABLE);
    };
    // Every watched function takes the table first, as a regclass.
    let relid = match values.first() {
        Some(Value::Relation(RelationRef::Oid(oid))) => Some(*oid),
        _ => None,
    };
    let args = values.into_iter().map(Arg::positional).collect();
    // Nothing to check when Citus would do nothing, or refuses the call itself with its own
    // error, or the table does not exist (PostgreSQL or Citus says so).
    let call = describe_call(kind, args, &mut GuardCatalog).ok()?;
    let findings = check_distribution_call(&call, &facts::cluster(), &facts::settings());
    let (verdict, hatch, error) = report::enforce(&findings);
    let rules: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    // The table and where the call puts it: the split check reads a recorded
    // colocate_with => 'none' as a separation made on purpose.
    let colocate_with = sidecar_rules::record::colocate_with_of(&call);
    decisions::record_call(
        kind.proname(),
        Some(&call.table().name),
        &rules,
        verdict.as_str(),
        hatch.as_deref(),
        relid,
        colocate_with.as_deref(),
    );
    error
}

/// A call the guard cannot check is refused (rule unchecked-call), and recorded.
fn unchecked(kind: CitusFunction, why: &str) -> Option<report::Pending> {
    let finding = sidecar_rules::unchecked_call(kind.proname(), why);
    let (verdict, hatch, error) = report::enforce(std::slice::from_ref(&finding));
    decisions::record(
        kind.proname(),
        None,
        &[finding.rule.as_str()],
        verdict.as_str(),
        hatch.as_deref(),
    );
    error
}

/// The function `guarded_call` is about to run after validating it; the fmgr hook lets that
/// one call through.
static VALIDATED: BackendLocal<Cell<pg_sys::Oid>> = BackendLocal(Cell::new(pg_sys::InvalidOid));

/// Called by the fmgr hook when a watched Citus function starts. A call that came through
/// `guarded_call` was checked already. A call from C code (no call expression: Citus itself,
/// another extension) is not ours to police. Anything else reached Citus without the planner
/// hook seeing it - a call inlined from a SQL-language function - and is checked here from its
/// call expression: constant arguments can be checked; others cannot, and the call is refused
/// (rule unchecked-call).
///
/// # Safety
/// `flinfo` is the FmgrInfo PostgreSQL passes to the fmgr hook.
pub unsafe fn check_unrouted_call(flinfo: *mut pg_sys::FmgrInfo) -> Option<report::Pending> {
    // SAFETY: reading the FmgrInfo and, when it is one, the FuncExpr it was built from.
    unsafe {
        let funcid = (*flinfo).fn_oid;
        if VALIDATED.0.get() == funcid {
            VALIDATED.0.set(pg_sys::InvalidOid);
            return None;
        }
        let kind = catalog::watched(funcid)?;
        if crate::gucs::mode() == sidecar_rules::Mode::Off {
            return None;
        }
        let expr = (*flinfo).fn_expr;
        if expr.is_null() || (*expr).type_ != pg_sys::NodeTag::T_FuncExpr {
            return None;
        }
        let list = (*(expr as *mut pg_sys::FuncExpr)).args;
        let mut args = Vec::new();
        for node in crate::statements::ptr_list::<pg_sys::Node>(list) {
            if (*node).type_ != pg_sys::NodeTag::T_Const {
                return unchecked(
                    kind,
                    "It reached Citus without passing the sidecar's planner hook (it was inlined from a SQL-language function), and its arguments are not constants, so the sidecar cannot know what it would do.",
                );
            }
            let c = node as *mut pg_sys::Const;
            args.push(((*c).consttype, (*c).constvalue, (*c).constisnull));
        }
        check(kind, decode_all(kind, &args))
    }
}

/// `citus_sidecar.guarded_call(fn oid, VARIADIC "any") RETURNS void`: validates, then runs
/// the Citus function with the remaining arguments.
///
/// # Safety
/// PostgreSQL calls it through fmgr, as the C function behind guarded_call(), with a valid FunctionCallInfo.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn citus_sidecar_guarded_call(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    // SAFETY: called by fmgr with a valid fcinfo; argument 0, when present, is the target
    // function's OID. Anything but a call the planner hook built is refused before use.
    unsafe {
        let nargs = (*fcinfo).nargs as usize;
        let target = match nargs {
            0 => pg_sys::InvalidOid,
            _ => {
                let first = *(*fcinfo).args.as_ptr();
                if first.isnull {
                    pg_sys::InvalidOid
                } else {
                    pg_sys::Oid::from(first.value.value() as u32)
                }
            }
        };
        if !is_routed_call(fcinfo, target) {
            pgrx::pg_sys::panic::ErrorReport::new(
                PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
                "citus_sidecar.guarded_call is called by the sidecar's planner hook only",
                "guarded_call",
            )
            .set_detail("The sidecar routes every call of Citus's distribution functions through it; a call written by hand is refused.")
            .set_hint("Call the Citus function itself, e.g. SELECT create_distributed_table('t', 'c');")
            .report(PgLogLevel::ERROR);
        }
        // Routing replaced the call's function OID, so PostgreSQL checked EXECUTE on
        // guarded_call, not on Citus's function: check it here, and tell object-access hooks.
        #[cfg(feature = "pg15")]
        let acl = pg_sys::pg_proc_aclcheck(
            target,
            pg_sys::GetUserId(),
            pg_sys::ACL_EXECUTE as pg_sys::AclMode,
        );
        #[cfg(not(feature = "pg15"))]
        let acl = pg_sys::object_aclcheck(
            pg_sys::ProcedureRelationId,
            target,
            pg_sys::GetUserId(),
            pg_sys::ACL_EXECUTE as pg_sys::AclMode,
        );
        if acl != pg_sys::AclResult::ACLCHECK_OK {
            pg_sys::aclcheck_error(
                acl,
                pg_sys::ObjectType::OBJECT_FUNCTION,
                pg_sys::get_func_name(target),
            );
        }
        let object_access = pg_sys::object_access_hook;
        if object_access.is_some() {
            pg_sys::RunFunctionExecuteHook(target);
        }
        // Every Rust value lives inside this block; a blocking finding is raised after it,
        // so the ERROR's longjmp crosses no destructor.
        let blocked = match catalog::watched(target) {
            Some(kind) if crate::gucs::mode() != sidecar_rules::Mode::Off => {
                let args: Vec<(pg_sys::Oid, pg_sys::Datum, bool)> = (1..nargs)
                    .map(|i| {
                        let nd = *(*fcinfo).args.as_ptr().add(i);
                        (
                            pg_sys::get_fn_expr_argtype((*fcinfo).flinfo, i as i32),
                            nd.value,
                            nd.isnull,
                        )
                    })
                    .collect();
                check(kind, decode_all(kind, &args))
            }
            _ => None,
        };
        if let Some(error) = blocked {
            error.raise();
        }
        invoke(fcinfo, target)
    }
}

/// Is this a call the planner hook built: its first argument is the constant the hook marks
/// (ROUTED_TYPMOD), `target` is a watched function, and the remaining arguments have exactly
/// its parameter types? Anything else is refused: a hand-written call, and anything that could
/// make Citus's C code read a datum as the wrong type.
///
/// # Safety
/// `fcinfo` is guarded_call's own call info, with a valid flinfo.
unsafe fn is_routed_call(fcinfo: pg_sys::FunctionCallInfo, target: pg_sys::Oid) -> bool {
    if target == pg_sys::InvalidOid || catalog::watched(target).is_none() {
        return false;
    }
    // SAFETY: fn_expr, when set, is the FuncExpr the call was built from.
    let marked = unsafe {
        let expr = (*(*fcinfo).flinfo).fn_expr;
        !expr.is_null() && (*expr).type_ == pg_sys::NodeTag::T_FuncExpr && {
            let args = (*(expr as *mut pg_sys::FuncExpr)).args;
            !args.is_null() && (*args).length > 0 && {
                let first = (*(*args).elements).ptr_value as *mut pg_sys::Node;
                (*first).type_ == pg_sys::NodeTag::T_Const
                    && (*(first as *mut pg_sys::Const)).consttypmod == ROUTED_TYPMOD
            }
        }
    };
    if !marked {
        return false;
    }
    // SAFETY: a syscache lookup released before returning; oidvector values are inline.
    unsafe {
        let tuple = pg_sys::SearchSysCache1(
            pg_sys::SysCacheIdentifier::PROCOID as i32,
            pg_sys::Datum::from(target),
        );
        if tuple.is_null() {
            return false;
        }
        let form = pg_sys::heap_tuple_get_struct::<pg_sys::FormData_pg_proc>(tuple);
        let nargs = (*fcinfo).nargs as usize;
        let pronargs = (*form).pronargs as usize;
        let mut ok = nargs == pronargs + 1;
        if ok {
            let types = (*form).proargtypes.values.as_slice(pronargs);
            for (i, &declared) in types.iter().enumerate() {
                if pg_sys::get_fn_expr_argtype((*fcinfo).flinfo, (i + 1) as i32) != declared {
                    ok = false;
                    break;
                }
            }
        }
        pg_sys::ReleaseSysCache(tuple);
        ok
    }
}

/// Calls `target` with arguments 1.. of `fcinfo`.
///
/// # Safety
/// `fcinfo` is guarded_call's call info, checked by [`is_routed_call`]; no Rust value with a destructor may be alive in the caller, since Citus's function may raise an ERROR.
unsafe fn invoke(fcinfo: pg_sys::FunctionCallInfo, target: pg_sys::Oid) -> pg_sys::Datum {
    // SAFETY: a standard fmgr call set up like FunctionCallInvoke's callers do.
    unsafe {
        let nargs = (*fcinfo).nargs as usize - 1;
        let flinfo =
            pg_sys::palloc0(std::mem::size_of::<pg_sys::FmgrInfo>()) as *mut pg_sys::FmgrInfo;
        pg_sys::fmgr_info(target, flinfo);
        let size = std::mem::size_of::<pg_sys::FunctionCallInfoBaseData>()
            + nargs * std::mem::size_of::<pg_sys::NullableDatum>();
        let inner = pg_sys::palloc0(size) as pg_sys::FunctionCallInfo;
        (*inner).flinfo = flinfo;
        (*inner).context = (*fcinfo).context;
        (*inner).resultinfo = (*fcinfo).resultinfo;
        (*inner).fncollation = (*fcinfo).fncollation;
        (*inner).isnull = false;
        (*inner).nargs = nargs as i16;
        let src = (*fcinfo).args.as_ptr().add(1);
        let dst = (*inner).args.as_mut_ptr();
        std::ptr::copy_nonoverlapping(src, dst, nargs);
        let func = (*flinfo).fn_addr.expect("fmgr_info sets fn_addr");
        VALIDATED.0.set(target);
        // Called directly, like the hooks call the hooks they chain (see hooks/mod.rs): every
        // Rust value of guarded_call is gone by now, and Citus's errors must reach the client
        // exactly as Citus raised them.
        let result = func(inner);
        VALIDATED.0.set(pg_sys::InvalidOid);
        (*fcinfo).isnull = (*inner).isnull;
        result
    }
}

/// fmgr's V1 call-convention record for `citus_sidecar_guarded_call`.
#[unsafe(no_mangle)]
pub extern "C" fn pg_finfo_citus_sidecar_guarded_call() -> &'static pg_sys::Pg_finfo_record {
    const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
    &V1
}
