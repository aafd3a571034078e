//! The dry run behind `check_ddl(sql)`: a migration script's statements, one after another,
//! against a simulated copy of the cluster. Nothing is executed; each statement sees the
//! settings and the colocation groups the statements before it would have produced.

use crate::call::{describe_call, Arg, CallError, Catalog, CitusFunction, RelationRef, Value};
use crate::distribution::{
    check_distribution_call, check_shard_count_setting, citus_refuses, default_group,
};
use crate::facts::*;
use crate::finding::{Finding, Severity};
use crate::ident::quote_ident;
use crate::metadata::{check_statement_on_name, StatementKind};
use crate::pgvalue::{parse_int4, parse_qualified_name};

pub struct Simulation {
    pub cluster: Cluster,
    pub settings: Settings,
    next_group: u32,
}

impl Simulation {
    pub fn new(cluster: Cluster, settings: Settings) -> Self {
        let next_group = cluster.groups.iter().map(|g| g.id).max().unwrap_or(0) + 1;
        Simulation {
            cluster,
            settings,
            next_group,
        }
    }

    /// SET citus.shard_count = n (or RESET to `n`, the value it would return to).
    pub fn set_shard_count(&mut self, n: i32, how: &str) -> Vec<Finding> {
        self.settings.shard_count = n;
        check_shard_count_setting(n, how, &self.cluster)
            .into_iter()
            .collect()
    }

    pub fn set_replication_factor(&mut self, n: i32) {
        self.settings.replication_factor = n;
    }

    /// A distribution call as the script writes it: bound and described like the guard does
    /// ([`crate::call::describe_call`]), then [`Simulation::distribute`]. The error says why
    /// there is nothing to check (report it as a note).
    pub fn call(
        &mut self,
        function: CitusFunction,
        args: Vec<Arg>,
        catalog: &mut dyn Catalog,
    ) -> Result<Vec<Finding>, CallError> {
        let call = describe_call(function, args, catalog)?;
        Ok(self.distribute(&call))
    }

    /// A statement of `kind` on the relation named `schema.name` (schema None when
    /// unqualified): the metadata-hand-edit finding when it edits Citus metadata.
    pub fn statement(
        &self,
        kind: StatementKind,
        schema: Option<&str>,
        name: &str,
    ) -> Option<Finding> {
        check_statement_on_name(kind, schema, name)
    }

    /// A distribution call: its findings, and, when nothing blocks it, its effect on the
    /// simulated colocation groups. A call Citus refuses itself ([`citus_refuses`]) has no
    /// findings and no effect either.
    pub fn distribute(&mut self, call: &DistCall) -> Vec<Finding> {
        let findings = check_distribution_call(call, &self.cluster, &self.settings);
        if findings.iter().any(|f| f.severity == Severity::Block)
            || citus_refuses(call, &self.settings).is_some()
        {
            return findings;
        }
        if let DistCall::CreateDistributedTable {
            concurrently,
            table,
            distribution_column: Some(_),
            distribution_type,
            colocate_with,
            shard_count,
            ..
        } = call
        {
            if !distribution_type.eq_ignore_ascii_case("hash") {
                return findings;
            }
            let Some(col) = &table.column else {
                return findings;
            };
            let target = match colocate_with {
                ColocateWith::Default => default_group(
                    *concurrently,
                    col,
                    &self.cluster,
                    &self.settings,
                    *shard_count,
                )
                .map(|g| g.id),
                ColocateWith::None => None,
                ColocateWith::Table(t) => self
                    .cluster
                    .groups
                    .iter()
                    .find(|g| g.tables.iter().any(|x| x == t))
                    .map(|g| g.id),
            };
            match target.and_then(|id| self.cluster.groups.iter_mut().find(|g| g.id == id)) {
                Some(g) => {
                    g.tables.push(table.name.clone());
                    g.tables.sort();
                }
                None => {
                    let n = shard_count.unwrap_or(self.settings.shard_count);
                    self.cluster.groups.push(ColocationGroup {
                        id: self.next_group,
                        shard_count: n,
                        actual_shard_count: n,
                        replication_factor: self.settings.replication_factor,
                        type_oid: col.type_oid,
                        type_name: col.type_name.clone(),
                        // The collation Citus records is the one it looked the group up by.
                        collation: self.settings.colocation_collation(col, *concurrently),
                        tables: vec![table.name.clone()],
                    });
                    self.next_group += 1;
                }
            }
        }
        findings
    }
}

