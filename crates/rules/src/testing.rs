//! Test support: an in-memory [`Catalog`] and a reader for the `SELECT f(...);` statements the
//! rules write into hints, so tests can feed them back through the front ends' path.

use crate::call::{Arg, Catalog, CitusFunction, RelationRef, Value};
use crate::facts::{ColumnFacts, TableFacts};

pub const INT8: u32 = 20;
pub const INT4: u32 = 23;
pub const TEXT: u32 = 25;
pub const BOOL: u32 = 16;
/// `pg_collation` OID of "default".
pub const DEFAULT_COLLATION: u32 = 100;

pub fn column(name: &str, type_oid: u32) -> ColumnFacts {
    let (type_name, collation) = match type_oid {
        INT8 => ("bigint", 0),
        INT4 => ("integer", 0),
        TEXT => ("text", DEFAULT_COLLATION),
        BOOL => ("boolean", 0),
        _ => ("x", 0),
    };
    ColumnFacts {
        name: name.into(),
        type_name: type_name.into(),
        type_oid,
        collation,
        type_collation: collation,
        enum_based: false,
        not_null: true,
        tiny_domain: type_oid == BOOL,
    }
}

/// One table of the fake catalog.
#[derive(Debug, Clone)]
pub struct FakeTable {
    pub oid: u32,
    pub facts: TableFacts,
    pub columns: Vec<ColumnFacts>,
    /// The current distribution column, for alter_distributed_table without one.
    pub dist_column: Option<String>,
}

/// Tables by name (matched exactly, after folding an unquoted name to lower case the way
/// regclassin would) or by OID. Records every lookup.
#[derive(Debug, Clone, Default)]
pub struct FakeCatalog {
    pub tables: Vec<FakeTable>,
    pub lookups: Vec<(RelationRef, Option<String>)>,
}

impl FakeCatalog {
    pub fn add(&mut self, name: &str, columns: Vec<ColumnFacts>) -> &mut FakeTable {
        let oid = 16384 + self.tables.len() as u32;
        self.tables.push(FakeTable {
            oid,
            facts: TableFacts {
                name: name.into(),
                has_replica_identity: true,
                colocation_id: None,
                colocated_with: vec![],
                primary_key: vec![],
                key_columns: vec![],
                column: None,
            },
            columns,
            dist_column: None,
        });
        self.tables.last_mut().expect("just pushed")
    }
}

impl Catalog for FakeCatalog {
    fn table(&mut self, rel: &RelationRef, column: Option<&str>) -> Option<TableFacts> {
        self.lookups.push((rel.clone(), column.map(str::to_string)));
        let t = self.tables.iter().find(|t| match rel {
            RelationRef::Oid(o) => t.oid == *o,
            RelationRef::Name(n) => {
                let folded = if n.starts_with('"') {
                    n.trim_matches('"').to_string()
                } else {
                    n.to_lowercase()
                };
                t.facts.name == folded || t.facts.name == *n
            }
        })?;
        let wanted = column.map(str::to_string).or(t.dist_column.clone());
        let mut facts = t.facts.clone();
        facts.column = wanted.and_then(|c| t.columns.iter().find(|x| x.name == c).cloned());
        facts.key_columns = facts
            .primary_key
            .iter()
            .filter_map(|k| t.columns.iter().find(|x| x.name == *k).cloned())
            .collect();
        Some(facts)
    }
}

/// Every `SELECT <citus function>(...);` in `text`, read back into a function and arguments.
/// Reads what `render_call` and the hints write: string literals with '' escapes, integers,
/// true/false, NULL, and `name => value`.
pub fn statements(text: &str) -> Vec<(CitusFunction, Vec<Arg>)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("SELECT ") {
        rest = &rest[i + 7..];
        let Some(open) = rest.find('(') else { break };
        let Some(f) = CitusFunction::from_name(&rest[..open]) else {
            continue;
        };
        let (args, used) = read_args(&rest[open + 1..]);
        out.push((f, args));
        rest = &rest[open + 1 + used..];
    }
    out
}

fn read_args(s: &str) -> (Vec<Arg>, usize) {
    let b: Vec<char> = s.chars().collect();
    let mut args = Vec::new();
    let mut i = 0;
    let mut current = String::new();
    let mut quoted: Option<String> = None;
    let mut in_str = false;
    let mut str_buf = String::new();
    let finish = |current: &mut String, quoted: &mut Option<String>, args: &mut Vec<Arg>| {
        let raw = current.trim().to_string();
        let (name, val) = match raw.split_once("=>") {
            Some((n, v)) => (Some(n.trim().to_string()), v.trim().to_string()),
            None => (None, raw.clone()),
        };
        let value = match quoted.take() {
            Some(q) => Value::Text(q),
            None if val.eq_ignore_ascii_case("null") => Value::Null,
            None => Value::Text(val),
        };
        args.push(Arg { name, value });
        current.clear();
    };
    while i < b.len() {
        let c = b[i];
        if in_str {
            if c == '\'' {
                if b.get(i + 1) == Some(&'\'') {
                    str_buf.push('\'');
                    i += 2;
                    continue;
                }
                in_str = false;
                quoted = Some(std::mem::take(&mut str_buf));
            } else {
                str_buf.push(c);
            }
        } else if c == '\'' {
            in_str = true;
        } else if c == ',' {
            finish(&mut current, &mut quoted, &mut args);
        } else if c == ')' {
            if !current.trim().is_empty() || quoted.is_some() {
                finish(&mut current, &mut quoted, &mut args);
            }
            let used: usize = b[..=i].iter().map(|c| c.len_utf8()).sum();
            return (args, used);
        } else {
            current.push(c);
        }
        i += 1;
    }
    (args, s.len())
}

#[test]
fn statements_are_read_back() {
    let got = statements(
        "Colocate it: SELECT create_distributed_table('o''x', 'user_id', colocate_with => 'users'); Or SELECT alter_distributed_table('t', shard_count => 48, cascade_to_colocated => true); not SELECT now();",
    );
    assert_eq!(
        got,
        vec![
            (
                CitusFunction::CreateDistributedTable,
                vec![
                    Arg::positional(Value::Text("o'x".into())),
                    Arg::positional(Value::Text("user_id".into())),
                    Arg::named("colocate_with", Value::Text("users".into())),
                ]
            ),
            (
                CitusFunction::AlterDistributedTable,
                vec![
                    Arg::positional(Value::Text("t".into())),
                    Arg::named("shard_count", Value::Text("48".into())),
                    Arg::named("cascade_to_colocated", Value::Text("true".into())),
                ]
            ),
        ]
    );
}
