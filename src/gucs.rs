//! Every `citus_sidecar.*` setting, in one place. The rest of the crate reads them through
//! the small getters at the bottom.

use std::ffi::{c_char, c_void, CStr, CString};

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::prelude::*;
use pgrx::PostgresGucEnum;
use sidecar_rules::{Mode, RuleOverrides};

#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum GuardMode {
    #[name = c"enforce"]
    Enforce,
    #[name = c"warn"]
    Warn,
    #[name = c"off"]
    Off,
}

/// `citus_sidecar.mode`: what the guard does with a finding. Superuser only, so an
/// application role cannot loosen it.
static MODE: GucSetting<GuardMode> = GucSetting::<GuardMode>::new(GuardMode::Enforce);

/// `citus_sidecar.rule_overrides`: `rule=warn|off, ...`; loosens single rules. Superuser only.
static RULE_OVERRIDES: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// `citus_sidecar.allow_once`: the transaction's escape hatches, set (transaction-locally)
/// by `citus_sidecar.allow_once(rule, reason)`. Hidden; superuser only.
static ALLOW_ONCE: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// `citus_sidecar.checksum_interval`: seconds between two metadata checksum snapshots; 0 stops
/// the worker's snapshots.
static CHECKSUM_INTERVAL: GucSetting<i32> = GucSetting::<i32>::new(60);

/// `citus_sidecar.history_retention`: hours of expected or acknowledged changes to keep.
static HISTORY_RETENTION: GucSetting<i32> = GucSetting::<i32>::new(168);

/// `citus_sidecar.database`: where the checksum worker runs (the coordinator's Citus databases,
/// comma-separated).
static DATABASE: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c"postgres"));

/// `citus_sidecar.decision_log_size`: megabytes of the decision log before it is rotated.
static DECISION_LOG_SIZE: GucSetting<i32> = GucSetting::<i32>::new(64);

/// `citus_sidecar.tenant_share_threshold`: percent of the cluster's load above which
/// tenant_load_top() recommends isolating a tenant.
static TENANT_SHARE: GucSetting<f64> = GucSetting::<f64>::new(5.0);

/// `citus_sidecar.shard_skew_threshold`: largest over median shard size above which
/// hot_shards() flags a colocation group.
static SHARD_SKEW: GucSetting<f64> = GucSetting::<f64>::new(1.5);

