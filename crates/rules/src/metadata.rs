//! Rule metadata-hand-edit: statements that change Citus's metadata relations
//! (pg_catalog.pg_dist_* tables, the view pg_dist_shard_placement, their indexes and sequences)
//! from a client session.
//!
//! Both front ends ask the same two questions here:
//!
//! 1. *Which relation is it?* The guard knows the OID: it reads the relation's schema, name
//!    and relkind and calls [`metadata_relation_of`]. check_ddl and a CLI only have the name as
//!    written: they call [`metadata_relation`] (schema-qualified or not).
//! 2. *Is this statement an edit of it?* Every statement that names a relation is classified
//!    as a [`StatementKind`] (from the parse node, or from PostgreSQL's command tag with
//!    [`StatementKind::from_command_tag`]) and [`check_statement`] decides, with the finding.
//!
//! ```
//! use sidecar_rules::metadata::{check_statement, metadata_relation, StatementKind};
//! // check_ddl('DROP TABLE pg_dist_node'): the name as the parser gives it.
//! let rel = metadata_relation(None, "pg_dist_node").expect("Citus metadata");
//! let f = check_statement(StatementKind::DropTable, &rel).expect("a hand edit");
//! assert_eq!(f.message, "DROP TABLE on pg_catalog.pg_dist_node would edit Citus metadata by hand");
//! assert!(check_statement(StatementKind::CommentOn, &rel).is_none());
//! ```

use crate::finding::{Finding, RuleId};

/// `operation` is the statement kind (UPDATE, TRUNCATE, ...), `table` the qualified name.
pub fn hand_edit(operation: &str, table: &str) -> Finding {
    Finding::new(
        RuleId::MetadataHandEdit,
        format!("{operation} on {table} would edit Citus metadata by hand"),
    )
    .detail(format!(
        "{table} is Citus metadata. Hand edits bypass Citus's own checks, are not propagated to the workers' copies of the metadata, and are the usual root of shard inconsistency."
    ))
    .hint(
        "Use Citus's functions instead (citus_move_shard_placement, citus_update_node, update_distributed_table_colocation, citus_copy_shard_placement, ...). For a deliberate repair, allow it for one transaction: BEGIN; SELECT citus_sidecar.allow_once('metadata-hand-edit', '<why>'); ...; COMMIT;",
    )
}

/// The kind of a metadata relation (`pg_class.relkind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelKind {
    /// `r`, `p`.
    Table,
    /// `v`.
    View,
    /// `i`, `I`.
    Index,
    /// `S`.
    Sequence,
}

impl RelKind {
    /// From `pg_class.relkind`: `r`/`p` table, `v` view, `i`/`I` index, `S` sequence.
    pub fn from_relkind(c: char) -> Option<RelKind> {
        match c {
            'r' | 'p' => Some(RelKind::Table),
            'v' => Some(RelKind::View),
            'i' | 'I' => Some(RelKind::Index),
            'S' => Some(RelKind::Sequence),
            _ => None,
        }
    }

    /// `table`, `view`, `index`, `sequence`.
    pub fn noun(self) -> &'static str {
        match self {
            RelKind::Table => "table",
            RelKind::View => "view",
            RelKind::Index => "index",
            RelKind::Sequence => "sequence",
        }
    }
}

/// Citus's metadata tables in pg_catalog, identical in 13.2.2 and 14.0.1 (created in schema
/// citus by the citus--*.sql scripts, then moved with ALTER TABLE ... SET SCHEMA pg_catalog).
pub const METADATA_TABLES: [&str; 17] = [
    "pg_dist_authinfo",
    "pg_dist_background_job",
    "pg_dist_background_task",
    "pg_dist_background_task_depend",
    "pg_dist_cleanup",
    "pg_dist_colocation",
    "pg_dist_local_group",
    "pg_dist_node",
    "pg_dist_node_metadata",
    "pg_dist_object",
    "pg_dist_partition",
    "pg_dist_placement",
    "pg_dist_poolinfo",
    "pg_dist_rebalance_strategy",
    "pg_dist_schema",
    "pg_dist_shard",
    "pg_dist_transaction",
];

/// The one metadata view (a table before Citus 7.0): pg_dist_placement joined with the nodes.
pub const METADATA_VIEWS: [&str; 1] = ["pg_dist_shard_placement"];

