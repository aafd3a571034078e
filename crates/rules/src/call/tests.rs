//! Binding and describing Citus calls. Every expected value is written out from Citus's SQL and
//! C sources (cited per case), not computed by the code under test.

use super::*;
use crate::distribution::check_distribution_call;
use crate::facts::{Cluster, ColocationGroup, Settings};
use crate::finding::RuleId;
use crate::testing::*;

fn t(s: &str) -> Value {
    Value::Text(s.into())
}
fn pos(v: Value) -> Arg {
    Arg::positional(v)
}
fn named(n: &str, v: Value) -> Arg {
    Arg::named(n, v)
}

/// The signatures in udfs/*/latest.sql (identical files in Citus 13.2.2 and 14.0.1).
#[test]
fn signatures_are_citus_sql_definitions() {
    use ParamDefault as D;
    use ParamType as T;
    type Row = (
        CitusFunction,
        &'static [(&'static str, ParamType, ParamDefault)],
        bool,
    );
    let expected: &[Row] = &[
        (
            CitusFunction::CreateDistributedTable,
            &[
                ("table_name", T::RegClass, D::Required),
                ("distribution_column", T::Text, D::Required),
                ("distribution_type", T::DistributionType, D::Text("hash")),
                ("colocate_with", T::Text, D::Text("default")),
                ("shard_count", T::Int4, D::Null),
            ],
            false,
        ),
        (
            CitusFunction::CreateDistributedTableConcurrently,
            &[
                ("table_name", T::RegClass, D::Required),
                ("distribution_column", T::Text, D::Required),
                ("distribution_type", T::DistributionType, D::Text("hash")),
                ("colocate_with", T::Text, D::Text("default")),
                ("shard_count", T::Int4, D::Null),
            ],
            false,
        ),
        (
            CitusFunction::AlterDistributedTable,
            &[
                ("table_name", T::RegClass, D::Required),
                ("distribution_column", T::Text, D::Null),
                ("shard_count", T::Int4, D::Null),
                ("colocate_with", T::Text, D::Null),
                ("cascade_to_colocated", T::Bool, D::Null),
            ],
            false,
        ),
        (
            CitusFunction::UndistributeTable,
            &[
                ("table_name", T::RegClass, D::Required),
                ("cascade_via_foreign_keys", T::Bool, D::Bool(false)),
            ],
            true,
        ),
        (
            CitusFunction::UpdateDistributedTableColocation,
            &[
                ("table_name", T::RegClass, D::Required),
                ("colocate_with", T::Text, D::Required),
            ],
            true,
        ),
    ];
    assert_eq!(expected.len(), CitusFunction::ALL.len());
    for (f, params, strict) in expected {
        let got: Vec<(&str, ParamType, ParamDefault)> = f
            .params()
            .iter()
            .map(|p| (p.name, p.ty, p.default))
            .collect();
        assert_eq!(got, params.to_vec(), "{f}");
        assert_eq!(f.is_strict(), *strict, "{f}");
        assert_eq!(CitusFunction::from_name(f.proname()), Some(*f));
    }
    assert_eq!(CitusFunction::from_name("Create_Distributed_Table"), None);
}

