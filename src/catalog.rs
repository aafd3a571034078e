//! "Is the sidecar active in this database?" and "is this function one of ours?", answered
//! from a per-backend cache, plus the catalog reads the rules need (SPI, only on a
//! distribution call).
//!
//! The cache is reset by syscache invalidations of pg_proc (Citus's functions appear, change or
//! go away) and pg_namespace (the extension's schema is created or dropped), so the hooks' fast
//! path is a few loads and compares: no catalog lookup, no allocation.

use std::cell::Cell;

use pgrx::prelude::*;

/// The Citus functions the guard intercepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watched {
    CreateDistributedTable,
    CreateDistributedTableConcurrently,
    AlterDistributedTable,
    UndistributeTable,
    UpdateDistributedTableColocation,
}

impl Watched {
    pub const ALL: [Watched; 5] = [
        Watched::CreateDistributedTable,
        Watched::CreateDistributedTableConcurrently,
        Watched::AlterDistributedTable,
        Watched::UndistributeTable,
        Watched::UpdateDistributedTableColocation,
    ];
    pub fn proname(self) -> &'static str {
        match self {
            Watched::CreateDistributedTable => "create_distributed_table",
            Watched::CreateDistributedTableConcurrently => "create_distributed_table_concurrently",
            Watched::AlterDistributedTable => "alter_distributed_table",
            Watched::UndistributeTable => "undistribute_table",
            Watched::UpdateDistributedTableColocation => "update_distributed_table_colocation",
        }
    }
}

/// Room for the distribution functions and aliases of them.
const MAX_WATCHED: usize = 16;

/// Room for Citus's metadata tables (pg_catalog.pg_dist_*, 20 of them in 13.2).
const MAX_METADATA_TABLES: usize = 32;

#[derive(Clone, Copy)]
struct Active {
    guarded_call: pg_sys::Oid,
    /// Citus's distribution functions, and any other SQL name for their C symbols.
    watched: [(pg_sys::Oid, Watched); MAX_WATCHED],
    metadata: [pg_sys::Oid; MAX_METADATA_TABLES],
}

#[derive(Clone, Copy)]
enum State {
    Unknown,
    Inactive,
    Active(Active),
}

/// A value owned by this backend (PostgreSQL backends are single-threaded).
pub struct BackendLocal<T>(pub Cell<T>);
// SAFETY: only ever touched from the backend's main thread.
unsafe impl<T> Sync for BackendLocal<T> {}

static STATE: BackendLocal<State> = BackendLocal(Cell::new(State::Unknown));
static CALLBACKS_REGISTERED: BackendLocal<bool> = BackendLocal(Cell::new(false));
/// Set while `resolve` runs its SPI queries, whose own planning re-enters the hooks.
static RESOLVING: BackendLocal<bool> = BackendLocal(Cell::new(false));
/// Citus's own PL/pgSQL and SQL functions, sorted. While one runs, the metadata it edits is
/// Citus's own work, not a hand edit.
static CITUS_SQL_FUNCTIONS: BackendLocal<Vec<pg_sys::Oid>> = BackendLocal(Cell::new(Vec::new()));
/// How many of those are running right now (fmgr hook start/end; reset on abort).
static CITUS_FUNCTION_DEPTH: BackendLocal<u32> = BackendLocal(Cell::new(0));

pub fn init() {}

#[pg_guard]
unsafe extern "C-unwind" fn invalidate(_arg: pg_sys::Datum, _cacheid: i32, _hash: u32) {
    STATE.0.set(State::Unknown);
}

#[pg_guard]
unsafe extern "C-unwind" fn on_xact_event(event: pg_sys::XactEvent::Type, _arg: *mut std::ffi::c_void) {
    if event == pg_sys::XactEvent::XACT_EVENT_ABORT || event == pg_sys::XactEvent::XACT_EVENT_PARALLEL_ABORT {
        CITUS_FUNCTION_DEPTH.0.set(0);
    }
}

fn register_callbacks() {
    if CALLBACKS_REGISTERED.0.get() {
        return;
    }
    // SAFETY: registering syscache callbacks in a backend; the callback only resets a flag.
    unsafe {
        pg_sys::CacheRegisterSyscacheCallback(
            pg_sys::SysCacheIdentifier::PROCOID as i32,
            Some(invalidate),
            pg_sys::Datum::from(0),
        );
        pg_sys::CacheRegisterSyscacheCallback(
            pg_sys::SysCacheIdentifier::NAMESPACEOID as i32,
            Some(invalidate),
            pg_sys::Datum::from(0),
        );
        pg_sys::RegisterXactCallback(Some(on_xact_event), std::ptr::null_mut());
    }
    CALLBACKS_REGISTERED.0.set(true);
}

