//! Offline checks with no server: a hand-made snapshot of a cluster with a 24-shard `users`,
//! and scripts parsed by libpg_query. (tests/cli.sh compares offline with check_ddl itself on
//! real servers.)

use citus_sidecar_cli::catalog::read_snapshot;
use citus_sidecar_cli::finding::{at_first_token, Row};
use citus_sidecar_cli::offline::check;
use sidecar_rules::script::TypeFacts;
use sidecar_rules::snapshot::*;
use sidecar_rules::{Cluster, ColocationGroup, Settings};

const INT8: u32 = 20;
const TEXT: u32 = 25;
const MOOD: u32 = 16500;

fn ty(
    oid: u32,
    schema: &str,
    name: &str,
    shown: &str,
    array: u32,
    collation: u32,
    enum_based: bool,
) -> SnapshotType {
    SnapshotType {
        oid,
        schema: schema.into(),
        name: name.into(),
        array_type: array,
        facts: TypeFacts {
            name: shown.into(),
            oid,
            collation,
            enum_based,
            tiny_domain: false,
        },
    }
}

fn col(name: &str, type_oid: u32, not_null: bool) -> SnapshotColumn {
    SnapshotColumn {
        name: name.into(),
        type_oid,
        collation: if type_oid == TEXT { 100 } else { 0 },
        not_null,
    }
}

fn snapshot(server_version_num: u32) -> CatalogSnapshot {
    CatalogSnapshot {
        format: FORMAT.into(),
        version: VERSION,
        producer: "test".into(),
        server_version_num,
        citus_version: Some("13.2-1".into()),
        database: "app".into(),
        taken_at: "now".into(),
        settings: Settings {
            shard_count: 32,
            replication_factor: 1,
            citus_major: 13,
        },
        reset_values: [("citus.shard_count".to_string(), "32".to_string())]
            .into_iter()
            .collect(),
        search_path: vec!["pg_catalog".into(), "public".into()],
        cluster: Cluster {
            groups: vec![ColocationGroup {
                id: 1,
                shard_count: 24,
                actual_shard_count: 24,
                replication_factor: 1,
                type_oid: INT8,
                type_name: "bigint".into(),
                collation: 0,
                tables: vec!["users".into()],
            }],
            shard_nodes: 2,
        },
        types: vec![
            ty(INT8, "pg_catalog", "int8", "bigint", 1016, 0, false),
            ty(TEXT, "pg_catalog", "text", "text", 1009, 100, false),
            ty(1016, "pg_catalog", "_int8", "bigint[]", 0, 0, false),
            ty(MOOD, "public", "mood", "mood", 16499, 0, true),
            ty(16499, "public", "_mood", "mood[]", 0, 0, true),
        ],
        collations: vec![SnapshotCollation {
            oid: 950,
            schema: "pg_catalog".into(),
            name: "C".into(),
        }],
        tables: vec![
            SnapshotTable {
                oid: 16400,
                schema: "public".into(),
                name: "users".into(),
                relkind: "r".into(),
                display_name: "users".into(),
                has_replica_identity: true,
                colocation_id: Some(1),
                colocated_with: vec![],
                distribution_column: Some("user_id".into()),
                primary_key: vec!["user_id".into()],
                columns: vec![col("user_id", INT8, true), col("name", TEXT, false)],
            },
            SnapshotTable {
                oid: 16410,
                schema: "public".into(),
                name: "visits".into(),
                relkind: "r".into(),
                display_name: "visits".into(),
                has_replica_identity: false,
                colocation_id: None,
                colocated_with: vec![],
                distribution_column: None,
                primary_key: vec![],
                columns: vec![col("user_id", INT8, false), col("feeling", MOOD, false)],
            },
        ],
    }
}

fn findings(rows: &[Row]) -> Vec<(i32, i32, String, String)> {
    rows.iter()
        .map(|r| {
            (
                r.line,
                r.col,
                r.severity.clone(),
                r.rule_id.clone().unwrap_or_default(),
            )
        })
        .collect()
}

const INCIDENT: &str = "\\set ON_ERROR_STOP on
SET citus.shard_count = 48;
CREATE TABLE orders (order_id bigint, user_id bigint NOT NULL, PRIMARY KEY (user_id, order_id));
-- distribute it
SELECT create_distributed_table('orders', 'user_id');
";