#[test]
fn binding_follows_postgres_rules_for_named_and_positional_arguments() {
    use CitusFunction::*;
    let n = Value::Null;
    type Case = (
        &'static str,
        CitusFunction,
        Vec<Arg>,
        Result<Vec<Value>, BindError>,
    );
    let cases: Vec<Case> = vec![
        (
            "positional, defaults filled in",
            CreateDistributedTable,
            vec![pos(t("o")), pos(t("k"))],
            Ok(vec![t("o"), t("k"), t("hash"), t("default"), n.clone()]),
        ),
        (
            "named after positional, in any order",
            CreateDistributedTable,
            vec![
                pos(t("o")),
                named("shard_count", t("48")),
                named("distribution_column", t("k")),
            ],
            Ok(vec![t("o"), t("k"), t("hash"), t("default"), t("48")]),
        ),
        (
            "all named",
            AlterDistributedTable,
            vec![
                named("cascade_to_colocated", t("false")),
                named("table_name", t("o")),
                named("colocate_with", t("default")),
                named("shard_count", t("48")),
            ],
            Ok(vec![t("o"), n.clone(), t("48"), t("default"), t("false")]),
        ),
        (
            "boolean default is false, not NULL",
            UndistributeTable,
            vec![pos(t("o"))],
            Ok(vec![t("o"), t("false")]),
        ),
        (
            "an explicit NULL is a value, not a default",
            CreateDistributedTable,
            vec![
                pos(t("o")),
                pos(n.clone()),
                named("colocate_with", n.clone()),
            ],
            Ok(vec![t("o"), n.clone(), t("hash"), n.clone(), n.clone()]),
        ),
        (
            "positional after named",
            CreateDistributedTable,
            vec![named("table_name", t("o")), pos(t("k"))],
            Err(BindError::PositionalAfterNamed { position: 2 }),
        ),
        (
            "a name used twice",
            AlterDistributedTable,
            vec![
                pos(t("o")),
                named("shard_count", t("4")),
                named("shard_count", t("8")),
            ],
            Err(BindError::DuplicateName("shard_count".into())),
        ),
        (
            "an unknown name (names are not case-folded here: the parser did that)",
            AlterDistributedTable,
            vec![pos(t("o")), named("Shard_Count", t("4"))],
            Err(BindError::UnknownName("Shard_Count".into())),
        ),
        (
            "too many arguments",
            UpdateDistributedTableColocation,
            vec![pos(t("o")), pos(t("none")), pos(t("x"))],
            Err(BindError::TooManyArguments { given: 3, max: 2 }),
        ),
        (
            "a parameter given by position and by name",
            CreateDistributedTable,
            vec![
                pos(t("o")),
                pos(t("k")),
                named("distribution_column", t("j")),
            ],
            Err(BindError::AlreadyGiven("distribution_column")),
        ),
        (
            "a required parameter missing",
            CreateDistributedTable,
            vec![pos(t("o"))],
            Err(BindError::Missing("distribution_column")),
        ),
        (
            "update_distributed_table_colocation has no default for colocate_with",
            UpdateDistributedTableColocation,
            vec![pos(t("o"))],
            Err(BindError::Missing("colocate_with")),
        ),
    ];
    for (what, f, args, want) in cases {
        let got = bind(f, args).map(|b| b.values);
        assert_eq!(got, want, "{what}");
    }
    let e = BindError::UnknownName("shard".into());
    assert_eq!(e.sqlstate(), "42883");
    assert!(e
        .message(AlterDistributedTable)
        .contains("no parameter named \"shard\""));
    assert_eq!(BindError::DuplicateName("x".into()).sqlstate(), "42601");
}

fn catalog() -> FakeCatalog {
    let mut c = FakeCatalog::default();
    let long = "u".repeat(63);
    c.add(
        "o",
        vec![
            column("user_id", INT8),
            column(&long, INT8),
            column("flag", BOOL),
        ],
    );
    let users = c.add("users", vec![column("user_id", INT8)]);
    users.dist_column = Some("user_id".into());
    users.facts.colocated_with = vec!["o2".into()];
    c
}

fn describe_args(f: CitusFunction, args: Vec<Arg>) -> Result<DistCall, CallError> {
    describe_call(f, args, &mut catalog())
}

fn refused(msg: &str) -> Result<DistCall, CallError> {
    Err(CallError::NotDescribed(NotDescribed::CitusRefuses {
        message: msg.into(),
    }))
}

fn invalid(param: &'static str, error: ValueError) -> Result<DistCall, CallError> {
    Err(CallError::NotDescribed(NotDescribed::InvalidArgument {
        param,
        error,
    }))
}

