//! Colocation splits: tables that belong together but sit in different colocation groups, the
//! state the seed incident left behind (`SET citus.shard_count = 48`, then `orders` distributed
//! beside a 24-shard `users`). The guard stops it from now on; this finds what happened before
//! the sidecar was there.
//!
//! Two hash-distributed tables are a *candidate* pair when Citus could colocate them (same
//! distribution column type and collation) and they are in different groups. A candidate pair
//! is a *split* only with evidence that the tables are meant to be together:
//!
//! * the same distribution column name (`user_id` and `user_id`), unless it is a name every
//!   table has for its own rows (`id`), which says nothing about a shared tenant;
//! * a distribution column named after the other table (`orders.user_id` and `users`);
//! * a foreign key between them on the coordinator, which Citus cannot have created on the
//!   shards (it refuses foreign keys between tables that are not colocated);
//! * joins of their distribution columns seen in `pg_stat_statements`.
//!
//! A table separated on purpose is never part of a split: one whose last distribution call the
//! guard recorded with `colocate_with => 'none'`, or one a superuser declared separate with a
//! reason. Groups linked by evidence form a component; the group with the most tables (the
//! oldest on a tie: the one the application was built around) is where the others should go,
//! and each other group gets one finding with the statement that moves it there.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::consistency::issue::literal;

/// One hash-distributed table, as the split check needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitTable {
    pub relid: u32,
    /// As `regclass::text` prints it (qualified when not on the search path).
    pub name: String,
    pub schema: String,
    /// The relation's own name, unqualified and unquoted.
    pub relname: String,
    pub colocation_id: u32,
    /// The distribution column's name.
    pub column: String,
    pub type_oid: u32,
    /// `format_type()` of the column type, for messages.
    pub type_name: String,
    /// The distribution column's collation (`attcollation`; 0 for types without one).
    pub collation: u32,
    /// Shards the table really has.
    pub shard_count: i32,
}

/// Evidence the glue found between two tables (by relid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// A foreign key on the coordinator between tables in different groups: Citus refuses to
    /// create those, so it holds on the coordinator's shell table only.
    ForeignKey {
        from: u32,
        to: u32,
        constraint: String,
    },
    /// Statements that join the two tables' distribution columns, with how often they ran.
    Join {
        a: u32,
        b: u32,
        calls: i64,
        source: &'static str,
    },
}

/// Why two tables look like they belong together, in words a finding can print.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Evidence {
    SameColumn {
        a: String,
        b: String,
        column: String,
    },
    NamedAfter {
        table: String,
        column: String,
        names: String,
    },
    ForeignKey {
        from: String,
        to: String,
        constraint: String,
    },
    Join {
        a: String,
        b: String,
        calls: i64,
        source: &'static str,
    },
}

impl Evidence {
    pub fn describe(&self) -> String {
        match self {
            Evidence::SameColumn { a, b, column } => {
                format!("{a} and {b} are both distributed by {column}")
            }
            Evidence::NamedAfter {
                table,
                column,
                names,
            } => format!("{table}.{column} is named after {names}"),
            Evidence::ForeignKey {
                from,
                to,
                constraint,
            } => format!(
                "foreign key {constraint} from {from} to {to} exists on the coordinator only (Citus cannot create it on shards that are not colocated)"
            ),
            Evidence::Join {
                a,
                b,
                calls,
                source,
            } => format!(
                "statements joining {a} and {b} on their distribution columns ran {calls} time{} ({source})",
                if *calls == 1 { "" } else { "s" }
            ),
        }
    }
}

/// The shard layout of a group (its first table's): (min, max, placement groups) per shard,
/// sorted. Two groups with the same layout can be merged in the metadata alone.
pub type Layout = Vec<(i32, i32, Vec<i32>)>;