pub fn init() {
    GucRegistry::define_int_guc(
        c"citus_sidecar.decision_log_size",
        c"Megabytes of the guard's decision log before it is rotated.",
        c"The log keeps the current file and one rotated file, so it holds at most about twice this.",
        &DECISION_LOG_SIZE,
        1,
        1024 * 1024,
        GucContext::Sighup,
        GucFlags::UNIT_MB,
    );
    GucRegistry::define_float_guc(
        c"citus_sidecar.shard_skew_threshold",
        c"Largest over median shard size above which hot_shards() flags a colocation group.",
        c"A flagged group gets the statement to rebalance it by disk size.",
        &SHARD_SKEW,
        1.0,
        1000.0,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_float_guc(
        c"citus_sidecar.tenant_share_threshold",
        c"Percent of the cluster's load above which tenant_load_top() recommends isolating a tenant.",
        c"A tenant above it gets the isolate_tenant_to_new_shard(...) and move statements in its recommendation.",
        &TENANT_SHARE,
        0.0,
        100.0,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"citus_sidecar.checksum_interval",
        c"Seconds between two snapshots of the metadata checksums; 0 stops them.",
        c"The background worker records per-table, per-node checksums of Citus's metadata and classifies each change.",
        &CHECKSUM_INTERVAL,
        0,
        86400,
        GucContext::Sighup,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_int_guc(
        c"citus_sidecar.history_retention",
        c"Hours of expected or acknowledged metadata changes to keep.",
        c"Unexpected changes nobody has acknowledged are kept whatever their age.",
        &HISTORY_RETENTION,
        1,
        24 * 3650,
        GucContext::Sighup,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"citus_sidecar.database",
        c"The databases the checksum worker runs in, comma-separated; empty for none.",
        c"Set it to the databases where Citus and citus-sidecar are installed on the coordinator.",
        &DATABASE,
        GucContext::Postmaster,
        GucFlags::default(),
    );
    GucRegistry::define_enum_guc(
        c"citus_sidecar.mode",
        c"What the guard does with unsafe distribution DDL: enforce, warn or off.",
        c"enforce raises an ERROR for blocking rules and a WARNING for the others; warn turns every finding into a WARNING; off disables the guard.",
        &MODE,
        GucContext::Suset,
        GucFlags::default(),
    );
    // SAFETY: the check hook is #[pg_guard]ed and only reads its argument.
    unsafe {
        GucRegistry::define_string_guc_with_hooks(
            c"citus_sidecar.rule_overrides",
            c"Per-rule overrides: a comma-separated list of rule=warn or rule=off.",
            rule_ids_help(),
            &RULE_OVERRIDES,
            GucContext::Suset,
            GucFlags::default(),
            Some(check_rule_overrides),
            None,
            None,
        );
    }
    // SAFETY: as above.
    unsafe {
        GucRegistry::define_string_guc_with_hooks(
            c"citus_sidecar.allow_once",
            c"Escape hatches for the current transaction (set by citus_sidecar.allow_once()).",
            c"Lines of rule-id:reason. Use the function, inside BEGIN ... COMMIT.",
            &ALLOW_ONCE,
            GucContext::Suset,
            GucFlags::NO_SHOW_ALL | GucFlags::NO_RESET_ALL,
            Some(check_allow_once),
            None,
            None,
        );
    }
    // SAFETY: called from _PG_init while preloading.
    unsafe { pg_sys::MarkGUCPrefixReserved(c"citus_sidecar".as_ptr()) };
}

/// The long description of citus_sidecar.rule_overrides, listing every rule id from the rules'
/// own enum (so a new rule cannot be missing). Built once, in the postmaster.
fn rule_ids_help() -> &'static CStr {
    let ids: Vec<&str> = sidecar_rules::RuleId::ALL
        .iter()
        .map(|r| r.as_str())
        .collect();
    let text = format!(
        "Overrides can only loosen a rule. Rule ids: {}.",
        ids.join(", ")
    );
    Box::leak(
        CString::new(text)
            .expect("rule ids have no NUL")
            .into_boxed_c_str(),
    )
}

/// Shared body of the string settings' check hooks: `validate` says why a value is refused.
///
/// # Safety
/// `newval` is the pointer PostgreSQL passes to a string check hook.
unsafe fn check_string(newval: *mut *mut c_char, validate: fn(&str) -> Result<(), String>) -> bool {
    // SAFETY: PostgreSQL passes a valid pointer to a (possibly NULL) C string.
    let raw = unsafe { *newval };
    if raw.is_null() {
        return true;
    }
    let s = unsafe { CStr::from_ptr(raw) }.to_string_lossy();
    match validate(&s) {
        Ok(()) => true,
        Err(e) => {
            let msg = CString::new(e).unwrap_or_default();
            // SAFETY: GUC_check_errdetail_string is read by the GUC machinery right after we
            // return false; pstrdup copies into the current memory context.
            unsafe { pg_sys::GUC_check_errdetail_string = pg_sys::pstrdup(msg.as_ptr()) };
            false
        }
    }
}

/// # Safety
/// PostgreSQL calls it as the GUC check hook of citus_sidecar.rule_overrides, with a valid value pointer.
#[pg_guard]
unsafe extern "C-unwind" fn check_rule_overrides(
    newval: *mut *mut c_char,
    _extra: *mut *mut c_void,
    _source: pg_sys::GucSource::Type,
) -> bool {
    // SAFETY: forwarded from PostgreSQL.
    unsafe { check_string(newval, |s| RuleOverrides::parse(s).map(|_| ())) }
}

/// # Safety
/// PostgreSQL calls it as the GUC check hook of citus_sidecar.allow_once, with a valid value pointer.
#[pg_guard]
unsafe extern "C-unwind" fn check_allow_once(
    newval: *mut *mut c_char,
    _extra: *mut *mut c_void,
    _source: pg_sys::GucSource::Type,
) -> bool {
    // SAFETY: forwarded from PostgreSQL.
    unsafe {
        check_string(newval, |s| match sidecar_rules::hatch::decode(s) {
            Some(_) => Ok(()),
            None => Err("Use SELECT citus_sidecar.allow_once('<rule-id>', '<reason>');".into()),
        })
    }
}

/// The current transaction's escape hatches. Allocates: call only when something is blocked.
pub fn hatches() -> Vec<sidecar_rules::hatch::Hatch> {
    ALLOW_ONCE
        .get()
        .and_then(|s| sidecar_rules::hatch::decode(&s.to_string_lossy()))
        .unwrap_or_default()
}

/// The setting's raw value, for allow_once() to append to.
pub fn allow_once_raw() -> String {
    ALLOW_ONCE
        .get()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub fn decision_log_size_mb() -> i32 {
    DECISION_LOG_SIZE.get()
}

pub fn shard_skew_threshold() -> f64 {
    SHARD_SKEW.get()
}

pub fn tenant_share_threshold() -> f64 {
    TENANT_SHARE.get()
}

pub fn checksum_interval() -> i32 {
    CHECKSUM_INTERVAL.get()
}

pub fn history_retention_hours() -> i32 {
    HISTORY_RETENTION.get()
}

/// The configured databases (a comma-separated list; empty for none).
pub fn worker_databases() -> Vec<String> {
    DATABASE
        .get()
        .map(|s| {
            s.to_string_lossy()
                .split(',')
                .map(|d| d.trim().to_string())
                .filter(|d| !d.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The guard's mode. Cheap: reads an int.
#[inline]
pub fn mode() -> Mode {
    match MODE.get() {
        GuardMode::Enforce => Mode::Enforce,
        GuardMode::Warn => Mode::Warn,
        GuardMode::Off => Mode::Off,
    }
}

/// Parsed overrides. Allocates: call only when there is a finding to act on.
pub fn rule_overrides() -> RuleOverrides {
    RULE_OVERRIDES
        .get()
        .and_then(|s| RuleOverrides::parse(&s.to_string_lossy()).ok())
        .unwrap_or_default()
}
