//! What the hooks need to know about this database, resolved lazily from the system caches and
//! remembered per backend: is the sidecar installed here, which functions are Citus's
//! distribution functions (and any other SQL name for their C entry points), which are Citus's
//! own SQL and PL/pgSQL functions, which relations are Citus's metadata, and is this backend
//! one of Citus's internal connections.
//!
//! Nothing here runs SQL: a backend's first statement pays a few syscache lookups, and only
//! when it calls a function that is not built into PostgreSQL. Invalidations (pg_proc,
//! pg_namespace, relcache) bump a generation; whatever was remembered under an older
//! generation is resolved again before it is used, never read as "not ours" (fail closed).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::ffi::{c_void, CStr, CString};

use pgrx::pg_sys;

pub use sidecar_rules::call::CitusFunction;

/// What a function is, to the sidecar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FnKind {
    /// Anything else: PostgreSQL's, the application's, another extension's.
    Other,
    /// One of Citus's distribution functions, or another SQL name for its C entry point.
    /// `sql_body`: it is written in SQL or PL/pgSQL (the Citus test double), so what its body
    /// does to the metadata is Citus's work.
    Watched { kind: CitusFunction, sql_body: bool },
    /// One of Citus's own SQL or PL/pgSQL functions: what it does to the metadata is Citus's work.
    CitusSql,
    /// Citus's `citus_run_local_command(text)`: it runs whatever SQL its caller gives it, so what
    /// that SQL does is the caller's work, not Citus's.
    CitusRunner,
    /// One of Citus's C functions (other than the watched ones).
    CitusC,
    /// One of this library's own SQL functions; `guard`: guarded_call, which the planner hook
    /// routes Citus's functions through.
    Ours { guard: bool },
}

/// A value owned by this backend (PostgreSQL backends are single-threaded).
pub struct BackendLocal<T>(pub T);
// SAFETY: only ever touched from the backend's main thread.
unsafe impl<T> Sync for BackendLocal<T> {}

#[derive(Clone, Copy)]
struct Resolved {
    guarded_call: pg_sys::Oid,
    /// The citus extension; InvalidOid with the Citus test double, which is no extension.
    citus_ext: pg_sys::Oid,
    plpgsql: pg_sys::Oid,
    /// pg_catalog.<name> of the five watched functions (InvalidOid where absent).
    canonical: [pg_sys::Oid; 5],
    /// Their C entry points (0 when not a C function).
    addrs: [usize; 5],
    /// Load address of the object that holds them (citus.so), 0 without one.
    citus_base: usize,
    /// Namespaces the test double keeps Citus's helper functions in.
    citus_ns: [pg_sys::Oid; 2],
    /// The installed SQL is the version this library was built as (else ALTER EXTENSION UPDATE
    /// is due, and the sidecar's functions say so; see hooks/fmgr.rs).
    sql_current: bool,
}

#[derive(Clone, Copy)]
enum State {
    Unknown,
    Inactive,
    Active(Resolved),
}

static STATE: BackendLocal<Cell<State>> = BackendLocal(Cell::new(State::Unknown));
/// Bumped by every pg_proc / pg_namespace invalidation.
static PROC_GEN: BackendLocal<Cell<u64>> = BackendLocal(Cell::new(1));
/// Bumped by every relcache invalidation.
static REL_GEN: BackendLocal<Cell<u64>> = BackendLocal(Cell::new(1));
static CALLBACKS_REGISTERED: BackendLocal<Cell<bool>> = BackendLocal(Cell::new(false));
/// funcid -> kind, valid for one PROC_GEN.
static FUNCS: BackendLocal<RefCell<(u64, BTreeMap<u32, FnKind>)>> =
    BackendLocal(RefCell::new((0, BTreeMap::new())));
/// relid -> is Citus metadata, valid for one REL_GEN.
static RELS: BackendLocal<RefCell<(u64, BTreeMap<u32, bool>)>> =
    BackendLocal(RefCell::new((0, BTreeMap::new())));
