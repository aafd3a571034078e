//! What the reports share: the coordinator's metadata read into the rules' types, the nodes
//! reached through Citus once per node (or a few times, for scans), and PostgreSQL's quoting.

pub mod cluster;
pub mod fanout;
pub mod listing;
pub mod metadata;
pub mod scan;

use sidecar_rules::consistency::Quoting;

/// PostgreSQL's own quote_identifier.
pub struct PgQuote;

impl Quoting for PgQuote {
    fn ident(&self, name: &str) -> String {
        pgrx::spi::quote_identifier(name)
    }
}