/// Sequences Citus draws ids from (shard ids, placement ids, group and node ids, ...).
pub const METADATA_SEQUENCES: [&str; 10] = [
    "pg_dist_background_job_job_id_seq",
    "pg_dist_background_task_task_id_seq",
    "pg_dist_cleanup_recordid_seq",
    "pg_dist_clock_logical_seq",
    "pg_dist_colocationid_seq",
    "pg_dist_groupid_seq",
    "pg_dist_node_nodeid_seq",
    "pg_dist_operationid_seq",
    "pg_dist_placement_placementid_seq",
    "pg_dist_shardid_seq",
];

/// Indexes the install scripts name. Indexes that back constraints are named by PostgreSQL
/// (`<table>_pkey`, `<table>_<column>_key`) and are recognised by their suffix. One does not
/// start with pg_dist_: `placement_shardid_groupid_unique_index` on pg_dist_placement
/// (citus--10.1-1--10.2-1.sql).
pub const METADATA_INDEXES: [&str; 17] = [
    "pg_dist_authinfo_identification_index",
    "pg_dist_background_task_depend_depends_on",
    "pg_dist_background_task_depend_task_id",
    "pg_dist_background_task_job_id_task_id",
    "pg_dist_background_task_status_task_id_index",
    "pg_dist_colocation_configuration_index",
    "pg_dist_node_groupid_unique",
    "pg_dist_partition_colocationid_index",
    "pg_dist_partition_logical_relid_index",
    "pg_dist_placement_groupid_index",
    "pg_dist_placement_placementid_index",
    "pg_dist_placement_shardid_index",
    "pg_dist_schema_unique_colocationid_index",
    "pg_dist_shard_logical_relid_index",
    "pg_dist_shard_shardid_index",
    "pg_dist_transaction_group_index",
    "placement_shardid_groupid_unique_index",
];

/// A relation of Citus's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRelation {
    /// The relation's name, unqualified (the schema is always pg_catalog).
    pub name: String,
    /// Its kind, when known: the guard knows it from pg_class; from a name alone it is known
    /// for the relations Citus's scripts create and guessed from PostgreSQL's naming for the
    /// rest (`_seq`, `_pkey`, `_key`, `_index`), else unknown (None), which matches every
    /// statement kind.
    pub kind: Option<RelKind>,
}

impl MetadataRelation {
    /// `pg_catalog.<name>`.
    pub fn qualified(&self) -> String {
        format!("pg_catalog.{}", self.name)
    }
}

/// Is `name` in `schema` Citus metadata, from names alone? `schema` is None for an unqualified
/// name. Names are compared exactly, as the parser gives them (already case-folded unless
/// quoted: `"PG_DIST_NODE"` is another relation).
///
/// An unqualified name is taken to mean pg_catalog's: PostgreSQL searches pg_catalog before
/// the schemas of search_path unless search_path lists pg_catalog explicitly later. (A
/// temporary table of the same name would come first for relations, and a search_path that
/// lists pg_catalog after another schema can reach a same-named table there; the guard, which
/// resolves OIDs, is exact in both cases, and a name-only check errs on the side of flagging.)
pub fn metadata_relation(schema: Option<&str>, name: &str) -> Option<MetadataRelation> {
    if schema.is_some_and(|s| s != "pg_catalog") {
        return None;
    }
    let known = |list: &[&str]| list.contains(&name);
    let kind = if known(&METADATA_TABLES) {
        Some(RelKind::Table)
    } else if known(&METADATA_VIEWS) {
        Some(RelKind::View)
    } else if known(&METADATA_SEQUENCES) {
        Some(RelKind::Sequence)
    } else if known(&METADATA_INDEXES) {
        Some(RelKind::Index)
    } else if !name.starts_with("pg_dist_") {
        return None;
    } else if name.ends_with("_seq") {
        Some(RelKind::Sequence)
    } else if ["_pkey", "_key", "_index"]
        .iter()
        .any(|s| name.ends_with(s))
    {
        Some(RelKind::Index)
    } else {
        None
    };
    Some(MetadataRelation {
        name: name.to_string(),
        kind,
    })
}

