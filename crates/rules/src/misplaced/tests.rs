use super::*;
use proptest::prelude::*;

fn orders() -> Target {
    Target {
        name: "orders".into(),
        shell: "public.orders".into(),
        column: "user_id".into(),
        hash: "pg_catalog.hashint8".into(),
        insert_columns: vec!["order_id".into(), "user_id".into(), "total".into()],
        overriding: false,
        key: vec![
            ("user_id".into(), "user_id".into()),
            ("order_id".into(), "order_id".into()),
        ],
        keeps_every_row: true,
        triggers: vec![],
    }
}

fn tids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn w() -> Placement {
    Placement {
        shard: 102008,
        relation: "public.orders_102008".into(),
        range: (-2147483648, -1073741825),
        node: "10.0.0.1".into(),
        port: 5432,
        metadata: true,
    }
}

#[test]
fn a_careful_move_is_one_statement_that_never_overwrites() {
    let c = move_command(&orders(), &w(), &tids(&["(3,1)", "(3,7)", "(9,2)"]));
    let at = "x.ctid >= '(3,1)'::tid AND x.ctid <= '(9,2)'::tid AND x.ctid = ANY('{\"(3,1)\",\"(3,7)\",\"(9,2)\"}'::tid[])";
    assert_eq!(
        c,
        format!("WITH cand AS MATERIALIZED (SELECT x.* FROM public.orders_102008 x WHERE {at} AND NOT (pg_catalog.hashint8(x.user_id) BETWEEN -2147483648 AND -1073741825) FOR UPDATE OF x), \
ins AS (INSERT INTO public.orders AS t (order_id, user_id, total) SELECT order_id, user_id, total FROM cand ON CONFLICT (user_id, order_id) DO NOTHING RETURNING t.user_id, t.order_id), \
del AS (DELETE FROM public.orders_102008 x USING ins i WHERE (x.user_id, x.order_id) = (i.user_id, i.order_id) AND NOT (pg_catalog.hashint8(x.user_id) BETWEEN -2147483648 AND -1073741825) \
RETURNING x.*) \
SELECT coalesce(json_agg(pg_catalog.hashint8(d.user_id)), '[]')::text FROM del d")
    );
    // no rows: a statement that matches none
    assert!(move_command::<String>(&orders(), &w(), &[]).contains("WHERE false AND"));
}

#[test]
fn a_fast_move_deletes_the_rows_and_inserts_what_it_deleted_in_one_statement() {
    let c = fast_move_command(&orders(), &w(), &tids(&["(3,1)", "(9,2)"]));
    let sel = "x.ctid >= '(3,1)'::tid AND x.ctid <= '(9,2)'::tid AND x.ctid = ANY('{\"(3,1)\",\"(9,2)\"}'::tid[]) AND NOT (pg_catalog.hashint8(x.user_id) BETWEEN -2147483648 AND -1073741825)";
    assert_eq!(
        c,
        format!(
            "WITH del AS (DELETE FROM public.orders_102008 x WHERE {sel} RETURNING x.*) \
INSERT INTO public.orders (order_id, user_id, total) SELECT order_id, user_id, total FROM del"
        )
    );
    // the shard is read once: the INSERT reads what the DELETE took
    assert_eq!(c.matches("FROM public.orders_102008").count(), 1, "{c}");
    assert!(!c.contains("ON CONFLICT"), "a conflict fails the batch");
    // the INSERT is the statement itself (as a CTE, Citus would stage its rows first): its
    // answer is its command tag
    assert!(!c.contains("ins AS"), "{c}");
    assert_eq!(parse_fast_moved("INSERT 0 2"), Ok(Moved::Rows(2)));
    assert_eq!(parse_fast_moved("INSERT 0 0"), Ok(Moved::Rows(0)));
    for bad in [
        "INSERT 0 -1",
        "INSERT 0",
        "SELECT 2",
        "",
        "[1]",
        "INSERT 0 2x",
    ] {
        assert!(parse_fast_moved(bad).is_err(), "{bad}");
    }
    // a table without a key: the same statement
    let mut keyless = orders();
    keyless.key.clear();
    assert_eq!(
        fast_move_command(&keyless, &w(), &tids(&["(3,1)"])),
        fast_move_command(&orders(), &w(), &tids(&["(3,1)"]))
    );
    // only where an INSERT keeps every row, and a key stops a second copy
    let mut t = orders();
    assert!(t.fast());
    t.keeps_every_row = false;
    assert!(!t.fast(), "a BEFORE INSERT trigger or a rule may drop rows");
}