/// One group that should join another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub moving_group: u32,
    /// The tables of the moving group, sorted.
    pub moving_tables: Vec<String>,
    pub moving_shards: i32,
    pub target_group: u32,
    pub target_table: String,
    pub target_shards: i32,
    pub type_name: String,
    pub evidence: Vec<Evidence>,
    /// Other groups of the same component that are split too (they have findings of their own).
    pub also: Vec<u32>,
    /// The layouts are the same: update_distributed_table_colocation, no data moves.
    pub metadata_only: bool,
}

impl Split {
    /// The table the finding is about (the first of the moving group).
    pub fn table(&self) -> &str {
        &self.moving_tables[0]
    }

    pub fn detail(&self) -> String {
        let moving = if self.moving_tables.len() == 1 {
            self.moving_tables[0].clone()
        } else {
            format!("{} (colocated)", self.moving_tables.join(", "))
        };
        let evidence: Vec<String> = self.evidence.iter().map(Evidence::describe).collect();
        let mut s = format!(
            "{moving} in colocation group {} ({} shards) and {} in group {} ({} shards) have the same distribution column type ({}) but are not colocated, and they look like they belong together: {}. Joins between them are repartitioned or refused, foreign keys between them cannot be created, and one tenant's rows live in shards on different nodes.",
            self.moving_group,
            self.moving_shards,
            self.target_table,
            self.target_group,
            self.target_shards,
            self.type_name,
            evidence.join("; ")
        );
        if !self.also.is_empty() {
            let groups: Vec<String> = self.also.iter().map(u32::to_string).collect();
            s.push_str(&format!(
                " Group{} {} belong{} with them too (see {} finding{}).",
                if groups.len() == 1 { "" } else { "s" },
                groups.join(", "),
                if groups.len() == 1 { "s" } else { "" },
                if groups.len() == 1 { "its" } else { "their" },
                if groups.len() == 1 { "" } else { "s" },
            ));
        }
        if self.metadata_only {
            s.push_str(" Their shards have the same ranges on the same nodes, so the fix changes metadata only.");
        } else {
            s.push_str(&format!(
                " The fix rewrites {moving} with {} shards (alter_distributed_table copies the data; run it in a quiet period). If the separation is deliberate, declare it: SELECT citus_sidecar.declare_separate({}, 'why');",
                self.target_shards,
                literal(&self.moving_tables[0])
            ));
        }
        s
    }

