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

#[derive(Clone, Copy)]
struct Active {
    guarded_call: pg_sys::Oid,
    watched: [pg_sys::Oid; 5],
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

pub fn init() {}

#[pg_guard]
unsafe extern "C-unwind" fn invalidate(_arg: pg_sys::Datum, _cacheid: i32, _hash: u32) {
    STATE.0.set(State::Unknown);
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

#[cold]
fn resolve() -> Option<Active> {
    // SAFETY: reading backend state.
    if unsafe { !pg_sys::IsTransactionState() } {
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
    let mut watched = [pg_sys::InvalidOid; 5];
    for (i, w) in Watched::ALL.iter().enumerate() {
        watched[i] = lookup_function(pg_sys::PG_CATALOG_NAMESPACE.into(), w.proname());
    }
    if guarded_call == pg_sys::InvalidOid {
        STATE.0.set(State::Inactive);
        return None;
    }
    let a = Active {
        guarded_call,
        watched,
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
    let a = active()?;
    a.watched
        .iter()
        .position(|&o| o == funcid && o != pg_sys::InvalidOid)
        .map(|i| Watched::ALL[i])
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