fn planned(rows: &[(&str, i32)]) -> Vec<Planned> {
    rows.iter()
        .map(|(c, h)| Planned {
            ctid: c.to_string(),
            hash: *h,
        })
        .collect()
}

#[test]
fn where_moved_rows_went_comes_from_the_plan_or_the_answer() {
    let ranges = [(1, i32::MIN, -1), (2, 0, 99), (3, 100, i32::MAX)];
    let plan = planned(&[("(0,1)", -5), ("(0,2)", 7), ("(1,1)", 8), ("(1,2)", 500)]);
    // the fast statement moved every row of the batch: the plan's rows, by their hashes
    assert_eq!(
        moved_to(&ranges, &plan, &Moved::Rows(4)),
        Ok([(Some(1), 1), (Some(2), 2), (Some(3), 1)].into())
    );
    // fewer: some changed since the plan, and which is not known
    assert_eq!(moved_to(&ranges, &plan, &Moved::Rows(3)), Err(3));
    assert_eq!(moved_to(&ranges, &plan, &Moved::Rows(0)), Err(0));
    assert_eq!(moved_to(&ranges, &[], &Moved::Rows(0)), Ok([].into()));
    // the careful statement answers the hashes of what it moved (a conflict stays)
    assert_eq!(
        moved_to(&ranges, &plan, &Moved::Hashes(vec![7, 8])),
        Ok([(Some(2), 2)].into())
    );
    // a hash no range holds (a hole in the ranges) is counted, not lost
    assert_eq!(
        moved_to(&[(2, 0, 99)], &plan, &Moved::Hashes(vec![7, -5])),
        Ok([(None, 1), (Some(2), 1)].into())
    );
    assert_eq!(
        moved_detail(3, Some(2), Some("10.0.0.2:5432")),
        "3 row(s) moved to shard 2 on 10.0.0.2:5432"
    );
    assert!(fewer_moved(3, 4).contains("1 more of the batch"));
}

#[test]
fn identity_and_keyless_tables() {
    let mut t = orders();
    t.overriding = true;
    assert!(move_command(&t, &w(), &tids(&["(0,1)"])).contains(
        "INSERT INTO public.orders AS t (order_id, user_id, total) OVERRIDING SYSTEM VALUE SELECT"
    ));
    assert!(fast_move_command(&t, &w(), &tids(&["(0,1)"])).contains(
        "INSERT INTO public.orders (order_id, user_id, total) OVERRIDING SYSTEM VALUE SELECT"
    ));
    t.key.clear();
    // no key: the fast statement only (Citus plans no careful one), and only where an INSERT
    // keeps every row
    assert_eq!(
        move_command(&t, &w(), &tids(&["(0,1)"])),
        fast_move_command(&t, &w(), &tids(&["(0,1)"]))
    );
    assert!(t.unmovable().is_none());
    // ... and its answer is read as the fast statement's
    assert_eq!(parse_careful_moved(&t, "INSERT 0 1"), Ok(Moved::Rows(1)));
    assert_eq!(
        parse_careful_moved(&orders(), "[5, -7]"),
        Ok(Moved::Hashes(vec![5, -7]))
    );
    assert!(parse_careful_moved(&orders(), "INSERT 0 1").is_err());
    assert!(
        parse_careful_moved(&orders(), "[4294967296]").is_err(),
        "not an int4 hash"
    );
    t.keeps_every_row = false;
    let r = t.unmovable().expect("refused");
    assert_eq!(r.sqlstate, "0A000");
    assert!(r.message.contains("no primary key"), "{}", r.message);
    assert!(orders().unmovable().is_none());
    let mut keyed = orders();
    keyed.keeps_every_row = false;
    assert!(
        keyed.unmovable().is_none(),
        "the careful statement moves it"
    );
    // a trigger on inserts or deletes: refused, keyed or not, with the statements to disable it
    keyed.triggers = vec![
        ("public.orders".into(), "lower_code".into()),
        ("public.orders_2026".into(), "No Delete".into()),
    ];
    let r = keyed.unmovable().expect("refused");
    assert_eq!(r.sqlstate, "0A000");
    assert!(
        r.message
            .ends_with("triggers fire on its inserts or deletes: lower_code, No Delete"),
        "{}",
        r.message
    );
    assert!(
        r.hint.contains(
            "(SET citus.enable_unsafe_triggers = on; ALTER TABLE public.orders DISABLE TRIGGER lower_code; ALTER TABLE public.orders_2026 DISABLE TRIGGER \"No Delete\";)"
        ),
        "{}",
        r.hint
    );
}