/// Defect 2: Citus truncates the column name to 63 bytes before looking it up
/// (utils/distribution_column.c:145, both versions); so must the sidecar.
#[test]
fn a_long_column_name_is_truncated_like_citus_does() {
    let long = "u".repeat(63);
    let mut cat = catalog();
    let call = describe_call(
        CitusFunction::CreateDistributedTable,
        vec![pos(t("o")), pos(t(&format!("{long}_x")))],
        &mut cat,
    )
    .expect("described");
    let DistCall::CreateDistributedTable {
        distribution_column,
        table,
        ..
    } = &call
    else {
        panic!("{call:?}")
    };
    assert_eq!(distribution_column.as_deref(), Some(long.as_str()));
    assert_eq!(
        table.column.as_ref().map(|c| c.name.as_str()),
        Some(long.as_str())
    );
    assert_eq!(
        cat.lookups,
        vec![(RelationRef::Name("o".into()), Some(long.clone()))]
    );
    // And the rules run on it: the seed incident's colocation rule speaks.
    let cluster = Cluster {
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
        shard_nodes: 0,
    };
    let f = check_distribution_call(
        &call,
        &cluster,
        &Settings {
            shard_count: 48,
            ..Settings::default()
        },
    );
    assert_eq!(
        f.iter().map(|f| f.rule).collect::<Vec<_>>(),
        vec![RuleId::ShardCountColocation]
    );
}

#[test]
fn colocate_with_keywords_are_read_as_each_function_reads_them() {
    use CitusFunction::*;
    use ColocateWith as C;
    let create = |cw: &str| {
        describe_args(
            CreateDistributedTable,
            vec![
                pos(t("o")),
                pos(t("user_id")),
                named("colocate_with", t(cw)),
            ],
        )
    };
    let colocate_of = |r: Result<DistCall, CallError>| match r {
        Ok(DistCall::CreateDistributedTable { colocate_with, .. }) => Ok(colocate_with),
        Ok(DistCall::UpdateDistributedTableColocation { colocate_with, .. }) => Ok(colocate_with),
        Ok(DistCall::AlterDistributedTable { colocate_with, .. }) => {
            Ok(colocate_with.expect("given"))
        }
        Ok(other) => panic!("{other:?}"),
        Err(e) => Err(e),
    };
    // create_distributed_table[_concurrently]: IsColocateWithDefault/None, pg_strncasecmp.
    for (cw, want) in [
        ("default", C::Default),
        ("DEFAULT", C::Default),
        ("None", C::None),
        ("none ", C::Table("none ".into())),
        ("users", C::Table("users".into())),
    ] {
        assert_eq!(colocate_of(create(cw)), Ok(want), "create {cw:?}");
    }
    // update_distributed_table_colocation: only 'none' is a keyword (colocation_utils.c:125).
    let update = |cw: &str| {
        describe_args(
            UpdateDistributedTableColocation,
            vec![pos(t("o")), pos(t(cw))],
        )
    };
    for (cw, want) in [
        ("none", C::None),
        ("NONE", C::None),
        ("default", C::Table("default".into())),
    ] {
        assert_eq!(colocate_of(update(cw)), Ok(want), "update {cw:?}");
    }
    // alter_distributed_table: strcmp in the parameter check; other spellings must name a table.
    let alter = |cw: &str, cat: &mut FakeCatalog| {
        describe_call(
            AlterDistributedTable,
            vec![
                pos(t("o")),
                named("shard_count", t("48")),
                named("colocate_with", t(cw)),
            ],
            cat,
        )
    };
    assert_eq!(
        colocate_of(alter("default", &mut catalog())),
        Ok(C::Default)
    );
    assert_eq!(colocate_of(alter("none", &mut catalog())), Ok(C::None));
    assert_eq!(
        alter("DEFAULT", &mut catalog()),
        refused("relation \"default\" does not exist (only the lower-case spelling 'default' is a keyword in alter_distributed_table's parameter check)")
    );
    let mut with_default_table = catalog();
    with_default_table.add("default", vec![column("user_id", INT8)]);
    assert_eq!(
        colocate_of(alter("Default", &mut with_default_table)),
        Ok(C::Default)
    );
}