    /// The statements that colocate the moving group with the target, runnable as written.
    pub fn remediation(&self) -> String {
        let target = literal(&self.target_table);
        if self.metadata_only {
            return self
                .moving_tables
                .iter()
                .map(|t| {
                    format!(
                        "SELECT update_distributed_table_colocation({}, colocate_with => {target});",
                        literal(t)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
        }
        let cascade = if self.moving_tables.len() > 1 {
            ", cascade_to_colocated => true"
        } else {
            ""
        };
        format!(
            "SELECT alter_distributed_table({}, shard_count => {}, colocate_with => {target}{cascade});",
            literal(&self.moving_tables[0]),
            self.target_shards
        )
    }
}

/// Distribution column names that every table has for its own rows: sharing one says nothing.
const GENERIC_COLUMNS: &[&str] = &["id", "uuid", "guid", "key", "pk", "oid"];

fn same_column(a: &SplitTable, b: &SplitTable) -> Option<Evidence> {
    let generic = GENERIC_COLUMNS
        .iter()
        .any(|g| a.column.eq_ignore_ascii_case(g));
    let (first, second) = if a.name <= b.name { (a, b) } else { (b, a) };
    (a.column == b.column && !generic).then(|| Evidence::SameColumn {
        a: first.name.clone(),
        b: second.name.clone(),
        column: a.column.clone(),
    })
}

/// Singular spellings of a table name, for `<singular>_id` (users -> user, companies -> company,
/// addresses -> address; and the name itself, for tables named in the singular).
fn singulars(relname: &str) -> Vec<String> {
    let n = relname.to_lowercase();
    let mut out = vec![n.clone()];
    if let Some(s) = n.strip_suffix("ies") {
        out.push(format!("{s}y"));
    }
    if let Some(s) = n.strip_suffix("es") {
        out.push(s.to_string());
    }
    if let Some(s) = n.strip_suffix('s') {
        out.push(s.to_string());
    }
    out.retain(|s| !s.is_empty());
    out
}

/// `a`'s distribution column names `b` (`orders.user_id` names `users`), and `b` is distributed
/// by its own id or by that same column.
fn named_after(a: &SplitTable, b: &SplitTable) -> Option<Evidence> {
    let col = a.column.to_lowercase();
    let b_col = b.column.to_lowercase();
    let names_b = singulars(&b.relname)
        .iter()
        .any(|s| col == format!("{s}_id") || col == format!("{s}id"));
    (names_b && (b_col == "id" || b_col == col) && a.relid != b.relid).then(|| {
        Evidence::NamedAfter {
            table: a.name.clone(),
            column: a.column.clone(),
            names: b.name.clone(),
        }
    })
}

/// Could Citus colocate these two, and are they apart?
fn candidates(a: &SplitTable, b: &SplitTable) -> bool {
    a.colocation_id != b.colocation_id && a.type_oid == b.type_oid && a.collation == b.collation
}

struct UnionFind(HashMap<u32, u32>);

impl UnionFind {
    fn find(&mut self, x: u32) -> u32 {
        let p = *self.0.entry(x).or_insert(x);
        if p == x {
            return x;
        }
        let r = self.find(p);
        self.0.insert(x, r);
        r
    }
    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // the smaller id is the root, so components are named the same on every run
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.0.insert(hi, lo);
        }
    }
}

/// Every split among `tables`. `separated`: relids separated on purpose (a recorded
/// `colocate_with => 'none'`, a declaration); `links`: foreign keys and joins the glue found;
/// `layouts`: shard layouts of groups, when the glue read them (see [`needs_layouts`]).
pub fn find_splits(
    tables: &[SplitTable],
    links: &[Link],
    separated: &HashSet<u32>,
    layouts: &HashMap<u32, Layout>,
) -> Vec<Split> {
    let tables: Vec<&SplitTable> = tables
        .iter()
        .filter(|t| t.colocation_id != 0 && !separated.contains(&t.relid))
        .collect();
    let by_relid: HashMap<u32, &SplitTable> = tables.iter().map(|t| (t.relid, *t)).collect();

    // Evidence per unordered pair of groups.
    let mut edges: BTreeMap<(u32, u32), BTreeSet<Evidence>> = BTreeMap::new();
    let key = |a: &SplitTable, b: &SplitTable| {
        (
            a.colocation_id.min(b.colocation_id),
            a.colocation_id.max(b.colocation_id),
        )
    };
    for (i, a) in tables.iter().enumerate() {
        for b in &tables[i + 1..] {
            if !candidates(a, b) {
                continue;
            }
            let found: Vec<Evidence> = [same_column(a, b), named_after(a, b), named_after(b, a)]
                .into_iter()
                .flatten()
                .collect();
            if !found.is_empty() {
                edges.entry(key(a, b)).or_default().extend(found);
            }
        }
    }
    for link in links {
        let (x, y) = match link {
            Link::ForeignKey { from, to, .. } => (*from, *to),
            Link::Join { a, b, .. } => (*a, *b),
        };
        let (Some(a), Some(b)) = (by_relid.get(&x), by_relid.get(&y)) else {
            continue;
        };
        if !candidates(a, b) {
            continue;
        }
        let ev = match link {
            Link::ForeignKey { constraint, .. } => Evidence::ForeignKey {
                from: a.name.clone(),
                to: b.name.clone(),
                constraint: constraint.clone(),
            },
            Link::Join { calls, source, .. } => {
                let (first, second) = if a.name <= b.name { (a, b) } else { (b, a) };
                Evidence::Join {
                    a: first.name.clone(),
                    b: second.name.clone(),
                    calls: *calls,
                    source,
                }
            }
        };
        edges.entry(key(a, b)).or_default().insert(ev);
    }
    if edges.is_empty() {
        return Vec::new();
    }

    // Components of groups linked by evidence.
    let mut uf = UnionFind(HashMap::new());
    for &(g1, g2) in edges.keys() {
        uf.union(g1, g2);
    }
    let mut members: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    for &(g1, g2) in edges.keys() {
        let root = uf.find(g1);
        members.entry(root).or_default().extend([g1, g2]);
    }
    let mut group_tables: BTreeMap<u32, Vec<&SplitTable>> = BTreeMap::new();
    for t in &tables {
        group_tables.entry(t.colocation_id).or_default().push(t);
    }
    for ts in group_tables.values_mut() {
        ts.sort_by(|a, b| a.name.cmp(&b.name));
    }

    let mut out = Vec::new();
    for groups in members.values() {
        // The target: most tables, then the oldest group.
        let target = *groups
            .iter()
            .max_by(|a, b| {
                group_tables[a]
                    .len()
                    .cmp(&group_tables[b].len())
                    .then(b.cmp(a))
            })
            .expect("a component has groups");
        let target_tables = &group_tables[&target];
        for &g in groups.iter().filter(|&&g| g != target) {
            let mine: Vec<Evidence> = edges
                .iter()
                .filter(|((a, b), _)| *a == g || *b == g)
                .flat_map(|(_, ev)| ev.iter().cloned())
                .collect();
            // Colocate with a target table the evidence names, else the target's first table.
            let target_table = target_tables
                .iter()
                .find(|t| mine.iter().any(|e| mentions(e, &t.name)))
                .unwrap_or(&target_tables[0]);
            let moving = &group_tables[&g];
            let metadata_only = match (layouts.get(&g), layouts.get(&target)) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            };
            out.push(Split {
                moving_group: g,
                moving_tables: moving.iter().map(|t| t.name.clone()).collect(),
                moving_shards: moving[0].shard_count,
                target_group: target,
                target_table: target_table.name.clone(),
                target_shards: target_table.shard_count,
                type_name: moving[0].type_name.clone(),
                evidence: mine,
                also: groups
                    .iter()
                    .copied()
                    .filter(|&o| o != g && o != target)
                    .collect(),
                metadata_only,
            });
        }
    }
    out.sort_by(|a, b| a.table().cmp(b.table()));
    out
}