/// Did this backend start as one of Citus's internal connections? Decided once.
static INTERNAL: BackendLocal<Cell<Option<bool>>> = BackendLocal(Cell::new(None));
/// The functions running right now that decide whose work a metadata edit is: Citus's own SQL
/// functions, and any other non-built-in function called while one of those runs (fmgr hook).
static FRAMES: BackendLocal<RefCell<Vec<(pg_sys::Oid, FnKind)>>> =
    BackendLocal(RefCell::new(Vec::new()));

// The invalidation callbacks only bump counters: they can run in the middle of a lookup (a
// syscache miss processes invalidation messages), so they never touch anything borrowed.

// pg_language's fixed OIDs (pg_language.dat).
const C_LANGUAGE: u32 = 13;
const SQL_LANGUAGE: u32 = 14;

/// # Safety
/// PostgreSQL calls it as a syscache invalidation callback for pg_proc.
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn proc_invalidated(_arg: pg_sys::Datum, _cacheid: i32, _hash: u32) {
    PROC_GEN.0.set(PROC_GEN.0.get() + 1);
    STATE.0.set(State::Unknown);
}

/// # Safety
/// PostgreSQL calls it as a relcache invalidation callback.
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn rel_invalidated(_arg: pg_sys::Datum, _relid: pg_sys::Oid) {
    REL_GEN.0.set(REL_GEN.0.get() + 1);
}

/// # Safety
/// PostgreSQL calls it as a transaction callback.
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn on_xact_event(event: pg_sys::XactEvent::Type, _arg: *mut c_void) {
    if event == pg_sys::XactEvent::XACT_EVENT_ABORT
        || event == pg_sys::XactEvent::XACT_EVENT_PARALLEL_ABORT
    {
        if let Ok(mut f) = FRAMES.0.try_borrow_mut() {
            f.clear();
        }
    }
}

fn register_callbacks() {
    if CALLBACKS_REGISTERED.0.get() {
        return;
    }
    // SAFETY: registering cache and transaction callbacks in a backend.
    unsafe {
        pg_sys::CacheRegisterSyscacheCallback(
            pg_sys::SysCacheIdentifier::PROCOID as i32,
            Some(proc_invalidated),
            pg_sys::Datum::from(0),
        );
        pg_sys::CacheRegisterSyscacheCallback(
            pg_sys::SysCacheIdentifier::NAMESPACEOID as i32,
            Some(proc_invalidated),
            pg_sys::Datum::from(0),
        );
        pg_sys::CacheRegisterRelcacheCallback(Some(rel_invalidated), pg_sys::Datum::from(0));
        pg_sys::RegisterXactCallback(Some(on_xact_event), std::ptr::null_mut());
    }
    CALLBACKS_REGISTERED.0.set(true);
}

/// The extension is installed in this database, not being created or upgraded right now, and
/// we are not in binary upgrade.
#[inline]
fn active() -> Option<Resolved> {
    // SAFETY: plain reads of backend globals.
    unsafe {
        if pg_sys::IsBinaryUpgrade || pg_sys::creating_extension {
            return None;
        }
    }
    match STATE.0.get() {
        State::Active(a) => Some(a),
        State::Inactive => None,
        State::Unknown => resolve(),
    }
}

#[cold]
fn resolve() -> Option<Resolved> {
    // SAFETY: reading backend state.
    if unsafe { !pg_sys::IsTransactionState() } {
        return None;
    }
    register_callbacks();
    let generation = PROC_GEN.0.get();
    let result = resolve_now();
    // An invalidation that arrived while resolving makes the result stale: use it once, keep
    // nothing, resolve again next time.
    if PROC_GEN.0.get() == generation {
        STATE.0.set(match result {
            Some(r) => State::Active(r),
            None => State::Inactive,
        });
    }
    result
}

