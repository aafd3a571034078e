//! The checksum background worker. A launcher (connected to no database, so a missing database
//! is a log line, not a crash loop) starts one worker per database in `citus_sidecar.database`
//! (a comma-separated list) and starts it again if it stops; each worker
//! takes a snapshot of the metadata checksums every `citus_sidecar.checksum_interval`
//! (monitor::snapshot). It idles, and says so once, where the extension or Citus is missing or
//! on a node that is not the coordinator; skips while in recovery; runs each snapshot in a
//! subtransaction (subxact::attempt) with short lock and statement timeouts, so an error is a
//! WARNING and the next tick tries again; and picks up new settings on reload.

use std::time::Duration;

use std::collections::{BTreeMap, BTreeSet};

use pgrx::bgworkers::{
    BackgroundWorker, BackgroundWorkerBuilder, BackgroundWorkerStatus, DynamicBackgroundWorker,
    SignalWakeFlags,
};
use pgrx::prelude::*;

use crate::{gucs, monitor, rows, subxact};

pub fn init() {
    if gucs::worker_databases().is_empty() {
        return;
    }
    BackgroundWorkerBuilder::new("citus_sidecar launcher")
        .set_type("citus_sidecar launcher")
        .set_function("citus_sidecar_launcher_main")
        .set_library(&crate::library_name())
        .enable_spi_access()
        .set_restart_time(Some(Duration::from_secs(60)))
        .load();
}

fn interval() -> Duration {
    Duration::from_secs(gucs::checksum_interval().max(1) as u64)
}

fn reload_if_asked() {
    if BackgroundWorker::sighup_received() {
        // SAFETY: the standard way for a background worker to re-read its configuration.
        unsafe { pg_sys::ProcessConfigFile(pg_sys::GucContext::PGC_SIGHUP) };
    }
}

#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn citus_sidecar_launcher_main(_arg: pg_sys::Datum) {
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGHUP | SignalWakeFlags::SIGTERM);
    // No database: only shared catalogs, enough to see whether the configured databases exist.
    BackgroundWorker::connect_worker_to_spi(None, None);
    let mut workers: BTreeMap<String, DynamicBackgroundWorker> = BTreeMap::new();
    let mut said_missing: BTreeSet<String> = BTreeSet::new();
    let mut first = true;
    loop {
        let wait = if first {
            Duration::from_millis(10)
        } else {
            interval().max(Duration::from_secs(10))
        };
        first = false;
        if !BackgroundWorker::wait_latch(Some(wait)) {
            break;
        }
        reload_if_asked();
        for db in gucs::worker_databases() {
            let running = workers.get(&db).is_some_and(|h| {
                matches!(h.pid(), Ok(_) | Err(BackgroundWorkerStatus::NotYetStarted))
            });
            if running {
                continue;
            }
            let exists = BackgroundWorker::transaction(|| database_exists(&db));
            if !exists {
                if said_missing.insert(db.clone()) {
                    log!("citus_sidecar: database \"{db}\" (citus_sidecar.database) does not exist; the checksum worker waits for it");
                }
                continue;
            }
            said_missing.remove(&db);
            if workers.contains_key(&db) {
                log!("citus_sidecar: the checksum worker for \"{db}\" stopped; starting it again");
            }
            let started = BackgroundWorkerBuilder::new("citus_sidecar checksum worker")
                .set_type("citus_sidecar checksum worker")
                .set_function("citus_sidecar_worker_main")
                .set_library(&crate::library_name())
                .enable_spi_access()
                .set_extra(&db)
                // SAFETY: reading this process's pid.
                .set_notify_pid(unsafe { pg_sys::MyProcPid })
                .load_dynamic();
            match started {
                Ok(handle) => {
                    workers.insert(db, handle);
                }
                Err(e) => {
                    log!("citus_sidecar: could not start the checksum worker for \"{db}\": {e:?}")
                }
            }
        }
    }
}