/// One statement of a migration script, as a front end's parser saw it: owned values, no
/// parser types. check_ddl builds these from PostgreSQL's raw parse tree, the command-line tool
/// from libpg_query's; [`check_script`] gives both the same findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// `SET [LOCAL] name = value`, `SET name TO DEFAULT`, `RESET name`.
    Set {
        /// The setting, lower-cased as the parser gives it.
        name: String,
        /// The new value as text; None to go back to the value RESET restores.
        value: Option<String>,
    },
    /// `CREATE TABLE`: the columns a later distribution call may name.
    CreateTable(ScriptTable),
    /// `CREATE TYPE ... AS ENUM`: a type whose hash depends on node-local OIDs.
    CreateEnum {
        /// As written (last part of the qualified name).
        name: String,
    },
    /// Calls of Citus's distribution functions anywhere in the statement.
    Calls(Vec<ScriptCall>),
    /// A statement of `kind` naming these relations (`(schema, name)`, schema None when
    /// unqualified): a hand edit when one of them is Citus metadata.
    Relations {
        kind: StatementKind,
        relations: Vec<(Option<String>, String)>,
    },
    /// `DO`: code that only runs when it runs.
    Do,
    /// A function or procedure body (`CREATE FUNCTION ... AS $$...$$`): it runs later.
    FunctionBody,
    /// Anything else: nothing to check.
    Other,
}

/// A table created by the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptTable {
    /// As the parser reads it: `[name]` or `[schema, name]` (downcased unless quoted).
    pub name: Vec<String>,
    pub columns: Vec<ScriptColumn>,
    /// PRIMARY KEY columns, in key order (column and table constraints together).
    pub primary_key: Vec<String>,
}

/// A column of a table created by the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptColumn {
    pub name: String,
    /// The type as written (`bigint`, `public.mood`, `text[]`).
    pub type_name: String,
    /// What the front end knows about the type: None when it does not exist yet (created by
    /// the script, or unknown).
    pub type_facts: Option<TypeFacts>,
    /// An explicit `COLLATE`, resolved by the front end (None: the type's default).
    pub collation: Option<u32>,
    /// NOT NULL (column or table constraint) or in the primary key.
    pub not_null: bool,
}

/// A type as the catalog describes it.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TypeFacts {
    /// `format_type()`.
    pub name: String,
    pub oid: u32,
    /// The type's default collation (`pg_type.typcollation`).
    pub collation: u32,
    pub enum_based: bool,
    pub tiny_domain: bool,
}

/// A call of one of the watched functions, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptCall {
    pub function: CitusFunction,
    pub args: Vec<ScriptArg>,
}

/// One argument of a [`ScriptCall`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptArg {
    /// `name => value`: the parameter name (as the parser folded it).
    pub name: Option<String>,
    /// A constant (`'48'`, `48`, `TRUE`, `NULL`, also through a cast) as text, None for NULL;
    /// or not a constant.
    pub value: Result<Option<String>, NotConstant>,
}

/// An argument that is a parameter, a variable, an expression: known only when it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotConstant;

/// What a front end looks up for [`check_script`]: the catalog's tables (for tables the
/// script did not create) and the value a setting returns to on RESET.
pub trait ScriptCatalog: Catalog {
    fn reset_value(&mut self, setting: &str) -> Option<String>;
}

/// One line of a dry run's result: a finding, or a note about what cannot be checked here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Finding(Finding),
    Note(String),
}