fn resolve_now() -> Option<Resolved> {
    // SAFETY: catalog lookups inside a transaction; missing_ok = true never raises for absence.
    unsafe {
        let ext = pg_sys::get_extension_oid(c"citus-sidecar".as_ptr(), true);
        if ext == pg_sys::InvalidOid {
            return None;
        }
        let schema = pg_sys::get_namespace_oid(c"citus_sidecar".as_ptr(), true);
        let guarded_call = lookup_function(schema, "guarded_call");
        if guarded_call == pg_sys::InvalidOid {
            return None;
        }
        let mut r = Resolved {
            guarded_call,
            citus_ext: pg_sys::get_extension_oid(c"citus".as_ptr(), true),
            plpgsql: pg_sys::get_language_oid(c"plpgsql".as_ptr(), true),
            canonical: [pg_sys::InvalidOid; 5],
            addrs: [0; 5],
            citus_base: 0,
            citus_ns: [
                pg_sys::get_namespace_oid(c"citus".as_ptr(), true),
                pg_sys::get_namespace_oid(c"citus_internal".as_ptr(), true),
            ],
            sql_current: extension_version(ext).as_deref() == Some(env!("CARGO_PKG_VERSION")),
        };
        for (i, w) in CitusFunction::ALL.into_iter().enumerate() {
            let oid = lookup_function(pg_sys::PG_CATALOG_NAMESPACE.into(), w.proname());
            r.canonical[i] = oid;
            if let Some(addr) = c_entry_point(oid) {
                r.addrs[i] = addr;
                if r.citus_base == 0 {
                    r.citus_base = object_base(addr as *const c_void).unwrap_or(0);
                }
            }
        }
        Some(r)
    }
}

