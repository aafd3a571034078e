//! The extension's SQL surface, one file per area.

mod check_ddl;
mod consistency;
mod guard;
mod hot_shards;
mod metrics;
mod monitor;
mod prepared;
mod repair;
mod rules;
mod snapshot;
mod split;
mod tenants;

pub(crate) use split::splits;

pgrx::extension_sql_file!("../../sql/bootstrap.sql", name = "bootstrap", bootstrap);
pgrx::extension_sql_file!("../../sql/guard.sql", name = "guard", finalize);
pgrx::extension_sql_file!("../../sql/monitor.sql", name = "monitor");
pgrx::extension_sql_file!(
    "../../sql/consistency.sql",
    name = "consistency",
    requires = [consistency::shard_consistency_report]
);
pgrx::extension_sql_file!(
    "../../sql/split.sql",
    name = "split",
    requires = [split::declare_separate, split::retract_separate]
);
pgrx::extension_sql_file!(
    "../../sql/repair.sql",
    name = "repair",
    requires = [repair::repair_misplaced_rows]
);
