use super::*;

fn t(relid: u32, name: &str, group: u32, column: &str, shards: i32) -> SplitTable {
    SplitTable {
        relid,
        name: name.to_string(),
        schema: "public".into(),
        relname: name.to_string(),
        colocation_id: group,
        column: column.to_string(),
        type_oid: 20,
        type_name: "bigint".into(),
        collation: 0,
        shard_count: shards,
    }
}

fn none() -> HashSet<u32> {
    HashSet::new()
}

/// The seed incident: users (24 shards, group 1), orders (48 shards, group 2), both by user_id.
fn incident() -> Vec<SplitTable> {
    vec![
        t(100, "users", 1, "user_id", 24),
        t(101, "orders", 2, "user_id", 48),
    ]
}

#[test]
fn the_seed_incident_is_a_split_with_the_issue_s_remediation() {
    let splits = find_splits(&incident(), &[], &none(), &HashMap::new());
    assert_eq!(splits.len(), 1);
    let s = &splits[0];
    assert_eq!(s.table(), "orders");
    assert_eq!((s.moving_group, s.moving_shards), (2, 48));
    assert_eq!(
        (s.target_group, s.target_table.as_str(), s.target_shards),
        (1, "users", 24)
    );
    assert_eq!(
        s.remediation(),
        "SELECT alter_distributed_table('orders', shard_count => 24, colocate_with => 'users');"
    );
    let d = s.detail();
    assert!(
        d.contains("orders in colocation group 2 (48 shards) and users in group 1 (24 shards)"),
        "{d}"
    );
    assert!(
        d.contains("orders and users are both distributed by user_id"),
        "{d}"
    );
    assert!(d.contains("declare_separate('orders', 'why')"), "{d}");
}

#[test]
fn unrelated_tables_of_the_same_type_are_not_split() {
    // audit_log(id), 16 shards: same type, another group, nothing that ties it to users.
    let mut tables = incident();
    tables.push(t(102, "audit_log", 3, "id", 16));
    let splits = find_splits(&tables, &[], &none(), &HashMap::new());
    assert_eq!(splits.len(), 1);
    assert_eq!(splits[0].table(), "orders");
    // Two tables that are each distributed by their own id share nothing but the word.
    let ids = vec![t(1, "events", 1, "id", 32), t(2, "audit_log", 2, "id", 16)];
    assert!(find_splits(&ids, &[], &none(), &HashMap::new()).is_empty());
}

#[test]
fn colocated_tables_and_other_types_are_not_split() {
    let colocated = vec![
        t(100, "users", 1, "user_id", 24),
        t(101, "orders", 1, "user_id", 24),
    ];
    assert!(find_splits(&colocated, &[], &none(), &HashMap::new()).is_empty());
    let mut text = incident();
    text[1].type_oid = 25;
    assert!(find_splits(&text, &[], &none(), &HashMap::new()).is_empty());
    let mut collated = incident();
    collated[1].collation = 950;
    assert!(find_splits(&collated, &[], &none(), &HashMap::new()).is_empty());
    // Tables outside any group (append/range, Citus local) are never part of one.
    let mut outside = incident();
    outside[1].colocation_id = 0;
    assert!(find_splits(&outside, &[], &none(), &HashMap::new()).is_empty());
}

#[test]
fn a_separation_on_purpose_is_not_flagged() {
    let separated: HashSet<u32> = [101].into_iter().collect();
    assert!(find_splits(&incident(), &[], &separated, &HashMap::new()).is_empty());
    assert!(join_candidates(&incident(), &separated).is_empty());
    assert_eq!(join_candidates(&incident(), &none()), vec![(100, 101)]);
    // smaller relid first, whatever the order of the tables: joined_pairs answers that way
    let mut reversed = incident();
    reversed.reverse();
    assert_eq!(join_candidates(&reversed, &none()), vec![(100, 101)]);
}