/// `pg_extension.extversion` of `ext`.
///
/// # Safety
/// Call it inside a transaction (it scans pg_extension).
unsafe fn extension_version(ext: pg_sys::Oid) -> Option<String> {
    // SAFETY: an index scan of pg_extension by OID, closed before returning.
    unsafe {
        let rel = pg_sys::table_open(
            pg_sys::ExtensionRelationId,
            pg_sys::AccessShareLock as pg_sys::LOCKMODE,
        );
        let mut key: pg_sys::ScanKeyData = std::mem::zeroed();
        pg_sys::ScanKeyInit(
            &mut key,
            pg_sys::Anum_pg_extension_oid as pg_sys::AttrNumber,
            pg_sys::BTEqualStrategyNumber as pg_sys::StrategyNumber,
            pg_sys::Oid::from(pg_sys::F_OIDEQ),
            pg_sys::Datum::from(ext),
        );
        let scan = pg_sys::systable_beginscan(
            rel,
            pg_sys::Oid::from(pg_sys::ExtensionOidIndexId),
            true,
            std::ptr::null_mut(),
            1,
            &mut key,
        );
        let tuple = pg_sys::systable_getnext(scan);
        let version = if tuple.is_null() {
            None
        } else {
            let mut isnull = false;
            let d = pg_sys::heap_getattr(
                tuple,
                pg_sys::Anum_pg_extension_extversion as i32,
                (*rel).rd_att,
                &mut isnull,
            );
            (!isnull).then(|| {
                CStr::from_ptr(pg_sys::text_to_cstring(d.cast_mut_ptr()))
                    .to_string_lossy()
                    .into_owned()
            })
        };
        pg_sys::systable_endscan(scan);
        pg_sys::table_close(rel, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
        version
    }
}

/// The one function called `name` in `namespace`, or InvalidOid (absent or overloaded).
fn lookup_function(namespace: pg_sys::Oid, name: &str) -> pg_sys::Oid {
    if namespace == pg_sys::InvalidOid {
        return pg_sys::InvalidOid;
    }
    let cname = CString::new(name).expect("function names have no NUL");
    let mut found = pg_sys::InvalidOid;
    // SAFETY: a catcache list search by name; members are valid until ReleaseCatCacheList.
    unsafe {
        let list = pg_sys::SearchSysCacheList(
            pg_sys::SysCacheIdentifier::PROCNAMEARGSNSP as i32,
            1,
            pg_sys::Datum::from(cname.as_ptr()),
            pg_sys::Datum::from(0),
            pg_sys::Datum::from(0),
        );
        let members = (*list).members.as_slice((*list).n_members as usize);
        let mut count = 0;
        for &ct in members {
            let tuple = &mut (*ct).tuple as *mut pg_sys::HeapTupleData;
            let form = pg_sys::heap_tuple_get_struct::<pg_sys::FormData_pg_proc>(tuple);
            if (*form).pronamespace == namespace {
                found = (*form).oid;
                count += 1;
            }
        }
        pg_sys::ReleaseCatCacheList(list);
        if count != 1 {
            found = pg_sys::InvalidOid;
        }
    }
    found
}

/// The load address of the object (executable or shared library) that holds `addr`.
pub fn object_base(addr: *const c_void) -> Option<usize> {
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads the dynamic loader's tables.
    if unsafe { libc::dladdr(addr, &mut info) } == 0 {
        return None;
    }
    Some(info.dli_fbase as usize)
}

/// Where a C-language function's code is, if its library is loaded in this backend already.
/// Never loads a library: a function of a library nobody loaded yet cannot be Citus's, whose
/// library is preloaded.
fn c_entry_point(funcid: pg_sys::Oid) -> Option<usize> {
    if funcid == pg_sys::InvalidOid {
        return None;
    }
    // SAFETY: a syscache lookup released before returning; the text datums are detoasted copies.
    unsafe {
        let tuple = pg_sys::SearchSysCache1(
            pg_sys::SysCacheIdentifier::PROCOID as i32,
            pg_sys::Datum::from(funcid),
        );
        if tuple.is_null() {
            return None;
        }
        let form = pg_sys::heap_tuple_get_struct::<pg_sys::FormData_pg_proc>(tuple);
        let mut found = None;
        if (*form).prolang.to_u32() == C_LANGUAGE {
            let text = |attnum: u32| -> Option<String> {
                let mut isnull = false;
                let d = pg_sys::SysCacheGetAttr(
                    pg_sys::SysCacheIdentifier::PROCOID as i32,
                    tuple,
                    attnum as pg_sys::AttrNumber,
                    &mut isnull,
                );
                if isnull {
                    return None;
                }
                let s = pg_sys::text_to_cstring(d.cast_mut_ptr());
                Some(CStr::from_ptr(s).to_string_lossy().into_owned())
            };
            if let (Some(probin), Some(prosrc)) = (
                text(pg_sys::Anum_pg_proc_probin),
                text(pg_sys::Anum_pg_proc_prosrc),
            ) {
                found = symbol_address(&probin, &prosrc);
            }
        }
        pg_sys::ReleaseSysCache(tuple);
        found
    }
}

/// The candidate paths PostgreSQL's dynamic loader would try for `probin`.
fn library_paths(probin: &str) -> Vec<String> {
    // SAFETY: pkglib_path is a NUL-terminated array set at startup; Dynamic_library_path is a GUC.
    let (pkglib, dynpath) = unsafe {
        let pkglib = CStr::from_ptr(std::ptr::addr_of!(pg_sys::pkglib_path).cast())
            .to_string_lossy()
            .into_owned();
        let dynpath = if pg_sys::Dynamic_library_path.is_null() {
            "$libdir".to_string()
        } else {
            CStr::from_ptr(pg_sys::Dynamic_library_path)
                .to_string_lossy()
                .into_owned()
        };
        (pkglib, dynpath)
    };
    let expand = |p: &str| {
        p.strip_prefix("$libdir")
            .map(|rest| format!("{pkglib}{rest}"))
            .unwrap_or_else(|| p.to_string())
    };
    let bases: Vec<String> = if probin.contains('/') {
        vec![expand(probin)]
    } else {
        dynpath
            .split(':')
            .filter(|d| !d.is_empty())
            .map(|d| format!("{}/{probin}", expand(d)))
            .collect()
    };
    bases
        .into_iter()
        .flat_map(|b| [b.clone(), format!("{b}.so")])
        .collect()
}

/// dlsym of `symbol` in the already-loaded library `probin` names (by any path to the same file).
fn symbol_address(probin: &str, symbol: &str) -> Option<usize> {
    let symbol = CString::new(symbol).ok()?;
    for path in library_paths(probin) {
        let Ok(cpath) = CString::new(path) else {
            continue;
        };
        // SAFETY: RTLD_NOLOAD returns a handle only for an object already loaded (matched by
        // name or by file identity); nothing is loaded or initialised.
        unsafe {
            let handle = libc::dlopen(cpath.as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD);
            if handle.is_null() {
                continue;
            }
            let addr = libc::dlsym(handle, symbol.as_ptr());
            libc::dlclose(handle);
            return (!addr.is_null()).then_some(addr as usize);
        }
    }
    None
}

/// What `funcid` is. Built-in functions are never ours; others are classified once per backend
/// (until pg_proc changes) from the syscache.
pub fn function_kind(funcid: pg_sys::Oid) -> FnKind {
    if funcid.to_u32() < pg_sys::FirstNormalObjectId {
        return FnKind::Other;
    }
    let Some(r) = active() else {
        return FnKind::Other;
    };
    let generation = PROC_GEN.0.get();
    if let Ok(memo) = FUNCS.0.try_borrow() {
        if memo.0 == generation {
            if let Some(k) = memo.1.get(&funcid.to_u32()) {
                return *k;
            }
        }
    }
    let kind = classify(&r, funcid);
    if PROC_GEN.0.get() == generation {
        if let Ok(mut memo) = FUNCS.0.try_borrow_mut() {
            if memo.0 != generation {
                memo.1.clear();
                memo.0 = generation;
            }
            memo.1.insert(funcid.to_u32(), kind);
        }
    }
    kind
}

fn classify(r: &Resolved, funcid: pg_sys::Oid) -> FnKind {
    if funcid == r.guarded_call {
        return FnKind::Ours { guard: true };
    }
    // SAFETY: a syscache lookup released before returning.
    let (lang, namespace, name) = unsafe {
        let tuple = pg_sys::SearchSysCache1(
            pg_sys::SysCacheIdentifier::PROCOID as i32,
            pg_sys::Datum::from(funcid),
        );
        if tuple.is_null() {
            return FnKind::Other;
        }
        let form = pg_sys::heap_tuple_get_struct::<pg_sys::FormData_pg_proc>(tuple);
        let name = CStr::from_ptr((*form).proname.data.as_ptr())
            .to_string_lossy()
            .into_owned();
        let out = ((*form).prolang, (*form).pronamespace, name);
        pg_sys::ReleaseSysCache(tuple);
        out
    };
    let sql_body =
        lang.to_u32() == SQL_LANGUAGE || (lang == r.plpgsql && lang != pg_sys::InvalidOid);
    if let Some(i) = r.canonical.iter().position(|c| *c == funcid) {
        return FnKind::Watched {
            kind: CitusFunction::ALL[i],
            sql_body,
        };
    }
    if lang.to_u32() == C_LANGUAGE {
        let Some(addr) = c_entry_point(funcid) else {
            return FnKind::Other;
        };
        if object_base(addr as *const c_void) == object_base(function_kind as *const c_void) {
            return FnKind::Ours { guard: false };
        }
        if r.citus_base == 0 {
            return FnKind::Other;
        }
        if let Some(i) = r.addrs.iter().position(|a| *a != 0 && *a == addr) {
            return FnKind::Watched {
                kind: CitusFunction::ALL[i],
                sql_body: false,
            };
        }
        if object_base(addr as *const c_void) == Some(r.citus_base) {
            return FnKind::CitusC;
        }
        return FnKind::Other;
    }
    if !sql_body {
        return FnKind::Other;
    }
    let is_citus = if r.citus_ext != pg_sys::InvalidOid {
        // SAFETY: an index scan of pg_depend.
        unsafe { pg_sys::getExtensionOfObject(pg_sys::ProcedureRelationId, funcid) == r.citus_ext }
    } else {
        // The test double is no extension: its helpers live in schemas citus and citus_internal.
        r.citus_ns.contains(&namespace) && namespace != pg_sys::InvalidOid
    };
    match (is_citus, name.as_str()) {
        (false, _) => FnKind::Other,
        (true, "citus_run_local_command") => FnKind::CitusRunner,
        (true, _) => FnKind::CitusSql,
    }
}

/// Which watched function `funcid` is, if the sidecar is active here.
#[inline]
pub fn watched(funcid: pg_sys::Oid) -> Option<CitusFunction> {
    match function_kind(funcid) {
        FnKind::Watched { kind, .. } => Some(kind),
        _ => None,
    }
}

/// Is the guard active in this database? Resolves if needed (syscache only).
#[inline]
pub fn is_active() -> bool {
    active().is_some()
}

/// Citus's own entry for `kind` (pg_catalog.<name>), if there is exactly one.
pub fn canonical_oid(kind: CitusFunction) -> Option<pg_sys::Oid> {
    let r = active()?;
    let i = CitusFunction::ALL.iter().position(|k| *k == kind)?;
    Some(r.canonical[i]).filter(|o| *o != pg_sys::InvalidOid)
}

/// Is the installed SQL older (or newer) than this library? Then ALTER EXTENSION UPDATE is due.
pub fn sql_outdated() -> bool {
    active().is_some_and(|a| !a.sql_current)
}

/// OID of `citus_sidecar.guarded_call(oid, VARIADIC "any")`.
pub fn guarded_call_oid() -> Option<pg_sys::Oid> {
    active().map(|a| a.guarded_call)
}

/// Load address of citus.so in this backend (0 with the test double or without Citus).
pub fn citus_object_base() -> usize {
    active().map(|a| a.citus_base).unwrap_or(0)
}

/// Is `relid` one of Citus's metadata relations: a table, view or sequence named pg_dist_* in
/// pg_catalog (where only superusers create anything, and which the guard does not let them
/// leave), or an index on one of those tables? Remembered per relation until the next relcache
/// invalidation.
pub fn is_metadata_relation(relid: pg_sys::Oid) -> bool {
    if relid.to_u32() < pg_sys::FirstNormalObjectId || active().is_none() {
        return false;
    }
    let generation = REL_GEN.0.get();
    if let Ok(memo) = RELS.0.try_borrow() {
        if memo.0 == generation {
            if let Some(v) = memo.1.get(&relid.to_u32()) {
                return *v;
            }
        }
    }
    let value = metadata_by_catalog(relid);
    if REL_GEN.0.get() == generation {
        if let Ok(mut memo) = RELS.0.try_borrow_mut() {
            if memo.0 != generation {
                memo.1.clear();
                memo.0 = generation;
            }
            memo.1.insert(relid.to_u32(), value);
        }
    }
    value
}

fn metadata_by_catalog(relid: pg_sys::Oid) -> bool {
    // SAFETY: syscache lookups that never raise for a missing relation.
    unsafe {
        let tuple = pg_sys::SearchSysCache1(
            pg_sys::SysCacheIdentifier::RELOID as i32,
            pg_sys::Datum::from(relid),
        );
        if tuple.is_null() {
            return false;
        }
        let form = pg_sys::heap_tuple_get_struct::<pg_sys::FormData_pg_class>(tuple);
        let in_catalog = (*form).relnamespace == pg_sys::Oid::from(pg_sys::PG_CATALOG_NAMESPACE);
        let named = CStr::from_ptr((*form).relname.data.as_ptr())
            .to_bytes()
            .starts_with(b"pg_dist");
        let is_index = matches!((*form).relkind as u8, b'i' | b'I');
        pg_sys::ReleaseSysCache(tuple);
        if is_index {
            let table = pg_sys::IndexGetRelation(relid, true);
            return table != pg_sys::InvalidOid && table != relid && metadata_by_catalog(table);
        }
        in_catalog && named
    }
}

/// Is this backend one of Citus's internal connections (metadata sync, shard moves, rebalancer
/// tasks), doing Citus's work right now? Citus itself decides that from the application_name the
/// connection started with (`citus_internal gpid=...`, `citus_rebalancer gpid=...`), and so does
/// the sidecar. Citus also reuses such a connection for what a client asked for, after
/// `SET application_name = 'citus_run_command gpid=...'` (run_command_on_all_nodes and
/// friends): then it is not Citus's work, and a later SET of any other name does not count.
#[inline]
pub fn internal_backend() -> bool {
    started_internal() && application_name_unchanged()
}

// Declared directly (not through pgrx's guarded wrapper): the hooks' fast paths call it with no
// pgrx guard on the stack. It does not raise for a setting that exists.
unsafe extern "C-unwind" {
    #[link_name = "GetConfigOptionResetString"]
    fn reset_string(name: *const std::ffi::c_char) -> *const std::ffi::c_char;
}

/// Did this backend start as one of Citus's internal connections? Decided once; the hot paths
/// test this first and [`internal_backend`] only where it matters.
#[inline]
pub fn started_internal() -> bool {
    match INTERNAL.0.get() {
        Some(v) => v,
        None => {
            // SAFETY: GetConfigOptionResetString returns a GUC-owned string or NULL.
            let v = unsafe {
                let at_start = reset_string(c"application_name".as_ptr());
                !at_start.is_null() && {
                    let b = CStr::from_ptr(at_start).to_bytes();
                    b.starts_with(b"citus_internal gpid=")
                        || b.starts_with(b"citus_rebalancer gpid=")
                }
            };
            INTERNAL.0.set(Some(v));
            v
        }
    }
}

#[cold]
fn application_name_unchanged() -> bool {
    // SAFETY: both are GUC-owned strings (or NULL) that live while we compare them.
    unsafe {
        let now = pg_sys::application_name;
        let at_start = reset_string(c"application_name".as_ptr());
        !now.is_null() && !at_start.is_null() && CStr::from_ptr(now) == CStr::from_ptr(at_start)
    }
}

/// Called by the fmgr hook when a function it tracks starts (see hooks/fmgr.rs).
pub fn enter_function(funcid: pg_sys::Oid, kind: FnKind) {
    if let Ok(mut f) = FRAMES.0.try_borrow_mut() {
        f.push((funcid, kind));
    }
}

/// ... and when it ends or fails: pops the innermost frame of that function, if it is on top.
pub fn leave_function(funcid: pg_sys::Oid) {
    if let Ok(mut f) = FRAMES.0.try_borrow_mut() {
        if f.last().is_some_and(|(o, _)| *o == funcid) {
            f.pop();
        }
    }
}

/// Is one of Citus's own SQL functions running (so any other function looked up now is called
/// from inside it and must be told apart)?
pub fn inside_citus_function() -> bool {
    FRAMES
        .0
        .try_borrow()
        .map(|f| !f.is_empty())
        .unwrap_or(false)
}

/// Is the current statement Citus's own work: issued by one of Citus's SQL or PL/pgSQL functions
/// (the innermost function running is Citus's, and not its run-anything helper), or arriving on
/// one of Citus's internal connections? Citus's C code is recognised separately
/// (origin::spi_called_from_citus).
pub fn in_citus_work() -> bool {
    if internal_backend() {
        return true;
    }
    matches!(
        FRAMES
            .0
            .try_borrow()
            .ok()
            .and_then(|f| f.last().map(|(_, k)| *k)),
        Some(FnKind::CitusSql) | Some(FnKind::Watched { sql_body: true, .. })
    )
}