fn mentions(e: &Evidence, table: &str) -> bool {
    match e {
        Evidence::SameColumn { a, b, .. } | Evidence::Join { a, b, .. } => a == table || b == table,
        Evidence::NamedAfter {
            table: t, names, ..
        } => t == table || names == table,
        Evidence::ForeignKey { from, to, .. } => from == table || to == table,
    }
}

/// The groups whose layouts decide between a metadata-only fix and a rewrite: both sides of a
/// split with the same shard count. The glue reads those (and only those) and calls
/// [`find_splits`] again with them.
pub fn needs_layouts(splits: &[Split]) -> Vec<u32> {
    let mut out: BTreeSet<u32> = BTreeSet::new();
    for s in splits {
        if s.moving_shards == s.target_shards {
            out.insert(s.moving_group);
            out.insert(s.target_group);
        }
    }
    out.into_iter().collect()
}

/// Pairs of tables worth looking for in statement statistics: candidates without a separation,
/// by relid, the smaller first (as [`joined_pairs`] answers them). The glue parses only
/// statements that name both tables of one of them.
pub fn join_candidates(tables: &[SplitTable], separated: &HashSet<u32>) -> Vec<(u32, u32)> {
    let live: Vec<&SplitTable> = tables
        .iter()
        .filter(|t| t.colocation_id != 0 && !separated.contains(&t.relid))
        .collect();
    let mut out = Vec::new();
    for (i, a) in live.iter().enumerate() {
        for b in &live[i + 1..] {
            if candidates(a, b) {
                out.push((a.relid.min(b.relid), a.relid.max(b.relid)));
            }
        }
    }
    out
}