#[test]
fn the_incident_is_caught_offline_at_its_lines() {
    let mut rows = check(INCIDENT, &snapshot(180006)).expect("parses");
    at_first_token(INCIDENT, &mut rows);
    assert_eq!(
        findings(&rows),
        vec![
            (1, 1, "note".into(), String::new()),
            (2, 1, "warn".into(), "shard-count-colocation".into()),
            (5, 1, "block".into(), "shard-count-colocation".into()),
        ]
    );
    assert_eq!(
        rows[2].remediation.as_deref(),
        Some("SELECT create_distributed_table('orders', 'user_id', colocate_with => 'users');")
    );
    assert_eq!(rows[2].statement, 3);
}

#[test]
fn statements_start_at_their_first_word_on_every_server() {
    // Parsers disagree on where a statement starts (PostgreSQL 18: its first token; before:
    // right after the ';' before it, comments included); check_ddl and the tool both point at
    // its first word.
    for version in [180006, 150020] {
        let rows = check(INCIDENT, &snapshot(version)).unwrap();
        assert_eq!(
            rows[2].statement_text,
            "SELECT create_distributed_table('orders', 'user_id')"
        );
        assert_eq!((rows[2].line, rows[2].col), (5, 1));
    }
}

#[test]
fn data_modifying_ctes_are_metadata_edits() {
    let rows = check(
        "WITH gone AS (DELETE FROM pg_dist_placement WHERE shardid = 1 RETURNING *) SELECT count(*) FROM gone;",
        &snapshot(180006),
    )
    .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].rule_id.as_deref(), Some("metadata-hand-edit"));
    assert_eq!(rows[0].severity, "block");
}

#[test]
fn types_collations_and_keys_come_from_the_snapshot_and_the_script() {
    let script = "CREATE TABLE t (f mood[] PRIMARY KEY);
SELECT create_distributed_table('t', 'f');
SELECT create_distributed_table('visits', 'feeling');
CREATE TABLE n (k text COLLATE \"C\" PRIMARY KEY);
SELECT create_distributed_table('n', 'k', shard_count => 24);
SELECT create_distributed_table('public.users', 'name', colocate_with => 'none');
";
    let rows = check(script, &snapshot(180006)).unwrap();
    let got: Vec<(i32, String)> = rows
        .iter()
        .map(|r| (r.statement, r.rule_id.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, "enum-distribution-column".into()),
            (3, "enum-distribution-column".into()),
            (3, "nullable-distribution-column".into()),
            (3, "no-replica-identity".into()),
            (6, "nullable-distribution-column".into()),
        ]
    );
    assert!(rows[0].message.contains("mood[]"), "{}", rows[0].message);
}

#[test]
fn what_cannot_be_checked_is_a_note_and_broken_scripts_are_errors() {
    let rows = check("SELECT create_distributed_table($1, 'k'); DO $$ BEGIN END $$; SELECT create_distributed_table('nope', 'k');", &snapshot(180006)).unwrap();
    let notes: Vec<&str> = rows.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(
        notes,
        vec![
            "create_distributed_table: argument 1 is not a constant, so the call is checked when it runs, not here",
            "DO blocks are not analysed here; the guard checks what they run when they run",
            "create_distributed_table: table nope does not exist",
        ]
    );
    let e = check("SELECT 1;\n\nSELECT (;\n", &snapshot(180006)).unwrap_err();
    assert_eq!(
        (e.message.as_str(), e.line, e.col),
        (
            "the script does not parse: syntax error at or near \";\"",
            Some(3),
            Some(9)
        )
    );
    assert_eq!(e.detail.as_deref(), Some("line 3: SELECT (;"));
    let e = check("SET citus.shard_count = 1, 2;", &snapshot(180006)).unwrap_err();
    assert_eq!(e.message, "SET citus.shard_count takes only one argument");
    // RESET of a setting the server does not have means no value, as check_ddl reads it
    let mut no_citus = snapshot(180006);
    no_citus.reset_values.clear();
    assert!(check("RESET ALL;", &no_citus).is_ok());
    assert!(check("RESET no_such.setting;", &no_citus)
        .unwrap()
        .is_empty());
}

#[test]
fn snapshots_round_trip_and_are_versioned() {
    let s = snapshot(150020);
    let text = serde_json::to_string(&s).unwrap();
    assert_eq!(read_snapshot(&text).unwrap(), s);
    let newer = text.replace("\"version\":1", "\"version\":2");
    assert!(read_snapshot(&newer)
        .unwrap_err()
        .contains("newer than this tool reads"));
    assert!(read_snapshot("{\"format\":\"x\"}")
        .unwrap_err()
        .contains("not a citus-sidecar catalog snapshot"));
}