/// Runs a whole script against the simulated cluster: each statement sees the settings and
/// colocation groups the statements before it would have produced. A statement of the script
/// may give several entries (a DML statement that also calls a distribution function); each
/// comes with the script's statement number, and so does what it gets.
pub fn check_script(
    statements: &[(usize, Statement)],
    cluster: Cluster,
    settings: Settings,
    catalog: &mut dyn ScriptCatalog,
) -> Vec<(usize, Outcome)> {
    let mut sim = Simulation::new(cluster, settings);
    let mut created: Vec<ScriptTable> = Vec::new();
    let mut enums: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (i, st) in statements {
        let i = *i;
        let mut push = |o: Outcome| out.push((i, o));
        match st {
            Statement::Set { name, value } => {
                // Only the settings the simulation follows: any other name (a typo, a setting
                // of an extension not loaded here) is not the catalog's business.
                if !matches!(
                    name.as_str(),
                    "citus.shard_count" | "citus.shard_replication_factor"
                ) {
                    continue;
                }
                // RESET goes back to the server's reset value; where the server cannot say
                // (no such setting there), to the value the script started with.
                let value_given = value.is_some();
                let value = match value {
                    Some(v) => Some(v.clone()),
                    None => catalog.reset_value(name).or_else(|| {
                        Some(match name.as_str() {
                            "citus.shard_count" => settings.shard_count,
                            _ => settings.replication_factor,
                        })
                        .map(|n| n.to_string())
                    }),
                };
                let Some(n) = value.and_then(|v| parse_int4(v.trim().trim_matches('\'')).ok())
                else {
                    continue;
                };
                match name.as_str() {
                    "citus.shard_count" => {
                        let how = if value_given {
                            format!("SET citus.shard_count = {n}")
                        } else {
                            format!("RESET citus.shard_count (back to {n})")
                        };
                        for f in sim.set_shard_count(n, &how) {
                            push(Outcome::Finding(f));
                        }
                    }
                    "citus.shard_replication_factor" => sim.set_replication_factor(n),
                    _ => {}
                }
            }
            Statement::CreateTable(t) => {
                created.retain(|x| x.name != t.name);
                created.push(t.clone());
            }
            Statement::CreateEnum { name } => enums.push(name.clone()),
            Statement::Calls(calls) => {
                for c in calls {
                    let mut args = Vec::with_capacity(c.args.len());
                    let mut constant = true;
                    for a in &c.args {
                        match &a.value {
                            Ok(v) => {
                                let v = match v {
                                    Some(t) => Value::Text(t.clone()),
                                    None => Value::Null,
                                };
                                args.push(match &a.name {
                                    Some(n) => Arg::named(n.clone(), v),
                                    None => Arg::positional(v),
                                });
                            }
                            Err(NotConstant) => {
                                let which = match &a.name {
                                    Some(n) => n.clone(),
                                    None => format!("argument {}", args.len() + 1),
                                };
                                push(Outcome::Note(format!(
                                    "{}: {which} is not a constant, so the call is checked when it runs, not here",
                                    c.function
                                )));
                                constant = false;
                                break;
                            }
                        }
                    }
                    if !constant {
                        continue;
                    }
                    let mut lookup = ScriptLookup {
                        created: &created,
                        enums: &enums,
                        catalog: &mut *catalog,
                    };
                    match sim.call(c.function, args, &mut lookup) {
                        Ok(findings) => {
                            findings.into_iter().for_each(|f| push(Outcome::Finding(f)))
                        }
                        Err(e) => push(Outcome::Note(e.message(c.function))),
                    }
                }
            }
            Statement::Relations { kind, relations } => {
                for (schema, name) in relations {
                    if let Some(f) = sim.statement(*kind, schema.as_deref(), name) {
                        push(Outcome::Finding(f));
                    }
                }
            }
            Statement::Do => push(Outcome::Note(
                "DO blocks are not analysed here; the guard checks what they run when they run"
                    .into(),
            )),
            Statement::FunctionBody => {}
            Statement::Other => {}
        }
    }
    out
}

/// Table facts for a dry run: tables the script created, from the script; others from the
/// front end's catalog.
struct ScriptLookup<'a> {
    created: &'a [ScriptTable],
    enums: &'a [String],
    catalog: &'a mut dyn ScriptCatalog,
}

impl ScriptLookup<'_> {
    fn column(&self, c: &ScriptColumn) -> ColumnFacts {
        let short = c.type_name.rsplit('.').next().unwrap_or(&c.type_name);
        let short = short.trim_end_matches("[]").trim_matches('"');
        match &c.type_facts {
            Some(t) => ColumnFacts {
                name: c.name.clone(),
                type_name: t.name.clone(),
                type_oid: t.oid,
                collation: c.collation.unwrap_or(t.collation),
                type_collation: t.collation,
                enum_based: t.enum_based,
                not_null: c.not_null,
                tiny_domain: t.tiny_domain,
            },
            // A type the script creates: no existing group can share it.
            None => ColumnFacts {
                name: c.name.clone(),
                type_name: c.type_name.clone(),
                type_oid: u32::MAX,
                collation: c.collation.unwrap_or(0),
                type_collation: 0,
                enum_based: self.enums.iter().any(|e| e == short),
                not_null: c.not_null,
                tiny_domain: false,
            },
        }
    }
}