#[test]
fn naming_conventions_and_links_are_evidence() {
    // users distributed by its own id, orders by user_id: the column names users.
    let tables = vec![
        t(100, "users", 1, "id", 24),
        t(101, "orders", 2, "user_id", 48),
    ];
    let s = find_splits(&tables, &[], &none(), &HashMap::new());
    assert_eq!(s.len(), 1);
    assert_eq!(
        s[0].evidence,
        vec![Evidence::NamedAfter {
            table: "orders".into(),
            column: "user_id".into(),
            names: "users".into()
        }]
    );
    // companies / company_id
    let tables = vec![
        t(1, "companies", 1, "id", 32),
        t(2, "campaigns", 2, "company_id", 16),
    ];
    assert_eq!(find_splits(&tables, &[], &none(), &HashMap::new()).len(), 1);
    // Without a name in common, only a foreign key or a join ties them.
    let tables = vec![
        t(1, "accounts", 1, "id", 32),
        t(2, "ledger", 2, "owner", 16),
    ];
    assert!(find_splits(&tables, &[], &none(), &HashMap::new()).is_empty());
    let fk = Link::ForeignKey {
        from: 2,
        to: 1,
        constraint: "ledger_owner_fkey".into(),
    };
    let s = find_splits(&tables, &[fk], &none(), &HashMap::new());
    assert_eq!(s.len(), 1);
    assert!(s[0].detail().contains(
        "foreign key ledger_owner_fkey from ledger to accounts exists on the coordinator only"
    ));
    let join = Link::Join {
        a: 1,
        b: 2,
        calls: 7,
        source: "pg_stat_statements",
    };
    let s = find_splits(&tables, &[join], &none(), &HashMap::new());
    assert!(s[0]
        .detail()
        .contains("statements joining accounts and ledger on their distribution columns ran 7 times (pg_stat_statements)"));
    // Links between tables that cannot be colocated are no split.
    let mut other = tables.clone();
    other[1].type_oid = 25;
    let join = Link::Join {
        a: 1,
        b: 2,
        calls: 7,
        source: "pg_stat_statements",
    };
    assert!(find_splits(&other, &[join], &none(), &HashMap::new()).is_empty());
}

#[test]
fn a_whole_group_moves_with_cascade_and_components_pick_one_target() {
    let tables = vec![
        t(1, "users", 1, "user_id", 24),
        t(2, "orders", 2, "user_id", 48),
        t(3, "order_items", 2, "user_id", 48),
        t(4, "sessions", 3, "user_id", 8),
    ];
    let s = find_splits(&tables, &[], &none(), &HashMap::new());
    // group 2 has the most tables: users and sessions join it
    assert_eq!(s.len(), 2);
    let users = s.iter().find(|x| x.table() == "users").unwrap();
    assert_eq!(users.target_group, 2);
    assert_eq!(users.also, vec![3]);
    assert_eq!(
        users.remediation(),
        "SELECT alter_distributed_table('users', shard_count => 48, colocate_with => 'order_items');"
    );
    // the same test with users' group bigger: orders and order_items move together
    let mut tables = tables;
    tables.push(t(5, "profiles", 1, "user_id", 24));
    tables.push(t(6, "settings", 1, "user_id", 24));
    let s = find_splits(&tables, &[], &none(), &HashMap::new());
    let orders = s.iter().find(|x| x.moving_group == 2).unwrap();
    assert_eq!(orders.moving_tables, vec!["order_items", "orders"]);
    assert_eq!(
        orders.remediation(),
        "SELECT alter_distributed_table('order_items', shard_count => 24, colocate_with => 'profiles', cascade_to_colocated => true);"
    );
    assert!(orders
        .detail()
        .contains("order_items, orders (colocated) in colocation group 2"));
}

#[test]
fn the_same_layout_is_fixed_in_the_metadata() {
    let tables = vec![
        t(100, "users", 1, "user_id", 4),
        t(101, "orders", 2, "user_id", 4),
    ];
    let s = find_splits(&tables, &[], &none(), &HashMap::new());
    assert_eq!(needs_layouts(&s), vec![1, 2]);
    let layout: Layout = crate::hashmath::shard_ranges(4)
        .into_iter()
        .enumerate()
        .map(|(i, (lo, hi))| (lo, hi, vec![1 + i as i32 % 2]))
        .collect();
    let same: HashMap<u32, Layout> = [(1, layout.clone()), (2, layout.clone())].into();
    let s = find_splits(&tables, &[], &none(), &same);
    assert!(s[0].metadata_only);
    assert_eq!(
        s[0].remediation(),
        "SELECT update_distributed_table_colocation('orders', colocate_with => 'users');"
    );
    let mut moved = layout.clone();
    moved[0].2 = vec![2];
    let differ: HashMap<u32, Layout> = [(1, layout), (2, moved)].into();
    let s = find_splits(&tables, &[], &none(), &differ);
    assert!(!s[0].metadata_only);
    assert!(s[0]
        .remediation()
        .starts_with("SELECT alter_distributed_table('orders', shard_count => 4"));
}