/// A relation a statement names, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelRef {
    pub schema: Option<String>,
    pub name: String,
    pub alias: Option<String>,
}

/// A column reference, as written: `[qualifier.]column` (the qualifier is the last name before
/// the column: an alias or a table name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColRef {
    pub qualifier: Option<String>,
    pub column: String,
}

/// What a statement says about joins: the relations it names, the `a = b` comparisons of two
/// columns anywhere in it, and its `JOIN ... USING (...)` clauses (indexes into `relations` on
/// each side).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryShape {
    pub relations: Vec<RelRef>,
    pub equalities: Vec<(ColRef, ColRef)>,
    pub usings: Vec<(Vec<usize>, Vec<usize>, Vec<String>)>,
}

/// The table a relation reference means, among `tables`: by schema and name when qualified,
/// else by name when exactly one table has it.
fn resolve<'a>(r: &RelRef, tables: &[&'a SplitTable]) -> Option<&'a SplitTable> {
    let mut hits = tables
        .iter()
        .filter(|t| t.relname == r.name && r.schema.as_ref().is_none_or(|s| *s == t.schema));
    let first = hits.next()?;
    hits.next().is_none().then_some(*first)
}

/// Pairs of tables (relids, smaller first) whose distribution columns a statement joins.
pub fn joined_pairs(shape: &QueryShape, tables: &[SplitTable]) -> BTreeSet<(u32, u32)> {
    let all: Vec<&SplitTable> = tables.iter().collect();
    let resolved: Vec<Option<&SplitTable>> =
        shape.relations.iter().map(|r| resolve(r, &all)).collect();
    let of_column = |c: &ColRef| -> Option<&SplitTable> {
        let q = c.qualifier.as_ref()?;
        let mut hits = shape
            .relations
            .iter()
            .zip(&resolved)
            .filter(|(r, _)| match &r.alias {
                Some(a) => a == q,
                None => &r.name == q,
            })
            .filter_map(|(_, t)| *t);
        let t = hits.next()?;
        (hits.all(|o| o.relid == t.relid) && t.column == c.column).then_some(t)
    };
    let mut out = BTreeSet::new();
    let mut add = |a: &SplitTable, b: &SplitTable| {
        if a.relid != b.relid {
            out.insert((a.relid.min(b.relid), a.relid.max(b.relid)));
        }
    };
    for (l, r) in &shape.equalities {
        if let (Some(a), Some(b)) = (of_column(l), of_column(r)) {
            add(a, b);
        }
    }
    for (left, right, columns) in &shape.usings {
        let side = |ix: &Vec<usize>| -> Vec<&SplitTable> {
            ix.iter()
                .filter_map(|&i| resolved.get(i).copied().flatten())
                .collect()
        };
        for a in side(left) {
            for b in side(right) {
                if a.column == b.column && columns.contains(&a.column) {
                    add(a, b);
                }
            }
        }
    }
    out
}

/// A distribution call as the decision log records it, for [`separated_by_calls`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub at: i64,
    pub database: String,
    pub relid: u32,
    pub verdict: String,
    /// `colocate_with` as the call's function read it (`none`, `default`, a table), or None
    /// when the call did not say.
    pub colocate_with: Option<String>,
}

/// Tables whose last distribution call that ran (not blocked) in `database` asked for
/// `colocate_with => 'none'`: a separate group on purpose.
pub fn separated_by_calls(records: &[CallRecord], database: &str) -> HashSet<u32> {
    let mut last: HashMap<u32, &CallRecord> = HashMap::new();
    for r in records
        .iter()
        .filter(|r| r.database == database && r.verdict != "blocked")
    {
        match last.get(&r.relid) {
            Some(prev) if prev.at > r.at => {}
            _ => {
                last.insert(r.relid, r);
            }
        }
    }
    last.into_iter()
        .filter(|(_, r)| r.colocate_with.as_deref() == Some("none"))
        .map(|(relid, _)| relid)
        .collect()
}

#[cfg(test)]
mod tests;