/// The extension is installed in this database, not being created or upgraded right now, and
/// we are not in binary upgrade. The watched function OIDs come with it.
#[inline]
fn active() -> Option<Active> {
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

/// Resets RESOLVING however `resolve` ends (an ERROR unwinds through it as a panic).
struct ResolvingGuard;
impl Drop for ResolvingGuard {
    fn drop(&mut self) {
        RESOLVING.0.set(false);
    }
}

const METADATA_TABLES_SQL: &str = "SELECT c.oid FROM pg_catalog.pg_class c \
     WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relname LIKE 'pg\\_dist\\_%' \
       AND c.relkind IN ('r', 'p') ORDER BY c.oid";

/// Citus's own non-C functions: those of the citus extension, and those in its internal schemas
/// (where only superusers can create functions).
const CITUS_C_ALIASES_SQL: &str = "SELECT p.oid, p.prosrc FROM pg_catalog.pg_proc p \
      JOIN pg_catalog.pg_language l ON l.oid = p.prolang AND l.lanname = 'c' \
     WHERE p.probin ~ '(^|/)citus(\\.so)?$' \
       AND p.prosrc IN ('create_distributed_table', 'create_distributed_table_concurrently', \
                        'alter_distributed_table', 'undistribute_table', 'update_distributed_table_colocation') \
     ORDER BY p.oid";

const CITUS_SQL_FUNCTIONS_SQL: &str = "SELECT p.oid FROM pg_catalog.pg_proc p \
      JOIN pg_catalog.pg_language l ON l.oid = p.prolang \
     WHERE l.lanname IN ('plpgsql', 'sql') \
       AND (p.pronamespace IN (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname IN ('citus', 'citus_internal')) \
            OR EXISTS (SELECT 1 FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid \
                        WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid \
                          AND d.deptype = 'e' AND e.extname = 'citus')) \
     ORDER BY p.oid";

#[cold]
fn resolve() -> Option<Active> {
    // SAFETY: reading backend state.
    if RESOLVING.0.get() || unsafe { !pg_sys::IsTransactionState() } {
        return None;
    }
    register_callbacks();
    // SAFETY: catalog lookups inside a transaction; missing_ok = true never raises for absence.
    let ext = unsafe { pg_sys::get_extension_oid(c"citus-sidecar".as_ptr(), true) };
    if ext == pg_sys::InvalidOid {
        STATE.0.set(State::Inactive);
        return None;
    }
    let schema = unsafe { pg_sys::get_namespace_oid(c"citus_sidecar".as_ptr(), true) };
    let guarded_call = lookup_function(schema, "guarded_call");
    let mut watched = [(pg_sys::InvalidOid, Watched::CreateDistributedTable); MAX_WATCHED];
    let mut n = 0;
    for w in Watched::ALL {
        let oid = lookup_function(pg_sys::PG_CATALOG_NAMESPACE.into(), w.proname());
        if oid != pg_sys::InvalidOid {
            watched[n] = (oid, w);
            n += 1;
        }
    }
    if guarded_call == pg_sys::InvalidOid {
        STATE.0.set(State::Inactive);
        return None;
    }
    RESOLVING.0.set(true);
    let _guard = ResolvingGuard;
    let oids = |sql: &str| -> Vec<pg_sys::Oid> {
        Spi::connect(|client| {
            client
                .select(sql, None, &[])
                .map(|rows| rows.filter_map(|r| r.get::<pg_sys::Oid>(1).ok().flatten()).collect())
                .unwrap_or_default()
        })
    };
    let mut metadata = [pg_sys::InvalidOid; MAX_METADATA_TABLES];
    for (slot, oid) in metadata.iter_mut().zip(oids(METADATA_TABLES_SQL)) {
        *slot = oid;
    }
    CITUS_SQL_FUNCTIONS.0.set(oids(CITUS_SQL_FUNCTIONS_SQL));
    // Other SQL names for Citus's C entry points (CREATE FUNCTION ... AS '$libdir/citus',
    // 'create_distributed_table' LANGUAGE c) are guarded like the originals.
    let aliases: Vec<(pg_sys::Oid, String)> = Spi::connect(|client| {
        client
            .select(CITUS_C_ALIASES_SQL, None, &[])
            .map(|rows| {
                rows.filter_map(|r| Some((r.get::<pg_sys::Oid>(1).ok()??, r.get::<String>(2).ok()??)))
                    .collect()
            })
            .unwrap_or_default()
    });
    for (oid, symbol) in aliases {
        let Some(w) = Watched::ALL.into_iter().find(|w| w.proname() == symbol) else {
            continue;
        };
        if n < MAX_WATCHED && !watched[..n].iter().any(|(o, _)| *o == oid) {
            watched[n] = (oid, w);
            n += 1;
        }
    }
    let a = Active {
        guarded_call,
        watched,
        metadata,
    };
    STATE.0.set(State::Active(a));
    Some(a)
}

/// The one function called `name` in `namespace`, or InvalidOid (absent or overloaded).
fn lookup_function(namespace: pg_sys::Oid, name: &str) -> pg_sys::Oid {
    if namespace == pg_sys::InvalidOid {
        return pg_sys::InvalidOid;
    }
    let cname = std::ffi::CString::new(name).expect("function names have no NUL");
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

/// Which watched function `funcid` is, if the sidecar is active. The hot path: a handful of
/// compares once the cache is warm.
#[inline]
pub fn watched(funcid: pg_sys::Oid) -> Option<Watched> {
    find_watched(&active()?, funcid)
}

#[inline]
fn find_watched(a: &Active, funcid: pg_sys::Oid) -> Option<Watched> {
    if funcid == pg_sys::InvalidOid {
        return None;
    }
    a.watched.iter().find(|(o, _)| *o == funcid).map(|(_, w)| *w)
}

/// Is the guard active here? (Cheap.)
#[inline]
pub fn is_active() -> bool {
    active().is_some()
}

/// OID of `citus_sidecar.guarded_call(oid, VARIADIC "any")`.
pub fn guarded_call_oid() -> Option<pg_sys::Oid> {
    active().map(|a| a.guarded_call)
}

/// Which watched function `funcid` is, from the cache only: never resolves (the fmgr hook runs
/// in contexts where running queries is not safe).
#[inline]
pub fn watched_cached(funcid: pg_sys::Oid) -> Option<Watched> {
    match STATE.0.get() {
        State::Active(a) => find_watched(&a, funcid),
        _ => None,
    }
}

/// Is `relid` one of Citus's metadata tables (pg_catalog.pg_dist_*)? Resolves the cache if needed.
#[inline]
pub fn is_metadata_table(relid: pg_sys::Oid) -> bool {
    match active() {
        Some(a) => relid != pg_sys::InvalidOid && a.metadata.contains(&relid),
        None => false,
    }
}

/// Is `funcid` one of Citus's own PL/pgSQL or SQL functions? Cache only.
pub fn is_citus_sql_function(funcid: pg_sys::Oid) -> bool {
    if !matches!(STATE.0.get(), State::Active(_)) {
        return false;
    }
    let v = CITUS_SQL_FUNCTIONS.0.take();
    let found = v.binary_search_by_key(&funcid.to_u32(), |o| o.to_u32()).is_ok();
    CITUS_SQL_FUNCTIONS.0.set(v);
    found
}

pub fn enter_citus_function() {
    CITUS_FUNCTION_DEPTH.0.set(CITUS_FUNCTION_DEPTH.0.get() + 1);
}

pub fn leave_citus_function() {
    CITUS_FUNCTION_DEPTH.0.set(CITUS_FUNCTION_DEPTH.0.get().saturating_sub(1));
}

/// Is the current statement Citus's own work: run by one of Citus's SQL functions, or arriving
/// on one of Citus's internal connections (metadata sync, shard moves, rebalancer tasks)?
pub fn in_citus_work() -> bool {
    if CITUS_FUNCTION_DEPTH.0.get() > 0 {
        return true;
    }
    // SAFETY: application_name is a GUC string owned by the GUC machinery, or NULL.
    let app = unsafe { pg_sys::application_name };
    if app.is_null() {
        return false;
    }
    let app = unsafe { std::ffi::CStr::from_ptr(app) };
    let bytes = app.to_bytes();
    if !(bytes.starts_with(b"citus_internal gpid=") || bytes.starts_with(b"citus_rebalancer gpid=")) {
        return false;
    }
    // Citus names its connections when it opens them; a session that merely SETs the name is
    // not one of them. The reset value is what the connection started with.
    // SAFETY: returns a GUC-owned string or NULL.
    let at_start = unsafe { pg_sys::GetConfigOptionResetString(c"application_name".as_ptr()) };
    !at_start.is_null() && unsafe { std::ffi::CStr::from_ptr(at_start) } == app
}