#[test]
fn scans_and_lookups_ask_each_node_once() {
    let t = orders();
    let q = plan_query(&t, &w());
    assert_eq!(
        q,
        "(SELECT json_build_array(coalesce(json_agg(x.ctid::text), '[]'), coalesce(json_agg(pg_catalog.hashint8(x.user_id)), '[]')) FROM public.orders_102008 x WHERE NOT (pg_catalog.hashint8(x.user_id) BETWEEN -2147483648 AND -1073741825))"
    );
    let full = scan_query(&t, &w());
    assert!(full.contains("to_jsonb(x) AS r"), "{full}");
    assert!(full.contains("ORDER BY s.h"), "{full}");
    // the plan: ctids with their hashes, put in physical order here
    let plan =
        parse_plan(r#"{"102008": [["(10,2)", "(2,7)", "(10,1)"], [1, 2, 3]], "102010": [[], []]}"#)
            .unwrap();
    assert_eq!(
        plan[&102008],
        planned(&[("(2,7)", 2), ("(10,1)", 3), ("(10,2)", 1)])
    );
    assert!(plan[&102010].is_empty());
    assert!(parse_plan(r#"{"102008": [["(2,x)"], [1]]}"#).is_err());
    assert!(
        parse_plan(r#"{"102008": [["(2,1)"], []]}"#).is_err(),
        "a hash short"
    );
    assert!(parse_plan(r#"{"102008": ["(2,1)"]}"#).is_err(), "no hashes");
    assert!(parse_plan(r#"{"s": [[], []]}"#).is_err());
    let cmd = per_node_command(&[(102008, q.clone()), (102010, q)]);
    assert!(cmd.starts_with("SELECT json_build_object('102008', (SELECT"));
    assert!(cmd.ends_with(")::text"));
    let probes = vec![serde_json::json!({"user_id": 7, "order_id": "it's $sc$"})];
    let l = lookup_query(&t, &w(), &probes);
    assert!(
        l.contains("$sc1$[{\"order_id\":\"it's $sc$\",\"user_id\":7}]$sc1$::jsonb"),
        "{l}"
    );
    assert!(l.contains(
        "JOIN public.orders_102008 r ON r.user_id = k.user_id AND r.order_id = k.order_id"
    ));
}

#[test]
fn answers_are_read_strictly() {
    let scan = parse_scan(
        r#"{"102008": [[5, "(0,1)", {"user_id": 1}, {"user_id": 1, "x": null}]], "102010": [[7, "(4,2)", {"user_id": 3}, null]]}"#,
    )
    .unwrap();
    assert_eq!(scan[&102008][0].hash, 5);
    assert_eq!(scan[&102008][0].ctid.as_deref(), Some("(0,1)"));
    assert_eq!(
        scan[&102008][0].key,
        Some(serde_json::json!({"user_id": 1}))
    );
    assert_eq!(scan[&102010][0].row, None);
    assert!(parse_scan(r#"{"102010": [7, 9]}"#).is_err(), "a bare hash");
    assert!(
        parse_scan(r#"{"102010": [[7, "7", null, null]]}"#).is_err(),
        "not a ctid"
    );
    assert!(parse_scan("garbage").is_err());
    assert!(parse_scan("[1]").is_err());
    assert!(parse_scan(r#"{"x": []}"#).is_err());
    let l = parse_lookup(r#"{"102009": [[0, {"user_id": 2}], [3, {"user_id": 4}]]}"#).unwrap();
    assert_eq!(l[&102009].len(), 2);
    assert_eq!(l[&102009][1].0, 3);
    assert!(parse_lookup(r#"{"102009": [[-1, {}]]}"#).is_err());
}

fn at(ctids: &[&str]) -> Vec<String> {
    tids(ctids)
}

#[test]
fn batches_split_between_blocks() {
    assert_eq!(tid_batches::<String>(&[], 10), vec![]);
    assert_eq!(
        tid_batches(&at(&["(1,1)", "(1,2)", "(2,1)"]), 10),
        vec![0..3]
    );
    assert_eq!(
        tid_batches(&at(&["(1,1)", "(2,1)", "(3,1)", "(4,1)", "(5,1)"]), 2),
        vec![0..2, 2..4, 4..5]
    );
    // one block never splits: the batch grows instead
    assert_eq!(
        tid_batches(&at(&["(1,1)", "(2,1)", "(2,2)", "(2,3)", "(3,1)"]), 2),
        vec![0..4, 4..5]
    );
    assert_eq!(block_of("(4294967295,7)"), Some(u32::MAX));
    assert_eq!(tid_of("(3,65535)"), Some((3, u16::MAX)));
    assert_eq!(block_of("4,7"), None);
    assert_eq!(tid_of("(4,7"), None);
}

proptest! {
    #[test]
    fn batches_cover_every_row_once(mut blocks in proptest::collection::vec(0u32..60, 0..300), size in 1usize..40) {
        blocks.sort_unstable();
        let rows: Vec<String> = blocks.iter().enumerate().map(|(i, b)| format!("({b},{})", i + 1)).collect();
        let b = tid_batches(&rows, size);
        prop_assert_eq!(b.iter().map(|r| r.len()).sum::<usize>(), rows.len());
        for w in b.windows(2) {
            prop_assert_eq!(w[0].end, w[1].start);
            prop_assert!(blocks[w[0].end - 1] < blocks[w[1].start], "a block is in one batch: {:?}", w);
        }
        for r in &b {
            prop_assert!(!r.is_empty());
            let first_block_rows = blocks[r.start..r.end].iter().filter(|x| **x == blocks[r.end - 1]).count();
            prop_assert!(r.len() <= size || r.len() - first_block_rows < size, "a batch is over size only by its last block");
        }
    }

    #[test]
    fn every_hash_has_exactly_one_shard(n in 1i32..200, h in any::<i32>()) {
        let ranges: Vec<(i64, i32, i32)> = crate::hashmath::shard_ranges(n)
            .into_iter()
            .enumerate()
            .map(|(i, (lo, hi))| (1000 + i as i64, lo, hi))
            .collect();
        let s = shard_for(&ranges, h).unwrap();
        prop_assert_eq!(s, 1000 + crate::hashmath::uniform_shard_index(h, n) as i64);
    }
}

fn kind() -> TableKind {
    TableKind {
        name: "orders".into(),
        citus: true,
        method: 'h',
        repmodel: 's',
        has_column: true,
        ..TableKind::default()
    }
}

#[test]
fn what_the_repair_refuses_says_why() {
    assert_eq!(refusal(&kind()), None);
    let not = TableKind {
        citus: false,
        ..kind()
    };
    assert_eq!(
        refusal(&not).unwrap().message,
        "orders is not a distributed table"
    );
    let reference = TableKind {
        method: 'n',
        repmodel: 't',
        has_column: false,
        ..kind()
    };
    assert_eq!(
        refusal(&reference).unwrap().message,
        "orders is a reference table"
    );
    for (method, what) in [
        ('a', "an append-distributed table"),
        ('r', "a range-distributed table"),
        ('n', "a Citus table without a distribution column"),
    ] {
        let k = TableKind {
            method,
            has_column: method != 'n',
            ..kind()
        };
        let r = refusal(&k).unwrap();
        assert!(r.message.starts_with(&format!("orders is {what}")), "{r:?}");
        assert_eq!(r.sqlstate, "42809");
    }
    let replicated = TableKind {
        replicated_shards: 4,
        ..kind()
    };
    assert_eq!(refusal(&replicated).unwrap().sqlstate, "0A000");
    let cascade = TableKind {
        cascading_references: vec!["items_order_fkey".into()],
        ..kind()
    };
    assert!(refusal(&cascade)
        .unwrap()
        .message
        .contains("items_order_fkey"));
    let e = TableKind {
        enum_column: true,
        ..kind()
    };
    assert!(refusal(&e).unwrap().message.contains("enum"));
}

#[test]
fn summaries() {
    let mut c = BTreeMap::new();
    c.insert(Action::Move, 22);
    c.insert(Action::Conflict, 1);
    assert_eq!(
        summary(true, &c, 0),
        "dry run: 22 row(s) would move, 1 conflict(s) would stay"
    );
    // a node down: what could not be looked at is said, not left out
    c.insert(Action::Left, 5);
    assert_eq!(
        summary(true, &c, 2),
        "dry run: 22 row(s) would move, 1 conflict(s) would stay, 5 row(s) could not be checked for a conflict; 2 shard(s) could not be read (see the lines without rows)"
    );
    c.insert(Action::Moved, 22);
    assert_eq!(
        summary(false, &c, 0),
        "moved 22 row(s); left 1 conflict(s) and 5 other row(s) in place"
    );
}