/// The guard's question, with the relation resolved: `schema` and `name` from pg_class and
/// pg_namespace, `relkind` from pg_class. Metadata relations are the ones in pg_catalog whose
/// name starts with pg_dist_, plus [`METADATA_INDEXES`]; for a SQL query the glue can use
/// `relnamespace = 'pg_catalog'::regnamespace AND (relname LIKE 'pg\_dist\_%' OR relname =
/// 'placement_shardid_groupid_unique_index')`.
pub fn metadata_relation_of(schema: &str, name: &str, relkind: char) -> Option<MetadataRelation> {
    if schema != "pg_catalog" || !(name.starts_with("pg_dist_") || METADATA_INDEXES.contains(&name))
    {
        return None;
    }
    Some(MetadataRelation {
        name: name.to_string(),
        kind: RelKind::from_relkind(relkind),
    })
}

/// A statement that names a relation, as both front ends classify it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatementKind {
    /// `INSERT`
    Insert,
    /// `UPDATE`
    Update,
    /// `DELETE`
    Delete,
    /// `MERGE`
    Merge,
    /// `TRUNCATE`
    Truncate,
    /// `COPY ... FROM`: writes rows.
    CopyFrom,
    /// `COPY ... TO`: reads only.
    CopyTo,
    /// ALTER TABLE with any subcommand (also on a view, index or sequence).
    AlterTable,
    /// ALTER TABLE/VIEW/SEQUENCE ... SET SCHEMA (AlterObjectSchemaStmt).
    SetSchema,
    /// ALTER TABLE/INDEX/VIEW/SEQUENCE ... RENAME [COLUMN|CONSTRAINT] (RenameStmt).
    Rename,
    /// `ALTER INDEX`
    AlterIndex,
    /// `ALTER VIEW`
    AlterView,
    /// `ALTER SEQUENCE` (RESTART, INCREMENT, OWNED BY, ...).
    AlterSequence,
    /// `DROP TABLE`
    DropTable,
    /// `DROP VIEW`
    DropView,
    /// `DROP INDEX`
    DropIndex,
    /// `DROP SEQUENCE`
    DropSequence,
    /// `CREATE INDEX ... ON`
    CreateIndex,
    /// `CREATE TRIGGER ... ON`
    CreateTrigger,
    /// `DROP TRIGGER ... ON`
    DropTrigger,
    /// `CREATE RULE ... ON`
    CreateRule,
    /// `DROP RULE ... ON`
    DropRule,
    /// `CREATE POLICY ... ON`
    CreatePolicy,
    /// `ALTER POLICY ... ON`
    AlterPolicy,
    /// `DROP POLICY ... ON`
    DropPolicy,
    /// `GRANT ... ON`
    Grant,
    /// `REVOKE ... ON`
    Revoke,
    /// COMMENT ON: documentation, not an edit.
    CommentOn,
    /// `SELECT`: reads only.
    Select,
    /// `LOCK TABLE`: not an edit.
    Lock,
}

impl StatementKind {
    /// Every kind, in declaration order.
    pub const ALL: [StatementKind; 30] = [
        StatementKind::Insert,
        StatementKind::Update,
        StatementKind::Delete,
        StatementKind::Merge,
        StatementKind::Truncate,
        StatementKind::CopyFrom,
        StatementKind::CopyTo,
        StatementKind::AlterTable,
        StatementKind::SetSchema,
        StatementKind::Rename,
        StatementKind::AlterIndex,
        StatementKind::AlterView,
        StatementKind::AlterSequence,
        StatementKind::DropTable,
        StatementKind::DropView,
        StatementKind::DropIndex,
        StatementKind::DropSequence,
        StatementKind::CreateIndex,
        StatementKind::CreateTrigger,
        StatementKind::DropTrigger,
        StatementKind::CreateRule,
        StatementKind::DropRule,
        StatementKind::CreatePolicy,
        StatementKind::AlterPolicy,
        StatementKind::DropPolicy,
        StatementKind::Grant,
        StatementKind::Revoke,
        StatementKind::CommentOn,
        StatementKind::Select,
        StatementKind::Lock,
    ];

