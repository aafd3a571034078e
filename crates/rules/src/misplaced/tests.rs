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
    }
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
fn a_move_is_one_statement_that_never_overwrites() {
    let c = move_command(&orders(), &w(), 5, 900);
    assert_eq!(
        c,
        "WITH cand AS MATERIALIZED (SELECT x.* FROM public.orders_102008 x WHERE pg_catalog.hashint8(x.user_id) BETWEEN 5 AND 900 AND NOT (pg_catalog.hashint8(x.user_id) BETWEEN -2147483648 AND -1073741825) FOR UPDATE OF x), \
ins AS (INSERT INTO public.orders AS t (order_id, user_id, total) SELECT order_id, user_id, total FROM cand ON CONFLICT (user_id, order_id) DO NOTHING RETURNING t.user_id, t.order_id), \
del AS (DELETE FROM public.orders_102008 x USING ins i WHERE (x.user_id, x.order_id) = (i.user_id, i.order_id) AND NOT (pg_catalog.hashint8(x.user_id) BETWEEN -2147483648 AND -1073741825) \
RETURNING x.*) \
SELECT coalesce(jsonb_agg(jsonb_build_array(pg_catalog.hashint8(d.user_id), jsonb_build_object('user_id', d.user_id, 'order_id', d.order_id), to_jsonb(d))), '[]')::text FROM del d"
    );
}

#[test]
fn identity_and_keyless_tables() {
    let mut t = orders();
    t.overriding = true;
    assert!(move_command(&t, &w(), 1, 2).contains(
        "INSERT INTO public.orders AS t (order_id, user_id, total) OVERRIDING SYSTEM VALUE SELECT"
    ));
    t.key.clear();
    let c = move_command(&t, &w(), 1, 2);
    assert!(!c.contains("ON CONFLICT"), "{c}");
    assert!(
        c.contains("x.tableoid = c.sc_tableoid AND x.ctid = c.sc_ctid"),
        "{c}"
    );
    // the DELETE only runs once the INSERT took every candidate
    assert!(
        c.contains("(SELECT count(*) FROM ins) = (SELECT count(*) FROM cand)"),
        "{c}"
    );
    assert!(c.contains("NULL::jsonb, to_jsonb(d)"), "{c}");
}

#[test]
fn scans_and_lookups_ask_each_node_once() {
    let t = orders();
    let q = scan_query(&t, &w(), false);
    assert_eq!(
        q,
        "(SELECT coalesce(jsonb_agg(s.h ORDER BY s.h), '[]') FROM (SELECT pg_catalog.hashint8(x.user_id) AS h FROM public.orders_102008 x WHERE NOT (pg_catalog.hashint8(x.user_id) BETWEEN -2147483648 AND -1073741825)) s)"
    );
    let full = scan_query(&t, &w(), true);
    assert!(full.contains("jsonb_build_array(s.h, s.k, s.r)"));
    let cmd = per_node_command(&[(102008, q.clone()), (102010, q)]);
    assert!(cmd.starts_with("SELECT jsonb_build_object('102008', (SELECT"));
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
fn dollar_quotes_never_end_early() {
    assert_eq!(dollar_quote("abc"), "$sc$abc$sc$");
    assert_eq!(dollar_quote("a$sc$b"), "$sc1$a$sc$b$sc1$");
    assert_eq!(dollar_quote("$sc$$sc1$"), "$sc2$$sc$$sc1$$sc2$");
}

#[test]
fn answers_are_read_strictly() {
    let scan = parse_scan(
        r#"{"102008": [[5, {"user_id": 1}, {"user_id": 1, "x": null}]], "102010": [7, 9]}"#,
    )
    .unwrap();
    assert_eq!(scan[&102008][0].hash, 5);
    assert_eq!(
        scan[&102008][0].key,
        Some(serde_json::json!({"user_id": 1}))
    );
    assert_eq!(
        scan[&102010].iter().map(|f| f.hash).collect::<Vec<_>>(),
        vec![7, 9]
    );
    let keyless = parse_moved(r#"[[5, null, {"a": 1}]]"#).unwrap();
    assert_eq!(keyless[0].key, None);
    assert!(parse_scan("garbage").is_err());
    assert!(parse_scan("[1]").is_err());
    assert!(parse_scan(r#"{"x": []}"#).is_err());
    assert!(
        parse_moved(r#"[[4294967296, null, {}]]"#).is_err(),
        "not an int4 hash"
    );
    let l = parse_lookup(r#"{"102009": [[0, {"user_id": 2}], [3, {"user_id": 4}]]}"#).unwrap();
    assert_eq!(l[&102009].len(), 2);
    assert_eq!(l[&102009][1].0, 3);
    assert!(parse_lookup(r#"{"102009": [[-1, {}]]}"#).is_err());
}

#[test]
fn batches_split_between_hash_values() {
    assert_eq!(batches(&[], 10), vec![]);
    assert_eq!(batches(&[1, 2, 3], 10), vec![(1, 3, 3)]);
    assert_eq!(
        batches(&[1, 2, 3, 4, 5], 2),
        vec![(1, 2, 2), (3, 4, 2), (5, 5, 1)]
    );
    // one value never splits: the batch grows instead
    assert_eq!(batches(&[1, 2, 2, 2, 3], 2), vec![(1, 2, 4), (3, 3, 1)]);
    assert_eq!(batches(&[7, 7, 7], 1), vec![(7, 7, 3)]);
}

proptest! {
    #[test]
    fn batches_cover_every_row_once(mut hashes in proptest::collection::vec(any::<i32>(), 0..300), size in 1usize..40) {
        hashes.sort_unstable();
        let b = batches(&hashes, size);
        prop_assert_eq!(b.iter().map(|x| x.2).sum::<usize>(), hashes.len());
        for w in b.windows(2) {
            prop_assert!(w[0].1 < w[1].0, "batches do not overlap: {:?}", w);
        }
        for (lo, hi, n) in &b {
            let inside = hashes.iter().filter(|h| (*lo..=*hi).contains(h)).count();
            prop_assert_eq!(inside, *n);
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
        summary(true, &c),
        "dry run: 22 row(s) would move, 1 conflict(s) would stay"
    );
    c.insert(Action::Moved, 22);
    assert_eq!(
        summary(false, &c),
        "moved 22 row(s); left 1 conflict(s) and 0 other row(s) in place"
    );
}
