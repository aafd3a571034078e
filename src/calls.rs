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
use sidecar_rules::{check_distribution_call, ColocateWith, DistCall, TableFacts};

use crate::catalog::{self, BackendLocal, Watched};
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

/// Walks `parse` and routes every watched call through `guarded_call`.
///
/// # Safety
/// `parse` must be a valid Query owned by the caller's planning run.
pub unsafe fn route_watched_calls(parse: *mut pg_sys::Query) {
    let mut found: Vec<*mut pg_sys::FuncExpr> = Vec::new();
    // SAFETY: walking a valid tree; `collect` only reads tags and OIDs.
    unsafe {
        pg_query_tree_walker(parse, collect, (&raw mut found).cast(), 0);
        for f in found {
            reroute(f);
        }
    }
}

/// The walker's callback: collects calls of watched functions. Runs for every node of every
/// planned query, so it does nothing else.
unsafe extern "C" fn collect(node: *mut pg_sys::Node, ctx: *mut c_void) -> bool {
    if node.is_null() {
        return false;
    }
    // SAFETY: every Node starts with its tag; casts follow the tag; ctx is our Vec.
    unsafe {
        match (*node).type_ {
            pg_sys::NodeTag::T_Query => {
                return pg_query_tree_walker(node.cast(), collect, ctx, 0);
            }
            pg_sys::NodeTag::T_FuncExpr => {
                let f = node as *mut pg_sys::FuncExpr;
                if catalog::watched_cached((*f).funcid).is_some() {
                    (*(ctx as *mut Vec<*mut pg_sys::FuncExpr>)).push(f);
                }
            }
            _ => {}
        }
        pg_expression_tree_walker(node, collect, ctx)
    }
}

/// `f(args)` → `citus_sidecar.guarded_call(f's oid, expanded args)`.
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
            -1,
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

/// One argument as the call received it: NULL, or its text form (and the raw OID for regclass).
struct Arg {
    text: Option<String>,
    oid: Option<pg_sys::Oid>,
}

impl Arg {
    fn int(&self) -> Option<i32> {
        self.text.as_deref().and_then(|s| s.trim().parse().ok())
    }
    fn boolean(&self) -> Option<bool> {
        self.text.as_deref().map(|s| s == "t" || s == "true")
    }
}

impl Arg {
    /// A value of type `typ`, printed with the type's output function.
    unsafe fn from_datum(typ: pg_sys::Oid, value: pg_sys::Datum, isnull: bool) -> Arg {
        if isnull {
            return Arg { text: None, oid: None };
        }
        // SAFETY: `value` is a valid datum of type `typ`.
        unsafe {
            let oid = matches!(typ, pg_sys::REGCLASSOID | pg_sys::OIDOID)
                .then(|| pg_sys::Oid::from(value.value() as u32));
            let mut out = pg_sys::InvalidOid;
            let mut varlena = false;
            pg_sys::getTypeOutputInfo(typ, &mut out, &mut varlena);
            let s = pg_sys::OidOutputFunctionCall(out, value);
            let text = Some(CStr::from_ptr(s).to_string_lossy().into_owned());
            Arg { text, oid }
        }
    }
}

/// Argument `i` of `fcinfo`, typed by the call expression.
unsafe fn read_arg(fcinfo: pg_sys::FunctionCallInfo, i: usize) -> Arg {
    // SAFETY: i < nargs; the type comes from the call expression.
    unsafe {
        let nd = *(*fcinfo).args.as_ptr().add(i);
        let typ = pg_sys::get_fn_expr_argtype((*fcinfo).flinfo, i as i32);
        Arg::from_datum(typ, nd.value, nd.isnull)
    }
}

/// Runs the rules on a call, emits its warnings and records the decision; returns the blocking
/// finding, if any, for the caller to raise once its Rust values are dropped.
fn check(kind: Watched, args: &[Arg]) -> Option<report::Pending> {
    let call = describe(kind, args)?;
    let findings = check_distribution_call(&call, &facts::cluster(), &facts::settings());
    let (verdict, hatch, error) = report::decide(&findings);
    let rules: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    decisions::record(kind.proname(), Some(&call.table().name), &rules, verdict.as_str(), hatch.as_deref());
    error
}

/// Builds the rules' view of a call from its argument values, or None when the table does
/// not exist (Citus reports that itself).
fn describe(kind: Watched, a: &[Arg]) -> Option<DistCall> {
    let relid = a.first()?.oid?;
    let text = |i: usize| a.get(i).and_then(|x| x.text.clone());
    let table_for = |col: Option<&str>| -> Option<TableFacts> { facts::table(relid, col) };
    Some(match kind {
        Watched::CreateDistributedTable | Watched::CreateDistributedTableConcurrently => {
            let column = text(1);
            DistCall::CreateDistributedTable {
                concurrently: kind == Watched::CreateDistributedTableConcurrently,
                table: table_for(column.as_deref())?,
                distribution_column: column,
                distribution_type: text(2).unwrap_or_else(|| "hash".into()),
                colocate_with: ColocateWith::parse(&text(3).unwrap_or_else(|| "default".into())),
                shard_count: a.get(4).and_then(Arg::int),
            }
        }
        Watched::AlterDistributedTable => {
            let column = text(1);
            DistCall::AlterDistributedTable {
                table: table_for(column.as_deref())?,
                distribution_column: column,
                shard_count: a.get(2).and_then(Arg::int),
                colocate_with: text(3).map(|s| ColocateWith::parse(&s)),
                cascade_to_colocated: a.get(4).and_then(Arg::boolean),
            }
        }
        Watched::UndistributeTable => DistCall::UndistributeTable {
            table: table_for(None)?,
        },
        Watched::UpdateDistributedTableColocation => DistCall::UpdateDistributedTableColocation {
            table: table_for(None)?,
            colocate_with: ColocateWith::parse(&text(1).unwrap_or_default()),
        },
    })
}

