//! The live coordinator: check_ddl, catalog_snapshot and the reports, through the extension's
//! SQL functions.

use postgres::Client;

use crate::conn::{connect, error_text};
use crate::finding::{FileError, Row};

/// A connection to a database that has the extension.
pub struct Server {
    client: Client,
    /// The extension's schema, quoted for SQL.
    schema: String,
    pub label: String,
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

impl Server {
    /// Connects and finds the extension; a clear message when either fails.
    pub fn open(db: Option<&str>) -> Result<Server, String> {
        let (mut client, label) = connect(db)?;
        let rows = client
            .query(
                "SELECT n.nspname::text, e.extversion::text, current_database()::text FROM pg_catalog.pg_extension e \
                   JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'citus-sidecar'",
                &[],
            )
            .map_err(|e| format!("{label}: {}", error_text(&e)))?;
        let Some(row) = rows.first() else {
            let db: String = client
                .query_one("SELECT current_database()::text", &[])
                .map(|r| r.get(0))
                .unwrap_or_default();
            return Err(format!(
                "{label}: the citus-sidecar extension is not installed in database \"{db}\"\n  \
                 hint: connect to the coordinator database where it is installed, or install it there: CREATE EXTENSION \"citus-sidecar\"; \
                 to check migrations with no server, use --catalog with a snapshot taken where it is installed"
            ));
        };
        Ok(Server {
            client,
            schema: quote_ident(row.get::<_, String>(0).as_str()),
            label,
        })
    }

    fn has_function(&mut self, signature: &str) -> Result<bool, String> {
        let sql = "SELECT to_regprocedure($1) IS NOT NULL";
        let name = format!("{}.{signature}", self.schema);
        self.client
            .query_one(sql, &[&name])
            .map(|r| r.get(0))
            .map_err(|e| format!("{}: {}", self.label, error_text(&e)))
    }

    fn require(&mut self, signature: &str) -> Result<(), String> {
        if self.has_function(signature)? {
            return Ok(());
        }
        let version: String = self
            .client
            .query_one("SELECT extversion::text FROM pg_catalog.pg_extension WHERE extname = 'citus-sidecar'", &[])
            .map(|r| r.get(0))
            .unwrap_or_default();
        Err(format!(
            "{}: the citus-sidecar extension here (version {version}) has no {signature}\n  hint: install this version of the extension (scripts/install.sh) and ALTER EXTENSION \"citus-sidecar\" UPDATE",
            self.label
        ))
    }

    /// `check_ddl(script)` in a read-only transaction that is rolled back. Err(Ok(..)): check_ddl
    /// refused the script (it does not parse, ...); Err(Err(..)): the connection failed.
    pub fn check_ddl(&mut self, script: &str) -> Result<Vec<Row>, Result<FileError, String>> {
        let sql = format!(
            "SELECT statement, statement_text, rule_id, severity, sqlstate, message, detail, hint, remediation, line, col \
               FROM {}.check_ddl($1)",
            self.schema
        );
        let label = self.label.clone();
        let mut tx = self
            .client
            .build_transaction()
            .read_only(true)
            .start()
            .map_err(|e| Err(format!("{label}: {}", error_text(&e))))?;
        let result = tx.query(&sql, &[&script]);
        let _ = tx.rollback();
        match result {
            Ok(rows) => Ok(rows
                .iter()
                .map(|r| Row {
                    statement: r.get(0),
                    statement_text: r.get(1),
                    rule_id: r.get(2),
                    severity: r.get(3),
                    sqlstate: r.get(4),
                    message: r.get(5),
                    detail: r.get(6),
                    hint: r.get(7),
                    remediation: r.get(8),
                    line: r.get(9),
                    col: r.get(10),
                })
                .collect()),
            Err(e) => match e.as_db_error() {
                Some(db) => Err(Ok(FileError::from_server(db.message(), db.detail()))),
                None => Err(Err(format!("{label}: {}", error_text(&e)))),
            },
        }
    }

    /// `catalog_snapshot()` as JSON text, taken in a read-only transaction.
    pub fn snapshot(&mut self) -> Result<String, String> {
        self.require("catalog_snapshot()")?;
        let label = self.label.clone();
        let err = |e: postgres::Error| format!("{label}: {}", error_text(&e));
        let mut tx = self
            .client
            .build_transaction()
            .read_only(true)
            .start()
            .map_err(err)?;
        let sql = format!("SELECT {}.catalog_snapshot()::text", self.schema);
        let text: String = tx.query_one(&sql, &[]).map(|r| r.get(0)).map_err(err)?;
        let _ = tx.rollback();
        Ok(text)
    }

    pub fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>, String> {
        let sql = sql.replace("@extschema@", &self.schema);
        self.client
            .query(&sql, params)
            .map_err(|e| format!("{}: {}", self.label, error_text(&e)))
    }

    pub fn ensure(&mut self, signature: &str) -> Result<(), String> {
        self.require(signature)
    }
}
