//! The extension's SQL surface, one file per area.

mod check_ddl;
mod consistency;
mod guard;
mod hot_shards;
mod metrics;
mod monitor;
mod prepared;
mod rules;
mod snapshot;
mod tenants;

pgrx::extension_sql_file!("../../sql/bootstrap.sql", name = "bootstrap", bootstrap);
pgrx::extension_sql_file!("../../sql/guard.sql", name = "guard", finalize);
pgrx::extension_sql_file!("../../sql/monitor.sql", name = "monitor");
pgrx::extension_sql_file!(
    "../../sql/consistency.sql",
    name = "consistency",
    requires = [consistency::shard_consistency_report]
);