fn watched_kind(funcid: pg_sys::Oid) -> Option<Watched> {
    catalog::watched(funcid)
}

/// The function `guarded_call` is about to run after validating it; the fmgr hook lets that
/// one call through.
static VALIDATED: BackendLocal<pg_sys::Oid> = BackendLocal(Cell::new(pg_sys::InvalidOid));

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
        let kind = catalog::watched_cached(funcid)?;
        if crate::gucs::mode() == sidecar_rules::Mode::Off {
            return None;
        }
        let expr = (*flinfo).fn_expr;
        if expr.is_null() || (*expr).type_ != pg_sys::NodeTag::T_FuncExpr {
            return None;
        }
        let list = (*(expr as *mut pg_sys::FuncExpr)).args;
        let len = if list.is_null() { 0 } else { (*list).length as usize };
        let mut args = Vec::with_capacity(len);
        let mut constant = true;
        for i in 0..len {
            let node = (*(*list).elements.add(i)).ptr_value as *mut pg_sys::Node;
            if (*node).type_ == pg_sys::NodeTag::T_Const {
                let c = node as *mut pg_sys::Const;
                args.push(Arg::from_datum((*c).consttype, (*c).constvalue, (*c).constisnull));
            } else {
                constant = false;
            }
        }
        if constant {
            return check(kind, &args);
        }
        let finding = sidecar_rules::unchecked_call(
            kind.proname(),
            "It reached Citus without passing the sidecar's planner hook (it was inlined from a SQL-language function), and its arguments are not constants, so the sidecar cannot know what it would do.",
        );
        let (verdict, hatch, error) = report::decide(std::slice::from_ref(&finding));
        decisions::record(kind.proname(), None, &[finding.rule.as_str()], verdict.as_str(), hatch.as_deref());
        error
    }
}

/// `citus_sidecar.guarded_call(fn oid, VARIADIC "any") RETURNS void`: validates, then runs
/// the Citus function with the remaining arguments.
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
            error!("citus_sidecar.guarded_call is called by the sidecar's planner hook only");
        }
        // Routing replaced the call's function OID, so PostgreSQL checked EXECUTE on
        // guarded_call, not on Citus's function: check it here, and tell object-access hooks.
        #[cfg(feature = "pg15")]
        let acl = pg_sys::pg_proc_aclcheck(target, pg_sys::GetUserId(), pg_sys::ACL_EXECUTE as pg_sys::AclMode);
        #[cfg(not(feature = "pg15"))]
        let acl = pg_sys::object_aclcheck(
            pg_sys::ProcedureRelationId,
            target,
            pg_sys::GetUserId(),
            pg_sys::ACL_EXECUTE as pg_sys::AclMode,
        );
        if acl != pg_sys::AclResult::ACLCHECK_OK {
            pg_sys::aclcheck_error(acl, pg_sys::ObjectType::OBJECT_FUNCTION, pg_sys::get_func_name(target));
        }
        let object_access = pg_sys::object_access_hook;
        if object_access.is_some() {
            pg_sys::RunFunctionExecuteHook(target);
        }
        // Every Rust value lives inside this block; a blocking finding is raised after it,
        // so the ERROR's longjmp crosses no destructor.
        let blocked = match watched_kind(target) {
            Some(kind) if crate::gucs::mode() != sidecar_rules::Mode::Off => {
                let args: Vec<Arg> = (1..nargs).map(|i| read_arg(fcinfo, i)).collect();
                check(kind, &args)
            }
            _ => None,
        };
        if let Some(error) = blocked {
            error.raise();
        }
        invoke(fcinfo, target)
    }
}

/// Is this a call the planner hook built: `target` is a watched function and the remaining
/// arguments have exactly its parameter types? Anything else (a hand-made call with another
/// function or other argument types) could make Citus's C code read a datum as the wrong type.
unsafe fn is_routed_call(fcinfo: pg_sys::FunctionCallInfo, target: pg_sys::Oid) -> bool {
    if target == pg_sys::InvalidOid || watched_kind(target).is_none() {
        return false;
    }
    // SAFETY: a syscache lookup released before returning; oidvector values are inline.
    unsafe {
        let tuple = pg_sys::SearchSysCache1(pg_sys::SysCacheIdentifier::PROCOID as i32, pg_sys::Datum::from(target));
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
unsafe fn invoke(fcinfo: pg_sys::FunctionCallInfo, target: pg_sys::Oid) -> pg_sys::Datum {
    // SAFETY: a standard fmgr call set up like FunctionCallInvoke's callers do.
    unsafe {
        let nargs = (*fcinfo).nargs as usize - 1;
        let flinfo = pg_sys::palloc0(std::mem::size_of::<pg_sys::FmgrInfo>()) as *mut pg_sys::FmgrInfo;
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