impl Catalog for ScriptLookup<'_> {
    fn table(&mut self, rel: &RelationRef, column: Option<&str>) -> Option<TableFacts> {
        let written = match rel {
            RelationRef::Name(n) => parse_qualified_name(n)?,
            RelationRef::Oid(_) => return self.catalog.table(rel, column),
        };
        let Some(t) = self.created.iter().rev().find(|t| t.name == written) else {
            return self.catalog.table(rel, column);
        };
        let col = column
            .and_then(|c| t.columns.iter().find(|x| x.name == c))
            .map(|c| self.column(c));
        let key_columns = t
            .primary_key
            .iter()
            .filter_map(|k| t.columns.iter().find(|c| &c.name == k))
            .map(|c| self.column(c))
            .collect();
        Some(TableFacts {
            // quoted, as regclass writes an existing table: it goes into statements to paste
            name: t
                .name
                .iter()
                .map(|p| quote_ident(p))
                .collect::<Vec<_>>()
                .join("."),
            has_replica_identity: !t.primary_key.is_empty(),
            colocation_id: None,
            colocated_with: Vec::new(),
            primary_key: t.primary_key.clone(),
            key_columns,
            column: col,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::RuleId;

    fn table(name: &str) -> TableFacts {
        TableFacts {
            name: name.into(),
            has_replica_identity: true,
            colocation_id: None,
            colocated_with: vec![],
            primary_key: vec![],
            key_columns: vec![],
            column: Some(ColumnFacts {
                name: "user_id".into(),
                type_name: "bigint".into(),
                type_oid: 20,
                collation: 0,
                type_collation: 0,
                enum_based: false,
                not_null: true,
                tiny_domain: false,
            }),
        }
    }

    fn create(name: &str) -> DistCall {
        DistCall::CreateDistributedTable {
            concurrently: false,
            table: table(name),
            distribution_column: Some("user_id".into()),
            distribution_type: "hash".into(),
            colocate_with: ColocateWith::Default,
            shard_count: None,
        }
    }

    #[test]
    fn a_script_goes_through_the_same_binding_and_metadata_checks_as_the_guard() {
        use crate::call::{NotDescribed, Value};
        use crate::testing::{column, FakeCatalog, INT8};
        let mut cat = FakeCatalog::default();
        cat.add("users", vec![column("user_id", INT8)]);
        cat.add("orders", vec![column("user_id", INT8)]);
        let mut sim = Simulation::new(
            Cluster::default(),
            Settings {
                shard_count: 24,
                ..Settings::default()
            },
        );
        let call = |t: &str, extra: Vec<Arg>| {
            let mut a = vec![
                Arg::positional(Value::Text(t.into())),
                Arg::positional(Value::Text("user_id".into())),
            ];
            a.extend(extra);
            a
        };
        assert_eq!(
            sim.call(
                CitusFunction::CreateDistributedTable,
                call("users", vec![]),
                &mut cat
            ),
            Ok(vec![])
        );
        let f = sim
            .call(
                CitusFunction::CreateDistributedTable,
                call(
                    "orders",
                    vec![Arg::named("shard_count", Value::Text(" 0x30 ".into()))],
                ),
                &mut cat,
            )
            .expect("described");
        assert_eq!(
            f.iter().map(|f| f.rule).collect::<Vec<_>>(),
            vec![RuleId::ShardCountColocation]
        );
        assert_eq!(
            sim.call(
                CitusFunction::CreateDistributedTable,
                call(
                    "orders",
                    vec![Arg::named("shard_count", Value::Text("0".into()))]
                ),
                &mut cat
            ),
            Err(CallError::NotDescribed(NotDescribed::CitusRefuses {
                message: "0 is outside the valid range for parameter \"shard_count\" (1 .. 64000)"
                    .into()
            }))
        );
        assert_eq!(
            sim.cluster.groups.len(),
            1,
            "neither the blocked nor the refused call changed the groups"
        );
        let drop = sim
            .statement(StatementKind::DropTable, None, "pg_dist_node")
            .expect("a hand edit");
        assert_eq!(drop.rule, RuleId::MetadataHandEdit);
        assert_eq!(
            sim.statement(StatementKind::CommentOn, None, "pg_dist_node"),
            None
        );
    }

    #[test]
    fn a_script_that_brings_both_tables_is_caught() {
        // SET citus.shard_count = 24; SELECT create_distributed_table('users', ...);
        // SET citus.shard_count = 48; SELECT create_distributed_table('orders', ...);
        let mut sim = Simulation::new(Cluster::default(), Settings::default());
        assert!(sim.set_shard_count(24, "SET").is_empty());
        assert!(sim.distribute(&create("users")).is_empty());
        let warn = sim.set_shard_count(48, "SET citus.shard_count = 48");
        assert_eq!(warn.len(), 1);
        assert_eq!(warn[0].severity, Severity::Warn);
        let f = sim.distribute(&create("orders"));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, RuleId::ShardCountColocation);
        // a blocked call leaves the simulation unchanged
        assert_eq!(sim.cluster.groups.len(), 1);
        assert_eq!(sim.cluster.groups[0].tables, vec!["users".to_string()]);
        // the fix joins users' group
        sim.set_shard_count(24, "SET");
        assert!(sim.distribute(&create("orders")).is_empty());
        assert_eq!(
            sim.cluster.groups[0].tables,
            vec!["orders".to_string(), "users".to_string()]
        );
    }
}