#[test]
fn names_that_need_quoting_are_quoted_in_the_remediation() {
    let mut tables = incident();
    tables[1].name = "\"Order's\"".into();
    let s = find_splits(&tables, &[], &none(), &HashMap::new());
    assert_eq!(
        s[0].remediation(),
        "SELECT alter_distributed_table('\"Order''s\"', shard_count => 24, colocate_with => 'users');"
    );
}

fn col(q: Option<&str>, c: &str) -> ColRef {
    ColRef {
        qualifier: q.map(str::to_string),
        column: c.into(),
    }
}

fn rel(schema: Option<&str>, name: &str, alias: Option<&str>) -> RelRef {
    RelRef {
        schema: schema.map(str::to_string),
        name: name.into(),
        alias: alias.map(str::to_string),
    }
}

#[test]
fn joins_on_distribution_columns_are_found_in_statement_shapes() {
    let tables = incident();
    // SELECT ... FROM users u JOIN orders o ON o.user_id = u.user_id
    let on = QueryShape {
        relations: vec![
            rel(None, "users", Some("u")),
            rel(None, "orders", Some("o")),
        ],
        equalities: vec![(col(Some("o"), "user_id"), col(Some("u"), "user_id"))],
        usings: vec![],
    };
    assert_eq!(joined_pairs(&on, &tables), [(100, 101)].into());
    // ... FROM public.users JOIN orders USING (user_id)
    let using = QueryShape {
        relations: vec![
            rel(Some("public"), "users", None),
            rel(None, "orders", None),
        ],
        equalities: vec![],
        usings: vec![(vec![0], vec![1], vec!["user_id".into()])],
    };
    assert_eq!(joined_pairs(&using, &tables), [(100, 101)].into());
    // qualified by table name, in WHERE
    let where_ = QueryShape {
        relations: vec![rel(None, "users", None), rel(None, "orders", None)],
        equalities: vec![(
            col(Some("users"), "user_id"),
            col(Some("orders"), "user_id"),
        )],
        usings: vec![],
    };
    assert_eq!(joined_pairs(&where_, &tables), [(100, 101)].into());
    // another column, an unqualified one, another schema: no join of distribution columns
    for shape in [
        QueryShape {
            relations: on.relations.clone(),
            equalities: vec![(col(Some("o"), "order_id"), col(Some("u"), "user_id"))],
            usings: vec![],
        },
        QueryShape {
            relations: on.relations.clone(),
            equalities: vec![(col(None, "user_id"), col(Some("u"), "user_id"))],
            usings: vec![],
        },
        QueryShape {
            relations: vec![
                rel(Some("other"), "users", Some("u")),
                rel(None, "orders", Some("o")),
            ],
            equalities: on.equalities.clone(),
            usings: vec![],
        },
    ] {
        assert!(joined_pairs(&shape, &tables).is_empty(), "{shape:?}");
    }
}

#[test]
fn the_last_call_that_ran_decides_a_recorded_separation() {
    let rec = |at: i64, db: &str, relid: u32, verdict: &str, cw: Option<&str>| CallRecord {
        at,
        database: db.into(),
        relid,
        verdict: verdict.into(),
        colocate_with: cw.map(str::to_string),
    };
    let records = vec![
        rec(1, "app", 101, "allowed", Some("none")),
        rec(2, "app", 102, "allowed", Some("none")),
        rec(3, "app", 102, "warned", Some("users")), // later colocated again
        rec(4, "app", 103, "blocked", Some("none")), // never ran
        rec(5, "other", 104, "allowed", Some("none")), // another database
        rec(6, "app", 105, "allowed", Some("default")),
        rec(7, "app", 105, "blocked", Some("none")),
        rec(8, "app", 106, "allowed-by-hatch", Some("none")),
    ];
    let got = separated_by_calls(&records, "app");
    assert_eq!(got, [101, 106].into_iter().collect());
}