#[test]
fn values_are_read_with_postgres_input_rules() {
    use CitusFunction::*;
    let alter = |args: Vec<Arg>| {
        let mut a = vec![pos(t("users"))];
        a.extend(args);
        describe_args(AlterDistributedTable, a)
    };
    let shard = |r: Result<DistCall, CallError>| match r {
        Ok(DistCall::AlterDistributedTable {
            shard_count,
            cascade_to_colocated,
            ..
        }) => Ok((shard_count, cascade_to_colocated)),
        Ok(other) => panic!("{other:?}"),
        Err(e) => Err(e),
    };
    type Read = Result<(Option<i32>, Option<bool>), CallError>;
    let cases: Vec<(&str, &str, Read)> = vec![
        (" 48 ", "t", Ok((Some(48), Some(true)))),
        ("0x30", "on", Ok((Some(48), Some(true)))),
        ("1_000", "YES", Ok((Some(1000), Some(true)))),
        ("+48", "of", Ok((Some(48), Some(false)))),
        ("48", "0", Ok((Some(48), Some(false)))),
        ("48", "f", Ok((Some(48), Some(false)))),
        (
            "48",
            "o",
            Err(CallError::NotDescribed(NotDescribed::InvalidArgument {
                param: "cascade_to_colocated",
                error: ValueError::Bool(crate::pgvalue::BoolError { input: "o".into() }),
            })),
        ),
        (
            "4.5",
            "t",
            Err(CallError::NotDescribed(NotDescribed::InvalidArgument {
                param: "shard_count",
                error: ValueError::Int(crate::pgvalue::IntError::Syntax("4.5".into())),
            })),
        ),
        (
            "3000000000",
            "t",
            Err(CallError::NotDescribed(NotDescribed::InvalidArgument {
                param: "shard_count",
                error: ValueError::Int(crate::pgvalue::IntError::OutOfRange("3000000000".into())),
            })),
        ),
    ];
    for (sc, cascade, want) in cases {
        let got = shard(alter(vec![
            named("shard_count", t(sc)),
            named("cascade_to_colocated", t(cascade)),
        ]));
        assert_eq!(got, want, "shard_count {sc:?}, cascade {cascade:?}");
    }
    // Enum labels match exactly.
    assert_eq!(
        describe_args(
            CreateDistributedTable,
            vec![pos(t("o")), pos(t("user_id")), pos(t("HASH"))]
        ),
        invalid(
            "distribution_type",
            ValueError::DistributionType("HASH".into())
        )
    );
}

