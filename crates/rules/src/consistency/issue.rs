//! One row of the report, and what to do about it. Every finding carries a [`Remedy`]: SQL that
//! is safe to paste (it never drops, truncates or overwrites the only copy of data), or, where
//! no statement can be decided from the checks, what a person should look at.

use super::check::{CheckId, Level};
use super::model::NodeInfo;

/// What to do about a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// Statements to run on the coordinator, as they are. Lines starting with `--` explain.
    Run(String),
    /// No statement can be decided from the checks: what a person should look at.
    Person(String),
    /// Normal: nothing to repair.
    Nothing(String),
}

impl Remedy {
    /// The `remediation` column: the SQL, or the text as SQL comments, so that pasting a whole
    /// column runs only what is meant to run.
    pub fn text(&self) -> String {
        match self {
            Remedy::Run(sql) => sql.clone(),
            Remedy::Person(why) => comment(&format!("for a person: {why}")),
            Remedy::Nothing(why) => comment(&format!("nothing to run: {why}")),
        }
    }

    pub fn is_runnable(&self) -> bool {
        matches!(self, Remedy::Run(_))
    }
}

fn comment(text: &str) -> String {
    text.split(['\n', '\r'])
        .filter(|l| !l.is_empty())
        .map(|l| format!("-- {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` (a table's or a node's name) as it may stand in a `--` comment of a remediation:
/// PostgreSQL ends the comment at a newline or a carriage return, which a name may hold, and
/// the rest of the name would run as SQL when the remediation is pasted.
pub fn in_comment(text: &str) -> String {
    text.replace('\n', "\\n").replace('\r', "\\r")
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub check: CheckId,
    pub level: Level,
    pub table: Option<String>,
    pub shard: Option<i64>,
    pub node: Option<String>,
    pub detail: String,
    pub remedy: Remedy,
}

impl Issue {
    pub fn new(check: CheckId, level: Level, detail: String, remedy: Remedy) -> Issue {
        Issue {
            check,
            level,
            table: None,
            shard: None,
            node: None,
            detail,
            remedy,
        }
    }
    pub fn table(mut self, t: &str) -> Self {
        self.table = Some(t.to_string());
        self
    }
    pub fn shard(mut self, s: i64) -> Self {
        self.shard = Some(s);
        self
    }
    pub fn node(mut self, n: impl Into<String>) -> Self {
        self.node = Some(n.into());
        self
    }
}

/// A SQL string literal (PostgreSQL's quote_literal: an E'' literal where there is a backslash).
pub fn literal(s: &str) -> String {
    if s.contains('\\') {
        format!("E'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

/// A repair of the coordinator's metadata by hand, through the guard's escape hatch (recorded
/// in the decision log with `why`), in one transaction.
pub fn hand_edit(why: &str, statements: &[String]) -> String {
    let mut out = vec![
        "BEGIN;".to_string(),
        format!(
            "SELECT citus_sidecar.allow_once('metadata-hand-edit', {});",
            literal(&format!("shard_consistency_report: {why}"))
        ),
    ];
    out.extend(statements.iter().cloned());
    out.push("COMMIT;".into());
    out.join("\n")
}

/// A placement row, inserted only where it is not there yet (so pasting twice is harmless).
pub fn insert_placement(shard: i64, state: i32, group: i32) -> String {
    format!(
        "INSERT INTO pg_catalog.pg_dist_placement (shardid, shardstate, shardlength, groupid) SELECT {shard}, {state}, 0, {group} WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_placement WHERE shardid = {shard} AND groupid = {group});"
    )
}

/// A colocation group row from `select` (the SELECT list of its five values, and any FROM and
/// WHERE), inserted only where the group is not there yet.
pub fn insert_colocation(id: i64, select: &str) -> String {
    let guard = format!(
        "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_colocation WHERE colocationid = {id})"
    );
    let joiner = if select.contains(" WHERE ") {
        " AND "
    } else {
        " WHERE "
    };
    format!(
        "INSERT INTO pg_catalog.pg_dist_colocation (colocationid, shardcount, replicationfactor, distributioncolumntype, distributioncolumncollation)\nSELECT {select}{joiner}{guard};"
    )
}

/// `command` run on `node` from the coordinator, through Citus (one statement; its result and
/// any error come back as the row).
pub fn on_node(node: &NodeInfo, command: &str) -> String {
    format!(
        "SELECT success, result FROM master_run_on_worker(ARRAY[{}], ARRAY[{}], ARRAY[{}], false);",
        literal(&node.name),
        node.port,
        dollar_quoted("cmd", command)
    )
}

/// `body` dollar-quoted with the tag `$name$`, or `$name1$`, `$name2$`, ... where the body
/// holds it (a table or a column may be named `x$cmd$y`) or would run into the closing tag
/// (a body ending in `$cmd`).
pub fn dollar_quoted(name: &str, body: &str) -> String {
    let mut tag = format!("${name}$");
    let mut n = 0;
    while format!("{body}{tag}").find(&tag) != Some(body.len()) {
        n += 1;
        tag = format!("${name}{n}$");
    }
    format!("{tag}{body}{tag}")
}

/// A PL/pgSQL block for [`on_node`]: one statement that runs `body` with Citus's guard for
/// direct changes to shards lifted for this transaction only.
pub fn shard_block(body: &str) -> String {
    let block = format!(
        " BEGIN PERFORM pg_catalog.set_config('citus.enable_manual_changes_to_shards', 'on', true); {body} END "
    );
    format!("DO {}", dollar_quoted("blk", &block))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_and_nothing_are_comments_only() {
        let r = Remedy::Person("look at a\nand b".into()).text();
        assert_eq!(r, "-- for a person: look at a\n-- and b");
        assert!(r.lines().all(|l| l.starts_with("-- ")));
        assert!(Remedy::Nothing("normal".into()).text().starts_with("-- "));
        // a carriage return ends a comment in PostgreSQL, as a newline does
        let r = Remedy::Person("look at a\rDROP TABLE b".into()).text();
        assert_eq!(r, "-- for a person: look at a\n-- DROP TABLE b");
        assert_eq!(in_comment("a\r\nb"), "a\\r\\nb");
    }

    #[test]
    fn literals_and_node_commands_quote_what_they_carry() {
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal("a\\b"), "E'a\\\\b'");
        // one literal, whatever it holds (E'' strings read backslashes as escapes, as plain ones
        // do with standard_conforming_strings off)
        for s in ["h\\'');CREATE TABLE p();--", "a'\n\\", "\\", "'", "$$"] {
            let code = crate::psql::strip_comments(&literal(s), true);
            let body = code.strip_prefix('E').unwrap_or(&code);
            assert!(
                body.starts_with('\'') && body.ends_with('\''),
                "{s}: {code}"
            );
            assert_eq!(body.matches('\'').count(), 2, "{s}: {code}");
            assert!(body.trim_matches('\'').trim().is_empty(), "{s}: {code}");
        }
        let n = NodeInfo {
            id: 2,
            group: 1,
            name: "w'1".into(),
            port: 5433,
            active: true,
            primary: true,
            has_metadata: true,
            metadata_synced: true,
        };
        let s = on_node(&n, "SELECT '$cmd$'");
        assert!(
            s.contains("ARRAY['w''1'], ARRAY[5433], ARRAY[$cmd1$SELECT '$cmd$'$cmd1$]"),
            "{s}"
        );
        let e = hand_edit("x", &["UPDATE t SET a = 1;".into()]);
        assert!(e.starts_with("BEGIN;\nSELECT citus_sidecar.allow_once('metadata-hand-edit', 'shard_consistency_report: x');"));
        assert!(e.ends_with("UPDATE t SET a = 1;\nCOMMIT;"));
        // a name holding a tag: the next tag
        assert_eq!(dollar_quoted("sc", "a$sc$b"), "$sc1$a$sc$b$sc1$");
        assert_eq!(dollar_quoted("sc", "$sc$$sc1$"), "$sc2$$sc$$sc1$$sc2$");
        assert_eq!(
            dollar_quoted("cmd", "SELECT 'x$cmd"),
            "$cmd1$SELECT 'x$cmd$cmd1$"
        );
        assert_eq!(dollar_quoted("cmd", "x$"), "$cmd$x$$cmd$");
        let b = shard_block("DELETE FROM public.\"t$blk$x\"_1 x;");
        assert!(
            b.starts_with("DO $blk1$ BEGIN") && b.ends_with(" END $blk1$"),
            "{b}"
        );
    }
}