    /// The label the finding names the statement by.
    pub fn operation(self) -> &'static str {
        use StatementKind::*;
        match self {
            Insert => "INSERT",
            Update => "UPDATE",
            Delete => "DELETE",
            Merge => "MERGE",
            Truncate => "TRUNCATE",
            CopyFrom => "COPY FROM",
            CopyTo => "COPY TO",
            AlterTable => "ALTER TABLE",
            SetSchema => "ALTER ... SET SCHEMA",
            Rename => "ALTER ... RENAME",
            AlterIndex => "ALTER INDEX",
            AlterView => "ALTER VIEW",
            AlterSequence => "ALTER SEQUENCE",
            DropTable => "DROP TABLE",
            DropView => "DROP VIEW",
            DropIndex => "DROP INDEX",
            DropSequence => "DROP SEQUENCE",
            CreateIndex => "CREATE INDEX",
            CreateTrigger => "CREATE TRIGGER",
            DropTrigger => "DROP TRIGGER",
            CreateRule => "CREATE RULE",
            DropRule => "DROP RULE",
            CreatePolicy => "CREATE POLICY",
            AlterPolicy => "ALTER POLICY",
            DropPolicy => "DROP POLICY",
            Grant => "GRANT",
            Revoke => "REVOKE",
            CommentOn => "COMMENT",
            Select => "SELECT",
            Lock => "LOCK TABLE",
        }
    }

    /// Does it change the relation (its rows, definition, triggers, rules, policies,
    /// privileges, or existence)? COMMENT ON, SELECT, LOCK and COPY TO do not.
    pub fn is_edit(self) -> bool {
        !matches!(
            self,
            StatementKind::CommentOn
                | StatementKind::Select
                | StatementKind::Lock
                | StatementKind::CopyTo
        )
    }

    /// The relation kinds PostgreSQL accepts the statement on. On any other kind PostgreSQL
    /// raises its own error ("... is not a table"), so there is nothing to guard.
    pub fn applies_to(self, kind: RelKind) -> bool {
        use RelKind::*;
        use StatementKind as S;
        match self {
            S::Insert | S::Update | S::Delete | S::Merge | S::CopyFrom => {
                matches!(kind, Table | View)
            }
            S::Truncate | S::CreateIndex | S::CreatePolicy | S::AlterPolicy | S::DropPolicy => {
                kind == Table
            }
            S::CreateTrigger | S::DropTrigger | S::CreateRule | S::DropRule => {
                matches!(kind, Table | View)
            }
            S::DropTable => kind == Table,
            S::DropView | S::AlterView => kind == View,
            S::DropIndex => kind == Index,
            S::DropSequence | S::AlterSequence => kind == Sequence,
            S::AlterTable | S::SetSchema | S::Rename | S::AlterIndex | S::Grant | S::Revoke => true,
            S::CommentOn | S::Select | S::Lock | S::CopyTo => true,
        }
    }

    /// From PostgreSQL's command tag (`CreateCommandTag`, which works on raw parse trees too),
    /// for a front end that would rather not map every parse node. RENAME and SET SCHEMA carry
    /// the tag of their object (`ALTER TABLE`, `ALTER INDEX`, ...), so they come back as that
    /// kind, which is an edit just the same. `copy_from` tells `COPY` apart. None: a tag that
    /// names no relation this module cares about.
    pub fn from_command_tag(tag: &str, copy_from: bool) -> Option<StatementKind> {
        use StatementKind::*;
        Some(match tag {
            "INSERT" => Insert,
            "UPDATE" => Update,
            "DELETE" => Delete,
            "MERGE" => Merge,
            "TRUNCATE TABLE" => Truncate,
            "COPY" if copy_from => CopyFrom,
            "COPY" => CopyTo,
            "ALTER TABLE" => AlterTable,
            "ALTER INDEX" => AlterIndex,
            "ALTER VIEW" => AlterView,
            "ALTER SEQUENCE" => AlterSequence,
            "DROP TABLE" => DropTable,
            "DROP VIEW" => DropView,
            "DROP INDEX" => DropIndex,
            "DROP SEQUENCE" => DropSequence,
            "CREATE INDEX" => CreateIndex,
            "CREATE TRIGGER" => CreateTrigger,
            "DROP TRIGGER" => DropTrigger,
            "CREATE RULE" => CreateRule,
            "DROP RULE" => DropRule,
            "CREATE POLICY" => CreatePolicy,
            "ALTER POLICY" => AlterPolicy,
            "DROP POLICY" => DropPolicy,
            "GRANT" => Grant,
            "REVOKE" => Revoke,
            "COMMENT" => CommentOn,
            "SELECT" => Select,
            "LOCK TABLE" => Lock,
            _ => return None,
        })
    }
}

