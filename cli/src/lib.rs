//! `citus-sidecar`, the command-line tool: check migration files in CI (online through the
//! extension's check_ddl, or offline against a catalog snapshot with libpg_query), take the
//! snapshot, and run the reports from cron. See `citus-sidecar --help`.

pub mod catalog;
pub mod conn;
pub mod finding;
pub mod offline;
pub mod online;
pub mod report;
