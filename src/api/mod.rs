//! The extension's SQL surface, one file per area.

mod check_ddl;
mod guard;
mod rules;

pgrx::extension_sql_file!("../../sql/bootstrap.sql", name = "bootstrap", bootstrap);
pgrx::extension_sql_file!("../../sql/guard.sql", name = "guard", finalize);