/// The metadata-hand-edit finding for a statement of `kind` on `rel`, or None when it is not
/// an edit (COMMENT ON, SELECT, LOCK, COPY TO) or not one PostgreSQL accepts on that kind of
/// relation. The wording and SQLSTATE are [`hand_edit`]'s; the detail names the relation's
/// kind when it is not a table.
pub fn check_statement(kind: StatementKind, rel: &MetadataRelation) -> Option<Finding> {
    if !kind.is_edit() || rel.kind.is_some_and(|k| !kind.applies_to(k)) {
        return None;
    }
    let name = rel.qualified();
    let mut f = hand_edit(kind.operation(), &name);
    let what = match rel.kind {
        Some(RelKind::View) => Some("a view over Citus metadata"),
        Some(RelKind::Index) => Some("an index of Citus metadata"),
        Some(RelKind::Sequence) => Some("a sequence Citus draws metadata ids from"),
        _ => None,
    };
    if let Some(what) = what {
        f.detail = f.detail.replacen(
            &format!("{name} is Citus metadata."),
            &format!("{name} is {what}."),
            1,
        );
    }
    Some(f)
}

/// [`metadata_relation`] then [`check_statement`]: the name-only front ends' one call.
pub fn check_statement_on_name(
    kind: StatementKind,
    schema: Option<&str>,
    name: &str,
) -> Option<Finding> {
    check_statement(kind, &metadata_relation(schema, name)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every statement kind against each kind of metadata relation: expected decisions
    /// written out (E = edit finding, . = none).
    #[test]
    fn which_statements_edit_which_relations() {
        use StatementKind::*;
        // columns: table, view, index, sequence, unknown kind
        let table: &[(StatementKind, &str)] = &[
            (Insert, "EE..E"),
            (Update, "EE..E"),
            (Delete, "EE..E"),
            (Merge, "EE..E"),
            (Truncate, "E...E"),
            (CopyFrom, "EE..E"),
            (CopyTo, "....."),
            (AlterTable, "EEEEE"),
            (SetSchema, "EEEEE"),
            (Rename, "EEEEE"),
            (AlterIndex, "EEEEE"),
            (AlterView, ".E..E"),
            (AlterSequence, "...EE"),
            (DropTable, "E...E"),
            (DropView, ".E..E"),
            (DropIndex, "..E.E"),
            (DropSequence, "...EE"),
            (CreateIndex, "E...E"),
            (CreateTrigger, "EE..E"),
            (DropTrigger, "EE..E"),
            (CreateRule, "EE..E"),
            (DropRule, "EE..E"),
            (CreatePolicy, "E...E"),
            (AlterPolicy, "E...E"),
            (DropPolicy, "E...E"),
            (Grant, "EEEEE"),
            (Revoke, "EEEEE"),
            (CommentOn, "....."),
            (Select, "....."),
            (Lock, "....."),
        ];
        assert_eq!(table.len(), StatementKind::ALL.len());
        let kinds = [
            Some(RelKind::Table),
            Some(RelKind::View),
            Some(RelKind::Index),
            Some(RelKind::Sequence),
            None,
        ];
        for (stmt, row) in table {
            for (kind, want) in kinds.iter().zip(row.chars()) {
                let rel = MetadataRelation {
                    name: "pg_dist_x".into(),
                    kind: *kind,
                };
                let got = check_statement(*stmt, &rel).is_some();
                assert_eq!(got, want == 'E', "{stmt:?} on {kind:?}");
            }
        }
    }

    #[test]
    fn names_denote_metadata_relations_in_pg_catalog() {
        use RelKind::*;
        type Case<'a> = (Option<&'a str>, &'a str, Option<Option<RelKind>>);
        let cases: &[Case] = &[
            (None, "pg_dist_node", Some(Some(Table))),
            (Some("pg_catalog"), "pg_dist_node", Some(Some(Table))),
            (Some("public"), "pg_dist_node", None),
            (Some("citus"), "pg_dist_node", None),
            (None, "PG_DIST_NODE", None),
            (None, "pg_dist_shard_placement", Some(Some(View))),
            (None, "pg_dist_shard_logical_relid_index", Some(Some(Index))),
            (None, "pg_dist_node_pkey", Some(Some(Index))),
            (
                None,
                "pg_dist_node_nodename_nodeport_key",
                Some(Some(Index)),
            ),
            (
                None,
                "placement_shardid_groupid_unique_index",
                Some(Some(Index)),
            ),
            (None, "pg_dist_shardid_seq", Some(Some(Sequence))),
            (None, "pg_dist_future_seq", Some(Some(Sequence))),
            (None, "pg_dist_future_table", Some(None)),
            (None, "pg_class", None),
            (None, "orders", None),
        ];
        for (schema, name, want) in cases {
            assert_eq!(
                metadata_relation(*schema, name).map(|r| r.kind),
                *want,
                "{schema:?}.{name}"
            );
        }
        for t in METADATA_TABLES {
            assert_eq!(
                metadata_relation(None, t).map(|r| r.kind),
                Some(Some(Table)),
                "{t}"
            );
        }
    }

    #[test]
    fn the_guard_and_check_ddl_reach_the_same_finding() {
        // check_ddl('DROP TABLE pg_dist_node') used to report nothing while the guard blocked.
        let by_name =
            check_statement_on_name(StatementKind::DropTable, None, "pg_dist_node").expect("edit");
        let by_oid = metadata_relation_of("pg_catalog", "pg_dist_node", 'r')
            .and_then(|r| check_statement(StatementKind::DropTable, &r))
            .expect("edit");
        assert_eq!(by_name, by_oid);
        assert_eq!(
            by_name.message,
            "DROP TABLE on pg_catalog.pg_dist_node would edit Citus metadata by hand"
        );
        assert_eq!(by_name.sqlstate(), "SC008");
        let seq = check_statement_on_name(
            StatementKind::AlterSequence,
            Some("pg_catalog"),
            "pg_dist_shardid_seq",
        )
        .expect("edit");
        assert!(
            seq.detail.starts_with(
                "pg_catalog.pg_dist_shardid_seq is a sequence Citus draws metadata ids from."
            ),
            "{}",
            seq.detail
        );
        assert_eq!(
            check_statement_on_name(StatementKind::CommentOn, None, "pg_dist_node"),
            None
        );
        assert_eq!(
            check_statement_on_name(StatementKind::Select, None, "pg_dist_node"),
            None
        );
        assert_eq!(
            check_statement_on_name(StatementKind::DropTable, Some("public"), "pg_dist_node"),
            None
        );
        assert_eq!(metadata_relation_of("public", "pg_dist_node", 'r'), None);
        assert_eq!(
            metadata_relation_of("pg_catalog", "placement_shardid_groupid_unique_index", 'i')
                .map(|r| r.kind),
            Some(Some(RelKind::Index))
        );
    }

    #[test]
    fn command_tags_map_to_statement_kinds() {
        for k in StatementKind::ALL {
            let tag = match k {
                StatementKind::Truncate => "TRUNCATE TABLE",
                StatementKind::CopyFrom | StatementKind::CopyTo => "COPY",
                StatementKind::SetSchema | StatementKind::Rename => continue,
                other => other.operation(),
            };
            assert_eq!(
                StatementKind::from_command_tag(tag, k == StatementKind::CopyFrom),
                Some(k),
                "{tag}"
            );
        }
        assert_eq!(StatementKind::from_command_tag("VACUUM", false), None);
    }

    #[test]
    fn names_the_operation_the_table_and_the_way_out() {
        let f = hand_edit("UPDATE", "pg_catalog.pg_dist_placement");
        assert_eq!(f.rule, RuleId::MetadataHandEdit);
        assert_eq!(f.sqlstate(), "SC008");
        assert!(f
            .message
            .starts_with("UPDATE on pg_catalog.pg_dist_placement"));
        assert!(f
            .hint
            .contains("citus_sidecar.allow_once('metadata-hand-edit'"));
    }
}