#[test]
fn calls_that_do_nothing_or_that_citus_refuses_are_not_described() {
    use CitusFunction::*;
    let n = || Value::Null;
    let noop = |r: &Result<DistCall, CallError>| {
        matches!(r, Err(CallError::NotDescribed(NotDescribed::NoOp { .. })))
    };
    // STRICT functions are not called with a NULL argument.
    assert!(noop(&describe_args(
        UndistributeTable,
        vec![pos(t("o")), pos(n())]
    )));
    assert!(noop(&describe_args(
        UpdateDistributedTableColocation,
        vec![pos(t("o")), pos(n())]
    )));
    // create_distributed_table returns early on a NULL table or colocate_with (:223).
    assert!(noop(&describe_args(
        CreateDistributedTable,
        vec![pos(t("o")), pos(t("user_id")), named("colocate_with", n())]
    )));
    // ... and on a NULL distribution_type with a column (:238).
    assert!(noop(&describe_args(
        CreateDistributedTable,
        vec![pos(t("o")), pos(t("user_id")), pos(n())]
    )));
    let cases: Vec<(CitusFunction, Vec<Arg>, &str)> = vec![
        (
            CreateDistributedTableConcurrently,
            vec![pos(t("o")), pos(n())],
            "cannot use create_distributed_table_concurrently to create a distributed table with a null shard key, consider using create_distributed_table()",
        ),
        (
            CreateDistributedTable,
            vec![pos(t("o")), pos(t("user_id")), named("shard_count", t("0"))],
            "0 is outside the valid range for parameter \"shard_count\" (1 .. 64000)",
        ),
        (
            CreateDistributedTable,
            vec![pos(t("o")), pos(t("user_id")), named("shard_count", t("64001"))],
            "64001 is outside the valid range for parameter \"shard_count\" (1 .. 64000)",
        ),
        (
            CreateDistributedTable,
            vec![pos(t("o")), pos(t("user_id")), named("colocate_with", t("users")), named("shard_count", t("4"))],
            "Cannot use colocate_with with a table and shard_count at the same time",
        ),
        (
            CreateDistributedTable,
            vec![pos(t("o")), pos(n()), named("shard_count", t("4"))],
            "shard_count can't be specified when the distribution column is null because in that case it's automatically set to 1",
        ),
        (
            CreateDistributedTableConcurrently,
            vec![pos(t("o")), pos(t("user_id")), pos(t("range"))],
            "only hash-distributed tables can be distributed without blocking writes",
        ),
        (
            CreateDistributedTable,
            vec![pos(t("o")), pos(t("nope"))],
            "column \"nope\" of relation \"o\" does not exist",
        ),
        (AlterDistributedTable, vec![pos(t("users"))], "you have to specify at least one of the distribution_column, shard_count or colocate_with parameters"),
        (AlterDistributedTable, vec![pos(t("users")), named("shard_count", t("0"))], "shard_count cannot be 0"),
        (
            AlterDistributedTable,
            vec![pos(t("users")), named("shard_count", t("-3"))],
            "shard_count must be positive (shard_count is -3)",
        ),
        (
            AlterDistributedTable,
            vec![pos(t("users")), named("distribution_column", t("user_id")), named("cascade_to_colocated", t("true"))],
            "distribution_column cannot be cascaded to colocated tables",
        ),
        (
            AlterDistributedTable,
            vec![pos(t("users")), named("colocate_with", t("none")), named("cascade_to_colocated", t("true"))],
            "colocate_with := 'none' cannot be cascaded to colocated tables",
        ),
    ];
    for (f, args, msg) in cases {
        assert_eq!(describe_args(f, args.clone()), refused(msg), "{f} {args:?}");
    }
    assert_eq!(
        describe_args(UndistributeTable, vec![pos(t("missing"))]),
        Err(CallError::NotDescribed(NotDescribed::TableMissing(
            RelationRef::Name("missing".into())
        )))
    );
    // The concurrent variant has no range check of its own: the call is described, and the
    // rules speak (see distribution::call_semantics_tests).
    assert!(describe_args(
        CreateDistributedTableConcurrently,
        vec![pos(t("o")), pos(t("user_id")), named("shard_count", t("0"))]
    )
    .is_ok());
}

/// The two front ends give the same call in their own shapes: the guard positionally, every
/// argument, as output functions print them (`t`/`f`, canonical integers) and the table as an
/// OID; check_ddl as the script wrote it. They must arrive at the same DistCall.
#[test]
fn guard_and_check_ddl_shapes_describe_the_same_call() {
    use CitusFunction::*;
    let users_oid = catalog().tables[1].oid;
    let o_oid = catalog().tables[0].oid;
    let n = || Value::Null;
    let oid = |o: u32| Value::Relation(RelationRef::Oid(o));
    let pairs: Vec<(CitusFunction, Vec<Arg>, Vec<Arg>)> = vec![
        (
            AlterDistributedTable,
            vec![
                pos(oid(users_oid)),
                pos(n()),
                pos(t("48")),
                pos(t("default")),
                pos(t("f")),
            ],
            vec![
                pos(t("users")),
                named("shard_count", t(" 0x30 ")),
                named("colocate_with", t("default")),
                named("cascade_to_colocated", t("off")),
            ],
        ),
        (
            CreateDistributedTable,
            vec![
                pos(oid(o_oid)),
                pos(t("user_id")),
                pos(t("hash")),
                pos(t("none")),
                pos(t("24")),
            ],
            vec![
                pos(t("o")),
                pos(t("user_id")),
                named("shard_count", t("2_4")),
                named("colocate_with", t("NONE")),
            ],
        ),
        (
            UndistributeTable,
            vec![pos(oid(o_oid)), pos(t("t"))],
            vec![
                named("cascade_via_foreign_keys", t("yes")),
                named("table_name", t("O")),
            ],
        ),
    ];
    for (f, guard, ddl) in pairs {
        let a = describe_args(f, guard);
        let b = describe_args(f, ddl);
        assert!(a.is_ok(), "{f}: {a:?}");
        assert_eq!(a, b, "{f}");
    }
}
