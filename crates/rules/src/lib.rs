//! citus-sidecar's rules, free of pgrx and PostgreSQL.
//!
//! The extension's hooks turn parse trees and catalog rows into the plain facts of [`facts`];
//! the functions here turn those facts into [`Finding`]s; the hooks raise what comes back.
//! Everything in this crate is tested with plain `cargo test`.

#![forbid(unsafe_code)]

pub mod call;
pub mod changes;
pub mod consistency;
pub mod distribution;
pub mod facts;
pub mod fanout;
pub mod finding;
pub mod hashmath;
pub mod hatch;
pub mod hot;
pub mod ident;
pub mod metadata;
pub mod misplaced;
pub mod pgvalue;
pub mod policy;
pub mod prepared;
pub mod psql;
pub mod record;
pub mod script;
pub mod snapshot;
pub mod split;
pub mod template;
pub mod tenants;

#[cfg(test)]
mod testing;

pub use call::CitusFunction;
pub use distribution::{
    check_distribution_call, check_shard_count_setting, citus_refuses, unchecked_call,
};
pub use facts::*;
pub use finding::{Finding, RuleId, Severity};
pub use policy::{Action, Mode, RuleOverride, RuleOverrides};

/// Citus's own upper bound for a shard count (`MAX_SHARD_COUNT`, shared_library_init.h).
pub const MAX_SHARD_COUNT: i32 = 64000;