/// Is there a database called `name`? A heap scan of pg_database, as the autovacuum launcher
/// does: without a database selected, index and syscache lookups would need pg_class.
fn database_exists(name: &str) -> bool {
    // SAFETY: a catalog scan in the caller's transaction; the scan and relation are closed.
    unsafe {
        let rel = pg_sys::table_open(pg_sys::DatabaseRelationId, pg_sys::AccessShareLock as _);
        let scan = pg_sys::table_beginscan_catalog(rel, 0, std::ptr::null_mut());
        let mut found = false;
        loop {
            let tup = pg_sys::heap_getnext(scan, pg_sys::ScanDirection::ForwardScanDirection);
            if tup.is_null() {
                break;
            }
            let form = pg_sys::heap_tuple_get_struct::<pg_sys::FormData_pg_database>(tup);
            let datname = std::ffi::CStr::from_ptr((*form).datname.data.as_ptr());
            if datname.to_bytes() == name.as_bytes() {
                found = true;
                break;
            }
        }
        pg_sys::table_endscan(scan);
        pg_sys::table_close(rel, pg_sys::AccessShareLock as _);
        found
    }
}

/// What the worker said last, so it says things once.
#[derive(PartialEq, Eq, Clone, Copy)]
enum Idle {
    Working,
    NoExtension,
    NotCoordinator,
}

#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn citus_sidecar_worker_main(_arg: pg_sys::Datum) {
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGHUP | SignalWakeFlags::SIGTERM);
    let db = BackgroundWorker::get_extra().to_string();
    BackgroundWorker::connect_worker_to_spi(Some(&db), None);
    log!("citus_sidecar: checksum worker started in database \"{db}\"");
    let mut state = Idle::Working;
    let mut first = true;
    loop {
        let wait = if first {
            Duration::from_millis(10)
        } else {
            interval()
        };
        first = false;
        if !BackgroundWorker::wait_latch(Some(wait)) {
            break;
        }
        reload_if_asked();
        if gucs::checksum_interval() <= 0 {
            continue;
        }
        // SAFETY: reading shared state.
        if unsafe { pg_sys::RecoveryInProgress() } {
            continue;
        }
        let now = BackgroundWorker::transaction(tick);
        if now != state {
            match now {
                Idle::NoExtension => log!("citus_sidecar: the extension or Citus is not installed in \"{db}\"; the checksum worker idles"),
                Idle::NotCoordinator => log!("citus_sidecar: \"{db}\" is not on the Citus coordinator; the checksum worker idles"),
                Idle::Working => log!("citus_sidecar: the checksum worker is recording metadata checksums in \"{db}\""),
            }
            state = now;
        }
    }
}

/// One tick, in the caller's transaction; the snapshot runs in a subtransaction so an error
/// rolls back that snapshot only (a WARNING, and the next tick tries again).
fn tick() -> Idle {
    // SAFETY: a catalog lookup inside a transaction. The extension refuses to be created where
    // Citus's catalogs are missing, so its presence stands for both.
    let installed =
        unsafe { pg_sys::get_extension_oid(c"citus-sidecar".as_ptr(), true) != pg_sys::InvalidOid };
    if !installed {
        return Idle::NoExtension;
    }
    let result = subxact::attempt(|| {
        rows::run(
            "SET LOCAL lock_timeout = '1s'",
            &[],
            "setting the snapshot's lock timeout",
        );
        rows::run(
            "SET LOCAL statement_timeout = '60s'",
            &[],
            "setting the snapshot's statement timeout",
        );
        if !monitor::is_coordinator() {
            return Idle::NotCoordinator;
        }
        monitor::snapshot();
        monitor::state::prune(gucs::history_retention_hours());
        Idle::Working
    });
    result.unwrap_or_else(|msg| {
        warning!(
            "citus_sidecar: this checksum snapshot failed, the next one will try again: {msg}"
        );
        Idle::Working
    })
}
